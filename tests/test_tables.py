"""Decision tables through real compiled rulesets: every hit policy, cells on edges and
missing inputs, and what the trace says about each table."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from engine.errors import DecisionError, ProblemsError
from tests.ruleset_factory import (
    EMPLOYEES,
    FACTS,
    compile_ruleset,
    policy_table,
    run,
    table,
    trace_entries,
    trace_entry,
)


def amounts(read: dict) -> dict:
    """Trace values with amounts (written as decimal text) read back as numbers."""
    return {k: Decimal(v) if isinstance(v, str) and v[:1].isdigit() else v
            for k, v in read.items()}


def derived_table(tmp_path, spec: dict):
    """A ruleset whose derived fact ``t`` is the table ``spec``, echoed by the derived
    expression ``probe`` so that the table's final value shows in the trace."""
    return compile_ruleset(tmp_path, derived={"derived": {"t": {"table": spec}, "probe": "t"}})


def probe(decision):
    return trace_entry(decision, "probe")["result"]


def fired(decision, stage: str = "derived") -> list[str]:
    return [e["id"] for e in trace_entries(decision, stage) if e["id"] != "probe"]


def employees_table(rules, **kwargs):
    return table(rules, inputs=[EMPLOYEES], **kwargs)


def rule(rule_id, cell, out, column="n"):
    when = {} if cell is None else {column: cell}
    return {"id": rule_id, "when": when, "then": {"out": out}}


# --- unique ---------------------------------------------------------------------------------

def grade_policy(tmp_path, **kwargs):
    rules = [{"id": f"P_{g}", "when": {"grade": g}, "then": {"credit_limit": limit}}
             for g, limit in (("A", 5000), ("B", 2000), ("C", 0))]
    return compile_ruleset(tmp_path, policy=policy_table(
        rules, inputs=["grade"], hit_policy="unique", **kwargs))


def test_unique_one_match_gives_its_outputs(tmp_path):
    rs = grade_policy(tmp_path)
    decision = run(rs, {"operating.market_share": 0.2})  # 10 points: grade B
    assert decision.grade == "B"
    assert decision.credit_limit == Decimal("2000.00")
    entry = trace_entry(decision, "policy_table/P_B")
    assert entry["read"] == {"grade": "B"}
    assert amounts(entry["result"])["credit_limit"] == 2000
    assert fired(decision, "policy") == ["policy_table/P_B"]


def test_unique_two_matches_is_a_decision_error_naming_both(tmp_path):
    rs = derived_table(tmp_path, employees_table(
        [rule("SMALL", "< 10", 1), rule("MIDDLE", "[5..50)", 2), rule("BIG", ">= 50", 3)]))
    assert probe(run(rs, {"operating.employees": 3})) == 1
    assert probe(run(rs, {"operating.employees": 20})) == 2
    with pytest.raises(DecisionError) as caught:
        run(rs, {"operating.employees": 7})
    message = str(caught.value)
    assert "SMALL" in message and "MIDDLE" in message and "BIG" not in message
    assert message == "table t: rules SMALL and MIDDLE both match under hit policy unique"


def test_unique_no_match_gives_the_default(tmp_path):
    rs = derived_table(tmp_path, employees_table(
        [rule("SMALL", "< 10", 1), rule("BIG", ">= 50", 3)], default={"out": 99}))
    decision = run(rs, {"operating.employees": 20})
    assert probe(decision) == 99
    assert fired(decision) == ["t/default"]


def test_unique_no_match_without_default_gives_null(tmp_path):
    rs = derived_table(tmp_path, employees_table(
        [rule("SMALL", "< 10", 1), rule("BIG", ">= 50", 3)]))
    decision = run(rs, {"operating.employees": 20})
    assert probe(decision) is None
    assert fired(decision) == ["t/no_match"]


def test_unique_policy_without_match_leaves_the_limit_undetermined(tmp_path):
    rules = [{"id": "P_A", "when": {"grade": "A"}, "then": {"credit_limit": 5000}}]
    rs = compile_ruleset(tmp_path, policy=policy_table(rules, inputs=["grade"]))
    decision = run(rs, {"operating.market_share": 0.1})  # grade B: no rule
    assert decision.credit_limit is None
    assert decision.outcome == "refer"
    assert [r[0] for r in decision.admission_reasons] == ["LIMIT_UNDETERMINED"]


