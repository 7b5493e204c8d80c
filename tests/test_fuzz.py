"""Fuzzing what users and attackers can feed the engine, with hypothesis: generated
expressions over every kind of syntax (each Python AST node type, huge and tiny numbers,
deep nesting) and generated customer documents (huge numbers, deep nesting, wrong types).

The properties: an expression either compiles or is a located ExpressionError, and a
compiled one runs to a value or stops on a number past what can be held (nothing else);
a document row through the batch worker is decided or reported as that row's error, and
no exception escapes it. The suite runs a modest number of examples; the ``slow`` tests
run thousands (``pytest -m slow tests/test_fuzz.py``).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.batch import RowSettings, decide_rows
from engine.canonical import Exact
from engine.errors import ExpressionError
from engine.language.expressions import FUNCTIONS, CodeContext, compile_expression
from engine.language.temporal import Duration, YearsMonths
from tests.expression_scope import SCOPE, as_function

NAMES = [*SCOPE, "unknown", "financials.nothing", "__class__", "os"]

# -- expressions ----------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(-10, 10), st.integers(-(10 ** 60), 10 ** 60),
    st.sampled_from(["1e308", "1e309", "5e-324", "-0.0", "0.1", "9" * 400, "1_000",
                     "0x1f", "1j", "1e-400", "0.0"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr))
TEXTS = st.sampled_from(["'A'", "'x' * 3", "\"\"", "'2026-01-01'", "'AAA'", "b'x'",
                         "f'{n}'", "'\\u00e9'", "'\\x00'", "'P30D'", "'-P1Y6M'", "'09:30'",
                         "'2026-01-31T09:30:00+01:00'"])
LEAVES = st.one_of(NUMBERS.map(str), TEXTS, st.sampled_from(NAMES),
                   st.sampled_from(["true", "false", "null", "True", "None", "..."]))
BINARY = ["+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^", "@"]
COMPARE = ["<", "<=", ">", ">=", "==", "!=", "in", "not in", "is", "is not"]
FUNCTION_NAMES = [*sorted(FUNCTIONS), "eval", "open", "__import__", "getattr", "len"]


def _grow(children: st.SearchStrategy) -> st.SearchStrategy:
    """Every kind of expression syntax Python parses, built from smaller ones."""
    pair = st.tuples(children, children)
    return st.one_of(
        st.tuples(children, st.sampled_from(BINARY), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "+", "not ", "~"]), children).map(
            lambda t: f"({t[0]}{t[1]})"),
        st.tuples(children, st.sampled_from(["and", "or"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(children, st.lists(st.tuples(st.sampled_from(COMPARE), children),
                                     min_size=1, max_size=3)).map(
            lambda t: "(" + t[0] + "".join(f" {op} {rhs}" for op, rhs in t[1]) + ")"),
        st.tuples(children, children, children).map(
            lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(st.sampled_from(FUNCTION_NAMES), st.lists(children, max_size=4)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.lists(children, max_size=4).map(lambda xs: f"[{', '.join(xs)}]"),
        st.lists(children, max_size=3).map(lambda xs: f"({', '.join(xs)},)"),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: "{" + ", ".join(xs) + "}"),
        pair.map(lambda t: "{" + f"{t[0]}: {t[1]}" + "}"),
        pair.map(lambda t: f"{t[0]}[{t[1]}]"),
        pair.map(lambda t: f"{t[0]}[{t[1]}:]"),
        children.map(lambda x: f"{x}.real"),
        children.map(lambda x: f"(lambda q: {x})"),
        pair.map(lambda t: f"[{t[0]} for q in {t[1]}]"),
        children.map(lambda x: f"(*{x},)"),
        children.map(lambda x: f"(q := {x})"),
        children.map(lambda x: f"f'{{{x}}}'"),
        children.map(lambda x: f"(await {x})"),
        children.map(lambda x: f"(yield {x})"),
    )


WILD = st.recursive(LEAVES, _grow, max_leaves=12)  # any syntax: mostly refused, cleanly

# Expressions the language accepts, by type, so that most generated ones compile and run.
NUMERIC_LEAVES = st.one_of(st.sampled_from(["n", "i", "m", "k", "x", "financials.revenue"]),
                           NUMBERS.map(str).filter(lambda t: not t.endswith("j")
                                                   and "x" not in t and "_" not in t))
PLACES = st.integers(0, 10).map(str)
STEPS = st.sampled_from(["1", "0.01", "1000", "1e-300", "1e300", "0.5"])


def _numeric(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "//", "%"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda x: f"(-{x})"),
        st.tuples(st.sampled_from(["min", "max", "coalesce"]),
                  st.lists(children, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(st.sampled_from(["abs", "floor", "ceil"]), children).map(
            lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, PLACES).map(lambda t: f"round({t[0]}, {t[1]})"),
        st.tuples(st.sampled_from(["round_down", "round_up"]), children, STEPS).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(children, children, children).map(lambda t: f"clamp({t[0]}, {t[1]}, {t[2]})"),
        st.tuples(children, children, children).map(
            lambda t: f"({t[0]} if {t[1]} > {t[2]} else {t[2]})"),
        st.sampled_from(["days_between(d, date('2026-11-30'))",
                         "years_between(date('1900-01-01'), d)"]),
    )


NUMERIC = st.recursive(NUMERIC_LEAVES, _numeric, max_leaves=10)
BOOLEAN = st.one_of(
    st.tuples(NUMERIC, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), NUMERIC).map(
        lambda t: f"{t[0]} {t[1]} {t[2]}"),
    st.tuples(NUMERIC, NUMERIC, NUMERIC).map(lambda t: f"{t[0]} < {t[1]} <= {t[2]}"),
    st.sampled_from(["b", "not b", "is_missing(n)", "s in ['A', 'B']", "'x' in l",
                     "s not in l", "d < date('2026-01-01')"]),
).flatmap(lambda first: st.one_of(st.just(first), st.tuples(
    st.sampled_from(["and", "or"]), NUMERIC).map(lambda t: f"({first}) {t[0]} {t[1]} > 0")))
EXPRESSIONS = st.one_of(NUMERIC, NUMERIC, NUMERIC, BOOLEAN, WILD)
DEEP = st.integers(1, 400).flatmap(lambda depth: st.sampled_from(
    ["-" * depth + "n", "(" * depth + "n" + ")" * depth, "not " * depth + "b",
     "abs(" * depth + "n" + ")" * depth, "[" * depth + "1" + "]" * depth,
     " + ".join(["n"] * depth)]))
VALUES = st.fixed_dictionaries({
    "n": st.one_of(st.none(), st.floats(allow_nan=False), st.sampled_from([1e308, -0.0])),
    "i": st.one_of(st.none(), st.integers(-(10 ** 40), 10 ** 40)),
    "m": st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False,
                                          places=2, min_value=-(10 ** 15),
                                          max_value=10 ** 15)),
    "s": st.one_of(st.none(), st.text(max_size=8)),
    "b": st.one_of(st.none(), st.booleans()),
    "d": st.one_of(st.none(), st.dates()),
    "l": st.one_of(st.none(), st.lists(st.text(max_size=3), max_size=3)),
    "fin_rev": st.one_of(st.none(), st.sampled_from([Decimal(0), Decimal("1E+15"),
                                                    Decimal("-0.01")])),
    "k": st.integers(-(10 ** 6), 10 ** 6),
    "x": st.one_of(st.none(), st.integers(-(10 ** 6), 10 ** 6),
                   st.decimals(allow_nan=False, allow_infinity=False, places=3,
                               min_value=-(10 ** 9), max_value=10 ** 9).map(Exact)),
    # dates and times (engine.language.temporal), up to the ends of what each can hold
    "tm": st.one_of(st.none(), st.times()),
    "ts": st.one_of(st.none(), st.datetimes(timezones=st.sampled_from(
        [dt.UTC, dt.timezone(dt.timedelta(hours=1)),
         dt.timezone(dt.timedelta(hours=-5, minutes=-30))]))),
    "du": st.one_of(st.none(), st.integers(-(10 ** 20), 10 ** 20).map(Duration)),
    "ym": st.one_of(st.none(), st.integers(-(10 ** 8), 10 ** 8).map(YearsMonths)),
})
# What a rule may stop on, and decide() turns into a DecisionError naming the rule:
# numbers past what can be held. Anything else (a TypeError, a NameError...) is a bug.
LIMITS = (ArithmeticError, RecursionError, MemoryError)


def run_expression(text: str, values: dict) -> None:
    try:
        ctx = CodeContext()
        compiled = compile_expression(text, SCOPE, ctx)
    except ExpressionError as exc:
        assert isinstance(exc.offset, int)
        return
    function = as_function(compiled.code, ctx)
    try:
        function(**values)
    except LIMITS:
        pass
    except ValueError as exc:
        assert "digits" in str(exc), exc  # an integer past 4,300 digits, nothing else


FUZZ = settings(deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")
@settings(FUZZ, max_examples=400)
@given(EXPRESSIONS, VALUES)
def test_generated_expressions_compile_and_run_or_fail_cleanly(text, values):
    run_expression(text, values)


@pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")
@settings(FUZZ, max_examples=60)
@given(DEEP, VALUES)
def test_deep_expressions_compile_or_fail_cleanly(text, values):
    run_expression(text, values)


def test_the_generator_reaches_every_expression_node_type():
    """The grammar above writes each node type of Python's expression syntax."""
    wanted = {ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call,
              ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Subscript, ast.Slice,
              ast.Attribute, ast.Lambda, ast.ListComp, ast.Starred, ast.NamedExpr,
              ast.JoinedStr, ast.Await, ast.Yield, ast.Constant, ast.Name}
    seen: set[type] = set()

    @settings(max_examples=500, database=None, deadline=None)
    @given(WILD)
    def collect(text):
        try:
            tree = ast.parse(text, mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
        seen.update(type(node) for node in ast.walk(tree))

    collect()
    assert wanted <= seen, wanted - seen


# -- customer documents through the batch worker --------------------------------------------

HUGE = st.sampled_from(["9" * 5000, "1" + "0" * 41, "-" + "9" * 400, "1e400", "-1e400",
                        "1e308", "5e-324", "-0.0", "0", "123456789012345678901234567890"])
SCALARS = st.one_of(HUGE, st.integers(-(10 ** 20), 10 ** 20).map(str),
                    st.floats(allow_nan=False, allow_infinity=False).map(repr),
                    st.text(max_size=12).map(json.dumps),
                    st.sampled_from(["true", "false", "null", '"2026-02-30"',
                                     '"1999-01-01"', '"AAA"', "[]", "{}"]))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3).map(lambda xs: "[" + ",".join(xs) + "]"),
    st.dictionaries(st.text(max_size=5), inner, max_size=3).map(
        lambda d: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in d.items()) + "}")),
    max_leaves=8)
