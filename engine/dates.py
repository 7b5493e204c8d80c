"""The days the engine works with: an as-of date, an event's day. Rules look years back
(payment history, bureau alerts) and days ahead (an order's horizon, a review date), so a
day too near the ends of the calendar would overflow in the middle of a decision; such a
day is refused where it is read, with the range."""

from __future__ import annotations

import datetime as dt

FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(9000, 12, 31)


def parse_day(text: str) -> dt.date:
    """``text`` (YYYY-MM-DD) as a date between FIRST_DAY and LAST_DAY; ValueError saying
    why otherwise."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text[:40]}' is not a date (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{text} is outside the days the engine works with "
                         f"({FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()})")
    return day
