"""A customer's credit exposure by category (the ruleset's ``exposure.yaml``), from its
account as the event log tells it on a date. Pure given the events: the same events, date
and ruleset give the same breakdown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ..audit.events import customer_events, has_records
from ..audit.store import AuditStore
from ..errors import CreditRulesError
from ..monitor.account import Account, fold
from ..ruleset.compiler import CompiledRuleset
from ..ruleset.exposure import ExposureCategory

ZERO = Decimal(0)


@dataclass(frozen=True)
class ExposureLine:
    """One category: what is open in it, the weight it counts with, what counts (rounded
    as the ruleset rounds amounts), and how many orders, invoices or liabilities hold it."""

    category: ExposureCategory
    amount: Decimal
    counted: Decimal
    items: int

    def to_dict(self) -> dict:
        return {"category": self.category.name, "amount": format(self.amount, "f"),
                "weight": format(self.category.weight, "f"),
                "horizon_days": self.category.horizon_days,
                "counted": format(self.counted, "f"), "items": self.items}


@dataclass(frozen=True)
class Exposure:
    """A customer's exposure on a date, category by category, and in total."""

    customer_id: str
    as_of: dt.date
    currency: str
    lines: tuple[ExposureLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.counted for line in self.lines), ZERO)

    def to_dict(self) -> dict:
        return {"customer_id": self.customer_id, "as_of": self.as_of.isoformat(),
                "currency": self.currency,
                "categories": [line.to_dict() for line in self.lines],
                "total": format(self.total, "f")}


def exposure_of(account: Account, as_of: dt.date, ruleset: CompiledRuleset) -> Exposure:
    """The exposure of an account folded up to ``as_of``, by the ruleset's categories."""
    if not ruleset.exposure:
        raise CreditRulesError(f"ruleset {ruleset.name} {ruleset.version} defines no "
                               "exposure (stages: exposure: in ruleset.yaml)")
    quantum, rounding = ruleset.rounding
    lines = []
    for category in ruleset.exposure:
        amount, items = _open_amount(account, category, as_of)
        amount = amount.quantize(quantum, rounding=rounding)
        counted = (amount * category.weight).quantize(quantum, rounding=rounding)
        lines.append(ExposureLine(category, amount, counted, items))
    return Exposure(account.customer_id, as_of, ruleset.currency, tuple(lines))


def _open_amount(account: Account, category: ExposureCategory, as_of: dt.date
                 ) -> tuple[Decimal, int]:
    """What is open in one category, and in how many items."""
    name = category.name
    if name == "open_orders":
        horizon = as_of + dt.timedelta(days=category.horizon_days or 0)
        amounts = [o.undelivered for o in account.orders.values()
                   if (o.delivery_date or o.placed_on) <= horizon]
    elif name == "deliveries_not_invoiced":
        amounts = [o.uninvoiced for o in account.orders.values()]
    elif name == "invoices_not_posted":
        amounts = [i.open_amount for i in account.unposted.values()]
    elif name == "open_receivables":
        amounts = [i.open_amount for i in account.invoices.values()]
        open_items = [a for a in amounts if a > 0]
        # Unapplied cash and credit lower what is owed, never below nothing.
        return max(sum(open_items, ZERO) - account.unapplied, ZERO), len(open_items)
    else:  # special_liabilities
        amounts = list(account.liabilities.values())
    open_items = [a for a in amounts if a > 0]
    return sum(open_items, ZERO), len(open_items)


def customer_exposure(store: AuditStore, ruleset: CompiledRuleset, customer_id: str,
                      as_of: dt.date) -> Exposure:
    """A customer's exposure on ``as_of`` from the event log in ``store``."""
    if not has_records(store, customer_id):
        raise CreditRulesError(f"{store.path}: no records of customer {customer_id}")
    account = fold(customer_id, customer_events(store, customer_id, as_of.isoformat()),
                   as_of)
    return exposure_of(account, as_of, ruleset)
