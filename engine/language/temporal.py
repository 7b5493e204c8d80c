"""Times of day, dates with times and durations: the values, their ISO 8601 text, and the
arithmetic DMN defines for them that credit rules need.

Types (as facts.yaml and messages name them):

- ``date`` (a ``datetime.date``), as before;
- ``time``: a time of day without an offset (``datetime.time``), compared as written;
- ``datetime``: DMN's *date and time*; always with its offset (``Z`` or ``+01:00``), so it
  names one instant (an aware ``datetime.datetime``); text without an offset is refused;
- ``duration``: DMN's *days and time duration* (``P3DT4H``, ``PT90M``), exact to the
  microsecond (``Duration``);
- ``years_months_duration``: DMN's *years and months duration* (``P1Y6M``), a whole number
  of months (``YearsMonths``).

Nothing here reads a clock. Every value is written (trace, canonical JSON) as ISO 8601 text
by its ``isoformat()``: a duration in DMN's normal form (``PT90M`` is ``PT1H30M``, zero is
``PT0S``, ``P0M``), a date and time with the offset it was given.

Arithmetic (DMN): date - date and datetime - datetime and time - time give a duration; a
date, datetime or time plus or minus a duration gives one of its own kind (a date moves by
whole days, the part of a day left over is dropped as DMN does: ``date + PT36H`` is the next
day); a date or datetime plus or minus years and months stays on its day of the month or
falls back to the month's last day (2026-01-31 + P1M = 2026-02-28); a time wraps around
midnight; durations add to and subtract from durations of their kind, and are multiplied
by whole numbers. A result outside the calendar (year 1 to 9999) is null, as a division by
zero is.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal

DATE, TIME, DATETIME = "date", "time", "datetime"
DURATION, YEARS_MONTHS = "duration", "years_months_duration"
# Every temporal type; each is ordered within itself and never compared with another.
TEMPORAL = frozenset({DATE, TIME, DATETIME, DURATION, YEARS_MONTHS})
# What each constant function gives, by the name an expression calls it by.
CONSTANT_FUNCTIONS = {"date": DATE, "time": TIME, "datetime": DATETIME, "duration": DURATION}

_MICROS_PER_DAY = 86_400_000_000
_MAX_DAYS = 3_660_000  # longer than the calendar (years 1 to 9999): a bigger one is a typo
_MAX_MONTHS = 12 * 10_000


class _Amount:
    """An immutable, ordered count of one unit (not a dataclass: orjson would write a
    dataclass as an object where the ISO text belongs)."""

    __slots__ = ("_count",)

    def __init__(self, count: int):
        object.__setattr__(self, "_count", count)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._count})"

    def __reduce__(self):  # pickled across worker processes as the count it holds
        return type(self), (self._count,)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._count))

    def _other(self, other):
        return other._count if type(other) is type(self) else None

    def __eq__(self, other):
        return type(other) is type(self) and other._count == self._count

    def __lt__(self, other):
        count = self._other(other)
        return NotImplemented if count is None else self._count < count

    def __le__(self, other):
        count = self._other(other)
        return NotImplemented if count is None else self._count <= count

    def __gt__(self, other):
        count = self._other(other)
        return NotImplemented if count is None else self._count > count

    def __ge__(self, other):
        count = self._other(other)
        return NotImplemented if count is None else self._count >= count


class Duration(_Amount):
    """DMN's days and time duration: a signed number of microseconds."""

    __slots__ = ()

    @property
    def microseconds(self) -> int:
        return self._count

    def isoformat(self) -> str:
        """ISO 8601 in DMN's normal form: ``P1DT2H30M``, ``PT0.5S``, ``-P3D``, ``PT0S``."""
        sign = "-" if self.microseconds < 0 else ""
        rest = abs(self.microseconds)
        days, rest = divmod(rest, _MICROS_PER_DAY)
        hours, rest = divmod(rest, 3_600_000_000)
        minutes, rest = divmod(rest, 60_000_000)
        seconds = Decimal(rest).scaleb(-6).normalize()
        time = "".join(f"{v}{unit}" for v, unit in ((hours, "H"), (minutes, "M")) if v)
        if seconds:
            time += f"{seconds:f}S"
        if not days and not time:
            return "PT0S"
        return f"{sign}P{f'{days}D' if days else ''}{'T' + time if time else ''}"

    __str__ = isoformat

    def as_timedelta(self) -> dt.timedelta:
        return dt.timedelta(microseconds=self.microseconds)