PATHS = ["attributes.note", "financials.revenue", "financials.revenue_prior",
         "financials.net_income",
         "financials.current_assets", "financials.current_liabilities",
         "financials.total_assets", "financials.total_liabilities", "financials.equity",
         "financials.inventory", "financials.period_end", "exposure.current",
         "exposure.overdue", "requested_amount", "founded", "credit_history.months_known",
         "credit_history.overdue_count_12m", "flags.sanctions_hit", "industry.code",
         "operating.market_share", "contact.phone", "exposure.current"]


def _document(fields: dict[str, str], nesting: int) -> str:
    """A customer document as JSON text: dotted paths set to raw JSON values."""
    tree: dict = {}
    for path, raw in fields.items():
        *parents, last = path.split(".")
        node = tree
        for name in parents:
            node = node.setdefault(name, {})
        node[last] = raw

    def text(node) -> str:
        if isinstance(node, str):
            return node
        return "{" + ",".join(f"{json.dumps(k)}:{text(v)}" for k, v in node.items()) + "}"

    body = text(tree)[1:-1]
    deep = ',"attributes":{"deep":' + "[" * nesting + "]" * nesting + "}" if nesting else ""
    return '{"id":"F-1","name":"Fuzz GmbH"' + deep + ("," + body if body else "") + "}"


