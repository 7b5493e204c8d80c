"""Hit policies that rank the matching rules by an output's list of values: *priority*
(the first in the list wins) and *output_order* (every match, in list order), on text,
number, money and boolean outputs; and the value list as a constraint on constant cells."""

from __future__ import annotations

import pytest

from engine.errors import ProblemsError
from tests.ruleset_factory import EMPLOYEES, compile_ruleset, run, table, trace_entries, trace_entry


def derived(tmp_path, spec, probe="t"):
    return compile_ruleset(tmp_path, derived={"derived": {"t": {"table": spec},
                                                          "probe": probe}})


def probe(decision):
    return trace_entry(decision, "probe")["result"]


def fired(decision):
    return [e["id"] for e in trace_entries(decision, "derived") if e["id"] != "probe"]


def problems(tmp_path, spec) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        derived(tmp_path, spec)
    return [str(p) for p in caught.value.problems]


TERMS = [{"id": "SMALL", "when": {"n": "< 10"}, "then": {"out": 30}},
         {"id": "SOME", "when": {"n": ">= 5"}, "then": {"out": 90}},
         {"id": "MANY", "when": {"n": ">= 20"}, "then": {"out": 60}}]


def terms_table(hit_policy, values=(60, 30, 90), typ="integer", rules=TERMS, **extra):
    return table(rules, inputs=[EMPLOYEES], hit_policy=hit_policy,
                 outputs=[{"name": "out", "type": typ, "values": list(values)}], **extra)


@pytest.mark.parametrize(("employees", "expected", "rule"), [
    (7, 30, "SMALL"),       # SMALL (30) and SOME (90): 30 comes before 90 in the list
    (25, 60, "MANY"),       # SOME (90) and MANY (60): 60 is first
    (12, 90, "SOME"),       # one match
    (3, 30, "SMALL"),
])
def test_priority_on_an_integer_output(tmp_path, employees, expected, rule):
    decision = run(derived(tmp_path, terms_table("priority")),
                   {"operating.employees": employees})
    assert probe(decision) == expected
    assert fired(decision) == [f"t/{rule}"]


def test_priority_with_no_match_gives_null(tmp_path):
    rules = [{"id": "BIG", "when": {"n": ">= 50"}, "then": {"out": 30}}]
    decision = run(derived(tmp_path, terms_table("priority", rules=rules)),
                   {"operating.employees": 3})
    assert probe(decision) is None
    assert fired(decision) == ["t/no_match"]


@pytest.mark.parametrize(("employees", "expected", "rules"), [
    (7, [30, 90], ["t/SMALL", "t/SOME"]),
    (25, [60, 90], ["t/MANY", "t/SOME"]),  # list order, not rule order
    (12, [90], ["t/SOME"]),
    (None, [], []),
])
def test_output_order_sorts_every_match_by_the_list(tmp_path, employees, expected, rules):
    decision = run(derived(tmp_path, terms_table("output_order")),
                   {"operating.employees": employees})
    assert probe(decision) == expected
    assert fired(decision) == rules


def test_output_order_keeps_rule_order_between_equal_values(tmp_path):
    rules = [{"id": "A", "then": {"out": 90}}, {"id": "B", "then": {"out": 30}},
             {"id": "C", "then": {"out": 90}}]
    decision = run(derived(tmp_path, terms_table("output_order", rules=rules)))
    assert probe(decision) == [30, 90, 90]
    assert fired(decision) == ["t/B", "t/A", "t/C"]


def test_priority_on_a_boolean_output(tmp_path):
    rules = [{"id": "NO", "when": {"n": ">= 0"}, "then": {"out": False}},
             {"id": "YES", "when": {"n": ">= 100"}, "then": {"out": True}}]
    spec = table(rules, inputs=[EMPLOYEES], hit_policy="priority",
                 outputs=[{"name": "out", "type": "boolean", "values": [True, False]}])
    rs = derived(tmp_path, spec)
    assert probe(run(rs, {"operating.employees": 100})) is True
    assert probe(run(rs, {"operating.employees": 99})) is False


