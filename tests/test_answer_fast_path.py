"""The service writes a decision's answer straight to JSON (engine.serve.answers:
``decision_json``, the trace by ``trace_json`` from its entries, the summary and the
record's number around it as orjson fragments). Whatever the decision, it must give the
bytes the plain way gives, ``json_response(decision_answer(..., to_dict()))``, byte for
byte, or decline (None) so that the plain way writes it. Checked on decisions with and
without a challenger, with missing values, a refusal, text that is not ASCII, tiny floats
and amounts, and on made-up traces holding every kind of value a rule may produce."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from engine.canonical import Exact
from engine.decide.trace_json import trace_json
from engine.serve.answers import decision_answer, decision_answer_json, decision_json
from engine.serve.app import json_response
from engine.service import decide_facts
from tests.sample_customers import strong_customer

AS_OF = dt.date(2026, 11, 30)
SALT = b"answer fast path"
ENRICHED = {"indicators.industry.risk_class": {"value": "élevé ✓", "plugin": "industry"}}
PLUGINS = [{"name": "industry", "version": "0.1.0"}]


CUSTOMERS = {
    "strong": strong_customer(),
    "missing values": strong_customer(**{"credit_history": None, "financials.equity": None,
                                         "payment.average_days_late": None}),
    "non-ascii, quotes, control characters": strong_customer(**{
        "id": "C-Ø-東京\u2028", "name": "Société \"Générale\" \\ 東京\n\t\x01 😀",
        "operating.market_share": 1e-05, "industry.growth": -2.5e-07}),
    "refused": strong_customer(**{"flags.sanctions_hit": True}),
    "loss-making": strong_customer(**{"financials.equity": -5000000,
                                      "financials.net_income": -900000}),
    "amounts with many digits": strong_customer(**{
        "financials.revenue": 123456789012345.678, "financials.equity": 0.01}),
}


def plain_answer(decided, record) -> bytes:
    return json_response(decision_answer(42, "ab" * 32, "cd" * 32,
                                         decided.to_dict(written=record))).body


def fast_answer(decided, record) -> bytes | None:
    written = decision_json(decided, record)
    return None if written is None else decision_answer_json(42, "ab" * 32, "cd" * 32,
                                                             written)


@pytest.mark.parametrize("which", ["plain", "challenged"])
@pytest.mark.parametrize("name", sorted(CUSTOMERS))
def test_the_answer_is_the_plain_one_byte_for_byte(rulesets, which, name):
    decided = decide_facts(rulesets[which], CUSTOMERS[name], AS_OF, enriched=ENRICHED,
                           plugins=PLUGINS)
    assert (decided.challenger is not None) == (which == "challenged")
    record, _ = decided.record(SALT)
    fast = fast_answer(decided, record)
    assert fast is not None
    assert fast == plain_answer(decided, record)


def test_the_customers_reach_what_they_are_named_for(rulesets):
    found = {name: decide_facts(rulesets["plain"], doc, AS_OF).to_dict()
             for name, doc in CUSTOMERS.items()}
    assert any("missing" in entry for entry in found["missing values"]["trace"])
    assert found["refused"]["policy"] is None
    assert "東京" in found["non-ascii, quotes, control characters"]["customer_id"]


def made_up(rulesets, values: tuple, result: object):
    """A decided customer whose trace has one more entry, reading ``values`` under made-up
    names (one of them not ASCII) and giving ``result``."""
    decided = decide_facts(rulesets["challenged"], strong_customer(), AS_OF)
    names = tuple(f"made_up.valeur_{index}_é" for index in range(len(values)))
    entry = ((999, "derived", "règle \"x\"", names), values, result)
    decision = dataclasses.replace(decided.decision, trace=[*decided.decision.trace, entry])
    return dataclasses.replace(decided, decision=decision)


WRITTEN_THE_SAME = {
    "amounts": ((Decimal("1E+3"), Decimal("-0.00"), Decimal("1E-7"), Decimal("12.50")),
                Decimal("123456789012345678901234567890.5")),
    "exact numbers": ((Exact("12.5"), Exact("1E+400"), Exact("-0.000001")), Exact("3")),
    "dates and times": ((dt.date(1, 1, 1), dt.datetime(2026, 11, 30, 23, 59, 59, 1,
                                                        tzinfo=dt.UTC),
                         dt.time(7, 5, 0, 250)), dt.date(9999, 12, 31)),
    "floats": ((float("nan"), float("inf"), -0.0, 1e-05, 1.5e-07, 1e16, 0.1 + 0.2),
               float("-inf")),
    "whole numbers and truth": ((2 ** 63 - 1, -(2 ** 63), True, False, 0), 2 ** 64 - 1),
    "missing": ((None, None), None),
    "text": (("", "é\"\\\n\x00\x1f\u2028 😀", "東京"), "ok"),
    "nested": (((1, Decimal("2.5")), [dt.date(2026, 1, 1), None]),
               {"limit": Decimal("100.00"), "grade": "A", "inner": {"x": (Exact("1.5"),)}}),
    "nothing read": ((), {"flag": True}),
}


@pytest.mark.parametrize("case", sorted(WRITTEN_THE_SAME))
def test_every_kind_of_value_is_written_as_the_plain_way_writes_it(rulesets, case):
    values, result = WRITTEN_THE_SAME[case]
    decided = made_up(rulesets, values, result)
    record = SimpleNamespace(decision_id="d-" + "0" * 32)
    fast = fast_answer(decided, record)
    assert fast is not None
    assert fast == plain_answer(decided, record)


LEFT_TO_THE_PLAIN_WAY = {
    "an integer beyond 64 bits": ((10 ** 30,), None),
    "a set of amounts (sorted after converting)": (({Decimal("10"), Decimal("9")},), None),
    "a key that is not text": ((), {1: "one"}),
    "a value of a type neither knows": ((object(),), None),
    "a frozen set": ((frozenset({"b", "a"}),), None),
    "a dataclass": ((dataclasses.make_dataclass("D", ["day"])(dt.date(2026, 1, 1)),), None),
    "a lone surrogate": (("\ud800",), None),
}


@pytest.mark.parametrize("case", sorted(LEFT_TO_THE_PLAIN_WAY))
def test_what_only_the_plain_way_writes_is_declined(rulesets, case):
    values, result = LEFT_TO_THE_PLAIN_WAY[case]
    decided = made_up(rulesets, values, result)
    assert decision_json(decided, SimpleNamespace(decision_id="d-" + "0" * 32)) is None
    with pytest.raises(TypeError):
        trace_json(decided.decision.trace)
