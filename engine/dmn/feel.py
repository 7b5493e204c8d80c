"""FEEL, as far as DMN decision tables need it here: simple unary tests (``< 25``,
``[18..60)``, ``"a","b"``, ``not(...)``, ``-``) and simple expressions (literals, names,
arithmetic, comparisons, ``and``/``or``/``not()``, ``date("...")``, ``time("...")``,
``date and time("...")``, ``duration("...")``), read into terms and
written back. Everything else FEEL has (function calls, contexts, lists, ``if``, ``for``,
``some``/``every``, ``in``, ``between``, ranges as values, ``**``) raises TermError naming
what it found.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ..language import temporal
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

# FEEL's constant functions of times and durations -> the ruleset's (TimeLit.function),
# and the type their text must be.
_TIME_FUNCTIONS = {"time": ("time", temporal.TIME),
                   "date and time": ("datetime", temporal.DATETIME),
                   "duration": ("duration", temporal.DURATION)}
_FEEL_TIME_NAMES = {own: feel for feel, (own, _) in _TIME_FUNCTIONS.items()}

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>\d+(?:\.\d+)?|\.\d+)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<op>\.\.|\*\*|<=|>=|!=|[-+*/<>=(),.\[\]{}:?])
  | (?P<word>[^\W\d]\w*)
""", re.X | re.S)
_KEYWORDS = {"and", "or", "not", "true", "false", "null", "if", "then", "else", "for",
             "in", "return", "some", "every", "satisfies", "between", "instance", "of",
             "function", "external"}
# Keywords that may not stand inside a name (other keywords may: "Years of Service").
_OPERATOR_WORDS = {"and", "or", "not", "true", "false", "null"}
_UNSUPPORTED_WORDS = {
    "if": "if-then-else expressions", "for": "for loops", "some": "some/every quantifiers",
    "every": "some/every quantifiers", "function": "function definitions",
    "in": "'in'", "between": "'between'", "instance": "'instance of'",
}
_COMPARE = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'"}


def _tokens(text: str) -> list[tuple[str, str]]:
    found, at = [], 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            raise TermError(f"'{text[at]}' cannot be read here")
        kind = match.lastgroup
        if kind != "space":
            found.append((kind, match.group(0)))
        at = match.end()
    found.append(("end", ""))
    return found


