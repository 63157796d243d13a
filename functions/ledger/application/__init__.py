"""Use cases: load an aggregate, decide, append; plus the ports the adapters implement."""
