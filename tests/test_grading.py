"""Grading through real compiled rulesets: bins and their edges, missing and else bins,
reason codes, band edges, and floors and caps."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from engine.canonical import canonical_json
from engine.errors import ProblemsError
from tests.ruleset_factory import compile_ruleset, grading_spec, policy_table, run, trace_entry

BANDS = [{"grade": "A", "score": "[20..)"}, {"grade": "B", "score": "[10..20)"},
         {"grade": "C", "score": "(..10)"}]


def char(char_id, expr, bins, reason=None):
    return {"id": char_id, "input": expr, "reason": reason or char_id.upper(), "bins": bins}


def graded(tmp_path, characteristics, bands=BANDS, **kwargs):
    return compile_ruleset(tmp_path, grading=grading_spec(characteristics, bands, **kwargs))


def scored(decision, char_id):
    """(bin, points) of one characteristic, from the trace."""
    result = trace_entry(decision, char_id)["result"]
    return result["bin"], result["points"]


# --- bins -----------------------------------------------------------------------------------

SHARE = char("share", "operating.market_share", [
    {"missing": True, "points": 5},
    {"range": "(..0.2)", "points": 0},
    {"range": "[0.2..0.5)", "points": 10},
    {"range": "[0.5..)", "points": 20, "id": "strong"},
])


@pytest.mark.parametrize(("share", "expected"), [
    (0.1999, ("(..0.2)", 0)),
    (0.2, ("[0.2..0.5)", 10)),       # on a closed edge: in the upper bin
    (0.4999, ("[0.2..0.5)", 10)),
    (0.5, ("strong", 20)),           # on the open edge of [0.2..0.5): in the next bin
    (None, ("missing", 5)),
])
def test_range_bins_and_their_edges(tmp_path, share, expected):
    decision = run(graded(tmp_path, [SHARE]), {"operating.market_share": share})
    assert scored(decision, "share") == expected
    assert decision.score == expected[1]
    entry = trace_entry(decision, "share")
    assert entry["read"] == {"operating.market_share": share}


@pytest.mark.parametrize(("employees", "expected"), [
    (10, ("(..10]", 0)), (11, ("(10..50]", 10)), (50, ("(10..50]", 10)), (51, ("(50..)", 20)),
])
def test_bins_closed_on_their_upper_edge(tmp_path, employees, expected):
    size = char("size", "operating.employees", [
        {"range": "(..10]", "points": 0}, {"range": "(10..50]", "points": 10},
        {"range": "(50..)", "points": 20}])
    decision = run(graded(tmp_path, [size]), {"operating.employees": employees})
    assert scored(decision, "size") == expected


RISK = char("risk", "industry.risk_class", [
    {"values": ["low"], "points": 20},
    {"values": ["medium", "elevated"], "points": 10},
    {"else": True, "points": 2, "id": "other", "reason": "UNUSUAL_RISK_CLASS"},
], reason="RISKY_INDUSTRY")


@pytest.mark.parametrize(("risk", "expected"), [
    ("low", ("low", 20)), ("elevated", ("medium, elevated", 10)),
    ("very_high", ("other", 2)),    # an unmatched value
    (None, ("other", 2)),           # a missing value, there being no missing bin
])
def test_values_bins_and_else_bin(tmp_path, risk, expected):
    decision = run(graded(tmp_path, [RISK]), {"industry.risk_class": risk})
    assert scored(decision, "risk") == expected
    assert decision.score == expected[1]


AWKWARD_TEXTS = ["It's \"fine\"", "a, b", "back\\slash", "ends with \\", "tab\there", "?",
                 "not(x)", "-", "", " spaced ", "[1..2]", ">= 3", "\"", "'"]


@pytest.mark.parametrize("position", range(len(AWKWARD_TEXTS)))
def test_values_bins_take_any_text_as_it_is(tmp_path, position):
    # Every text in one bin, followed by another bin: each value matches as it is written.
    risk = char("risk", "industry.risk_class", [
        {"values": AWKWARD_TEXTS, "points": 20, "id": "awkward"},
        {"values": ["It's", "fine"], "points": 10, "id": "pieces"},
        {"else": True, "points": 0}])
    rs = graded(tmp_path, [risk])
    assert scored(run(rs, {"industry.risk_class": AWKWARD_TEXTS[position]}), "risk") == \
        ("awkward", 20)
    assert scored(run(rs, {"industry.risk_class": "It's"}), "risk") == ("pieces", 10)
    assert scored(run(rs, {"industry.risk_class": "a"}), "risk") == ("else", 0)


@pytest.mark.parametrize(("expr", "values", "given", "points"), [
    ("operating.employees", [0, 7], [(0, 20), (7, 20), (6, 0), (None, 0)], None),
    ("operating.employees", [5.0], [(5, 20), (6, 0)], None),  # a float written whole
    ("operating.market_share", [0.1, 0.25], [(0.1, 20), (0.25, 20), (0.2, 0)], None),
    ("financials.revenue", [1234.56, 0.1], [(1234.56, 20), (0.1, 20), (1234.5, 0)], None),
    ("flags.parent_guarantee", [True], [(True, 20), (False, 0), (None, 0)], None),
    ("flags.parent_guarantee", [False, True], [(False, 20), (True, 20), (None, 0)], None),
    ("founded", ["2020-02-29"], [("2020-02-29", 20), ("2020-03-01", 0)], None),
    ("0.1 + 0.2", [0.3], [(None, 20)], None),  # an exact input: 0.1 + 0.2 is 0.3
])
def test_values_bins_of_every_input_type(tmp_path, expr, values, given, points):
    """A values bin takes each value as YAML gives it, as the input's type holds it."""
    char_ = char("c", expr, [{"values": values, "points": 20}, {"else": True, "points": 0}])
    rs = graded(tmp_path, [char_])
    fact = expr.split()[0]
    for value, expected in given:
        assert scored(run(rs, {} if value is None else {fact: value}), "c")[1] == expected, \
            value


