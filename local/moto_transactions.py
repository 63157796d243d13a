"""moto's TransactWriteItems without its table copies, for the local runtime.

Before a transaction, moto backs up every table it names with a deep copy (once per item that names it), to put the
copy in the table's place if the transaction is cancelled. The local event table holds every event with the state
after it, and its stream every record since the start, so that copy grows with each event: measured here, a
transaction cost 0.2 s at 300 events and 400 transactions took the process to 3 GB (copies freed late, memory not
given back). The order side makes it common: every command a consumer sends carries an idempotency record, so every
one is a transaction.

`install()` keeps moto's transaction code and semantics and replaces only the backup: the items the transaction
touches are remembered (a copy each, or that there was none) with each table's stream length, and a cancelled
transaction puts exactly those back and drops the stream records it added. The local runtime serves moto one
request at a time (local/moto_server.py), so nothing reads a table while a transaction is half applied.
"""

from __future__ import annotations

import copy
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

_installed = threading.Lock()


@dataclass
class _Touched:
    table: Any  # moto's Table
    hash_key: Any  # DynamoType
    range_key: Any  # DynamoType | None
    before: Any  # a copy of the Item as it was, or None when there was none


class _Backup:
    """What one transaction may change: its items as they were, and each table's stream length."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        self.touched: list[_Touched] = []
        self.streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            _, operation = next(iter(entry.items()))
            table = backend.tables.get(operation.get("TableName"))
            if table is None:
                continue  # moto refuses the transaction itself
            key = operation.get("Key") or operation.get("Item") or {}
            if table.hash_key_attr not in key:
                continue
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            current = table.get_item(hash_key, range_key) if table.range_key_attr is None or range_key else None
            self.touched.append(_Touched(table, hash_key, range_key, copy.deepcopy(current)))
            if table.stream_shard is not None:
                self.streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))

    def restore(self) -> None:
        for touched in reversed(self.touched):
            items = touched.table.items
            if touched.range_key is None:
                if touched.before is None:
                    items.pop(touched.hash_key, None)
                else:
                    items[touched.hash_key] = touched.before
            elif touched.before is None:
                items.get(touched.hash_key, {}).pop(touched.range_key, None)
            else:
                items[touched.hash_key][touched.range_key] = touched.before
        for shard, length in self.streams.values():
            del shard.items[length:]


def install() -> None:
    """Make moto's DynamoDB transactions back up what they touch instead of whole tables (idempotent)."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    with _installed:
        if getattr(models.DynamoDBBackend.transact_write_items, "backs_up_items_only", False):
            return
        moto_transaction = models.DynamoDBBackend.transact_write_items

        @contextmanager
        def tables_not_copied() -> Any:
            # moto's backup is `copy.deepcopy(table)`: the table itself stands in for its copy, so moto's own
            # rollback (putting the "copy" back) changes nothing, and _Backup.restore does the work.
            module_copy = vars(models)["copy"]
            setattr(  # noqa: B010 - moto's module imports `copy` for itself; it is not an attribute it exports
                models,
                "copy",
                SimpleNamespace(
                    deepcopy=lambda value, *args: value if isinstance(value, Table) else copy.deepcopy(value, *args)
                ),
            )
            try:
                yield
            finally:
                setattr(models, "copy", module_copy)  # noqa: B010

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            backup = _Backup(self, transact_items)
            with tables_not_copied():
                try:
                    moto_transaction(self, transact_items)
                except Exception:
                    backup.restore()
                    raise

        transact_write_items.backs_up_items_only = True  # type: ignore[attr-defined]
        models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