def _unquote(literal: str) -> str:
    body, out, index = literal[1:-1], [], 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            nxt = body[index + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[index + 2:index + 6]):
                out.append(chr(int(body[index + 2:index + 6], 16)))
                index += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str, allow_question: bool):
        self.tokens = _tokens(text)
        self.at = 0
        self.allow_question = allow_question
        self.saw_question = False

    def peek(self, offset: int = 0) -> tuple[str, str]:
        return self.tokens[min(self.at + offset, len(self.tokens) - 1)]

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.at += 1
        return token

    def is_op(self, *values: str) -> bool:
        kind, value = self.peek()
        return kind == "op" and value in values

    def is_word(self, *values: str) -> bool:
        kind, value = self.peek()
        return kind == "word" and value in values

    def expect_op(self, value: str) -> None:
        if not self.is_op(value):
            raise TermError(f"expected '{value}', found {self.shown()}")
        self.take()

    def shown(self) -> str:
        kind, value = self.peek()
        return "the end" if kind == "end" else f"'{value}'"

    # expressions, lowest precedence first
    def disjunction(self) -> Expr:
        left = self.conjunction()
        while self.is_word("or"):
            self.take()
            left = Binary("or", left, self.conjunction())
        return left

    def conjunction(self) -> Expr:
        left = self.comparison()
        while self.is_word("and"):
            self.take()
            left = Binary("and", left, self.comparison())
        return left

    def comparison(self) -> Expr:
        left = self.additive()
        if self.is_op(*_COMPARE):
            op = _COMPARE[self.take()[1]]
            right = self.additive()
            if self.is_op(*_COMPARE):
                raise TermError("comparisons cannot be chained")
            return _compared(op, left, right)
        self.refuse_word()
        return left

    def additive(self) -> Expr:
        left = self.multiplicative()
        while self.is_op("+", "-"):
            op = self.take()[1]
            left = Binary(op, left, self.multiplicative())
        return left

    def multiplicative(self) -> Expr:
        left = self.unary()
        while self.is_op("*", "/", "**"):
            op = self.take()[1]
            if op == "**":
                raise TermError("exponentiation (**) is not supported")
            left = Binary(op, left, self.unary())
        return left

    def unary(self) -> Expr:
        if self.is_op("-"):
            self.take()
            return Neg(self.unary())
        return self.primary()

    def primary(self) -> Expr:
        kind, value = self.peek()
        if kind == "num":
            self.take()
            return Num(value)
        if kind == "str":
            self.take()
            return Text(_unquote(value))
        if kind == "op":
            if value == "(":
                self.take()
                inner = self.disjunction()
                self.expect_op(")")
                return inner
            if value == "?":
                if not self.allow_question:
                    raise TermError("'?' is only for input cells")
                self.take()
                self.saw_question = True
                return Question()
            if value == "{":
                raise TermError("FEEL contexts ({...}) are not supported")
            if value == "[":
                raise TermError("FEEL lists and ranges as values are not supported")
            raise TermError(f"unexpected {self.shown()}")
        if kind == "word":
            if value in ("true", "false"):
                self.take()
                return Bool(value == "true")
            if value == "null":
                self.take()
                return Null()
            if value == "not" and self.peek(1) == ("op", "("):
                self.take()
                self.take()
                inner = self.disjunction()
                self.expect_op(")")
                return Not(inner)
            self.refuse_word()
            return self.name()
        raise TermError("an expression was expected, found the end" if kind == "end"
                        else f"unexpected {self.shown()}")

    def refuse_word(self) -> None:
        kind, value = self.peek()
        if kind == "word" and value in _UNSUPPORTED_WORDS:
            raise TermError(f"FEEL {_UNSUPPORTED_WORDS[value]} are not supported"
                            if value in ("if", "for", "some", "every", "function")
                            else f"FEEL {_UNSUPPORTED_WORDS[value]} is not supported")

    def name(self) -> Expr:
        parts = [self.words()]
        while self.is_op(".") and self.peek(1)[0] == "word":
            self.take()
            parts.append(self.words())
        name = ".".join(parts)
        if self.is_op("("):
            return self.call(name)
        if self.is_op("["):
            raise TermError(f"filters on '{name}' ([...]) are not supported")
        return Name(name)

    def words(self) -> str:
        """A FEEL name, which may be several words (``Applicant Age``)."""
        if [t[1] for t in self.tokens[self.at:self.at + 3]] == ["date", "and", "time"]:
            self.at += 3
            return "date and time"
        words = []
        while self.peek()[0] == "word" and (self.peek()[1] not in _KEYWORDS or (
                words and self.peek()[1] not in _OPERATOR_WORDS
                and self.peek(1)[0] == "word" and self.peek(1)[1] not in _KEYWORDS)):
            words.append(self.take()[1])
        if not words:
            raise TermError(f"a name was expected, found {self.shown()}")
        return " ".join(words)

    def call(self, name: str) -> Expr:
        self.take()  # (
        if name == "date" and self.peek()[0] == "str" and self.peek(1) == ("op", ")"):
            text = _unquote(self.take()[1])
            self.take()
            try:  # the form and the calendar (no 2026-13-45), as the ruleset reads it
                temporal.parse(temporal.DATE, text)
            except ValueError:
                raise TermError(f"date(\"{text}\") is not a date as YYYY-MM-DD") from None
            return DateLit(text)
        if name in _TIME_FUNCTIONS and self.peek()[0] == "str" and \
                self.peek(1) == ("op", ")"):
            text = _unquote(self.take()[1])
            self.take()
            function, typ = _TIME_FUNCTIONS[name]
            try:
                temporal.parse(typ, text)
            except ValueError as error:
                raise TermError(str(error)) from None
            return TimeLit(function, text)
        by_feel = {feel: own for own, feel in FUNCTIONS.items()}
        if name in by_feel:
            args = [] if self.is_op(")") else [self.disjunction()]
            while self.is_op(","):
                self.take()
                args.append(self.disjunction())
            self.expect_op(")")
            arity = (1, 1) if name in ("abs", "floor", "ceiling") else (2, 99)
            if not arity[0] <= len(args) <= arity[1]:
                raise TermError(f"{name}() with {len(args)} arguments is not supported")
            return Call(by_feel[name], tuple(args))
        raise TermError(f"the FEEL function {name}() is not supported")

    def done(self) -> None:
        if self.peek()[0] != "end":
            raise TermError(f"unexpected {self.shown()}")