class YearsMonths(_Amount):
    """DMN's years and months duration: a signed number of months."""

    __slots__ = ()

    @property
    def months(self) -> int:
        return self._count

    def isoformat(self) -> str:
        """ISO 8601 in DMN's normal form: ``P1Y6M``, ``P2Y``, ``-P3M``, ``P0M``."""
        sign = "-" if self.months < 0 else ""
        years, months = divmod(abs(self.months), 12)
        if not years:
            return f"{sign}P{months}M"
        return f"{sign}P{years}Y" + (f"{months}M" if months else "")

    __str__ = isoformat


# --- reading ISO 8601 text --------------------------------------------------------------

_TIME = r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
_TIME_TEXT = re.compile(rf"^{_TIME}$")
_DATETIME_TEXT = re.compile(rf"^(\d{{4}}-\d{{2}}-\d{{2}})T{_TIME}(Z|[+-]\d{{2}}:\d{{2}})?$")
_DAYS_TIME = re.compile(r"^(-)?P(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?"
                        r"(?:(\d{1,9})(?:\.(\d{1,6}))?S)?)?$")
_YEARS_MONTHS = re.compile(r"^(-)?P(?:(\d{1,9})Y)?(?:(\d{1,9})M)?$")
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What a bare cell value of each type looks like (ISO text, unquoted).
_LOOKS_LIKE = {DATE: _DATE_TEXT, TIME: _TIME_TEXT,
               DATETIME: re.compile(r"^\d{4}-\d{2}-\d{2}T"),
               DURATION: re.compile(r"^-?P[0-9T]"), YEARS_MONTHS: re.compile(r"^-?P[0-9]")}

_EXAMPLES = {DATE: "YYYY-MM-DD", TIME: "hh:mm:ss", DATETIME: "YYYY-MM-DDThh:mm:ss+hh:mm",
             DURATION: "ISO 8601, like P30D or PT1H30M",
             YEARS_MONTHS: "ISO 8601, like P1Y6M"}


def looks_like(typ: str, text: str) -> bool:
    """Whether ``text`` is written as a bare (unquoted) value of ``typ`` would be."""
    pattern = _LOOKS_LIKE.get(typ)
    return bool(pattern and pattern.match(text))


def bare_kind(typ: str, text: str) -> str | None:
    """The type whose ISO form ``text`` (a bare cell value) has, trying ``typ`` first;
    None when it looks like none of them."""
    for kind in (typ, DATE, DATETIME, TIME, DURATION):
        if looks_like(kind, text):
            return kind
    return None


def parse(typ: str, text: str):
    """The value of type ``typ`` that ISO 8601 ``text`` names; ValueError saying why not.
    For ``duration`` a text in years and months gives a YearsMonths (as DMN's duration()
    does); ask for YEARS_MONTHS to refuse days."""
    if not isinstance(text, str):
        raise ValueError(f"{_show(text)} is not a {typ} ({_EXAMPLES[typ]})")
    if typ == DATE:
        return _date(text)
    if typ == TIME:
        return _time(text)
    if typ == DATETIME:
        return _datetime(text)
    return _duration(text, typ)


def _show(text: object) -> str:
    return repr(text[:40]) if isinstance(text, str) else repr(text)


def _date(text: str) -> dt.date:
    if not _DATE_TEXT.match(text):
        raise ValueError(f"{_show(text)} is not a date ({_EXAMPLES[DATE]})")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{_show(text)} is not a date: no such day") from None


def _clock(match: re.Match, first: int, text: str, typ: str) -> dt.time:
    hour, minute, second, fraction = match.groups()[first:first + 4]
    try:
        return dt.time(int(hour), int(minute), int(second or 0),
                       int((fraction or "").ljust(6, "0")))
    except ValueError:
        raise ValueError(f"{_show(text)} is not a {typ}: no such time of day") from None


