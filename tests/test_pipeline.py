"""The pure decision pipeline on the shipped ruleset: shape, determinism, outcomes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from engine.canonical import Exact, canonical_json, to_jsonable
from engine.decide.pipeline import decide
from engine.language.schema_check import json_problems
from engine.ruleset.loader import load_ruleset
from tests.paths import DEFAULT_RULESET
from tests.sample_customers import strong_customer

AS_OF = dt.date(2026, 11, 30)


def test_decision_matches_the_decision_schema(default_ruleset):
    for doc in (strong_customer(), strong_customer(**{"flags.sanctions_hit": True})):
        data = json.loads(canonical_json(decide(default_ruleset, doc, AS_OF).to_dict()))
        assert json_problems(data, "decision.schema.json") == []


def test_strong_customer_is_accepted_as_aaa_with_policy(default_ruleset):
    data = decide(default_ruleset, strong_customer(), AS_OF).to_dict()
    assert data["admission"] == {"outcome": "accept", "reasons": []}
    assert data["grading"]["grade"] == "AAA"
    # min(15% of the 5,000,000 net worth, the 50,000 asked + 20,000 owed it needs, 5,000,000)
    assert data["policy"]["credit_limit"] == "70000.00"
    assert data["policy"]["currency"] == "EUR"
    assert data["approval"]["required_level"] == "credit_analyst"  # (50,000..100,000]
    assert data["ruleset"]["hash"] == default_ruleset.hash and len(default_ruleset.hash) == 64


def test_same_inputs_give_the_same_bytes(default_ruleset):
    first = canonical_json(decide(default_ruleset, strong_customer(), AS_OF).to_dict())
    recompiled = load_ruleset(DEFAULT_RULESET)
    again = canonical_json(decide(recompiled, strong_customer(), AS_OF).to_dict())
    assert first == again


def test_exact_numbers_are_json_numbers_and_amounts_text():
    value = {"amount": Decimal("0.30"), "rate": Exact("0.02"), "sum": Decimal("0.1") +
             Exact("0.2"), "points": [Exact("1.0"), 3], "huge": Exact("1E+400")}
    assert canonical_json(value) == \
        '{"amount":"0.30","huge":null,"points":[1.0,3],"rate":0.02,"sum":"0.3"}'
    assert to_jsonable(value)["rate"] == 0.02  # a plain Decimal ("sum") is an amount


def test_the_discount_rate_a_ruleset_wrote_is_written_as_it_was(default_ruleset):
    decision = decide(default_ruleset, strong_customer(), AS_OF)
    assert decision.policy["discount_rate"] == Exact("0.02")
    text = canonical_json(decision.to_dict())
    assert '"discount":{"days":10,"rate":0.02}' in text
    assert '"discount_rate":0.02,' in text  # the policy table's trace entry


def test_decision_id_depends_on_facts_and_date(default_ruleset):
    base = decide(default_ruleset, strong_customer(), AS_OF).decision_id
    next_day = AS_OF + dt.timedelta(days=1)
    assert decide(default_ruleset, strong_customer(), next_day).decision_id != base
    assert decide(default_ruleset, strong_customer(requested_amount=1), AS_OF).decision_id != base


def test_sanctions_hit_rejects_and_gives_no_policy(default_ruleset):
    doc = strong_customer(**{"flags.sanctions_hit": True})
    data = decide(default_ruleset, doc, AS_OF).to_dict()
    assert data["admission"]["outcome"] == "reject"
    assert [r["code"] for r in data["admission"]["reasons"]] == ["SANCTIONS_HIT"]
    assert data["policy"] is None
    assert data["approval"]["required_level"] == "credit_analyst"


def test_exposure_above_limit_refers(default_ruleset):
    data = decide(default_ruleset, strong_customer(requested_amount=1790001), AS_OF).to_dict()
    assert data["admission"]["outcome"] == "refer"
    assert data["admission"]["reasons"][-1]["code"] == "EXPOSURE_ABOVE_LIMIT"
    assert data["policy"]["total_exposure"] == "1810001.00"


def test_exposure_exactly_at_limit_is_accepted(default_ruleset):
    # 730,000 asked + 20,000 owed = 750,000, exactly 15% of the 5,000,000 net worth
    data = decide(default_ruleset, strong_customer(requested_amount=730000), AS_OF).to_dict()
    assert data["policy"]["total_exposure"] == data["policy"]["credit_limit"]
    assert data["admission"]["outcome"] == "accept"


def test_missing_equity_leaves_the_limit_undetermined_and_refers(default_ruleset):
    data = decide(default_ruleset, strong_customer(**{"financials.equity": None}), AS_OF).to_dict()
    assert data["policy"]["credit_limit"] is None
    codes = [r["code"] for r in data["admission"]["reasons"]]
    assert "LIMIT_UNDETERMINED" in codes
    assert data["admission"]["outcome"] == "refer"


def test_trace_names_missing_values(default_ruleset):
    doc = strong_customer(**{"financials.current_liabilities": None})
    trace = decide(default_ruleset, doc, AS_OF).to_dict()["trace"]
    entry = next(e for e in trace if e["stage"] == "derived" and e["id"] == "current_ratio")
    assert entry["result"] is None
    assert entry["missing"] == ["financials.current_liabilities"]
    scored = next(e for e in trace if e["stage"] == "grading" and e["id"] == "current_ratio")
    assert scored["result"] == {"bin": "missing", "points": 20}


def test_division_by_zero_is_null_not_an_error(default_ruleset):
    doc = strong_customer(**{"financials.current_liabilities": 0})
    trace = decide(default_ruleset, doc, AS_OF).to_dict()["trace"]
    entry = next(e for e in trace if e["id"] == "current_ratio")
    assert entry["result"] is None and "missing" not in entry


def test_the_decision_does_not_change_its_input(default_ruleset):
    doc = strong_customer()
    before = canonical_json(doc)
    decide(default_ruleset, doc, AS_OF)
    assert canonical_json(doc) == before


def test_severe_arrears_cap_to_ccc(default_ruleset):
    doc = strong_customer(**{"credit_history.max_days_overdue_12m": 181})
    data = decide(default_ruleset, doc, AS_OF).to_dict()
    assert data["grading"]["grade"] == "CCC"
    assert data["grading"]["band_grade"] != "CCC"
    cap = next(c for c in data["grading"]["caps"] if c["id"] == "CAP_SEVERE_ARREARS")
    assert cap == {"id": "CAP_SEVERE_ARREARS", "kind": "cap", "grade": "CCC",
                   "reason": "SEVERE_ARREARS", "applied": True}
    assert data["policy"]["credit_limit"] == "0.00"


def test_arrears_of_exactly_180_days_are_not_capped(default_ruleset):
    doc = strong_customer(**{"credit_history.max_days_overdue_12m": 180})
    caps = decide(default_ruleset, doc, AS_OF).to_dict()["grading"]["caps"]
    assert all(c["id"] != "CAP_SEVERE_ARREARS" for c in caps)


def test_a_ruleset_rebuilt_from_its_stored_content_decides_the_same(default_ruleset):
    from engine.ruleset.compiler import compile_ruleset
    from engine.ruleset.source import source_from_content

    content = json.loads(canonical_json(default_ruleset.source.content))
    rebuilt = compile_ruleset(source_from_content(content, "stored"))
    assert rebuilt.hash == default_ruleset.hash
    doc = strong_customer()
    assert canonical_json(decide(rebuilt, doc, AS_OF).to_dict()) == \
        canonical_json(decide(default_ruleset, doc, AS_OF).to_dict())


def test_stored_content_with_a_path_outside_the_folder_is_refused(default_ruleset):
    from engine.errors import ProblemsError
    from engine.ruleset.source import source_from_content

    content = json.loads(canonical_json(default_ruleset.source.content))
    content["ruleset.yaml"]["stages"]["policy"] = "../policy.yaml"
    with pytest.raises(ProblemsError):
        source_from_content(content, "stored")