# --- first ----------------------------------------------------------------------------------

def test_first_takes_the_first_match_in_rule_order(tmp_path):
    rules = [rule("ANY_SIZE", ">= 0", 1), rule("BIG", ">= 50", 2)]
    rs = derived_table(tmp_path / "a", employees_table(rules, hit_policy="first"))
    assert probe(run(rs, {"operating.employees": 80})) == 1
    rs = derived_table(tmp_path / "b", employees_table(rules[::-1], hit_policy="first"))
    decision = run(rs, {"operating.employees": 80})
    assert probe(decision) == 2
    assert fired(decision) == ["t/BIG"]
    assert probe(run(rs, {"operating.employees": 3})) == 1


def test_first_without_match_gives_default(tmp_path):
    rs = derived_table(tmp_path, employees_table([rule("BIG", ">= 50", 2)],
                                                 hit_policy="first", default={"out": 0}))
    decision = run(rs, {"operating.employees": 3})
    assert probe(decision) == 0
    assert fired(decision) == ["t/default"]


# --- priority -------------------------------------------------------------------------------

LEVEL = {"name": "out", "type": "string", "priority": ["high", "medium", "low"]}


def test_priority_highest_output_wins_even_if_listed_later(tmp_path):
    rules = [rule("LOW", ">= 0", "low"), rule("MEDIUM", ">= 10", "medium"),
             rule("HIGH", ">= 100", "high")]
    rs = derived_table(tmp_path, employees_table(rules, hit_policy="priority",
                                                 outputs=[LEVEL]))
    assert probe(run(rs, {"operating.employees": 5})) == "low"
    decision = run(rs, {"operating.employees": 50})
    assert probe(decision) == "medium"
    assert fired(decision) == ["t/MEDIUM"]
    assert probe(run(rs, {"operating.employees": 500})) == "high"


def test_priority_in_the_approval_table(tmp_path):
    approval = {
        "levels": ["automatic", "analyst", "committee"],
        "table": table(
            [{"id": "A_AUTO", "when": {"admission_outcome": "accept"},
              "then": {"required_level": "automatic"}},
             {"id": "A_ANALYST", "when": {"grade": "B, C"},
              "then": {"required_level": "analyst"}},
             {"id": "A_COMMITTEE", "when": {"credit_limit": "> 500"},
              "then": {"required_level": "committee"}}],
            inputs=["admission_outcome", "grade", "credit_limit"],
            outputs=[{"name": "required_level", "type": "string",
                      "priority": ["committee", "analyst", "automatic"]}],
            hit_policy="priority", table_id="routing"),
    }
    rs = compile_ruleset(tmp_path, approval=approval)  # the policy gives a limit of 1000
    decision = run(rs, {"operating.market_share": 0.2})
    assert decision.required_level == "committee"
    entry = trace_entry(decision, "routing/A_COMMITTEE")
    assert amounts(entry["read"]) == {"admission_outcome": "accept", "grade": "B",
                                      "credit_limit": Decimal("1000.00")}


# --- any ------------------------------------------------------------------------------------

def test_any_agreeing_matches_are_fine(tmp_path):
    rules = [rule("R1", ">= 10", 5), rule("R2", "<= 20", 5), rule("R3", "> 100", 7)]
    rs = derived_table(tmp_path, employees_table(rules, hit_policy="any"))
    assert probe(run(rs, {"operating.employees": 15})) == 5
    assert probe(run(rs, {"operating.employees": 5})) == 5


def test_any_disagreeing_matches_are_a_decision_error(tmp_path):
    rules = [rule("R1", ">= 10", 5), rule("R2", "<= 20", 5), rule("R3", "> 12", 7)]
    rs = derived_table(tmp_path, employees_table(rules, hit_policy="any"))
    with pytest.raises(DecisionError) as caught:
        run(rs, {"operating.employees": 15})
    assert str(caught.value) == ("table t: rules R1 and R3 match with different outputs "
                                 "under hit policy any")


