"""Decision bodies in format 2 (compressed against a dictionary the file keeps, without the
values the record's header holds) and trails written before it, in format 1: both verify,
replay and read alike, and one trail may hold both."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import zstandard

from engine.audit.body_codec import SHIPPED, BodyReader, elide, expand, shipped_dictionary
from engine.audit.store import MIGRATIONS, AuditStore, NewRecord
from engine.enrich.plugin_manager import installed_plugins
from engine.replay import Replayer
from engine.service import decide_and_record
from tests.audit_helpers import (
    FORMAT_1_SALT,
    check_like_a_regulator,
    connect,
    format_1_trail,
    full_body,
    head,
    rechain_from,
    rows,
    tamper,
    verify,
)
from tests.paths import ROOT

CUSTOMERS = ROOT / "examples" / "customers"
AS_OF = "2026-11-30"


def decide(credit, db, name: str, env: dict | None = None) -> tuple[int, dict]:
    """Decide an example customer into ``db``; its record number and the decision shown."""
    result = credit("decide", CUSTOMERS / f"{name}.json", "--as-of", AS_OF, "--db", db,
                    "--json", env=env)
    assert result.exit_code == 0, result.stderr
    return int(result.stderr.split("audited as record ")[1].split()[0]), \
        json.loads(result.stdout)


def stored(db, seq: int) -> str | bytes:
    return rows(db, "SELECT body FROM records WHERE seq = ?", (seq,))[0]["body"]


# --- format 2 ------------------------------------------------------------------------------

HEAD = {"as_of": "2026-11-30", "challenger": {"share": 0.1},
        "decision": {"as_of": "2026-11-30", "customer_id": "C-1", "decision_id": "d-1",
                     "admission": {"outcome": "reject", "reasons": []},
                     "grading": {"grade": None, "score": 1}, "policy": None,
                     "ruleset": {"hash": "h", "name": "r", "version": "1"}}}
COLUMNS = {"as_of": "2026-11-30", "customer_id": "C-1", "decision_id": "d-1",
           "outcome": "reject", "grade": None, "credit_limit": None, "ruleset_name": "r",
           "ruleset_version": "1", "ruleset_hash": "h"}


def test_elide_leaves_out_what_equals_its_column_and_expand_puts_it_back():
    original = json.dumps(HEAD)
    kept = elide(HEAD, COLUMNS)
    assert kept == {"challenger": {"share": 0.1},
                    "decision": {"admission": {"reasons": []},
                                 "grading": {"grade": None, "score": 1}, "policy": None}}
    assert json.dumps(HEAD) == original  # copied, never changed in place
    assert json.dumps(expand(json.loads(json.dumps(kept)), COLUMNS)) == \
        json.dumps(HEAD, sort_keys=True)


def test_a_value_its_column_does_not_say_is_kept():
    kept = elide(HEAD, {**COLUMNS, "customer_id": "C-2", "ruleset_hash": None})
    assert kept["decision"]["customer_id"] == "C-1"
    assert kept["decision"]["ruleset"] == {"hash": "h"}

@pytest.mark.parametrize("name", ["bbb-distributor", "reject-sanctions",
                                  "refer-missing-financials"])
def test_a_decision_is_stored_compressed_and_read_back_whole(tmp_path, credit, name):
    db = tmp_path / "audit.db"
    seq, decided = decide(credit, db, name)
    body = stored(db, seq)
    assert isinstance(body, bytes) and body[:1] == b"\x02" and len(body) < 900
    conn = sqlite3.connect(db)
    text = json.loads(BodyReader(conn).text(body))
    conn.close()
    # What the header says is not stored again ...
    assert "as_of" not in text
    assert not {"decision_id", "customer_id", "as_of", "ruleset"} & set(text["decision"])
    assert "outcome" not in text["decision"]["admission"]
    # ... yet the decision read back is the one decide printed, byte for byte.
    shown = credit("audit", "show", str(seq), "--db", db, "--json")
    assert shown.exit_code == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert json.dumps(record["decision"], sort_keys=True) == \
        json.dumps(decided, sort_keys=True)
    assert record["body"]["as_of"] == AS_OF
    assert list(record["body"]) == sorted(record["body"])  # in canonical order
    assert credit("replay", str(seq), "--db", db).exit_code == 0


def test_the_dictionary_is_kept_in_the_file_and_attested_by_the_chain(tmp_path, credit):
    db = tmp_path / "audit.db"
    decide(credit, db, "bbb-distributor")
    (kept,) = rows(db, "SELECT id, sha256, content FROM body_dictionaries")
    assert kept["id"] == 1 and kept["content"] == shipped_dictionary(1)
    loaded = json.loads(rows(db, "SELECT body FROM records WHERE seq = 1")[0]["body"])
    assert loaded["event"] == "ruleset-loaded"
    assert loaded["body_dictionary"] == {"id": 1, "sha256": kept["sha256"]}
    assert [r["kind"] for r in rows(db)] == ["ruleset-loaded", "decision"]


def test_a_changed_dictionary_fails_verify(tmp_path, credit):
    db = tmp_path / "audit.db"
    decide(credit, db, "bbb-distributor")
    tamper(db, lambda conn: conn.execute(
        "UPDATE body_dictionaries SET content = CAST(content || x'00' AS BLOB)"))
    result = verify(db)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "FAILED: body dictionary 1: it was changed (it no longer matches the digest the "
        "trail attests for it)")


def test_a_dictionary_other_than_the_shipped_one_under_its_id_is_refused(tmp_path, credit):
    db = tmp_path / "audit.db"
    decide(credit, db, "bbb-distributor")
    tamper(db, lambda conn: conn.execute("UPDATE body_dictionaries SET sha256 = '00'"))
    result = credit("decide", CUSTOMERS / "a-wholesaler.json", "--as-of", AS_OF, "--db", db)
    assert result.exit_code == 1
    assert result.stderr == (f"credit: error: {db}: its body dictionary 1 is not the one "
                             "this engine ships under that id\n")


@pytest.mark.parametrize(("kind", "change"), [
    ("decision", lambda row: row.update(body=b"\x03" + row["body"][1:])),
    ("ruleset-loaded", lambda row: row.update(body=b"\x02" + row["body"].encode())),
])
def test_a_body_in_no_format_for_its_kind_fails_verify(tmp_path, credit, kind, change):
    db = tmp_path / "audit.db"
    decide(credit, db, "bbb-distributor")
    seq = rows(db, "SELECT seq FROM records WHERE kind = ?", (kind,))[0]["seq"]
    tamper(db, lambda conn: rechain_from(conn, seq, change))
    result = verify(db)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"FAILED at record {seq}: its body is in no format credit-rules writes for its kind "
        f"({seq - 1} records before it are intact)")


def test_an_unreadable_compressed_body_is_one_line_wherever_it_is_read(tmp_path, credit):
    db = tmp_path / "audit.db"
    seq, _ = decide(credit, db, "bbb-distributor")
    tamper(db, lambda conn: rechain_from(conn, seq, lambda row: row.update(
        body=row["body"][:40])))
    for command in (["audit", "show", str(seq)], ["replay", str(seq)]):
        result = credit(*command, "--db", db)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"credit: error: {db}: record {seq}: a compressed "
                                        "body cannot be read")
        assert len(result.stderr.splitlines()) == 1


def test_the_header_is_the_only_copy_of_what_it_says(tmp_path, credit):
    """A forger who rewrites a format-2 decision's grade and the chain after it changes what
    every reader sees alike (there is no second copy to disagree with), and replay and a
    noted head catch it."""
    db = tmp_path / "audit.db"
    seq, decided = decide(credit, db, "bbb-distributor")
    noted = head(db)
    tamper(db, lambda conn: rechain_from(conn, seq, lambda row: row.update(grade="AAA")))
    assert verify(db).exit_code == 0
    assert full_body(db, seq)["decision"]["grading"]["grade"] == "AAA"
    listed = json.loads(credit("audit", "list", "--db", db, "--json").stdout)
    assert listed[0]["grade"] == "AAA"
    replayed = credit("replay", str(seq), "--db", db)
    assert replayed.exit_code == 1
    assert f'grading.grade: recorded "AAA", replayed "{decided["grading"]["grade"]}"' in \
        replayed.stderr
    assert verify(db, "--head", noted).exit_code == 1


def test_the_shipped_dictionaries_are_the_registered_ones():
    for dict_id, (name, digest) in SHIPPED.items():
        content = shipped_dictionary(dict_id)
        assert hashlib.sha256(content).hexdigest() == digest, name
        assert zstandard.ZstdCompressionDict(content).dict_id() == dict_id


# --- format 1, and a trail holding both ----------------------------------------------------

@pytest.fixture
def old(tmp_path):
    return format_1_trail(tmp_path / "old.db")


def test_a_trail_written_before_format_2_verifies_and_replays_identically(old, credit):
    result = verify(old)
    assert (result.exit_code, result.stdout.split(", head")[0]) == (
        0, "ok: 306 records verified")
    replayed = credit("replay", "--all", "--db", old)
    assert replayed.exit_code == 0, replayed.stderr
    assert replayed.stdout.strip() == "32 replayed identically, 0 differed"
    challenged = credit("audit", "stats", "--challenger", "--db", old, "--json")
    assert challenged.exit_code == 0, challenged.stderr
    assert json.loads(challenged.stdout)["pairs"][0]["decisions"] == 5
    # Opening it for writing brought its schema up to date (a table for dictionaries):
    # the chain is untouched.
    assert verify(old).stdout.startswith("ok: 306 records verified")


def test_new_decisions_join_an_old_trail(old, credit, monkeypatch):
    """Decided under the very ruleset the old trail was written with (its stored copy), a
    new decision needs no new ruleset-loaded record: a dictionary-loaded record attests
    the dictionary instead."""
    monkeypatch.setenv("CREDIT_AUDIT_SALT", FORMAT_1_SALT)
    document = json.loads((CUSTOMERS / "a-wholesaler.json").read_text(encoding="utf-8"))
    with AuditStore(old, create=False) as store:
        (ruleset_hash,) = store.conn.execute(
            "SELECT ruleset_hash FROM records WHERE kind = 'decision' LIMIT 1").fetchone()
        ruleset = Replayer(store).ruleset(ruleset_hash)
        recorded = decide_and_record(ruleset, document, dt.date(2026, 11, 30),
                                     plugins=installed_plugins(), store=store)
    assert recorded.seq == 308
    decided = recorded.decided.decision.summary()
    kinds = [(r["seq"], r["kind"], type(r["body"])) for r in rows(
        old, "SELECT seq, kind, body FROM records WHERE seq > 300")]
    assert kinds[-2:] == [(307, "dictionary-loaded", str), (308, "decision", bytes)]
    conn = connect(old)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    conn.close()
    assert verify(old).stdout.startswith("ok: 308 records verified")
    replayed = credit("replay", "--all", "--db", old)
    assert replayed.stdout.strip() == "33 replayed identically, 0 differed"
    exported = credit("audit", "export", "--db", old)
    lines = exported.stdout.splitlines()
    check_like_a_regulator(lines)
    formats = {json.loads(line)["body_stored"] is None for line in lines}
    assert formats == {True, False}
    assert json.loads(lines[-1])["body"]["decision"] == json.loads(json.dumps(
        decided, default=str))


def test_a_regulator_reads_a_stored_body_with_the_dictionary_alone(tmp_path, credit):
    db = tmp_path / "audit.db"
    seq, _ = decide(credit, db, "bbb-distributor")
    out = tmp_path / "d1.zdict"
    written = credit("audit", "dictionary", "1", "--db", db, "--out", out)
    assert written.exit_code == 0, written.stderr
    assert written.stderr == f"wrote body dictionary 1 (32,768 bytes) to {out}\n"
    record = json.loads(credit("audit", "export", "--db", db).stdout.splitlines()[seq - 1])
    stored_bytes = base64.b64decode(record["body_stored"])
    assert hashlib.sha256(stored_bytes).hexdigest() == record["body_sha256"]
    # Only zstd and the dictionary file: what the body holds, plus the header's values.
    dictionary = zstandard.ZstdCompressionDict(out.read_bytes())
    text = zstandard.ZstdDecompressor(dict_data=dictionary).decompress(stored_bytes[1:])
    held = json.loads(text)
    assert held["input"] == record["body"]["input"]
    assert held["trace"] == record["body"]["trace"]
    held["decision"].update(decision_id=record["decision_id"],
                            customer_id=record["customer_id"], as_of=record["as_of"])
    assert held["decision"]["policy"] | {"credit_limit": record["credit_limit"]} == \
        record["body"]["decision"]["policy"]


@pytest.mark.parametrize(("dict_id", "why"), [
    ("2", "body dictionary 2 is not in the audit file"),
    ("1", "body dictionary 1 was altered (run 'credit audit verify')"),
])
def test_a_dictionary_not_there_or_altered_is_not_written(tmp_path, credit, dict_id, why):
    db = tmp_path / "audit.db"
    decide(credit, db, "bbb-distributor")
    tamper(db, lambda conn: conn.execute(
        "UPDATE body_dictionaries SET content = CAST(content || x'00' AS BLOB)"))
    out = tmp_path / "d.zdict"
    result = credit("audit", "dictionary", dict_id, "--db", db, "--out", out)
    assert (result.exit_code, result.stderr) == (1, f"credit: error: {db}: {why}\n")
    assert not out.exists()


@pytest.mark.parametrize("query", [
    "SELECT 1 FROM records WHERE customer_id = ? LIMIT 1",
    "SELECT * FROM records WHERE customer_id = ? ORDER BY seq",
    "SELECT seq FROM records WHERE customer_id = ? AND kind = 'decision' AND as_of <= ?",
])
def test_a_customer_is_looked_up_by_an_index_without_one_on_customer_id_alone(tmp_path,
                                                                              query):
    with AuditStore(tmp_path / "audit.db") as store:
        names = {row[0] for row in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "idx_records_customer_id" not in names  # repeated records_customer_time
        plan = " ".join(row[-1] for row in store.conn.execute(
            f"EXPLAIN QUERY PLAN {query}", ["C-1", "2026-01-01"][:query.count("?")]))
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
    assert "SCAN records" not in plan


def test_a_customers_latest_decision_is_read_from_the_decisions_own_index(tmp_path):
    # records_customer_time holds the same (customer_id, as_of, seq) keys for decisions, but
    # answering from it walks every record of the customer after its decision (measured
    # with 1,000 events after it: 7 -> 148 us a look-up): the partial index is no duplicate.
    with AuditStore(tmp_path / "audit.db") as store:
        plan = " ".join(row[-1] for row in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM records WHERE customer_id = ? AND kind = "
            "'decision' AND as_of <= ? ORDER BY as_of DESC, seq DESC LIMIT 1",
            ["C-1", "2026-01-01"]))
    assert "USING INDEX records_customer_decisions" in plan, plan


def test_closing_folds_the_log_into_the_file_though_a_reader_stays_open(tmp_path):
    path = tmp_path / "audit.db"
    reader = sqlite3.connect(f"file:{path}?mode=rwc", uri=True)  # idle, as a plugin keeps one
    try:
        with AuditStore(path) as store:
            store.append([NewRecord("event", '{"customer_id":"C","id":"E-1"}',
                                    customer_id="C")])
            reader.execute("SELECT count(*) FROM records").fetchall()
        wal = Path(f"{path}-wal")
        assert not wal.exists() or wal.stat().st_size == 0
        alone = tmp_path / "alone.db"
        alone.write_bytes(path.read_bytes())  # the main file only, as a copy would take it
        with sqlite3.connect(alone) as copy:
            assert copy.execute("SELECT count(*) FROM records WHERE kind = 'event'"
                                ).fetchone()[0] == 1
    finally:
        reader.close()


def test_closing_beside_a_reader_in_the_middle_of_reading_loses_nothing(tmp_path):
    path = tmp_path / "audit.db"
    reader = sqlite3.connect(path)
    try:
        with AuditStore(path) as store:
            store.append([NewRecord("event", '{"customer_id":"C","id":"E-1"}',
                                    customer_id="C")])
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM records").fetchall()  # holds a snapshot
        assert reader.execute("SELECT count(*) FROM records WHERE kind = 'event'"
                              ).fetchone()[0] == 1
        reader.execute("COMMIT")
    finally:
        reader.close()
    with AuditStore(path, create=False) as store:
        assert store.conn.execute("SELECT count(*) FROM records WHERE kind = 'event'"
                                  ).fetchone()[0] == 1
