"""Shipping: orders (Kinesis) and fulfilment (Kinesis) -> one shipment per paid order (cancelled with its order before
it leaves), and the orders told when it leaves and arrives (application/pipeline/shipping.py has the rules)."""

from __future__ import annotations

from ledger.application.orders import ORDER
from ledger.application.pipeline.shipping import shipping_reactions
from ledger.entrypoints.reacting import reacting_handler

lambda_handler = reacting_handler("shipping", shipping_reactions, reads=ORDER)
