"""The expression language: parsed with a whitelist over Python's ``ast``, type-checked
against the ruleset's declared facts, and compiled to Python source once per ruleset.

A user's text is never handed to ``eval`` as it stands: it is parsed, every node is checked
against the whitelist below, and new source is written from the checked tree.

Numbers a ruleset writes (``0.1``) are exact, and stay exact through ``+ - * %`` with other
exact numbers and whole numbers (type "exact", which messages call a number: an int or a
Decimal at decision time); a ratio (``/``) and a number fact are floats, and an exact
number meeting a float becomes the float nearest to it.

Missing values are ``null`` (Python ``None``): arithmetic with ``null`` gives ``null``,
division by zero gives ``null``, every comparison with ``null`` is false, and ``null`` in a
condition counts as false. ``is_missing(x)`` and ``coalesce(x, y, ...)`` deal with it
explicitly.
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from ..errors import ExpressionError
from . import temporal
from .runtime import written
from .temporal import TEMPORAL

MAX_LENGTH = 2000
MAX_DEPTH = 40
# How deep a parsed tree may be at all (the type checker refuses beyond MAX_DEPTH with a
# finer message; this bound protects every other walker of the tree).
MAX_PARSE_DEPTH = 100

# Types an expression or a fact can have. "integer" is a number that stays whole; "exact"
# a number computed exactly from numbers the ruleset wrote (users see it as a number).
NUMBER, INTEGER, MONEY, EXACT = "number", "integer", "money", "exact"
STRING, BOOLEAN, DATE, LIST, NULL = "string", "boolean", "date", "list", "null"
NUMERIC = frozenset({NUMBER, INTEGER, MONEY, EXACT})


def shown(typ: str) -> str:
    """A type as a message names it (an exact number is a number to whoever reads it)."""
    return NUMBER if typ == EXACT else typ

_LITERAL_NAMES = {"null": None, "None": None, "true": True, "True": True,
                  "false": False, "False": False}


@dataclass(frozen=True)
class Symbol:
    """A name an expression may read: its type and the Python code that yields its value."""

    type: str
    code: str
    nullable: bool = True


@dataclass
class CodeContext:
    """Shared state while writing one generated function: module-level constants and
    unique temporary names."""

    constants: dict[str, object] = field(default_factory=dict)
    slots: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    # Names whose values are a closed list (a grade is one of the ruleset's grades), as
    # name -> (what a value is called, the values): a table cell naming another value is
    # an error, not a rule that never matches.
    closed_values: dict[str, tuple[str, tuple]] = field(default_factory=dict)
    _by_key: dict[tuple, str] = field(default_factory=dict)
    _temps: int = 0

    def slot(self, stage: str, rule_id: str, names: tuple[str, ...]) -> str:
        """Name of the constant ``(index, stage, rule id, names read)`` that identifies one
        place in the generated code that writes a trace entry."""
        self.slots.append((stage, rule_id, tuple(names)))
        return self.constant((len(self.slots) - 1, stage, rule_id, tuple(names)))

    def constant(self, value: object) -> str:
        """Name of a module-level constant holding ``value`` (shared when equal)."""
        key = (type(value).__name__, repr(value))
        name = self._by_key.get(key)
        if name is None:
            name = f"_k{len(self._by_key)}"
            self._by_key[key] = name
            self.constants[name] = value
        return name

    def temp(self) -> str:
        """A fresh local variable name for a sub-result used more than once."""
        self._temps += 1
        return f"_t{self._temps}"


@dataclass(frozen=True)
class Compiled:
    """An expression compiled to Python source. ``reads`` lists the names it reads, in
    order of first use; ``nullable`` is False when it can never yield ``null``."""

    text: str
    code: str
    type: str
    reads: tuple[str, ...]
    nullable: bool


def compile_expression(text: object, scope: Mapping[str, Symbol], ctx: CodeContext,
                       *, expect: str | None = None) -> Compiled:
    """Compile ``text`` against ``scope``. ``expect`` ("boolean", a numeric type, ...)
    makes a result of another type an error. Raises ExpressionError with a 0-based offset."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ExpressionError("an expression must be text or a number")
    source = str(text) if not isinstance(text, str) else text
    lead = len(source) - len(source.lstrip()) if source.strip() else 0
    try:
        tree = parse(source[lead:].rstrip())
        writer = _Writer(source[lead:].rstrip(), scope, ctx)
        code, typ, nullable = writer.visit(tree.body, 0)
    except ExpressionError as exc:
        raise exc.shifted(lead) from None
    if expect is not None and not _assignable(typ, expect):
        raise ExpressionError(f"expected {_a(expect)} expression, this one gives {_a(typ)}",
                              lead)
    return Compiled(source, code, typ, tuple(writer.reads), nullable)


