"""Late-payment interest and compensation (escalation.yaml's late_payment terms, the EU
late payment directive as the shipped example): Decimal, to the cent, from the day after
the due date, shown with each collections step (issue 16)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine.monitor.account import Invoice
from engine.monitor.late_payment import late_payment_charges, step_charges
from tests.monitor_log import Log, invoice

DIRECTIVE = {"reference_rate": 0.0215, "margin": 0.08, "compensation": 40, "day_count": 365}
DUE = dt.date(2026, 1, 31)


def charges(*invoices, day=dt.date(2026, 3, 2), terms=DIRECTIVE):
    return late_payment_charges(terms, invoices, day, {})


def test_thirty_days_late_at_the_reference_rate_plus_8_points_and_40_eur():
    result = charges(Invoice("I1", Decimal("10000"), DUE))
    # 10,000 x 10.15% x 30 / 365 = 83.4246... -> 83.42
    assert result == {"annual_rate": "0.1015", "day_count": 365, "invoices": [
        {"invoice_id": "I1", "open_amount": "10000.00", "days_late": 30, "interest": "83.42",
         "compensation": "40.00"}], "interest": "83.42", "compensation": "40.00",
        "total": "123.42"}


def test_nothing_on_the_due_date_and_a_days_interest_the_day_after():
    assert charges(Invoice("I1", Decimal("10000"), DUE), day=DUE) is None
    after = charges(Invoice("I1", Decimal("10000"), DUE), day=DUE + dt.timedelta(days=1))
    assert (after["interest"], after["compensation"]) == ("2.78", "40.00")  # 2.7808...


def test_what_is_paid_is_left_out_and_each_late_invoice_bears_the_compensation():
    part_paid = Invoice("I1", Decimal("10000"), DUE, paid=Decimal("4000"))
    settled = Invoice("I0", Decimal("500"), DUE, paid=Decimal("500"))
    older = Invoice("I2", Decimal("1000"), DUE - dt.timedelta(days=30))
    result = charges(part_paid, settled, older)
    assert [line["invoice_id"] for line in result["invoices"]] == ["I2", "I1"]
    # 1,000 x 10.15% x 60 / 365 = 16.68; 6,000 x 10.15% x 30 / 365 = 50.05
    assert [line["interest"] for line in result["invoices"]] == ["16.68", "50.05"]
    assert (result["interest"], result["compensation"], result["total"]) == (
        "66.73", "80.00", "146.73")


def test_half_a_cent_rounds_up_and_the_day_count_is_the_rulesets():
    terms = {"reference_rate": 0.02, "margin": 0.08, "day_count": 365}
    # 0.25 x 10% x 73 / 365 = 0.005 exactly -> 0.01; no compensation stated: none
    result = charges(Invoice("I1", Decimal("0.25"), DUE), day=DUE + dt.timedelta(days=73),
                     terms=terms)
    assert (result["interest"], result["compensation"]) == ("0.01", "0.00")
    on_360 = charges(Invoice("I1", Decimal("3600"), DUE), day=DUE + dt.timedelta(days=10),
                     terms={**terms, "day_count": 360})
    assert on_360["interest"] == "10.00"  # 3,600 x 10% x 10 / 360


def test_no_terms_no_charges():
    assert charges(Invoice("I1", Decimal("10000"), DUE), terms=None) is None


def test_a_steps_fee_is_charged_once_beside_the_late_payment_charges():
    invoices = (Invoice("I1", Decimal("10000"), DUE), Invoice("I2", Decimal("500"), DUE))
    plain = charges(*invoices)
    with_fee = step_charges(DIRECTIVE, Decimal("5"), invoices, dt.date(2026, 3, 2), {})
    assert with_fee == {**plain, "fee": "5.00",
                        "total": str(Decimal(plain["total"]) + Decimal("5.00"))}
    # without late-payment terms the fee is the whole charge
    assert step_charges(None, Decimal("7.5"), invoices, dt.date(2026, 3, 2), {}) == {
        "fee": "7.50", "total": "7.50"}


@pytest.mark.parametrize("fee", [None, Decimal("0")])
def test_no_fee_leaves_the_charges_as_they_were(fee):
    invoices = (Invoice("I1", Decimal("10000"), DUE),)
    assert step_charges(DIRECTIVE, fee, invoices, dt.date(2026, 3, 2), {}) == \
        charges(*invoices)


def test_no_fee_when_nothing_is_late_yet():
    invoices = (Invoice("I1", Decimal("10000"), DUE),)
    assert step_charges(DIRECTIVE, Decimal("5"), invoices, DUE, {}) is None
    assert step_charges(None, Decimal("5"), invoices, DUE, {}) is None


def test_the_collections_step_states_the_charges(tmp_path, default_ruleset):
    pytest.importorskip("durable.engine", reason="durable-rules does not import here")
    log = Log(tmp_path, default_ruleset)
    log.decide()
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"))
    [step] = [a for a in log.monitor("2026-02-06").actions if a["action"] == "escalate"]
    assert step["details"]["step"] == "reminder"
    # 60,000 x 10.15% x 6 / 365 = 100.1095... -> 100.11, and 40 EUR
    assert step["details"]["charges"]["total"] == "140.11"
    assert "fee" not in step["details"]["charges"]  # the shipped ladder charges none
    assert log.replays_identically()
