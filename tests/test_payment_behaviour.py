"""Payment behaviour as facts: the account's ageing buckets, DSO, average days delinquent
and promise-kept ratio (Account.behaviour), put into a re-grade's facts by the monitor
and read by the default ruleset's payment-behaviour index, cap and checks (issue 16)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine.audit.store import AuditStore
from engine.monitor.account import Account, fold
from tests.monitor_log import Log, dispute, invoice, payment, promise

AS_OF = dt.date(2026, 3, 31)
BUCKETS = ("ageing_current", "ageing_1_30", "ageing_31_60", "ageing_61_90", "ageing_over_90")


def ev(kind, day, **fields):
    return {"id": f"{kind}-{day}-{fields.get('invoice_id', '')}", "customer_id": "C-1",
            "type": kind, "occurred_at": day, **fields}


def issued(invoice_id, amount, due, day="2025-11-01"):
    return ev("invoice_issued", day, invoice_id=invoice_id, amount=amount, due_date=due)


def buckets(account: Account, as_of: dt.date = AS_OF) -> dict:
    measures = account.measures(as_of)
    return {name: measures[name] for name in BUCKETS}


def test_an_empty_account_has_empty_buckets_and_no_ratios():
    measures = Account("C-1").measures(AS_OF)
    assert [measures[name] for name in BUCKETS] == [Decimal("0.00")] * 5
    assert (measures["dso_90"], measures["average_days_delinquent_365"],
            measures["promise_kept_ratio_365"]) == (None, None, None)


def test_each_bucket_at_its_edges():
    # On 03-31: due that day is current, 30 days past due is 1-30 and 31 is 31-60, 60 is
    # still 31-60 and 61 is 61-90, 90 is still 61-90 and 91 is over 90.
    events = [issued("D0", 1, "2026-03-31"), issued("D30", 2, "2026-03-01"),
              issued("D31", 4, "2026-02-28"), issued("D60", 8, "2026-01-30"),
              issued("D61", 16, "2026-01-29"), issued("D90", 32, "2025-12-31"),
              issued("D91", 64, "2025-12-30")]
    assert buckets(fold("C-1", events, AS_OF)) == {
        "ageing_current": Decimal("1.00"), "ageing_1_30": Decimal("2.00"),
        "ageing_31_60": Decimal("12.00"), "ageing_61_90": Decimal("48.00"),
        "ageing_over_90": Decimal("64.00")}


def test_an_invoice_exactly_30_days_overdue_and_one_31_days():
    thirty = fold("C-1", [issued("I1", 500, "2026-03-01")], AS_OF)
    assert buckets(thirty)["ageing_1_30"] == Decimal("500.00")
    assert buckets(thirty, AS_OF + dt.timedelta(days=1))["ageing_31_60"] == Decimal("500.00")


def test_a_disputed_invoice_is_in_no_bucket_but_in_dso():
    events = [ev("invoice_issued", "2026-03-01", invoice_id="I1", amount=3000,
                 due_date="2026-03-10"),
              ev("invoice_issued", "2026-03-01", invoice_id="I2", amount=6000,
                 due_date="2026-04-30"),
              ev("dispute_opened", "2026-03-15", invoice_id="I1", reason="quality")]
    account = fold("C-1", events, AS_OF)
    measures = account.measures(AS_OF)
    assert buckets(account) == {"ageing_current": Decimal("6000.00"),
                                **dict.fromkeys(BUCKETS[1:], Decimal("0.00"))}
    # 9,000 owed on 9,000 invoiced in 90 days: 90 days of sales. Nothing paid, and the
    # only item past due is disputed: no days delinquent to tell.
    assert (measures["dso_90"], measures["average_days_delinquent_365"]) == (90.0, None)
    assert measures["overdue_amount"] == 0  # as collections see it


def test_dso_counts_the_last_90_days_invoicing_and_partial_payments():
    events = [issued("OLD", 50000, "2025-12-01", day="2025-11-01"),  # before the 90 days
              ev("payment_received", "2025-12-01", invoice_id="OLD", amount=50000),
              ev("invoice_issued", "2026-01-01", invoice_id="I1", amount=4500,
                 due_date="2026-01-31"),
              ev("invoice_issued", "2026-03-20", invoice_id="I2", amount=4500,
                 due_date="2026-04-19"),
              ev("payment_received", "2026-02-10", invoice_id="I1", amount=1500)]
    measures = fold("C-1", events, AS_OF).measures(AS_OF)
    # Owed 3,000 + 4,500 on 9,000 invoiced in 90 days: DSO 75. Days delinquent: 50,000
    # paid on time (0) and 3,000 open 59 days past due: 177,000 / 53,000 = 3.3.
    assert (measures["dso_90"], measures["average_days_delinquent_365"]) == (75.0, 3.3)
    assert measures["ageing_over_90"] == 0 and measures["ageing_31_60"] == Decimal("3000.00")
    # Nothing invoiced in the 90 days before: no DSO (not zero, not infinite).
    later = fold("C-1", events, dt.date(2026, 7, 1)).measures(dt.date(2026, 7, 1))
    assert later["dso_90"] is None
    # 3,000 now 151 days past due and 4,500 73 days: (453,000 + 328,500) / 57,500 = 13.6.
    assert later["average_days_delinquent_365"] == 13.6


def test_days_delinquent_weigh_each_invoice_by_its_amount():
    events = [issued("A", 1000, "2026-02-01"), issued("B", 3000, "2026-02-01"),
              ev("payment_received", "2026-02-11", invoice_id="A", amount=1000),
              ev("payment_received", "2026-02-01", invoice_id="B", amount=3000)]
    measures = fold("C-1", events, AS_OF).measures(AS_OF)
    assert measures["average_days_delinquent_365"] == 2.5  # 1,000 x 10 days / 4,000
    # a year and a day after the payments, they no longer count
    year_on = dt.date(2027, 2, 12)
    assert fold("C-1", events, year_on).measures(year_on)["average_days_delinquent_365"] \
        is None


def test_promises_kept_broken_replaced_and_still_to_come():
    events = [issued("A", 1000, "2026-01-31"), issued("B", 1000, "2026-01-31"),
              issued("C", 1000, "2026-01-31"), issued("D", 1000, "2026-01-31"),
              # A: kept on its date
              ev("promise_to_pay", "2026-02-10", invoice_id="A", promised_date="2026-02-20",
                 amount=1000),
              ev("payment_received", "2026-02-20", invoice_id="A", amount=1000),
              # B: replaced before its date (does not count), the new one broken
              ev("promise_to_pay", "2026-02-10", invoice_id="B", promised_date="2026-02-20",
                 amount=1000),
              ev("promise_to_pay", "2026-02-15", invoice_id="B", promised_date="2026-03-01",
                 amount=1000),
              # C: broken, then a new promise after the first one's date (both count)
              ev("promise_to_pay", "2026-02-10", invoice_id="C", promised_date="2026-02-12",
                 amount=1000),
              ev("promise_to_pay", "2026-02-20", invoice_id="C", promised_date="2026-03-05",
                 amount=500),
              ev("payment_received", "2026-03-05", invoice_id="C", amount=500),
              # D: still to come on the reading date
              ev("promise_to_pay", "2026-03-25", invoice_id="D", promised_date="2026-04-05",
                 amount=1000)]
    account = fold("C-1", events, AS_OF)
    # Kept: A and C's second; broken: B's second and C's first; D not yet due.
    assert account.measures(AS_OF)["promise_kept_ratio_365"] == 0.5
    # A promise kept early counts at once, before its date.
    early = fold("C-1", [*events, ev("payment_received", "2026-03-30", invoice_id="D",
                                     amount=1000)], AS_OF)
    assert early.measures(AS_OF)["promise_kept_ratio_365"] == 0.6


def test_behaviour_measures_are_forgotten_with_the_year():
    events = [ev("invoice_issued", "2025-01-05", invoice_id="A", amount=100,
                 due_date="2025-02-04"),
              ev("promise_to_pay", "2025-02-10", invoice_id="A", promised_date="2025-02-20",
                 amount=100),
              ev("payment_received", "2025-02-20", invoice_id="A", amount=100),
              ev("contact_made", "2026-03-01", channel="phone", outcome="hello")]
    account = fold("C-1", events, dt.date(2026, 3, 1))
    assert account.cases.promises == {} and account.invoiced == []
    assert account.measures(dt.date(2026, 3, 1))["promise_kept_ratio_365"] is None


# -- through the monitor's re-grade and the default ruleset --------------------------------
@pytest.fixture
def log(tmp_path, default_ruleset):
    pytest.importorskip("durable.engine", reason="durable-rules does not import here")
    return Log(tmp_path, default_ruleset)


def test_a_regrade_records_the_behaviour_facts_and_the_index(log):
    log.decide()
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"),
            invoice("2026-01-01", "I2", 20000, "2026-01-31"),
            promise("2026-02-10", "I1", "2026-02-20", 60000),
            dispute("2026-02-10", "I2"),
            payment("2026-03-01", 10000, "I1"))
    report = log.monitor("2026-05-02")  # 91 days past due: the arrears re-grade the account
    regrade = next(a for a in report.actions if a["action"] == "regrade")
    assert regrade["rule"] == "M_ARREARS_OVER_90_DAYS" and regrade["date"] == "2026-05-02"
    facts = regrade["details"]["facts"]
    assert {path: facts[f"credit_history.{path}"] for path in BUCKETS} == {
        "ageing_current": 0, "ageing_1_30": 0, "ageing_31_60": 0, "ageing_61_90": 0,
        "ageing_over_90": 50000}  # I2 is disputed
    # Nothing invoiced in the 90 days before 05-02 (both invoices 01-01): no DSO.
    assert facts["credit_history.dso"] is None
    assert facts["credit_history.promise_kept_ratio"] == 0.0  # the one promise broken
    with AuditStore(log.path) as store:
        decision = store.record(regrade["details"]["decision_id"])
        body = store.body(decision)
    assert body["input"]["credit_history"]["ageing_over_90"] == 50000
    assert body["enriched"]["credit_history.promise_kept_ratio"] == {"plugin": "monitor",
                                                                    "value": 0.0}
    # The index: ageing score 0 (all over 90 days), no payment settled (counts as good),
    # no promise kept: 100 x (0 + 0.3 x 1 + 0.2 x 0) = 30, below 50: referred.
    reasons = {reason["code"] for reason in body["decision"]["admission"]["reasons"]}
    assert reasons == {"SERIOUS_ARREARS", "WEAK_PAYMENT_BEHAVIOUR"}
    assert regrade["details"]["grade_after"] == "B"  # capped on the arrears