def parse(source: str) -> ast.Expression:
    """Parse ``source`` as a single Python expression, turning every failure into an
    ExpressionError (never SyntaxError, RecursionError or ValueError)."""
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters", 0)
    if not source.strip():
        raise ExpressionError("empty expression", 0)
    if "\x00" in source:
        raise ExpressionError("expression contains a NUL character", source.index("\x00"))
    try:
        tree = ast.parse(temporal.spell_dmn_names(source), mode="eval")
    except SyntaxError as exc:
        message = (exc.msg or "invalid syntax").replace("'(' was never closed",
                                                        "unclosed parenthesis")
        offset = _char_offset(source, exc.lineno or 1, (exc.offset or 1) - 1, chars=True)
        raise ExpressionError(message, offset) from None
    except (RecursionError, MemoryError, ValueError, OverflowError):
        raise ExpressionError("expression too deeply nested or too large", 0) from None
    too_deep = _deeper_than(tree, MAX_PARSE_DEPTH)
    if too_deep is not None:
        raise ExpressionError("expression too deeply nested", _char_offset(
            source, too_deep.lineno, too_deep.col_offset))
    return tree


def _deeper_than(tree: ast.AST, limit: int) -> ast.AST | None:
    """The first node (with a position) deeper than ``limit`` in ``tree``, found without
    recursion, so that every walker after the parse (compilers, lint, diff, unparse) can
    recurse safely."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit and hasattr(node, "lineno"):
            return node
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return None


def _may_be_infinite(args: list) -> bool:
    """Whether the first argument of a rounding helper may be an infinite float, for which
    the helper gives null (so the result is nullable even when the argument is not)."""
    return args[0][1] == NUMBER


def _char_offset(source: str, lineno: int, col: int, chars: bool = False) -> int:
    """Offset in ``source`` of (lineno, col); ``col`` counts UTF-8 bytes unless ``chars``."""
    lines = source.split("\n")
    lineno = max(1, min(lineno, len(lines)))
    line = lines[lineno - 1]
    if not chars:
        col = len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
    return sum(len(x) + 1 for x in lines[: lineno - 1]) + max(0, min(col, len(line)))


def _assignable(actual: str, wanted: str) -> bool:
    if actual in (wanted, NULL):
        return True
    if wanted == NUMBER and actual in (INTEGER, MONEY, EXACT):
        return True
    if wanted == EXACT and actual == INTEGER:
        return True
    return wanted == MONEY and actual in (NUMBER, INTEGER, EXACT)


# --- the functions an expression may call -------------------------------------------------

FUNCTIONS = {
    "min": "smallest of two or more values (null if any is null)",
    "max": "largest of two or more values (null if any is null)",
    "abs": "absolute value",
    "round": "round(x, places): half away from zero",
    "floor": "largest whole number not above x",
    "ceil": "smallest whole number not below x",
    "round_down": "round_down(x, step): x rounded down to a multiple of step",
    "round_up": "round_up(x, step): x rounded up to a multiple of step",
    "clamp": "clamp(x, low, high)",
    "coalesce": "first argument that is not null",
    "is_missing": "true when x is null",
    "days_between": "days_between(earlier, later): whole days",
    "years_between": "years_between(earlier, later): whole years",
    "date": "date('2026-01-31'): a date constant",
    "months_between": "months_between(earlier, later): whole months",
    "time": "time('09:30:00'): a time of day constant",
    "datetime": "datetime('2026-01-31T09:30:00+01:00'), or as DMN writes it date and "
                "time('...'): a date and time (with its offset)",
    "duration": "duration('P30D'), duration('P1Y6M'): a duration constant",
}
# A decision reads no clock: its date is as_of, recorded with it.
_NO_CLOCK = {"today", "now"}


class _Writer:
    """Walks a parsed tree and writes Python source for it, checking every node."""

    def __init__(self, source: str, scope: Mapping[str, Symbol], ctx: CodeContext):
        self.source = source
        self.scope = scope
        self.ctx = ctx
        self.reads: list[str] = []

    # -- helpers --------------------------------------------------------------------------
    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        offset = _char_offset(self.source, getattr(node, "lineno", 1),
                              getattr(node, "col_offset", 0))
        return ExpressionError(message, offset)

    def reuse(self, code: str) -> tuple[str, str]:
        """(first use, later uses) for a sub-result that appears more than once."""
        if code.isidentifier() or _is_constant_code(code):
            return code, code
        name = self.ctx.temp()
        return f"({name} := {code})", name

    def visit(self, node: ast.AST, depth: int) -> tuple[str, str, bool]:
        if depth > MAX_DEPTH:
            raise self.fail(node, "expression too deeply nested")
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, f"{_describe(node)} is not allowed in an expression")
        return method(node, depth + 1)

    # -- leaves ---------------------------------------------------------------------------
    def visit_Constant(self, node: ast.Constant, depth: int):
        value = node.value
        if value is None:
            return "None", NULL, True
        if isinstance(value, bool):
            return repr(value), BOOLEAN, False
        if isinstance(value, int):
            if abs(value) > 10**30:
                raise self.fail(node, "number too large")
            return repr(value), INTEGER, False
        if isinstance(value, float):
            return self.exact_constant(node, value)
        if isinstance(value, str):
            return repr(value), STRING, False
        raise self.fail(node, f"{type(value).__name__} literals are not allowed")

    def exact_constant(self, node: ast.Constant, value: float):
        """A number written with a point or an exponent: an exact constant."""
        if value != value or value in (float("inf"), float("-inf")):
            raise self.fail(node, "number too large")
        literal = ast.get_source_segment(self.source, node)
        if value == 0 and _written_nonzero(literal):
            raise self.fail(node, "number too small to hold (it would be 0)")
        exact = written(value)
        if literal is not None:  # (the literal has no sign: -0.15 is folded into one value)
            as_written = Decimal(literal).copy_sign(exact)
            if as_written != exact:  # more digits than the float keeps: as written
                exact = written(as_written)
        return self.ctx.constant(exact), EXACT, False

    def visit_Name(self, node: ast.Name, depth: int):
        if node.id in _LITERAL_NAMES:
            value = _LITERAL_NAMES[node.id]
            return repr(value), (NULL if value is None else BOOLEAN), value is None
        return self.symbol(node, node.id)

    def visit_Attribute(self, node: ast.Attribute, depth: int):
        parts = [node.attr]
        inner = node.value
        while isinstance(inner, ast.Attribute):
            parts.append(inner.attr)
            inner = inner.value
        if not isinstance(inner, ast.Name):
            raise self.fail(node, "only dotted field paths (like financials.revenue) may use '.'")
        parts.append(inner.id)
        return self.symbol(node, ".".join(reversed(parts)))

    def symbol(self, node: ast.AST, name: str):
        sym = self.scope.get(name)
        if sym is None:
            hint = difflib.get_close_matches(name, list(self.scope), n=1)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ""
            error = self.fail(node, f"unknown field '{name}'{extra}")
            error.unknown_name = name
            raise error
        if name not in self.reads:
            self.reads.append(name)
        return sym.code, sym.type, sym.nullable

    def visit_List(self, node: ast.List, depth: int):
        raise self.fail(node, "a list is only allowed on the right of 'in' / 'not in'")

    visit_Tuple = visit_List

    # -- operators ------------------------------------------------------------------------
    def visit_UnaryOp(self, node: ast.UnaryOp, depth: int):
        operand = node.operand
        if isinstance(node.op, ast.USub | ast.UAdd) and isinstance(operand, ast.Constant) \
                and isinstance(operand.value, float):  # -0.15: one constant
            sign = -1 if isinstance(node.op, ast.USub) else 1
            return self.exact_constant(operand, sign * operand.value)
        code, typ, nullable = self.visit(node.operand, depth)
        if isinstance(node.op, ast.Not):
            self.need(node.operand, typ, {BOOLEAN}, "'not'")
            return f"(not {code})", BOOLEAN, False
        if isinstance(node.op, ast.USub) and typ in (temporal.DURATION,
                                                     temporal.YEARS_MONTHS):
            code, nullable = self.null_guarded([(code, typ, nullable)],
                                               lambda xs: f"_t_neg({xs[0]})")
            return code, typ, nullable
        if isinstance(node.op, ast.USub | ast.UAdd):
            self.need(node.operand, typ, NUMERIC, "a sign")
            sign = "-" if isinstance(node.op, ast.USub) else "+"
            if not nullable:
                return f"({sign}{code})", typ, False
            first, later = self.reuse(code)
            return f"(None if {first} is None else {sign}{later})", typ, True
        raise self.fail(node, f"{_describe(node.op)} is not allowed")

    def need(self, node: ast.AST, typ: str, allowed: set | frozenset, what: str) -> None:
        if typ != NULL and typ not in allowed:
            kinds = "number" if allowed == NUMERIC else " or ".join(sorted(allowed))
            raise self.fail(node, f"{what} needs {_a(kinds)} value, not {_a(typ)}")

    def visit_BinOp(self, node: ast.BinOp, depth: int):
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}.get(
            type(node.op))
        if symbol is None:
            raise self.fail(node, f"operator {_describe(node.op)} is not allowed")
        left, ltype, lnull = self.visit(node.left, depth)
        right, rtype, rnull = self.visit(node.right, depth)
        if symbol == "+" and STRING in (ltype, rtype) and {ltype, rtype} <= {STRING, NULL}:
            return self.joined((left, lnull), (right, rnull))
        if ltype in TEMPORAL or rtype in TEMPORAL:
            return self.temporal_arithmetic(node, symbol, (left, ltype, lnull),
                                            (right, rtype, rnull))
        self.need(node.left, ltype, NUMERIC, f"'{symbol}'")
        self.need(node.right, rtype, NUMERIC, f"'{symbol}'")
        result = _arith_type(symbol, ltype, rtype)
        if result is None:
            raise self.fail(node, f"{shown(ltype)} {symbol} {shown(rtype)} has no meaning")
        if symbol in ("/", "%") and self.is_zero(right):
            return "None", result, True
        if MONEY in (ltype, rtype) and result == MONEY:
            left = self.as_money(left, ltype, node.left)
            right = self.as_money(right, rtype, node.right)
        money_ratio = ltype == rtype == MONEY and symbol == "/"
        # An exact number meeting a float (or divided: a ratio) is the float nearest to it.
        lfloat = result == NUMBER and ltype == EXACT and not money_ratio
        rfloat = result == NUMBER and rtype == EXACT and not money_ratio
        left = self.as_float(left) if lfloat and left in self.ctx.constants else left
        right = self.as_float(right) if rfloat and right in self.ctx.constants else right
        exact_mod = result == EXACT and symbol == "%"
        guard_zero = symbol in ("/", "%") and not _is_constant_code(right)

        def value(lcode: str, rcode: str) -> str:
            if money_ratio:  # a ratio of two amounts is a plain number
                return f"float({lcode}) / float({rcode})"
            if lfloat and not _is_constant_code(lcode):
                lcode = f"float({lcode})"
            if rfloat and not _is_constant_code(rcode):
                rcode = f"float({rcode})"
            if exact_mod:
                return f"_mod({lcode}, {rcode})"
            return f"{lcode} {symbol} {rcode}"

        if not (lnull or rnull or guard_zero):
            return f"({value(left, right)})", result, False
        lfirst, llater = self.reuse(left) if lnull else (left, left)
        rfirst, rlater = self.reuse(right) if (rnull or guard_zero) else (right, right)
        tests = []
        if lnull:
            tests.append(f"{lfirst} is None")
        if rnull:
            tests.append(f"{rfirst} is None")
        if guard_zero:
            tests.append(f"{rlater if rnull else rfirst} == 0")
        return f"(None if {' or '.join(tests)} else {value(llater, rlater)})", result, True

    def joined(self, left: tuple[str, bool], right: tuple[str, bool]
               ) -> tuple[str, str, bool]:
        """``text + text``: the texts joined (null when either is missing)."""
        (lcode, lnull), (rcode, rnull) = left, right
        if not (lnull or rnull):
            return f"({lcode} + {rcode})", STRING, False
        lfirst, llater = self.reuse(lcode) if lnull else (lcode, lcode)
        rfirst, rlater = self.reuse(rcode) if rnull else (rcode, rcode)
        tests = [f"{first} is None" for first, nullable in ((lfirst, lnull), (rfirst, rnull))
                 if nullable]
        return f"(None if {' or '.join(tests)} else {llater} + {rlater})", STRING, True

    def temporal_arithmetic(self, node: ast.BinOp, symbol: str, left, right):
        """Dates, times and durations: what engine.language.temporal allows, through its
        helpers (a date moved out of the calendar is null)."""
        ltype, rtype = left[1], right[1]
        if NULL in (ltype, rtype):
            return "None", NULL, True
        result = temporal.arithmetic_type(ltype, symbol, rtype)
        if result is None:
            hint = " (add or subtract a duration, e.g. + duration('P30D'))" if \
                symbol in "+-" and {ltype, rtype} & {DATE, temporal.DATETIME} and \
                {ltype, rtype} & NUMERIC else ""
            raise self.fail(node, f"{shown(ltype)} {symbol} {shown(rtype)} has no "
                                  f"meaning{hint}")
        helper = {"+": "_t_add", "-": "_t_sub", "*": "_t_mul"}[symbol]
        code, nullable = self.null_guarded([left, right],
                                           lambda xs: f"{helper}({xs[0]}, {xs[1]})")
        return code, result, nullable or temporal.can_be_null(ltype, symbol, rtype)

    def as_money(self, code: str, typ: str, node: ast.AST) -> str:
        """Code that gives ``code`` as a Decimal (constants converted once, at compile,
        whole numbers written as a sum or product of whole numbers too)."""
        if typ in (MONEY, NULL):
            return code
        if _is_literal(node):
            value = ast.literal_eval(ast.unparse(node))
            return self.ctx.constant(Decimal(repr(value)))
        whole = _whole_literal(node)
        if whole is not None:  # (60 + 15): _money(75) is Decimal(75)
            return self.ctx.constant(Decimal(whole))
        return as_decimal(code, self.ctx)

    def as_float(self, code: str, typ: str = EXACT, guarded: bool = True) -> str:
        """Code giving an exact value as the float nearest to it, where it meets a float: a
        constant converted once, at compile; ``guarded`` when ``code`` is known not null
        there."""
        if typ != EXACT:
            return code
        if code in self.ctx.constants:
            return repr(float(self.ctx.constants[code]))
        return f"float({code})" if guarded else f"_float({code})"

    def is_zero(self, code: str) -> bool:
        """Whether ``code`` is a constant zero (a divisor that makes the result null)."""
        if code in self.ctx.constants:
            value = self.ctx.constants[code]
            return isinstance(value, int | float | Decimal) and value == 0
        return _is_zero_constant(code)

    def visit_BoolOp(self, node: ast.BoolOp, depth: int):
        joiner = " and " if isinstance(node.op, ast.And) else " or "
        parts = []
        for value in node.values:
            code, typ, nullable = self.visit(value, depth)
            self.need(value, typ, {BOOLEAN}, f"'{joiner.strip()}'")
            # `x is True` keeps a missing boolean (None) from leaking out of and/or as null.
            parts.append(f"({code} is True)" if nullable else code)
        return "(" + joiner.join(parts) + ")", BOOLEAN, False

    def visit_Compare(self, node: ast.Compare, depth: int):
        operands = [node.left, *node.comparators]
        pieces = []
        previous = self.visit(node.left, depth)
        previous_later = None
        for index, (op, right_node) in enumerate(zip(node.ops, node.comparators, strict=True)):
            left_code, ltype, lnull = previous
            if previous_later is not None:
                left_code = previous_later
            if isinstance(op, ast.In | ast.NotIn):
                pieces.append(self.membership(op, left_code, ltype, lnull, right_node, depth))
                previous, previous_later = (None, NULL, True), None
                if index + 1 < len(node.ops):
                    raise self.fail(right_node, "'in' cannot be chained with another comparison")
                continue
            symbol = _COMPARE.get(type(op))
            if symbol is None:
                raise self.fail(node, "'is' and 'is not' are not allowed: use == or "
                                      "is_missing(x)")
            right = self.visit(right_node, depth)
            rcode, rtype, rnull = right
            _, rtype2, left_code, rcode, lwrap, rwrap = self.comparable(
                node, symbol, (left_code, ltype, operands[index]), (rcode, rtype, right_node))
            last = index == len(node.ops) - 1
            rfirst, rlater = self.reuse(rcode) if (rnull or not last) else (rcode, rcode)
            tests = []
            if lnull:
                tests.append(f"{left_code} is not None")
            if rnull:
                tests.append(f"{rfirst} is not None")
                rfirst = rlater
            tests.append(f"{lwrap.format(left_code)} {symbol} {rwrap.format(rfirst)}")
            pieces.append("(" + " and ".join(tests) + ")")
            previous, previous_later = (rlater, rtype2, rnull), rlater
        return "(" + " and ".join(pieces) + ")", BOOLEAN, False

    def comparable(self, node, symbol, left, right):
        """Check two operands can be compared; converts a text literal next to a date, a
        number literal next to an amount, and an exact number next to a float (a constant
        here, else through the format returned for each side, applied where the value is
        compared, after its null test)."""
        (lcode, ltype, lnode), (rcode, rtype, rnode) = left, right
        if NULL in (ltype, rtype):
            raise self.fail(node, "comparing with null is always false: use is_missing(x)")
        if ltype in TEMPORAL and rtype == STRING and isinstance(rnode, ast.Constant):
            rcode, rtype = self.temporal_constant(rnode, ltype), ltype
        if rtype in TEMPORAL and ltype == STRING and isinstance(lnode, ast.Constant):
            lcode, ltype = self.temporal_constant(lnode, rtype), rtype
        if ltype in NUMERIC and rtype in NUMERIC:
            if ltype == MONEY and _is_literal(rnode):
                rcode = self.as_money(rcode, rtype, rnode)
            if rtype == MONEY and _is_literal(lnode):
                lcode = self.as_money(lcode, ltype, lnode)
            lwrap = rwrap = "{}"
            if NUMBER in (ltype, rtype):
                if ltype == EXACT:
                    lcode, lwrap = self.float_side(lcode)
                if rtype == EXACT:
                    rcode, rwrap = self.float_side(rcode)
            return ltype, rtype, lcode, rcode, lwrap, rwrap
        if ltype != rtype:
            raise self.fail(node, f"cannot compare {_a(ltype)} with {_a(rtype)}")
        if symbol not in ("==", "!=") and ltype in (BOOLEAN, LIST):
            raise self.fail(node, f"'{symbol}' cannot order {ltype} values")
        return ltype, rtype, lcode, rcode, "{}", "{}"

    def float_side(self, code: str) -> tuple[str, str]:
        """(code, format) for an exact operand compared with a float."""
        if code in self.ctx.constants:
            return self.as_float(code), "{}"
        return code, "float({})"

    def date_constant(self, node: ast.Constant) -> str:
        try:
            return self.ctx.constant(dt.date.fromisoformat(node.value))
        except ValueError:
            raise self.fail(node, f"'{node.value}' is not a date (YYYY-MM-DD)") from None

    def temporal_constant(self, node: ast.Constant, typ: str) -> str:
        """The constant of type ``typ`` a text literal names (ISO 8601), or a located
        error."""
        if typ == DATE:
            return self.date_constant(node)
        try:
            value = temporal.parse(typ, node.value)
        except ValueError as exc:
            raise self.fail(node, str(exc)) from None
        if temporal.type_of(value) != typ:
            raise self.fail(node, f"'{node.value}' is a {temporal.type_of(value)}, not a "
                                  f"{typ}")
        return self.ctx.constant(value)

    def membership(self, op, left_code, ltype, lnull, right_node, depth):
        negate = isinstance(op, ast.NotIn)
        word = "not in" if negate else "in"
        if isinstance(right_node, ast.List | ast.Tuple | ast.Set):
            values = []
            for element in right_node.elts:
                if not isinstance(element, ast.Constant) or element.value is None or \
                        isinstance(element.value, bytes):
                    raise self.fail(element, f"the list after '{word}' may hold only "
                                             "numbers and texts")
                values.append(element.value)
            kinds = {STRING if isinstance(v, str) else BOOLEAN if isinstance(v, bool)
                     else NUMBER for v in values}
            wanted = {STRING: STRING, BOOLEAN: BOOLEAN}.get(ltype, NUMBER)
            if ltype != NULL and kinds - {wanted}:
                raise self.fail(right_node, f"'{word}' compares a {shown(ltype)} with a list "
                                            f"of {' and '.join(sorted(kinds))} values")
            if ltype in (MONEY, EXACT):
                values = [Decimal(repr(v)) for v in values]
            container = self.ctx.constant(frozenset(values))
            test = f"{left_code} {word} {container}"
            return f"({left_code} is not None and {test})" if lnull else f"({test})"
        rcode, rtype, rnull = self.visit(right_node, depth)
        if rtype != LIST:
            raise self.fail(right_node, f"'{word}' needs a list on its right, not {_a(rtype)}")
        tests = []
        if lnull:
            tests.append(f"{left_code} is not None")
        if rnull:
            tests.append(f"{rcode} is not None")
        if ltype == EXACT:  # a list fact holds the numbers of a document: floats
            left_code = self.as_float(left_code)
        tests.append(f"{left_code} {word} {rcode}")
        return "(" + " and ".join(tests) + ")"

    def visit_IfExp(self, node: ast.IfExp, depth: int):
        test, ttype, _ = self.visit(node.test, depth)
        self.need(node.test, ttype, {BOOLEAN}, "the condition of 'if'")
        body = self.visit(node.body, depth)
        orelse = self.visit(node.orelse, depth)
        typ, (bcode, ocode) = self.unify(node, [body, orelse], [node.body, node.orelse])
        return f"({bcode} if {test} else {ocode})", typ, body[2] or orelse[2]

    def unify(self, node, results, nodes) -> tuple[str, list[str]]:
        """One type for several results (the branches of 'if', the arguments of min)."""
        types = {t for _, t, _ in results if t != NULL}
        if not types:
            return NULL, [c for c, _, _ in results]
        if len(types) == 1:
            return types.pop(), [c for c, _, _ in results]
        if types <= NUMERIC:
            if MONEY in types:
                return MONEY, [self.as_money(c, t, n) for (c, t, _), n in zip(results, nodes,
                                                                              strict=True)]
            if NUMBER in types:
                return NUMBER, [self.as_float(c, t, guarded=False) for c, t, _ in results]
            return EXACT, [c for c, _, _ in results]
        raise self.fail(node, "mixes values of types " + " and ".join(sorted(
            {shown(t) for t in types})))

    # -- function calls -------------------------------------------------------------------
    def visit_Call(self, node: ast.Call, depth: int):
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only the built-in functions may be called")
        name = temporal.function_name(node.func.id)
        if name in _NO_CLOCK:
            raise self.fail(node, f"{name}() does not exist: a decision reads no clock; "
                                  "use as_of, the decision's date (recorded with it)")
        if name not in FUNCTIONS:
            hint = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise self.fail(node, f"unknown function '{name}'{extra}; allowed: "
                                  + ", ".join(sorted(FUNCTIONS)))
        if node.keywords:
            raise self.fail(node, f"{name}() takes no named arguments")
        if name == "date":
            return self.call_date(node)
        if name in temporal.CONSTANT_FUNCTIONS:
            return self.call_temporal(node, name)
        args = [self.visit(arg, depth) for arg in node.args]
        return getattr(self, "call_" + name)(node, args)

    def arity(self, node: ast.Call, args: list, low: int, high: int | None = None) -> None:
        high = low if high is None else high
        if not low <= len(args) <= high:
            count = str(low) if low == high else (f"{low} or more" if high > 99
                                                   else f"{low} to {high}")
            raise self.fail(node, f"{node.func.id}() takes {count} argument"
                                  f"{'' if count == '1' else 's'}, got {len(args)}")

    def null_guarded(self, args: list, build: Callable[[list[str]], str]) -> tuple[str, bool]:
        """Code for ``build(args)`` that gives null when any nullable argument is null."""
        firsts, laters, tests = [], [], []
        for code, _, nullable in args:
            if nullable:
                first, later = self.reuse(code)
                tests.append(f"{first} is None")
                firsts.append(first)
                laters.append(later)
            else:
                laters.append(code)
        if not tests:
            return build(laters), False
        return f"(None if {' or '.join(tests)} else {build(laters)})", True

    def numeric_args(self, node, args, count_low, count_high=None):
        self.arity(node, args, count_low, count_high)
        for arg_node, (_, typ, _) in zip(node.args, args, strict=True):
            self.need(arg_node, typ, NUMERIC, f"{node.func.id}()")

    def call_min(self, node, args, fn="min"):
        self.arity(node, args, 2, 100)
        typ, codes = self.unify(node, args, node.args)
        if typ not in NUMERIC | TEMPORAL | {NULL}:
            raise self.fail(node, f"{fn}() compares numbers or dates, not {typ}")
        merged = [(c, typ, n) for c, (_, _, n) in zip(codes, args, strict=True)]
        code, nullable = self.null_guarded(merged, lambda xs: f"{fn}({', '.join(xs)})")
        return code, typ, nullable

    def call_max(self, node, args):
        return self.call_min(node, args, "max")

    def call_clamp(self, node, args):
        self.numeric_args(node, args, 3)
        typ, codes = self.unify(node, args, node.args)
        merged = [(c, typ, n) for c, (_, _, n) in zip(codes, args, strict=True)]
        code, nullable = self.null_guarded(merged, lambda xs: f"min(max({xs[0]}, {xs[1]}), "
                                                              f"{xs[2]})")
        return code, typ, nullable

    def call_abs(self, node, args):
        self.numeric_args(node, args, 1)
        code, nullable = self.null_guarded(args, lambda xs: f"abs({xs[0]})")
        return code, args[0][1], nullable

    def decimal_args(self, args: list, exact: bool = False) -> list:
        """Money arguments (and with ``exact`` exact numbers) as Decimal, so rounding
        helpers keep them exact (a whole amount arrives as an int)."""
        kinds = (MONEY, EXACT) if exact else (MONEY,)
        return [(c if c in self.ctx.constants else as_decimal(c, self.ctx), t, n)
                if t in kinds else (c, t, n) for c, t, n in args]

    def call_floor(self, node, args, fn="_floor"):
        self.numeric_args(node, args, 1)
        args = self.decimal_args(args)
        # An exact number's floor is a Decimal: as an integer it is an int.
        whole = "int({})" if args[0][1] == EXACT else "{}"
        code, nullable = self.null_guarded(args, lambda xs: whole.format(f"{fn}({xs[0]})"))
        return code, (MONEY if args[0][1] == MONEY else INTEGER), \
            nullable or _may_be_infinite(args)

    def call_ceil(self, node, args):
        return self.call_floor(node, args, "_ceil")

    def call_round(self, node, args):
        self.numeric_args(node, args, 1, 2)
        if len(args) == 2 and not (isinstance(node.args[1], ast.Constant) and
                                   isinstance(node.args[1].value, int) and
                                   not isinstance(node.args[1].value, bool) and
                                   0 <= node.args[1].value <= 10):
            raise self.fail(node.args[1], "round() takes a whole number of places from 0 to 10")
        places = node.args[1].value if len(args) == 2 else 0
        exact = args[0][1] == EXACT
        args = self.decimal_args(args, exact=bool(places))
        # Rounded to a whole number, an exact number is an int; to places, a Decimal.
        form = "int({})" if exact and not places else "{}"
        code, nullable = self.null_guarded(args[:1], lambda xs: form.format(
            f"_round({xs[0]}, {places})"))
        typ = args[0][1] if args[0][1] == MONEY or places else INTEGER
        return code, (NUMBER if typ == INTEGER and places else typ), \
            nullable or _may_be_infinite(args)

    def call_round_down(self, node, args, mode=ROUND_FLOOR):
        self.numeric_args(node, args, 2)
        step = node.args[1]
        if not (isinstance(step, ast.Constant) and not isinstance(step.value, bool) and
                isinstance(step.value, int | float) and step.value > 0):
            raise self.fail(step, f"{node.func.id}() needs a positive number as its step")
        step_code = self.ctx.constant(Decimal(repr(step.value)))
        args = self.decimal_args(args, exact=True)
        code, nullable = self.null_guarded(
            args[:1], lambda xs: f"_round_step({xs[0]}, {step_code}, {mode!r})")
        return code, (args[0][1] if args[0][1] in (MONEY, EXACT) else NUMBER), \
            nullable or _may_be_infinite(args)

    def call_round_up(self, node, args):
        return self.call_round_down(node, args, ROUND_CEILING)

    def call_coalesce(self, node, args):
        self.arity(node, args, 2, 100)
        typ, codes = self.unify(node, args, node.args)
        code = codes[-1]
        nullable = args[-1][2]
        for current, (_, _, arg_nullable) in reversed(list(zip(codes[:-1], args[:-1],
                                                               strict=True))):
            if not arg_nullable:
                code, nullable = current, False
                continue
            first, later = self.reuse(current)
            code = f"({later} if {first} is not None else {code})"
        return code, typ, nullable

    def call_is_missing(self, node, args):
        self.arity(node, args, 1)
        code, _, nullable = args[0]
        return (f"({code} is None)" if nullable else "False"), BOOLEAN, False

    def call_days_between(self, node, args, fn="_days_between"):
        self.arity(node, args, 2)
        for arg_node, (_, typ, _) in zip(node.args, args, strict=True):
            self.need(arg_node, typ, {DATE}, f"{node.func.id}()")
        code, nullable = self.null_guarded(args, lambda xs: f"{fn}({xs[0]}, {xs[1]})")
        return code, INTEGER, nullable

    def call_years_between(self, node, args):
        return self.call_days_between(node, args, "_years_between")

    def call_months_between(self, node, args):
        return self.call_days_between(node, args, "_months_between")

    def call_temporal(self, node, name):
        """time('09:30'), datetime('...+01:00') / date and time(...), duration('P30D')."""
        typ = temporal.CONSTANT_FUNCTIONS[name]
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) or \
                not isinstance(node.args[0].value, str):
            example = {temporal.TIME: "'09:30:00'", temporal.DATETIME:
                       "'2026-01-31T09:30:00+01:00'"}.get(typ, "'P30D' or 'P1Y6M'")
            raise self.fail(node, f"{node.func.id.replace('_', ' ')}() takes one text like "
                                  f"{example}")
        try:
            value = temporal.parse(typ, node.args[0].value)
        except ValueError as exc:
            raise self.fail(node.args[0], str(exc)) from None
        return self.ctx.constant(value), temporal.type_of(value), False

    def call_date(self, node):
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) or \
                not isinstance(node.args[0].value, str):
            raise self.fail(node, "date() takes one text like '2026-01-31'")
        return self.date_constant(node.args[0]), DATE, False


_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
            ast.GtE: ">="}


def _written_nonzero(literal: str | None) -> bool:
    """True when a number literal's digits (before any exponent) are not all zero."""
    return literal is not None and any(c in "123456789" for c in literal.lower().split("e")[0])