def test_any_equal_values_written_differently_agree(tmp_path):
    rules = [rule("R1", ">= 10", 5), rule("R2", "<= 20", 5.0)]
    rs = derived_table(tmp_path, employees_table(rules, hit_policy="any"))
    assert probe(run(rs, {"operating.employees": 15})) == 5


# --- a table that is a derived fact -------------------------------------------------------

def test_a_table_output_named_after_its_derived_fact_is_not_a_read(tmp_path):
    spec = employees_table([rule("FEW", "< 10", 1, column="n"), rule("MANY", ">= 10", 2)],
                           outputs=[{"name": "size_class", "type": "number"}])
    for row in spec["rules"]:
        row["then"] = {"size_class": row["then"]["out"]}
    rs = compile_ruleset(tmp_path, derived={"derived": {"size_class": {"table": spec},
                                                        "probe": "size_class"}})
    assert probe(run(rs, {"operating.employees": 3})) == 1
    assert probe(run(rs, {"operating.employees": 30})) == 2


def test_text_outputs_and_column_names_are_not_reads(tmp_path):
    # 'label' gives the text "share" and has a column named "share": neither reads the
    # derived fact share, which reads label (no cycle).
    spec = table([{"id": "ALL", "when": {"share": ">= 0"}, "then": {"label": "share"}}],
                 inputs=[{"name": "share", "expr": "operating.market_share"}],
                 outputs=[{"name": "label", "type": "string", "priority": ["share"]}],
                 hit_policy="priority")
    rs = compile_ruleset(tmp_path, derived={"derived": {
        "label": {"table": spec}, "share": "1 if label == 'share' else 0", "probe": "share"}})
    assert probe(run(rs, {"operating.market_share": 0.5})) == 1


@pytest.mark.parametrize(("inputs", "then"), [
    ([{"name": "n", "expr": "operating.employees"}], {"size_class": "size_class + 1"}),
    ([{"name": "size_class"}], {"size_class": 1}),  # an input without expr reads its name
])
def test_a_table_that_really_reads_its_own_fact_is_refused(tmp_path, inputs, then):
    spec = table([{"id": "ALL", "then": then}], inputs=inputs,
                 outputs=[{"name": "size_class", "type": "number"}])
    with pytest.raises(ProblemsError) as caught:
        compile_ruleset(tmp_path, derived={"derived": {"size_class": {"table": spec}}})
    assert [p.message for p in caught.value.problems] == [
        "derived fact 'size_class' reads itself"]


# --- collect and rule_order -----------------------------------------------------------------

COLLECT_RULES = [rule("R_SMALL", "< 10", 3), rule("R_SOME", ">= 5", 10),
                 rule("R_MANY", ">= 20", 4)]


@pytest.mark.parametrize(("aggregation", "employees", "expected"), [
    ("sum", 7, 13), ("sum", 25, 14), ("sum", None, None),
    ("min", 7, 3), ("min", 25, 4), ("min", None, None),
    ("max", 7, 10), ("max", 25, 10), ("max", None, None),
    ("count", 7, 2), ("count", 25, 2), ("count", 2, 1), ("count", None, 0),
])
def test_collect_with_aggregation(tmp_path, aggregation, employees, expected):
    rs = derived_table(tmp_path, employees_table(COLLECT_RULES, hit_policy="collect",
                                                 aggregation=aggregation))
    decision = run(rs, {"operating.employees": employees})
    assert probe(decision) == expected
    matched = {7: ["t/R_SMALL", "t/R_SOME"], 25: ["t/R_SOME", "t/R_MANY"], 2: ["t/R_SMALL"],
               None: []}[employees]
    assert fired(decision) == matched