@pytest.mark.parametrize(("expr", "values", "message"), [
    ("operating.employees", [1, "> 5"],
     "'> 5' in the values of a number input: they are numbers (a range bin takes an "
     "interval)"),
    ("operating.employees", ["5"],
     "'5' in the values of a number input: they are numbers (write 5 without quotes)"),
    ("operating.employees", [1, "1, 2"], "'1, 2' in the values of a number input"),
    ("operating.employees", [True], "true in the values of a number input: they are numbers"),
    ("operating.employees", [10**31], "number too large"),
    ("industry.risk_class", ["low", 10], "10 in the values of a text input; quote it (\"10\") "
                                         "for the text"),
    ("industry.risk_class", [False], "false in the values of a text input"),
    ("flags.parent_guarantee", ["true"], "'true' in the values of a true/false input: they "
                                         "are true or false, without quotes"),
    ("founded", ["2026-02-30"], "'2026-02-30' is not a date (write it as 2026-01-31)"),
    ("founded", ["30.01.2026"], "'30.01.2026' is not a date"),
])
def test_a_value_the_input_can_never_be_is_refused_where_it_stands(tmp_path, expr, values,
                                                                   message):
    """Before, the values were written out as a cell and read back, so a text in a number
    bin was read as a cell ('> 5' a comparison, '1, 2' two numbers)."""
    bad = len(values) - 1
    text = (f"scorecard:\n  base_points: 0\n  reason_count: 1\n  characteristics:\n"
            f"    - id: c\n      input: {expr}\n      reason: C\n      bins:\n"
            f"        - points: 20\n          values:\n"
            + "".join(f"            - {json.dumps(v)}\n" for v in values)
            + "bands:\n" + "".join(f"  - {{grade: {b['grade']}, score: \"{b['score']}\"}}\n"
                                   for b in BANDS))
    with pytest.raises(ProblemsError) as caught:
        compile_ruleset(tmp_path, grading=text)
    [problem] = caught.value.problems
    assert message in problem.message
    assert (problem.location.line, problem.location.column) == (11 + bad, 15)


