"""The generated ``extract`` skips its helpers for a missing value and for a value of the
plain class its type expects (engine.ruleset.compiler._extract_source). These tests hold it
to what calling the helpers on every value gives: the same values of the same classes, and
for a bad value the same error, raised for the same fact when several are bad."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine.errors import DecisionError
from engine.language import temporal
from engine.language.runtime import money
from engine.ruleset.compiler import _date, _temporal, _typed
from tests.ruleset_factory import FACTS, compile_ruleset

AS_OF = dt.date(2026, 6, 30)
# One attribute of every type a free-form fact may have, and the typed document fields.
DECLARED = {
    "attributes.amount": "money", "attributes.count": "integer", "attributes.label": "string",
    "attributes.flag": "boolean", "attributes.ratio": "number", "attributes.since": "date",
    "attributes.tags": "list", "attributes.window": "duration",
    "financials.revenue": "money", "financials.period_end": "date", "founded": "date",
    "operating.market_share": "number",
}


class Text(str):
    pass


class Whole(int):
    pass


VALUES = [None, 0, 1, -7, 10 ** 30, Whole(5), True, False, 0.0, -0.0, 2.5, 0.1 + 0.2,
          1e300, -1.7976931348623157e308, 5e-324, 2.675, float("inf"), float("-inf"),
          float("nan"), Decimal("1234.567890123456789012345678901234567890"),
          Decimal("-0.00"), Decimal("NaN"), "", "x", "2024-02-29", "20240229", "2023-02-29",
          Text("2024-02-29"), dt.date(2024, 2, 29), "P30D", [], ["a", 1], {}]


def reference(doc: dict) -> dict:
    """extract as the helpers define it: every value through ``_typed`` (attributes), then
    ``_money`` (a non-int amount), ``_date`` or ``_temporal`` (which checks a time or a
    duration itself); an amount attribute checked first, then the rest in name order."""
    def raw(name):
        node = doc
        for part in name.split(".")[:-1]:
            node = node.get(part)
            if node.__class__ is not dict:
                node = {}
        return node.get(name.split(".")[-1])

    names = sorted(DECLARED)
    values = {name: raw(name) for name in names}
    for name in names:
        if name.startswith("attributes.") and DECLARED[name] == "money":
            values[name] = _typed(values[name], "money", name)
    result = {"as_of": AS_OF}
    for name in names:
        value, typ = values[name], DECLARED[name]
        if name.startswith("attributes.") and typ not in ("money", *temporal.TEMPORAL - {"date"}):
            value = _typed(value, typ, name)  # (_temporal checks a time or duration itself)
        if typ == "money":
            value = value if value.__class__ is int else money(value)
        elif typ == "date":
            value = _date(value)
        elif typ in temporal.TEMPORAL:
            value = _temporal(value, typ, name)
        result[name] = value
    return result


def outcome(function, doc: dict):
    """What ``function(doc)`` gives: its values with their classes, or its error."""
    try:
        values = function(doc)
    except (DecisionError, ValueError, TypeError, ArithmeticError) as exc:
        return ("error", type(exc).__name__, str(exc))
    return {name: (type(value).__name__, repr(value)) for name, value in values.items()}


@pytest.fixture(scope="module")
def ruleset(tmp_path_factory):
    facts = {"facts": {**FACTS["facts"], **{name: {"type": typ}
                                            for name, typ in DECLARED.items()}}}
    return compile_ruleset(tmp_path_factory.mktemp("extract"), facts=facts)


def document(name: str, value: object) -> dict:
    doc: dict = {"financials": {"revenue": 1000}, "attributes": {}}
    node = doc
    for part in name.split(".")[:-1]:
        node = node.setdefault(part, {})
    node[name.split(".")[-1]] = value
    return doc


def extracted(ruleset, doc):
    values = ruleset.extract(doc, AS_OF)
    return {name: values[name] for name in ("as_of", *sorted(DECLARED))}


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_every_value_of_every_type_is_extracted_as_the_helpers_give_it(ruleset, name):
    for value in VALUES:
        doc = document(name, value)
        assert outcome(lambda d: extracted(ruleset, d), doc) == outcome(reference, doc), value


def test_a_missing_fact_and_a_missing_parent_are_none(ruleset):
    for doc in ({}, {"attributes": None, "financials": 5}, {"attributes": {"amount": None}}):
        assert outcome(lambda d: extracted(ruleset, d), doc) == outcome(reference, doc)
    assert all(value is None for name, value in extracted(ruleset, {}).items()
               if name != "as_of")


def test_with_several_bad_values_the_same_fact_fails_first(ruleset):
    bad = {"amount": "x", "count": 1.5, "label": 5, "since": "2023-02-29", "window": 3}
    for left in bad:
        for right in bad:
            doc = {"attributes": {left: bad[left], right: bad[right]},
                   "founded": "not a date", "financials": {"revenue": "x"}}
            assert outcome(lambda d: extracted(ruleset, d), doc) == outcome(reference, doc)


def test_an_amount_with_many_digits_stays_exact(ruleset):
    many = Decimal("1234.567890123456789012345678901234567890")
    values = extracted(ruleset, document("financials.revenue", many))
    assert values["financials.revenue"] is many
    values = extracted(ruleset, document("financials.revenue", 0.1 + 0.2))
    assert values["financials.revenue"] == Decimal("0.30000000000000004")
