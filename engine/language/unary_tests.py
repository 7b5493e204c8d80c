"""Decision-table cells an analyst can read (DMN "unary tests"), compiled to conditions.

A cell tests the value of its column's input:

- ``-`` (or an empty cell): any value, even a missing one;
- ``>= 80``, ``< 0.5``, ``= "retail"``, ``!= 0``: a comparison (the right side may be any
  expression, such as ``> 0.1 * revenue`` or ``= attributes.other``; in a text column a
  bare word there that names no field, like ``!= retail``, is text, but a dotted path
  like ``attributes.othr`` is always read as a field);
- ``[60..80)``, ``(0..1]``, ``]0..1[``, ``[100..)`` or ``(..0)``: an interval, square
  brackets closed, round ones open, an empty end (or ``-inf`` / ``inf``) unbounded; as
  scorecard tools export them, ``[-inf,8)``, ``]-inf,8[`` and ``[44,inf)`` too (number
  ends only); infinity is no number elsewhere (``< inf`` is refused);
- ``AAA, AA`` or ``"a b", 3``: one of these values (bare words are text in a text column;
  one that names a field is refused: ``= name`` means its value, ``"name"`` the text);
- ``not(AAA, AA)``: none of these;
- an expression with ``?`` standing for the input, e.g. ``? > 0.5 * equity``.

Every test is false for a missing input except ``-``.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..errors import ExpressionError
from . import temporal
from .expressions import (
    BOOLEAN,
    DATE,
    EXACT,
    MONEY,
    NUMBER,
    NUMERIC,
    STRING,
    CodeContext,
    Symbol,
    compile_expression,
    shown,
)
from .runtime import written
from .temporal import TEMPORAL

INPUT_NAME = "_input_"
# The cell syntax (engine.dmn reads a ruleset's cells with these too, to write them as FEEL).
COMPARISON = re.compile(r"^(<=|>=|!=|<|>|=)\s*(.*)$", re.S)
INTERVAL = re.compile(r"^([\[\(\]])\s*(.*?)\s*\.\.\s*(.*?)\s*([\]\)\[])$", re.S)
# [a,b) as scorecard tools write a bin; a list is never a cell, so this is not ambiguous.
COMMA_INTERVAL = re.compile(r"^([\[\(\]])\s*([^,]*?)\s*,\s*([^,]*?)\s*([\]\)\[])$", re.S)
INFINITY = re.compile(r"^([+-]?)inf(inity)?$", re.I)
BARE_WORD = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/ ]*$")
NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# A dotted path such as attributes.other: after an operator it is read as a field, never text.
FIELD_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


@dataclass(frozen=True)
class Interval:
    """A range with constant ends; None is unbounded. The ends of an exact column (the
    score) are exact (int or Decimal), of other number columns ints and floats, of a date,
    time or duration column values of its type (engine.language.temporal)."""

    low: float | Decimal | None
    low_closed: bool
    high: float | Decimal | None
    high_closed: bool

    def contains(self, value: float | Decimal) -> bool:
        """True when ``value`` lies in the interval."""
        if self.low is not None and (value < self.low or (value == self.low and
                                                          not self.low_closed)):
            return False
        return not (self.high is not None and (value > self.high or (
            value == self.high and not self.high_closed)))

    def __str__(self) -> str:
        low = "" if self.low is None else _fmt(self.low)
        high = "" if self.high is None else _fmt(self.high)
        return f"{'[' if self.low_closed else '('}{low}..{high}{']' if self.high_closed else ')'}"


@dataclass(frozen=True)
class UnaryTest:
    """A compiled cell. ``code`` is a Python condition (None: matches anything); ``reads``
    the fact names it reads besides the input; ``intervals``/``values`` describe it for
    static checks when it is made only of constants (else None)."""

    text: str
    code: str | None
    reads: tuple[str, ...] = ()
    intervals: tuple[Interval, ...] | None = None
    values: frozenset | None = None
    negated: bool = False

    @property
    def is_any(self) -> bool:
        return self.code is None


def compile_unary_test(cell: object, input_code: str, input_type: str,
                       scope: Mapping[str, Symbol], ctx: CodeContext,
                       *, input_nullable: bool = True) -> UnaryTest:
    """Compile one cell for an input whose value is in the variable ``input_code``.
    Raises ExpressionError (offset into the cell text) when the cell cannot be read."""
    if cell is None:
        return UnaryTest("-", None)
    if isinstance(cell, bool):
        if input_type != BOOLEAN:
            raise ExpressionError(f"true/false in a column of {shown(input_type)} values")
        return UnaryTest(str(cell).lower(), f"({input_code} is {cell})", values=frozenset([cell]))
    if isinstance(cell, int | float):
        text = repr(cell)
    elif isinstance(cell, str):
        text = cell
    else:
        raise ExpressionError("a cell must be a text, a number or true/false")
    builder = _CellBuilder(text, input_code, input_type, scope, ctx, input_nullable)
    return builder.build()


class _CellBuilder:
    def __init__(self, text, input_code, input_type, scope, ctx, input_nullable):
        self.text = text
        self.input = input_code
        self.type = input_type
        self.scope = scope
        self.ctx = ctx
        self.nullable = input_nullable
        self.reads: list[str] = []
        # Codes of ends where an exact number meets a float (see endpoint).
        self.float_ends: set[str] = set()  # float ends in an exact column
        self.exact_ends: set[str] = set()  # exact ends in a column of floats

    def build(self) -> UnaryTest:
        stripped = self.text.strip()
        if stripped in ("", "-"):
            return UnaryTest(self.text, None)
        negated = False
        body, base = stripped, self.text.index(stripped[0])
        match = re.match(r"^not\s*\((.*)\)$", stripped, re.S)
        if match:
            negated, body, base = True, match.group(1), base + match.start(1)
        if "?" in _outside_quotes(body):
            code = self.question_expression(body, base)
            intervals = values = None
        else:
            items = split_items(body, base)
            if not items:
                raise ExpressionError("empty list of values", base)
            codes, intervals, values = [], [], set()
            for item, offset in items:
                code, interval, value = self.item(item, offset)
                codes.append(code)
                if interval is not None and intervals is not None:
                    intervals.append(interval)
                elif value is not _NO_VALUE and values is not None:
                    values.add(value)
                else:
                    intervals = values = None
            code = codes[0] if len(codes) == 1 else "(" + " or ".join(codes) + ")"
            if len(codes) > 1 and values is not None and not intervals:
                members = {Decimal(repr(v)) for v in values} if self.type == MONEY else values
                code = f"({self.input} in {self.ctx.constant(frozenset(members))})"
            if intervals is not None and values is not None:
                intervals = tuple(intervals)
                values = frozenset(values)
        if negated:
            guard = f"{self.input} is not None and " if self.nullable else ""
            code = f"({guard}not {code})"
        return UnaryTest(self.text, code, tuple(self.reads), intervals or None,
                         values or None, negated)

    def expression(self, text: str, offset: int, expect: str | None = None):
        try:
            compiled = compile_expression(text, self.scope_with_input(), self.ctx,
                                          expect=expect)
        except ExpressionError as exc:
            raise exc.shifted(offset) from None
        self.reads.extend(n for n in compiled.reads if n != INPUT_NAME and n not in self.reads)
        return compiled

    def scope_with_input(self) -> Mapping[str, Symbol]:
        scope = dict(self.scope)
        scope[INPUT_NAME] = Symbol(self.type, self.input, self.nullable)
        return scope

    def question_expression(self, body: str, base: int) -> str:
        source = _replace_question_marks(body)
        return self.expression(source, base, expect=BOOLEAN).code

    def item(self, item: str, offset: int):
        """(code, Interval or None, constant value or _NO_VALUE) for one list item."""
        match = INTERVAL.match(item)
        if match and ".." in item:
            return self.interval(match, offset)
        match = COMMA_INTERVAL.match(item)
        if match:
            for end, start in ((match.group(2), match.start(2)), (match.group(3),
                                                                 match.start(3))):
                if end and not (NUMBER_TEXT.match(end) or INFINITY.match(end)):
                    raise ExpressionError("an interval written with a comma takes numbers "
                                          "or -inf/inf as its ends; write [a..b) for "
                                          "other values", offset + start)
            return self.interval(match, offset)
        match = COMPARISON.match(item)
        if match:
            operator, right = match.group(1), match.group(2)
            if not right.strip():
                raise ExpressionError(f"nothing after '{operator}'", offset + len(item))
            symbol = "==" if operator == "=" else operator
            right_offset = offset + match.start(2)
            value_code, constant = self.endpoint(right, right_offset, bare_words="operand")
            code = self.compare(symbol, value_code, offset)
            interval = None
            if constant is not _NO_VALUE and _is_ordered(constant) and \
                    symbol in ("<", "<=", ">", ">="):
                interval = Interval(constant if symbol[0] == ">" else None, symbol == ">=",
                                    constant if symbol[0] == "<" else None, symbol == "<=")
            if symbol == "==" and constant is not _NO_VALUE:
                return code, None, constant
            return code, interval, _NO_VALUE
        value_code, constant = self.endpoint(item, offset, bare_words=True)
        return self.compare("==", value_code), None, constant

    def interval(self, match: re.Match, offset: int):
        opening, low_text, high_text, closing = match.groups()
        low_closed, high_closed = opening == "[", closing == "]"
        if not low_text and not high_text:
            raise ExpressionError("an interval needs at least one end", offset)
        if self.type not in NUMERIC and self.type not in TEMPORAL:
            raise ExpressionError(f"an interval needs a number or date column, "
                                  f"this one holds {shown(self.type)} values", offset)
        # -inf below and inf above are no bound; the other way round nothing is inside.
        low_infinite, high_infinite = INFINITY.match(low_text), INFINITY.match(high_text)
        if (low_infinite and low_infinite.group(1) != "-") or \
                (high_infinite and high_infinite.group(1) == "-"):
            raise ExpressionError(f"the interval {match.group(0)} is empty", offset)
        low_text = "" if low_infinite else low_text
        high_text = "" if high_infinite else high_text
        guards = [f"{self.input} is not None"] if self.nullable else []
        low_code = high_code = None
        low_value = high_value = None
        floated = False  # an exact input compared with a float end: compared as a float
        if low_text:
            low_code, low_value = self.endpoint(low_text, offset + match.start(2))
            floated = low_code in self.float_ends
            low_code = self.as_compared(low_code, self.settled(low_code, guards))
        if high_text:
            high_code, high_value = self.endpoint(high_text, offset + match.start(3))
            floated = floated or high_code in self.float_ends
            high_code = self.as_compared(high_code, self.settled(high_code, guards))
        test = f"float({self.input})" if floated else self.input
        if floated:
            low_code, high_code = (self.float_constant(c) for c in (low_code, high_code))
        if low_code is not None:
            test = f"{low_code} {'<=' if low_closed else '<'} {test}"
        if high_code is not None:
            test = f"{test} {'<=' if high_closed else '<'} {high_code}"
        if low_code is None and high_code is None:  # (-inf..inf): any value that is there
            code = f"({guards[0]})" if guards else "True"
        else:
            code = "(" + " and ".join([*guards, test]) + ")"
        interval = None
        if _comparable_constants(low_value, high_value) and (
                low_value > high_value or (low_value == high_value and
                                           not (low_closed and high_closed))):
            raise ExpressionError(f"the interval {match.group(0)} is empty", offset)
        if low_value is not _NO_VALUE and high_value is not _NO_VALUE and \
                all(v is None or _is_ordered(v) for v in (low_value, high_value)):
            interval = Interval(low_value, low_closed and low_text != "", high_value,
                                high_closed and high_text != "")
        return code, interval, _NO_VALUE

    def endpoint(self, text: str, offset: int, bare_words: bool | str = False):
        """(code, constant value or _NO_VALUE) for a value in a cell. ``bare_words``: in a
        text column a bare word is text (True: a list item, where a word naming a field is
        refused as ambiguous; "operand": the right of an operator, where a field's name
        means its value). A dotted path (``attributes.other``) is never text: it is read as
        a field, so one that names no field is an unknown field."""
        stripped = text.strip()
        offset += text.index(stripped[0]) if stripped else 0
        dotted = False
        if self.type == DATE and re.match(r"^\d{4}-\d{2}-\d{2}$", stripped):
            try:
                value = dt.date.fromisoformat(stripped)
            except ValueError:
                raise ExpressionError(f"'{stripped}' is not a date", offset) from None
            return self.ctx.constant(value), value
        kind = temporal.bare_kind(self.type, stripped) if self.type in TEMPORAL else None
        if kind is not None:
            try:  # a bare 09:30, 2026-01-31T09:30:00Z or P30D in a column of its type
                value = temporal.parse(kind, stripped)
            except ValueError as exc:
                raise ExpressionError(str(exc), offset) from None
            if temporal.type_of(value) != self.type:
                raise ExpressionError(f"'{stripped}' is a {temporal.type_of(value)}, not a "
                                      f"{self.type}", offset)
            return self.ctx.constant(value), value
        if bare_words and self.type == STRING and BARE_WORD.match(stripped) and \
                not NUMBER_TEXT.match(stripped):
            if stripped in self.scope:
                if bare_words != "operand":
                    raise ExpressionError(
                        f"'{stripped}' names a field: write '= {stripped}' to compare with "
                        f"its value, or \"{stripped}\" (quoted) for the text", offset)
            elif not FIELD_PATH.match(stripped):
                return repr(stripped), stripped
            else:  # a dotted name is a field wherever it stands, never text in disguise
                dotted = True
        if INFINITY.match(stripped) and stripped not in self.scope and self.type in NUMERIC:
            raise ExpressionError(f"'{stripped}' is no number: infinity is only an interval's "
                                  "end, as in (..8), [-inf,8) or [44,inf)", offset)
        if NUMBER_TEXT.match(stripped):
            value = _number_value(stripped, offset)
            if self.type not in NUMERIC:
                raise ExpressionError(f"the number {stripped} in a column of {self.type} "
                                      "values", offset)
            if self.type == MONEY:  # exact, as written: money is compared as Decimal
                return self.ctx.constant(Decimal(stripped)), value
            if self.type == EXACT and isinstance(value, float):  # exact, as written
                exact = written(Decimal(stripped))
                return self.ctx.constant(exact), exact
            return repr(value), value
        try:
            compiled = self.expression(stripped, offset)
        except ExpressionError as exc:
            if not dotted:
                raise
            raise ExpressionError(f"{exc.message}; a dotted name is read as a field: write "
                                  f"\"{stripped}\" (quoted) for the text", exc.offset,
                                  exc.unknown_name) from None
        if compiled.type not in (self.type, "null") and not (
                compiled.type in NUMERIC and self.type in NUMERIC):
            raise ExpressionError(f"a {shown(compiled.type)} value in a column of "
                                  f"{shown(self.type)} values", offset)
        if compiled.code.startswith(("'", '"')):
            return compiled.code, ast.literal_eval(compiled.code)
        if compiled.type in TEMPORAL and compiled.code in self.ctx.constants:
            return compiled.code, self.ctx.constants[compiled.code]  # date("2026-01-31")
        # Where an exact number meets a float, it is compared as the float nearest to it.
        if self.type == EXACT and compiled.type == NUMBER:
            self.float_ends.add(compiled.code)
        elif self.type == NUMBER and compiled.type == EXACT:
            if compiled.code in self.ctx.constants:  # (0.5): converted once, here
                return repr(float(self.ctx.constants[compiled.code])), _NO_VALUE
            self.exact_ends.add(compiled.code)
        return compiled.code, _NO_VALUE

    def as_compared(self, code: str, settled: str) -> str:
        """``settled`` (the name of an end's value), as a float when the end is an exact
        number in a column of floats."""
        return f"float({settled})" if code in self.exact_ends else settled

    def float_constant(self, code: str | None) -> str | None:
        """An exact constant end as a float literal (the input is compared as a float)."""
        if code is not None and code in self.ctx.constants and \
                isinstance(self.ctx.constants[code], Decimal):
            return repr(float(self.ctx.constants[code]))
        return code

    def settled(self, code: str, guards: list[str]) -> str:
        """A name for ``code``'s value, adding a not-null guard when it is computed."""
        if _is_constant(code):
            return code
        if code.isidentifier():
            guards.append(f"{code} is not None")
            return code
        name = self.ctx.temp()
        guards.append(f"({name} := {code}) is not None")
        return name

    def compare(self, symbol: str, value_code: str, offset: int = 0) -> str:
        """The condition ``input symbol value``; ``offset``: where the operator is."""
        floated = value_code in self.float_ends
        if symbol == "==" and _is_constant(value_code):
            return f"({self.input} == {value_code})"  # None never equals a constant
        if symbol == "!=" and self.type in (STRING, BOOLEAN) and _is_constant(value_code):
            test = f"{self.input} {symbol} {value_code}"
            return f"({self.input} is not None and {test})" if self.nullable else f"({test})"
        if self.type == BOOLEAN and symbol not in ("==", "!="):
            raise ExpressionError(f"'{symbol}' cannot order true/false values", offset)
        guards = [f"{self.input} is not None"] if self.nullable else []
        value_code = self.as_compared(value_code, self.settled(value_code, guards))
        left = f"float({self.input})" if floated else self.input
        guards.append(f"{left} {symbol} {value_code}")
        return "(" + " and ".join(guards) + ")"


class _NoValue:
    def __repr__(self) -> str:
        return "<no constant>"


_NO_VALUE = _NoValue()


def _number_value(text: str, offset: int) -> int | float:
    """A number written in a cell; one too large to hold (1e999 would be an infinity) is
    refused, with the bounds the expression language has."""
    if any(c in text for c in ".eE"):
        value = float(text)
        if value in (math.inf, -math.inf):
            raise ExpressionError("number too large", offset)
        if value == 0 and Decimal(text) != 0:  # 1e-400 would be 0
            raise ExpressionError("number too small to hold (it would be 0)", offset)
        return value
    if len(text.lstrip("+-0")) > 31 or abs(int(text)) > 10**30:
        raise ExpressionError("number too large", offset)
    return int(text)


def _comparable_constants(low: object, high: object) -> bool:
    """True when both ends are constants that can be ordered (two numbers, two dates)."""
    if low is None or high is None or low is _NO_VALUE or high is _NO_VALUE:
        return False
    return (_is_number(low) and _is_number(high)) or type(low) is type(high)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _is_ordered(value: object) -> bool:
    """A constant an interval can hold: a number, a date, a time or a duration."""
    return _is_number(value) or temporal.type_of(value) is not None


def _is_constant(code: str) -> bool:
    """True for code that is a literal or a pooled constant (never null)."""
    return bool(NUMBER_TEXT.match(code) or re.match(r"^_k\d+$", code)) or \
        code.startswith(("'", '"')) or code in ("True", "False")


def _fmt(value: object) -> str:
    if temporal.type_of(value) is not None:
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else repr(value)


# A quoted text as an expression reads it: a backslash escapes the character after it.
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", re.S)


def _outside_quotes(text: str) -> str:
    """``text`` with every quoted part blanked out."""
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), text)


def _replace_question_marks(text: str) -> str:
    """Replace each ``?`` outside quotes by the input's name, keeping offsets stable
    enough for messages (the name is longer; an error after it points a little late)."""
    masked = _outside_quotes(text)
    return "".join(INPUT_NAME if masked[i] == "?" else ch for i, ch in enumerate(text))


def split_items(text: str, base: int) -> list[tuple[str, int]]:
    """Split a cell on top-level commas (not inside quotes, brackets or parentheses, nor
    inside an interval written with reversed brackets, ``]0..1[``), keeping each item's
    offset in the cell."""
    items, depth, quote, start, escaped = [], 0, "", 0, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif quote:
            if char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "]" and not text[start:index].strip():  # ]0..1[: an open lower end
            depth += 1
        elif char == "[" and depth == 1 and text[index + 1:].lstrip()[:1] in ("", ","):
            depth -= 1  # [0..1[ or ]0,1[: an open upper end closes the interval
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth <= 0:
            items.append((text[start:index], start))
            start = index + 1
    items.append((text[start:], start))
    result = []
    for item, offset in items:
        stripped = item.strip()
        if not stripped:
            raise ExpressionError("empty item in a list of values", base + offset)
        result.append((stripped, base + offset + item.index(stripped[0])))
    return result