def _compared(op: str, left: Expr, right: Expr) -> Expr:
    """A comparison; ``x = null`` is ``Missing(x)``, other comparisons with null refused."""
    if isinstance(right, Null) or isinstance(left, Null):
        other = left if isinstance(right, Null) else right
        if op == "==":
            return Missing(other)
        if op == "!=":
            return Not(Missing(other))
        raise TermError(f"'{op}' with null is always false")
    return Binary(op, left, right)


def parse_expression(text: str) -> Expr:
    """A FEEL expression (an output cell, an input expression) as terms."""
    parser = _Parser(text, allow_question=False)
    expr = parser.disjunction()
    parser.done()
    return expr


def parse_unary_tests(text: str) -> Tests:
    """A FEEL input cell as terms. Raises TermError for what the ruleset cannot test."""
    stripped = text.strip()
    if stripped in ("", "-"):
        return ANY
    parser = _Parser(stripped, allow_question=True)
    negated = False
    if parser.is_word("not") and parser.peek(1) == ("op", "("):
        closing = _closing(parser.tokens, 1)
        if closing == len(parser.tokens) - 2:  # not( ... ) is the whole cell
            parser.take()
            parser.take()
            parser.tokens = [*parser.tokens[:closing], ("end", "")]
            negated = True
    items = [_item(parser)]
    while parser.is_op(","):
        parser.take()
        items.append(_item(parser))
    parser.done()
    return _settled(tuple(items), negated)


def _closing(tokens: list[tuple[str, str]], opening: int) -> int:
    depth = 0
    for index in range(opening, len(tokens)):
        if tokens[index] == ("op", "("):
            depth += 1
        elif tokens[index] == ("op", ")"):
            depth -= 1
            if depth == 0:
                return index
    return -1


def _item(parser: _Parser) -> Item:
    if parser.is_op(*_COMPARE):
        op = _COMPARE[parser.take()[1]]
        return Compare(op, parser.additive())
    if parser.is_op("[", "]", "("):
        start = parser.at
        opening = parser.take()[1]
        try:
            low = parser.additive()
            is_range = parser.is_op("..")
        except TermError:
            if opening != "(":
                raise
            is_range = False
        if is_range:
            parser.take()
            high = parser.additive()
            if not parser.is_op("]", ")", "["):
                raise TermError(f"an interval ends with ] or ), found {parser.shown()}")
            closing = parser.take()[1]
            return Range(low, opening == "[", high, closing == "]")
        if opening != "(":
            raise TermError("FEEL lists and ranges as values are not supported")
        parser.at = start
    parser.saw_question = False
    expr = parser.disjunction()
    if parser.saw_question:
        return Satisfies(expr)
    if (isinstance(expr, Binary) and expr.op in _COMPARE.values()) or \
            isinstance(expr, Missing | Not):
        raise TermError("a comparison in an input cell must test the input: write it "
                        "with ? (e.g. ? > 5) or as < 5")
    return Compare("==", expr)


def _settled(items: tuple[Item, ...], negated: bool) -> Tests:
    """``null`` as a test means "is missing"; the ruleset says it with ``?``, which must
    then be the only test of the cell."""
    items = tuple(Satisfies(Missing(Question())) if isinstance(i, Compare) and
                  isinstance(i.value, Null) and i.op == "==" else
                  Satisfies(Not(Missing(Question()))) if isinstance(i, Compare) and
                  isinstance(i.value, Null) and i.op == "!=" else i for i in items)
    for item in items:
        if isinstance(item, Compare) and isinstance(item.value, Null):
            raise TermError(f"'{item.op}' with null is always false")
    if len(items) > 1 and any(isinstance(i, Satisfies) for i in items):
        raise TermError("a test with ? (or null) must be the only test of its cell")
    return Tests(items, negated)


