"""Engine values are written with orjson where it writes what the json module writes
(engine.canonical.compact_json): for any value, the text must be the one the slow, plain
way gives, byte for byte, including where orjson alone would differ (floats below 1e-4,
which it writes without Python's exponent or with a one-digit one) or refuse (integers
beyond 64 bits, lone surrogates, keys that are not text, sets). A trail's hashes and
decision ids depend on it."""

from __future__ import annotations

import datetime as dt
import json
import struct
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.canonical import (
    Exact,
    _compact_json_slowly,
    canonical_json,
    compact_json,
    decimal_text,
    to_jsonable,
)
from engine.language import temporal

scalars = (st.none() | st.booleans() | st.integers() | st.text()
           | st.floats() | st.decimals(allow_nan=False, allow_infinity=False, places=2)
           | st.decimals(allow_nan=False, allow_infinity=False)  # any exponent
           | st.builds(Exact, st.decimals(allow_nan=False, allow_infinity=False))
           | st.dates() | st.datetimes(timezones=st.just(dt.UTC))
           | st.integers(-(2 ** 80), 2 ** 80)
           | st.floats(min_value=-1e-3, max_value=1e-3) | st.floats(min_value=1e15))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(), inner, max_size=4) | st.frozensets(st.integers(), max_size=3),
    max_leaves=25)


@settings(max_examples=600, deadline=None)
@given(values)
def test_any_engine_value_is_written_as_the_plain_way_writes_it(value):
    assert compact_json(value) == _compact_json_slowly(value)


@settings(max_examples=300, deadline=None)
@given(values)
def test_it_is_the_canonical_text_of_the_value_made_jsonable(value):
    if not any(isinstance(v, frozenset) for v in _walk(value)):  # sets sort before converting
        assert compact_json(value) == canonical_json(to_jsonable(value))


def _walk(value):
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list | tuple | frozenset):
        for item in value:
            yield from _walk(item)


def test_every_float_form_python_writes_is_kept():
    """A million doubles of every magnitude (random bit patterns and random exponents)."""
    import random

    rnd = random.Random(12)
    for number in range(200_000):
        if number % 2:
            value = struct.unpack("d", struct.pack("Q", rnd.getrandbits(64)))[0]
        else:
            value = rnd.uniform(-1, 1) * 10.0 ** rnd.randint(-30, 30)
        if value != value or abs(value) == float("inf"):
            continue
        assert compact_json([value]) == json.dumps([value], separators=(",", ":"))


@pytest.mark.parametrize(("value", "text"), [
    (1e-05, "1e-05"), (2.5e-05, "2.5e-05"), (1.5e-07, "1.5e-07"), (1e-10, "1e-10"),
    (0.0001, "0.0001"), (1e16, "1e+16"), (-0.0, "-0.0"), (1.0, "1.0"),
    (float("nan"), "null"), (float("inf"), "null"), (2 ** 64, str(2 ** 64)),
    (Decimal("1.50"), '"1.50"'), (Exact("0.3"), "0.3"), (Exact("700"), "700.0"),
    # amounts str() would write with an exponent (compact_json tries str() first)
    (Decimal("1E+2"), '"100"'), (Decimal("1E-7"), '"0.0000001"'), (Decimal("0E-7"),
                                                                   '"0.0000000"'),
    (Decimal("0.000001"), '"0.000001"'), (Decimal("-0.00"), '"-0.00"'),
    # a point and four zeros that are not a tiny float: the plain way writes them the same
    (1.00001, "1.00001"), (100.00005, "100.00005"), (Decimal("5.00000"), '"5.00000"'),
    ("v1.0000 x", '"v1.0000 x"'),
    (dt.date(2026, 2, 28), '"2026-02-28"'), (temporal.parse(temporal.DURATION, "P30D"), '"P30D"'),
    ("\x00\x1f\x7f\u2028\"\\é中😀", json.dumps("\x00\x1f\x7f\u2028\"\\é中😀",
                                               ensure_ascii=False)),
    ({"b": 1, "a": 2, "é": 3, "Z": 4}, '{"Z":4,"a":2,"b":1,"é":3}'),
    (frozenset({3, 1, 2}), "[1,2,3]"), (("x", 1), '["x",1]'),
])
def test_the_forms_orjson_alone_would_write_otherwise(value, text):
    assert compact_json(value) == text
    assert compact_json({"v": [value]}) == '{"v":[' + text + "]}"


def test_what_neither_can_write_is_refused_the_same_way():
    for value, error in [(object(), TypeError), ({1: "x", "a": 2}, TypeError),
                         ("\ud800", None)]:
        if error is None:
            assert compact_json(value) == _compact_json_slowly(value)
        else:
            with pytest.raises(error):
                compact_json(value)


@settings(max_examples=500, deadline=None)
@given(st.decimals(allow_nan=False) | st.decimals(allow_nan=False, places=2)
       | st.builds(Exact, st.decimals(allow_nan=False)) | st.integers() | st.floats())
def test_an_amounts_text_is_format_f_whatever_the_value(value):
    """decimal_text takes str() of a Decimal where that is format(value, "f"), and
    format for anything else (an exponent form, an exact number, a whole number)."""
    assert decimal_text(value) == format(value, "f")


@pytest.mark.parametrize("value", [Decimal("1E+3"), Decimal("0E-7"), Decimal("-0"),
                                   Decimal("1.50"), Exact("2.5"), 5000, 12.5])
def test_an_amounts_text_on_its_edges(value):
    assert decimal_text(value) == format(value, "f")


class _Day(dt.date):
    def isoformat(self) -> str:
        return "a day of its own"


def test_a_dates_remembered_text_is_its_isoformat_and_only_a_dates():
    from engine import canonical

    days = [dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2024, 2, 29)]
    for day in days + days:  # the second time from what was remembered
        assert canonical.date_text(day) == day.isoformat()
        assert compact_json([day]) == f'["{day.isoformat()}"]'
    # A date and time equal to a remembered day's midnight, or a subclass of date, is
    # written as itself, never as the day's remembered text.
    midnight = dt.datetime(2024, 2, 29)
    assert canonical.date_text(midnight) == "2024-02-29T00:00:00"
    assert compact_json(midnight) == '"2024-02-29T00:00:00"'
    assert canonical.date_text(_Day(2024, 2, 29)) == "a day of its own"
    assert compact_json(_Day(2024, 2, 29)) == '"a day of its own"'


def test_a_full_memory_of_dates_starts_again(monkeypatch):
    from engine import canonical

    monkeypatch.setattr(canonical, "_DATE_TEXTS", {})
    monkeypatch.setattr(canonical, "_DATE_TEXTS_KEPT", 3)
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=n) for n in range(10)]
    assert [canonical.date_text(day) for day in days] == [d.isoformat() for d in days]
    assert len(canonical._DATE_TEXTS) <= 3
    assert compact_json(days) == json.dumps([d.isoformat() for d in days],
                                            separators=(",", ":"))