EDGE_NUMBERS = st.one_of(
    st.sampled_from(["0", "-0.0", "1e308", "-1e308", "5e-324", "9" * 40, "-" + "9" * 40,
                     "0.1", "1e-300", "2147483648", "0.005", "-0.005"]),
    st.integers(-(10 ** 15), 10 ** 15).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr))
DATES = st.one_of(st.dates().map(lambda d: json.dumps(d.isoformat())),
                  st.sampled_from(['"0001-01-01"', '"9999-12-31"', '"2026-11-30"']))
COUNTS = st.integers(0, 1000).map(str)
AMOUNTS = st.one_of(st.sampled_from(["0", "-0.0", "1e308", "5e-324", "9" * 40, "0.005"]),
                    st.floats(min_value=0, allow_nan=False, allow_infinity=False).map(repr))
TYPED = {"founded": DATES, "financials.period_end": DATES,
         "flags.sanctions_hit": st.sampled_from(["true", "false"]),
         "industry.code": st.sampled_from(['"C25"', '"C25.6"', '"Z99"', '"X"']),
         "credit_history.months_known": COUNTS, "credit_history.overdue_count_12m": COUNTS,
         "exposure.current": AMOUNTS, "exposure.overdue": AMOUNTS, "requested_amount": AMOUNTS,
         "operating.market_share": st.floats(0, 1).map(repr)}