def _time(text: str) -> dt.time:
    match = _TIME_TEXT.match(text)
    if not match:
        hint = " (a time of day has no offset: give a datetime for an instant)" if \
            re.match(rf"^{_TIME}(Z|[+-]\d{{2}}:\d{{2}})$", text) else f" ({_EXAMPLES[TIME]})"
        raise ValueError(f"{_show(text)} is not a time{hint}")
    return _clock(match, 0, text, TIME)


def _datetime(text: str) -> dt.datetime:
    match = _DATETIME_TEXT.match(text)
    if not match:
        raise ValueError(f"{_show(text)} is not a datetime ({_EXAMPLES[DATETIME]})")
    offset = match.group(6)
    if offset is None:
        raise ValueError(f"{_show(text)} has no offset: a datetime needs one (Z or +01:00), "
                         "or it names no single instant")
    day = _date(match.group(1))
    clock = _clock(match, 1, text, DATETIME)
    if offset == "Z":
        zone = dt.UTC
    else:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"{_show(text)} is not a datetime: no such offset")
        delta = dt.timedelta(hours=hours, minutes=minutes)
        zone = dt.timezone(-delta if offset[0] == "-" else delta)
    return dt.datetime.combine(day, clock, zone)


def _duration(text: str, typ: str) -> Duration | YearsMonths:
    match = _YEARS_MONTHS.match(text)
    if match and text.lstrip("-") != "P":
        sign, years, months = match.groups()
        total = int(years or 0) * 12 + int(months or 0)
        if total > _MAX_MONTHS:
            raise ValueError(f"{_show(text)} is longer than the calendar (10,000 years)")
        return YearsMonths(-total if sign else total)
    if typ == YEARS_MONTHS:
        raise ValueError(f"{_show(text)} is not a years and months duration "
                         f"({_EXAMPLES[YEARS_MONTHS]})")
    match = _DAYS_TIME.match(text)
    if not match or text.lstrip("-") in ("P", "PT") or text.endswith("T"):
        mixed = re.match(r"^-?P(\d+Y)?(\d+M)?(\d+D|T)", text)
        hint = (": years and months cannot be mixed with days and time (DMN keeps them "
                "apart); write two durations") if mixed and (mixed.group(1) or
                                                             mixed.group(2)) else \
            f" ({_EXAMPLES[DURATION]}" + ("; weeks are written as days)" if "W" in text
                                          else ")")
        raise ValueError(f"{_show(text)} is not a duration{hint}")
    sign, days, hours, minutes, seconds, fraction = match.groups()
    micros = ((int(days or 0) * 24 + int(hours or 0)) * 60 + int(minutes or 0)) * 60 + \
        int(seconds or 0)
    micros = micros * 1_000_000 + int((fraction or "").ljust(6, "0"))
    if micros > _MAX_DAYS * _MICROS_PER_DAY:
        raise ValueError(f"{_show(text)} is longer than the calendar (10,000 years)")
    return Duration(-micros if sign else micros)


def type_of(value: object) -> str | None:
    """The temporal type of a value (None when it is not one)."""
    if isinstance(value, dt.datetime):
        return DATETIME
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, dt.time):
        return TIME
    if isinstance(value, Duration):
        return DURATION
    return YEARS_MONTHS if isinstance(value, YearsMonths) else None


def fits(value: object, typ: str) -> bool:
    """Whether ``value`` (from a document: ISO text) is a value of temporal type ``typ``."""
    try:
        parsed = parse(typ, value)
    except ValueError:
        return False
    return type_of(parsed) == typ


