"""Exchange rates from the plugins (``credit_rules_exchange_rate``), for amounts in another
currency than the ruleset's: an order, or the invoices, orders, payments and liabilities
of an account. Asking is impure; what was asked and answered is a ``Rate``, which the
order check and the monitor record with what they decide, so that replaying needs no
plugin. A missing rate is a ``Rate`` whose ``rate`` is None, never 1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..errors import CreditRulesError
from .plugin_manager import PluginCallError, Plugins, installed_plugins

RATE_HOOK = "credit_rules_exchange_rate"


@dataclass(frozen=True)
class Rate:
    """What one unit of ``currency`` was worth in the ruleset's currency on ``on``, as
    the plugin ``plugin`` gave it (``rate`` None: no plugin had one)."""

    currency: str
    on: dt.date
    rate: Decimal | None
    plugin: str | None

    def to_dict(self) -> dict:
        return {"currency": self.currency,
                "rate": None if self.rate is None else format(self.rate, "f"),
                "on": self.on.isoformat(), "plugin": self.plugin}

    @classmethod
    def from_dict(cls, data: Mapping) -> Rate:
        """A rate as a record holds it (``to_dict``)."""
        return cls(data["currency"], dt.date.fromisoformat(data["on"]),
                   None if data["rate"] is None else Decimal(data["rate"]), data["plugin"])


def exchange_rate(plugins: Plugins, currency: str, to_currency: str, on: dt.date) -> Rate:
    """The first rate a plugin gives for ``currency`` -> ``to_currency`` on ``on``. A
    plugin that fails, or answers something that is not a positive number, is an error:
    an order or a monitor run must not go on with a rate it cannot trust."""
    for plugin, result in plugins.call_each(RATE_HOOK, from_currency=currency,
                                            to_currency=to_currency, on=on):
        if isinstance(result, PluginCallError):
            raise CreditRulesError(f"plugin {plugin} (exchange rate) {result}")
        if result is None:
            continue
        try:
            value = Decimal(str(result))
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value <= 0:
            raise CreditRulesError(f"plugin {plugin} gave {result!r} as the {currency} to "
                                   f"{to_currency} rate: not a positive number")
        return Rate(currency, on, value, plugin)
    return Rate(currency, on, None, None)


def exchange_rates(currencies: Iterable[str], to_currency: str, on: dt.date,
                   plugins: Plugins | None = None) -> dict[str, Rate]:
    """A rate for each of ``currencies`` other than ``to_currency``, by currency code, from
    ``plugins`` (default: the installed ones, loaded only when there is such a currency:
    most reads need none)."""
    foreign = sorted(set(currencies) - {to_currency})
    if not foreign:
        return {}
    plugins = plugins or installed_plugins()
    return {currency: exchange_rate(plugins, currency, to_currency, on)
            for currency in foreign}


def known_rates(rates: Mapping[str, Rate]) -> dict[str, Decimal]:
    """The rates that are known, as the account's conversions take them."""
    return {currency: rate.rate for currency, rate in rates.items() if rate.rate is not None}
