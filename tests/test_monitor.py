"""The default ruleset's monitoring rules on durable_rules, each at its edge, through the real
audit file: broken promises, late payments, downgrades, orders over the limit, holds and
their release, the collections ladder, re-grades; idempotent and deterministic runs."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from engine.audit.store import AuditStore
from engine.decide.pipeline import decide
from engine.replay import Replayer
from engine.ruleset.loader import load_ruleset
from tests.audit_helpers import copy_ruleset
from tests.monitor_log import (
    Log,
    alert,
    contact,
    days_after,
    dispute,
    invoice,
    order,
    payment,
    promise,
)
from tests.sample_customers import strong_customer

pytest.importorskip("durable.engine", reason="durable-rules does not import here")


@pytest.fixture
def log(tmp_path, default_ruleset):
    return Log(tmp_path, default_ruleset)


# -- broken promises -----------------------------------------------------------------------
PROMISED = "2026-03-10"


def _promised(log, *payments):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 8000, "2026-01-31"),
            promise("2026-02-20", "I1", PROMISED, 5000), *payments)


def test_a_promise_is_not_broken_on_its_date(log):
    _promised(log)
    assert log.actions(log.monitor(PROMISED), "notify") == []


def test_a_promise_is_broken_the_day_after_its_date(log):
    _promised(log)
    report = log.monitor(days_after(PROMISED, 1))
    assert ("2026-03-11", "M_BROKEN_PROMISE", "notify") in log.actions(report)
    escalation = [a for a in report.actions if a["rule"] == "M_BROKEN_PROMISE"
                  and a["action"] == "escalate"]
    # 39 days overdue with a broken promise: the table's letter, climbed one step at a time.
    assert escalation[0]["details"]["proposed"] == "letter"
    assert escalation[0]["details"]["position"]["promise_broken"] is True
    assert escalation[0]["events"] == ["E00001", "E00002"]  # the invoice and the promise


def test_the_promised_amount_paid_on_the_date_keeps_the_promise(log):
    _promised(log, payment(PROMISED, 5000, "I1"))
    assert not [a for a in log.monitor("2026-04-30").actions
                if a["rule"] == "M_BROKEN_PROMISE"]


def test_a_cent_less_than_promised_breaks_it(log):
    _promised(log, payment(PROMISED, 4999.99, "I1"))
    assert ("2026-03-11", "M_BROKEN_PROMISE", "notify") in log.actions(
        log.monitor("2026-04-30"))


def test_paying_a_day_late_breaks_the_promise(log):
    _promised(log, payment(days_after(PROMISED, 1), 5000, "I1"))
    assert ("2026-03-11", "M_BROKEN_PROMISE", "notify") in log.actions(
        log.monitor("2026-04-30"))


def test_a_payment_to_another_invoice_does_not_keep_the_promise(log):
    _promised(log, invoice("2026-01-05", "I2", 5000, "2026-02-05"),
              payment("2026-03-01", 5000, "I2"))
    assert ("2026-03-11", "M_BROKEN_PROMISE", "notify") in log.actions(
        log.monitor("2026-04-30"))


# -- late payments -------------------------------------------------------------------------
def _late_payments(log, *paid_on, due: str = "2025-12-20"):
    """One invoice due ``due`` per date, each paid on that date."""
    log.decide()
    for index, day in enumerate(paid_on):
        log.add(invoice("2025-12-01", f"L{index}", 1000, due),
                payment(day, 1000, f"L{index}"))


@pytest.mark.parametrize(("third", "fires"), [("2026-07-01", True), ("2026-07-02", False)])
def test_third_late_payment_within_180_days(log, third, fires):
    # 2026-01-02 + 180 days = 2026-07-01: the window's last day.
    _late_payments(log, "2026-01-02", "2026-03-01", third)
    rules = {a["rule"] for a in log.monitor("2026-08-01").actions}
    assert ("M_THIRD_LATE_PAYMENT" in rules) is fires


def test_a_chronic_late_payer_is_regraded_at_most_once_in_90_days(log):
    every_20_days = [(dt.date(2026, 1, 2) + dt.timedelta(days=20 * k)).isoformat()
                     for k in range(14)]
    _late_payments(log, *every_20_days)
    # (The invoices still open are over 90 days past due from 2026-03-21: the arrears rule
    # holds and notifies too, on a day of its own.)
    fired = [a["date"] for a in log.monitor("2026-10-31").actions
             if a["action"] == "notify" and a["rule"] == "M_THIRD_LATE_PAYMENT"]
    # The third on 02-11; then not before 05-12 (90 days on): 05-22; then 08-30.
    assert fired == ["2026-02-11", "2026-05-22", "2026-08-30"]


@pytest.mark.parametrize(("third", "fires"), [("2026-01-25", False), ("2026-01-26", True)])
def test_payments_within_the_grace_days_are_not_late_payments(log, third, fires):
    # Due 2026-01-20: paid on 01-25 is 5 days late (within grace), on 01-26 six.
    _late_payments(log, "2026-01-21", "2026-01-22", due="2026-01-10")
    log.add(invoice("2025-12-01", "L9", 1000, "2026-01-20"), payment(third, 1000, "L9"))
    rules = {a["rule"] for a in log.monitor("2026-02-28").actions}
    assert ("M_THIRD_LATE_PAYMENT" in rules) is fires


def test_two_late_payments_are_not_enough(log):
    _late_payments(log, "2026-01-02", "2026-01-03")
    assert log.monitor("2026-08-01").actions == []


def test_a_third_late_payment_regrades_on_the_account(log):
    _late_payments(log, "2026-01-02", "2026-01-20", "2026-02-01")
    report = log.monitor("2026-02-28")
    regrade = next(a for a in report.actions if a["action"] == "regrade")
    assert regrade["date"] == "2026-02-01"
    assert regrade["details"]["status"] == "done"
    assert regrade["details"]["facts"]["credit_history.overdue_count_12m"] == 3
    assert regrade["details"]["facts"]["credit_history.max_days_overdue_12m"] == 43
    assert report.decisions == 1
    with AuditStore(log.path) as store:
        decision = store.record(regrade["details"]["decision_id"])
        assert decision["kind"] == "decision" and decision["as_of"] == "2026-02-01"
        enriched = store.body(decision)["enriched"]
        assert enriched["credit_history.overdue_count_12m"] == {"plugin": "monitor",
                                                                "value": 3}
        assert Replayer(store).replay(decision).matched


def test_a_regrade_without_a_decision_on_record_is_skipped_and_says_why(log):
    for index, day in enumerate(("2026-01-02", "2026-01-20", "2026-02-01")):
        log.add(invoice("2025-12-01", f"L{index}", 1000, "2025-12-20"),
                payment(day, 1000, f"L{index}"))
    regrade = [a for a in log.monitor("2026-02-28").actions if a["action"] == "regrade"]
    assert regrade[0]["details"] == {
        "status": "skipped", "reason": "no decision on record before 2026-02-01 to re-grade"}


# -- bureau downgrades ---------------------------------------------------------------------
@pytest.mark.parametrize(("second", "fires"), [("2026-04-01", True), ("2026-04-02", False)])
def test_second_downgrade_within_90_days(log, second, fires):
    log.decide()
    log.add(alert("2026-01-01", "downgrade"), alert(second, "downgrade"))
    rules = {a["rule"] for a in log.monitor("2026-05-01").actions}
    assert ("M_SECOND_DOWNGRADE" in rules) is fires


def test_an_upgrade_between_is_not_a_second_downgrade(log):
    log.decide()
    log.add(alert("2026-01-01", "downgrade"), alert("2026-01-15", "upgrade"))
    assert log.monitor("2026-05-01").actions == []


# -- orders over the limit, holds and their release ----------------------------------------
def test_an_order_exactly_at_the_limit_is_not_held(log):
    limit = log.decide()
    log.add(invoice("2026-01-01", "I1", 100000, "2026-03-01"),
            order("2026-01-10", float(limit - 100000)))
    assert log.monitor("2026-01-31").actions == []


def test_an_order_a_cent_above_the_limit_puts_the_account_on_hold(log):
    limit = log.decide()
    log.add(invoice("2026-01-01", "I1", 100000, "2026-03-01"),
            order("2026-01-10", float(limit - 100000 + Decimal("0.01"))),
            order("2026-01-11", 500000))
    report = log.monitor("2026-01-31")
    assert log.actions(report) == [("2026-01-10", "M_ORDER_OVER_LIMIT", "hold"),
                                   ("2026-01-10", "M_ORDER_OVER_LIMIT", "notify")]
    assert report.actions[0]["details"]["credit_limit"] == int(limit)


def test_no_decision_on_record_means_no_limit_to_exceed(log):
    log.add(order("2026-01-10", 10_000_000))
    assert log.monitor("2026-01-31").actions == []


def test_a_decision_governs_from_the_day_after_its_date(log):
    log.decide(as_of="2026-01-10")
    log.add(order("2026-01-10", 10_000_000), order("2026-01-11", 10_000_000))
    assert [a["date"] for a in log.monitor("2026-01-31").actions] == ["2026-01-11"] * 2


def _held(log):
    """Receivables 500 under the limit, then an order of 1,000: on hold."""
    limit = log.decide()
    log.add(invoice("2026-01-01", "I1", float(limit - 500), "2026-03-01"),
            order("2026-01-10", 1000))
    return limit


def test_a_payment_making_room_for_the_held_order_releases_the_hold(log):
    _held(log)
    # The first payment leaves room for 999.99 under the limit; the second, for the 1,000.
    log.add(payment("2026-01-20", 499.99, "I1"), payment("2026-01-25", 0.01, "I1"))
    report = log.monitor("2026-01-31")
    assert log.actions(report)[0] == ("2026-01-10", "M_ORDER_OVER_LIMIT", "hold")
    assert report.actions[0]["details"]["amount"] == 1000
    assert log.actions(report, "release") == [("2026-01-25", "M_HOLD_RELEASED", "release")]
    assert report.actions[-1]["details"] == {"released": [{
        "hold": "#hold:M_ORDER_OVER_LIMIT:T-STRONG:E00002", "reason": "M_ORDER_OVER_LIMIT",
        "since": "2026-01-10"}]}


def test_a_payment_that_leaves_something_overdue_does_not_release(log):
    _held(log)
    log.add(invoice("2026-01-02", "I2", 500, "2026-01-15"), payment("2026-01-20", 5000, "I1"))
    assert "release" not in {a["action"] for a in log.monitor("2026-01-31").actions}


def limit_of(ruleset) -> Decimal:
    """The credit limit the default ruleset gives the strong customer."""
    return decide(ruleset, strong_customer(), dt.date(2025, 12, 31)).credit_limit


def test_a_hold_for_an_insolvency_filing_is_not_released_by_a_payment(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 1000, "2026-02-01"),
            alert("2026-01-05", "insolvency_filing"), payment("2026-01-20", 1000, "I1"))
    report = log.monitor("2026-01-31")
    assert {(a["rule"], a["action"]) for a in report.actions} == {
        ("M_INSOLVENCY_FILING", "hold"), ("M_INSOLVENCY_FILING", "regrade"),
        ("M_INSOLVENCY_FILING", "notify")}
    regrade = next(a for a in report.actions if a["action"] == "regrade")["details"]
    assert regrade["facts"]["flags.insolvency_proceedings"] is True
    assert regrade["outcome"] == "reject"


# -- the collections ladder ----------------------------------------------------------------
# An AAA customer: a phone call rather than a letter up to 60 days overdue, the letter from
# 61 days (2026-04-02), a visit from 91, legal action from 121.
LADDER_RUNS = [("2026-02-05", None), ("2026-02-06", "reminder"), ("2026-02-13", None),
               ("2026-02-22", "phone_call"), ("2026-03-18", None), ("2026-04-02", "letter"),
               ("2026-05-01", None), ("2026-05-02", "on_site_visit"),
               ("2026-06-01", "legal_action")]


def test_a_customer_walks_the_whole_ladder_and_back_to_current(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"))
    for run_date, step in LADDER_RUNS:
        report = log.monitor(run_date)
        steps = [a["details"]["step"] for a in report.actions if a["action"] == "escalate"]
        assert steps == ([step] if step else []), run_date
        assert report.worklist[0]["step_today"] == step
    log.add(payment("2026-06-10", 60000, "I1"))
    report = log.monitor("2026-06-15")
    # The payment clears the arrears: their hold (from 91 days past due) is released too.
    assert log.actions(report) == [("2026-06-10", "M_ARREARS_CLEARED", "release"),
                                   ("2026-06-10", "M_OVERDUE_CLEARED", "close_escalation")]
    assert report.actions[1]["details"] == {"closed_step": "legal_action",
                                            "step_date": "2026-06-01"}
    assert report.worklist == []
    # A new overdue invoice starts the ladder again from the reminder.
    log.add(invoice("2026-06-20", "I2", 60000, "2026-07-01"))
    report = log.monitor("2026-07-10")
    assert [a["details"]["step"] for a in report.actions] == ["reminder"]


# By segment: the same invoice for a public body (a call after 20 days, the letter after
# 45, no visit, legal action after 180) and a small business (the letter after 30, legal
# action after 90, no visit).
PUBLIC_RUNS = [("2026-02-06", "reminder"), ("2026-02-22", "phone_call"),
               ("2026-03-17", None), ("2026-03-18", "letter"), ("2026-05-02", None),
               ("2026-06-01", None), ("2026-07-30", None), ("2026-07-31", "legal_action")]
SMALL_RUNS = [("2026-02-06", "reminder"), ("2026-02-22", "phone_call"),
              ("2026-03-02", None), ("2026-03-03", "letter"), ("2026-05-01", None),
              ("2026-05-02", "legal_action")]


@pytest.mark.parametrize(("segment", "runs"), [("public_sector", PUBLIC_RUNS),
                                               ("small_business", SMALL_RUNS)])
def test_the_segment_of_the_decision_in_force_chooses_the_ladder(log, segment, runs):
    log.decide(segment=segment)
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"))
    for run_date, step in runs:
        report = log.monitor(run_date)
        taken = [a["details"] for a in report.actions if a["action"] == "escalate"]
        assert [d["step"] for d in taken] == ([step] if step else []), run_date
        assert all(d["position"]["segment"] == segment for d in taken)
    assert log.replays_identically()


def test_a_regrade_keeps_the_segment_of_the_decision_it_replaces(log):
    """In force from the day after it in the run that makes it, and read back from the
    trail in later runs."""
    log.decide(segment="public_sector")
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"))
    for run_date, _ in PUBLIC_RUNS[:4]:  # the letter on 03-18
        log.monitor(run_date)
    log.add(alert("2026-04-10", "insolvency_filing"))
    # Graded again on 04-10 in the run of 05-02 (91 days past due), and again that day for
    # the arrears. CCC and no segment would go to legal action after 90 days; a public
    # body waits for 180.
    for run_date in ("2026-05-02", "2026-06-01"):
        report = log.monitor(run_date)
        assert [a for a in report.actions if a["action"] == "escalate"] == [], run_date
    with AuditStore(log.path) as store:
        regrades = [(row["grade"], store.body(store.record(str(row["seq"])))["input"])
                    for row in store.iter_rows("SELECT seq, grade FROM records WHERE "
                                               "kind = 'decision' ORDER BY seq")][1:]
    assert [(grade, given["segment"]) for grade, given in regrades] == [
        ("CCC", "public_sector"), ("CCC", "public_sector")]


def test_a_position_without_a_segment_records_none(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"))
    [step] = [a for a in log.monitor("2026-02-06").actions if a["action"] == "escalate"]
    assert "segment" not in step["details"]["position"]  # the bytes of before segments


def test_a_small_overdue_amount_falls_back_to_a_milder_step(log):
    log.decide()
    # 130 days overdue, but 600 overdue is below the letter's 1,000: phone call at most.
    log.add(invoice("2026-01-01", "I1", 600, "2026-01-31"),
            contact("2026-03-01", "phone"))
    report = log.monitor("2026-06-10")
    assert [a["action"] for a in report.actions] == []
    line = report.worklist[0]
    assert (line["days_overdue"], line["last_step"], line["step_today"]) == (
        130, "phone_call", None)


def test_disputed_items_are_not_escalated_but_stay_exposure(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"), dispute("2026-02-01", "I1"))
    report = log.monitor("2026-03-31")
    assert report.actions == [] and report.overdue_accounts == 0
    # On the worklist for its open dispute alone: nothing overdue, all of it still owed.
    [line] = report.worklist
    assert (line["overdue_amount"], line["balance"], line["dispute_open"]) == (0, 60000, True)
    assert [(case["kind"], case["status"]) for case in line["cases"]] == [("dispute", "open")]


def test_no_rule_matched_is_a_normal_outcome(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 1000, "2026-01-31"), order("2026-01-02", 10))
    report = log.monitor("2026-01-20")
    assert (report.actions, report.already_taken, report.customers, report.events) == (
        [], 0, 1, 2)


# -- runs: idempotent, deterministic, replayable -------------------------------------------
def _busy(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"),
            promise("2026-02-10", "I1", "2026-02-20", 60000),
            alert("2026-02-01", "downgrade"), alert("2026-03-01", "downgrade"),
            order("2026-03-02", 1_900_000))


def test_running_twice_for_a_date_takes_no_action_twice(log):
    _busy(log)
    first = log.monitor("2026-03-31")
    assert first.taken >= 5
    with AuditStore(log.path) as store:
        count = store.head()[0]
    second = log.monitor("2026-03-31")
    assert second.actions == [] and second.already_taken == first.taken
    with AuditStore(log.path) as store:  # only the second run's own record
        assert [row["kind"] for row in store.iter_rows(
            "SELECT kind FROM records WHERE seq > ?", [count])] == ["monitor-run"]
        runs = [json.loads(row["body"]) for row in store.iter_rows(
            "SELECT body FROM records WHERE kind = 'monitor-run' ORDER BY seq")]
    assert [(r["as_of"], sum(r["actions"].values()), r["already_taken"]) for r in runs] == [
        ("2026-03-31", first.taken, 0), ("2026-03-31", 0, first.taken)]


def _with_new_rule(tmp_path, ruleset_folder_name: str = "changed"):
    """The default ruleset with one more rule: any order over 1,000,000 notifies."""
    folder = copy_ruleset(tmp_path, ruleset_folder_name)
    with (folder / "monitoring.yaml").open("a", encoding="utf-8") as handle:
        handle.write("\n  - id: M_LARGE_ORDER\n    match:\n      - {as: order, signal: "
                     "order_placed, when: \"amount > 1000000\"}\n    actions: [notify]\n")
    return load_ruleset(folder)


def test_a_changed_ruleset_does_not_take_actions_dated_before_the_last_run(log, tmp_path):
    _busy(log)  # an order of 1,900,000 on 03-02
    log.monitor("2026-03-31")
    log.ruleset = _with_new_rule(tmp_path)
    again = log.monitor("2026-05-02")  # 91 days overdue: the next step after the letter
    # (and arrears past 90 days hold and re-grade the account: news on the run date)
    assert [a["rule"] for a in again.actions] == [
        "M_ARREARS_OVER_90_DAYS", "M_ARREARS_OVER_90_DAYS", "M_ARREARS_OVER_90_DAYS",
        "M_COLLECTIONS_RUN"]
    assert again.held_back == 1
    # An order ingested after the last run, even dated before it, is news.
    log.add(order("2026-03-15", 2_000_000))
    later = log.monitor("2026-05-31")
    assert [(a["date"], a["rule"]) for a in later.actions if a["action"] == "notify"] == [
        ("2026-03-15", "M_LARGE_ORDER")]


def test_a_later_run_takes_only_what_is_new(log):
    _busy(log)
    log.monitor("2026-03-31")
    later = log.monitor("2026-05-02")  # 91 days overdue: the next step after the letter
    # (and the arrears, past 90 days, hold, re-grade and notify)
    assert [(a["date"], a["action"]) for a in later.actions] == [
        ("2026-05-02", "hold"), ("2026-05-02", "regrade"), ("2026-05-02", "notify"),
        ("2026-05-02", "escalate")]


def test_two_runs_on_the_same_log_give_the_same_bytes(tmp_path, default_ruleset):
    bodies = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        log = Log(tmp_path / name, default_ruleset)
        _busy(log)
        log.monitor("2026-03-31")
        with AuditStore(log.path) as store:
            bodies.append([row["body"] for row in store.iter_rows(
                "SELECT body FROM records WHERE kind = 'action' ORDER BY seq")])
    assert bodies[0] == bodies[1] and bodies[0]


def test_every_action_replays_identically_and_a_dry_run_records_nothing(log):
    _busy(log)
    dry = log.monitor("2026-03-31", record=False)
    with AuditStore(log.path) as store:
        assert list(store.iter_rows("SELECT seq FROM records WHERE kind = 'action'")) == []
    report = log.monitor("2026-03-31")
    assert report.actions == dry.actions
    with AuditStore(log.path) as store:
        replayer = Replayer(store)
        rows = list(store.iter_rows("SELECT * FROM records WHERE kind = 'action'"))
        assert len(rows) == report.taken
        assert all(replayer.replay(row).matched for row in rows)


def test_replay_tells_when_the_monitor_would_act_differently(log):
    _busy(log)
    log.monitor("2026-03-31")
    with AuditStore(log.path) as store:
        row = next(store.iter_rows("SELECT * FROM records WHERE kind = 'action' AND "
                                   "outcome = 'hold'"))
        body = json.loads(row["body"])
        body["details"]["credit_limit"] = 1
        row["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"))
        differences = Replayer(store).replay(row).differences
    assert differences == ["details.credit_limit: recorded 1, replayed 1800000"]


def test_a_regrade_records_the_challenger_beside_it(tmp_path):
    from test_challenger import make_champion

    champion = load_ruleset(make_champion(tmp_path, share=1.0))
    log = Log(tmp_path, champion)
    _late_payments(log, "2026-01-02", "2026-01-20", "2026-02-01")
    regrade = next(a for a in log.monitor("2026-02-28").actions if a["action"] == "regrade")
    with AuditStore(log.path) as store:
        decision = store.record(regrade["details"]["decision_id"])
        part = store.body(decision)["challenger"]
        assert part["ruleset"]["name"] == "challenger-example" and part["share"] == 1.0
        assert Replayer(store).replay(decision).matched


# -- history: recorded actions, late events, holds for several reasons ---------------------
def _reminded_then_paid(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 5000, "2026-01-31"),
            invoice("2026-01-01", "I2", 3000, "2026-03-15"),
            contact("2026-02-20", "reminder"), payment("2026-03-10", 5000, "I1"),
            contact("2026-03-10", "phone"))


def test_an_account_reads_the_same_whatever_dates_were_run_before(tmp_path, default_ruleset):
    logs = []
    for name, dates in (("once", ["2026-05-16"]), ("twice", ["2026-03-10", "2026-05-16"])):
        (tmp_path / name).mkdir()
        log = Log(tmp_path / name, default_ruleset)
        _reminded_then_paid(log)
        for day in dates:
            report = log.monitor(day)
        logs.append(log)
        steps = [a["details"]["step"] for a in report.actions if a["action"] == "escalate"]
        # After the phone call on 03-10, for I2 (due 03-15): the letter once it is more than
        # 60 days overdue, as an AAA customer gets a phone call rather than a letter before.
        assert steps == ["letter"], name
        assert log.replays_identically()


def test_event_ids_like_the_monitors_own_do_not_collide(log):
    log.decide()
    log.add({**payment("2026-02-20", 100, "I1"), "id": "P2/I1"},
            {**alert("2026-02-21", "upgrade"), "id": "clock/2026-02-20"},
            {**invoice("2026-01-01", "I1", 1000, "2026-01-31"), "id": "run/2026-03-31"})
    assert log.monitor("2026-03-31").customers == 1


def test_an_insolvency_filing_holds_an_account_already_held_over_its_limit(log):
    _held(log)  # over the limit on 01-10
    log.add(alert("2026-01-12", "insolvency_filing"), payment("2026-01-12", 5000, "I1"),
            order("2026-01-20", 10_000_000))  # the insolvency hold is still on: no new one
    report = log.monitor("2026-01-31")
    assert [a for a in log.actions(report) if a[2] in ("hold", "release")] == [
        ("2026-01-10", "M_ORDER_OVER_LIMIT", "hold"),
        ("2026-01-12", "M_INSOLVENCY_FILING", "hold"),
        ("2026-01-12", "M_HOLD_RELEASED", "release")]
    assert next(a for a in report.actions if a["action"] == "release")["details"] == {
        "released": [{"hold": "#hold:M_ORDER_OVER_LIMIT:T-STRONG:E00002",
                      "reason": "M_ORDER_OVER_LIMIT", "since": "2026-01-10"}]}


def test_a_recorded_hold_stands_when_a_late_event_changes_the_past(log):
    limit = _held(log)
    first = log.monitor("2026-01-31")
    assert log.actions(first, "hold") == [("2026-01-10", "M_ORDER_OVER_LIMIT", "hold")]
    # A payment dated before the order arrives late: re-derived, nothing would be held.
    log.add(payment("2026-01-05", float(limit) / 2, "I1"), order("2026-02-10", 10_000_000),
            invoice("2026-02-01", "I3", 10, "2026-02-05"))
    later = log.monitor("2026-02-28")
    assert log.actions(later, "hold") == []  # still held: no second hold
    assert later.worklist[0]["on_hold"] is True


def test_a_partial_promise_kept_is_not_a_broken_promise_for_the_ladder(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 10000, "2026-01-31"), contact("2026-02-10", "phone"),
            promise("2026-02-12", "I1", "2026-02-20", 5000), payment("2026-02-20", 5000, "I1"))
    report = log.monitor("2026-03-05")
    assert [a["action"] for a in report.actions] == []  # the table's phone call: taken
    assert report.worklist[0]["promise_broken"] is False


def test_a_promise_still_to_come_holds_the_ladder(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 10000, "2026-01-31"),
            promise("2026-02-10", "I1", "2026-03-20", 10000))
    assert log.monitor("2026-03-05").actions == []
    # On 03-21 the promise is broken: the letter it brings forward, where the account enters
    # the ladder (climb: fitting).
    assert [a["details"]["step"] for a in log.monitor("2026-03-21").actions
            if a["action"] == "escalate"] == ["letter"]


def test_a_dispute_clearing_the_overdue_balance_closes_the_escalation(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 6000, "2026-01-31"), contact("2026-02-10", "letter"),
            dispute("2026-02-20", "I1"))
    report = log.monitor("2026-02-28")
    assert log.actions(report) == [("2026-02-20", "M_OVERDUE_CLEARED", "close_escalation")]
    assert report.actions[0]["matched"]["cleared"]["by"] == "dispute_opened"


def test_a_hold_without_an_amount_is_never_released_by_a_payment(tmp_path):
    folder = copy_ruleset(tmp_path)
    manifest = folder / "monitoring.yaml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("    once_per: second\n    actions: [regrade, notify]",
                                     "    once_per: second\n    actions: [hold, notify]"),
                        encoding="utf-8")
    log = Log(tmp_path, load_ruleset(folder))
    log.decide()
    log.add(invoice("2026-01-01", "I1", 1000, "2026-03-01"),
            alert("2026-01-05", "downgrade"), alert("2026-01-06", "downgrade"),
            payment("2026-01-20", 1000, "I1"))
    report = log.monitor("2026-01-31")  # durable_rules would stop on hold.amount missing
    assert [a["action"] for a in report.actions] == ["hold", "notify"]


# -- second review: holds and releases through late events, held back news -----------------
def test_a_late_earlier_order_adds_a_hold_and_each_release_lifts_its_own(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 1_000_000, "2026-03-01"), order("2026-01-10", 900_000))
    assert log.actions(log.monitor("2026-01-31"), "hold") == [
        ("2026-01-10", "M_ORDER_OVER_LIMIT", "hold")]
    log.add(order("2026-01-05", 900_000), payment("2026-02-15", 500_000, "I1"),
            payment("2026-02-20", 100, "I1"))
    report = log.monitor("2026-02-28")
    assert [a for a in log.actions(report) if a[2] in ("hold", "release")] == [
        ("2026-01-05", "M_ORDER_OVER_LIMIT", "hold"),
        ("2026-02-15", "M_HOLD_RELEASED", "release"),
        ("2026-02-15", "M_HOLD_RELEASED", "release")]  # each hold, once
    assert log.replays_identically()
    again = log.monitor("2026-03-31")
    assert log.actions(again, "release") == [] and not any(
        line["on_hold"] for line in again.worklist)


def test_a_late_earlier_payment_does_not_release_a_hold_twice(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 1_000_000, "2026-01-20"), order("2026-01-10", 900_000),
            payment("2026-02-10", 1_000_000, "I1"))
    assert log.actions(log.monitor("2026-02-28"), "release") == [
        ("2026-02-10", "M_HOLD_RELEASED", "release")]
    log.add(payment("2026-01-15", 999_900, "I1"))
    assert log.actions(log.monitor("2026-03-31"), "release") == []
    assert log.replays_identically()


def test_a_late_event_is_news_for_changed_rules_even_when_no_rule_binds_it(log, tmp_path):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 1_000_000, "2026-03-01"), order("2026-01-10", 700_000))
    log.monitor("2026-01-31")
    log.ruleset = _with_new_rule(tmp_path)  # other rules from now on
    log.monitor("2026-02-28")
    # An invoice dated before the order arrives: the order was over the limit after all.
    log.add(invoice("2026-01-05", "I2", 200_000, "2026-03-05"))
    report = log.monitor("2026-03-31")
    assert log.actions(report, "hold") == [("2026-01-10", "M_ORDER_OVER_LIMIT", "hold")]
    assert report.held_back == 0
