"""Helpers that compiled rulesets call at decision time. Every one is pure and total over
the values it is given (callers have already ruled out null)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal


def _money(value: float | int | Decimal | None) -> Decimal | None:
    """A number as an exact Decimal amount (floats through their shortest repr)."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value))


def _floor(value: float | int | Decimal) -> int | Decimal:
    if isinstance(value, Decimal):
        return value.to_integral_value(rounding=ROUND_FLOOR)
    return math.floor(value)


def _ceil(value: float | int | Decimal) -> int | Decimal:
    if isinstance(value, Decimal):
        return value.to_integral_value(rounding=ROUND_CEILING)
    return math.ceil(value)


def _round(value: float | int | Decimal, places: int) -> int | float | Decimal:
    """Round half away from zero (as analysts expect), not Python's half to even."""
    quantum = Decimal(1).scaleb(-places)
    exact = _money(value).quantize(quantum, rounding=ROUND_HALF_UP)
    if isinstance(value, Decimal):
        return exact
    return int(exact) if places == 0 else float(exact)


def _round_step(value: float | int | Decimal, step: Decimal, rounding: str):
    exact = (_money(value) / step).to_integral_value(rounding=rounding) * step
    return exact if isinstance(value, Decimal) else float(exact)


def _round_down(value, step: Decimal):
    return _round_step(value, step, ROUND_FLOOR)


def _round_up(value, step: Decimal):
    return _round_step(value, step, ROUND_CEILING)


def _days_between(earlier: dt.date, later: dt.date) -> int:
    return (later - earlier).days


def _years_between(earlier: dt.date, later: dt.date) -> int:
    """Whole years from ``earlier`` to ``later`` (negative when later is before)."""
    if later < earlier:
        return -_years_between(later, earlier)
    years = later.year - earlier.year
    if (later.month, later.day) < (earlier.month, earlier.day):
        years -= 1
    return years


HELPERS = {name: value for name, value in globals().items()
           if name.startswith("_") and callable(value) and not name.startswith("__")}
