"""A list of values a ruleset writes as YAML (a scorecard's ``values`` bin), compiled to a
test that the input is one of them.

The values are taken as YAML gives them, never written out as a cell and read back: a text
is that text whatever it holds (quotes, commas, backslashes, ``> 5``, ``-``), a number
that number, so there is no quoting for a splitter to disagree with. A value the input can
never be (a text for a number input, a number for a text input) is refused where it
stands rather than left to match nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal

from ..errors import ExpressionError
from .expressions import BOOLEAN, DATE, EXACT, MONEY, NULL, NUMERIC, STRING, CodeContext, shown
from .runtime import written
from .unary_tests import UnaryTest

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_LARGEST_WHOLE = 10**30  # the expression language's bound on a whole number


def list_member(value: object, input_type: str) -> object:
    """``value`` (one YAML item) as the input's type holds it: a text for a text input, a
    number for a number input (exact as written, a Decimal for money), a date for a date
    input (written ``2026-01-31``), true/false for a boolean one. Raises ExpressionError
    when the input can never be this value."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if input_type == STRING:
        if isinstance(value, str):
            return value
        raise ExpressionError(f"{_yaml(value)} in the values of a text input; quote it "
                              f"(\"{_yaml(value)}\") for the text")
    if input_type in NUMERIC:
        if not is_number:
            hint = ""
            if isinstance(value, str):
                hint = (f" (write {value.strip()} without quotes)" if _is_number_text(value)
                        else " (a range bin takes an interval)")
            raise ExpressionError(f"{_yaml(value)} in the values of a number input: "
                                  f"they are numbers{hint}")
        if isinstance(value, int) and abs(value) > _LARGEST_WHOLE:
            raise ExpressionError("number too large")
        if input_type == MONEY:
            return Decimal(repr(value))
        return written(value) if input_type == EXACT else value
    if input_type == DATE:
        if isinstance(value, str) and _ISO_DATE.match(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise ExpressionError(f"{_yaml(value)} is not a date (write it as 2026-01-31)")
    if input_type == BOOLEAN:
        if isinstance(value, bool):
            return value
        raise ExpressionError(f"{_yaml(value)} in the values of a true/false input: they "
                              "are true or false, without quotes")
    if input_type == NULL:  # an input that is always missing: only a missing bin matches
        return value
    raise ExpressionError(f"a values bin needs a text, number, date or true/false input, "
                          f"this one gives {shown(input_type)} values")


def value_list_test(members: Sequence[object], input_code: str, input_type: str,
                    ctx: CodeContext) -> UnaryTest:
    """The test that the input (in the variable ``input_code``, never null) is one of
    ``members`` (from ``list_member``), described by its values for static checks."""
    if len(members) == 1:
        code = f"({input_code} == {_constant(members[0], ctx)})"
    else:
        code = f"({input_code} in {ctx.constant(frozenset(members))})"
    described = frozenset(_as_written(m) if input_type == MONEY else m for m in members)
    text = ", ".join(repr(m) if isinstance(m, str) else _yaml(m) for m in members)
    return UnaryTest(text, code, values=described)


def _as_written(amount: Decimal) -> int | float:
    """A money value as static checks see a cell's values: the number written."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _constant(member: object, ctx: CodeContext) -> str:
    if isinstance(member, str | bool | int | float):
        return repr(member)
    return ctx.constant(member)


def _yaml(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value) if not isinstance(value, str) else repr(value)


def _is_number_text(text: str) -> bool:
    return bool(_DECIMAL.match(text.strip()))
