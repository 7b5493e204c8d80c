"""Helpers that compiled rulesets call at decision time. Every one is pure and total over
the values it is given (callers have already ruled out null)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
)

from .errors import DecisionError


def _money(value: float | int | Decimal | None) -> Decimal | None:
    """A number as an exact Decimal amount (floats through their shortest repr)."""
    cls = value.__class__
    if cls is int:
        return Decimal(value)
    if cls is float:
        return Decimal(repr(value)) if math.isfinite(value) else None
    if value is None or cls is Decimal:
        return value
    return Decimal(value) if isinstance(value, int) else Decimal(repr(float(value)))


# Wide enough for any amount or ratio a decision meets, so rounding never runs out of digits.
_WIDE = Context(prec=400, Emax=MAX_EMAX, Emin=MIN_EMIN)


def _finite(value) -> bool:
    return not (value.__class__ is float and not math.isfinite(value))


def _floor(value: float | int | Decimal) -> int | Decimal | None:
    if isinstance(value, Decimal):
        return value.to_integral_value(rounding=ROUND_FLOOR)
    return math.floor(value) if _finite(value) else None


def _ceil(value: float | int | Decimal) -> int | Decimal | None:
    if isinstance(value, Decimal):
        return value.to_integral_value(rounding=ROUND_CEILING)
    return math.ceil(value) if _finite(value) else None


def _round(value: float | int | Decimal, places: int) -> int | float | Decimal | None:
    """Round half away from zero (as analysts expect), not Python's half to even."""
    if not _finite(value):
        return None
    quantum = Decimal(1).scaleb(-places)
    exact = _money(value).quantize(quantum, rounding=ROUND_HALF_UP, context=_WIDE)
    if isinstance(value, Decimal):
        return exact
    return int(exact) if places == 0 else float(exact)


def _round_step(value: float | int | Decimal, step: Decimal, rounding: str):
    if not _finite(value):
        return None
    exact = _WIDE.multiply(_WIDE.divide(_money(value), step).to_integral_value(
        rounding=rounding), step)
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


def _conflict(table_id: str, hit_policy: str, first: str, second: str):
    """Two rules matched where the hit policy allows one (unique) or one answer (any)."""
    detail = "both match" if hit_policy == "unique" else "match with different outputs"
    raise DecisionError(f"table {table_id}: rules {first} and {second} {detail} "
                        f"under hit policy {hit_policy}")


def _aggregate(aggregation: str, values: list):
    """sum / min / max of the non-null values a collect table gathered."""
    present = [v for v in values if v is not None]
    if aggregation == "sum":
        return sum(present) if present else 0
    if not present:
        return None
    return min(present) if aggregation == "min" else max(present)


def _no_band(score) -> None:
    raise DecisionError(f"score {score!r} falls in no grade band")


def _top_reasons(lost: tuple, count: int) -> list[str]:
    """Reason codes of the characteristics that lost the most points against their best
    bin (ties in scorecard order), without repeats. ``lost`` holds (points lost, negated;
    scorecard position; reason code)."""
    reasons: list[str] = []
    for negative_points, _, reason in sorted(lost):
        if negative_points >= 0 or len(reasons) >= count:
            break
        if reason not in reasons:
            reasons.append(reason)
    return reasons


ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN,
                  "down": ROUND_DOWN, "up": ROUND_UP}
_ZERO = Decimal(0)


def _round_money(value, rounding: tuple[Decimal, str]) -> Decimal:
    """An amount rounded as the ruleset says: (quantum, decimal rounding mode)."""
    quantum, mode = rounding
    return _money(value).quantize(quantum, rounding=mode)


HELPERS = {name: value for name, value in globals().items()
           if name.startswith("_") and not name.startswith("__")
           and (callable(value) or isinstance(value, Decimal))}
