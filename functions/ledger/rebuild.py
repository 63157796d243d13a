"""Rebuild read models from the event store: `python -m ledger.rebuild accounts alerts reports` (or `all`).

Replays every account's events, oldest first, into the projections with the consumers' own rules, to backfill a new
read model or repair one. It reads the functions' environment variables (EVENT_TABLE_NAME, ACCOUNTS_TABLE_NAME,
...): the local runtime sets them and runs this on every start; against AWS, export the stack's table names (its
outputs) and run it with credentials that may scan and write those tables. Alerts rebuilt here are not notified
again: notifications come only from the live account-alerts stream.

Against a live system, the reports rebuild clears the table first: pause the reporting consumer's event source
mapping while it runs, or an event counted between the clear and the replay may be counted twice.
"""

from __future__ import annotations

import argparse
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Final

from ledger import bootstrap
from ledger.application.messages import message_of
from ledger.application.pipeline.fraud_detection import alerts_for, transaction_of_record
from ledger.application.records import EventRecord
from ledger.domain.accounts import AGGREGATE_TYPE
from ledger.domain.fraud import Transaction

PROJECTIONS: Final = ("accounts", "alerts", "reports")
_PAGE: Final = 500


def rebuild(projections: Sequence[str], components: bootstrap.Components | None = None) -> dict[str, int]:
    """Rebuild each named projection; returns how many rows (accounts, alerts, events counted) each got."""
    unknown = set(projections) - set(PROJECTIONS)
    if unknown:
        raise ValueError(f"unknown projection(s) {sorted(unknown)}; choose from {', '.join(PROJECTIONS)}")
    c = components or bootstrap.components()
    if "alerts" in projections:
        c.alert_views.clear()
    if "reports" in projections:
        c.report_store.clear()
    counts = dict.fromkeys(projections, 0)
    for account_id in c.event_store.aggregate_ids(AGGREGATE_TYPE):
        if "accounts" in projections:
            state = c.repository.load(account_id).state
            if state is not None:
                c.account_views.replace(state)
                counts["accounts"] += 1
        if "alerts" in projections or "reports" in projections:
            counts_for = _replay(c, account_id, projections)
            for name, count in counts_for.items():
                counts[name] += count
    return counts


def _replay(c: bootstrap.Components, account_id: str, projections: Sequence[str]) -> dict[str, int]:
    counts = {"alerts": 0, "reports": 0}
    rules = c.settings.fraud_rules
    earlier: deque[Transaction] = deque(maxlen=rules.velocity_count + 1)
    for page in _pages(c, account_id):
        if "reports" in projections:
            counts["reports"] += c.reporter.add([message_of(record) for record in page])[0]
        if "alerts" not in projections:
            continue
        for record in page:
            transaction = transaction_of_record(record)
            if transaction is None:
                continue
            for alert in alerts_for(transaction, reversed(earlier), rules):
                counts["alerts"] += int(c.alert_views.put_if_absent(alert))
            earlier.append(transaction)
    return {name: count for name, count in counts.items() if name in projections}


def _pages(c: bootstrap.Components, account_id: str) -> Iterator[list[EventRecord]]:
    after = 0
    while True:
        page = c.event_store.read_forward(account_id, after=after, limit=_PAGE)
        if not page:
            return
        yield page
        after = page[-1].version


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger.rebuild", description=__doc__.split("\n\n")[0])
    parser.add_argument("projections", nargs="+", choices=(*PROJECTIONS, "all"), help="what to rebuild")
    args = parser.parse_args(argv)
    projections = PROJECTIONS if "all" in args.projections else tuple(dict.fromkeys(args.projections))
    counts = rebuild(projections)
    print(", ".join(f"{name}: {count}" for name, count in counts.items()))  # noqa: T201 - a command-line tool
    return 0


if __name__ == "__main__":
    sys.exit(main())
