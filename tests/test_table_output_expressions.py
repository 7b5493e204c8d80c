"""Output cells that are expressions: {expr: ...} in a column of any type (a fact, arithmetic,
texts joined with +), checked by type when validating and against the output's value list
when deciding."""

from __future__ import annotations

import pytest

from engine.errors import DecisionError, ProblemsError
from tests.ruleset_factory import APPROVAL, compile_ruleset, run, table, trace_entry

SECTOR = {"name": "sector", "expr": "industry.sector"}


def derived(tmp_path, spec, probe="t", **stages):
    return compile_ruleset(tmp_path, derived={"derived": {"t": {"table": spec},
                                                          "probe": probe}}, **stages)


def probe(decision):
    return trace_entry(decision, "probe")["result"]


def problems(tmp_path, spec, **stages) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        derived(tmp_path, spec, **stages)
    return [str(p) for p in caught.value.problems]


def one_rule(then, outputs, **extra):
    return table([{"id": "R", "then": then}], outputs=outputs, hit_policy="first", **extra)


LABEL = [{"name": "label", "type": "string"}]


@pytest.mark.parametrize(("sector", "risk", "expected"), [
    ("retail", "low", "retail/low"),
    ("retail", None, None),           # a missing part: the joined text is null
    ("", "high", "/high"),
])
def test_a_text_output_joins_texts(tmp_path, sector, risk, expected):
    spec = one_rule({"label": {"expr": "industry.sector + '/' + industry.risk_class"}}, LABEL)
    decision = run(derived(tmp_path, spec), {"industry.sector": sector,
                                             "industry.risk_class": risk})
    assert probe(decision) == expected
    entry = trace_entry(decision, "t/R")
    assert entry["read"] == {"industry.sector": sector, "industry.risk_class": risk}
    assert entry["result"] == {"label": expected}


def test_a_text_output_reads_a_fact(tmp_path):
    spec = one_rule({"label": {"expr": "industry.sector"}}, LABEL)
    assert probe(run(derived(tmp_path, spec), {"industry.sector": "mining"})) == "mining"


def test_a_plain_text_cell_stays_text(tmp_path):
    spec = one_rule({"label": "industry.sector"}, LABEL)
    assert probe(run(derived(tmp_path, spec), {"industry.sector": "mining"})) == \
        "industry.sector"


@pytest.mark.parametrize(("typ", "expr", "given", "expected"), [
    ("integer", "operating.employees * 2", {"operating.employees": 21}, 42),
    ("number", "operating.market_share + 0.1", {"operating.market_share": 0.25}, 0.35),
    ("boolean", "operating.employees >= 10", {"operating.employees": 10}, True),
    ("boolean", "operating.employees >= 10", {"operating.employees": 9}, False),
])
def test_expressions_in_other_columns(tmp_path, typ, expr, given, expected):
    spec = one_rule({"out": {"expr": expr}}, [{"name": "out", "type": typ}])
    assert probe(run(derived(tmp_path, spec), given)) == expected


def test_a_text_joined_with_a_number_is_a_located_error(tmp_path):
    spec = one_rule({"label": {"expr": "industry.sector + operating.employees"}}, LABEL)
    [message] = problems(tmp_path, spec)
    assert message.endswith("derived.yaml:14:19: '+' needs a number value, not a string")


def test_an_expression_of_the_wrong_type_is_a_located_error(tmp_path):
    spec = one_rule({"label": {"expr": "operating.employees * 2"}}, LABEL)
    [message] = problems(tmp_path, spec)
    assert message.endswith("derived.yaml:14:19: 'label' takes string values, this "
                            "expression gives integer")


def test_a_computed_value_outside_the_list_fails_the_decision(tmp_path):
    outputs = [{"name": "label", "type": "string", "values": ["low", "high"]}]
    spec = one_rule({"label": {"expr": "industry.risk_class"}}, outputs)
    rs = derived(tmp_path, spec)
    assert probe(run(rs, {"industry.risk_class": "high"})) == "high"
    assert probe(run(rs, {"industry.risk_class": None})) is None  # null is no value
    with pytest.raises(DecisionError) as caught:
        run(rs, {"industry.risk_class": "medium"})
    assert str(caught.value) == ("table rule t/R: 'label' computed medium, which is not one "
                                 "of its values (low, high)")


def test_a_computed_number_is_checked_by_its_value(tmp_path):
    outputs = [{"name": "out", "type": "number", "values": [0.5, 1]}]
    spec = one_rule({"out": {"expr": "operating.market_share * 2"}}, outputs)
    rs = derived(tmp_path, spec)
    assert probe(run(rs, {"operating.market_share": 0.25})) == 0.5
    assert probe(run(rs, {"operating.market_share": 0.5})) == 1
    with pytest.raises(DecisionError):
        run(rs, {"operating.market_share": 0.3})


def test_an_expression_cell_reading_another_derived_fact_orders_them(tmp_path):
    spec = one_rule({"label": {"expr": "a_sector + '!'"}}, LABEL)
    rs = compile_ruleset(tmp_path, derived={"derived": {
        "t": {"table": spec}, "a_sector": "industry.sector", "probe": "t"}})
    assert probe(run(rs, {"industry.sector": "oil"})) == "oil!"


def test_an_expression_cell_reading_its_own_fact_is_refused(tmp_path):
    spec = one_rule({"label": {"expr": "t + 'x'"}}, LABEL)
    assert [p.split(": ", 1)[1] for p in problems(tmp_path, spec)] == [
        "derived fact 't' reads itself"]


def test_a_ranked_output_cannot_be_an_expression(tmp_path):
    outputs = [{"name": "label", "type": "string", "values": ["a", "b"]}]
    spec = table([{"id": "R", "then": {"label": {"expr": "industry.sector"}}}],
                 outputs=outputs, hit_policy="priority")
    [message] = problems(tmp_path, spec)
    assert message.endswith("derived.yaml:17:19: 'label' ranks the rules of this table: "
                            "write one of its values, not an expression")


def test_an_approval_level_cannot_be_an_expression(tmp_path):
    approval = {**APPROVAL, "table": {**APPROVAL["table"], "rules": [
        {"id": "A_ALL", "then": {"required_level": {"expr": "admission_outcome"}}}]}}
    spec = one_rule({"label": "x"}, LABEL)
    [message] = problems(tmp_path, spec, approval=approval)
    assert message.endswith("approval.yaml:16:15: 'required_level' names a level: write the "
                            "level, not an expression")


def test_any_agrees_on_the_same_expression(tmp_path):
    rules = [{"id": "R1", "then": {"label": {"expr": "industry.sector"}}},
             {"id": "R2", "then": {"label": {"expr": "industry.sector"}}}]
    rs = derived(tmp_path, table(rules, outputs=LABEL, hit_policy="any"))
    assert probe(run(rs, {"industry.sector": "oil"})) == "oil"


def test_the_schema_refuses_another_key_in_an_expression_cell(tmp_path):
    spec = one_rule({"label": {"expression": "industry.sector"}}, LABEL)
    [message] = problems(tmp_path, spec)
    assert "derived.yaml:14:13: /derived/t/table/rules/0/then/label" in message
    assert "('expression' was unexpected)" in message
