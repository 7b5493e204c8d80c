"""Disputes, promises to pay and instalment plans as cases of the account (cases.py): when
a promise is kept or broken, what a dispute holds back from collections, how cases end and
when the account forgets them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine.audit.events import event_problems
from engine.monitor.account import fold
from engine.monitor.case_list import account_cases

D = dt.date.fromisoformat


def ev(kind, day, **fields):
    ev.n += 1
    return {"id": f"E{ev.n}", "customer_id": "C-1", "type": kind, "occurred_at": day,
            **fields}


ev.n = 0
INVOICE = ev("invoice_issued", "2026-01-01", invoice_id="I-1", amount=1000,
             due_date="2026-01-31")
OLDER = ev("invoice_issued", "2025-12-01", invoice_id="I-0", amount=400,
           due_date="2025-12-31")


def promise(day, amount, promised, invoice_id="I-1", **extra):
    return ev("promise_to_pay", day, invoice_id=invoice_id, amount=amount,
              promised_date=promised, **extra)


def paid(day, amount, invoice_id=None):
    extra = {"invoice_id": invoice_id} if invoice_id else {}
    return ev("payment_received", day, amount=amount, **extra)


def plan(day, *parts, invoice_id="I-1", plan_id="PL-1"):
    extra = {"invoice_id": invoice_id} if invoice_id else {}
    return ev("instalment_plan_agreed", day, plan_id=plan_id, owner="bo",
              instalments=[{"date": d, "amount": a} for d, a in parts], **extra)


def account(*events, as_of="2026-12-31"):
    return fold("C-1", list(events), D(as_of))


def statuses(acc, as_of):
    return {row["case_id"]: row["status"] for row in account_cases(acc, D(as_of))}


# -- promises ----------------------------------------------------------------------------
@pytest.mark.parametrize(("day", "status"), [("2026-02-10", "kept"), ("2026-02-11", "broken")])
def test_a_promise_is_kept_by_a_payment_on_its_date_and_broken_by_one_a_day_later(day, status):
    made = promise("2026-02-03", 600, "2026-02-10", promise_id="P-1")
    acc = account(INVOICE, made, paid(day, 600, "I-1"))
    assert statuses(acc, "2026-03-01")["P-1"] == status


def test_no_grace_the_day_after_the_date_an_unpaid_promise_is_broken():
    acc = account(INVOICE, promise("2026-02-03", 600, "2026-02-10", promise_id="P-1"))
    assert statuses(acc, "2026-02-10")["P-1"] == "open"
    assert acc.position(D("2026-02-10"))["promise_open"] is True
    assert statuses(acc, "2026-02-11")["P-1"] == "broken"
    assert acc.position(D("2026-02-11"))["promise_broken"] is True


def test_a_partial_payment_does_not_keep_a_promise_a_cent_short_is_broken():
    acc = account(INVOICE, promise("2026-02-03", 600, "2026-02-10", promise_id="P-1"),
                  paid("2026-02-05", 300, "I-1"), paid("2026-02-10", 299.99, "I-1"))
    assert statuses(acc, "2026-02-11")["P-1"] == "broken"
    assert acc.invoices["I-1"].open_amount == Decimal("400.01")  # what was paid is paid
    assert acc.measures(D("2026-02-11"))["promise_kept_ratio_365"] == 0


def test_payments_add_up_and_one_naming_no_invoice_counts_in_full():
    # 200 to I-1, then 400 naming no invoice, which the posting puts on the older I-0:
    # the customer paid what it promised.
    acc = account(OLDER, INVOICE, promise("2026-02-03", 600, "2026-02-10", promise_id="P-1"),
                  paid("2026-02-04", 200, "I-1"), paid("2026-02-09", 400))
    assert acc.invoices["I-0"].open_amount == 0 and acc.invoices["I-1"].open_amount == 800
    assert statuses(acc, "2026-02-11")["P-1"] == "kept"


def test_a_payment_naming_another_invoice_does_not_count():
    acc = account(OLDER, INVOICE, promise("2026-02-03", 400, "2026-02-10", promise_id="P-1"),
                  paid("2026-02-09", 400, "I-0"))
    assert statuses(acc, "2026-02-11")["P-1"] == "broken"


def test_a_payment_before_the_promise_does_not_count_towards_it():
    acc = account(INVOICE, paid("2026-02-02", 600, "I-1"),
                  promise("2026-02-03", 400, "2026-02-10", promise_id="P-1"))
    assert statuses(acc, "2026-02-11")["P-1"] == "broken"


def test_a_promise_above_what_is_open_counts_as_what_is_open():
    acc = account(INVOICE, paid("2026-02-01", 700, "I-1"),
                  promise("2026-02-03", 5000, "2026-02-10", promise_id="P-1"),
                  paid("2026-02-10", 300, "I-1"))
    assert statuses(acc, "2026-02-11")["P-1"] == "kept"


def test_a_new_promise_before_the_date_replaces_the_old_one_which_counts_nowhere():
    acc = account(INVOICE, promise("2026-02-03", 600, "2026-02-10", promise_id="P-1"),
                  promise("2026-02-08", 600, "2026-02-20", promise_id="P-2"),
                  paid("2026-02-20", 600, "I-1"))
    assert statuses(acc, "2026-03-01") == {"P-1": "replaced", "P-2": "kept"}
    assert acc.measures(D("2026-03-01"))["promise_kept_ratio_365"] == 1


def test_a_promise_after_a_broken_one_leaves_the_broken_one_counted():
    acc = account(INVOICE, promise("2026-02-03", 600, "2026-02-10", promise_id="P-1"),
                  promise("2026-02-12", 600, "2026-02-20", promise_id="P-2"),
                  paid("2026-02-20", 600, "I-1"))
    assert statuses(acc, "2026-03-01") == {"P-1": "broken", "P-2": "kept"}
    assert acc.measures(D("2026-03-01"))["promise_kept_ratio_365"] == 0.5


# -- nothing left to pay -------------------------------------------------------------------
def credit_note(day, amount, credit_note_id="CN-1", invoice_id="I-1"):
    return ev("credit_note_issued", day, invoice_id=invoice_id, amount=amount,
              credit_note_id=credit_note_id)


def test_a_promise_made_when_the_invoice_was_just_paid_is_a_promise_of_nothing_kept():
    acc = account(INVOICE, paid("2026-02-10", 1000, "I-1"),
                  promise("2026-02-10", 1000, "2026-02-20", promise_id="P-1"))
    row = account_cases(acc, D("2026-03-01"))[0]
    assert (row["status"], row["amount"]) == ("kept", "0.00")
    assert row["detail"] == "0.00 paid towards 0.00; nothing left to pay on 2026-02-10"
    assert acc.measures(D("2026-03-01"))["promise_kept_ratio_365"] == 1
    assert acc.position(D("2026-03-01"))["promise_broken"] is False


@pytest.mark.parametrize("credited", [
    [credit_note("2026-02-12", 1000)],
    [ev("dispute_opened", "2026-02-12", invoice_id="I-1", dispute_id="D-1"),
     ev("dispute_resolved", "2026-02-15", dispute_id="D-1", outcome="for_customer",
        credit_note_id="CN-2")],
    [ev("dispute_opened", "2026-02-12", invoice_id="I-1", dispute_id="D-1"),
     ev("dispute_closed", "2026-02-20", invoice_id="I-1", outcome="upheld")]],
    ids=["credit note", "dispute resolved for the customer", "dispute closed upheld"])
def test_an_invoice_credited_in_full_by_the_date_keeps_its_promise(credited):
    acc = account(INVOICE, promise("2026-02-10", 1000, "2026-02-20", promise_id="P-1"),
                  *credited)
    assert statuses(acc, "2026-03-01")["P-1"] == "kept"
    assert acc.measures(D("2026-03-01"))["promise_kept_ratio_365"] == 1


def test_an_invoice_credited_after_the_date_leaves_the_promise_broken():
    acc = account(INVOICE, promise("2026-02-10", 1000, "2026-02-20", promise_id="P-1"),
                  credit_note("2026-02-21", 1000))
    assert statuses(acc, "2026-03-01")["P-1"] == "broken"


def test_credited_in_part_the_promise_is_kept_when_the_rest_is_paid_and_broken_if_not():
    made = promise("2026-02-10", 1000, "2026-02-20", promise_id="P-1")
    acc = account(INVOICE, made, credit_note("2026-02-12", 600), paid("2026-02-20", 400, "I-1"))
    assert statuses(acc, "2026-03-01")["P-1"] == "kept"
    acc = account(INVOICE, made, credit_note("2026-02-12", 600),
                  paid("2026-02-20", 399.99, "I-1"))
    assert statuses(acc, "2026-03-01")["P-1"] == "broken"


def test_a_plan_for_the_account_is_kept_once_nothing_in_its_currency_is_open():
    acc = account(INVOICE, plan("2026-02-01", ("2026-03-01", 500), ("2026-04-01", 500),
                                invoice_id=None),
                  credit_note("2026-02-15", 1000))
    assert statuses(acc, "2026-05-01")["PL-1"] == "kept"


# -- instalment plans --------------------------------------------------------------------
def test_each_instalment_is_kept_or_broken_on_its_own_and_a_late_payment_catches_up():
    acc = account(INVOICE, plan("2026-02-01", ("2026-03-01", 300), ("2026-04-01", 300),
                                ("2026-05-01", 400)),
                  paid("2026-03-01", 300, "I-1"),   # the first on its date
                  paid("2026-04-02", 300, "I-1"),   # the second a day late: broken
                  paid("2026-04-20", 400, "I-1"))   # catches up before the third's date
    parts = acc.cases.promises["PL-1"].parts
    assert [p.status(D("2026-06-01")) for p in parts] == ["kept", "broken", "kept"]
    assert acc.measures(D("2026-06-01"))["promise_kept_ratio_365"] == round(2 / 3, 4)
    assert statuses(acc, "2026-06-01")["PL-1"] == "broken"


def test_paying_ahead_keeps_later_instalments():
    acc = account(INVOICE, plan("2026-02-01", ("2026-03-01", 300), ("2026-04-01", 300)),
                  paid("2026-02-15", 600, "I-1"))
    assert statuses(acc, "2026-05-01")["PL-1"] == "kept"


def test_a_plan_with_an_instalment_broken_no_longer_holds_the_ladder():
    acc = account(INVOICE, plan("2026-02-01", ("2026-03-01", 300), ("2026-04-01", 700)))
    assert acc.position(D("2026-03-01"))["promise_open"] is True
    position = acc.position(D("2026-03-02"))
    assert (position["promise_broken"], position["promise_open"]) == (True, False)
    assert statuses(acc, "2026-03-02")["PL-1"] == "open (a part broken)"


def test_a_new_plan_replaces_only_the_instalments_to_come_a_broken_one_keeps_counting():
    acc = account(INVOICE, plan("2026-02-05", ("2026-02-20", 500), ("2026-03-20", 500)),
                  plan("2026-03-01", ("2026-04-20", 500), ("2026-05-20", 500),
                       plan_id="PL-2"))
    assert acc.measures(D("2026-02-25"))["promise_kept_ratio_365"] == 0
    assert acc.measures(D("2026-03-10"))["promise_kept_ratio_365"] == 0  # not None
    assert statuses(acc, "2026-03-10") == {"PL-1": "replaced (a part broken)",
                                           "PL-2": "open"}
    assert [p.status(D("2026-03-10")) for p in acc.cases.promises["PL-1"].parts] == [
        "broken", "replaced"]
    assert acc.position(D("2026-03-10"))["promise_open"] is True  # PL-2 holds the ladder


def test_a_plan_replaced_before_any_date_counts_nowhere():
    acc = account(INVOICE, plan("2026-02-05", ("2026-02-20", 500), ("2026-03-20", 500)),
                  plan("2026-02-20", ("2026-04-20", 1000), plan_id="PL-2"))
    assert statuses(acc, "2026-03-10")["PL-1"] == "replaced"
    assert acc.measures(D("2026-03-10"))["promise_kept_ratio_365"] is None


def test_a_plan_for_the_account_counts_every_payment_in_its_currency():
    acc = account(OLDER, INVOICE, plan("2026-02-01", ("2026-03-01", 500), invoice_id=None),
                  paid("2026-02-20", 250, "I-0"), paid("2026-02-25", 250, "I-1"),
                  paid("2026-02-26", 100, "I-1") | {"currency": "USD"})
    case = acc.cases.promises["PL-1"]
    assert case.invoice_id is None and case.counted == 500
    assert statuses(acc, "2026-03-02")["PL-1"] == "kept"


def test_the_instalments_are_checked_by_the_event_schema():
    bad = {"id": "E", "customer_id": "C", "type": "instalment_plan_agreed",
           "occurred_at": "2026-01-01", "plan_id": "PL", "instalments": []}
    assert event_problems(bad, "x") == ["x: /instalments: [] should be non-empty"]
    bad["instalments"] = [{"date": "2026-02-01"}]
    assert event_problems(bad, "x") == ["x: /instalments/0/amount: required property is missing"]


# -- disputes ----------------------------------------------------------------------------
def dispute(day, amount=None, dispute_id="D-1", invoice_id="I-1"):
    extra = {} if amount is None else {"amount": amount}
    return ev("dispute_opened", day, invoice_id=invoice_id, dispute_id=dispute_id,
              reason="short delivery", owner="ana", **extra)


def resolved(day, outcome, dispute_id="D-1", **extra):
    return ev("dispute_resolved", day, dispute_id=dispute_id, outcome=outcome, **extra)


def test_a_disputed_amount_is_not_overdue_but_stays_owed():
    acc = account(INVOICE, dispute("2026-02-02", 300))
    position = acc.position(D("2026-03-01"))
    assert position["overdue_amount"] == Decimal(700)  # the rest is overdue as before
    assert position["days_overdue"] == 29 and position["dispute_open"] is True
    assert position["balance"] == Decimal(1000)
    assert acc.measures(D("2026-03-01"))["ageing_1_30"] == Decimal("700.00")


def test_a_dispute_of_all_that_is_open_leaves_nothing_overdue():
    acc = account(INVOICE, paid("2026-01-20", 200, "I-1"), dispute("2026-02-02", 800))
    position = acc.position(D("2026-03-01"))
    assert position["overdue_amount"] == 0 and position["days_overdue"] == 0
    assert statuses(acc, "2026-03-01") == {"D-1": "open"}


def test_a_dispute_for_more_than_is_open_is_refused_and_says_why():
    acc = account(INVOICE, paid("2026-01-20", 200, "I-1"), dispute("2026-02-02", 800.01))
    row = account_cases(acc, D("2026-03-01"))[0]
    assert row["status"] == "refused"
    assert row["detail"] == ("disputes 800.01, more than the 800.00 open of invoice I-1 and "
                             "not already disputed; short delivery")
    assert acc.position(D("2026-03-01"))["overdue_amount"] == Decimal(800)  # as before


def test_a_second_dispute_may_take_only_what_the_first_left():
    acc = account(INVOICE, dispute("2026-02-02", 600),
                  dispute("2026-02-03", 400, dispute_id="D-2"),
                  dispute("2026-02-04", 0.01, dispute_id="D-3"))
    assert statuses(acc, "2026-03-01") == {"D-1": "open", "D-2": "open", "D-3": "refused"}


def test_a_dispute_of_an_invoice_the_account_does_not_hold_is_refused():
    acc = account(INVOICE, dispute("2026-02-02", 100, invoice_id="I-9"))
    assert account_cases(acc, D("2026-03-01"))[0]["detail"] == \
        "no invoice I-9 on the account; short delivery"


def test_resolved_for_the_customer_credits_the_disputed_amount():
    acc = account(INVOICE, dispute("2026-02-02", 300),
                  resolved("2026-02-20", "for_customer", credit_note_id="CN-1"))
    assert acc.invoices["I-1"].open_amount == Decimal(700)
    assert acc.position(D("2026-03-01"))["overdue_amount"] == Decimal(700)
    row = account_cases(acc, D("2026-03-01"))[0]
    assert (row["status"], row["closed_on"]) == ("resolved_for_customer", "2026-02-20")


@pytest.mark.parametrize(("outcome", "status"), [("for_us", "resolved_for_us"),
                                                 ("withdrawn", "withdrawn")])
def test_resolved_for_us_or_withdrawn_the_amount_is_overdue_again(outcome, status):
    acc = account(INVOICE, dispute("2026-02-02", 300), resolved("2026-02-20", outcome))
    assert acc.position(D("2026-03-01"))["overdue_amount"] == Decimal(1000)
    assert statuses(acc, "2026-03-01") == {"D-1": status}


def test_a_resolution_for_the_customer_names_its_credit_note():
    event = resolved("2026-02-20", "for_customer")
    assert event_problems(event, "x") == ["x: /credit_note_id: required property is missing"]


def test_a_dispute_of_a_whole_invoice_lists_what_is_open_then_what_was_when_closed():
    acc = account(INVOICE, dispute("2026-02-02"), paid("2026-02-10", 400, "I-1"))
    assert account_cases(acc, D("2026-03-01"))[0]["amount"] == "600.00"
    acc = account(INVOICE, dispute("2026-02-02"), resolved("2026-02-20", "for_us"),
                  paid("2026-02-25", 1000, "I-1"))
    assert account_cases(acc, D("2026-03-01"))[0]["amount"] == "1000.00"


def test_the_older_dispute_closed_closes_every_open_dispute_of_its_invoice():
    acc = account(INVOICE, dispute("2026-02-02", 300), dispute("2026-02-03", dispute_id="D-2"),
                  ev("dispute_closed", "2026-02-20", invoice_id="I-1", outcome="rejected"))
    assert statuses(acc, "2026-03-01") == {"D-1": "resolved_for_us", "D-2": "resolved_for_us"}
    assert acc.position(D("2026-03-01"))["overdue_amount"] == Decimal(1000)


# -- forgetting --------------------------------------------------------------------------
def _months_of_contacts(start: str, months: int) -> list[dict]:
    first = D(start)
    return [ev("contact_made", (first + dt.timedelta(days=31 * m)).isoformat(),
               channel="email") for m in range(1, months + 1)]


def test_a_closed_dispute_is_forgotten_after_90_days_an_open_one_never():
    acc = account(INVOICE, dispute("2026-02-02", 300),
                  dispute("2026-02-03", 100, dispute_id="D-2"),
                  resolved("2026-02-20", "for_us", dispute_id="D-2"),
                  *_months_of_contacts("2026-02-20", 30), as_of="2028-12-31")
    assert set(acc.cases.disputes) == {"D-1"}


def test_a_decided_promise_is_forgotten_after_a_year_an_open_one_never():
    acc = account(INVOICE, promise("2026-02-03", 600, "2026-02-10", promise_id="P-1"),
                  promise("2026-02-12", 300, "2029-01-31", promise_id="P-2"),
                  *_months_of_contacts("2026-02-12", 30), as_of="2028-12-31")
    assert set(acc.cases.promises) == {"P-2"}


# -- credit notes ------------------------------------------------------------------------
def test_a_credit_note_resolving_a_dispute_and_then_issued_credits_the_invoice_once():
    acc = account(INVOICE, dispute("2026-02-02", 300),
                  resolved("2026-02-20", "for_customer", credit_note_id="CN-1"),
                  credit_note("2026-02-21", 300))
    assert acc.invoices["I-1"].open_amount == Decimal(700)
    assert acc.unapplied == 0


def test_a_credit_note_issued_and_then_resolving_a_dispute_credits_the_invoice_once():
    acc = account(INVOICE, dispute("2026-02-02", 300), credit_note("2026-02-19", 300),
                  resolved("2026-02-20", "for_customer", credit_note_id="CN-1"))
    assert acc.invoices["I-1"].open_amount == Decimal(700)
    assert statuses(acc, "2026-03-01")["D-1"] == "resolved_for_customer"


def test_the_same_credit_note_sent_twice_counts_once_and_two_notes_count_twice():
    acc = account(INVOICE, credit_note("2026-02-10", 100), credit_note("2026-02-11", 100))
    assert acc.invoices["I-1"].open_amount == Decimal(900)
    acc = account(INVOICE, credit_note("2026-02-10", 100),
                  credit_note("2026-02-11", 100, credit_note_id="CN-2"),
                  ev("credit_note_issued", "2026-02-12", invoice_id="I-1", amount=100))
    assert acc.invoices["I-1"].open_amount == Decimal(700)  # unnamed notes always count