def kept(code: str, typ: str) -> str:
    """Code for a value that is kept (a derived fact, a table output, the score): an exact
    number computed as a plain Decimal becomes Exact, so that it is written as a number."""
    return f"_exact({code})" if typ == EXACT and not _is_constant_code(code) else code


def _arith_type(symbol: str, left: str, right: str) -> str | None:
    """Result type of ``left symbol right``, or None when it has no meaning."""
    if NULL in (left, right):
        other = right if left == NULL else left
        return NUMBER if other in (NULL, INTEGER, EXACT) and symbol == "/" else (
            other if other != NULL else NUMBER)
    if MONEY in (left, right):
        if left == right == MONEY:
            return {"+": MONEY, "-": MONEY, "/": NUMBER}.get(symbol)
        if symbol in ("+", "-", "*") or (symbol == "/" and left == MONEY):
            return MONEY
        return None
    if symbol == "/" or NUMBER in (left, right):
        return NUMBER
    return INTEGER if left == right == INTEGER else EXACT


def as_decimal(code: str, ctx: CodeContext) -> str:
    """Code giving ``code`` as ``_money`` gives it, without calling it for a value that is
    a Decimal already (an amount times a rate, the usual case), which it gives unchanged."""
    value = ctx.temp()  # (no attribute is read in an expression's code: _type, not .__class__)
    return f"({value} if _type({value} := {code}) is _Decimal else _money({value}))"