def test_missing_bin_wins_over_else_for_a_missing_value(tmp_path):
    risk = char("risk", "industry.risk_class", [
        {"else": True, "points": 2}, {"values": ["low"], "points": 20},
        {"missing": True, "points": 7}])
    rs = graded(tmp_path, [risk])
    assert scored(run(rs, {}), "risk") == ("missing", 7)
    assert scored(run(rs, {"industry.risk_class": "odd"}), "risk") == ("else", 2)
    assert scored(run(rs, {"industry.risk_class": "low"}), "risk") == ("low", 20)


@pytest.mark.parametrize("employees", [None, 500])
def test_no_bin_matching_gives_zero_points_and_no_bin(tmp_path, employees):
    size = char("size", "operating.employees", [
        {"range": "[0..10)", "points": 15}, {"range": "[10..100)", "points": 25}])
    decision = run(graded(tmp_path, [size], base_points=3), {"operating.employees": employees})
    assert scored(decision, "size") == (None, 0)
    assert decision.score == 3
    assert decision.band_grade == "C"
    assert decision.grading_reasons == ["SIZE"]


def test_characteristic_input_is_an_expression(tmp_path):
    ratio = char("equity_ratio", "financials.equity / financials.revenue", [
        {"missing": True, "points": 1}, {"range": "(..0.5)", "points": 5},
        {"range": "[0.5..)", "points": 20}])
    rs = graded(tmp_path, [ratio])
    decision = run(rs, {"financials.equity": 50, "financials.revenue": 100})
    assert scored(decision, "equity_ratio") == ("[0.5..)", 20)
    read = trace_entry(decision, "equity_ratio")["read"]
    assert {k: Decimal(str(v)) for k, v in read.items()} == {"financials.equity": 50,
                                                             "financials.revenue": 100}
    decision = run(rs, {"financials.equity": 50, "financials.revenue": 0})  # divide by 0
    assert scored(decision, "equity_ratio") == ("missing", 1)


# --- reason codes ---------------------------------------------------------------------------

def four_characteristics():
    """Four characteristics, each best at 20 points; employees picks what each loses."""
    def points_by_value(char_id, expr, reason, losses):
        return char(char_id, expr, [{"values": [value], "points": 20 - loss}
                                    for value, loss in losses] + [
                                        {"else": True, "points": 20}], reason=reason)
    return [
        points_by_value("c1", "operating.employees", "R1", [(1, 5), (2, 10)]),
        points_by_value("c2", "operating.employees", "R2", [(1, 10), (2, 10)]),
        points_by_value("c3", "operating.employees", "R3", [(1, 10), (2, 0)]),
        points_by_value("c4", "credit_history.overdue_count_12m", "R4", [(1, 20)]),
    ]


BANDS_80 = [{"grade": "A", "score": "[60..)"}, {"grade": "B", "score": "[40..60)"},
            {"grade": "C", "score": "(..40)"}]


@pytest.mark.parametrize(("employees", "overdue", "count", "expected"), [
    # losses c1 5, c2 10, c3 10: ties (c2, c3) in scorecard order, then c1
    (1, 0, 3, ["R2", "R3", "R1"]),
    (1, 0, 2, ["R2", "R3"]),
    (1, 0, 1, ["R2"]),
    (1, 0, 0, []),
    # losses c1 10, c2 10, c3 0: no reason for a characteristic that lost nothing
    (2, 0, 4, ["R1", "R2"]),
    # c4 lost most: it comes first although last in the scorecard
    (2, 1, 4, ["R4", "R1", "R2"]),
    (3, 0, 4, []),
])
def test_reason_codes_are_the_biggest_losses(tmp_path, employees, overdue, count, expected):
    rs = graded(tmp_path, four_characteristics(), BANDS_80, reason_count=count)
    decision = run(rs, {"operating.employees": employees,
                        "credit_history.overdue_count_12m": overdue})
    assert decision.grading_reasons == expected
    assert decision.to_dict()["grading"]["reasons"] == expected


