"""Input value lists (DMN's input values): a cell naming a value outside an input's list is
a located validation error, the list itself must suit the input's type, and credit lint
checks gaps and overlaps within the list only. Decisions are unchanged by a list."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ProblemsError
from engine.quality.lint import lint_ruleset
from tests.ruleset_factory import build_ruleset, compile_ruleset, run, table, trace_entry

SECTOR = {"name": "sector", "expr": "industry.sector", "values": ["retail", "mining"]}
STAFF = {"name": "n", "expr": "operating.employees", "values": ["[0..500]"]}
SHARE = {"name": "share", "expr": "operating.market_share", "values": [0, 0.5, 1]}


def spec(rules, inputs, **extra):
    return table(rules, inputs=inputs, hit_policy="first", **extra)


def derived(rules, inputs, **extra):
    return {"derived": {"t": {"table": spec(rules, inputs, **extra)}, "probe": "t"}}


def problems(tmp_path, rules, inputs) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        compile_ruleset(tmp_path, derived=derived(rules, inputs))
    return [str(p).removeprefix(f"{tmp_path}/") for p in caught.value.problems]


def r(cell, column="sector", out=1, rule_id="R"):
    return {"id": rule_id, "when": {column: cell}, "then": {"out": out}}


@pytest.mark.parametrize(("cell", "column", "inputs", "message"), [
    ("retail, minning", "sector", [SECTOR],
     "18:19: 'minning' is not one of the values of input 'sector' (retail, mining)"),
    ("not(bank)", "sector", [SECTOR],
     "18:19: 'bank' is not one of the values of input 'sector' (retail, mining)"),
    ("> 500", "n", [STAFF], "17:14: '> 500' is not one of the values of input 'n' ([0..500])"),
    ("600", "n", [STAFF], "17:14: '600' is not one of the values of input 'n' ([0..500])"),
    ("[-10..0)", "n", [STAFF],
     "17:14: '[-10..0)' is not one of the values of input 'n' ([0..500])"),
    ("0.25", "share", [SHARE],
     "19:18: '0.25' is not one of the values of input 'share' (0, 0.5, 1)"),
])
def test_a_cell_outside_the_inputs_values_is_a_located_error(tmp_path, cell, column, inputs,
                                                             message):
    assert problems(tmp_path, [r(cell, column)], inputs) == [f"derived.yaml:{message}"]


@pytest.mark.parametrize(("cell", "column", "inputs"), [
    ("retail", "sector", [SECTOR]), ("not(mining)", "sector", [SECTOR]),
    ("[500..600]", "n", [STAFF]),        # shares 500 with the list: can match
    ("<= 0", "n", [STAFF]), ("not(600)", "n", [STAFF]),
    ("[0.5..1]", "share", [SHARE]), ("? > operating.employees", "n", [STAFF]),
])
def test_cells_that_can_match_an_allowed_value_are_fine(tmp_path, cell, column, inputs):
    compile_ruleset(tmp_path, derived=derived([r(cell, column)], inputs))


@pytest.mark.parametrize(("column", "message"), [
    ({"name": "sector", "expr": "industry.sector", "values": ["retail", 3]},
     "derived.yaml:11:11: 3 is not a text, the type of this input"),
    ({"name": "n", "expr": "operating.employees", "values": ["few"]},
     "derived.yaml:10:11: 'few' is not a number or an interval such as [0..1]"),
    ({"name": "n", "expr": "operating.employees", "values": ["not(1)"]},
     "derived.yaml:10:11: 'not(1)' is not a number or an interval such as [0..1]"),
    ({"name": "d", "expr": "founded", "values": [20200101]},
     "derived.yaml:10:11: 20200101 is not a date or an interval of them, such as [P0D..P30D] "
     "or [2026-01-01..)"),
    ({"name": "d", "expr": "founded", "values": ["> 2020-01-01"]},
     "derived.yaml:10:11: '> 2020-01-01' is not a date or an interval of them, such as "
     "[P0D..P30D] or [2026-01-01..)"),
])
def test_a_list_that_does_not_suit_the_input_is_refused(tmp_path, column, message):
    assert problems(tmp_path, [{"id": "R", "then": {"out": 1}}], [column]) == [message]


FOUNDED = {"name": "d", "expr": "founded", "values": ["[2000-01-01..2026-06-30]"]}
AGE = {"name": "age", "expr": "as_of - founded", "values": ["[P0D..P3650D]", "P7300D"]}


@pytest.mark.parametrize(("cell", "column", "inputs", "message"), [
    ("< 2000-01-01", "d", [FOUNDED],
     "17:14: '< 2000-01-01' is not one of the values of input 'd' ([2000-01-01..2026-06-30])"),
    ('> date("2026-06-30")', "d", [FOUNDED], "17:14: '> date(\"2026-06-30\")' is not one of "
     "the values of input 'd' ([2000-01-01..2026-06-30])"),
    ("P5000D", "age", [AGE],
     "18:16: 'P5000D' is not one of the values of input 'age' ([P0D..P3650D], P7300D)"),
])
def test_a_date_or_duration_cell_outside_the_inputs_values_is_a_located_error(
        tmp_path, cell, column, inputs, message):
    assert problems(tmp_path, [r(cell, column)], inputs) == [f"derived.yaml:{message}"]


@pytest.mark.parametrize(("cell", "column", "inputs"), [
    ("<= 2000-01-01", "d", [FOUNDED]), ("[2026-06-30..)", "d", [FOUNDED]),
    ("P7300D", "age", [AGE]), ("> P3650D", "age", [AGE]), ("(P3649D..P3651D)", "age", [AGE]),
])
def test_date_and_duration_cells_that_can_match_an_allowed_value_are_fine(tmp_path, cell,
                                                                          column, inputs):
    compile_ruleset(tmp_path, derived=derived([r(cell, column)], inputs))


def test_a_list_changes_no_decision(tmp_path):
    # A value outside the list is not refused when deciding: the rules are tried as written.
    rs = compile_ruleset(tmp_path, derived=derived(
        [r("retail", out=1), r("-", out=2, rule_id="REST")], [SECTOR]))
    assert trace_entry(run(rs, {"industry.sector": "banking"}), "probe")["result"] == 2


# --- lint -------------------------------------------------------------------------------

def lint_codes(tmp_path, rules, inputs, **extra):
    folder = build_ruleset(tmp_path, derived={"derived": {
        "t": {"table": table(rules, inputs=inputs, **extra)}}},
        admission={"checks": [{"id": "USE", "when": "t == 1", "outcome": "refer",
                               "reason": "USE"}]})
    return [(f.code, f.message) for f in lint_ruleset(folder)
            if f.code in ("table-gap", "rows-overlap", "row-never-matches")]


def test_a_text_list_closes_the_input_for_the_gap_check(tmp_path):
    rules = [r("retail", out=1), r("mining", out=2, rule_id="M")]
    assert lint_codes(tmp_path / "a", rules, [SECTOR]) == []
    open_sector = {"name": "sector", "expr": "industry.sector"}
    assert lint_codes(tmp_path / "b", rules, [open_sector]) == [
        ("table-gap", "table t: no rule matches when sector is any other value (the table "
                      "has no default, so its outputs are missing)")]


def test_a_number_list_bounds_the_gap_check(tmp_path):
    rules = [r("[0..100)", "n", 1), r("[100..500]", "n", 2, "BIG")]
    assert lint_codes(tmp_path / "a", rules, [STAFF]) == []
    no_list = {"name": "n", "expr": "operating.employees"}
    assert lint_codes(tmp_path / "b", rules, [no_list]) == [
        ("table-gap", "table t: no rule matches when n is (500..1000000000000] (the table "
                      "has no default, so its outputs are missing)")]


def test_a_duration_list_bounds_the_gap_check(tmp_path):
    age = {"name": "age", "expr": "as_of - founded", "values": ["[P0D..P3650D]"]}
    rules = [r("[P0D..P365D)", "age", 1), r("[P365D..P3650D]", "age", 2, "OLD")]
    assert lint_codes(tmp_path / "a", rules, [age]) == []
    no_list = {"name": "age", "expr": "as_of - founded"}
    assert [code for code, _ in lint_codes(tmp_path / "b", rules, [no_list])] == \
        ["table-gap"]


def test_a_list_of_numbers_is_the_only_values_lint_considers(tmp_path):
    rules = [r("0", "share", 1), r("0.5", "share", 2, "HALF"), r("1", "share", 3, "ALL")]
    assert lint_codes(tmp_path, rules, [SHARE]) == []


def test_an_overlap_outside_the_list_is_no_finding(tmp_path):
    # Both rules match n > 500 only, which the list says never comes.
    two_lists = {"name": "n", "expr": "operating.employees", "values": ["[0..500]", 1000]}
    rules = [r("[0..500]", "n", 1), r(">= 600", "n", 2, "HUGE"), r(">= 1000", "n", 3, "ALSO")]
    assert lint_codes(tmp_path, rules, [two_lists], hit_policy="unique") == [
        ("rows-overlap", "rules HUGE and ALSO both match under hit policy unique when n is "
                         "1000: a decision reaching them fails")]


# --- the checks agree with the code a decision runs -------------------------------------

ENDS = st.tuples(st.integers(0, 10), st.integers(1, 4)).map(lambda e: (e[0], e[0] + e[1]))


@st.composite
def number_cells(draw):
    low, high = draw(ENDS)
    return draw(st.sampled_from([
        f"[{low}..{high}]", f"({low}..{high}]", f"[{low}..{high})", f">= {low}", f"< {high}",
        f"{low}", f"{low}, {high}", f"not({low})", f"[{low}..)"]))


@st.composite
def number_lists(draw):
    items = []
    for _ in range(draw(st.integers(1, 3))):
        low, high = draw(ENDS)
        items.append(draw(st.sampled_from([low, f"[{low}..{high}]", f"({low}..{high})"])))
    return list(dict.fromkeys(items))


@given(cell=number_cells(), listed=number_lists())
@settings(max_examples=150, deadline=None)
def test_validate_and_lint_read_a_number_list_as_the_decision_does(cell, listed):
    from engine.language.codegen import Reporter
    from engine.language.expressions import CodeContext
    from engine.language.runtime import HELPERS
    from engine.language.tables import input_values
    from engine.language.unary_tests import Interval, compile_unary_test
    from engine.quality.input_space import Domain, matches, pieces

    ctx = CodeContext()
    test = compile_unary_test(cell, "x", "integer", {}, ctx)
    namespace = {**HELPERS, **ctx.constants}
    exec(f"def _f(x):\n    return {test.code or True}\n", namespace)
    allowed = input_values(listed, "integer", ("values",), Reporter())
    inside = [v for v in range(-2, 16) if any(i.contains(v) for i in allowed.intervals)]
    # validate refuses a cell only when one of its items matches no listed value
    if allowed.outside(test) is not None:
        items = [*(Interval(v, True, v, True) for v in test.values or ()),
                 *(test.intervals or ())]
        assert any(not any(item.contains(v) for v in inside) for item in items), (cell, listed)
    # lint's pieces hold listed values only, and every listed value is in one of them
    column = pieces(Domain("integer", allowed=allowed.intervals, nullable=False), [test])
    assert all(any(i.contains(p.value) for i in allowed.intervals) for p in column)
    assert all(sum(p.interval.contains(v) for p in column) == 1 for v in inside)
    # and lint's reading of the cell is the decision's, piece by piece
    for piece in column:
        assert matches(test, piece) is namespace["_f"](piece.value), (cell, listed, piece)
