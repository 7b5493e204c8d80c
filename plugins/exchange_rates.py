"""Built-in plugin ``exchange_rates``: exchange rates read from a file, for orders in
another currency than the ruleset's.

``$CREDIT_RATES_FILE`` names a CSV file with the columns ``date``, ``from``, ``to`` and
``rate`` (what one unit of ``from`` is worth in ``to`` on ``date``, decimal text), as a
treasury or central bank publishes them. The rate for a day is the latest published on or
before it; a pair given only the other way round is inverted (1 / rate, to 10 significant
digits). Without the file, or without a rate for the pair on or before the day, the
plugin has none, and the order check says so.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import functools
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path

from engine.enrich.hookspecs import hookimpl
from engine.enrich.settings import setting

INVERSE = Context(prec=10)


@functools.lru_cache(maxsize=4)
def _rates(path: str, mtime: float) -> dict[tuple[str, str], list[tuple[dt.date, Decimal]]]:
    """(from, to) -> [(date, rate)] sorted by date, from the file at ``path``."""
    table: dict[tuple[str, str], list[tuple[dt.date, Decimal]]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                day = dt.date.fromisoformat(row["date"])
                rate = Decimal(row["rate"])
                pair = (row["from"].strip().upper(), row["to"].strip().upper())
            except (KeyError, TypeError, ValueError, InvalidOperation):
                raise ValueError(f"{path}:{number}: a rate needs date (YYYY-MM-DD), from, to "
                                 "and a decimal rate") from None
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"{path}:{number}: the rate must be a positive number")
            table.setdefault(pair, []).append((day, rate))
    for rates in table.values():
        rates.sort()
    return table


def _on_or_before(rates: list[tuple[dt.date, Decimal]], on: dt.date) -> Decimal | None:
    index = bisect.bisect_right(rates, (on, Decimal("Infinity")))
    return rates[index - 1][1] if index else None


@hookimpl
def credit_rules_exchange_rate(from_currency: str, to_currency: str, on: dt.date
                               ) -> str | None:
    """The file's rate for the pair on or before ``on``, or None."""
    value = setting("CREDIT_RATES_FILE")
    if not value:
        return None
    path = Path(value)
    table = _rates(str(path), path.stat().st_mtime)
    direct = _on_or_before(table.get((from_currency, to_currency), []), on)
    if direct is not None:
        return format(direct, "f")
    inverse = _on_or_before(table.get((to_currency, from_currency), []), on)
    return None if inverse is None else format(INVERSE.divide(Decimal(1), inverse), "f")
