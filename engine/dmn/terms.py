"""The cells both languages share, as trees: FEEL (a DMN file's) and the ruleset's.

A cell is read from one language into these terms and written out in the other, so a
table keeps its meaning both ways. Only what both can say has a term; anything else is
refused where it is read (``TermError``) and never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import CreditRulesError


class TermError(CreditRulesError):
    """A cell (or expression) one language has and the other cannot say."""


# --- expressions ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Num:
    """A number as written, in plain decimal digits (``0.10`` keeps its zero)."""

    text: str


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Bool:
    value: bool


@dataclass(frozen=True)
class Null:
    pass


@dataclass(frozen=True)
class Name:
    """A variable: in FEEL as written (``Applicant Age``, ``applicant.age``); in the
    ruleset a fact path or a derived fact's name."""

    path: str


@dataclass(frozen=True)
class DateLit:
    """``date("2026-01-31")`` in both languages."""

    text: str


@dataclass(frozen=True)
class TimeLit:
    """A constant of a time, a date and time or a duration, by the ruleset's function
    name: ``time("09:30:00")``, ``datetime("2026-01-31T09:30:00Z")`` (FEEL's ``date and
    time("...")``), ``duration("P30D")`` (a years and months duration too, ``P1Y6M``)."""

    function: str  # time | datetime | duration
    text: str


@dataclass(frozen=True)
class Question:
    """``?``: the input of the column a cell tests."""


@dataclass(frozen=True)
class Neg:
    operand: Expr


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class Missing:
    """FEEL ``x = null``; the ruleset's ``is_missing(x)``."""

    operand: Expr


@dataclass(frozen=True)
class Call:
    """One of the functions both languages have, by its ruleset name (see FUNCTIONS)."""

    name: str
    args: tuple


@dataclass(frozen=True)
class Binary:
    """``op`` is one of + - * / == != < <= > >= and or (equality written ``==`` here)."""

    op: str
    left: Expr
    right: Expr


Expr = Num | Text | Bool | Null | Name | DateLit | TimeLit | Question | Neg | Not | Missing \
    | Binary | Call

# The ruleset's functions with a FEEL function of the same meaning (null in, null out):
# ruleset name -> FEEL name.
FUNCTIONS = {"min": "min", "max": "max", "abs": "abs", "floor": "floor", "ceil": "ceiling"}

ARITHMETIC = ("+", "-", "*", "/")
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


# --- unary tests (input cells) -------------------------------------------------------------

@dataclass(frozen=True)
class Compare:
    """``< 25``, ``!= "x"``; ``==`` is a plain value (``"good"``, ``25``, a name)."""

    op: str
    value: Expr


@dataclass(frozen=True)
class Range:
    """An interval; an end of None is unbounded (the ruleset's ``(..0)``)."""

    low: Expr | None
    low_closed: bool
    high: Expr | None
    high_closed: bool


@dataclass(frozen=True)
class Satisfies:
    """A boolean expression over ``?``, the input."""

    expr: Expr


Item = Compare | Range | Satisfies


@dataclass(frozen=True)
class Tests:
    """A cell: any of ``items`` (none: ``-``, any value), or none of them when negated."""

    items: tuple[Item, ...]
    negated: bool = False

    @property
    def is_any(self) -> bool:
        return not self.items


ANY = Tests(())


def map_names(expr: Expr, rename) -> Expr:
    """``expr`` with every Name's path replaced by ``rename(path)``."""
    if isinstance(expr, Name):
        return Name(rename(expr.path))
    if isinstance(expr, Neg | Not | Missing):
        return type(expr)(map_names(expr.operand, rename))
    if isinstance(expr, Binary):
        return Binary(expr.op, map_names(expr.left, rename), map_names(expr.right, rename))
    if isinstance(expr, Call):
        return Call(expr.name, tuple(map_names(a, rename) for a in expr.args))
    return expr


def map_test_names(tests: Tests, rename) -> Tests:
    """``tests`` with every Name in its values renamed (see ``map_names``)."""
    def one(value):
        return None if value is None else map_names(value, rename)

    items = []
    for item in tests.items:
        if isinstance(item, Compare):
            items.append(Compare(item.op, one(item.value)))
        elif isinstance(item, Range):
            items.append(Range(one(item.low), item.low_closed, one(item.high),
                               item.high_closed))
        else:
            items.append(Satisfies(one(item.expr)))
    return Tests(tuple(items), tests.negated)


def names_in(expr: Expr | None) -> list[str]:
    """Every Name's path in ``expr``, in order."""
    if isinstance(expr, Name):
        return [expr.path]
    if isinstance(expr, Neg | Not | Missing):
        return names_in(expr.operand)
    if isinstance(expr, Binary):
        return names_in(expr.left) + names_in(expr.right)
    if isinstance(expr, Call):
        return [name for arg in expr.args for name in names_in(arg)]
    return []


def test_names(tests: Tests) -> list[str]:
    """Every Name's path in a cell's values, in order."""
    found = []
    for item in tests.items:
        if isinstance(item, Compare):
            found += names_in(item.value)
        elif isinstance(item, Range):
            found += names_in(item.low) + names_in(item.high)
        else:
            found += names_in(item.expr)
    return found
