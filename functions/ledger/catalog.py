"""The aggregates of this system. Declaring a new one (kernel/aggregate.py shows how) and listing it here is all
the kernel needs: its commands, reads, snapshots, idempotency, publishing and rebuilds follow.

Each is listed by where it is declared and loaded when first asked for, so that a function builds the classes of the
aggregates it meets and no others (a consumer of the accounts stream never loads the orders' domain). The registry
checks each type and bare-keys flag here against the declaration it loads (tests/unit/test_catalog.py loads all).
"""

from __future__ import annotations

from typing import Final

from ledger.kernel.aggregate import Declared, Registry

AGGREGATES: Final = Registry(
    [
        Declared("Account", "ledger.application.accounts:ACCOUNT", bare_stream_keys=True),
        Declared("Order", "ledger.application.orders:ORDER"),
        Declared("Stock", "ledger.application.stock:STOCK"),
        Declared("Shipment", "ledger.application.shipments:SHIPMENT"),
        Declared("Customer", "ledger.application.customers:CUSTOMER"),
        Declared("Heartbeat", "ledger.application.heartbeats:HEARTBEAT"),
    ]
)
