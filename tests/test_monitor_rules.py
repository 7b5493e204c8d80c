"""monitoring.yaml compiled to durable_rules: what it becomes, and what `credit validate`
refuses, located at the cause. Needs no durable_rules (checking a ruleset never does)."""

from __future__ import annotations

import pytest

from engine.ruleset.loader import load_ruleset
from tests.audit_helpers import copy_ruleset
from tests.credit_cli import invoke_credit


def _with_rule(tmp_path, match: str, extra: str = "", actions: str = "[notify]") -> str:
    folder = copy_ruleset(tmp_path)
    (folder / "monitoring.yaml").write_text(
        "rules:\n"
        "  - id: R1\n"
        "    match:\n"
        f"{match}"
        f"    actions: {actions}\n{extra}", encoding="utf-8")
    return str(folder)


def _validate(folder: str) -> tuple[int, list[str]]:
    result = invoke_credit("validate", folder)
    return result.exit_code, result.stderr.splitlines()


def test_the_default_rules_compile_to_durable_rules_json(default_ruleset):
    rules = default_ruleset.monitoring
    definition = rules.definition()
    assert definition["M_THIRD_LATE_PAYMENT"]["all"][2] == {"third": {"$and": [
        {"signal": "late_payment"}, {"$gt": {"days_late": 5}}, {"$gt": {"n": {"second": "n"}}},
        {"$lte": {"day": {"$add": {"$l": {"first": "day"}, "$r": 180}}}},
        # durable_rules reads past a list of join conditions whose last one is false
        {"$gte": {"day": {"$sub": {"$l": {"first": "day"}, "$r": 1_000_000_000}}}}]}}
    # Negations go last: durable_rules evaluates them correctly only after the positives.
    assert list(definition["M_ORDER_OVER_LIMIT"]["all"][-1]) == ["none_1$not"]
    assert definition["M_ORDER_OVER_LIMIT"]["all"][0]["order"]["$and"][1] == {
        "$gt": {"exposure_after": {"$m": "credit_limit"}}}
    assert rules.remember_days == 400
    assert rules.regrade_facts["credit_history.overdue_count_12m"] == "late_payments_365"


def test_a_value_on_the_left_is_turned_around(tmp_path):
    folder = _with_rule(tmp_path, '      - {as: a, signal: order_placed, when: "5000 < amount"}\n')
    rule = load_ruleset(folder).monitoring.rules[0]
    assert rule.condition == {"all": [{"a": {"$and": [{"signal": "order_placed"},
                                                      {"$gt": {"amount": 5000}}]}}]}
    assert rule.once_per == "a"


# The column is where the cause is in the file; a problem with the whole condition points at
# its opening quote (column 45).
@pytest.mark.parametrize(("when", "column", "message"), [
    ("ammount > 5", 45, "order_placed has no field 'ammount'; its fields are id, day, n, "),
    ("amount > 5 > 3", 45, "write one comparison at a time, joined by and"),
    ("abs(amount) > 5", 45, "one side of a comparison must be a field of this order_placed"),
    ("amount > abs(5)", 55, "durable_rules cannot compute abs() in a condition"),
    ("amount > 180 + prior.amount", 55, "start the arithmetic with a field of a bound"),
    ("amount > other.amount", 55, "'other' is not bound by an earlier pattern"),
    ("amount in [1, 2]", 45, "durable_rules cannot compare with 'in'"),
    ("order_id > 5", 45, "'order_id' is a string, compared with an integer"),
    ("amount", 45, "a monitoring condition is comparisons of this signal's fields"),
    ("amount > 5 and", 45, "invalid syntax"),
    ("amount < null", 55, "null can only be compared with == or !="),
])
def test_what_durable_rules_cannot_run_is_refused_where_it_is(tmp_path, when, column,
                                                                message):
    folder = _with_rule(tmp_path, "      - {as: prior, signal: order_placed}\n"
                                  f"      - {{as: a, signal: order_placed, when: \"{when}\"}}\n")
    code, lines = _validate(folder)
    assert code == 1 and len(lines) == 1, lines
    start = f"{folder}/monitoring.yaml:5:{column}: "
    assert lines[0].startswith(start + message), lines


