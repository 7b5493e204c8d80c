"""A values bin's list compiled from the values themselves (engine/language/value_lists.py):
any text reads as itself, numbers as the input's type holds them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.canonical import Exact
from engine.errors import ExpressionError
from engine.language.expressions import CodeContext
from engine.language.value_lists import list_member, value_list_test


def compiled(values, typ):
    ctx = CodeContext()
    test = value_list_test([list_member(v, typ) for v in values], "x", typ, ctx)
    namespace = dict(ctx.constants)
    exec(compile(f"def _f(x):\n    return {test.code}\n", "<values>", "exec"), namespace)
    return test, namespace["_f"]


@given(st.lists(st.text(max_size=8), min_size=1, max_size=4), st.text(max_size=8))
def test_any_list_of_texts_matches_exactly_its_texts(texts, other):
    test, fn = compiled(texts, "string")
    assert all(fn(t) is True for t in texts)
    assert fn(other) is (other in texts)
    assert test.values == frozenset(texts)


@pytest.mark.parametrize(("typ", "value", "member"), [
    ("integer", 5, 5), ("number", 0.1, 0.1), ("money", 0.1, Decimal("0.1")),
    ("money", 1234, Decimal("1234")), ("exact", 0.1, Exact("0.1")), ("exact", 3, 3),
])
def test_numbers_are_held_as_the_input_type_holds_them(typ, value, member):
    assert list_member(value, typ) == member
    assert type(list_member(value, typ)) is type(member)


def test_money_values_are_exact():
    _, fn = compiled([0.1, 0.2], "money")
    assert fn(Decimal("0.1")) and fn(Decimal("0.20")) and not fn(Decimal("0.3"))


@pytest.mark.parametrize(("value", "typ"), [
    ("5", "integer"), ("x", "number"), (True, "money"), (1, "string"), (0.5, "string"),
    ("yes", "boolean"), (1, "boolean"), ("2026-13-01", "date"), (20260101, "date"),
    ("a", "list"),
])
def test_a_value_the_input_can_never_be_is_refused(value, typ):
    with pytest.raises(ExpressionError):
        list_member(value, typ)