def test_reason_codes_agree_with_sorting_every_loss(tmp_path):
    """Reasons are ranked when compiling (runtime.top_reasons): for every combination of
    bins they are what sorting (points lost, position, reason) at decision time gives,
    with a reason shared by two characteristics and bins of one characteristic giving
    different reasons for the same loss."""
    shared = char("c5", "operating.market_share", [
        {"range": "(..0.2)", "points": 10, "reason": "R1"},
        {"range": "[0.2..0.5)", "points": 10, "reason": "R5"},
        {"range": "[0.5..)", "points": 20}], reason="R1")
    characteristics = [*four_characteristics(), shared]
    best = {"c1": 20, "c2": 20, "c3": 20, "c4": 20, "c5": 20}
    reasons = {c["id"]: c["reason"] for c in characteristics}
    for count in (0, 2, 9):
        rs = graded(tmp_path / str(count), characteristics, BANDS_80, reason_count=count)
        for employees in (1, 2, 3):
            for overdue in (0, 1):
                for share in (0.1, 0.2, 0.5, None):
                    decision = run(rs, {"operating.employees": employees,
                                        "credit_history.overdue_count_12m": overdue,
                                        "operating.market_share": share})
                    lost = []
                    for position, c in enumerate(characteristics):
                        _, points = scored(decision, c["id"])
                        reason = reasons[c["id"]]
                        if c["id"] == "c5" and share is not None and 0.2 <= share < 0.5:
                            reason = "R5"
                        lost.append((points - best[c["id"]], position, reason))
                    expected: list[str] = []
                    for loss, _, reason in sorted(lost):
                        if loss >= 0 or len(expected) >= count:
                            break
                        if reason not in expected:
                            expected.append(reason)
                    assert decision.grading_reasons == expected, (employees, overdue, share)


def test_reason_code_of_the_bin_that_matched(tmp_path):
    decision = run(graded(tmp_path, [RISK]), {"industry.risk_class": "odd"})
    assert decision.grading_reasons == ["UNUSUAL_RISK_CLASS"]
    decision = run(graded(tmp_path / "b", [RISK]), {"industry.risk_class": "medium"})
    assert decision.grading_reasons == ["RISKY_INDUSTRY"]


# --- bands ----------------------------------------------------------------------------------

def exact_score():
    """A characteristic giving the number of employees as points, for 0..30."""
    return char("size", "operating.employees",
                [{"values": [n], "points": n} for n in range(31)])


@pytest.mark.parametrize(("employees", "grade"), [
    (0, "C"), (9, "C"), (10, "B"), (19, "B"), (20, "A"), (30, "A"),
])
def test_score_exactly_on_a_band_boundary(tmp_path, employees, grade):
    decision = run(graded(tmp_path, [exact_score()]), {"operating.employees": employees})
    assert decision.score == employees
    assert (decision.band_grade, decision.grade) == (grade, grade)


@pytest.mark.parametrize(("employees", "grade"), [(10, "C"), (11, "B"), (20, "B"), (21, "A")])
def test_band_boundary_closed_on_the_upper_side(tmp_path, employees, grade):
    bands = [{"grade": "A", "score": "(20..)"}, {"grade": "B", "score": "(10..20]"},
             {"grade": "C", "score": "(..10]"}]
    decision = run(graded(tmp_path, [exact_score()], bands), {"operating.employees": employees})
    assert decision.band_grade == grade


@pytest.mark.parametrize("bands", [
    [{"grade": "A", "score": "[20..30)"}, *BANDS[1:]],
    [*BANDS[:2], {"grade": "C", "score": "(0..10)"}],
], ids=["open_top", "open_bottom"])
def test_band_missing_the_extreme_score_by_an_open_edge_is_a_gap(tmp_path, bands):
    with pytest.raises(ProblemsError) as caught:
        graded(tmp_path, [exact_score()], bands)
    assert [p.message for p in caught.value.problems if "gap" in p.message]


def test_band_short_of_the_extreme_score_is_a_gap(tmp_path):
    bands = [{"grade": "A", "score": "[20..29]"}, *BANDS[1:]]
    with pytest.raises(ProblemsError) as caught:
        graded(tmp_path, [exact_score()], bands)
    assert [p.message for p in caught.value.problems] == [
        "gap: scores above [20..29] get no grade (the scorecard can give 30)"]


