"""Helpers that compiled rulesets call at decision time. Every one is pure and total over
the values it is given (callers have already ruled out null). ``HELPERS`` names them as
the generated code does; ``round_money`` is also the pipeline's."""

from __future__ import annotations

import datetime as dt
import math
from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DefaultContext,
)

from ..canonical import Exact
from ..errors import DecisionError
from . import temporal


def money(value: float | int | Decimal | None) -> Decimal | None:
    """A number as an exact Decimal amount (floats through their shortest repr; -0.0 is
    0.0: an amount is never negative zero)."""
    cls = value.__class__
    if cls is int:
        return Decimal(value)
    if cls is float:
        return Decimal(repr(value + 0.0)) if math.isfinite(value) else None
    if value is None or cls is Decimal:
        return value
    if cls is Exact:  # a number the ruleset wrote, used as an amount: a plain Decimal
        return Decimal(value)
    return Decimal(value) if isinstance(value, int) else Decimal(repr(float(value)))


def exact(value: int | Decimal | None) -> int | Exact | None:
    """An exact number kept as a value (a derived fact, an output, the score): whole
    numbers stay int, a Decimal becomes Exact (so that it is written as a number)."""
    return Exact(value) if value.__class__ is Decimal else value


def written(value: int | float | Decimal) -> int | Exact:
    """A number as the ruleset wrote it (YAML gives a float for 0.1): exact, an int when
    it was written whole. Used when compiling, not per decision."""
    if isinstance(value, int):
        return value
    return Exact(value) if isinstance(value, Decimal) else Exact(repr(value))


def unscaled(total: int, scale: int) -> Exact:
    """A score added up as a whole number of 10**-scale, as the exact number it is."""
    return Exact(f"{total}E-{scale}")


def to_float(value: int | Decimal | None) -> float | None:
    """An exact number where it meets a float (a ratio): the nearest float."""
    return None if value is None else float(value)


def exact_mod(value: int | Decimal, divisor: int | Decimal) -> int | Decimal:
    """``value % divisor`` with the sign of the divisor, as % gives for floats and whole
    numbers (Decimal's own % takes the sign of the value)."""
    remainder = value % divisor
    if remainder and (remainder < 0) != (divisor < 0):
        remainder += divisor
    return remainder


# Wide enough for any amount or ratio a decision meets, so rounding never runs out of digits.
_WIDE = Context(prec=400, Emax=MAX_EMAX, Emin=MIN_EMIN)
_MODES = (ROUND_05UP, ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_EVEN,
          ROUND_HALF_UP, ROUND_UP)
# Decimal's methods parse a rounding= keyword slowly (about 100 ns a call): a context per
# rounding mode takes the value positionally instead. To an integral value, the precision
# does not matter; a quantized amount is held to the default context's 28 digits, which is
# the context a decision's thread runs in (the engine never changes it).
_TO_INTEGRAL = {mode: Context(prec=400, Emax=MAX_EMAX, Emin=MIN_EMIN,
                              rounding=mode).to_integral_value for mode in _MODES}


def _quantizer(mode: str):
    context = DefaultContext.copy()
    context.rounding = mode
    return context.quantize


_QUANTIZE = {mode: _quantizer(mode) for mode in _MODES}
# 10**-places for the places round() accepts (0 to 10), made once.
_QUANTA = tuple(Decimal(1).scaleb(-places) for places in range(11))


def _finite(value) -> bool:
    return not (value.__class__ is float and not math.isfinite(value))


def floor(value: float | int | Decimal) -> int | Decimal | None:
    """The largest whole number not above ``value`` (None for an infinite float)."""
    if isinstance(value, Decimal):
        return value.to_integral_value(rounding=ROUND_FLOOR)
    return math.floor(value) if _finite(value) else None


def ceil(value: float | int | Decimal) -> int | Decimal | None:
    """The smallest whole number not below ``value`` (None for an infinite float)."""
    if isinstance(value, Decimal):
        return value.to_integral_value(rounding=ROUND_CEILING)
    return math.ceil(value) if _finite(value) else None


def round_half_up(value: float | int | Decimal, places: int) -> int | float | Decimal | None:
    """Round half away from zero (as analysts expect), not Python's half to even."""
    if not _finite(value):
        return None
    quantum = _QUANTA[places] if 0 <= places < len(_QUANTA) else Decimal(1).scaleb(-places)
    exact = money(value).quantize(quantum, rounding=ROUND_HALF_UP, context=_WIDE)
    if isinstance(value, Decimal):
        return exact
    return int(exact) if places == 0 else float(exact)


