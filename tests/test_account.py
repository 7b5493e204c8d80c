"""A customer's account folded from its events, and its position for escalation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine.monitor.account import fold
from engine.ruleset.escalation import next_step


def ev(kind, day, **fields):
    return {"id": f"{kind}-{day}", "customer_id": "C-1", "type": kind, "occurred_at": day,
            **fields}


INVOICES = [ev("invoice_issued", "2026-01-01", invoice_id="I-1", amount=1000,
               due_date="2026-01-31"),
            ev("invoice_issued", "2026-01-15", invoice_id="I-2", amount=500,
               due_date="2026-02-14")]


def test_payment_to_an_invoice_and_unapplied_cash_oldest_first():
    account = fold("C-1", [*INVOICES,
                           ev("payment_received", "2026-02-01", amount=200, invoice_id="I-2"),
                           ev("payment_received", "2026-02-05", amount=1100)],
                   dt.date(2026, 3, 1))
    assert account.invoices["I-1"].open_amount == 0
    assert account.invoices["I-2"].open_amount == Decimal(200)
    assert account.balance() == Decimal(200)
    assert account.late_payments == [dt.date(2026, 2, 5)]  # I-1 was due on 31 January


def test_position_days_and_amount_overdue_leave_disputes_out():
    events = [*INVOICES, ev("dispute_opened", "2026-02-02", invoice_id="I-1")]
    position = fold("C-1", events, dt.date(2026, 3, 1)).position(dt.date(2026, 3, 1), "BB")
    assert position["days_overdue"] == 15  # I-2, due 14 February; I-1 is disputed
    assert position["overdue_amount"] == Decimal(500)
    assert position["balance"] == Decimal(1500)  # disputed items are still exposure
    assert position["dispute_open"] is True and position["grade"] == "BB"


def test_an_upheld_dispute_clears_the_invoice():
    events = [*INVOICES, ev("dispute_opened", "2026-02-02", invoice_id="I-1"),
              ev("dispute_closed", "2026-02-20", invoice_id="I-1", outcome="upheld")]
    account = fold("C-1", events, dt.date(2026, 3, 1))
    assert account.balance() == Decimal(500)


@pytest.mark.parametrize(("as_of", "broken"), [("2026-02-10", False), ("2026-02-11", True)])
def test_a_promise_is_broken_the_day_after_its_date(as_of, broken):
    events = [*INVOICES, ev("promise_to_pay", "2026-02-03", invoice_id="I-1",
                            promised_date="2026-02-10", amount=1000)]
    day = dt.date.fromisoformat(as_of)
    assert fold("C-1", events, day).position(day)["promise_broken"] is broken


def test_a_kept_promise_is_not_broken():
    events = [*INVOICES, ev("promise_to_pay", "2026-02-03", invoice_id="I-1",
                            promised_date="2026-02-10", amount=1000),
              ev("payment_received", "2026-02-09", amount=1000, invoice_id="I-1")]
    assert fold("C-1", events, dt.date(2026, 3, 1)).position(
        dt.date(2026, 3, 1))["promise_broken"] is False


def test_events_after_the_date_are_not_seen():
    account = fold("C-1", [*INVOICES, ev("payment_received", "2026-03-02", amount=1500)],
                   dt.date(2026, 3, 1))
    assert account.balance() == Decimal(1500)


def test_a_customer_walked_up_the_ladder_and_back_to_current(default_ruleset):
    events = [ev("invoice_issued", "2026-01-01", invoice_id="I-1", amount=50000,
                 due_date="2026-01-31")]
    day, taken = dt.date(2026, 2, 1), []
    while day < dt.date(2026, 9, 1):
        account = fold("C-1", events, day)
        step = next_step(default_ruleset, account.position(day, "BBB")).step
        if step != "none":
            taken.append(step)
            channel = {"reminder": "reminder", "phone_call": "phone", "letter": "letter",
                       "on_site_visit": "visit", "legal_action": "legal"}[step]
            events.append(ev("contact_made", day.isoformat(), channel=channel))
        day += dt.timedelta(days=1)
    assert taken == ["reminder", "phone_call", "letter", "on_site_visit", "legal_action"]
    events.append(ev("payment_received", "2026-09-01", amount=50000, invoice_id="I-1"))
    paid = fold("C-1", events, dt.date(2026, 9, 2))
    position = paid.position(dt.date(2026, 9, 2), "BBB")
    assert position["overdue_amount"] == 0 and position["days_overdue"] == 0
    assert next_step(default_ruleset, position).step == "none"
