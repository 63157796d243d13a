"""The event source mappings' checkpoints (local/checkpoints.py): kept across restarts, written only after the
journals are drained, the lowest and highest per stream and shard, refused when unreadable."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from local.checkpoints import Checkpoints
from local.files import JournalError

SHARD = "shardId-000000000000"


def test_a_position_kept_is_there_after_a_restart(tmp_path: Path) -> None:
    # GIVEN checkpoints advanced for two mappings of one stream
    path = tmp_path / "checkpoints.json"
    first = Checkpoints(path)
    first.advance("fraud <- account-transactions", "account-transactions", SHARD, "7")
    first.advance("reporting <- account-transactions", "account-transactions", SHARD, "4")
    first.advance("fraud <- account-transactions", "account-transactions", SHARD, "9")
    # WHEN they are loaded again (nothing closed: as after a kill -9)
    second = Checkpoints(path)
    second.load()
    # THEN each mapping resumes where it was, and the stream's records after 4 are not yet done by every mapping
    assert second.position("fraud <- account-transactions", SHARD) == "9"
    assert second.position("reporting <- account-transactions", SHARD) == "4"
    assert second.position("alerts <- account-alerts", SHARD) is None
    assert second.low_water("account-transactions") == {SHARD: 4}
    assert second.high_water("account-transactions") == {SHARD: 9}
    assert second.low_water("account-alerts") == {}


def test_the_journals_are_drained_before_a_position_is_written(tmp_path: Path) -> None:
    # GIVEN a drain that looks at the file when it runs
    path = tmp_path / "checkpoints.json"
    seen: list[dict[str, object]] = []

    def drain() -> None:
        seen.append(json.loads(path.read_text())["mappings"] if path.exists() else {})

    checkpoints = Checkpoints(path, before_commit=[drain])
    # WHEN a position advances
    checkpoints.advance("publisher <- ledger-events", "ledger-events", SHARD, "12")
    # THEN the drain ran while the file did not yet hold it, and the file holds it after
    assert seen == [{}]
    assert json.loads(path.read_text())["mappings"]["publisher <- ledger-events"]["shards"] == {SHARD: "12"}


def test_a_position_already_written_by_a_concurrent_commit_is_not_written_again(tmp_path: Path) -> None:
    drains: list[int] = []
    checkpoints = Checkpoints(tmp_path / "checkpoints.json", before_commit=[lambda: drains.append(1)])
    checkpoints.advance("a <- s", "s", SHARD, "1")
    checkpoints.commit()  # nothing new
    assert len(drains) == 1
    threads = [threading.Thread(target=checkpoints.advance, args=(f"m{i} <- s", "s", SHARD, str(i))) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 2 <= len(drains) <= 21
    reloaded = Checkpoints(tmp_path / "checkpoints.json")
    reloaded.load()
    assert all(reloaded.position(f"m{i} <- s", SHARD) == str(i) for i in range(20))


def test_mappings_gone_from_the_topology_hold_no_stream_back(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.json"
    checkpoints = Checkpoints(path)
    checkpoints.advance("old <- s", "s", SHARD, "1")
    checkpoints.advance("kept <- s", "s", SHARD, "5")
    reloaded = Checkpoints(path)
    reloaded.load({"kept <- s": "s"})
    assert reloaded.low_water("s") == {SHARD: 5}


def test_after_close_nothing_more_is_written(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.json"
    checkpoints = Checkpoints(path)
    checkpoints.record("a <- s", "s", SHARD, "3")
    checkpoints.close()
    checkpoints.advance("a <- s", "s", SHARD, "8")
    reloaded = Checkpoints(path)
    reloaded.load()
    assert reloaded.position("a <- s", SHARD) == "3"


@pytest.mark.parametrize(
    "content",
    ["not json", '{"version": 9, "mappings": {}}', '{"version": 1, "mappings": {"a <- s": {"source": "s"}}}'],
)
def test_an_unreadable_file_stops_the_start_rather_than_start_the_mappings_elsewhere(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "checkpoints.json"
    path.write_text(content)
    with pytest.raises(JournalError, match=r"checkpoints\.json cannot be read"):
        Checkpoints(path).load()
