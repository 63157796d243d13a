"""Sales per minute in DynamoDB: one partition per currency and UTC day (`bucket` = USD#2026-12-01), a minute's
figures at `slot` = m#09:30 and each product's sales in it at p#09:30#<sku>, so a time range is one Query per day.
Each event is counted once (adapters/dynamodb_counters.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final

from ledger.adapters.dynamodb_counters import CountersTable, Increment
from ledger.adapters.dynamodb_items import from_item
from ledger.adapters.dynamodb_tables import delete_all
from ledger.domain.sales import Contribution, ProductSales, SalesFigures

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BUCKET: Final = "bucket"
SLOT: Final = "slot"
_FIGURES: Final = tuple(f.name for f in fields(SalesFigures))


class DynamoDBSalesStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client, self._table = client, table
        self._counters = CountersTable(
            client, table, marker_key=lambda event_id: {BUCKET: f"applied#{event_id}", SLOT: "-"}
        )

    def add(self, contributions: Sequence[tuple[str, Contribution]]) -> int:
        increments: list[tuple[str, Increment]] = []
        for event_id, c in contributions:
            bucket, minute = f"{c.currency}#{c.minute[:10]}", c.minute[11:16]
            figures = {name: getattr(c.figures, name) for name in _FIGURES if getattr(c.figures, name)}
            increments.append((event_id, Increment({BUCKET: bucket, SLOT: f"m#{minute}"}, figures)))
            for product in c.products:
                counters = {"quantity": product.quantity, "revenue": product.revenue}
                key = {BUCKET: bucket, SLOT: f"p#{minute}#{product.sku}"}
                increments.append((event_id, Increment(key, counters, {"sku": product.sku})))
        return self._counters.add(increments)

    def minutes(self, currency: str, start: str, end: str) -> list[tuple[str, SalesFigures]]:
        return [
            (f"{day}T{item[SLOT][2:]}", SalesFigures(**{name: int(item.get(name, 0)) for name in _FIGURES}))
            for day, item in self._range(currency, start, end, "m")
        ]

    def products(self, currency: str, start: str, end: str) -> list[ProductSales]:
        return [
            ProductSales(item["sku"], int(item["quantity"]), int(item["revenue"]))
            for _, item in self._range(currency, start, end, "p")
        ]

    def _range(self, currency: str, start: str, end: str, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The `kind` items of the minutes in [start, end), day by day."""
        last = _minute_before(end)
        day = date.fromisoformat(start[:10])
        while day.isoformat() <= last[:10]:
            low = start[11:16] if day.isoformat() == start[:10] else "00:00"
            high = last[11:16] if day.isoformat() == last[:10] else "23:59"
            request: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "#bucket = :bucket AND #slot BETWEEN :low AND :high",
                "ExpressionAttributeNames": {"#bucket": BUCKET, "#slot": SLOT},  # both are reserved words
                "ExpressionAttributeValues": {
                    ":bucket": {"S": f"{currency}#{day.isoformat()}"},
                    ":low": {"S": f"{kind}#{low}"},
                    ":high": {"S": f"{kind}#{high}" + ("#~" if kind == "p" else "")},  # '~' sorts after any sku
                },
            }
            while True:
                response = self._client.query(**request)
                yield from ((day.isoformat(), from_item(item)) for item in response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    break
                request = {**request, "ExclusiveStartKey": response["LastEvaluatedKey"]}
            day += timedelta(days=1)

    def clear(self) -> int:
        return delete_all(self._client, self._table, (BUCKET, SLOT))


def _minute_before(minute: str) -> str:
    """The minute before `minute` (the last one of a range that ends at it, exclusive)."""
    moment = date.fromisoformat(minute[:10])
    hours, minutes = int(minute[11:13]), int(minute[14:16])
    total = hours * 60 + minutes - 1
    if total < 0:
        return f"{(moment - timedelta(days=1)).isoformat()}T23:59"
    return f"{moment.isoformat()}T{total // 60:02d}:{total % 60:02d}"
