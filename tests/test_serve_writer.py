"""The service's one audit writer: requests racing with the same event ids or the same
Idempotency-Key append once, whatever groups the writer happens to make; every record is
answered with its own (seq, hash) once committed; stopping commits what was queued."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

import pytest

from engine.audit.chain import verify_file
from engine.audit.events import event_record
from engine.audit.store import AuditError, AuditStore, NewRecord
from engine.canonical import canonical_json
from engine.serve.handover import LoopFuture
from engine.serve.idempotency import Claim
from engine.serve.writer import GroupWriter, WriterStopped
from tests.audit_helpers import rows

THREADS = 8


def _events(count: int) -> list[dict]:
    return [{"id": f"E-{n}", "customer_id": "C-1", "type": "payment_received",
             "occurred_at": "2026-11-01", "invoice_id": "I-1", "amount": 1}
            for n in range(count)]


def _together(work) -> list:
    results: list = [None] * THREADS
    go = threading.Barrier(THREADS)

    def run(index: int) -> None:
        go.wait()
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_same_events_sent_by_racing_requests_are_appended_once(tmp_path):
    db = tmp_path / "a.db"
    writer = GroupWriter(str(db))
    writer.start()
    events = _events(10)
    try:
        results = _together(lambda _: writer.submit(
            [event_record(e) for e in events], event_ids=[e["id"] for e in events]
        ).result(timeout=60))
    finally:
        writer.stop()
    assert sum(len(r.appended) for r in results) == 10
    assert sum(len(r.duplicate_events) for r in results) == 10 * (THREADS - 1)
    assert len(rows(db, "SELECT seq FROM records WHERE kind = 'event'")) == 10
    assert verify_file(str(db)).failed_seq is None


def test_racing_requests_with_one_key_append_once_and_all_learn_its_record(tmp_path):
    db = tmp_path / "a.db"
    writer = GroupWriter(str(db))
    writer.start()
    claim = Claim("erp", "k-1", "a" * 64)
    try:
        results = _together(lambda n: writer.submit(
            [NewRecord("note", canonical_json({"n": n}))], claim=claim).result(timeout=60))
    finally:
        writer.stop()
    first = [r for r in results if r.appended]
    assert len(first) == 1
    seq = first[0].appended[0][0]
    assert [r.replay_of for r in results if not r.appended] == [seq] * (THREADS - 1)
    assert {r.first_request_sha256 for r in results if not r.appended} == {"a" * 64}
    assert len(rows(db, "SELECT seq FROM records WHERE kind = 'note'")) == 1
    assert rows(db, "SELECT principal, key, seq FROM idempotency_keys") == [
        {"principal": "erp", "key": "k-1", "seq": seq}]


def test_each_request_gets_its_own_records_and_stop_commits_the_queue(tmp_path):
    db = tmp_path / "a.db"
    groups: list[tuple[int, int]] = []
    writer = GroupWriter(str(db), max_group=4, on_commit=lambda *g: groups.append(g))
    writer.start()
    futures = [writer.submit([NewRecord("note", canonical_json({"n": n, "part": p}))
                              for p in range(2)]) for n in range(20)]
    writer.stop()  # everything submitted before stop is committed
    answers = [f.result(timeout=0) for f in futures]
    with AuditStore(db) as store:
        for n, written in enumerate(answers):
            assert len(written.appended) == 2
            for part, (seq, digest) in enumerate(written.appended):
                row = store.record(str(seq))
                assert row["hash"] == digest
                assert store.body(row) == {"n": n, "part": part}
    assert sum(requests for requests, _ in groups) == 20
    assert all(requests <= 4 for requests, _ in groups)
    assert not writer.alive


def test_a_writer_that_cannot_open_its_file_says_so(tmp_path):
    (tmp_path / "not-a-trail.db").write_text("hello, I am not SQLite" * 100)
    writer = GroupWriter(str(tmp_path / "not-a-trail.db"))
    with pytest.raises(AuditError, match=r"not-a-trail\.db: not a usable audit database"):
        writer.start()
    assert isinstance(writer.submit([]).exception(timeout=0), WriterStopped)


def test_two_writers_on_one_file_append_the_same_events_once(tmp_path):
    """Two services (or a service and credit events ingest) on one audit file: the ids are
    looked up in the transaction that appends, so the slower one finds them there."""
    db = tmp_path / "a.db"
    AuditStore(db).close()
    writers = [GroupWriter(str(db), max_group=1) for _ in range(2)]
    for writer in writers:
        writer.start()
    events = _events(40)
    try:
        results = _together(lambda index: [writers[index % 2].submit(
            [event_record(e)], event_ids=[e["id"]]).result(timeout=60) for e in events])
    finally:
        for writer in writers:
            writer.stop()
    assert sum(len(w.appended) for batch in results for w in batch) == 40
    ids = [r["id"] for r in rows(db, "SELECT json_extract(body, '$.id') AS id FROM records "
                                     "WHERE kind = 'event'")]
    assert sorted(ids) == sorted(e["id"] for e in events)
    assert verify_file(str(db)).failed_seq is None


def test_a_request_cancelled_before_its_commit_is_committed_and_the_writer_goes_on(
        tmp_path):
    """A request cancelled by the shutdown's timeout has handed its record over: it is
    committed, and resolving the cancelled future does not stop the writer."""
    db = tmp_path / "a.db"
    writer = GroupWriter(str(db))
    writer.start()
    cancelled: Future = Future()
    assert cancelled.cancel()
    try:
        writer.submit([NewRecord("note", canonical_json({"n": 1}))], future=cancelled)
        after = writer.submit([NewRecord("note", canonical_json({"n": 2}))])
        assert after.result(timeout=60).appended[0][0] == 2
        assert writer.alive
    finally:
        writer.stop()
    assert [row["seq"] for row in rows(db, "SELECT seq FROM records WHERE kind = 'note'")] \
        == [1, 2]


def test_a_request_waiting_on_the_event_loop_gets_its_records_or_the_error(tmp_path):
    """A LoopFuture is resolved on its loop by the writer's thread: with the request's
    records once committed, or with the error (a writer that is not running)."""
    db = tmp_path / "a.db"
    writer = GroupWriter(str(db))

    async def request(number: int):
        answer = LoopFuture(asyncio.get_running_loop())
        writer.submit([NewRecord("note", canonical_json({"n": number}))], future=answer)
        return await answer.waiting

    async def requests():
        return await asyncio.gather(*(request(n) for n in range(5)))

    writer.start()
    try:
        written = asyncio.run(requests())
    finally:
        writer.stop()
    assert sorted(w.appended[0][0] for w in written) == [1, 2, 3, 4, 5]
    with pytest.raises(WriterStopped):
        asyncio.run(request(6))


def test_a_loop_request_cancelled_or_whose_loop_closed_is_committed_and_the_writer_goes_on(
        tmp_path):
    db = tmp_path / "a.db"
    writer = GroupWriter(str(db))
    writer.start()
    loop = asyncio.new_event_loop()
    cancelled, closed = LoopFuture(loop), LoopFuture(loop)
    assert cancelled.waiting.cancel() and cancelled.cancelled()
    try:
        writer.submit([NewRecord("note", canonical_json({"n": 1}))], future=cancelled)
        loop.run_until_complete(asyncio.sleep(0.01))
        loop.close()
        writer.submit([NewRecord("note", canonical_json({"n": 2}))], future=closed)
        after = writer.submit([NewRecord("note", canonical_json({"n": 3}))])
        assert after.result(timeout=60).appended[0][0] == 3
        assert writer.alive
    finally:
        writer.stop()
    assert [row["seq"] for row in rows(db, "SELECT seq FROM records WHERE kind = 'note'")] \
        == [1, 2, 3]
