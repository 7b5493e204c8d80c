"""Canonical JSON: one byte sequence per value, so hashes and replays are exact.

Keys sorted, no insignificant spaces, UTF-8, no NaN or infinity; amounts (Decimal) are
written as text so they never pass through a float; an exact number that is not an amount
(``Exact``: a score, a number a ruleset wrote) as a JSON number; dates, times and
durations (whatever has an ``isoformat()``) as ISO 8601 text; tuples as lists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from decimal import Decimal

import orjson


class Exact(Decimal):
    """An exact number that is not an amount: a score, points, a number a ruleset wrote
    and sums of them. Computed as a Decimal (arithmetic gives plain Decimals, which
    generated code makes Exact again where a value is kept); written to JSON as a number,
    the double nearest to it (its digits, up to 15 significant ones), so that it reads as
    the same number the float it replaces did."""

    __slots__ = ()


def exact_number(value: Exact) -> float | None:
    """The JSON number of an exact value (null past what a double holds)."""
    number = float(value)
    return number if math.isfinite(number) else None


def decimal_text(value: Decimal) -> str:
    """``format(value, "f")``: an amount's text, never in exponent form. For a Decimal,
    ``str`` gives the same text unless it writes an exponent, three times faster."""
    if value.__class__ is Decimal:
        text = str(value)
        if "E" not in text:
            return text
    return format(value, "f")


# The texts of the dates met most (a decision's as-of date, a period end, a founding day):
# a date's isoformat() takes about 0.18 us, a look-up here 0.03, and a record writes about
# seven. Cleared when full; only for dt.date itself (a datetime writes its time too).
_DATE_TEXTS: dict[dt.date, str] = {}
_DATE_TEXTS_KEPT = 4096


def date_text(value: dt.date) -> str:
    """``value.isoformat()`` (YYYY-MM-DD for a date), remembered for the dates met most."""
    text = _DATE_TEXTS.get(value) if value.__class__ is dt.date else None
    if text is None:
        text = value.isoformat()
        if value.__class__ is dt.date:
            if len(_DATE_TEXTS) >= _DATE_TEXTS_KEPT:
                _DATE_TEXTS.clear()
            _DATE_TEXTS[value] = text
    return text


# Values written to JSON as they are. Floats are not among them: an infinite or NaN result
# (an overflow in a ratio) is written as null.
PLAIN = frozenset({str, int, bool, type(None)})


def to_jsonable(value: object) -> object:
    """The JSON form of a value the engine produces (amounts become text, a non-finite
    float null)."""
    cls = value.__class__
    if cls in PLAIN:
        return value
    if cls is Decimal:
        return decimal_text(value)
    if cls is float:
        return value if math.isfinite(value) else None
    if cls is dict:
        return {k: v if v.__class__ in PLAIN else to_jsonable(v) for k, v in value.items()}
    if cls is Exact:
        return exact_number(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(to_jsonable(v) for v in value)
    if hasattr(value, "isoformat"):  # a time of day, a duration (engine.language.temporal)
        return value.isoformat()
    return value


def json_default(value: object) -> object:
    """``json.dumps``'s ``default``: amounts as decimal text, exact numbers as numbers,
    dates as ISO text."""
    if value.__class__ is Exact:
        return exact_number(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(value)
    if hasattr(value, "isoformat"):  # a time of day, a duration
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def canonical_json(value: object) -> str:
    """The canonical text of ``value``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=json_default)


# Writing engine values fast. orjson writes the same text as ``json.dumps`` above (keys in
# code point order, the same escapes, the shortest digits of a float) in a tenth of the
# time, except in these cases, each sent to the json module instead:
# - a float below 1e-4 that Python writes with an exponent: orjson writes 0.00001 for 1e-05
#   and 1.5e-7 for 1.5e-07; two patterns find both forms (and, harmlessly, the same
#   characters inside a text or a longer number, which only costs the slower way):
#   ``differs_from_canonical``;
# - what orjson refuses: an integer beyond 64 bits, a lone surrogate, a key that is not
#   text, nesting deeper than 254, a value of a type neither knows;
# - a set (``json_default`` sorts it before its members are converted).
# A non-finite float comes out as null, as ``to_jsonable`` writes it: hence this is for
# engine values, where a ratio that overflowed is written so; ``canonical_json`` refuses it.
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | \
    orjson.OPT_PASSTHROUGH_DATACLASS