def test_every_aggregate_but_count_of_no_match_is_null_downstream(tmp_path):
    def collect(aggregation):
        return copy.deepcopy(employees_table([rule("BIG", ">= 50", 5)], hit_policy="collect",
                                             aggregation=aggregation, table_id=aggregation))

    rs = compile_ruleset(tmp_path, derived={"derived": {
        "t": {"table": collect("sum")}, "n": {"table": collect("count")},
        "probe": "coalesce(t, -1) * 10 + n"}})
    decision = run(rs, {"operating.employees": 3})
    assert probe(decision) == -10
    entry = trace_entry(decision, "probe")
    assert entry["read"] == {"t": None, "n": 0} and entry["missing"] == ["t"]
    assert probe(run(rs, {"operating.employees": 60})) == 51


def test_a_policy_limit_summed_over_no_rule_is_undetermined(tmp_path):
    rules = [{"id": "BASE", "when": {"n": ">= 10"}, "then": {"credit_limit": 1000}},
             {"id": "BONUS", "when": {"n": ">= 100"}, "then": {"credit_limit": 500}}]
    spec = table(rules, inputs=[EMPLOYEES], hit_policy="collect", aggregation="sum",
                 outputs=[{"name": "credit_limit", "type": "money"}])
    rs = compile_ruleset(tmp_path, derived={"derived": {"summed_limit": {"table": spec}}},
                         policy=policy_table([{"id": "P", "then": {
                             "credit_limit": "summed_limit"}}]))
    assert run(rs, {"operating.employees": 150}).credit_limit == Decimal("1500.00")
    decision = run(rs, {"operating.employees": 5})
    assert decision.credit_limit is None
    assert [r[0] for r in decision.admission_reasons] == ["LIMIT_UNDETERMINED"]


def test_collect_sum_of_money_stays_exact(tmp_path):
    rules = [{"id": "R1", "then": {"out": 0.1}}, {"id": "R2", "then": {"out": 0.2}}]
    spec = table(rules, hit_policy="collect", aggregation="sum",
                 outputs=[{"name": "out", "type": "money"}])
    rs = compile_ruleset(tmp_path, derived={"derived": {"t": {"table": spec}}},
                         policy=policy_table([{"id": "P", "then": {"credit_limit": "t"}}]))
    assert run(rs).credit_limit == Decimal("0.30")


def test_numbers_a_table_writes_are_exact(tmp_path):
    rules = [{"id": "R1", "then": {"out": 0.1}}, {"id": "R2", "then": {"out": 0.2}}]
    spec = table(rules, hit_policy="collect", aggregation="sum")
    rs = compile_ruleset(tmp_path, derived={"derived": {
        "t": {"table": spec}, "probe": "t == 0.3", "third": "t / 3"}})
    decision = run(rs)
    assert probe(decision) is True  # 0.1 + 0.2 as floats is 0.30000000000000004
    assert [e["result"] for e in trace_entries(decision, "derived")
            if e["id"].startswith("t/")] == [{"out": 0.1}, {"out": 0.2}]
    values = {e["id"]: e["result"] for e in trace_entries(decision, "derived")}
    assert values["third"] == 0.09999999999999999  # a ratio is computed as a float
    assert trace_entry(decision, "probe")["read"] == {"t": 0.3}


def test_a_number_output_with_a_float_cell_is_a_float(tmp_path):
    rules = [{"id": "R1", "when": {"n": "< 10"}, "then": {"out": 0.5}},
             {"id": "R2", "then": {"out": "operating.market_share * 100"}}]
    rs = derived_table(tmp_path, employees_table(rules, hit_policy="first"))
    for employees, expected in ((3, 0.5), (30, 25.0)):
        decision = run(rs, {"operating.employees": employees, "operating.market_share": 0.25})
        value = next(result["out"] for (_, _, rule, _), _, result in decision.trace
                     if rule.startswith("t/"))
        assert (value, type(value)) == (expected, float)


def test_an_exact_output_read_beside_a_document_number(tmp_path):
    # 0.1 + 0.6 is exact 0.7; a market share of 0.7 in the document is that number.
    rules = [{"id": "SAME", "when": {"share": "= t"}, "then": {"out": "same"}},
             {"id": "OTHER", "then": {"out": "other"}}]
    spec = table(rules, inputs=[{"name": "share", "expr": "operating.market_share"}],
                 hit_policy="first", outputs=[{"name": "out", "type": "string"}],
                 table_id="u")
    rs = compile_ruleset(tmp_path, derived={"derived": {
        "t": "0.1 + 0.6", "u": {"table": spec}, "probe": "u"}})
    assert probe(run(rs, {"operating.market_share": 0.7})) == "same"
    assert probe(run(rs, {"operating.market_share": 0.70001})) == "other"