# --- writing FEEL ---------------------------------------------------------------------------

_PRECEDENCE = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
               "+": 5, "-": 5, "*": 6, "/": 6}
_ATOM = 9


def quoted(value: str) -> str:
    """A FEEL (and ruleset) string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def plain_number(text: str) -> str:
    """A number as FEEL writes it: plain digits, no exponent."""
    if re.fullmatch(r"\d+(\.\d+)?|\.\d+", text):
        return text
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise TermError(f"'{text}' is not a number") from None
    if not value.is_finite():
        raise TermError(f"'{text}' is not a finite number")
    return format(value, "f")


def _precedence(expr: Expr) -> int:
    if isinstance(expr, Binary):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, Missing):
        return 4
    if isinstance(expr, Neg):
        return 7
    return _ATOM


def write_expression(expr: Expr) -> str:
    """FEEL text for ``expr``."""
    if isinstance(expr, Num):
        return plain_number(expr.text)
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
        text = expr.text
        if expr.function == "time" and re.fullmatch(r"\d{2}:\d{2}", text):
            text += ":00"  # FEEL's time() takes the seconds, which the ruleset may leave out
        return f"{_FEEL_TIME_NAMES[expr.function]}({quoted(text)})"
    if isinstance(expr, Question):
        return "?"
    if isinstance(expr, Not):
        return f"not({write_expression(expr.operand)})"
    if isinstance(expr, Call):
        args = ", ".join(write_expression(a) for a in expr.args)
        return f"{FUNCTIONS[expr.name]}({args})"
    if isinstance(expr, Neg):
        return "-" + _wrapped(expr.operand, 7, strict=False)
    if isinstance(expr, Missing):
        return f"{_wrapped(expr.operand, 4, strict=True)} = null"
    op = "=" if expr.op == "==" else expr.op
    prec = _PRECEDENCE[expr.op]
    comparison = prec == 4
    return (f"{_wrapped(expr.left, prec, strict=comparison)} {op} "
            f"{_wrapped(expr.right, prec, strict=True)}")


def _wrapped(expr: Expr, prec: int, strict: bool) -> str:
    text = write_expression(expr)
    inner = _precedence(expr)
    return f"({text})" if inner < prec or (strict and inner == prec) else text


def write_unary_tests(tests: Tests) -> str:
    """FEEL text for an input cell."""
    if tests.is_any:
        return "-"
    parts = []
    for item in tests.items:
        if isinstance(item, Compare):
            if item.op == "==":
                parts.append(write_expression(item.value))
            elif item.op == "!=":
                if len(tests.items) > 1 or tests.negated:
                    raise TermError("'!=' in a list of values has no FEEL form; write "
                                    "not(...) around the whole cell")
                return f"not({write_expression(item.value)})"
            else:
                parts.append(f"{item.op} {write_expression(item.value)}")
        elif isinstance(item, Range):
            parts.append(_write_range(item, alone=len(tests.items) == 1 and not
                                      tests.negated))
        else:
            parts.append(write_expression(item.expr))
    text = ", ".join(parts)
    return f"not({text})" if tests.negated else text


def _write_range(item: Range, alone: bool) -> str:
    if item.low is None and item.high is None:
        if not alone:
            raise TermError("an interval with no ends in a list of values has no FEEL form")
        return "not(null)"
    if item.low is None:
        return f"{'<=' if item.high_closed else '<'} {write_expression(item.high)}"
    if item.high is None:
        return f"{'>=' if item.low_closed else '>'} {write_expression(item.low)}"
    return (f"{'[' if item.low_closed else '('}{write_expression(item.low)}.."
            f"{write_expression(item.high)}{']' if item.high_closed else ')'}")
