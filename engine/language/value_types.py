"""Whether a value from outside the rules (a free-form attribute, a plugin's answer) is of
the type a ruleset declares for it. One table, so every entry point agrees."""

from __future__ import annotations

import datetime as dt
import math

from . import temporal


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        (not isinstance(value, float) or math.isfinite(value))


def _date(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


CHECKS = {
    "number": _number,
    "money": _number,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "date": _date,
    "list": lambda v: isinstance(v, list) and all(
        isinstance(x, str) or _number(x) for x in v),
    **{typ: (lambda v, t=typ: temporal.fits(v, t))
       for typ in (temporal.TIME, temporal.DATETIME, temporal.DURATION,
                   temporal.YEARS_MONTHS)},
}


def fits(value: object, typ: str) -> bool:
    """True when ``value`` is null or a value of the declared type ``typ`` (JSON form: a
    date is YYYY-MM-DD text, a time, datetime or duration ISO 8601 text (a datetime with
    its offset); numbers are finite)."""
    return value is None or CHECKS[typ](value)