def test_collect_without_aggregation_gives_the_list(tmp_path):
    rs = derived_table(tmp_path, employees_table(COLLECT_RULES, hit_policy="collect"))
    assert sorted(probe(run(rs, {"operating.employees": 7}))) == [3, 10]
    assert probe(run(rs, {"operating.employees": 50})) in ([10, 4], [4, 10])
    assert probe(run(rs, {})) == []


def test_rule_order_lists_every_match_in_rule_order(tmp_path):
    rules = [rule("R_MANY", ">= 20", "many"), rule("R_SMALL", "< 10", "small"),
             rule("R_SOME", ">= 5", "some"), rule("R_ALL", "-", "all")]
    rs = derived_table(tmp_path, employees_table(
        rules, hit_policy="rule_order", outputs=[{"name": "out", "type": "string"}]))
    decision = run(rs, {"operating.employees": 25})
    assert probe(decision) == ["many", "some", "all"]
    assert fired(decision) == ["t/R_MANY", "t/R_SOME", "t/R_ALL"]
    assert probe(run(rs, {"operating.employees": 7})) == ["small", "some", "all"]
    assert probe(run(rs, {})) == ["all"]


# --- cells ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("employees", "expected"), [
    (59, "below"), (60, "closed_low"), (79, "closed_low"), (80, "open_high"),
    (100, "open_high"), (101, "above"),
])
def test_value_exactly_on_an_interval_edge(tmp_path, employees, expected):
    rules = [rule("R1", "(..60)", "below"), rule("R2", "[60..80)", "closed_low"),
             rule("R3", "[80..100]", "open_high"), rule("R4", "(100..)", "above")]
    rs = derived_table(tmp_path, employees_table(
        rules, outputs=[{"name": "out", "type": "string"}]))
    assert probe(run(rs, {"operating.employees": employees})) == expected


@pytest.mark.parametrize(("cell", "value", "matches"), [
    (">= 10", 10, True), ("> 10", 10, False), ("<= 10", 10, True), ("< 10", 10, False),
    ("]10..20[", 10, False), ("]10..20[", 20, False), ("]10..20[", 15, True),
    ("(10..20]", 20, True),
])
def test_comparison_cells_on_their_edge(tmp_path, cell, value, matches):
    rs = derived_table(tmp_path, employees_table([rule("R", cell, 1)], hit_policy="first",
                                                 default={"out": 0}))
    assert probe(run(rs, {"operating.employees": value})) == (1 if matches else 0)


@pytest.mark.parametrize(("fact", "cell", "value", "matches"), [
    ("industry.sector", "retail", "retail", True),
    ("industry.sector", "retail, wholesale", "wholesale", True),
    ("industry.sector", "retail, wholesale", "services", False),
    ("industry.sector", "not(retail, wholesale)", "services", True),
    ("industry.sector", "not(retail, wholesale)", "retail", False),
    ("industry.sector", "!= retail", "services", True),
    ("industry.sector", '"retail"', "retail", True),
    ("operating.employees", "not(1, 2)", 3, True),
    ("operating.employees", "not(1, 2)", 2, False),
    ("operating.employees", "1, [5..10]", 5, True),
    ("operating.employees", "1, [5..10]", 3, False),
    ("operating.employees", "? > 0.5 * financials.equity", 6, True),
    ("operating.employees", "? > 0.5 * financials.equity", 5, False),
    ("operating.employees", "> 0.5 * financials.equity", 6, True),
    ("flags.parent_guarantee", False, False, True),
    ("flags.parent_guarantee", True, False, False),
    ("founded", "[2020-01-01..)", "2020-01-01", True),
    ("founded", "[2020-01-01..)", "2019-12-31", False),
])
def test_cells_match(tmp_path, fact, cell, value, matches):
    rules = [rule("TESTED", cell, "tested", column="x"), rule("ANY", "-", "any", column="x")]
    rs = derived_table(tmp_path, table(
        rules, inputs=[{"name": "x", "expr": fact}], hit_policy="first",
        outputs=[{"name": "out", "type": "string"}]))
    decision = run(rs, {fact: value, "financials.equity": 10})
    assert probe(decision) == ("tested" if matches else "any")


