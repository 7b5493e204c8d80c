"""What a late payer owes beyond its invoices, by ``escalation.yaml``'s ``late_payment``
terms: interest on each invoice past due, simple, at the reference rate plus the margin a
year from the day after its due date, and a fixed compensation for the costs of recovery
per invoice paid late (the EU late payment directive, 2011/7/EU: the central bank's
reference rate plus 8 points, and 40 EUR); and a collections step's own dunning fee, once
per step, when ``escalation.yaml`` gives the step one. Money is Decimal, rounded half up
to the cent for each invoice; amounts in another currency count at the run's rates, as
the escalation's position does. Pure: the same invoices, terms and day give the same
charges.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

from .account import Invoice, in_home

CENT = Decimal("0.01")


def late_payment_charges(terms: Mapping | None, invoices: Iterable[Invoice], day: dt.date,
                         rates: Mapping[str, Decimal]) -> dict | None:
    """The charges on ``day`` for the ``invoices`` past due, on what of each is not
    disputed (wholly disputed ones are the caller's to leave out), or None when the
    ruleset states no terms or none is late."""
    if not terms:
        return None
    rate = Decimal(str(terms["reference_rate"])) + Decimal(str(terms["margin"]))
    compensation = Decimal(str(terms.get("compensation", 0))).quantize(CENT)
    day_count = int(terms.get("day_count", 365))
    lines = []
    for invoice in sorted(invoices, key=lambda i: (i.due_date, i.id)):
        days = (day - invoice.due_date).days
        if days <= 0 or invoice.undisputed <= 0:
            continue
        amount = in_home(invoice.undisputed, invoice.currency, rates)
        interest = (amount * rate * days / day_count).quantize(CENT, ROUND_HALF_UP)
        lines.append({"invoice_id": invoice.id, "open_amount": str(amount.quantize(CENT)),
                      "days_late": days, "interest": str(interest),
                      "compensation": str(compensation)})
    if not lines:
        return None
    interest = sum((Decimal(line["interest"]) for line in lines), Decimal(0))
    fixed = compensation * len(lines)
    return {"annual_rate": str(rate), "day_count": day_count, "invoices": lines,
            "interest": str(interest), "compensation": str(fixed),
            "total": str(interest + fixed)}


def step_charges(terms: Mapping | None, fee: Decimal | None, invoices: Iterable[Invoice],
                 day: dt.date, rates: Mapping[str, Decimal]) -> dict | None:
    """What a collections step on ``day`` claims beyond the invoices: the late-payment
    charges and, when the step has a dunning ``fee`` and something is late, the fee (its
    own key, and counted in ``total``); None when there is neither."""
    invoices = list(invoices)
    charges = late_payment_charges(terms, invoices, day, rates)
    if not fee or not any((day - i.due_date).days > 0 and i.undisputed > 0
                          for i in invoices):
        return charges
    fee = fee.quantize(CENT, ROUND_HALF_UP)
    before = Decimal(charges["total"]) if charges else Decimal("0.00")
    return {**(charges or {}), "fee": str(fee), "total": str(before + fee)}