def test_priority_is_the_older_name_of_values(tmp_path):
    spec = terms_table("priority")
    spec["outputs"][0]["priority"] = spec["outputs"][0].pop("values")
    assert probe(run(derived(tmp_path, spec), {"operating.employees": 7})) == 30


# --- the value list as a constraint ------------------------------------------------------

def test_a_constant_cell_outside_the_list_is_a_located_error(tmp_path):
    rules = [{"id": "R", "then": {"out": 45}}]
    assert problems(tmp_path, terms_table("unique", rules=rules)) == [
        f"{tmp_path}/derived.yaml:19:16: 45 is not one of the values of 'out' (60, 30, 90)"]


def test_a_number_in_the_list_matches_however_it_is_written(tmp_path):
    rules = [{"id": "R", "then": {"out": 30.0}}]
    assert probe(run(derived(tmp_path, terms_table("first", typ="number", rules=rules)))) == 30


@pytest.mark.parametrize(("typ", "values", "message"), [
    ("integer", [30, 1.5], "derived.yaml:12:11: 1.5 is not a whole number, the type of 'out'"),
    ("string", ["a", 1], "derived.yaml:12:11: 1 is not a text, the type of 'out'"),
    ("boolean", [True, "no"], "derived.yaml:12:11: 'no' is not true or false, the type of "
                              "'out'"),
])
def test_a_list_value_of_another_type_is_refused(tmp_path, typ, values, message):
    spec = table([], hit_policy="first", outputs=[{"name": "out", "type": typ,
                                                   "values": values}])
    assert problems(tmp_path, spec) == [f"{tmp_path}/{message}"]


def test_values_and_priority_together_are_refused(tmp_path):
    spec = table([], hit_policy="priority", outputs=[
        {"name": "out", "type": "string", "values": ["a"], "priority": ["a"]}])
    [message] = problems(tmp_path, spec)
    assert message.endswith("'out' has both values and priority; priority is the older "
                            "name of values: keep one")


@pytest.mark.parametrize("hit_policy", ["priority", "output_order"])
def test_a_ranked_table_needs_a_value_list(tmp_path, hit_policy):
    spec = table([{"id": "R", "then": {"out": 1}}], hit_policy=hit_policy)
    [message] = problems(tmp_path, spec)
    assert message.endswith(f"hit policy {hit_policy} needs an output with a list of values "
                            "(values: [...], most important first) to rank the rules by")


def test_a_ranked_cell_cannot_be_an_expression(tmp_path):
    rules = [{"id": "R", "then": {"out": "operating.employees"}}]
    [message] = problems(tmp_path, terms_table("priority", rules=rules))
    assert message.endswith("'out' ranks the rules of this table: write one of its values, "
                            "not an expression")


def test_a_rule_without_a_ranked_value_comes_last(tmp_path):
    rules = [{"id": "NONE", "then": {}}, {"id": "LOW", "then": {"out": 30}},
             {"id": "HIGH", "then": {"out": 60}}]
    rs = derived(tmp_path / "o", terms_table("output_order", rules=rules))
    decision = run(rs)
    assert probe(decision) == [60, 30, None]
    assert fired(decision) == ["t/HIGH", "t/LOW", "t/NONE"]
    rs = derived(tmp_path / "p", terms_table("priority", rules=[rules[0]]))
    assert fired(run(rs)) == ["t/NONE"]  # the only match wins even without a value


def test_an_unranked_output_of_a_ranked_table_may_be_an_expression(tmp_path):
    rules = [{"id": "LOW", "then": {"out": 30, "size": {"expr": "operating.employees"}}},
             {"id": "HIGH", "then": {"out": 60, "size": 0}}]
    spec = table(rules, hit_policy="priority", outputs=[
        {"name": "out", "type": "integer", "values": [30, 60]},
        {"name": "size", "type": "integer"}])
    decision = run(derived(tmp_path, spec, probe="t.size"), {"operating.employees": 12})
    assert fired(decision) == ["t/LOW"]
    assert trace_entry(decision, "t/LOW")["result"] == {"out": 30, "size": 12}
    assert probe(decision) == 12