def test_dash_matches_a_missing_input(tmp_path):
    rules = [rule("SMALL", "< 10", "small"), rule("ANY", "-", "any")]
    rs = derived_table(tmp_path, employees_table(
        rules, hit_policy="first", outputs=[{"name": "out", "type": "string"}]))
    decision = run(rs, {})
    assert probe(decision) == "any"
    entry = trace_entry(decision, "t/ANY")
    assert entry["read"] == {"operating.employees": None}
    assert entry["missing"] == ["operating.employees"]


def test_an_omitted_input_is_a_dash(tmp_path):
    rs = derived_table(tmp_path, employees_table([{"id": "ALL", "then": {"out": 1}}]))
    assert probe(run(rs, {})) == 1


MISSING_CASES = [
    ("operating.employees", "integer", cell) for cell in
    ["< 5", ">= 0", "[0..10]", "(..10)", "[0..)", "= 3", "3", "1, 2, 3", "!= 3",
     "not(1, 2)", "not([0..10])", "? > 0", "? >= 0 or ? < 0", "> 0.5 * financials.equity"]
] + [
    ("industry.sector", "string", cell) for cell in
    ["retail", "retail, wholesale", "not(retail)", "!= retail", "= retail", '"retail"',
     "? in ['retail']", "? not in ['retail']"]
] + [
    ("flags.parent_guarantee", "boolean", cell) for cell in [True, False, "? == false", "? != true"]
] + [
    ("founded", "date", cell) for cell in ["[2000-01-01..)", "< 2030-01-01", "? < as_of"]
]


@pytest.mark.parametrize(("fact", "typ", "cell"), MISSING_CASES,
                         ids=[f"{f}:{c}" for f, _, c in MISSING_CASES])
def test_a_missing_input_fails_every_test_but_dash(tmp_path, fact, typ, cell):
    rules = [rule("TESTED", cell, "tested", column="x"), rule("ANY", "-", "any", column="x")]
    rs = derived_table(tmp_path, table(
        rules, inputs=[{"name": "x", "expr": fact}], hit_policy="first",
        outputs=[{"name": "out", "type": "string"}]))
    decision = run(rs, {"financials.equity": 10})
    assert probe(decision) == "any"
    assert fired(decision) == ["t/ANY"]


def test_not_true_in_a_boolean_column(tmp_path):
    rules = [rule("NOT_GUARANTEED", "not(true)", "no", column="x"),
             rule("ANY", "-", "other", column="x")]
    rs = derived_table(tmp_path, table(
        rules, inputs=[{"name": "x", "expr": "flags.parent_guarantee"}], hit_policy="first",
        outputs=[{"name": "out", "type": "string"}]))
    assert probe(run(rs, {"flags.parent_guarantee": False})) == "no"
    assert probe(run(rs, {"flags.parent_guarantee": True})) == "other"


ATTRIBUTE_FACTS = {"facts": {**FACTS["facts"], "attributes.region": {"type": "string"},
                             "attributes.home_region": {"type": "string"},
                             "attributes.insured": {"type": "boolean"},
                             "attributes.needs_insurance": {"type": "boolean"}}}