def test_base_points_count_toward_the_band(tmp_path):
    rs = graded(tmp_path, [exact_score()], base_points=-5)
    decision = run(rs, {"operating.employees": 25})
    assert decision.score == 20
    assert decision.band_grade == "A"


# --- bins and bands as scorecard tools export them ---------------------------------------

EXPORTED = char("size", "operating.employees", [
    {"range": "[-inf,8)", "points": 0}, {"range": "[8,44)", "points": 10},
    {"range": "[44,inf)", "points": 20}])


@pytest.mark.parametrize(("employees", "points"), [(7, 0), (8, 10), (43, 10), (44, 20)])
def test_bins_with_infinite_ends_split_on_their_edges(tmp_path, employees, points):
    bands = [{"grade": "A", "score": "[20..inf)"}, {"grade": "B", "score": "[10,20)"},
             {"grade": "C", "score": "[-inf..10)"}]
    decision = run(graded(tmp_path, [EXPORTED], bands), {"operating.employees": employees})
    assert decision.score == points
    assert decision.band_grade == {0: "C", 10: "B", 20: "A"}[points]


def test_overlapping_bins_with_infinite_ends_are_found(tmp_path):
    size = char("size", "operating.employees", [
        {"range": "[-inf,8]", "points": 0}, {"range": "[8,inf)", "points": 10}])
    with pytest.raises(ProblemsError) as caught:
        graded(tmp_path, [size])
    assert [p.message for p in caught.value.problems] == [
        "range [8,inf) overlaps bin [-inf,8]"]


def test_a_number_too_large_in_a_range_is_a_located_error(tmp_path):
    size = char("size", "operating.employees", [
        {"range": "[-1e999..8)", "points": 0}, {"range": "[8..)", "points": 10}])
    with pytest.raises(ProblemsError) as caught:
        graded(tmp_path, [size])
    problem, = caught.value.problems
    where = problem.location
    assert (where.file.endswith("grading.yaml"), problem.message) == (True, "number too large")
    line = (tmp_path / "grading.yaml").read_text().splitlines()[where.line - 1]
    assert line[where.column - 1:].startswith("-1e999..8)")


# --- exact points ---------------------------------------------------------------------------

FRACTION_BANDS = [{"grade": "A", "score": "[0.8..)"}, {"grade": "B", "score": "[0.3..0.8)"},
                  {"grade": "C", "score": "(..0.3)"}]
FRACTIONS = char("size", "operating.employees", [
    {"range": "(..10)", "points": 0.7}, {"range": "[10..)", "points": 0.2}])


@pytest.mark.parametrize(("employees", "score", "grade"), [
    (5, "0.8", "A"),   # 0.1 + 0.7 is 0.7999999999999999 as floats: it fell to B
    (50, "0.3", "B"),  # 0.1 + 0.2 is 0.30000000000000004 as floats
    (None, "0.1", "C"),
])
def test_fractional_points_add_up_exactly_on_a_band_edge(tmp_path, employees, score, grade):
    rs = graded(tmp_path, [FRACTIONS], FRACTION_BANDS, base_points=0.1)
    decision = run(rs, {"operating.employees": employees})
    assert (decision.score, decision.band_grade) == (Decimal(score), grade)
    data = decision.to_dict()
    assert data["grading"]["score"] == float(score)  # a JSON number, written as decided
    assert f'"score":{score}}}' in canonical_json(data)  # the last key of grading


@pytest.mark.parametrize(("employees", "score", "grade"), [
    (5, "-0.5", "C"), (15, "1.0", "B"), (25, "1.25", "A"), (None, "0.25", "C")])
def test_band_ends_with_more_decimals_than_the_points(tmp_path, employees, score, grade):
    size = char("size", "operating.employees", [
        {"range": "(..10)", "points": -0.75}, {"range": "[10..20)", "points": 0.75},
        {"range": "[20..)", "points": 1}])
    bands = [{"grade": "A", "score": "[1.125..)"}, {"grade": "B", "score": "[0.875..1.125)"},
             {"grade": "C", "score": "(..0.875)"}]
    decision = run(graded(tmp_path, [size], bands, base_points=0.25),
                   {"operating.employees": employees})
    assert (decision.score, decision.band_grade) == (Decimal(score), grade)


