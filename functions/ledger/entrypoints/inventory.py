"""Inventory: orders (Kinesis) and fulfilment (Kinesis) -> stock reserved, released and shipped per order line, and
the orders told which lines wait for stock (application/pipeline/inventory.py has the rules)."""

from __future__ import annotations

from ledger.application.orders import ORDER
from ledger.application.pipeline.inventory import inventory_reactions
from ledger.entrypoints.reacting import reacting_handler

lambda_handler = reacting_handler("inventory", inventory_reactions, reads=ORDER)
