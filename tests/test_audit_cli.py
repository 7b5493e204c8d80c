"""The audit side of the command line: decide/batch writing records, and the reading
commands (list, show, head, export, stats) checked against a trail of known contents; bad
or missing audit files are one-line errors and are never created or changed."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import sqlite3

import pytest

from tests.audit_helpers import (
    AS_OF,
    HEADER_COLUMNS,
    check_like_a_regulator,
    copy_ruleset,
    one_line_error,
    rows,
    write_json,
)
from tests.credit_cli import invoke_credit
from tests.paths import ROOT
from tests.sample_customers import strong_customer

CUSTOMERS = ROOT / "examples" / "customers"
LIST_COLUMNS = ["seq", "recorded_at", "kind", "customer_id", "decision_id", "as_of", "ruleset",
                "outcome", "grade", "credit_limit"]
EXPORT_COLUMNS = [*HEADER_COLUMNS, "hash", "body", "body_stored"]


@pytest.fixture(scope="module")
def known(tmp_path_factory, credit):
    """A trail of known contents (seq: what)::

        1 ruleset-loaded default 1.0.0
        2 CUST-10001 default 1.0.0  2025-01-15  accept AAA
        3 CUST-10008 default 1.0.0  2025-03-01  reject BBB (sanctions)
        4 ruleset-loaded default 1.1.0
        5 CUST-10001 default 1.1.0  2025-06-30  accept AAA
        6 ruleset-loaded strict 2.0.0
        7 CUST-10011 strict 2.0.0   2025-09-01  refer  A
        8 CUST-10004 default 1.0.0  2025-12-31  accept BBB
    """
    folder = tmp_path_factory.mktemp("known")
    v11 = copy_ruleset(folder, "v11", {"version": '"1.1.0"'})
    strict = copy_ruleset(folder, "strict", {"name": "strict", "version": '"2.0.0"'})
    db = folder / "audit.db"
    plan = [("aaa-manufacturer", None, "2025-01-15", 2, "accept", "AAA"),
            ("reject-sanctions", None, "2025-03-01", 3, "reject", "BBB"),
            ("aaa-manufacturer", v11, "2025-06-30", 5, "accept", "AAA"),
            ("refer-exposure-above-limit", strict, "2025-09-01", 7, "refer", "A"),
            ("bbb-distributor", None, "2025-12-31", 8, "accept", "BBB")]
    decisions = {}
    for name, ruleset, as_of, seq, outcome, grade in plan:
        args = ["decide", CUSTOMERS / f"{name}.json", "--as-of", as_of, "--db", db, "--json"]
        if ruleset:
            args += ["--ruleset", ruleset]
        result = credit(*args)
        assert result.exit_code == 0, result.output
        assert result.stderr.strip() == f"credit: audited as record {seq} in {db}"
        data = json.loads(result.stdout)
        assert (data["admission"]["outcome"], data["grading"]["grade"]) == (outcome, grade)
        decisions[seq] = data
    return db, decisions


def listed(db, *args: str) -> list[int]:
    result = invoke_credit("audit", "list", "--db", db, "--json", *args)
    assert result.exit_code == 0, result.output
    return [r["seq"] for r in json.loads(result.stdout)]


# --- decide and batch write the trail --------------------------------------------------------

def test_decide_audits_one_record(tmp_path, audit_file, credit):
    customer = write_json(tmp_path / "c.json", strong_customer())
    result = credit("decide", customer, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"Audit      audited as record 2 in {audit_file}"
    assert [r["kind"] for r in rows(audit_file)] == ["ruleset-loaded", "decision"]
    result = credit("decide", customer, "--as-of", AS_OF)
    assert result.stdout.splitlines()[-1] == f"Audit      audited as record 3 in {audit_file}"
    assert len(rows(audit_file)) == 3  # the ruleset is stored once


def test_decide_no_audit_writes_nothing(tmp_path, audit_file, credit):
    customer = write_json(tmp_path / "c.json", strong_customer())
    result = credit("decide", customer, "--as-of", AS_OF, "--no-audit")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "Audit      not audited (--no-audit)"
    assert not audit_file.exists()
    assert credit("decide", customer, "--as-of", AS_OF).exit_code == 0
    before = audit_file.read_bytes()
    result = credit("decide", customer, "--as-of", AS_OF, "--no-audit", "--json")
    assert result.stderr.strip() == "credit: not audited (--no-audit)"
    assert len(rows(audit_file)) == 2
    assert audit_file.read_bytes() == before


def test_batch_no_audit_writes_nothing(tmp_path, audit_file, credit):
    portfolio = tmp_path / "p.jsonl"
    portfolio.write_text(json.dumps(strong_customer()) + "\n")
    result = credit("batch", portfolio, "--out", tmp_path / "o.jsonl", "--no-audit")
    assert result.exit_code == 0
    assert "Audit      not audited (--no-audit)" in result.stdout
    assert not audit_file.exists()
    result = credit("batch", portfolio, "--out", tmp_path / "o.jsonl", "--no-audit",
                    "--resume")
    assert result.exit_code == 1
    assert "--resume needs the audit trail" in one_line_error(result)


def test_batch_records_its_rows(tmp_path, audit_file, credit):
    portfolio = tmp_path / "p.jsonl"
    portfolio.write_text("".join(json.dumps(strong_customer(id=f"T-{n}")) + "\n"
                                 for n in range(3)))
    result = credit("batch", portfolio, "--out", tmp_path / "o.jsonl", "--as-of", AS_OF,
                    "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["audit"] == str(audit_file)
    records = rows(audit_file)
    assert [(r["kind"], r["customer_id"], r["batch_row"]) for r in records] == [
        ("ruleset-loaded", None, None), ("batch", None, None), ("decision", "T-0", 1),
        ("decision", "T-1", 2), ("decision", "T-2", 3), ("batch", None, None)]
    assert {r["batch_id"] for r in records[1:]} == {summary["batch_id"]}


# --- list ---------------------------------------------------------------------------------

def test_list_everything_newest_first(known):
    db, _ = known
    assert listed(db) == [8, 7, 6, 5, 4, 3, 2, 1]


@pytest.mark.parametrize(("args", "expected"), [
    (["--customer", "CUST-10001"], [5, 2]),
    (["--customer", "NOBODY"], []),
    (["--grade", "BBB"], [8, 3]),
    (["--grade", "A"], [7]),
    (["--outcome", "accept"], [8, 5, 2]),
    (["--outcome", "reject"], [3]),
    (["--outcome", "refer"], [7]),
    (["--kind", "ruleset-loaded"], [6, 4, 1]),
    (["--kind", "decision"], [8, 7, 5, 3, 2]),
    (["--kind", "decision", "--since", "2025-06-30"], [8, 7, 5]),
    (["--kind", "decision", "--until", "2025-03-01"], [3, 2]),
    (["--kind", "decision", "--since", "2025-03-01", "--until", "2025-09-01"], [7, 5, 3]),
    (["--kind", "decision", "--since", "2026-01-01"], []),
    (["--ruleset-id", "default"], [8, 5, 4, 3, 2, 1]),
    (["--ruleset-id", "default@1.0.0"], [8, 3, 2, 1]),
    (["--ruleset-id", "default@1.1.0"], [5, 4]),
    (["--ruleset-id", "strict@2.0.0"], [7, 6]),
    (["--ruleset-id", "strict"], [7, 6]),
    (["--ruleset-id", "default@9.9.9"], []),
    (["--limit", "2"], [8, 7]),
    (["--kind", "decision", "--limit", "3"], [8, 7, 5]),
    (["--customer", "CUST-10001", "--ruleset-id", "default@1.0.0"], [2]),
    (["--grade", "AAA", "--outcome", "accept", "--since", "2025-02-01"], [5]),
])
def test_list_filters(known, args, expected):
    db, _ = known
    assert listed(db, *args) == expected


def test_list_dates_of_records_without_one_are_their_recording_day(known):
    db, _ = known
    days = {r["seq"]: r["recorded_at"][:10] for r in rows(db)}
    today = days[1]
    assert listed(db, "--since", today, "--until", today) == [6, 4, 1]


def test_list_by_ruleset_hash_prefix(known):
    db, decisions = known
    prefix = decisions[5]["ruleset"]["hash"][:10]
    assert listed(db, "--ruleset-id", prefix) == [5, 4]


def test_list_json_shape(known, credit):
    db, decisions = known
    result = credit("audit", "list", "--db", db, "--json", "--limit", "1")
    (row,) = json.loads(result.stdout)
    assert list(row) == LIST_COLUMNS
    assert {k: v for k, v in row.items() if k != "recorded_at"} == {
        "seq": 8, "kind": "decision", "customer_id": "CUST-10004",
        "decision_id": decisions[8]["decision_id"], "as_of": "2025-12-31",
        "ruleset": "default 1.0.0", "outcome": "accept", "grade": "BBB",
        "credit_limit": decisions[8]["policy"]["credit_limit"]}
    assert credit("audit", "list", "--db", db, "--json", "--customer", "X").stdout.strip() \
        == "[]"


def test_list_csv_and_table_shapes(known, credit):
    db, _ = known
    result = credit("audit", "list", "--db", db, "--csv", "--kind", "decision")
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.stdout.splitlines()[0] == ",".join(LIST_COLUMNS)
    assert [int(r["seq"]) for r in table] == [8, 7, 5, 3, 2]
    assert table[3]["credit_limit"] == ""  # rejected: no limit
    result = credit("audit", "list", "--db", db, "--kind", "decision")
    lines = result.stdout.splitlines()
    assert lines[0].split() == LIST_COLUMNS
    assert set(lines[1]) == {"-", " "}
    assert [int(line.split()[0]) for line in lines[2:]] == [8, 7, 5, 3, 2]


@pytest.mark.parametrize("args", [["--outcome", "maybe"], ["--since", "yesterday"],
                                  ["--limit", "0"]])
def test_list_bad_filter_is_a_usage_error(known, args, credit):
    db, _ = known
    result = credit("audit", "list", "--db", db, *args)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


# --- show ----------------------------------------------------------------------------------

def test_show_is_readable(known, credit):
    db, decisions = known
    result = credit("audit", "show", "2", "--db", db)
    assert result.exit_code == 0, result.output
    text = result.stdout
    lines = text.splitlines()
    assert lines[0].startswith("Record     2 (decision), recorded ")
    assert lines[1] == f"Hash       {rows(db)[1]['hash']}"
    assert lines[2] == f"Previous   {rows(db)[0]['hash']}"
    assert ("Plugins    industry 0.1.0, bureau_files 0.1.0, bureau_http 0.1.0, "
            "overrides 0.1.0, exchange_rates 0.1.0") in lines
    assert "Input" in lines
    assert '    "id": "CUST-10001",' in lines
    assert f"Decision {decisions[2]['decision_id']} for customer CUST-10001, as of 2025-01-15" \
        in lines
    assert "Admission  ACCEPT" in lines
    assert any(line.startswith("Grade      AAA") for line in lines)
    assert "Trace" in lines
    trace = lines[lines.index("Trace") + 1:]
    assert len(trace) == len(decisions[2]["trace"])
    assert any(line.split()[:3] == ["policy", "policy_by_grade/P_AAA", "->"]
               for line in trace), trace


def test_show_json_has_body_and_full_decision(known, credit):
    db, decisions = known
    result = credit("audit", "show", "7", "--db", db, "--json")
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert set(record) == {*EXPORT_COLUMNS, "decision"}
    assert record["seq"] == 7 and record["ruleset_name"] == "strict"
    assert set(record["body"]) == {"as_of", "decision", "enriched", "input", "plugins",
                                   "trace"}
    assert record["body"]["input"]["id"] == "CUST-10011"
    assert record["decision"] == decisions[7]  # exactly what `credit decide --json` printed
    assert all({"stage", "id", "read", "result"} <= set(e) for e in record["decision"]["trace"])


def test_show_a_non_decision_record(known, credit):
    db, _ = known
    result = credit("audit", "show", "4", "--db", db)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("Record     4 (ruleset-loaded)")
    assert '"version": "1.1.0"' in result.stdout
    record = json.loads(credit("audit", "show", "4", "--db", db, "--json").stdout)
    assert "decision" not in record and record["body"]["event"] == "ruleset-loaded"


def test_show_by_decision_id(known, credit):
    db, decisions = known
    decision_id = decisions[3]["decision_id"]
    by_id = credit("audit", "show", decision_id, "--db", db, "--json")
    assert by_id.exit_code == 0
    assert json.loads(by_id.stdout)["seq"] == 3
    assert "Note" not in credit("audit", "show", decision_id, "--db", db).stdout


def test_show_by_a_decision_id_recorded_twice_shows_the_latest(tmp_path, audit_file, credit):
    customer = write_json(tmp_path / "c.json", strong_customer())
    first = json.loads(credit("decide", customer, "--as-of", AS_OF, "--json").stdout)
    second = json.loads(credit("decide", customer, "--as-of", AS_OF, "--json").stdout)
    assert first["decision_id"] == second["decision_id"]
    result = credit("audit", "show", first["decision_id"])
    assert result.stdout.splitlines()[0].startswith("Record     3 (decision)")
    assert "Note       2 records carry this decision id; this is the latest (use the " \
        "sequence number for another)" in result.stdout


@pytest.mark.parametrize("ref", ["99", "0", "d-00000000000000000000000000000000"])
def test_show_unknown_record_is_one_line(known, ref, credit):
    db, _ = known
    result = credit("audit", "show", ref, "--db", db)
    assert result.exit_code == 1
    assert one_line_error(result) == f"credit: error: no audit record {ref} in {db}"


def test_head(known, credit):
    db, _ = known
    result = credit("audit", "head", "--db", db)
    assert result.exit_code == 0
    assert result.stdout.strip() == f"8:{rows(db)[-1]['hash']}"


# --- export ---------------------------------------------------------------------------------

def test_export_jsonl_can_be_checked_by_a_regulator(known, credit):
    db, decisions = known
    result = credit("audit", "export", "--db", db)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 8
    assert set(json.loads(lines[0])) == set(EXPORT_COLUMNS)
    check_like_a_regulator(lines)
    assert json.loads(lines[1])["body"]["decision"]["decision_id"] == \
        decisions[2]["decision_id"]


def test_export_takes_filters(known, credit):
    db, _ = known
    result = credit("audit", "export", "--db", db, "--customer", "CUST-10001")
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [2, 5]
    result = credit("audit", "export", "--db", db, "--kind", "decision", "--limit", "2")
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [2, 3]


def test_export_csv(known, credit):
    db, _ = known
    result = credit("audit", "export", "--db", db, "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == ",".join(EXPORT_COLUMNS)
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(r["seq"]) for r in table] == list(range(1, 9))
    for row in table:  # the hash covers a compressed body's stored bytes, else the JSON
        stored = base64.b64decode(row["body_stored"]) if row["body_stored"] else \
            row["body"].encode("utf-8")
        assert hashlib.sha256(stored).hexdigest() == row["body_sha256"]
    assert [bool(row["body_stored"]) for row in table] == [
        row["kind"] == "decision" for row in table]
    assert table[2]["outcome"] == "reject" and table[2]["credit_limit"] == ""


# --- stats ----------------------------------------------------------------------------------

def test_stats_json(known, credit):
    db, _ = known
    result = credit("audit", "stats", "--db", db, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "grade": [{"grade": "AAA", "decisions": 2}, {"grade": "A", "decisions": 1},
                  {"grade": "BBB", "decisions": 2}],  # the rulesets' order, not A to Z
        "outcome": [{"outcome": "accept", "decisions": 3}, {"outcome": "refer", "decisions": 1},
                    {"outcome": "reject", "decisions": 1}],
        "ruleset": [{"ruleset": "default 1.0.0", "decisions": 3},
                    {"ruleset": "default 1.1.0", "decisions": 1},
                    {"ruleset": "strict 2.0.0", "decisions": 1}],
        "day": [{"day": d, "decisions": 1} for d in ("2025-01-15", "2025-03-01",
                                                      "2025-06-30", "2025-09-01",
                                                      "2025-12-31")]}


def test_stats_with_filters_table_and_csv(known, credit):
    db, _ = known
    no_kind = credit("audit", "stats", "--db", db, "--kind", "ruleset-loaded")
    assert no_kind.exit_code == 2 and "No such option '--kind'" in no_kind.stderr  # decisions
    data = json.loads(credit("audit", "stats", "--db", db, "--json", "--ruleset-id",
                             "default@1.0.0").stdout)
    assert data["outcome"] == [{"outcome": "accept", "decisions": 2},
                               {"outcome": "reject", "decisions": 1}]
    table = credit("audit", "stats", "--db", db).stdout.splitlines()
    assert [line for line in table if line.startswith("By ")] == [
        "By grade", "By outcome", "By ruleset", "By day"]
    assert table[table.index("By outcome") + 3].split() == ["accept", "3"]


def test_stats_csv_has_every_row(known, credit):
    db, _ = known
    lines = credit("audit", "stats", "--db", db, "--csv").stdout.splitlines()
    assert lines == [
        "group,value,decisions", "grade,AAA,2", "grade,A,1", "grade,BBB,2",
        "outcome,accept,3", "outcome,refer,1", "outcome,reject,1",
        "ruleset,default 1.0.0,3", "ruleset,default 1.1.0,1", "ruleset,strict 2.0.0,1",
        "day,2025-01-15,1", "day,2025-03-01,1", "day,2025-06-30,1", "day,2025-09-01,1",
        "day,2025-12-31,1"]


# --- missing, foreign and broken audit files -------------------------------------------------

READING = [["audit", "list"], ["audit", "show", "1"], ["audit", "verify"], ["audit", "head"],
           ["audit", "export"], ["audit", "export", "--format", "csv"], ["audit", "stats"],
           ["replay", "1"], ["replay", "--all"], ["review", "--due"]]


@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_reading_a_missing_file_is_one_line_and_creates_nothing(tmp_path, audit_file,
                                                                 command, credit):
    result = credit(*command)  # the file $CREDIT_DB names
    assert result.exit_code == 1
    assert one_line_error(result) == f"credit: error: {audit_file}: no audit file here"
    missing = tmp_path / "elsewhere" / "nope.db"
    result = credit(*command, "--db", missing)
    assert result.exit_code == 1
    assert one_line_error(result) == f"credit: error: {missing}: no audit file here"
    assert not audit_file.exists() and not missing.parent.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def foreign_sqlite(tmp_path):
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount TEXT)")
    conn.execute("INSERT INTO invoices (amount) VALUES ('10.00')")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("command", [*READING, ["decide", "CUSTOMER"]], ids=" ".join)
def test_a_foreign_sqlite_file_is_refused(tmp_path, foreign_sqlite, command, credit):
    customer = write_json(tmp_path / "c.json", strong_customer())
    command = [customer if a == "CUSTOMER" else a for a in command]
    before = foreign_sqlite.read_bytes()
    result = credit(*command, "--db", foreign_sqlite)
    assert result.exit_code == 1
    assert one_line_error(result) == (f"credit: error: {foreign_sqlite}: an SQLite file that "
                                      "is not an audit trail")
    conn = sqlite3.connect(foreign_sqlite)
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("invoices",)]
    conn.close()
    assert foreign_sqlite.read_bytes()[:16] == before[:16]


def test_a_foreign_sqlite_file_keeps_its_journal_mode(foreign_sqlite, credit):
    assert credit("audit", "list", "--db", foreign_sqlite).exit_code == 1
    conn = sqlite3.connect(foreign_sqlite)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()


@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_a_text_file_is_refused(tmp_path, command, credit):
    text = tmp_path / "notes.txt"
    text.write_text("not a database, just some notes\n" * 10)
    before = text.read_bytes()
    result = credit(*command, "--db", text)
    assert result.exit_code == 1
    assert one_line_error(result) == (f"credit: error: {text}: not a usable audit database "
                                      "(file is not a database)")
    assert text.read_bytes() == before


def test_reading_an_empty_file_does_not_make_it_an_audit_trail(tmp_path, credit):
    empty = tmp_path / "empty.db"
    empty.touch()
    result = credit("audit", "list", "--db", empty)
    assert result.exit_code == 1
    assert empty.stat().st_size == 0