def test_fractional_points_are_written_as_the_numbers_in_the_ruleset(tmp_path):
    decision = run(graded(tmp_path, [FRACTIONS], FRACTION_BANDS, base_points=0.1),
                   {"operating.employees": 50})
    assert trace_entry(decision, "size")["result"] == {"bin": "[10..)", "points": 0.2}
    assert '"points":0.2}' in canonical_json(decision.to_dict())


def test_whole_points_keep_a_whole_score(tmp_path):
    decision = run(graded(tmp_path, [exact_score()]), {"operating.employees": 25})
    assert type(decision.score) is int
    halves = char("size", "operating.employees", [{"range": "[0..)", "points": 0.5}])
    decision = run(graded(tmp_path, [halves], base_points=0.5), {"operating.employees": 3})
    assert decision.score == 1  # 1.0, written as floats wrote it
    assert '"score":1.0}' in canonical_json(decision.to_dict())


def test_points_lost_are_compared_exactly_for_reason_codes(tmp_path):
    # Both lose 0.3 (0.4 - 0.1 is 0.30000000000000004 as floats): a tie, so the first in
    # the scorecard gives the reason.
    first = char("first", "operating.employees", [
        {"range": "(..10)", "points": 0}, {"range": "[10..)", "points": 0.3}])
    second = char("second", "operating.market_share", [
        {"range": "(..0.5)", "points": 0.1}, {"range": "[0.5..)", "points": 0.4}])
    bands = [{"grade": "A", "score": "[0.6..)"}, {"grade": "B", "score": "[0.2..0.6)"},
             {"grade": "C", "score": "(..0.2)"}]
    rs = graded(tmp_path, [first, second], bands, reason_count=1)
    decision = run(rs, {"operating.employees": 5, "operating.market_share": 0.1})
    assert decision.grading_reasons == ["FIRST"]


def test_a_policy_cell_on_the_score_compares_it_exactly(tmp_path):
    rules = [{"id": "P_HIGH", "when": {"score": ">= 0.8"}, "then": {"credit_limit": 5000}},
             {"id": "P_LOW", "when": {"score": "< 0.8"}, "then": {"credit_limit": 100}}]
    rs = compile_ruleset(tmp_path, grading=grading_spec([FRACTIONS], FRACTION_BANDS,
                                                        base_points=0.1),
                         policy=policy_table(rules, inputs=["score"]))
    assert run(rs, {"operating.employees": 5}).credit_limit == Decimal("5000.00")
    assert run(rs, {"operating.employees": 50}).credit_limit == Decimal("100.00")


# --- floors and caps ------------------------------------------------------------------------

ADJUSTMENTS = [  # the cap comes first in the file; floors are applied first all the same
    {"id": "CAP_ARREARS", "when": "credit_history.max_days_overdue_12m > 90", "at_most": "C",
     "reason": "ARREARS"},
    {"id": "CAP_YOUNG", "when": "operating.employees < 5", "at_most": "B",
     "reason": "VERY_SMALL"},
    {"id": "FLOOR_GUARANTEE", "when": "flags.parent_guarantee", "at_least": "B",
     "reason": "GUARANTEED"},
]


def adjusted(tmp_path, employees, **facts):
    rs = graded(tmp_path, [exact_score()], adjustments=ADJUSTMENTS)
    return run(rs, {"operating.employees": employees, **facts})


def applied(decision):
    return [(a["id"], a["kind"], a["grade"], a["applied"]) for a in decision.adjustments]


def test_no_adjustment_triggered(tmp_path):
    decision = adjusted(tmp_path, 25)
    assert (decision.band_grade, decision.grade) == ("A", "A")
    assert decision.adjustments == []


def test_floor_lifts_a_worse_grade(tmp_path):
    decision = adjusted(tmp_path, 5, **{"flags.parent_guarantee": True})
    assert (decision.band_grade, decision.grade) == ("C", "B")
    assert applied(decision) == [("FLOOR_GUARANTEE", "floor", "B", True)]
    assert decision.adjustments[0]["reason"] == "GUARANTEED"
    assert trace_entry(decision, "FLOOR_GUARANTEE")["result"] == {"floor": "B", "applied": True}


