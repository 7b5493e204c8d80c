"""The runtime helpers' fast paths (engine.language.runtime) give what their general path
gives. An Exact is a Decimal of another class, so it takes the general path with the same
digits a plain Decimal takes the fast path with."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest

from engine.canonical import Exact
from engine.language.expressions import CodeContext, as_decimal, compile_expression
from engine.language.runtime import (
    _WIDE,
    HELPERS,
    money,
    round_half_up,
    round_money,
    round_step,
    years_between,
)
from tests.expression_scope import LOCALS, SCOPE, as_function

DIGITS = ["0", "-0", "-0.00", "0.005", "-0.005", "1000", "999.999", "1000.0001", "-1000.5",
          "1234.567890123456789012345678901234567890", "-1234.567890123456789012345678901234567890",
          "1E+30", "-1E+30", "1E-30", "123456789012345678901234567890.5", "Infinity", "-Infinity"]
STEPS = [Decimal("1000"), Decimal("0.01"), Decimal("0.05"), Decimal("1"), Decimal("2.5")]


def same(a, b) -> bool:
    return type(a) is type(b) and str(a) == str(b)


def outcome(function, *args):
    """``function(*args)`` as (class name, text), or the exception it raises."""
    try:
        result = function(*args)
    except (ArithmeticError, TypeError, ValueError) as exc:
        return ("raises", type(exc).__name__)
    return (type(result).__name__, str(result))


@pytest.mark.parametrize("digits", DIGITS)
def test_round_step_of_an_amount_is_the_general_path(digits):
    for step in STEPS:
        for mode in (ROUND_FLOOR, ROUND_CEILING, ROUND_HALF_UP):
            assert outcome(round_step, Decimal(digits), step, mode) == \
                outcome(round_step, Exact(digits), step, mode), (digits, step, mode)


def test_round_step_of_a_whole_amount_and_a_float_is_unchanged():
    assert same(round_step(1500, Decimal("1000"), ROUND_FLOOR), 1000.0)
    assert same(round_step(1500.0, Decimal("1000"), ROUND_CEILING), 2000.0)
    assert round_step(float("inf"), Decimal("1000"), ROUND_FLOOR) is None


@pytest.mark.parametrize("digits", [d for d in DIGITS if "Infinity" not in d])
def test_round_money_of_an_amount_is_the_general_path(digits):
    for rounding in ((Decimal("0.01"), ROUND_HALF_UP), (Decimal("1"), ROUND_HALF_EVEN)):
        assert outcome(round_money, Decimal(digits), rounding) == \
            outcome(round_money, Exact(digits), rounding)
    assert str(round_money(Decimal("-0.004"), (Decimal("0.01"), ROUND_HALF_UP))) == "0.00"
    assert outcome(round_money, Decimal("1E+30"), (Decimal("0.01"), ROUND_HALF_UP)) == \
        ("raises", "InvalidOperation")  # past the 28 digits an amount may have


MODES = [getattr(decimal, name) for name in dir(decimal) if name.startswith("ROUND_")]


def test_rounding_through_a_context_is_the_rounding_keyword():
    """round_step and round_money round through a context per mode: what the methods
    given ``rounding=`` (in the thread's default context) give, or raise."""
    def keyword_step(value, step, mode):
        return _WIDE.multiply(_WIDE.divide(value, step).to_integral_value(rounding=mode),
                              step)

    def keyword_money(value, rounding):
        rounded = value.quantize(rounding[0], rounding=rounding[1])
        return rounded.copy_abs() if rounded.is_zero() else rounded

    assert len(MODES) == 8
    for digits in [*DIGITS, "NaN", "12345678901234567890123456.785", "-2.5", "0.125"]:
        for mode in MODES:
            for step in STEPS:
                assert outcome(round_step, Decimal(digits), step, mode) == \
                    outcome(keyword_step, Decimal(digits), step, mode), (digits, step, mode)
            for quantum in (Decimal("0.01"), Decimal("1"), Decimal("1E+2")):
                assert outcome(round_money, Decimal(digits), (quantum, mode)) == \
                    outcome(keyword_money, Decimal(digits), (quantum, mode)), \
                    (digits, quantum, mode)


def test_round_money_of_other_numbers_is_unchanged():
    rounding = (Decimal("0.01"), ROUND_HALF_UP)
    assert same(round_money(2.675, rounding), Decimal("2.68"))  # as written, not as stored
    assert same(round_money(7, rounding), Decimal("7.00"))
    assert same(round_money(-0.0, rounding), Decimal("0.00"))


@pytest.mark.parametrize("places", range(11))
def test_round_to_places_uses_the_quantum_of_those_places(places):
    for value in (2.675, -2.5, 0.5, 49.5, 1 / 3, 12345.675):
        expected = Decimal(repr(value)).quantize(Decimal(1).scaleb(-places),
                                                 rounding=ROUND_HALF_UP)
        result = round_half_up(value, places)
        assert result == (int(expected) if places == 0 else float(expected))
        assert same(round_half_up(Decimal(repr(value)), places), expected)


@pytest.mark.parametrize(("earlier", "later", "years"), [
    ((2020, 2, 29), (2021, 2, 28), 0), ((2020, 2, 29), (2021, 3, 1), 1),
    ((2020, 2, 29), (2024, 2, 29), 4), ((2020, 3, 1), (2021, 2, 28), 0),
    ((2020, 6, 30), (2020, 6, 30), 0), ((2020, 6, 30), (2021, 6, 29), 0),
    ((2020, 6, 30), (2021, 6, 30), 1), ((2021, 6, 30), (2020, 6, 30), -1),
    ((2021, 6, 29), (2020, 6, 30), 0), ((1, 1, 1), (9999, 12, 31), 9998),
])
def test_years_between_counts_whole_years_only(earlier, later, years):
    result = years_between(dt.date(*earlier), dt.date(*later))
    assert result == years and type(result) is int


AMOUNT_VALUES = [None, 0, -0.0, 7, 10 ** 39, 2.675, 0.1 + 0.2, float("inf"), float("nan"),
                 Decimal("-0.00"), Decimal("12345.675"), Decimal("NaN"), Exact("5.50"), True]


def test_an_amount_made_decimal_inline_is_what_money_gives():
    """Generated code asks ``_money`` only for a value that is not a Decimal already."""
    ctx = CodeContext()
    code = as_decimal("value", ctx)
    function = eval(f"lambda value: {code}", {**HELPERS})  # the code just written
    for value in AMOUNT_VALUES:
        assert outcome(function, value) == outcome(money, value), value
        if value.__class__ is Decimal:
            assert function(value) is value


@pytest.mark.parametrize(("text", "written"), [
    ("m * (60 + 15) / 30", "m * 75 / 30"), ("m * (2 - 5)", "m * -3"),
    ("m * (4 * (1 + 2))", "m * 12"), ("(10 + 20) + m", "30 + m"),
    ("m * (-7 + 1)", "m * -6")])
def test_whole_numbers_added_up_in_an_amount_are_the_number_they_make(text, written):
    """(60 + 15) where an amount is needed is made a Decimal once, as 75 would be."""
    ctx = CodeContext()
    code = compile_expression(text, SCOPE, ctx).code
    assert "_money" not in code
    function = as_function(code, ctx)
    reference_ctx = CodeContext()
    reference = as_function(compile_expression(written, SCOPE, reference_ctx).code,
                            reference_ctx)
    for value in AMOUNT_VALUES[:11]:
        values = {**dict.fromkeys(LOCALS), "k": 1, "m": value}
        assert outcome(lambda: function(**values)) == \
            outcome(lambda: reference(**values)), (text, value)  # noqa: B023