@pytest.mark.parametrize(("column", "cell", "values", "expected"), [
    ("attributes.region", "= attributes.home_region",
     {"attributes.region": "north", "attributes.home_region": "north"}, "tested"),
    ("attributes.region", "= attributes.home_region",
     {"attributes.region": "attributes.home_region", "attributes.home_region": "north"},
     "any"),
    ("attributes.region", "!= attributes.home_region",
     {"attributes.region": "south", "attributes.home_region": "north"}, "tested"),
    ("attributes.region", "= attributes.home_region", {"attributes.region": "north"}, "any"),
    ("attributes.insured", "= attributes.needs_insurance",
     {"attributes.insured": True, "attributes.needs_insurance": True}, "tested"),
    ("attributes.insured", "= attributes.needs_insurance",
     {"attributes.insured": False, "attributes.needs_insurance": True}, "any"),
    ("attributes.insured", "!= attributes.needs_insurance",
     {"attributes.insured": False, "attributes.needs_insurance": True}, "tested"),
])
def test_a_cell_comparing_with_another_fact_reads_its_value(tmp_path, column, cell, values,
                                                            expected):
    rules = [rule("TESTED", cell, "tested", column="x"), rule("ANY", "-", "any", column="x")]
    rs = compile_ruleset(tmp_path, facts=ATTRIBUTE_FACTS, derived={"derived": {
        "t": {"table": table(rules, inputs=[{"name": "x", "expr": column}], hit_policy="first",
                             outputs=[{"name": "out", "type": "string"}])},
        "probe": "t"}})
    decision = run(rs, values)
    assert probe(decision) == expected
    other = cell.split()[-1]
    assert other in trace_entries(decision, "derived")[0]["read"]


def test_ordering_true_and_false_is_refused_at_the_operator(tmp_path):
    """'= attributes.needs_insurance' is equality and compiles; '< ...' cannot order
    true/false and is reported at its file, line and column."""
    rules = [rule("EQUAL", "true, = attributes.needs_insurance", "equal", column="x"),
             rule("LESS", "false,  < attributes.needs_insurance", "less", column="x")]
    with pytest.raises(ProblemsError) as caught:
        compile_ruleset(tmp_path, facts=ATTRIBUTE_FACTS, derived={"derived": {
            "t": {"table": table(rules, inputs=[{"name": "x", "expr": "attributes.insured"}],
                                 hit_policy="first", outputs=[{"name": "out",
                                                              "type": "string"}])}}})
    [problem] = caught.value.problems
    assert problem.message == "'<' cannot order true/false values"
    line = (tmp_path / "derived.yaml").read_text().splitlines()[problem.location.line - 1]
    assert line[problem.location.column - 1:].startswith("< attributes.needs_insurance")


# --- the trace ------------------------------------------------------------------------------

def test_trace_names_table_rule_and_every_value_read(tmp_path):
    spec = table(
        [{"id": "BIG", "when": {"size": "? > 0.5 * financials.equity", "sector": "retail"},
          "then": {"out": "operating.market_share * 100"}},
         {"id": "OTHER", "then": {"out": 0}}],
        inputs=[{"name": "size", "expr": "financials.revenue"}, {"name": "sector",
                                                                  "expr": "industry.sector"}],
        hit_policy="first", table_id="sizing")
    rs = compile_ruleset(tmp_path, derived={"derived": {"t": {"table": spec}, "probe": "t"}})
    decision = run(rs, {"financials.revenue": 800, "financials.equity": 1000,
                        "industry.sector": "retail", "operating.market_share": 0.25})
    entries = [e for e in trace_entries(decision, "derived") if e["id"] != "probe"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["id"] == "sizing/BIG"
    assert list(entry["read"]) == ["financials.revenue", "industry.sector",
                                   "financials.equity", "operating.market_share"]
    assert amounts(entry["read"]) == {"financials.revenue": 800, "industry.sector": "retail",
                                      "financials.equity": 1000,
                                      "operating.market_share": 0.25}
    assert "missing" not in entry
    assert entry["result"] == {"out": 25.0}

    decision = run(rs, {"financials.revenue": 800, "industry.sector": "retail"})
    entry = trace_entry(decision, "sizing/OTHER")
    assert entry["read"]["financials.equity"] is None
    assert set(entry["missing"]) == {"financials.equity", "operating.market_share"}
    assert entry["result"] == {"out": 0}


def test_trace_of_a_table_that_matched_nothing(tmp_path):
    rs = derived_table(tmp_path, employees_table([rule("BIG", ">= 50", 2)],
                                                 table_id="sizes"))
    entry = trace_entry(run(rs, {"operating.employees": 3}), "sizes/no_match")
    assert entry["read"] == {"operating.employees": 3}
    assert entry["result"] == {"out": None}
