"""DynamoDB's item size and the request units a call consumes, from the items themselves (figures 10 and 11).

Item size, as DynamoDB's developer guide states it ("DynamoDB item sizes and formats"): the sum over the attributes
of the UTF-8 length of the name plus the value's size - a string its UTF-8 bytes, a binary its raw bytes, a number
about one byte per two significant digits plus one, a boolean or null one byte, a list or map 3 bytes plus its
elements, each element one byte more (a map's element also counts its name); sets count their elements.

Units ("Read/write capacity mode"): a standard write request unit writes up to 1 KB, a transactional write takes two
per KB; a strongly consistent read request unit reads up to 4 KB (the Query's items summed, then rounded up), an
eventually consistent read half that, a transactional read two. A write that adds an entry to a secondary index
also writes the entry (its keys, plus the projected attributes: the whole item for ALL), one unit per KB; a write
whose condition fails still consumes units for the size of the item it found (at least one).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from infra.model import Table

KB: Final = 1024
READ_UNIT_BYTES: Final = 4 * KB


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes of an item in DynamoDB JSON (as botocore takes it: {"name": {"S": "..."}, ...})."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def value_size(value: Mapping[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    return _SIZES[kind](inner)


def _map_size(inner: Mapping[str, Any]) -> int:
    return 3 + sum(len(name.encode()) + value_size(element) + 1 for name, element in inner.items())


def _list_size(inner: list[Any]) -> int:
    return 3 + sum(value_size(element) + 1 for element in inner)


def _text_size(inner: Any) -> int:
    return len(str(inner).encode())


def _bytes_size(inner: Any) -> int:
    """A binary's raw bytes (botocore takes bytes; moto's recording and DynamoDB JSON carry base64)."""
    return len(inner) if isinstance(inner, (bytes, bytearray)) else len(base64.b64decode(inner))


_SIZES: Final[dict[str, Callable[[Any], int]]] = {
    "S": _text_size,
    "N": lambda inner: number_size(str(inner)),
    "B": _bytes_size,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
    "SS": lambda inner: sum(_text_size(element) for element in inner),
    "NS": lambda inner: sum(number_size(str(element)) for element in inner),
    "BS": lambda inner: sum(_bytes_size(element) for element in inner),
    "M": _map_size,
    "L": _list_size,
}


def number_size(text: str) -> int:
    """About one byte per two significant digits, plus one (leading and trailing zeros trimmed)."""
    digits = format(abs(Decimal(text)), "f").replace(".", "").strip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1


def write_units(size: int, *, transactional: bool = False) -> int:
    """Write request units for an item of `size` bytes (at least one)."""
    return max(1, math.ceil(size / KB)) * (2 if transactional else 1)


def read_units(size: int, *, consistent: bool = True, transactional: bool = False) -> float:
    """Read request units for `size` bytes read in one request (a Query's items summed)."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def index_entries(table: Table, item: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(index name, bytes) of each entry `item` has in the table's secondary indexes: none in an index whose keys
    it lacks (a sparse index); the table's keys and the index's (KEYS_ONLY), or the whole item (ALL)."""
    table_keys = [key.name for key in (table.partition_key, table.sort_key) if key is not None]
    indexes = [(index.name, index.projection, [index.sort_key.name]) for index in table.local_indexes] + [
        (index.name, index.projection, [key.name for key in (index.partition_key, index.sort_key) if key is not None])
        for index in table.global_indexes
    ]
    entries = []
    for name, projection, keys in indexes:
        if not all(key in item for key in keys):
            continue
        if projection == "ALL":
            entries.append((name, item_size(item)))
        else:
            entries.append((name, item_size({key: item[key] for key in dict.fromkeys([*table_keys, *keys])})))
    return entries