def _whole_literal(node: ast.AST) -> int | None:
    """The value of whole numbers written with + - * (and parentheses), else None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
        left, right = _whole_literal(node.left), _whole_literal(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add):
            return left + right
        return left - right if isinstance(node.op, ast.Sub) else left * right
    if _is_literal(node):
        value = ast.literal_eval(ast.unparse(node))
        return value if isinstance(value, int) and abs(value) < 10 ** 40 else None
    return None


def _is_literal(node: ast.AST) -> bool:
    """A number written in the text (possibly signed)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, int | float) and \
        not isinstance(node.value, bool)


def _is_constant_code(code: str) -> bool:
    if code.startswith("_k") and code[2:].isdigit():
        return True
    try:
        ast.literal_eval(code)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _is_zero_constant(code: str) -> bool:
    try:
        return ast.literal_eval(code) == 0
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def _a(word: str) -> str:
    """'a number', 'an integer'."""
    word = shown(word)
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _describe(node: ast.AST) -> str:
    names = {"Subscript": "indexing with [ ]", "Lambda": "lambda", "NamedExpr": "':='",
             "Pow": "'**'", "FloorDiv": "'//'", "JoinedStr": "an f-string",
             "ListComp": "a comprehension", "GeneratorExp": "a comprehension",
             "SetComp": "a comprehension", "DictComp": "a comprehension", "Dict": "a mapping",
             "Set": "a set", "Starred": "'*'", "Await": "await", "Yield": "yield",
             "BitAnd": "'&'", "BitOr": "'|'", "BitXor": "'^'", "LShift": "'<<'",
             "RShift": "'>>'", "MatMult": "'@'", "Invert": "'~'", "Slice": "a slice",
             "Is": "'is'", "IsNot": "'is not'"}
    kind = type(node).__name__
    return names.get(kind, kind)