def test_floor_on_a_better_grade_is_reported_not_applied(tmp_path):
    decision = adjusted(tmp_path, 25, **{"flags.parent_guarantee": True})
    assert decision.grade == "A"
    assert applied(decision) == [("FLOOR_GUARANTEE", "floor", "B", False)]


def test_cap_lowers_a_better_grade(tmp_path):
    decision = adjusted(tmp_path, 25, **{"credit_history.max_days_overdue_12m": 120})
    assert (decision.band_grade, decision.grade) == ("A", "C")
    assert applied(decision) == [("CAP_ARREARS", "cap", "C", True)]
    assert trace_entry(decision, "CAP_ARREARS")["read"] == {
        "credit_history.max_days_overdue_12m": 120}


def test_cap_on_a_worse_grade_is_reported_not_applied(tmp_path):
    decision = adjusted(tmp_path, 3)  # score 3: C; CAP_YOUNG at most B changes nothing
    assert decision.grade == "C"
    assert applied(decision) == [("CAP_YOUNG", "cap", "B", False)]


@pytest.mark.parametrize("employees", [3, 15, 25])
def test_cap_wins_over_floor(tmp_path, employees):
    decision = adjusted(tmp_path, employees, **{"flags.parent_guarantee": True,
                                                "credit_history.max_days_overdue_12m": 200})
    assert decision.grade == "C"
    kinds = [a["kind"] for a in decision.adjustments]
    assert kinds[0] == "floor" and set(kinds[1:]) == {"cap"}  # floors first, then caps
    caps = {a["id"]: a["applied"] for a in decision.adjustments if a["kind"] == "cap"}
    assert caps["CAP_ARREARS"] is True


def test_floor_then_cap_both_applied(tmp_path):
    # band C; the floor lifts it to B, then the young-business cap (at most B) leaves it
    decision = adjusted(tmp_path, 3, **{"flags.parent_guarantee": True})
    assert decision.grade == "B"
    assert applied(decision) == [("FLOOR_GUARANTEE", "floor", "B", True),
                                 ("CAP_YOUNG", "cap", "B", False)]
    caps = decision.to_dict()["grading"]["caps"]
    assert [c["id"] for c in caps] == ["FLOOR_GUARANTEE", "CAP_YOUNG"]


def test_adjustment_with_a_missing_fact_does_not_trigger(tmp_path):
    decision = adjusted(tmp_path, 25, **{"credit_history.max_days_overdue_12m": None})
    assert decision.grade == "A"
    assert decision.adjustments == []


def test_final_grade_drives_the_policy(tmp_path):
    grading = grading_spec([exact_score()], BANDS, adjustments=ADJUSTMENTS)
    rules = [{"id": f"P_{g}", "when": {"grade": g}, "then": {"credit_limit": limit}}
             for g, limit in (("A", 300), ("B", 200), ("C", 100))]
    rs = compile_ruleset(tmp_path, grading=grading,
                         policy=policy_table(rules, inputs=["grade"]))
    decision = run(rs, {"operating.employees": 25,
                        "credit_history.max_days_overdue_12m": 100})
    assert (decision.band_grade, decision.grade) == ("A", "C")
    assert str(decision.credit_limit) == "100.00"


def test_whole_points_written_with_an_exponent_are_whole(tmp_path):
    """1e16 points (a YAML float past a float's exact digits) are the whole number
    10**16, not a Decimal the generated code cannot name."""
    rs = graded(tmp_path, [char("size", "operating.employees", [
        {"range": "(..10)", "points": 1e16}, {"range": "[10..)", "points": 1}])],
        [{"grade": "A", "score": "[2..)"}, {"grade": "B", "score": "[1..2)"},
         {"grade": "C", "score": "(..1)"}])
    assert "Decimal(" not in rs.python_source
    decision = run(rs, {"operating.employees": 5})
    assert (decision.score, decision.grade) == (10 ** 16, "A")
