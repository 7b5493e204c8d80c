"""Tamper evidence: changes made to an audit file behind the engine's back (triggers
dropped, plain sqlite3) are found by `credit audit verify`, which names the first record
that fails and why; the append-only triggers refuse changes in the first place."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from engine.audit.chain import verify_file
from engine.audit.store import AuditStore, NewRecord
from tests.audit_helpers import (
    AS_OF,
    changed_body,
    connect,
    copy_db,
    generate,
    head,
    insert_record,
    rehash,
    rows,
    tamper,
    verify,
    write_json,
)
from tests.sample_customers import strong_customer

RECORDS = 23  # 1 ruleset-loaded, 1 batch-started, 20 decisions (3..22), 1 batch-finished


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, credit):
    """A trail of a 20-row batch, built once; tests work on copies."""
    folder = tmp_path_factory.mktemp("trail")
    portfolio = generate(folder / "p.csv", 20, seed=3)
    db = folder / "audit.db"
    result = credit("batch", portfolio, "--out", folder / "r.jsonl", "--as-of", AS_OF,
                    "--db", db)
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def trail(pristine, tmp_path):
    return copy_db(pristine, tmp_path / "trail.db")


def failed_at(result) -> tuple[int, str]:
    assert result.exit_code == 1, result.output
    # (tamper() drops the append-only triggers, which verify warns about on a line of its own)
    lines = [line for line in result.stderr.strip().splitlines()
             if not line.startswith("credit: warning: the append-only triggers are missing")]
    assert len(lines) == 1, result.stderr
    match = re.fullmatch(r"FAILED at record (\d+): (.*)", lines[0])
    assert match, lines[0]
    return int(match.group(1)), match.group(2)


def test_trail_shape(trail):
    kinds = [r["kind"] for r in rows(trail)]
    assert kinds == ["ruleset-loaded", "batch"] + ["decision"] * 20 + ["batch"]


def test_intact_trail_verifies(trail):
    result = verify(trail)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"ok: {RECORDS} records verified, head {head(trail)}"
    assert head(trail).startswith(f"{RECORDS}:")
    assert verify(trail, "--head", head(trail)).exit_code == 0


def test_an_empty_trail_verifies_and_has_no_head(tmp_path, credit):
    db = tmp_path / "empty.db"
    AuditStore(db).close()
    result = verify(db)
    assert (result.exit_code, result.stdout.strip()) == (0, "ok: 0 records verified")
    result = credit("audit", "head", "--db", db)
    assert result.exit_code == 1
    assert "empty" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --- each change is found at the first record it touches -----------------------------------

def edit_grade(conn):
    conn.execute("UPDATE records SET grade = CASE WHEN grade = 'AAA' THEN 'CCC' ELSE 'AAA' "
                 "END WHERE seq = 10")


def edit_recorded_at(conn):
    conn.execute("UPDATE records SET recorded_at = '2020-01-01T00:00:00.000000Z' "
                 "WHERE seq = 12")


def edit_credit_limit(conn):
    conn.execute("UPDATE records SET credit_limit = '4999000.00' WHERE seq = 9")


def lower_score(body: dict) -> None:
    body["decision"]["grading"]["score"] = 1


def edit_body(conn):
    conn.execute("UPDATE records SET body = ? WHERE seq = 10",
                 (changed_body(conn, 10, lower_score),))


def edit_body_and_its_sha(conn):
    row = dict(conn.execute("SELECT * FROM records WHERE seq = 10").fetchone())
    row["body"] = changed_body(conn, 10, lower_score)
    forged = rehash(row)  # a consistent hash for record 10 alone...
    conn.execute("UPDATE records SET body = ?, body_sha256 = ? WHERE seq = 10",
                 (forged["body"], forged["body_sha256"]))


def edit_record_and_its_hash(conn):
    row = dict(conn.execute("SELECT * FROM records WHERE seq = 10").fetchone())
    row["grade"] = "CCC" if row["grade"] != "CCC" else "AAA"
    forged = rehash(row)  # ...but record 11 still points at the old hash
    conn.execute("UPDATE records SET grade = ?, hash = ? WHERE seq = 10",
                 (forged["grade"], forged["hash"]))


def delete_middle(conn):
    conn.execute("DELETE FROM records WHERE seq = 10")


def delete_first(conn):
    conn.execute("DELETE FROM records WHERE seq = 1")


def delete_and_close_the_gap(conn):
    conn.execute("DELETE FROM records WHERE seq = 10")
    for seq in range(11, RECORDS + 1):
        conn.execute("UPDATE records SET seq = ? WHERE seq = ?", (seq - 1, seq))


def insert_forged_in_middle(conn):
    later = [dict(r) for r in conn.execute("SELECT * FROM records WHERE seq >= 10 "
                                           "ORDER BY seq")]
    before = conn.execute("SELECT hash FROM records WHERE seq = 9").fetchone()[0]
    conn.execute("DELETE FROM records WHERE seq >= 10")
    forged = dict(later[0], customer_id="C-FORGED", grade="AAA", outcome="accept",
                  prev_hash=before)
    insert_record(conn, rehash(forged))  # itself perfectly chained to record 9
    for row in later:
        insert_record(conn, dict(row, seq=row["seq"] + 1))


def insert_naive_forgery(conn):
    later = [dict(r) for r in conn.execute("SELECT * FROM records WHERE seq >= 10 "
                                           "ORDER BY seq")]
    conn.execute("DELETE FROM records WHERE seq >= 10")
    insert_record(conn, dict(later[0], customer_id="C-FORGED"))
    for row in later:
        insert_record(conn, dict(row, seq=row["seq"] + 1))


def swap_bodies(conn):
    five, twelve = (conn.execute("SELECT body FROM records WHERE seq = ?", (s,)).fetchone()[0]
                    for s in (5, 12))
    conn.execute("UPDATE records SET body = ? WHERE seq = 5", (twelve,))
    conn.execute("UPDATE records SET body = ? WHERE seq = 12", (five,))


def swap_bodies_with_their_shas(conn):
    five, twelve = (tuple(conn.execute("SELECT body, body_sha256 FROM records WHERE seq = ?",
                                       (s,)).fetchone()) for s in (5, 12))
    conn.execute("UPDATE records SET body = ?, body_sha256 = ? WHERE seq = 5", twelve)
    conn.execute("UPDATE records SET body = ?, body_sha256 = ? WHERE seq = 12", five)


def swap_neighbours_by_renumbering(conn):
    conn.execute("UPDATE records SET seq = -1 WHERE seq = 7")
    conn.execute("UPDATE records SET seq = 7 WHERE seq = 8")
    conn.execute("UPDATE records SET seq = 8 WHERE seq = -1")


def reverse_a_range_by_renumbering(conn):
    for seq in range(5, 16):
        conn.execute("UPDATE records SET seq = ? WHERE seq = ?", (-seq, seq))
    for seq in range(5, 16):
        conn.execute("UPDATE records SET seq = ? WHERE seq = ?", (20 - seq, -seq))


CASES = [
    # (change, first failing record, words of the reason)
    (edit_grade, 10, "its fields were changed"),
    (edit_recorded_at, 12, "its fields were changed"),
    (edit_credit_limit, 9, "its fields were changed"),
    (edit_body, 10, "its body was changed"),
    (edit_body_and_its_sha, 10, "its fields were changed"),
    (edit_record_and_its_hash, 11, "previous-record hash does not match record 10"),
    (delete_middle, 10, "record 10 is missing"),
    (delete_first, 1, "record 1 is missing"),
    (delete_and_close_the_gap, 10, "previous-record hash does not match record 9"),
    (insert_forged_in_middle, 11, "previous-record hash does not match record 10"),
    (insert_naive_forgery, 10, "its fields were changed"),
    (swap_bodies, 5, "its body was changed"),
    (swap_bodies_with_their_shas, 5, "its fields were changed"),
    (swap_neighbours_by_renumbering, 7, "previous-record hash does not match record 6"),
    (reverse_a_range_by_renumbering, 5, "previous-record hash does not match record 4"),
]


@pytest.mark.parametrize(("change", "seq", "why"), CASES, ids=[c[0].__name__ for c in CASES])
def test_change_is_found_at_the_first_record_it_touches(trail, change, seq, why):
    tamper(trail, change)
    failed_seq, reason = failed_at(verify(trail))
    assert failed_seq == seq, reason
    assert why in reason
    assert reason.endswith(f"({seq - 1:,} records before it are intact)")


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize(("change", "seq", "why"), CASES, ids=[c[0].__name__ for c in CASES])
def test_verify_file_in_several_processes_finds_the_same(trail, change, seq, why, workers):
    tamper(trail, change)
    report = verify_file(str(trail), workers=workers)
    assert (report.failed_seq, report.checked) == (seq, seq - 1), report.reason
    assert why in report.reason


@pytest.mark.parametrize("workers", [1, 3, 7])
def test_verify_file_in_several_processes_passes_an_intact_trail(trail, workers):
    report = verify_file(str(trail), workers=workers)
    assert report.ok and report.checked == RECORDS
    assert f"{report.head[0]}:{report.head[1]}" == head(trail)


@pytest.mark.parametrize("seq", [0, -5])
def test_a_record_put_before_the_first_is_found(trail, seq, credit):
    def prepend(conn):
        first = dict(conn.execute("SELECT * FROM records WHERE seq = 1").fetchone())
        insert_record(conn, dict(first, seq=seq, customer_id="C-FORGED"))

    tamper(trail, prepend)
    exported = credit("audit", "export", "--db", trail).stdout.splitlines()
    assert json.loads(exported[0])["customer_id"] == "C-FORGED"  # readers see it
    result = verify(trail)
    assert result.exit_code == 1, result.output


def test_edited_ruleset_content_is_found(trail):
    (ruleset_hash,) = [r["hash"] for r in rows(trail, "SELECT hash FROM rulesets")]
    tamper(trail, lambda conn: conn.execute(
        "UPDATE rulesets SET content = replace(content, '365', '400')"))
    assert rows(trail, "SELECT content FROM rulesets")[0]["content"].count("400")
    result = verify(trail)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"FAILED: stored ruleset {ruleset_hash}: its stored content was changed (its SHA-256 "
        "no longer matches)")


def test_edited_trace_slots_are_found(trail, credit):
    def rename_a_rule(conn):
        (slots,) = conn.execute("SELECT slots FROM trace_slots").fetchone()
        slots = json.loads(slots)
        slots[0][1] = "FORGED_RULE"
        conn.execute("UPDATE trace_slots SET slots = ?", (json.dumps(slots),))

    tamper(trail, rename_a_rule)
    shown = credit("audit", "show", "3", "--db", trail)
    assert shown.exit_code == 1 and "trace slots" in shown.stderr
    assert "FORGED_RULE" not in shown.stdout
    result = verify(trail)
    assert result.exit_code == 1 and "trace slots" in result.stderr


# --- what only a noted head can catch -----------------------------------------------------

def test_truncation_passes_plain_verify_but_not_the_noted_head(trail):
    noted = head(trail)
    tamper(trail, lambda conn: conn.execute("DELETE FROM records WHERE seq > 20"))
    plain = verify(trail)
    assert plain.exit_code == 0
    assert plain.stdout.startswith("ok: 20 records verified, head 20:")
    failed_seq, reason = failed_at(verify(trail, "--head", noted))
    assert failed_seq == RECORDS
    assert reason.startswith(f"the trail was cut short: record {RECORDS} (the noted head) is "
                             "gone, the last record is 20")


def test_truncation_to_nothing_fails_the_noted_head(trail):
    noted = head(trail)
    tamper(trail, lambda conn: conn.execute("DELETE FROM records"))
    # The stored trace slots are attested by a record that is gone: caught even without
    # a noted head.
    plain = verify(trail)
    assert plain.exit_code == 1 and "trace slots" in plain.stderr
    tamper(trail, lambda conn: conn.execute("DELETE FROM trace_slots"))
    plain = verify(trail)  # ... and so is the decision bodies' dictionary
    assert plain.exit_code == 1 and "body dictionary 1" in plain.stderr
    tamper(trail, lambda conn: conn.execute("DELETE FROM body_dictionaries"))
    assert verify(trail).stdout.strip() == "ok: 0 records verified"
    failed_seq, reason = failed_at(verify(trail, "--head", noted))
    assert failed_seq == RECORDS
    assert "the last record is 0" in reason


def test_rewritten_head_record_fails_the_noted_head(trail):
    noted = head(trail)

    def rewrite_last(conn):
        row = dict(conn.execute("SELECT * FROM records WHERE seq = ?", (RECORDS,)).fetchone())
        body = json.loads(row["body"])
        body["summary"]["decided"] = 19
        row["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"))
        forged = rehash(row)
        conn.execute("UPDATE records SET body = ?, body_sha256 = ?, hash = ? WHERE seq = ?",
                     (forged["body"], forged["body_sha256"], forged["hash"], RECORDS))

    tamper(trail, rewrite_last)
    assert verify(trail).exit_code == 0  # a consistent rewrite of the last record...
    failed_seq, reason = failed_at(verify(trail, "--head", noted))  # ...is not the head
    assert failed_seq == RECORDS
    assert reason.startswith("it is not the noted head (its hash differs")


def test_noted_head_still_matches_after_more_appends(trail, credit):
    noted = head(trail)
    path = write_json(trail.parent / "c.json", strong_customer())
    assert credit("decide", path, "--as-of", AS_OF, "--db", trail).exit_code == 0
    assert verify(trail, "--head", noted).exit_code == 0
    assert head(trail) != noted


@pytest.mark.parametrize("bad", ["23", "x:" + "0" * 64, "23:abc"])
def test_malformed_head_is_a_usage_error(trail, bad):
    result = verify(trail, "--head", bad)
    assert result.exit_code == 2
    assert "SEQ:HASH" in result.stderr


# --- the triggers ----------------------------------------------------------------------------

STATEMENTS = [
    ("records", "UPDATE records SET grade = 'CCC' WHERE seq = 5"),
    ("records", "UPDATE records SET seq = 100 WHERE seq = 23"),
    ("records", "DELETE FROM records WHERE seq = 23"),
    ("records", "DELETE FROM records"),
    ("rulesets", "UPDATE rulesets SET content = '{}'"),
    ("rulesets", "DELETE FROM rulesets"),
    ("trace_slots", "UPDATE trace_slots SET slots = '[]'"),
    ("trace_slots", "DELETE FROM trace_slots"),
]


@pytest.mark.parametrize(("table", "sql"), STATEMENTS)
def test_triggers_refuse_update_and_delete(trail, table, sql):
    before = rows(trail, f"SELECT * FROM {table}")
    conn = sqlite3.connect(trail)
    with pytest.raises(sqlite3.IntegrityError, match=f"audit {table} are append-only"):
        conn.execute(sql)
    conn.rollback()
    conn.close()
    assert rows(trail, f"SELECT * FROM {table}") == before
    assert verify(trail).exit_code == 0


def test_insert_or_replace_cannot_rewrite_a_record(trail):
    conn = connect(trail)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("INSERT OR REPLACE INTO records SELECT seq, kind, decision_id, "
                         "customer_id, as_of, recorded_at, ruleset_name, ruleset_version, "
                         "ruleset_hash, outcome, 'CCC', credit_limit, batch_id, batch_row, "
                         "body, body_sha256, prev_hash, hash FROM records WHERE seq = 5")
    finally:
        conn.close()


# --- headers and bodies no writer makes ------------------------------------------------

def test_a_header_holding_control_characters_and_quotes_verifies(tmp_path):
    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        store.append([NewRecord("event", '{"customer_id":"C\\t\\"1\\\\","id":"E-1"}',
                                customer_id='C\t"1\\'),
                      NewRecord("event", '{"customer_id":"C-2","id":"E-2"}',
                                customer_id="C-2")])
    assert verify_file(str(db)).ok
    tamper(db, lambda conn: conn.execute(
        "UPDATE records SET customer_id = 'C\t\"1\\\\' WHERE seq = 1"))
    report = verify_file(str(db))
    assert (report.failed_seq, report.reason) == (1, "its fields were changed (the record "
                                                     "hash does not match)")


def test_a_header_column_of_a_type_no_header_holds_is_named(tmp_path):
    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        store.append([NewRecord("event", '{"customer_id":"C-1","id":"E-1"}',
                                customer_id="C-1")])
    tamper(db, lambda conn: conn.execute("UPDATE records SET batch_row = 2.5 WHERE seq = 1"))
    report = verify_file(str(db))
    assert (report.failed_seq, report.reason) == (
        1, "a field has the wrong type (an audit header field holds float)")


def test_a_body_rewritten_as_not_json_with_its_chain_recomputed_is_named(tmp_path):
    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        store.append([NewRecord("monitor-run", '{"as_of":"2026-11-30"}',
                                as_of="2026-11-30")])

    def rewrite(conn):
        row = dict(conn.execute("SELECT * FROM records WHERE seq = 1").fetchone())
        forged = rehash(dict(row, body="not JSON {"))
        conn.execute("UPDATE records SET body = ?, body_sha256 = ?, hash = ? WHERE seq = 1",
                     (forged["body"], forged["body_sha256"], forged["hash"]))

    tamper(db, rewrite)
    report = verify_file(str(db))
    assert (report.failed_seq, report.reason) == (
        1, "its body is not JSON (the record was rewritten and the chain recomputed)")