def read(value: object, typ: str, name: str):
    """A document's value (ISO text, or null) of fact ``name`` as a value of ``typ``;
    ValueError naming the fact otherwise."""
    if value is None or type_of(value) == typ:
        return value
    try:
        parsed = parse(typ, value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    if type_of(parsed) != typ:
        raise ValueError(f"{name}: {_show(value)} is not a {typ} ({_EXAMPLES[typ]})")
    return parsed


# --- arithmetic -------------------------------------------------------------------------

# (left type, operator, right type) -> result type, for what DMN defines and rules need.
_ARITHMETIC = {
    (DATE, "-", DATE): DURATION, (DATETIME, "-", DATETIME): DURATION,
    (TIME, "-", TIME): DURATION,
    (DURATION, "+", DURATION): DURATION, (DURATION, "-", DURATION): DURATION,
    (YEARS_MONTHS, "+", YEARS_MONTHS): YEARS_MONTHS,
    (YEARS_MONTHS, "-", YEARS_MONTHS): YEARS_MONTHS,
    (DURATION, "*", "integer"): DURATION, ("integer", "*", DURATION): DURATION,
    (YEARS_MONTHS, "*", "integer"): YEARS_MONTHS, ("integer", "*", YEARS_MONTHS): YEARS_MONTHS,
}
for _kind in (DATE, DATETIME, TIME):
    _ARITHMETIC[(_kind, "+", DURATION)] = _ARITHMETIC[(_kind, "-", DURATION)] = _kind
    _ARITHMETIC[(DURATION, "+", _kind)] = _kind
for _kind in (DATE, DATETIME):
    _ARITHMETIC[(_kind, "+", YEARS_MONTHS)] = _ARITHMETIC[(_kind, "-", YEARS_MONTHS)] = _kind
    _ARITHMETIC[(YEARS_MONTHS, "+", _kind)] = _kind


def arithmetic_type(left: str, symbol: str, right: str) -> str | None:
    """The type of ``left symbol right`` where one side is temporal; None: no meaning."""
    return _ARITHMETIC.get((left, symbol, right))


def can_be_null(left: str, symbol: str, right: str) -> bool:
    """Whether the result may be null although both sides are there: a date moved out of
    the calendar, a duration longer than any text of one may say."""
    return arithmetic_type(left, symbol, right) in (DATE, DATETIME, DURATION, YEARS_MONTHS)


def _bounded(value: Duration | YearsMonths) -> Duration | YearsMonths | None:
    """A computed duration, or None past the longest one a text may say (10,000 years):
    as a date moved out of the calendar is."""
    if isinstance(value, Duration):
        return value if abs(value.microseconds) <= _MAX_DAYS * _MICROS_PER_DAY else None
    return value if abs(value.months) <= _MAX_MONTHS else None


def add(left, right):
    """``left + right`` of two values arithmetic_type allows (null outside the calendar)."""
    if isinstance(left, Duration | YearsMonths) and type_of(right) in (DATE, DATETIME, TIME):
        left, right = right, left
    if isinstance(left, Duration) and isinstance(right, Duration):
        return _bounded(Duration(left.microseconds + right.microseconds))
    if isinstance(left, YearsMonths) and isinstance(right, YearsMonths):
        return _bounded(YearsMonths(left.months + right.months))
    try:
        if isinstance(right, YearsMonths):
            return _add_months(left, right.months)
        if isinstance(left, dt.datetime):
            return left + right.as_timedelta()
        if isinstance(left, dt.date):  # whole days; the rest of a day is dropped (DMN)
            return left + dt.timedelta(days=right.microseconds // _MICROS_PER_DAY)
    except OverflowError:
        return None
    micros = (_time_micros(left) + right.microseconds) % _MICROS_PER_DAY
    return _micros_time(micros)


def subtract(left, right):
    """``left - right`` of two values arithmetic_type allows."""
    if isinstance(right, Duration):
        return add(left, Duration(-right.microseconds))
    if isinstance(right, YearsMonths):
        return add(left, YearsMonths(-right.months))
    if isinstance(left, dt.datetime):
        return _bounded(Duration((left - right) // dt.timedelta(microseconds=1)))
    if isinstance(left, dt.date):
        return Duration((left - right).days * _MICROS_PER_DAY)
    return Duration(_time_micros(left) - _time_micros(right))


def negate(value: Duration | YearsMonths) -> Duration | YearsMonths:
    """``-value`` of a duration."""
    if isinstance(value, Duration):
        return Duration(-value.microseconds)
    return YearsMonths(-value.months)


def multiply(left, right):
    """A duration times a whole number (either way round)."""
    if isinstance(left, int):
        left, right = right, left
    if isinstance(left, Duration):
        return _bounded(Duration(left.microseconds * right))
    return _bounded(YearsMonths(left.months * right))


def _add_months(day: dt.date, months: int) -> dt.date | None:
    """``day`` moved by ``months``, kept on its day of the month or on the month's last
    day when that month is shorter (None outside the calendar)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        return None
    last = calendar.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


def _time_micros(value: dt.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + \
        value.microsecond


def _micros_time(micros: int) -> dt.time:
    seconds, micro = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return dt.time(hour, minute, second, micro)


# --- helpers the rules call -------------------------------------------------------------

def months_between(earlier: dt.date, later: dt.date) -> int:
    """Whole months from ``earlier`` to ``later`` (negative when later is before): a month
    is complete on the same day of the next month, or on its last day when that is
    shorter (2026-01-31 to 2026-02-28 is one month)."""
    if later < earlier:
        return -months_between(later, earlier)
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if months and _add_months(earlier, months) > later:
        months -= 1
    return months


# --- static checks: a value strictly between two others ---------------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _ordinal(value) -> int:
    """A value of an ordered temporal type as a whole number on its own scale (days,
    microseconds or months), so that one is the smallest step between two values."""
    if isinstance(value, dt.datetime):
        return (value - _EPOCH) // dt.timedelta(microseconds=1)
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, dt.time):
        return _time_micros(value)
    if isinstance(value, Duration):
        return value.microseconds
    return value.months


def _from_ordinal(kind: str, number: int):
    if kind == DATETIME:
        return _EPOCH + dt.timedelta(microseconds=number)
    if kind == DATE:
        return dt.date.fromordinal(number)
    if kind == TIME:
        return _micros_time(number)
    return Duration(number) if kind == DURATION else YearsMonths(number)


_SCALE_ENDS = {DATE: (1, dt.date.max.toordinal()), TIME: (0, _MICROS_PER_DAY - 1),
               DATETIME: (_ordinal(dt.datetime(1, 1, 2, tzinfo=dt.UTC)),
                          _ordinal(dt.datetime(9999, 12, 30, tzinfo=dt.UTC))),
               DURATION: (-_MAX_DAYS * _MICROS_PER_DAY, _MAX_DAYS * _MICROS_PER_DAY),
               YEARS_MONTHS: (-_MAX_MONTHS, _MAX_MONTHS)}


def between(kind: str, low, high):
    """A value of ``kind`` strictly between ``low`` and ``high`` (None: unbounded), or
    None when there is none (two neighbouring days)."""
    first, last = _SCALE_ENDS[kind]
    if low is not None:
        first = max(first, _ordinal(low) + 1)
    if high is not None:
        last = min(last, _ordinal(high) - 1)
    if first > last:
        return None
    if low is None and high is None:
        return _from_ordinal(kind, (first + last) // 2)
    return _from_ordinal(kind, first if low is not None else last)



# --- DMN's name with spaces -------------------------------------------------------------

_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", re.S)
_DATE_AND_TIME = re.compile(r"\bdate([ \t]+)and([ \t]+)time(?=[ \t]*\()")
_SPELLED = re.compile(r"^date_+and_+time$")


def spell_dmn_names(source: str) -> str:
    """``source`` with DMN's ``date and time(`` (outside quotes) written as one name of
    the same length (``date_and_time(``), so that offsets in messages stay right."""
    if "and" not in source:
        return source
    masked = _QUOTED.sub(lambda m: " " * len(m.group(0)), source)
    for match in reversed(list(_DATE_AND_TIME.finditer(masked))):
        name = "date" + "_" * len(match.group(1)) + "and" + "_" * len(match.group(2)) + "time"
        source = source[:match.start()] + name + source[match.end():]
    return source


def function_name(name: str) -> str:
    """The name a function call is known by: DMN's ``date and time`` is ``datetime``."""
    return "datetime" if _SPELLED.match(name) else name