# orjson's exponent form of a float below 1e-6 (1.5e-7); the pattern also finds an "e-"
# and a digit inside a text or at the start of a two-digit exponent, which only costs the
# slower way. Starting with a literal, it is found about twice as fast as with ``in`` and a
# lookbehind digit.
_SHORT_NEGATIVE_EXPONENT = re.compile(rb"e-\d(?!\d)")
# orjson's form of a float in [1e-6, 1e-4) (0.00001), and harmlessly any other number or
# text with a point and four zeros (1.00001): a pattern starting with a literal scans a
# record's text faster than ``in`` looks for "0.0000" (1.7 against 2.0 us for 3.4 KB).
_POINT_FOUR_ZEROS = re.compile(rb"\.0000")


def _orjson_default(value: object) -> object:
    # Called for every amount, exact number and date orjson meets (a dozen a record): the
    # commonest classes are tested first, by identity, before json_default's checks.
    cls = value.__class__
    if cls is Decimal:
        text = str(value)  # format(value, "f") unless in exponent form; twice as fast
        return text if "E" not in text else format(value, "f")
    if cls is Exact:
        return exact_number(value)
    if cls is dt.date:
        text = _DATE_TEXTS.get(value)  # (date_text, inline: done for most dates written)
        return text if text is not None else date_text(value)
    if isinstance(value, frozenset | set):
        raise TypeError  # json_default sorts it before converting: the plain way writes it
    return json_default(value)


def compact_json(value: object) -> str:
    """Canonical JSON of engine values, converting amounts and dates as it goes, a
    non-finite float written as null: ``canonical_json(to_jsonable(value))``, only faster
    (orjson where it writes the same text; see above)."""
    try:
        data = orjson.dumps(value, default=_orjson_default, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return _compact_json_slowly(value)
    if differs_from_canonical(data):
        return _compact_json_slowly(value)
    return data.decode("utf-8")


def orjson_text(value: object) -> bytes:
    """orjson's text of engine values (amounts and dates converted as ``compact_json``
    does), not yet checked: the canonical text's UTF-8 unless ``differs_from_canonical``
    says it may not be. Raises TypeError for what orjson refuses. For writers that join
    several parts and check the whole once."""
    return orjson.dumps(value, default=_orjson_default, option=_OPTIONS)


def differs_from_canonical(data: bytes) -> bool:
    """Whether orjson's text (``orjson_text``, or texts joined from it) may differ from
    the canonical one: it holds a float below 1e-4 in orjson's form (or what looks like
    one), which Python writes with an exponent."""
    return (_POINT_FOUR_ZEROS.search(data) is not None
            or _SHORT_NEGATIVE_EXPONENT.search(data) is not None)


def _compact_json_slowly(value: object) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False, default=json_default)
    except ValueError:  # a non-finite float somewhere: written as null, like to_jsonable
        return canonical_json(to_jsonable(value))


def sha256_hex(value: object) -> str:
    """SHA-256 (hex) of the canonical text of ``value``."""
    return sha256_hex_text(canonical_json(value))


def sha256_hex_text(text: str) -> str:
    """SHA-256 (hex) of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Reading. orjson parses stored JSON about three times faster than the json module, and
# gives the same values, except that it turns an integer beyond 64 bits into a float
# (and refuses NaN, infinities and lone surrogates, which json reads): a text with a run
# of 19 digits, or one orjson refuses, is read by the json module instead.
_DIGITS = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))  # digits as 0
_LONG_RUN = b"0" * 19


def has_long_number(data: bytes) -> bool:
    """Whether a JSON text holds a run of 19 digits: where orjson may read a whole number
    past 64 bits as a float (found in the text with its digits translated, ten times
    faster than with a pattern)."""
    return _LONG_RUN in data.translate(_DIGITS)


def parse_json(text: str | bytes) -> object:
    """The value of a JSON text, exactly as ``json.loads`` gives it (only faster)."""
    data = text.encode("utf-8") if text.__class__ is str else text
    if not has_long_number(data):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
