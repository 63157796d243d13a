"""The aggregates of this system. Declaring a new one (kernel/aggregate.py shows how) and listing it here is all
the kernel needs: its commands, reads, snapshots, idempotency, publishing and rebuilds follow."""

from __future__ import annotations

from typing import Final

from ledger.application.accounts import ACCOUNT
from ledger.application.customers import CUSTOMER
from ledger.application.heartbeats import HEARTBEAT
from ledger.application.orders import ORDER
from ledger.application.shipments import SHIPMENT
from ledger.application.stock import STOCK
from ledger.kernel.aggregate import Registry

AGGREGATES: Final = Registry([ACCOUNT, ORDER, STOCK, SHIPMENT, CUSTOMER, HEARTBEAT])
