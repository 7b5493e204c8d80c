"""A compiled ruleset's ``through_grading`` (extract to grading in one function,
engine/ruleset/through_grading.py) gives what its stage functions give called one by one:
the same trace, admission, grading and values for the later stages, and where it raises,
decide() raises the error the stages raise, named by the same rule."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from engine.audit.decision_texts import record_texts
from engine.canonical import compact_json
from engine.decide import pipeline
from engine.decide.pipeline import decide
from engine.errors import DecisionError
from engine.language.codegen import FunctionBuilder
from engine.language.expressions import CodeContext
from engine.ruleset.loader import load_ruleset
from engine.ruleset.through_grading import through_grading_source
from tests.paths import ROOT as PROJECT_ROOT

AS_OF = dt.date(2026, 11, 30)
EXAMPLES = sorted((PROJECT_ROOT / "examples" / "customers").glob("*.json"))
AMOUNTS = [("requested_amount",), ("exposure", "current"), ("exposure", "overdue"),
           ("financials", "equity"), ("financials", "revenue"),
           ("financials", "current_liabilities"), ("financials", "inventory"),
           ("credit_history", "overdue_amount"), ("attributes", "monthly_purchases"),
           ("attributes", "guarantee_amount"), ("credit_history", "ageing_current")]
ODD = [None, 0, -0.0, 1, -1, 10 ** 30, 10 ** 39, Decimal("0"), Decimal("-0.00"),
       Decimal("12345.675"), Decimal("NaN"), 0.005, 2.675, 1e300, 5e-324, float("inf"),
       float("nan"), True, "12", "Ünïcödé"]


def typed(value):
    """``value`` with the class of every part, as the audit would tell them apart."""
    if isinstance(value, dict):
        return {"dict": [(typed(k), typed(v)) for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [type(value).__name__, *map(typed, value)]
    return (type(value).__name__, repr(value))


def one_by_one(ruleset, facts):
    """What the stage functions give called one by one, as decide() always called them."""
    trace: list = []
    v = ruleset.extract(facts, AS_OF)
    ruleset.derive(v, trace.append)
    severity, reasons = ruleset.admission(v, trace.append)
    graded = ruleset.grading(v, trace.append)
    return v, severity, reasons, graded, trace


def put(doc: dict, path: tuple, value) -> dict:
    doc = copy.deepcopy(doc)
    node = doc
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return doc


def documents() -> list[dict]:
    """The example customers, and each changed where the stages meet edge cases."""
    base = [json.loads(Path(p).read_text(encoding="utf-8")) for p in EXAMPLES]
    docs = list(base)
    for doc in base[:4]:
        docs += [put(doc, path, value) for path in AMOUNTS for value in ODD]
        for top in ("founded", "financials", "credit_history", "flags", "exposure",
                    "industry", "operating", "attributes"):
            docs.append(put(doc, (top,), None))
            docs.append(put(doc, (top,), "not an object"))
        for assets, liabilities in ((8, 10), (1, 1), (15, 10), (25, 10), (4, 10), (0, 5),
                                    (5, 0)):  # ratios on the bins' edges, and 0 below
            docs.append(put(put(doc, ("financials", "current_assets"), assets * 10 ** 5),
                            ("financials", "current_liabilities"), liabilities * 10 ** 5))
        for grade in ("AA", "A", "BBB", "Ünï", 5):
            docs.append(put(put(put(doc, ("attributes", "guarantor_grade"), grade),
                                ("attributes", "guarantee_amount"), 10 ** 7),
                            ("flags", "parent_guarantee"), True))
        docs += [put(doc, ("founded",), "2024-02-30"), put(doc, ("founded",), 20240101),
                 put(doc, ("segment",), "key_account"),
                 put(doc, ("attributes", "payment_defaults_12m"), "x"),
                 put(doc, ("credit_history", "months_known"), 3),
                 {**doc, "enrichment_failures": [{"source": "industry",
                                                  "kind": "indicators", "error": "x"}]}]
    return docs


@pytest.fixture(scope="module", params=["default", "challenger-example"])
def ruleset(request):
    compiled = load_ruleset(PROJECT_ROOT / "rulesets" / request.param)
    assert compiled.through_grading is not None
    return compiled


def test_through_grading_gives_what_the_stages_give_one_by_one(ruleset):
    joined_runs = 0
    for doc in documents():
        try:
            plain = one_by_one(ruleset, doc)
        except Exception as exc:  # the joined function raises it too
            with pytest.raises(type(exc)):
                ruleset.through_grading(doc, AS_OF, [].append)
            continue
        trace: list = []
        v, (severity, reasons), graded = ruleset.through_grading(doc, AS_OF, trace.append)
        assert typed([severity, reasons, graded, trace]) == typed(list(plain[1:])), doc
        assert typed(v) == typed({name: plain[0][name] for name in v})
        joined_runs += 1
    assert joined_runs > 200


def test_decisions_and_errors_are_those_of_the_stages_one_by_one(ruleset):
    stages = dataclasses.replace(ruleset, through_grading=None)
    for doc in documents():
        results = []
        for compiled in (ruleset, stages):
            try:
                decision = decide(compiled, doc, AS_OF)
            except DecisionError as exc:
                results.append(("error", str(exc)))
                continue
            results.append((typed([decision.severity, decision.admission_reasons,
                                   decision.score, decision.grade, decision.adjustments,
                                   decision.grading_reasons, decision.policy,
                                   decision.required_level, decision.trace]),
                            record_texts(decision, b"salt", plugins=None, enriched=None,
                                         challenger=None),
                            compact_json(decision.to_dict())))
        assert results[0] == results[1], doc


def test_an_error_is_named_by_its_rule_as_before(ruleset):
    doc = json.loads(EXAMPLES[0].read_text(encoding="utf-8"))
    with pytest.raises(DecisionError, match=r"^extract: .*day is out of range"):
        decide(ruleset, put(doc, ("founded",), "2024-02-30"), AS_OF)
    with pytest.raises(DecisionError, match=r"^attributes.payment_defaults_12m: "):
        decide(ruleset, put(doc, ("attributes", "payment_defaults_12m"), "x"), AS_OF)
    negative_nan = put(put(doc, ("financials", "equity"), Decimal("NaN")),
                       ("credit_history", "max_days_overdue_12m"), 100)
    with pytest.raises(DecisionError, match=r"^admission KO_NEGATIVE_EQUITY: arithmetic"):
        decide(ruleset, negative_nan, AS_OF)


def test_a_failing_joined_function_leaves_no_trace_behind(ruleset, monkeypatch):
    """The stages one by one decide after through_grading raised half way."""
    doc = json.loads(EXAMPLES[0].read_text(encoding="utf-8"))
    expected = decide(ruleset, doc, AS_OF)

    def halfway(facts, as_of, trace):
        trace("an entry the failed attempt made")
        raise ValueError("no")

    broken = dataclasses.replace(ruleset, through_grading=halfway)
    assert typed(decide(broken, doc, AS_OF).trace) == typed(expected.trace)
    assert pipeline.decide(broken, doc, AS_OF).grade == expected.grade


def builder(*lines: str) -> FunctionBuilder:
    fb = FunctionBuilder("stage(v, trace)", CodeContext())
    for line in lines:
        fb.line(line)
    return fb


EXTRACT = (["    m_x = doc.get('x')"], [("as_of", "as_of"), ("x", "m_x")])


def test_stage_bodies_are_joined_only_when_it_is_safe():
    derive = builder("v_y = v_x + 1")
    derive.store("y")
    fine = through_grading_source(EXTRACT, [("derive", derive), (
        "admission", builder("severity = v_y", "return severity, []"))], ["x", "y"])
    namespace: dict = {}
    exec(fine, namespace)  # the source just written
    assert namespace["through_grading"]({"x": 1}, None, None) == ({"x": 1, "y": 2}, (2, []))
    for unsafe in (builder("v_x = 2"),  # assigns a fact's local the later stages read
                   builder("y = v['x']"),  # reads the values dict itself
                   builder("if v_x: return 1", "return 2"),  # returns before its end
                   builder("y = v_unknown")):  # a fact nothing before it sets
        assert through_grading_source(EXTRACT, [("derive", unsafe)], ["x"]) is None
    assert through_grading_source(EXTRACT, [("derive", builder("y = 1"))], ["z"]) is None