def round_step(value: float | int | Decimal, step: Decimal, rounding: str):
    """``value`` rounded to a multiple of ``step`` in the given decimal rounding mode
    (round_down: ROUND_FLOOR, round_up: ROUND_CEILING)."""
    if value.__class__ is Decimal:  # an amount, the usual case: what the lines below do
        return _WIDE.multiply(_TO_INTEGRAL[rounding](_WIDE.divide(value, step)), step)
    if not _finite(value):
        return None
    exact = _WIDE.multiply(_WIDE.divide(money(value), step).to_integral_value(
        rounding=rounding), step)
    return exact if isinstance(value, Decimal) else float(exact)


def days_between(earlier: dt.date, later: dt.date) -> int:
    """Days from ``earlier`` to ``later`` (negative when later is before)."""
    return (later - earlier).days


def years_between(earlier: dt.date, later: dt.date) -> int:
    """Whole years from ``earlier`` to ``later`` (negative when later is before)."""
    if later < earlier:
        return -years_between(later, earlier)
    # One year less when the anniversary is still to come (a bool counts as 0 or 1).
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


def table_conflict(table_id: str, hit_policy: str, first: str, second: str):
    """Two rules matched where the hit policy allows one (unique) or one answer (any)."""
    detail = "both match" if hit_policy == "unique" else "match with different outputs"
    raise DecisionError(f"table {table_id}: rules {first} and {second} {detail} "
                        f"under hit policy {hit_policy}")


def aggregate(aggregation: str, values: list):
    """sum / min / max of the non-null values a collect table gathered; null when there
    are none, for every one of them (as DMN has it; count is 0, and is not asked here)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if aggregation == "sum":
        return sum(present)
    return min(present) if aggregation == "min" else max(present)


def listed(value, allowed: tuple, where: tuple[str, str]):
    """An output value an expression computed, checked against the output's value list:
    ``value`` itself when it is in the list (a number by its value) or null; else the
    decision fails. ``where`` is (table/rule, output)."""
    if value is None:
        return value
    for item in allowed:
        if isinstance(item, bool) or isinstance(value, bool):
            if item is value:
                return value
        elif isinstance(item, str) or isinstance(value, str):
            if item == value:
                return value
        elif (float(value) == float(item)) if float in (value.__class__, item.__class__) \
                else value == item:
            return value
    shown = ", ".join(str(item).lower() if isinstance(item, bool) else str(item)
                      for item in allowed)
    raise DecisionError(f"table rule {where[0]}: '{where[1]}' computed {value!s}, which is "
                        f"not one of its values ({shown})")


def no_band(score) -> None:
    """A score that no band holds: the ruleset cannot decide."""
    raise DecisionError(f"score {score} falls in no grade band")


def top_reasons(ranks: tuple, count: int, reasons: tuple) -> list[str]:
    """Reason codes of the characteristics that lost the most points against their best
    bin (ties in scorecard order), without repeats. Every loss a scorecard can give is
    known when it is compiled: ``reasons`` holds the reason codes of those that lose
    points, most points lost first (then by scorecard position), and ``ranks`` each
    characteristic's loss as its place in that order (``len(reasons)``: no points lost)."""
    found: list[str] = []
    losing = len(reasons)
    for rank in sorted(ranks):
        if rank >= losing or len(found) >= count:
            break
        reason = reasons[rank]
        if reason not in found:
            found.append(reason)
    return found


ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN,
                  "down": ROUND_DOWN, "up": ROUND_UP}
ZERO = Decimal(0)


def round_money(value, rounding: tuple[Decimal, str]) -> Decimal:
    """An amount rounded as the ruleset says: (quantum, decimal rounding mode)."""
    quantum, mode = rounding
    if value.__class__ is not Decimal:  # (money gives a Decimal as it is)
        value = money(value)
    rounded = _QUANTIZE[mode](value, quantum)
    return rounded.copy_abs() if rounded.is_zero() else rounded  # never "-0.00"


# What generated code calls, by the name it calls it: the compiled ruleset's contract with
# this module. The leading underscore keeps them apart from the local names made from facts.
HELPERS: dict[str, object] = {
    "_money": money, "_type": type, "_Decimal": Decimal, "_floor": floor, "_ceil": ceil,
    "_round": round_half_up,
    "_round_step": round_step, "_days_between": days_between,
    "_years_between": years_between, "_conflict": table_conflict, "_aggregate": aggregate,
    "_no_band": no_band, "_top_reasons": top_reasons, "_ZERO": ZERO,
    "_round_money": round_money, "_exact": exact, "_float": to_float, "_mod": exact_mod,
    "_unscaled": unscaled, "_listed": listed,
    "_t_add": temporal.add, "_t_sub": temporal.subtract, "_t_neg": temporal.negate,
    "_t_mul": temporal.multiply, "_months_between": temporal.months_between,
}