@pytest.mark.parametrize(("match", "extra", "actions", "message"), [
    ("      - {as: a, signal: invoice_paid}\n", "", "[notify]",
     "monitoring.yaml:4:25: unknown signal 'invoice_paid'; the signals are invoice_issued"),
    ("      - {as: a, signal: bureau_alert, when: \"kind == 'downgarde'\"}\n", "", "[notify]",
     "monitoring.yaml:4:54: 'downgarde' is not a bureau_alert kind; the kinds are downgrade"),
    ("      - {none: hold}\n", "", "[notify]",
     "monitoring.yaml:4:7: a rule needs at least one pattern with 'as'"),
    ("      - {as: a, signal: hold}\n      - {as: a, signal: clock}\n", "", "[notify]",
     "monitoring.yaml:5:14: 'a' is bound twice in this rule"),
    ("      - {as: a, signal: hold}\n", "    once_per: b\n", "[notify]",
     "monitoring.yaml:6:15: 'b' is not bound by this rule's match (a)"),
    ("      - {as: a, signal: hold}\n", "", "[regrade]",
     "monitoring.yaml:5:14: this rule re-grades but the file has no regrade: facts: section"),
    ("      - {as: a, signal: hold}\n",
     "regrade:\n  facts: {credit_history.overdue_count: late_payments_365}\n", "[notify]",
     "monitoring.yaml:7:11: 'credit_history.overdue_count' is not a fact declared in "
     "facts.yaml"),
])
def test_rule_problems_are_located(tmp_path, match, extra, actions, message):
    folder = _with_rule(tmp_path, match, extra, actions)
    code, lines = _validate(folder)
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith(f"{folder}/{message}"), lines


def test_escalate_needs_the_escalation_table(tmp_path):
    folder = _with_rule(tmp_path, "      - {as: a, signal: run_date}\n", actions="[escalate]")
    manifest = f"{folder}/ruleset.yaml"
    with open(manifest, encoding="utf-8") as handle:
        text = handle.read().replace("  escalation: escalation.yaml\n", "")
    with open(manifest, "w", encoding="utf-8") as handle:
        handle.write(text)
    code, lines = _validate(folder)
    assert code == 1
    assert lines == [f"{folder}/monitoring.yaml:5:14: escalate needs the ruleset's "
                     "escalation.yaml (stages: escalation:)"]


def test_a_schema_violation_is_located(tmp_path):
    folder = _with_rule(tmp_path, "      - {as: a, signal: hold, wen: x}\n")
    code, lines = _validate(folder)
    assert code == 1 and lines[0].startswith(f"{folder}/monitoring.yaml:4:")


def test_division_is_refused(tmp_path):
    folder = _with_rule(tmp_path, "      - {as: prior, signal: late_payment}\n"
                                  '      - {as: a, signal: late_payment, when: '
                                  '"days_late >= prior.days_late / 2"}\n')
    code, lines = _validate(folder)
    assert code == 1 and len(lines) == 1
    assert "durable_rules cannot divide safely" in lines[0] and ":5:" in lines[0]


def test_a_field_a_later_pattern_reads_must_be_there(tmp_path):
    folder = _with_rule(tmp_path, "      - {as: held, signal: hold}\n"
                                  '      - {as: a, signal: order_placed, when: '
                                  '"amount > held.amount"}\n')
    rule = load_ruleset(folder).monitoring.rules[0]
    assert rule.condition["all"][0] == {"held": {"$and": [{"signal": "hold"},
                                                          {"$ex": {"amount": 1}}]}}


def test_a_fired_rule_must_be_a_rule_of_the_file(tmp_path):
    folder = _with_rule(tmp_path, "      - {as: a, signal: order_placed}\n"
                                  '      - {none: fired, when: "rule == \'R2\'"}\n')
    code, lines = _validate(folder)
    assert code == 1 and lines[0].endswith("'R2' is not a fired rule; the rules are R1")


def test_every_list_of_join_conditions_ends_with_one_that_is_always_true(tmp_path):
    # durable_rules 2.0.28 read past the end of such a list when its last condition was
    # false, and crashed in most runs of a two-pattern rule like this one.
    folder = _with_rule(tmp_path, "      - {as: a, signal: order_placed}\n"
                                  '      - {as: b, signal: order_placed, when: '
                                  '"n > a.n and (amount > a.amount and day >= a.day)"}\n')
    pattern = load_ruleset(folder).monitoring.rules[0].condition["all"][1]["b"]["$and"]
    sentinel = {"$gte": {"day": {"$sub": {"$l": {"a": "day"}, "$r": 1_000_000_000}}}}
    assert pattern[2] == {"$and": [{"$gt": {"amount": {"a": "amount"}}},
                                   {"$gte": {"day": {"a": "day"}}}, sentinel]}
    assert pattern[-1] == sentinel
    # A field compared with another signal's must be there (else durable_rules stops).
    assert {"$ex": {"amount": 1}} in pattern


def test_an_or_that_reads_another_signal_is_refused(tmp_path):
    folder = _with_rule(tmp_path, "      - {as: a, signal: order_placed}\n"
                                  '      - {as: b, signal: order_placed, when: '
                                  '"n > a.n or amount > 100"}\n')
    code, lines = _validate(folder)
    assert code == 1 and lines == [
        f"{folder}/monitoring.yaml:5:45: durable_rules evaluates an 'or' that reads another "
        "signal's fields wrongly; write a rule for each side"]
    alone = _with_rule(tmp_path / "alone", "      - {as: b, signal: order_placed, when: "
                                           '"amount < 10 or amount > 100"}\n')
    assert _validate(alone)[0] == 0
