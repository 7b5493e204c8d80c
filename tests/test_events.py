"""credit events ingest: schema checks, idempotency, bad lines, the chain afterwards."""

from __future__ import annotations

import json

from tests.credit_cli import invoke_credit

INVOICE = {"id": "E-1", "customer_id": "C-1", "type": "invoice_issued",
           "occurred_at": "2026-01-05", "invoice_id": "I-1", "amount": 1200.5,
           "due_date": "2026-02-04"}
PAYMENT = {"id": "E-2", "customer_id": "C-1", "type": "payment_received",
           "occurred_at": "2026-02-10", "amount": 1200.5, "invoice_id": "I-1"}
PROMISE = {"id": "E-3", "customer_id": "C-2", "type": "promise_to_pay",
           "occurred_at": "2026-02-11", "invoice_id": "I-9", "promised_date": "2026-02-20",
           "amount": 300}


def write(path, *lines):
    path.write_text("\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines)
                    + "\n", encoding="utf-8")
    return str(path)


def ingest(path):
    """``credit events ingest PATH``."""
    return invoke_credit("events", "ingest", path)


def test_events_are_ingested_as_chained_records(tmp_path, credit):
    result = ingest(write(tmp_path / "e.jsonl", INVOICE, PAYMENT, PROMISE))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == ("ingested 3 events; skipped 0 already seen; "
                                     "0 problems in bad lines")
    listed = json.loads(credit("audit", "list", "--kind", "event", "--json").stdout)
    assert [(r["customer_id"], r["as_of"]) for r in reversed(listed)] == [
        ("C-1", "2026-01-05"), ("C-1", "2026-02-10"), ("C-2", "2026-02-11")]
    assert credit("audit", "verify").exit_code == 0


def test_ingest_twice_applies_nothing_twice(tmp_path):
    path = write(tmp_path / "e.jsonl", INVOICE, PAYMENT)
    assert ingest(path).exit_code == 0
    again = ingest(path)
    assert again.exit_code == 0
    assert again.stdout.strip() == ("ingested 0 events; skipped 2 already seen; "
                                    "0 problems in bad lines")


def test_a_repeated_id_in_one_file_is_skipped(tmp_path):
    result = ingest(write(tmp_path / "e.jsonl", INVOICE, {**PAYMENT, "id": "E-1"}))
    assert "ingested 1 event; skipped 1 already seen" in result.stdout


def test_bad_lines_are_reported_by_number_and_the_rest_kept(tmp_path):
    path = write(tmp_path / "e.jsonl", INVOICE, "{not json", "",
                 {**PAYMENT, "amount": -5}, {**PROMISE, "type": "gift"}, PROMISE)
    result = ingest(path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:2:2: Expecting property name enclosed in double quotes",
        f"{path}:4: /amount: -5 is less than or equal to the minimum of 0",
        f"{path}:5: /type: must be one of 'invoice_issued', 'payment_received', "
        "'promise_to_pay', 'dispute_opened', 'dispute_closed', 'contact_made', "
        "'bureau_alert', 'order_placed', 'order_cancelled', 'delivery_made', 'invoice_posted', "
        "'credit_note_issued', ...; got 'gift'",
    ]
    assert "ingested 2 events" in result.stdout


def test_a_missing_field_of_the_event_type_is_named(tmp_path):
    path = write(tmp_path / "e.jsonl", {k: v for k, v in INVOICE.items() if k != "due_date"})
    result = ingest(path)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"{path}:1: /due_date: required property is missing"


def test_missing_file_is_one_line(tmp_path):
    result = ingest(str(tmp_path / "none.jsonl"))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_audit_file_of_schema_version_1_is_migrated(tmp_path):
    import sqlite3

    from engine.audit.store import MIGRATIONS, AuditStore

    path = tmp_path / "old.db"
    with AuditStore(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX records_event_id")
    conn.execute("DROP INDEX records_customer_time")
    conn.execute("DROP INDEX records_overrides")
    conn.execute("DROP TABLE body_dictionaries")
    for (index,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND "
                                 "sql LIKE '%WHERE kind = %'").fetchall():
        if index != "records_event_id" and index != "records_overrides":
            conn.execute(f"DROP INDEX {index}")  # what migration 6 adds
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with AuditStore(path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        names = [r[0] for r in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'")]
        assert {"records_event_id", "records_customer_time", "records_overrides",
                "records_customer_events", "records_groups"} <= set(names)
        assert store.conn.execute("SELECT count(*) FROM body_dictionaries").fetchone() == (0,)
