"""A customer's credit exposure by category (the ruleset's ``exposure.yaml``), from its
account as the event log tells it on a date. Pure given the events and the rates: the same
events, date, rates and ruleset give the same breakdown.

Items in another currency than the ruleset's are converted at the rates given (from the
plugins, asked for the day of the exposure), item by item, and each category's total is
rounded once, as the ruleset rounds amounts. Without a rate for a currency an item is in,
there is no exposure (``MissingRate``), never one counted 1:1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..audit.events import customer_events, has_records
from ..audit.store import AuditStore
from ..enrich.exchange_rates import Rate, exchange_rates, known_rates
from ..enrich.plugin_manager import Plugins
from ..errors import CreditRulesError
from ..monitor.account import Account, MissingRate, fold, in_home
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
    rates: tuple[Rate, ...] = ()  # of the other currencies its items are in

    @property
    def total(self) -> Decimal:
        return sum((line.counted for line in self.lines), ZERO)

    def to_dict(self) -> dict:
        data = {"customer_id": self.customer_id, "as_of": self.as_of.isoformat(),
                "currency": self.currency,
                "categories": [line.to_dict() for line in self.lines],
                "total": format(self.total, "f")}
        if self.rates:  # (an account all in the ruleset's currency records none)
            data["rates"] = [rate.to_dict() for rate in self.rates]
        return data


def exposure_of(account: Account, as_of: dt.date, ruleset: CompiledRuleset,
                rates: Mapping[str, Rate] | None = None) -> Exposure:
    """The exposure of an account folded up to ``as_of``, by the ruleset's categories;
    ``rates`` (by currency) convert its items in other currencies. Raises MissingRate
    when an item's currency has no known rate."""
    if not ruleset.exposure:
        raise CreditRulesError(f"ruleset {ruleset.name} {ruleset.version} defines no "
                               "exposure (stages: exposure: in ruleset.yaml)")
    rates = rates or {}
    used = sorted(account.currencies())
    for currency in used:
        if currency not in rates or rates[currency].rate is None:
            raise MissingRate(currency)
    factors = known_rates(rates)
    quantum, rounding = ruleset.rounding
    lines = []
    for category in ruleset.exposure:
        amount, items = _open_amount(account, category, as_of, factors)
        amount = amount.quantize(quantum, rounding=rounding)
        counted = (amount * category.weight).quantize(quantum, rounding=rounding)
        lines.append(ExposureLine(category, amount, counted, items))
    return Exposure(account.customer_id, as_of, ruleset.currency, tuple(lines),
                    tuple(rates[currency] for currency in used))


def _open_amount(account: Account, category: ExposureCategory, as_of: dt.date,
                 rates: Mapping[str, Decimal]) -> tuple[Decimal, int]:
    """What is open in one category (in the ruleset's currency), and in how many items."""
    name = category.name
    if name == "open_orders":
        horizon = as_of + dt.timedelta(days=category.horizon_days or 0)
        amounts = [(o.undelivered, o.currency) for o in account.orders.values()
                   if (o.delivery_date or o.placed_on) <= horizon]
    elif name == "deliveries_not_invoiced":
        amounts = [(o.uninvoiced, o.currency) for o in account.orders.values()]
    elif name == "invoices_not_posted":
        amounts = [(i.open_amount, i.currency) for i in account.unposted.values()]
    elif name == "open_receivables":
        amounts = [(i.open_amount, i.currency) for i in account.invoices.values()]
        open_items = [in_home(a, c, rates) for a, c in amounts if a > 0]
        # Unapplied cash and credit lower what is owed, never below nothing.
        return (max(sum(open_items, ZERO) - account.unapplied_total(rates), ZERO),
                len(open_items))
    else:  # special_liabilities
        amounts = [(item.amount, item.currency) for item in account.liabilities.values()]
    open_items = [in_home(a, c, rates) for a, c in amounts if a > 0]
    return sum(open_items, ZERO), len(open_items)


def missing_rate_message(currency: str, ruleset: CompiledRuleset, as_of: dt.date) -> str:
    """Why there is no exposure: a currency the account's items are in has no rate."""
    return (f"No {currency} to {ruleset.currency} exchange rate on or before "
            f"{as_of.isoformat()}: the open items in {currency} cannot be counted")


def customer_exposure(store: AuditStore, ruleset: CompiledRuleset, customer_id: str,
                      as_of: dt.date, plugins: Plugins | None = None) -> Exposure:
    """A customer's exposure on ``as_of`` from the event log in ``store``, items in other
    currencies converted at the plugins' rates for ``as_of``."""
    if not has_records(store, customer_id):
        raise CreditRulesError(f"{store.path}: no records of customer {customer_id}")
    account = fold(customer_id, customer_events(store, customer_id, as_of.isoformat()),
                   as_of, ruleset.currency)
    try:
        return exposure_of(account, as_of, ruleset,
                           exchange_rates(account.currencies(), ruleset.currency, as_of,
                                          plugins))
    except MissingRate as exc:
        raise CreditRulesError(missing_rate_message(exc.currency, ruleset, as_of)
                               + " (a rates plugin, e.g. $CREDIT_RATES_FILE, gives them)"
                               ) from None
