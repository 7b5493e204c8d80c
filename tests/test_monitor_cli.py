"""`credit monitor` from the command line: output formats, the worklist, exit codes, one-line
errors, replaying an action, and the one-line message where durable_rules cannot import."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest

from engine.audit.store import AuditStore
from tests.audit_helpers import copy_ruleset, one_line_error
from tests.monitor_log import Log, invoice, order, payment, promise

pytest.importorskip("durable.engine", reason="durable-rules does not import here")


@pytest.fixture
def log(tmp_path, default_ruleset):
    log = Log(tmp_path, default_ruleset)
    log.decide()
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"),
            promise("2026-02-10", "I1", "2026-02-20", 60000),
            order("2026-03-02", 1_900_000))
    return log


def test_the_actions_as_a_table_with_a_summary_line(log, credit):
    result = credit("monitor", "--as-of", "2026-03-31", "--db", log.path)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["date", "customer_id", "action", "what", "rule", "events"]
    assert any("M_BROKEN_PROMISE" in line and "escalate" in line for line in lines)
    assert result.stderr == ("credit: monitored 1 customer, 3 events up to 2026-03-31: "
                             "4 actions (escalate 1, hold 1, notify 2); 0 taken "
                             "by earlier runs; 1 account overdue\n")


def test_json_gives_the_recorded_bodies_and_a_second_run_none(log, credit):
    first = credit("monitor", "--as-of", "2026-03-31", "--db", log.path, "--json")
    actions = json.loads(first.stdout)
    assert {a["key"] for a in actions} >= {"M_BROKEN_PROMISE:T-STRONG:E00002#broken:1/escalate",
                                           "M_ORDER_OVER_LIMIT:T-STRONG:E00003/hold"}
    second = credit("monitor", "--as-of", "2026-03-31", "--db", log.path, "--json")
    assert json.loads(second.stdout) == []
    assert "4 taken by earlier runs" in second.stderr


def test_the_worklist_as_csv(log, credit):
    # The broken promise brought the letter (02-21); 91 days overdue, a visit is due today.
    result = credit("monitor", "--as-of", "2026-05-02", "--db", log.path, "--worklist",
                    "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 1
    row = rows[0]
    assert (row["customer_id"], row["overdue_amount"], row["days_overdue"], row["on_hold"],
            row["promise_broken"], row["step_today"]) == (
        "T-STRONG", "60000", "91", "True", "True", "on_site_visit")


def test_a_dry_run_records_nothing(log, credit):
    before = log.path.read_bytes()
    result = credit("monitor", "--as-of", "2026-03-31", "--db", log.path, "--dry-run")
    assert result.exit_code == 0 and "not recorded (dry run)" in result.stderr
    assert credit("monitor", "--as-of", "2026-03-31", "--db", log.path, "--json",
                  "--dry-run").stdout != "[]\n"
    assert credit("audit", "stats", "--db", log.path).exit_code == 0
    assert len(log.path.read_bytes()) == len(before)


def test_each_action_replays_from_the_command_line(log, credit):
    credit("monitor", "--as-of", "2026-03-31", "--db", log.path)
    listed = json.loads(credit("audit", "list", "--db", log.path, "--json").stdout)
    action = next(row for row in listed if row["kind"] == "action")
    result = credit("replay", str(action["seq"]), "--db", log.path)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"ok: record {action['seq']} (M_")
    every = credit("replay", "--all", "--db", log.path)
    assert every.stdout.endswith("5 replayed identically, 0 differed\n")  # 4 and a decision


@pytest.mark.parametrize(("args", "message"), [
    ([], "Missing option '--as-of'"),
    (["--as-of", "2026-02-30"], "'2026-02-30' is not a date (YYYY-MM-DD)"),
])
def test_usage_errors_are_one_line_and_exit_2(log, args, message, credit):
    result = credit("monitor", *args, "--db", log.path)
    assert result.exit_code == 2 and message in one_line_error(result)


def test_a_ruleset_without_monitoring_rules_is_one_line(tmp_path, log, credit):
    folder = copy_ruleset(tmp_path)
    manifest = folder / "ruleset.yaml"
    manifest.write_text(manifest.read_text().replace("  monitoring: monitoring.yaml\n", ""))
    result = credit("monitor", "--as-of", "2026-03-31", "--db", log.path, "--ruleset",
                    folder)
    assert result.exit_code == 1
    assert one_line_error(result) == ("credit: error: ruleset default 1.0.0 has no "
                                      "monitoring rules (stages: monitoring: in ruleset.yaml)")


def test_an_empty_log_is_a_normal_run(tmp_path, credit):
    AuditStore(tmp_path / "empty.db").close()  # a trail with nothing in it yet
    result = credit("monitor", "--as-of", "2026-03-31", "--db", tmp_path / "empty.db")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].startswith("----")
    assert "monitored 0 customers, 0 events" in result.stderr


def test_where_durable_rules_cannot_import_monitor_says_so_and_the_rest_works(
        log, monkeypatch, tmp_path, credit):
    # What Python 3.13+ does: durable_rules' C extension will not load (an ImportError).
    monkeypatch.setitem(sys.modules, "durable", None)
    result = credit("monitor", "--as-of", "2026-03-31", "--db", log.path)
    assert result.exit_code == 1
    version = ".".join(map(str, sys.version_info[:2]))
    assert one_line_error(result) == (
        f"credit: error: credit monitor needs durable-rules, which does not import on "
        f"Python {version}; it runs on Python 3.11 and 3.12, and every other command works "
        "here")
    assert credit("validate", "rulesets/default").exit_code == 0
    assert credit("audit", "verify", "--db", log.path).exit_code == 0


def test_only_the_payment_that_clears_the_overdue_balance_closes_the_escalation(log, credit):
    # A payment that leaves part of the overdue balance does not close the escalation;
    # the one that clears it does, once.
    log.add(payment("2026-04-10", 30000, "I1"), payment("2026-04-20", 30000, "I1"))
    credit("monitor", "--as-of", "2026-03-31", "--db", log.path)
    result = credit("monitor", "--as-of", "2026-04-30", "--db", log.path, "--json")
    closes = [a for a in json.loads(result.stdout) if a["action"] == "close_escalation"]
    assert [(a["date"], a["events"]) for a in closes] == [("2026-04-20", ["E00005"])]


def test_the_worklist_as_json_after_a_run_shows_todays_step(log, credit):
    first = credit("monitor", "--as-of", "2026-03-31", "--db", log.path)
    assert first.exit_code == 0
    result = credit("monitor", "--as-of", "2026-05-02", "--db", log.path, "--worklist",
                    "--json")
    assert result.exit_code == 0, result.stderr
    [line] = json.loads(result.stdout)
    assert (line["overdue_amount"], line["step_today"]) == (60000, "on_site_visit")
