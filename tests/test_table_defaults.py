"""Default outputs of a table when no rule matches: single-hit tables (as before) and
multi-hit ones, where the default is the one value gathered (and, aggregated, the
result); aggregation count takes none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.errors import ProblemsError
from tests.ruleset_factory import (
    EMPLOYEES,
    compile_ruleset,
    policy_table,
    run,
    table,
    trace_entries,
    trace_entry,
)

RULES = [{"id": "SMALL", "when": {"n": "< 10"}, "then": {"out": 3}},
         {"id": "SOME", "when": {"n": ">= 5"}, "then": {"out": 10}}]


def derived(tmp_path, spec):
    return compile_ruleset(tmp_path, derived={"derived": {"t": {"table": spec},
                                                          "probe": "t"}})


def probe(decision):
    return trace_entry(decision, "probe")["result"]


def fired(decision):
    return [e["id"] for e in trace_entries(decision, "derived") if e["id"] != "probe"]


@pytest.mark.parametrize(("hit_policy", "aggregation", "no_match", "match"), [
    ("collect", "sum", 0, 13),
    ("collect", "min", -1, 3),
    ("collect", "max", 99, 10),
    ("collect", None, [7], [3, 10]),
    ("rule_order", None, [7], [3, 10]),
])
def test_a_multi_hit_default_is_the_value_gathered_when_no_rule_matches(
        tmp_path, hit_policy, aggregation, no_match, match):
    extra = {"aggregation": aggregation} if aggregation else {}
    default = no_match if isinstance(no_match, int) else no_match[0]
    rs = derived(tmp_path, table(RULES, inputs=[EMPLOYEES], hit_policy=hit_policy,
                                 default={"out": default}, **extra))
    decision = run(rs, {"operating.employees": None})  # missing: no rule matches
    assert probe(decision) == no_match
    assert fired(decision) == ["t/default"]
    assert trace_entry(decision, "t/default")["result"] == {"out": default}
    decision = run(rs, {"operating.employees": 7})
    assert probe(decision) == match
    assert fired(decision) == ["t/SMALL", "t/SOME"]  # the default is not taken


def test_output_order_default(tmp_path):
    spec = table(RULES, inputs=[EMPLOYEES], hit_policy="output_order", default={"out": 7},
                 outputs=[{"name": "out", "type": "integer", "values": [10, 7, 3]}])
    rs = derived(tmp_path, spec)
    assert probe(run(rs, {"operating.employees": None})) == [7]
    assert probe(run(rs, {"operating.employees": 7})) == [10, 3]


def test_a_null_default_sum_stays_null(tmp_path):
    rs = derived(tmp_path, table(RULES, inputs=[EMPLOYEES], hit_policy="collect",
                                 aggregation="sum", default={"out": None}))
    decision = run(rs, {"operating.employees": None})
    assert probe(decision) is None
    assert fired(decision) == ["t/default"]


def test_a_summed_limit_with_a_default_of_zero_is_a_zero_limit(tmp_path):
    # The way to keep a sum of 0 over no rule: say so with a default.
    rules = [{"id": "BASE", "when": {"n": ">= 10"}, "then": {"credit_limit": 1000}}]
    spec = table(rules, inputs=[EMPLOYEES], hit_policy="collect", aggregation="sum",
                 outputs=[{"name": "credit_limit", "type": "money"}],
                 default={"credit_limit": 0})
    rs = compile_ruleset(tmp_path, derived={"derived": {"summed_limit": {"table": spec}}},
                         policy=policy_table([{"id": "P", "then": {
                             "credit_limit": "summed_limit"}}]))
    decision = run(rs, {"operating.employees": 5})
    assert decision.credit_limit == Decimal("0.00")
    assert decision.admission_reasons == []


def test_count_takes_no_default(tmp_path):
    spec = table(RULES, inputs=[EMPLOYEES], hit_policy="collect", aggregation="count",
                 default={"out": 1})
    with pytest.raises(ProblemsError) as caught:
        derived(tmp_path, spec)
    [problem] = caught.value.problems
    assert str(problem).endswith("derived.yaml:25:9: a count over no matching rule is 0: "
                                 "aggregation count takes no default")


def test_a_default_outside_the_value_list_is_refused(tmp_path):
    spec = table(RULES, inputs=[EMPLOYEES], hit_policy="collect", default={"out": 5},
                 outputs=[{"name": "out", "type": "integer", "values": [3, 10]}])
    with pytest.raises(ProblemsError) as caught:
        derived(tmp_path, spec)
    assert [p.message for p in caught.value.problems] == [
        "5 is not one of the values of 'out' (3, 10)"]


def test_the_default_of_a_collect_table_is_covered(tmp_path):
    from engine.quality.coverage import ruleset_items

    rs = derived(tmp_path, table(RULES, inputs=[EMPLOYEES], hit_policy="collect",
                                 default={"out": 0}))
    assert [i.id for i in ruleset_items(rs) if i.stage == "derived" and "/" in i.id] == [
        "t/SMALL", "t/SOME", "t/default"]


def test_a_default_of_a_table_with_several_outputs_fills_each_part(tmp_path):
    outputs = [{"name": "points", "type": "integer"}, {"name": "note", "type": "string"}]
    rules = [{"id": "BIG", "when": {"n": ">= 50"}, "then": {"points": 5, "note": "big"}}]
    spec = table(rules, inputs=[EMPLOYEES], outputs=outputs, hit_policy="collect",
                 default={"points": 0})  # note left out: null
    rs = compile_ruleset(tmp_path, derived={"derived": {"t": {"table": spec},
                                                        "probe": "t.note"}})
    decision = run(rs, {"operating.employees": 3})
    assert probe(decision) == [None]
    assert trace_entry(decision, "t/default")["result"] == {"points": 0, "note": None}
    assert probe(run(rs, {"operating.employees": 60})) == ["big"]
