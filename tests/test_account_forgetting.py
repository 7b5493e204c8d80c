"""An account forgets what no reading can count any more (orders done, invoices settled
more than 90 days before, payment history older than two years), so that memory follows
the open items, not the whole history; every reading gives what it gave before."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from engine.monitor import account as account_module
from engine.monitor.account import HISTORY_DAYS, SETTLED_KEPT_DAYS, fold

START = dt.date(2023, 1, 2)


def event(n, type_, day, **fields):
    return {"id": f"E-{n}", "customer_id": "C-1", "type": type_,
            "occurred_at": day.isoformat(), **fields}


def history(days: int, seed: int = 7) -> list[dict]:
    """Orders delivered and invoiced, invoices paid early, late or not at all, disputes,
    credit notes and bureau alerts over ``days`` days (payments never name an invoice
    settled 90 days before: that is the one reading forgetting changes)."""
    rng = random.Random(seed)
    events: list[dict] = []
    for n, offset in enumerate(range(0, days, 3), start=1):
        day = START + dt.timedelta(days=offset)
        amount = rng.randint(100, 5000)
        events.append(event(n, "order_placed", day, order_id=f"SO-{n}", amount=amount))
        events.append(event(f"{n}d", "delivery_made", day, order_id=f"SO-{n}", amount=amount))
        events.append(event(f"{n}i", "invoice_issued", day, invoice_id=f"IN-{n}",
                            order_id=f"SO-{n}", amount=amount,
                            due_date=(day + dt.timedelta(days=30)).isoformat()))
        late = rng.choice([10, 25, 45, 80, None])
        if late is not None:
            paid = day + dt.timedelta(days=late)
            events.append(event(f"{n}p", "payment_received", paid, invoice_id=f"IN-{n}",
                                amount=amount))
        if rng.random() < 0.05:
            events.append(event(f"{n}a", "bureau_alert", day,
                                kind=rng.choice(["downgrade", "legal_event",
                                                 "payment_default"])))
        if rng.random() < 0.03:
            events.append(event(f"{n}c", "credit_note_issued", day, invoice_id=f"IN-{n}",
                                amount=50))
    return sorted(events, key=lambda e: e["occurred_at"])


def readings(account, day):
    return account.position(day), account.measures(day), account.balance()


def test_forgetting_changes_no_reading(monkeypatch):
    events = history(4 * 365)
    end = dt.date.fromisoformat(events[-1]["occurred_at"])
    forgetting = fold("C-1", events, end)
    monkeypatch.setattr(account_module, "FORGET_EVERY", dt.timedelta(days=10 ** 6))
    keeping = fold("C-1", events, end)
    assert readings(forgetting, end) == readings(keeping, end)
    cutoff = forgetting.forgot_on - dt.timedelta(days=SETTLED_KEPT_DAYS)
    assert end - forgetting.forgot_on < dt.timedelta(days=30)
    assert set(forgetting.invoices) == {
        key for key, invoice in keeping.invoices.items()
        if invoice.open_amount > 0 or (invoice.paid_on or invoice.due_date) > cutoff}
    assert len(forgetting.invoices) < len(keeping.invoices) * 0.3
    assert forgetting.orders == {} and len(keeping.orders) == 487
    assert len(forgetting.settled) < len(keeping.settled)


def test_an_order_done_is_forgotten_and_an_open_one_kept():
    day = START
    account = fold("C-1", [
        event(1, "order_placed", day, order_id="SO-1", amount=100),
        event(2, "order_placed", day, order_id="SO-2", amount=100),
        event(3, "delivery_made", day, order_id="SO-1", amount=100),
        event(4, "invoice_issued", day, invoice_id="IN-1", order_id="SO-1", amount=100,
              due_date="2023-02-01"),
        event(5, "contact_made", day + dt.timedelta(days=30), channel="phone")],
        day + dt.timedelta(days=30))
    assert set(account.orders) == {"SO-2"}


@pytest.mark.parametrize(("settled_days_before", "kept"), [
    (SETTLED_KEPT_DAYS - 1, True), (SETTLED_KEPT_DAYS, False)])
def test_a_settled_invoice_is_kept_for_90_days_exactly(settled_days_before, kept):
    paid = START
    today = paid + dt.timedelta(days=settled_days_before)
    account = fold("C-1", [
        event(1, "invoice_issued", START - dt.timedelta(days=40), invoice_id="IN-1",
              amount=100, due_date=(START - dt.timedelta(days=10)).isoformat()),
        event(2, "payment_received", paid, invoice_id="IN-1", amount=100),
        event(3, "contact_made", today, channel="phone")], today)
    assert ("IN-1" in account.invoices) is kept


def test_a_payment_naming_a_long_forgotten_invoice_goes_to_the_oldest_open_one():
    old = START
    later = old + dt.timedelta(days=SETTLED_KEPT_DAYS + 40)
    account = fold("C-1", [
        event(1, "invoice_issued", old, invoice_id="IN-1", amount=100,
              due_date=old.isoformat()),
        event(2, "payment_received", old, invoice_id="IN-1", amount=100),
        event(3, "invoice_issued", later, invoice_id="IN-2", amount=80,
              due_date=later.isoformat()),
        event(4, "payment_received", later, invoice_id="IN-1", amount=30)], later)
    assert "IN-1" not in account.invoices
    assert account.invoices["IN-2"].paid == Decimal(30)


@pytest.mark.parametrize(("days_later", "legal_events"), [
    (HISTORY_DAYS - 1, 1), (HISTORY_DAYS, 0), (3 * 365, 0)])
def test_history_is_kept_two_years_and_an_insolvency_filing_for_ever(days_later,
                                                                      legal_events):
    today = START + dt.timedelta(days=days_later)
    account = fold("C-1", [
        event(1, "bureau_alert", START, kind="insolvency_filing"),
        event(2, "bureau_alert", START, kind="legal_event"),
        event(3, "contact_made", today, channel="phone")], today)
    measures = account.measures(today)
    assert measures["insolvency_filed"] is True
    assert measures["legal_events_730"] == legal_events
    assert len(account.alerts) == 1 + legal_events
