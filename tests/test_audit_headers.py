"""The header columns audit list and stats read agree with the body they are chained to:
a header changed with the whole chain recomputed after it (a consistent rewrite) is
found by verify, at the record and the column. Format-1 records repeat header values in
their body, so the trail here is one written before format 2 (tests/data); a format-2
decision body holds no such value, so its header is the only copy (see
test_audit_formats.py)."""

from __future__ import annotations

import pytest

from engine.audit.chain import HEADER_SOURCES, LISTED_COLUMNS, verify_file
from tests.audit_helpers import (
    batched_trail,
    connect,
    copy_db,
    format_1_trail,
    one_invoice_event,
    rechain_from,
    tamper,
)


@pytest.fixture
def trail(tmp_path):
    """A batch, an override and its approval, events and monitor actions, in format 1."""
    return format_1_trail(tmp_path / "trail.db")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, credit):
    """A 10-row batch, an override and its approval, and events, written today."""
    folder = tmp_path_factory.mktemp("trail")
    db = batched_trail(folder, 10, seed=5)
    added = credit("override", "add", "C-000001", "--refer", "--reason", "visit", "--by",
                   "ana", "--role", "credit_manager", "--db", db)
    assert added.exit_code == 0, added.stderr
    override_id = added.stdout.split()[1].rstrip(":")
    assert credit("override", "approve", override_id, "--by", "ben", "--role",
                  "credit_manager", "--db", db).exit_code == 0
    events = one_invoice_event(folder / "events.jsonl", "C-000001")
    assert credit("events", "ingest", events, "--db", db).exit_code == 0
    return db


@pytest.fixture
def new_trail(pristine, tmp_path):
    return copy_db(pristine, tmp_path / "trail.db")


def rewrite(db, seq: int, **columns) -> None:
    """Change header columns of record ``seq`` and recompute the chain from there on."""
    tamper(db, lambda conn: rechain_from(conn, seq, lambda row: row.update(columns)))


def seq_of(db, kind: str, offset: int = 0) -> int:
    conn = connect(db)
    try:
        return conn.execute("SELECT seq FROM records WHERE kind = ? ORDER BY seq LIMIT 1 "
                            "OFFSET ?", (kind, offset)).fetchone()[0]
    finally:
        conn.close()


def test_an_intact_trail_of_every_kind_verifies(trail, new_trail):
    assert verify_file(str(trail)).ok
    assert verify_file(str(new_trail)).ok


@pytest.mark.parametrize(("kind", "columns", "named"), [
    ("event", {"customer_id": "C-000002"}, "customer_id"),
    ("override", {"customer_id": "C-000002"}, "customer_id"),
    ("batch", {"batch_id": "forged-1"}, "batch_id"),
    ("ruleset-loaded", {"ruleset_hash": "0" * 64}, "ruleset_hash"),
])
def test_a_rewritten_header_of_a_record_written_today_is_found(new_trail, kind, columns,
                                                                named):
    seq = seq_of(new_trail, kind, 1 if kind == "override" else 0)
    rewrite(new_trail, seq, **columns)
    report = verify_file(str(new_trail))
    assert (report.failed_seq, report.reason) == (
        seq, f"its {named} column is not what its body says (the header was changed and "
        "the chain recomputed)")


@pytest.mark.parametrize(("kind", "columns", "named"), [
    ("decision", {"grade": "AAA", "credit_limit": "5000000.00"}, "grade"),
    ("decision", {"credit_limit": "5000000.00"}, "credit_limit"),
    ("decision", {"customer_id": "C-999999"}, "customer_id"),
    ("decision", {"decision_id": "d-0"}, "decision_id"),
    ("decision", {"as_of": "2020-01-01"}, "as_of"),
    ("decision", {"outcome": "approved"}, "outcome"),
    ("decision", {"ruleset_version": "9.9.9"}, "ruleset_version"),
    ("event", {"customer_id": "C-000002"}, "customer_id"),
    ("event", {"grade": "AAA"}, "grade"),
    ("override", {"customer_id": "C-000002"}, "customer_id"),
    ("batch", {"batch_id": "forged-1"}, "batch_id"),
    ("ruleset-loaded", {"ruleset_hash": "0" * 64}, "ruleset_hash"),
])
def test_a_rewritten_header_is_found_at_its_record_and_column(trail, kind, columns, named):
    seq = seq_of(trail, kind, 1 if kind == "override" else 0)  # the override's approval
    rewrite(trail, seq, **columns)
    report = verify_file(str(trail))
    assert (report.failed_seq, report.reason) == (
        seq, f"its {named} column is not what its body says (the header was changed and "
        "the chain recomputed)")


def test_every_kind_credit_rules_writes_says_where_its_columns_come_from():
    assert set(HEADER_SOURCES) == {"decision", "action", "event", "override", "row-failed",
                                   "batch", "monitor-run", "ruleset-loaded",
                                   "dictionary-loaded", "order-check", "order-release",
                                   "limit-request", "group", "hold-lifted", "spark-run",
                                   "letter", "statement"}
    assert set(HEADER_SOURCES["decision"]) >= set(LISTED_COLUMNS)


def test_a_kind_credit_rules_does_not_write_fails(trail):
    rewrite(trail, seq_of(trail, "event"), kind="decree")
    report = verify_file(str(trail))
    assert report.reason.startswith("its kind column is not what its body says")


def test_the_same_is_found_in_several_processes(trail):
    seq = seq_of(trail, "decision", 3)
    rewrite(trail, seq, grade="AAA")
    report = verify_file(str(trail), workers=2)
    assert report.failed_seq == seq
