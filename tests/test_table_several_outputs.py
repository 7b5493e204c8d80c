"""A derived fact from a table with several outputs: a structured fact whose parts the
rest of the ruleset reads by name (``terms.days``), under single- and multi-hit policies,
with the trace, validation, lint and coverage seeing the parts."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from engine.errors import ProblemsError
from engine.quality.lint import lint_ruleset
from tests.ruleset_factory import (
    EMPLOYEES,
    build_ruleset,
    compile_ruleset,
    policy_table,
    run,
    table,
    trace_entries,
    trace_entry,
)

TERMS_OUTPUTS = [{"name": "days", "type": "integer"}, {"name": "discount", "type": "number"},
                 {"name": "label", "type": "string"}]
TERMS_RULES = [
    {"id": "SMALL", "when": {"n": "< 50"}, "then": {"days": 30, "discount": 0.02,
                                                    "label": "small"}},
    {"id": "LARGE", "when": {"n": ">= 50"}, "then": {"days": 60, "discount": 0.01,
                                                     "label": "large"}}]


def terms(**extra):
    return table(copy.deepcopy(TERMS_RULES), inputs=[EMPLOYEES], outputs=TERMS_OUTPUTS, **extra)


def with_probe(tmp_path, spec, probe, name="terms"):
    return compile_ruleset(tmp_path, derived={"derived": {name: {"table": spec},
                                                          "probe": probe}})


def probe(decision):
    return trace_entry(decision, "probe")["result"]


def fired(decision):
    return [e["id"] for e in trace_entries(decision, "derived") if e["id"] != "probe"]


@pytest.mark.parametrize(("employees", "days", "discount", "label"), [
    (49, 30, 0.02, "small"), (50, 60, 0.01, "large")])
def test_each_output_is_read_by_name(tmp_path, employees, days, discount, label):
    rs = with_probe(tmp_path, terms(), "terms.days * 1000 + terms.discount * 100")
    decision = run(rs, {"operating.employees": employees})
    assert probe(decision) == days * 1000 + discount * 100
    entry = trace_entry(decision, "probe")
    assert entry["read"] == {"terms.days": days, "terms.discount": discount}
    # The table's trace entry is the structured value.
    rule = "SMALL" if employees < 50 else "LARGE"
    assert trace_entry(decision, f"t/{rule}")["result"] == {
        "days": days, "discount": discount, "label": label}


def test_the_parts_reach_later_stages(tmp_path):
    rs = compile_ruleset(tmp_path, derived={"derived": {"terms": {"table": terms()}}},
                         policy=policy_table([{"id": "P", "then": {
                             "payment_term_days": "terms.days",
                             "credit_limit": "1000 * terms.days"}}]))
    decision = run(rs, {"operating.employees": 70})
    assert decision.policy["payment_term_days"] == 60
    assert decision.credit_limit == Decimal("60000.00")


def test_no_match_leaves_every_part_null(tmp_path):
    rs = with_probe(tmp_path, terms(), "coalesce(terms.days, -1)")
    decision = run(rs, {"operating.employees": None})
    assert probe(decision) == -1
    assert fired(decision) == ["t/no_match"]


def test_a_collect_table_gives_a_list_per_output(tmp_path):
    rs = with_probe(tmp_path, terms(hit_policy="collect"), "terms.label")
    assert probe(run(rs, {"operating.employees": 5})) == ["small"]


def test_an_aggregated_collect_table_aggregates_each_output(tmp_path):
    outputs = [{"name": "points", "type": "integer"}, {"name": "weight", "type": "number"}]
    rules = [{"id": "A", "then": {"points": 10, "weight": 0.5}},
             {"id": "B", "when": {"n": ">= 10"}, "then": {"points": 5, "weight": 0.25}}]
    spec = table(rules, inputs=[EMPLOYEES], outputs=outputs, hit_policy="collect",
                 aggregation="max")
    rs = with_probe(tmp_path, spec, "terms.points + terms.weight")
    assert probe(run(rs, {"operating.employees": 20})) == 10.5


def test_output_order_of_money_and_several_outputs(tmp_path):
    # Ranked by the first output with a list; the other output follows its rule.
    rules = [{"id": "LOW", "then": {"limit": 1000.5, "level": "analyst"}},
             {"id": "HIGH", "then": {"limit": 50000, "level": "manager"}}]
    spec = table(rules, hit_policy="output_order", outputs=[
        {"name": "limit", "type": "money", "values": [50000, 1000.5]},
        {"name": "level", "type": "string"}])
    decision = run(with_probe(tmp_path, spec, "t.level", name="t"))
    assert probe(decision) == ["manager", "analyst"]
    assert trace_entry(decision, "t/LOW")["result"] == {"limit": "1000.5",
                                                        "level": "analyst"}
    assert fired(decision) == ["t/HIGH", "t/LOW"]


def test_priority_by_two_outputs_breaks_ties_by_the_second(tmp_path):
    rules = [{"id": "R1", "then": {"a": "x", "b": 2}}, {"id": "R2", "then": {"a": "x", "b": 1}},
             {"id": "R3", "then": {"a": "y", "b": 1}}]
    spec = table(rules, hit_policy="priority", outputs=[
        {"name": "a", "type": "string", "values": ["x", "y"]},
        {"name": "b", "type": "integer", "values": [1, 2]}])
    decision = run(with_probe(tmp_path, spec, "t.b", name="t"))
    assert probe(decision) == 1
    assert fired(decision) == ["t/R2"]


# --- validation -----------------------------------------------------------------------

def problems(tmp_path, derived) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        compile_ruleset(tmp_path, derived={"derived": derived})
    return [p.message for p in caught.value.problems]


def test_the_whole_structured_fact_is_not_a_value(tmp_path):
    assert problems(tmp_path, {"terms": {"table": terms()}, "probe": "terms + 1"}) == [
        "unknown field 'terms' (did you mean 'terms.days'?)"]


def test_an_output_it_does_not_have_is_an_unknown_field(tmp_path):
    assert problems(tmp_path, {"terms": {"table": terms()}, "probe": "terms.rate"}) == [
        "unknown field 'terms.rate' (did you mean 'terms.label'?)"]


def test_a_part_that_names_a_declared_fact_is_refused(tmp_path):
    spec = table([], outputs=[{"name": "revenue", "type": "money"},
                              {"name": "other", "type": "money"}])
    assert problems(tmp_path, {"financials": {"table": spec}}) == [
        "'financials.revenue' is already a fact or a stage output; choose another name for "
        "the fact or the output"]


def test_a_broken_table_is_reported_once_not_at_every_reader(tmp_path):
    spec = terms()
    spec["rules"][0]["then"]["days"] = "unknown_thing"
    assert problems(tmp_path, {"terms": {"table": spec}, "probe": "terms.days"}) == [
        "unknown field 'unknown_thing'"]


def test_an_output_named_after_the_fact_is_not_a_read(tmp_path):
    outputs = [{"name": "terms", "type": "integer"}, {"name": "other", "type": "integer"}]
    spec = table([{"id": "R", "then": {"terms": 1, "other": 2}}], outputs=outputs)
    rs = with_probe(tmp_path, spec, "terms.terms + terms.other")
    assert probe(run(rs)) == 3


def test_reading_a_part_orders_the_facts(tmp_path):
    # 'a_first' sorts before 'terms' but reads it: it is computed after.
    rs = compile_ruleset(tmp_path, derived={"derived": {
        "a_first": "terms.days + 1", "terms": {"table": terms()}, "probe": "a_first"}})
    assert probe(run(rs, {"operating.employees": 1})) == 31


def test_a_structured_fact_read_through_a_part_is_used_for_lint(tmp_path):
    def unused(probe_text):
        folder = build_ruleset(tmp_path / probe_text.replace(".", "_"), derived={"derived": {
            "terms": {"table": terms()}}}, policy=policy_table([{"id": "P", "then": {
                "payment_term_days": probe_text}}]))
        return [f.message for f in lint_ruleset(folder) if f.code == "derived-unused"]

    assert unused("terms.days") == []
    assert unused("30") == ["derived fact 'terms' is computed but no rule reads it"]
