"""credit replay: recorded decisions re-run from the record alone and compared byte for
byte; a changed record is reported readably; files on disk do not matter."""

from __future__ import annotations

import json
import re

import pytest

from tests.audit_helpers import (
    AS_OF,
    EXAMPLE_PORTFOLIO,
    check_like_a_regulator,
    copy_db,
    copy_ruleset,
    edit_body,
    one_line_error,
    rows,
    tamper,
    write_json,
)
from tests.sample_customers import strong_customer


@pytest.fixture(scope="module")
def example_trail(tmp_path_factory, credit):
    """The example portfolio (1,000 rows) decided in one batch."""
    folder = tmp_path_factory.mktemp("example")
    db = folder / "audit.db"
    result = credit("batch", EXAMPLE_PORTFOLIO, "--out", folder / "r.jsonl", "--as-of", AS_OF,
                    "--db", db)
    assert result.exit_code == 0, result.output
    return db


def test_whole_example_batch_replays_identically(example_trail, credit):
    result = credit("replay", "--all", "--db", example_trail)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1,000 replayed identically, 0 differed"
    assert result.stderr == ""


def test_export_of_the_example_batch_checks_out(example_trail, credit):
    result = credit("audit", "export", "--format", "jsonl", "--db", example_trail)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1003
    check_like_a_regulator(lines)


def test_replay_all_takes_filters(example_trail, credit):
    result = credit("replay", "--all", "--outcome", "reject", "--db", example_trail)
    assert result.exit_code == 0
    rejected = rows(example_trail, "SELECT count(*) AS n FROM records WHERE outcome = "
                                   "'reject'")[0]["n"]
    assert 0 < rejected < 1000
    assert result.stdout.strip() == f"{rejected:,} replayed identically, 0 differed"


def test_replay_one_record_by_seq_and_by_decision_id(example_trail, credit):
    record = rows(example_trail, "SELECT seq, decision_id FROM records WHERE seq = 500")[0]
    for ref in (str(record["seq"]), record["decision_id"]):
        result = credit("replay", ref, "--db", example_trail)
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == (f"ok: record 500 ({record['decision_id']}) replays "
                                         "identically")


def test_edited_body_is_a_readable_difference(example_trail, tmp_path, credit):
    db = copy_db(example_trail, tmp_path / "audit.db")
    seq, decision_id, limit = next(
        (r["seq"], r["decision_id"], r["credit_limit"]) for r in rows(
            db, "SELECT * FROM records WHERE kind = 'decision' AND outcome = 'accept' AND "
                "CAST(credit_limit AS REAL) > 0 ORDER BY seq"))

    def raise_the_limit(conn):  # a format-2 record says its limit in its header only
        conn.execute("UPDATE records SET credit_limit = '4999000.00' WHERE seq = ?", (seq,))

    tamper(db, raise_the_limit)
    result = credit("replay", str(seq), "--db", db)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"DIFFERENT: record {seq} ({decision_id}):",
        f'  policy.credit_limit: recorded "4999000.00", replayed "{limit}"']

    everything = credit("replay", "--all", "--db", db)
    assert everything.exit_code == 1
    assert everything.stdout.strip() == "999 replayed identically, 1 differed"
    assert everything.stderr.strip() == (f"DIFFERENT: record {seq} ({decision_id}): "
                                         f'policy.credit_limit: recorded "4999000.00", '
                                         f'replayed "{limit}"')


def test_edited_input_is_a_readable_difference(example_trail, tmp_path, credit):
    db = copy_db(example_trail, tmp_path / "audit.db")

    def sanction(conn):
        edit_body(conn, 3, lambda body: body["input"]["flags"].update(sanctions_hit=True))

    tamper(db, sanction)
    result = credit("replay", "3", "--db", db)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("DIFFERENT: record 3 (")
    assert any(re.match(r'  admission\.outcome: recorded "\w+", replayed "reject"', line)
               for line in lines), lines
    assert len(lines) <= 32  # at most 30 differences and a "... and N more"


@pytest.mark.parametrize("seq", ["1", "2", "1003"])
def test_replaying_a_non_decision_is_one_line(example_trail, seq, credit):
    result = credit("replay", seq, "--db", example_trail)
    assert result.exit_code == 1
    kind = "ruleset-loaded" if seq == "1" else "batch"
    assert one_line_error(result) == (f"credit: error: record {seq} is a {kind} record, not "
                                      "a decision, an order check or an action")


