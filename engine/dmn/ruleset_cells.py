"""The ruleset's side of a cell: its input-cell and expression text read into terms (for
export) and written from terms (for import), as ``engine.language.unary_tests`` and the
expression language read them.

Reading happens without the ruleset's facts, so two things are decided by form alone: a
bare word standing alone in a list is text (the language refuses a field's name there),
and after an operator a dotted path is a field while a single word is a field only when
``known`` names it (the stage's own derived facts and the engine's names), else text.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection

from ..errors import ExpressionError
from ..language import temporal
from ..language.unary_tests import (
    BARE_WORD,
    COMMA_INTERVAL,
    COMPARISON,
    FIELD_PATH,
    INFINITY,
    INTERVAL,
    NUMBER_TEXT,
    split_items,
)
from .feel import plain_number, quoted
from .terms import (
    ANY,
    FUNCTIONS,
    Binary,
    Bool,
    Call,
    Compare,
    DateLit,
    Expr,
    Item,
    Missing,
    Name,
    Neg,
    Not,
    Null,
    Num,
    Question,
    Range,
    Satisfies,
    TermError,
    Tests,
    Text,
    TimeLit,
)

_QUESTION = "_dmn_input_"
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", re.S)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WORDS = {"true": Bool(True), "false": Bool(False), "null": Null()}
# The ruleset's constant functions of times and durations, and the type each reads.
_TIME_FUNCTIONS = {"time": temporal.TIME, "datetime": temporal.DATETIME,
                   "duration": temporal.DURATION}

# Names every stage may read besides its facts (see docs/ruleset-language.md).
ENGINE_NAMES = frozenset({
    "as_of", "admission_outcome", "score", "band_grade", "grade", "credit_limit",
    "payment_term_days", "discount_rate", "discount_days", "guarantee_required",
    "review_interval_days", "total_exposure", "overrides_applied", "days_overdue",
    "overdue_amount", "balance", "dispute_open", "promise_broken", "last_step",
    "days_since_last_step"})


# --- reading ruleset text -------------------------------------------------------------------

def read_cell(cell: object, known: Collection[str]) -> Tests:
    """An input cell of a ruleset table (as YAML gives it) as terms."""
    if cell is None:
        return ANY
    if isinstance(cell, bool):
        return Tests((Compare("==", Bool(cell)),))
    if isinstance(cell, int | float):
        return Tests((Compare("==", _number(repr(cell))),))
    if not isinstance(cell, str):
        raise TermError("a cell must be a text, a number or true/false")
    stripped = cell.strip()
    if stripped in ("", "-"):
        return ANY
    negated, body = False, stripped
    match = re.match(r"^not\s*\((.*)\)$", stripped, re.S)
    if match:
        negated, body = True, match.group(1)
    if "?" in _QUOTED.sub("", body):
        return Tests((Satisfies(read_expression(body, question=True)),), negated)
    return Tests(tuple(_item(item, known) for item in _split(body)), negated)


def _item(item: str, known: Collection[str]) -> Item:
    match = INTERVAL.match(item)
    if (match and ".." in item) or COMMA_INTERVAL.match(item):
        match = match if match and ".." in item else COMMA_INTERVAL.match(item)
        opening, low, high, closing = match.groups()
        return Range(_end(low), opening == "[", _end(high), closing == "]")
    match = COMPARISON.match(item)
    if match:
        op = "==" if match.group(1) == "=" else match.group(1)
        return Compare(op, _operand(match.group(2).strip(), known))
    return Compare("==", _value(item))


def _end(text: str) -> Expr | None:
    if not text or INFINITY.match(text):
        return None
    return _value(text)


def _value(text: str) -> Expr:
    """A value standing alone in a list: a bare word is text (but bare ISO text of a
    date, time, date and time or duration is that value, as in such a column)."""
    if _DATE.match(text):
        return DateLit(text)
    if (constant := _bare_time(text)) is not None:
        return constant
    if NUMBER_TEXT.match(text):
        return _number(text)
    if text in _WORDS:
        return _WORDS[text]
    if BARE_WORD.match(text):
        return Text(text)
    return read_expression(text)


def _operand(text: str, known: Collection[str]) -> Expr:
    """The right of an operator: as a value standing alone, except that a field's name
    (which a bare word would be as text) means its value."""
    value = _value(text)
    if isinstance(value, Text) and (FIELD_PATH.match(text) or text in known
                                    or text in ENGINE_NAMES):
        return Name(text)
    return value


def _bare_time(text: str) -> TimeLit | None:
    """Bare ISO text of a time, a date and time or a duration (``09:30``, ``P30D``,
    ``P1Y6M``) as that constant; None for anything else (``P2P`` is text)."""
    for function, typ in _TIME_FUNCTIONS.items():
        if temporal.looks_like(typ, text):
            try:
                temporal.parse(typ, text)
            except ValueError:
                continue
            return TimeLit(function, text)
    return None


def _number(text: str) -> Expr:
    digits = plain_number(text.lstrip("+-"))
    return Neg(Num(digits)) if text.startswith("-") else Num(digits)


def _split(text: str) -> list[str]:
    """Items at top-level commas, as the ruleset splits a cell (``unary_tests``)."""
    try:
        return [item for item, _ in split_items(text, 0)]
    except ExpressionError as error:  # an empty item
        raise TermError(error.message) from None


def read_expression(text: str, question: bool = False) -> Expr:
    """A ruleset expression as terms (``question``: ``?`` stands for the input)."""
    source = temporal.spell_dmn_names(text.strip())
    if question:
        masked = _QUOTED.sub(lambda m: " " * len(m.group(0)), source)
        source = "".join(_QUESTION if masked[i] == "?" else c for i, c in enumerate(source))
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        raise TermError(f"'{text.strip()}' is not an expression") from None
    return _Reader(source).visit(tree.body)


class _Reader:
    def __init__(self, source: str):
        self.source = source

    def visit(self, node: ast.AST) -> Expr:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise TermError(f"'{ast.get_source_segment(self.source, node)}' has no DMN "
                            f"form here (only literals, names, + - * /, comparisons, and, "
                            f"or, not, min, max, abs, floor, ceil, is_missing, date, time, "
                            f"datetime and duration)")
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> Expr:
        if isinstance(node.value, bool):
            return Bool(node.value)
        if isinstance(node.value, int | float):
            return _number(ast.get_source_segment(self.source, node) or repr(node.value))
        if isinstance(node.value, str):
            return Text(node.value)
        if node.value is None:
            return Null()
        raise TermError(f"the constant {node.value!r} has no DMN form")

    def visit_Name(self, node: ast.Name) -> Expr:
        if node.id == _QUESTION:
            return Question()
        if node.id in _WORDS:
            return _WORDS[node.id]
        return Name(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> Expr:
        inner = self.visit(node.value)
        if not isinstance(inner, Name):
            raise TermError(f"'{ast.get_source_segment(self.source, node)}' is not a name")
        return Name(f"{inner.path}.{node.attr}")

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Expr:
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return Neg(operand)
        if isinstance(node.op, ast.Not):
            return Not(operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        raise TermError("'~' has no DMN form")

    def visit_BinOp(self, node: ast.BinOp) -> Expr:
        ops = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
        if type(node.op) not in ops:
            raise TermError(f"the operator in '{ast.get_source_segment(self.source, node)}' "
                            "has no DMN form here")
        return Binary(ops[type(node.op)], self.visit(node.left), self.visit(node.right))

    def visit_BoolOp(self, node: ast.BoolOp) -> Expr:
        op = "and" if isinstance(node.op, ast.And) else "or"
        result = self.visit(node.values[0])
        for value in node.values[1:]:
            result = Binary(op, result, self.visit(value))
        return result

    def visit_Compare(self, node: ast.Compare) -> Expr:
        ops = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
               ast.GtE: ">="}
        if len(node.ops) != 1 or type(node.ops[0]) not in ops:
            raise TermError(f"'{ast.get_source_segment(self.source, node)}' has no DMN "
                            "form here (one comparison, no 'in' or chains)")
        return Binary(ops[type(node.ops[0])], self.visit(node.left),
                      self.visit(node.comparators[0]))

    def visit_Call(self, node: ast.Call) -> Expr:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name == "is_missing" and len(node.args) == 1 and not node.keywords:
            return Missing(self.visit(node.args[0]))
        if name == "date" and len(node.args) == 1 and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            return DateLit(node.args[0].value)
        name = name and temporal.function_name(name)
        if name in _TIME_FUNCTIONS and len(node.args) == 1 and not node.keywords and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            return TimeLit(name, node.args[0].value)
        if name in FUNCTIONS and not node.keywords:
            return Call(name, tuple(self.visit(a) for a in node.args))
        raise TermError(f"the function {name or '?'}() has no DMN form here")


# --- writing ruleset text -------------------------------------------------------------------

_PRECEDENCE = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
               "+": 5, "-": 5, "*": 6, "/": 6}


def _precedence(expr: Expr) -> int:
    if isinstance(expr, Binary):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, Not):
        return 3
    if isinstance(expr, Neg):
        return 7
    return 9


def write_expression(expr: Expr) -> str:
    """Ruleset expression text for ``expr``."""
    if isinstance(expr, Num):
        return expr.text
    if isinstance(expr, Text):
        return quoted(expr.value)
    if isinstance(expr, Bool):
        return "true" if expr.value else "false"
    if isinstance(expr, Null):
        return "null"
    if isinstance(expr, Name):
        return expr.path
    if isinstance(expr, DateLit):
        return f"date({quoted(expr.text)})"
    if isinstance(expr, TimeLit):
        return f"{expr.function}({quoted(expr.text)})"
    if isinstance(expr, Question):
        return "?"
    if isinstance(expr, Missing):
        return f"is_missing({write_expression(expr.operand)})"
    if isinstance(expr, Call):
        return f"{expr.name}({', '.join(write_expression(a) for a in expr.args)})"
    if isinstance(expr, Not):
        return "not " + _wrapped(expr.operand, 3, strict=False)
    if isinstance(expr, Neg):
        return "-" + _wrapped(expr.operand, 7, strict=False)
    prec = _PRECEDENCE[expr.op]
    return (f"{_wrapped(expr.left, prec, strict=prec == 4)} {expr.op} "
            f"{_wrapped(expr.right, prec, strict=True)}")


def _wrapped(expr: Expr, prec: int, strict: bool) -> str:
    text = write_expression(expr)
    inner = _precedence(expr)
    return f"({text})" if inner < prec or (strict and inner == prec) else text


def write_cell(tests: Tests) -> str | None:
    """Ruleset text for an input cell (None: any value, the cell is left out)."""
    if tests.is_any:
        return None
    parts = []
    for item in tests.items:
        if isinstance(item, Compare):
            value = item.value
            literal = isinstance(value, Text | Num | Bool | DateLit | TimeLit) or (
                isinstance(value, Neg) and isinstance(value.operand, Num))
            if item.op == "==" and literal:
                parts.append(write_expression(value))
            elif item.op == "==":
                parts.append(f"= {write_expression(value)}")
            else:
                parts.append(f"{item.op} {write_expression(value)}")
        elif isinstance(item, Range):
            low = "" if item.low is None else write_expression(item.low)
            high = "" if item.high is None else write_expression(item.high)
            parts.append(f"{'[' if item.low_closed else '('}{low}..{high}"
                         f"{']' if item.high_closed else ')'}")
        else:
            parts.append(write_expression(item.expr))
    text = ", ".join(parts)
    return f"not({text})" if tests.negated else text
