"""The writer's word to the overrides plugin (engine/serve/register_watch.py): after its
own commits the plugin reads nothing, and every override another connection commits is
still seen by the next decision: between two of the writer's commits, right after a
checkpoint that reset the write-ahead log, and between the writer's commit and the
signature it takes."""

from __future__ import annotations

import pytest

import plugins.overrides as overrides
from engine.audit.events import event_record
from engine.audit.override_register import add_override
from engine.audit.store import AuditStore
from engine.serve.register_watch import RegisterWatch
from engine.serve.writer import GroupWriter

CUSTOMER = "T-STRONG"


@pytest.fixture()
def served(tmp_path, monkeypatch):
    """A writer with its watch on a fresh audit file, the plugin reading that file, and
    a count of the plugin's own looks at the register's state."""
    db = str(tmp_path / "audit.db")
    monkeypatch.setenv("CREDIT_DB", db)
    looks = []
    state = overrides._state
    monkeypatch.setattr(overrides, "_state", lambda *a: looks.append(1) or state(*a))
    writer = GroupWriter(db, watch=RegisterWatch(db))
    writer.start()
    yield db, writer, looks
    writer.stop()
    overrides.close_reader()


def _commit_event(writer: GroupWriter, number: int) -> None:
    event = {"id": f"E-{number}", "customer_id": "C-1", "type": "payment_received",
             "occurred_at": "2026-11-01", "invoice_id": "I-1", "amount": 1}
    writer.submit([event_record(event)], event_ids=[event["id"]]).result(timeout=60)


def _limits() -> list:
    return [o["value"] for o in overrides.credit_rules_expert_judgments({"id": CUSTOMER})]


def _add(db: str, limit: int) -> None:
    with AuditStore(db) as store:  # another connection, as another process has
        add_override(store, CUSTOMER, "limit_cap", limit, "r", "ann", "credit_analyst")


def test_after_the_writers_own_commits_the_plugin_reads_nothing(served):
    _, writer, looks = served
    _commit_event(writer, 0)
    assert _limits() == []  # the first look reads the state
    looks.clear()
    for number in range(1, 6):
        _commit_event(writer, number)
        assert _limits() == []
    assert looks == []


def test_an_override_committed_between_two_writer_commits_is_seen(served):
    db, writer, _ = served
    _commit_event(writer, 0)
    assert _limits() == []
    _add(db, 1000)
    assert _limits() == [1000]  # before the writer commits again
    _commit_event(writer, 1)
    assert _limits() == [1000]
    _add(db, 2000)
    _commit_event(writer, 2)  # the writer reads the new state in its transaction
    assert sorted(_limits()) == [1000, 2000]


def test_an_override_committed_while_nothing_is_decided_is_seen_after_the_writer(served):
    """The writer's next transaction sees that another connection committed and reads
    the state again: the plugin, which holds the state before, reads the register."""
    db, writer, looks = served
    _commit_event(writer, 0)
    assert _limits() == []
    _add(db, 1000)
    _commit_event(writer, 1)
    assert _limits() == [1000]
    _commit_event(writer, 2)
    looks.clear()
    assert _limits() == [1000]
    assert looks == []  # the writer's word, now of the state the plugin holds


def test_an_override_right_after_a_log_reset_is_seen(served):
    """Another connection folds the log into the file and truncates it, then adds an
    override: the log starts again from its first frame."""
    db, writer, _ = served
    for number in range(3):
        _commit_event(writer, number)
    assert _limits() == []
    with AuditStore(db) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        add_override(store, CUSTOMER, "limit_cap", 1000, "r", "ann", "credit_analyst")
    assert _limits() == [1000]
    _commit_event(writer, 3)
    with AuditStore(db) as store:
        store.conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
        add_override(store, CUSTOMER, "limit_cap", 2000, "r", "ann", "credit_analyst")
    _commit_event(writer, 4)
    assert sorted(_limits()) == [1000, 2000]


def test_an_override_committed_before_the_writer_takes_its_signature_is_seen(
        served, monkeypatch):
    """Another connection commits between the writer's commit and its look at the file:
    the signature it took is then not the register the writer read, and it says nothing."""
    db, writer, _ = served
    _commit_event(writer, 0)
    assert _limits() == []
    signature = overrides.file_signature
    slipped = []

    def slipping_in(path):
        if not slipped:
            slipped.append(1)
            _add(db, 1000)
        return signature(path)

    monkeypatch.setattr(overrides, "file_signature", slipping_in)
    _commit_event(writer, 1)
    assert slipped
    assert _limits() == [1000]


def test_the_plugin_takes_a_signature_only_for_the_state_it_holds(tmp_path, monkeypatch):
    db = str(tmp_path / "audit.db")
    monkeypatch.setenv("CREDIT_DB", db)
    _add(db, 1000)
    assert _limits() == [1000]
    kept = overrides._cache[db]
    overrides.known_state(db, ("another",), ("another", 99))
    assert overrides._cache[db] == kept
    overrides.known_state(db, ("another",), kept[1])
    assert overrides._cache[db] == (("another",), kept[1], kept[2])
    overrides.close_reader()
