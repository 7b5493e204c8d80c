"""The batch's writer thread: transactions commit in the order queued, a failed one stops
those queued after it (the trail keeps a prefix), and the chain stays valid."""

from __future__ import annotations

import sqlite3

import pytest

from engine.audit.background_append import BackgroundAppender
from engine.audit.chain import verify_file
from engine.audit.store import AuditError, AuditStore, NewRecord


def events(start: int, count: int) -> list[NewRecord]:
    return [NewRecord("event", f'{{"customer_id":"C","id":"E-{i}"}}', customer_id="C")
            for i in range(start, start + count)]


def event_ids(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute(
            "SELECT json_extract(body, '$.id') FROM records WHERE kind = 'event' ORDER BY seq")]


def test_transactions_commit_in_the_order_queued_and_each_is_reported_once(tmp_path):
    path = tmp_path / "audit.db"
    with AuditStore(path) as store:
        appender = BackgroundAppender(store, depth=2)
        reported = []
        for batch in range(10):
            reported += appender.submit(events(batch * 7, 7), token=batch)
        reported += appender.drain()
        appender.close()
    assert [token for _, token in reported] == list(range(10))
    seqs = [seq for appended, _ in reported for seq, _ in appended]
    assert seqs == list(range(seqs[0], seqs[0] + 70))
    assert event_ids(path) == [f"E-{i}" for i in range(70)]
    assert verify_file(str(path)).ok


def test_at_most_depth_transactions_wait(tmp_path):
    with AuditStore(tmp_path / "audit.db") as store:
        appender = BackgroundAppender(store, depth=1)
        for batch in range(5):
            appender.submit(events(batch, 1))
            assert len(appender._pending) <= 1
        appender.drain()
        appender.close()


def test_after_a_failed_transaction_nothing_queued_later_is_appended(tmp_path):
    path = tmp_path / "audit.db"
    broken = NewRecord("event", None, customer_id="C")  # no body: cannot be appended
    with AuditStore(path) as store:
        appender = BackgroundAppender(store, depth=3)
        appender.submit(events(0, 3))
        appender.submit([*events(3, 2), broken])
        appender.submit(events(5, 3))
        with pytest.raises(Exception):  # noqa: B017 (whichever the first failure raises)
            appender.drain()
        with pytest.raises(AuditError, match="an earlier transaction of this run failed"):
            appender.drain()
        appender.close()
    assert event_ids(path) == ["E-0", "E-1", "E-2"]  # the failed one rolled back whole
    assert verify_file(str(path)).ok


def test_an_in_memory_trail_is_appended_at_once(tmp_path):
    with AuditStore(":memory:") as store:
        appender = BackgroundAppender(store)
        done = appender.submit(events(0, 2), token="t")
        assert [token for _, token in done] == ["t"]
        assert len(done[0][0]) == 2
        assert appender.drain() == []
        appender.close()
        assert store.conn.execute("SELECT count(*) FROM records WHERE kind = 'event'"
                                  ).fetchone()[0] == 2