def test_replaying_an_unknown_record_is_one_line(example_trail, credit):
    result = credit("replay", "999999", "--db", example_trail)
    assert result.exit_code == 1
    assert one_line_error(result).startswith("credit: error: no audit record 999999 in ")


@pytest.mark.parametrize("args", [[], ["3", "--all"]])
def test_replay_needs_exactly_one_of_ref_and_all(example_trail, args, credit):
    result = credit("replay", *args, "--db", example_trail)
    assert result.exit_code == 2
    assert "give either a record" in result.stderr


def test_replay_uses_the_stored_ruleset_not_the_files(tmp_path, credit):
    ruleset = copy_ruleset(tmp_path)
    db = tmp_path / "audit.db"
    customer = write_json(tmp_path / "c.json", strong_customer())
    result = credit("decide", customer, "--ruleset", ruleset, "--as-of", AS_OF, "--db", db,
                    "--json")
    assert result.exit_code == 0, result.output
    before = json.loads(result.stdout)
    assert before["policy"]["review_interval_days"] == 365

    policy = ruleset / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("review_interval_days: 365", "review_interval_days: 400"),
                      encoding="utf-8")
    after = json.loads(credit("decide", customer, "--ruleset", ruleset, "--as-of", AS_OF,
                              "--no-audit", "--json").stdout)
    assert after["policy"]["review_interval_days"] == 400  # the files did change
    assert after["ruleset"]["hash"] != before["ruleset"]["hash"]

    result = credit("replay", "2", "--db", db)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"ok: record 2 ({before['decision_id']}) replays identically"

    (ruleset / "grading.yaml").unlink()  # even a ruleset gone from disk
    assert credit("replay", "--all", "--db", db).exit_code == 0


def test_replay_refuses_an_altered_stored_ruleset(tmp_path, credit):
    db = tmp_path / "audit.db"
    customer = write_json(tmp_path / "c.json", strong_customer())
    assert credit("decide", customer, "--as-of", AS_OF, "--db", db).exit_code == 0
    tamper(db, lambda conn: conn.execute(
        """UPDATE rulesets SET content = replace(content, '"grace_days":5', '"grace_days":6')"""))
    result = credit("replay", "2", "--db", db)
    assert result.exit_code == 1
    assert "content was altered" in one_line_error(result)


def test_replaying_in_workers_gives_what_one_process_gives(example_trail, tmp_path,
                                                           monkeypatch):
    """A long trail is replayed in several processes: the same results, in record order,
    a difference found in a worker included."""
    from engine import replay
    from engine.audit.queries import Filters

    db = copy_db(example_trail, tmp_path / "audit.db")
    seq = rows(db, "SELECT seq FROM records WHERE kind = 'decision' ORDER BY seq "
                   "LIMIT 1 OFFSET 700")[0]["seq"]

    def change_the_grade(conn):
        conn.execute("UPDATE records SET grade = 'AAA' WHERE seq = ?", (seq,))

    tamper(db, change_the_grade)
    monkeypatch.setattr(replay, "PARALLEL_FROM", 1)
    monkeypatch.setattr(replay, "CHUNK", 64)
    alone = list(replay.replay_records(str(db), Filters(), workers=1))
    together = list(replay.replay_records(str(db), Filters(), workers=2))
    assert [(r.seq, r.differences) for r in together] == [(r.seq, r.differences)
                                                         for r in alone]
    assert [r.seq for r in together if not r.matched] == [seq]
    assert len(together) == 1000


def test_a_body_written_with_other_spacing_but_the_same_values_still_matches(
        example_trail, tmp_path, credit):
    db = copy_db(example_trail, tmp_path / "audit.db")
    seq = rows(db, "SELECT seq FROM records WHERE kind = 'decision' LIMIT 1")[0]["seq"]

    def respace(conn):
        edit_body(conn, seq, dumps=lambda body: json.dumps(body, sort_keys=True, indent=1))

    tamper(db, respace)
    assert credit("replay", str(seq), "--db", db).exit_code == 0
