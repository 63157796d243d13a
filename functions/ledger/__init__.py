"""Event-sourced ledger: domain, application services, adapters and Lambda entrypoints."""
