"""``credit rescore --as-of DATE``: the customers whose review is due or whose arrears moved
into a later ageing bucket since their latest decision are decided again, on that
decision's input with the account's payment behaviour put in, and recorded as ordinary
decisions (issue 16)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from engine.audit.store import AuditStore
from engine.monitor.rescore import rescore
from engine.replay import Replayer
from tests.credit_cli import invoke_credit
from tests.monitor_log import CUSTOMER, Log, dispute, invoice, payment

STDERR_NONE = "credit: 0 customers of 1 rescored as of {} (0 changed grade)\n"


@pytest.fixture
def log(tmp_path, default_ruleset):
    log = Log(tmp_path, default_ruleset)
    log.decide()  # 2025-12-31: AAA, reviewed every 365 days
    return log


def decisions(log) -> list[dict]:
    with AuditStore(log.path) as store:
        return list(store.iter_rows("SELECT seq, as_of, grade, decision_id FROM records "
                                    "WHERE kind = 'decision' ORDER BY seq"))


def test_nothing_due_decides_no_one(log):
    log.add(invoice("2026-05-01", "I1", 1000, "2026-05-31"))  # not yet due on 05-20
    result = invoke_credit("rescore", "--as-of", "2026-05-20", "--db", log.path)
    assert result.exit_code == 0, result.output
    assert result.stderr == STDERR_NONE.format("2026-05-20")
    assert len(decisions(log)) == 1


@pytest.mark.parametrize(("as_of", "due"), [("2026-12-30", False), ("2026-12-31", True)])
def test_a_review_falls_due_on_the_decisions_date_plus_its_interval(log, as_of, due):
    result = invoke_credit("rescore", "--as-of", as_of, "--db", log.path, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert bool(rows) is due
    if due:
        [row] = rows
        assert row["reasons"] == ["review due 2026-12-31"]
        assert (row["customer_id"], row["grade_before"]) == (CUSTOMER, "AAA")
        assert [d["as_of"] for d in decisions(log)] == ["2025-12-31", "2026-12-31"]
        assert decisions(log)[-1]["decision_id"] == row["decision_id"]
        # No events in the log for this customer: the history it was decided on stands.
        with AuditStore(log.path) as store:
            first, again = (store.body(store.record(str(d["seq"]))) for d in decisions(log))
        assert again["input"] == first["input"]
        assert "ageing_current" not in again["input"]["credit_history"]


def test_arrears_moving_into_a_later_bucket_rescore_with_the_accounts_behaviour(log):
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"),
            invoice("2026-01-01", "I2", 5000, "2026-01-31"), dispute("2026-02-01", "I2"))
    result = invoke_credit("rescore", "--as-of", "2026-03-15", "--db", log.path)
    assert result.exit_code == 0, result.output
    assert "arrears current -> 31-60 days" in result.stdout
    assert result.stderr.startswith("credit: 1 customer of 1 rescored as of 2026-03-15")
    new = decisions(log)[-1]
    assert new["as_of"] == "2026-03-15"
    with AuditStore(log.path) as store:
        row = store.record(str(new["seq"]))
        body = store.body(row)
        assert Replayer(store).replay(row).matched
    history = body["input"]["credit_history"]
    # I2 is disputed: in no bucket; I1 43 days past due.
    assert (history["ageing_31_60"], history["ageing_current"]) == (60000, 0)
    assert history["average_days_delinquent"] == 43.0
    assert body["enriched"]["credit_history.ageing_31_60"] == {"plugin": "monitor",
                                                               "value": 60000}
    # Again for the same date: the decision just made is current, nothing moved since.
    again = invoke_credit("rescore", "--as-of", "2026-03-15", "--db", log.path)
    assert again.exit_code == 0 and again.stderr == STDERR_NONE.format("2026-03-15")


def test_arrears_in_the_same_bucket_or_paid_are_not_news(log):
    log.add(invoice("2026-01-01", "I1", 6000, "2026-01-31"))
    with AuditStore(log.path) as store:  # through the API: it returns, never prints
        first = rescore(store, log.ruleset, dt.date(2026, 2, 10))
        assert [item.reasons for item in first.rescored] == [
            ["arrears current -> 1-30 days"]]
        assert rescore(store, log.ruleset, dt.date(2026, 3, 2)).rescored == []  # 30 days
        later = rescore(store, log.ruleset, dt.date(2026, 3, 3))  # 31 days
        assert [item.reasons for item in later.rescored] == [
            ["arrears 1-30 days -> 31-60 days"]]
    log.add(payment("2026-03-10", 6000, "I1"))
    with AuditStore(log.path) as store:
        assert rescore(store, log.ruleset, dt.date(2026, 5, 1)).rescored == []


def test_a_dry_run_appends_nothing(log):
    log.add(invoice("2026-01-01", "I1", 6000, "2026-01-31"))
    with AuditStore(log.path) as store:
        count = store.head()[0]
    result = invoke_credit("rescore", "--as-of", "2026-02-10", "--db", log.path, "--dry-run",
                           "--csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "customer_id,why,grade_before,grade_after,credit_limit_before,credit_limit_after,"
        "outcome,decision_id")
    assert result.stderr.endswith("; not recorded (dry run)\n")
    with AuditStore(log.path) as store:
        assert store.head()[0] == count


def test_usage_errors_exit_2(log):
    assert invoke_credit("rescore", "--db", log.path).exit_code == 2
    assert invoke_credit("rescore", "--as-of", "2026-13-01", "--db", log.path).exit_code == 2
