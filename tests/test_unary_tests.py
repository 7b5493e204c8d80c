"""Decision-table cells (engine/unary_tests.py): every cell form, missing inputs, the
interval/value metadata and errors with offsets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.canonical import Exact
from engine.errors import ExpressionError
from engine.language.expressions import CodeContext, Symbol
from engine.language.runtime import HELPERS
from engine.language.unary_tests import Interval, compile_unary_test

SCOPE = {"equity": Symbol("money", "equity"), "limit": Symbol("money", "limit"),
         "ratio": Symbol("number", "ratio"), "sector": Symbol("string", "sector"),
         "attributes.other": Symbol("string", "other"),
         "attributes.flag": Symbol("boolean", "flag"), "points": Symbol("exact", "points")}
FACTS = [sym.code for sym in SCOPE.values()]
D = dt.date


def compile_cell(cell, typ, nullable=True):
    ctx = CodeContext()
    test = compile_unary_test(cell, "x", typ, SCOPE, ctx, input_nullable=nullable)
    source = f"def _f(x, {', '.join(FACTS)}):\n    return {test.code or True}\n"
    namespace = dict(HELPERS)
    namespace.update(ctx.constants)
    exec(compile(source, "<cell>", "exec"), namespace)
    return test, namespace["_f"]


def matches(cell, typ, value, **facts):
    _, fn = compile_cell(cell, typ)
    result = fn(value, **{**dict.fromkeys(FACTS), **facts})
    assert isinstance(result, bool)
    return result


def cell_error(cell, typ) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        compile_cell(cell, typ)
    return info.value


@pytest.mark.parametrize(("cell", "typ", "value", "expected"), [
    (">= 80", "number", 80, True), (">= 80", "number", 79.99, False),
    ("> 80", "integer", 80, False), ("> 80", "integer", 81, True), ("< 0.5", "number", 0.5, False),
    ("< 0.5", "number", 0.49, True), ("<= 0.5", "number", 0.5, True), ("= 5", "integer", 5, True),
    ("= 5", "number", 5.0, True), ("= 5", "integer", 6, False), ("!= 0", "number", 0, False),
    ("!= 0", "number", 1, True), ("5", "integer", 5, True), (5, "integer", 5, True),
    (0.5, "number", 0.5, True), ("-5", "integer", -5, True),
    ("= retail", "string", "retail", True), ("!= retail", "string", "x", True),
    ("!= retail", "string", "retail", False), ('= "a b"', "string", "a b", True),
    ("< m", "string", "a", True),
])
def test_comparisons(cell, typ, value, expected):
    assert matches(cell, typ, value) is expected


@pytest.mark.parametrize(("cell", "value", "expected"), [
    ("[60..80)", 60, True), ("[60..80)", 80, False), ("[60..80)", 59.999, False),
    ("[60..80)", 79.999, True), ("(60..80]", 60, False), ("(60..80]", 80, True),
    ("]60..80[", 60, False), ("]60..80[", 80, False), ("]60..80[", 70, True),
    ("[60..80]", 60, True), ("[60..80]", 80, True), ("[100..)", 100, True), ("[100..)", 99, False),
    ("[100..)", 1e12, True), ("(..0)", 0, False), ("(..0)", -0.01, True), ("(..0]", 0, True),
    ("[-5..5]", -5, True), ("[5..5]", 5, True), ("[ 1 .. 2 ]", 2, True), ("[0.5..1.5]", 1.5, True),
    ("[0.5..1.5]", 0.49, False),
])
def test_intervals_on_each_edge(cell, value, expected):
    assert matches(cell, "number", value) is expected
    test, _ = compile_cell(cell, "number")
    assert test.intervals is not None and len(test.intervals) == 1
    assert test.intervals[0].contains(value) is expected  # metadata agrees with the code


@pytest.mark.parametrize(("cell", "interval", "text"), [
    ("[60..80)", Interval(60, True, 80, False), "[60..80)"),
    ("(..0)", Interval(None, False, 0, False), "(..0)"),
    ("[100..)", Interval(100, True, None, False), "[100..)"),
    ("]0..1[", Interval(0, False, 1, False), "(0..1)"),
    (">= 80", Interval(80, True, None, False), "[80..)"),
    ("< 0.5", Interval(None, False, 0.5, False), "(..0.5)"),
    ("<= 2", Interval(None, False, 2, True), "(..2]"),
])
def test_interval_metadata(cell, interval, text):
    test, _ = compile_cell(cell, "number")
    assert test.intervals == (interval,)
    assert test.values is None
    assert str(interval) == text


@pytest.mark.parametrize(("ends", "value", "expected"), [
    ((60, True, 80, False), 60, True), ((60, True, 80, False), 80, False),
    ((60, False, 80, True), 60, False), ((60, False, 80, True), 80, True),
    ((None, False, 0, True), -1e12, True), ((None, False, 0, True), 0, True),
    ((1, False, None, False), 1, False), ((1, False, None, False), 1e12, True),
    ((None, False, None, False), 0, True)])
def test_interval_contains(ends, value, expected):
    assert Interval(*ends).contains(value) is expected


def test_mixed_list_keeps_intervals_and_values():
    test, _ = compile_cell(">= 80, 5", "number")
    assert test.intervals == (Interval(80, True, None, False),)
    assert test.values == frozenset({5})
    assert matches(">= 80, 5", "number", 5) and not matches(">= 80, 5", "number", 6)
    assert matches("< 0, > 100", "number", 50) is False
    assert compile_cell("< 0, > 100", "number")[0].intervals == (
        Interval(None, False, 0, False), Interval(100, False, None, False))


@pytest.mark.parametrize(("cell", "typ", "value", "expected", "values"), [
    ("AAA, AA", "string", "AA", True, {"AAA", "AA"}),
    ("AAA, AA", "string", "A", False, {"AAA", "AA"}),
    ('"a, b", c', "string", "a, b", True, {"a, b", "c"}),
    ('"a, b", c', "string", "a", False, {"a, b", "c"}),
    ("\"O'Brien\", 'x, y'", "string", "O'Brien", True, {"O'Brien", "x, y"}),
    ("new york, a-b", "string", "new york", True, {"new york", "a-b"}),
    ("1, 2.5", "number", 2.5, True, {1, 2.5}), ("1, 2.5", "number", 1.0, True, {1, 2.5}),
    ("1, 2.5", "number", 2, False, {1, 2.5}),
])
def test_lists(cell, typ, value, expected, values):
    assert matches(cell, typ, value) is expected
    test, _ = compile_cell(cell, typ)
    assert test.values == frozenset(values)
    assert test.intervals is None


@pytest.mark.parametrize(("cell", "typ", "value", "expected"), [
    ("not(AAA, AA)", "string", "BBB", True), ("not(AAA, AA)", "string", "AA", False),
    ("not (AAA)", "string", "AA", True), ("not([60..80))", "number", 70, False),
    ("not([60..80))", "number", 80, True), ("not(>= 80)", "number", 79, True),
    ("not(? > 5)", "number", 1, True),
])
def test_negation(cell, typ, value, expected):
    assert matches(cell, typ, value) is expected
    assert compile_cell(cell, typ)[0].negated is True


@pytest.mark.parametrize("cell", ["-", "", "  -  ", None])
def test_any_matches_everything_even_missing(cell):
    test, _ = compile_cell(cell, "number")
    assert test.is_any and test.code is None
    assert matches(cell, "number", None) is True


@pytest.mark.parametrize(("cell", "typ"), [
    (">= 80", "number"), ("[60..80)", "number"), ("(..0)", "number"), ("= 5", "number"),
    ("!= 5", "number"), ("5", "number"), ("1, 2", "number"), ("not(5)", "number"),
    ("not([1..2])", "number"), ("? > 1", "number"), ("> ratio", "number"), ("? != 1", "number"),
    ("AAA", "string"), ("!= AAA", "string"), ("not(AAA)", "string"), ("AAA, AA", "string"),
    ("[2020-01-01..)", "date"), (True, "boolean"), (False, "boolean"),
])
def test_missing_input_fails_every_test_but_any(cell, typ):
    assert matches(cell, typ, None, ratio=1.0) is False


def test_non_nullable_input_needs_no_null_guard():
    test, fn = compile_cell(">= 80", "number", nullable=False)
    assert "None" not in test.code
    assert fn(80, *[None] * len(FACTS)) is True


def test_question_mark_expression():
    cell = "? > 0.5 * equity"
    assert matches(cell, "money", Decimal(60), equity=Decimal(100)) is True
    assert matches(cell, "money", Decimal(50), equity=Decimal(100)) is False
    assert matches(cell, "money", Decimal(60), equity=None) is False
    test, _ = compile_cell(cell, "money")
    assert test.reads == ("equity",)
    assert test.intervals is None and test.values is None
    assert matches("? in ['a', 'b']", "string", "a") is True
    assert matches("'?' == ?", "string", "?") is True  # a quoted ? is text


def test_comparison_against_another_field():
    assert matches("> limit", "money", Decimal(60), limit=Decimal(50)) is True
    assert matches("> limit", "money", Decimal(50), limit=Decimal(50)) is False
    assert matches("> limit", "money", Decimal(60), limit=None) is False
    assert matches("<= 0.5 * equity", "money", Decimal(50), equity=Decimal(100)) is True
    assert matches("[1..ratio]", "number", 1, ratio=2.0) is True
    assert matches("[1..ratio]", "number", 1, ratio=None) is False
    test, _ = compile_cell("[limit..equity * 2)", "money")
    assert test.reads == ("limit", "equity")
    assert test.intervals is None


@pytest.mark.parametrize(("cell", "value", "expected"), [
    ("[2020-01-01..2021-01-01)", D(2020, 1, 1), True),
    ("[2020-01-01..2021-01-01)", D(2021, 1, 1), False),
    ("[2020-01-01..2021-01-01)", D(2019, 12, 31), False), ("> 2021-01-01", D(2021, 1, 1), False),
    ("> 2021-01-01", D(2021, 1, 2), True), ("2021-01-01", D(2021, 1, 1), True),
    ("(..2020-02-29]", D(2020, 2, 29), True),
])
def test_date_cells(cell, value, expected):
    assert matches(cell, "date", value) is expected


@pytest.mark.parametrize(("cell", "value", "expected"), [
    (True, True, True), (True, False, False), (False, False, True), (False, None, False)])
def test_boolean_cells(cell, value, expected):
    assert matches(cell, "boolean", value) is expected
    assert compile_cell(cell, "boolean")[0].values == frozenset({cell})


@pytest.mark.parametrize(("cell", "typ", "fragment", "offset"), [
    ("[80..60]", "number", "is empty", 0), ("[5..5)", "number", "is empty", 0),
    ("1, (5..5]", "number", "is empty", 3),
    ("[1..2]", "string", "needs a number or date column", 0),
    ("5", "string", "the number 5 in a column of string", 0),
    ("AAA, 5", "string", "the number 5", 5), (5, "string", "the number 5", 0),
    ("AAA,,AA", "string", "empty item", 4), ("AAA,", "string", "empty item", 4),
    ("  AAA, ,B", "string", "empty item", 6), ("not()", "string", "empty item", 4),
    (">=", "number", "nothing after '>='", 2), ("  >=  ", "number", "nothing after '>='", 4),
    ("[..]", "number", "at least one end", 0), (">= 2026-02-30", "date", "not a date", 3),
    ("[2026-01-01..2026-13-01]", "date", "not a date", 13), ("[1..2]", "date", "the number 1", 1),
    ("AAA", "number", "unknown field 'AAA'", 0),
    ("> 2 * bogus", "number", "unknown field 'bogus'", 6),
    ("> 'a'", "number", "string value in a column of number", 2),
    (True, "number", "true/false in a column of number", 0), ([1], "number", "a cell must be", 0),
])
def test_errors_with_offsets(cell, typ, fragment, offset):
    error = cell_error(cell, typ)
    assert fragment in error.message
    assert error.offset == offset


def test_empty_date_interval_is_an_error():
    assert "is empty" in cell_error("[2021-01-01..2020-01-01]", "date").message


@pytest.mark.parametrize(("cell", "value", "expected"), [
    ("true", True, True), ("not(true)", False, True), ("= false", False, True)])
def test_boolean_words_in_text_cells(cell, value, expected):
    assert matches(cell, "boolean", value) is expected


@pytest.mark.parametrize(("cell", "value"), [
    ("[0.1..0.2)", "0.1"), (">= 1000.10", "1000.10"), ("= 1234.56", "1234.56")])
def test_money_column_with_decimal_bounds(cell, value):
    assert matches(cell, "money", Decimal(value)) is True


# --- the right of an operator is an expression: a field there means its value ---------------

@pytest.mark.parametrize(("cell", "value", "other", "expected"), [
    ("= attributes.other", "north", "north", True),
    ("= attributes.other", "attributes.other", "north", False),  # never the text
    ("= attributes.other", "north", None, False), ("= attributes.other", None, None, False),
    ("!= attributes.other", "south", "north", True),
    ("!= attributes.other", "north", "north", False),
    ("!= attributes.other", "south", None, False),
    ("= sector", "retail", "", False), ("retail, = attributes.other", "north", "north", True),
    ("not(= attributes.other)", "north", "north", False),
    ('"attributes.other"', "attributes.other", "north", True),  # quoted: the text
    ("= v1.2", "v1.2", None, True), ("= retail", "retail", None, True),
])
def test_a_field_after_an_operator_in_a_text_column_is_its_value(cell, value, other, expected):
    assert matches(cell, "string", value, other=other, sector="wholesale") is expected


def test_a_text_cell_comparing_with_a_field_reads_it():
    test, _ = compile_cell("= attributes.other", "string")
    assert test.reads == ("attributes.other",)
    assert test.values is None  # not a constant: static checks take no proof from it


@pytest.mark.parametrize(("cell", "fragment", "offset"), [
    ("= attributes.othr", "unknown field 'attributes.othr' (did you mean "
                          "'attributes.other'?)", 2),
    ("!=  industry.sector", "unknown field 'industry.sector'", 4),
    ("attributes.other", "'attributes.other' names a field: write '= attributes.other'", 0),
    ("AAA,  sector", "'sector' names a field", 6),
    ("not(attributes.other)", "names a field", 4),
    ("= attributes.flag", "a boolean value in a column of string values", 2),
    # A dotted name standing alone is a field too: a mistyped one is not a text.
    ("attributes.othr", "unknown field 'attributes.othr' (did you mean 'attributes.other'?); "
                        "a dotted name is read as a field: write \"attributes.othr\" "
                        "(quoted) for the text", 0),
    ("AAA,  attributes.othr", "unknown field 'attributes.othr'", 6),
    ("not(AAA, www.acme.com)", "write \"www.acme.com\" (quoted)", 9),
    ("sector.x", "unknown field 'sector.x'", 0),
    ("= e.g", "write \"e.g\" (quoted) for the text", 2),
])
def test_a_field_name_in_a_text_cell_is_never_a_text_in_disguise(cell, fragment, offset):
    error = cell_error(cell, "string")
    assert fragment in error.message
    assert error.offset == offset


@pytest.mark.parametrize(("cell", "value"), [
    ('"attributes.othr"', "attributes.othr"), ("'www.acme.com', AAA", "www.acme.com"),
    ("v1.2", "v1.2"), ("1.2.3", "1.2.3"), ("x.3rd", "x.3rd"), ("e.g.", "e.g."),
    ("St. Louis", "St. Louis"), ("= a-b.c", "a-b.c"),
])
def test_text_with_dots_that_is_no_field_path(cell, value):
    """Quoted, or not shaped like a field path (a part starting with a digit, a space, a
    trailing dot, a dash): the text."""
    assert matches(cell, "string", value) is True
    assert matches(cell, "string", value + "x") is False


@pytest.mark.parametrize(("cell", "value", "flag", "expected"), [
    ("= attributes.flag", True, True, True), ("= attributes.flag", False, False, True),
    ("= attributes.flag", True, False, False), ("= attributes.flag", None, True, False),
    ("= attributes.flag", True, None, False), ("!= attributes.flag", True, False, True),
    ("!= attributes.flag", True, True, False), ("!= attributes.flag", True, None, False),
    ("attributes.flag", False, False, True), ("not(= attributes.flag)", True, False, True),
])
def test_equality_with_a_boolean_field(cell, value, flag, expected):
    assert matches(cell, "boolean", value, flag=flag) is expected


@pytest.mark.parametrize(("cell", "operator", "offset"), [
    ("< attributes.flag", "<", 0), (">= attributes.flag", ">=", 0), ("> true", ">", 0),
    ("true, < attributes.flag", "<", 6), ("not(  >= true)", ">=", 6),
    ("= attributes.flag,<= false", "<=", 18),
])
def test_true_and_false_are_still_not_ordered(cell, operator, offset):
    """Equality is not ordering: only <, <=, >, >= are refused, at their operator."""
    error = cell_error(cell, "boolean")
    assert error.message == f"'{operator}' cannot order true/false values"
    assert error.offset == offset


@given(st.lists(st.text(max_size=8), min_size=1, max_size=4))
def test_any_texts_written_quoted_are_read_back_as_they_are(texts):
    # A cell of quoted texts (repr of each), however awkward, reads back as written.
    test, fn = compile_cell(", ".join(repr(t) for t in texts), "string")
    assert test.values == frozenset(texts)
    assert all(fn(t, *[None] * len(FACTS)) for t in texts)


@pytest.mark.parametrize(("cell", "values"), [
    (r"'It\'s', x", {"It's", "x"}), (r'"say \"hi\", ok", y', {'say "hi", ok', "y"}),
    (r"'a\\', b", {"a\\", "b"}),
])
def test_a_backslash_escapes_a_quote_in_a_cell(cell, values):
    test, _ = compile_cell(cell, "string")
    assert test.values == frozenset(values)
    assert matches(r"'?\'' == ?", "string", "?'") is True  # the quoted ? is text


# --- infinity as scorecard tools write it; numbers too large to hold -----------------------

@pytest.mark.parametrize(("cell", "interval"), [
    ("[-inf..8)", Interval(None, False, 8, False)), ("[44..inf)", Interval(44, True, None, False)),
    ("[-inf,8)", Interval(None, False, 8, False)), ("[44,inf)", Interval(44, True, None, False)),
    ("[44.5, +Inf]", Interval(44.5, True, None, False)), ("[8,44)", Interval(8, True, 44, False)),
    ("(-infinity..0]", Interval(None, False, 0, True)), ("(..8)", Interval(None, False, 8, False)),
    ("[-inf,inf]", Interval(None, False, None, False)),
    # ISO's reversed brackets, as with '..': ]a,b[ is open at both ends
    ("]-inf,8[", Interval(None, False, 8, False)), ("]8,44]", Interval(8, False, 44, True)),
    ("[8,44[", Interval(8, True, 44, False)), ("]44,inf[", Interval(44, False, None, False)),
])
def test_infinite_ends_are_no_bound(cell, interval):
    test, _ = compile_cell(cell, "number")
    assert test.intervals == (interval,)
    for value in (-1e300, -1, 0, 7.999, 8, 43.9, 44, 44.5, 1e300):
        assert matches(cell, "number", value) is interval.contains(value), value
    assert matches(cell, "number", None) is False  # a missing value is in no interval


@pytest.mark.parametrize(("cell", "expected"), [
    ("[0..1[, 5", [False, True, True, False, True, False]),
    ("]0..1[,5", [False, False, True, False, True, False]),
    ("]-inf,0], ]0,1[", [True, True, True, False, False, False]),
    ("]1,5[, [8,inf)", [False, False, False, False, False, True]),
    ("not(]0,1[, 5)", [True, True, False, True, False, True]),
    ("[max(0, 1)..5[, 9", [False, False, False, True, False, True]),
])
def test_intervals_with_reversed_brackets_in_a_list(cell, expected):
    """A '[' closing an interval ([0..1[) is not the start of something nested: the list
    is split after it."""
    assert [matches(cell, "number", v) for v in (-1, 0, 0.5, 1, 5, 9)] == expected


def test_bins_as_a_scorecard_tool_exports_them_split_on_their_edges():
    cell = "[-inf,8), [44,inf)"
    assert [matches(cell, "integer", v) for v in (7, 8, 43, 44)] == [True, False, False, True]
    assert matches("[-inf,8)", "money", Decimal("7.99")) is True
    assert matches("[-inf..2021-01-01)", "date", D(2020, 12, 31)) is True


@pytest.mark.parametrize(("cell", "typ", "fragment", "offset"), [
    ("[-1e999..8)", "number", "number too large", 1), ("(..1e999)", "number", "too large", 3),
    ("> 1e999", "number", "number too large", 2), ("= -1e999", "money", "too large", 2),
    ("1, 1e400", "integer", "number too large", 3), ("[-1e999,8)", "number", "too large", 1),
    ("[" + "9" * 5000 + "..)", "number", "number too large", 1),
    ("> 1" + "0" * 31, "integer", "number too large", 2),
    ("[inf..8)", "number", "the interval [inf..8) is empty", 0),
    ("(..-inf)", "number", "is empty", 0), ("[-inf..-inf]", "number", "is empty", 0),
    ("[limit, 8)", "money", "an interval written with a comma takes numbers", 1),
    ("[0,  2 * limit]", "money", "an interval written with a comma", 5),
    ("[-inf,8)", "string", "needs a number or date column", 0),
    ("]limit,8[", "money", "an interval written with a comma takes numbers", 1),
    # infinity is an interval's end, not a number to compare with
    ("> -inf", "number", "'-inf' is no number: infinity is only an interval's end, as in "
                         "(..8), [-inf,8) or [44,inf)", 2),
    ("< inf", "integer", "'inf' is no number", 2), ("1,  +Infinity", "money", "no number", 4),
    # nor may a number vanish to 0
    ("[1e-400..)", "number", "number too small to hold (it would be 0)", 1),
    ("> 1e-400", "money", "number too small", 2), ("0.5, -1E-999", "exact", "too small", 5),
    ("> 2 * 1e-400", "number", "number too small", 6),
])
def test_infinity_and_overflow_errors(cell, typ, fragment, offset):
    error = cell_error(cell, typ)
    assert fragment in error.message
    assert error.offset == offset


@pytest.mark.parametrize(("cell", "typ", "value"), [
    ("> 0e-400", "number", 1e-300), ("> 0.0", "number", 5e-324), ("= 1e-320", "number", 1e-320),
    ("inf, x", "string", "inf"), ("= inf", "string", "inf"),  # a text column: text
])
def test_what_is_no_infinity_and_no_underflow(cell, typ, value):
    assert matches(cell, typ, value) is True


# --- exact columns (the score, numbers a ruleset wrote) -----------------------------------

@pytest.mark.parametrize(("cell", "value", "expected"), [
    ("[0.3..0.8)", Decimal("0.1") + Decimal("0.2"), True),
    ("[0.3..0.8)", Decimal("0.1") + Decimal("0.7"), False),
    (">= 0.8", Exact("0.8"), True), ("< 0.3", Exact("0.3"), False), ("= 0.3", Exact("0.30"), True),
    ("0.1, 0.3", Exact("0.3"), True), ("not(0.1, 0.3)", Exact("0.3"), False),
    ("[1..2)", 1, True), ("(..inf)", Exact("1E+20"), True),
])
def test_an_exact_column_compares_exactly(cell, value, expected):
    assert matches(cell, "exact", value) is expected


def test_an_exact_column_keeps_exact_ends_for_static_checks():
    test, _ = compile_cell("[0.1..0.3)", "exact")
    assert test.intervals == (Interval(Decimal("0.1"), True, Decimal("0.3"), False),)
    assert str(test.intervals[0]) == "[0.1..0.3)"
    assert compile_cell("0.1, 2", "exact")[0].values == {Decimal("0.1"), 2}


@pytest.mark.parametrize(("cell", "typ", "value", "facts", "expected"), [
    # an exact number meeting a float (a document's number) is the float nearest to it
    ("= ratio", "exact", Exact("0.7"), {"ratio": 0.7}, True),
    ("> ratio", "exact", Exact("0.7"), {"ratio": 0.7}, False),
    ("[ratio..1]", "exact", Exact("0.7"), {"ratio": 0.7}, True),
    ("(0.1..ratio]", "exact", Exact("0.7"), {"ratio": 0.7}, True),
    ("= points", "number", 0.7, {"points": Exact("0.7")}, True),
    ("< points", "number", 0.7, {"points": Exact("0.7")}, False),
    ("[points..1)", "number", 0.1, {"points": Exact("0.1")}, True),
    ("= points", "number", 0.7, {"points": None}, False),
    ("= (0.7)", "number", 0.7, {}, True), ("[(0.1)..(0.7)]", "number", 0.7, {}, True),
    ("= 0.1 + 0.6", "number", 0.7, {}, True),
])
def test_an_exact_number_meets_a_float_as_the_float_nearest_to_it(cell, typ, value, facts,
                                                                   expected):
    assert matches(cell, typ, value, **facts) is expected