TYPED_DOCUMENTS = st.builds(
    _document, st.fixed_dictionaries({}, optional={
        path: TYPED.get(path, EDGE_NUMBERS) for path in PATHS
        if path not in ("attributes.note", "contact.phone")}),
    st.sampled_from([0, 0, 0, 1, 30]))
WILD_DOCUMENTS = st.builds(_document, st.dictionaries(st.sampled_from(PATHS), JSON_VALUES,
                                                 max_size=8),
                           st.sampled_from([0, 0, 0, 0, 1, 31, 32, 900]))
DOCUMENTS = st.one_of(TYPED_DOCUMENTS, TYPED_DOCUMENTS, WILD_DOCUMENTS)


def check_rows(ruleset, lines: list[str]) -> None:
    rows = [(number, line) for number, line in enumerate(lines, 1)]
    settings_ = RowSettings(dt.date(2026, 11, 30), None, "fuzz.jsonl", b"k" * 32, "b-1", True)
    results = decide_rows(ruleset, rows, settings_)  # must not raise
    assert len(results) == len(lines)
    for result in results:
        assert result[0] in ("ok", "error")
        if result[0] == "error":
            assert all(isinstance(m, str) and m.startswith("fuzz.jsonl:") for m in result[3])


@settings(FUZZ, max_examples=150)
@given(st.lists(DOCUMENTS, min_size=1, max_size=4))
def test_generated_documents_never_escape_their_row(default_ruleset, lines):
    check_rows(default_ruleset, lines)


# -- the same, at thousands of examples ----------------------------------------------------

@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")
@settings(FUZZ, max_examples=2000)
@given(EXPRESSIONS, VALUES)
def test_thousands_of_expressions(text, values):
    run_expression(text, values)


@pytest.mark.slow
@settings(FUZZ, max_examples=1000)
@given(st.lists(DOCUMENTS, min_size=1, max_size=4))
def test_thousands_of_documents(default_ruleset, lines):
    check_rows(default_ruleset, lines)
