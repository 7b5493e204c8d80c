"""A decision's audit record is built along a fast path (engine.audit.decision_records:
the facts written once for the id and the input, the summary's header values left out
without walking ELIDED, the trace without copies). Whatever the decision, it must give
the bytes the straightforward construction gives: the decision id, the results line, the
record's columns and the body text before compression, byte for byte. Checked on
decisions with and without a challenger, with redacted fields, with enriched values, with
text that is not ASCII and with floats small enough for Python to write an exponent."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace
from decimal import Decimal

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.audit.body_codec import ELIDED_TREE, elide, shipped_dictionary
from engine.audit.decision_records import (
    COLUMNS,
    _plain_body_text,
    decision_body_text,
    stored_head,
)
from engine.audit.decision_texts import record_texts, summary_line
from engine.audit.store import NewRecord
from engine.canonical import Exact, canonical_json, compact_json, sha256_hex, to_jsonable
from engine.decide.redaction import marked, redact, salted_digest
from engine.errors import DecisionError
from engine.service import Decided, decide_facts
from tests.sample_customers import strong_customer

AS_OF = dt.date(2025, 12, 31)
SALT = b"fast path"
PLUGINS = [{"name": "industry", "version": "0.1.0"}, {"name": "zürich-bureau", "version": "2"}]
ENRICHED = {"indicators.industry.growth": {"value": 1.5e-07, "plugin": "industry"},
            "indicators.industry.risk_class": {"value": "élevé ✓", "plugin": "industry"},
            "indicators.scores": {"value": [Decimal("12.50"), 2.5e-05, None], "plugin": "x"}}


CUSTOMERS = {
    "strong": strong_customer(),
    "redacted": strong_customer(**{"contact.name": "Zoë Ünal", "contact.email": "z@ex.de"}),
    "non-ascii and tiny floats": strong_customer(**{
        "id": "C-Ø-東京", "name": "Société Générale — 東京 \"quoted\" \\ back",
        "operating.market_share": 1e-05, "industry.growth": -2.5e-07,
        "credit_history.on_time_payment_ratio": 0.00001234}),
    "refused": strong_customer(**{"flags.sanctions_hit": True, "contact.phone": "+49 1"}),
    "loss-making": strong_customer(**{"financials.equity": -5000000,
                                      "financials.net_income": -900000}),
}


def straightforward(decided) -> tuple[str, dict, str, str]:
    """The decision id, record columns, body text and summary line, built the plain way:
    the whole body as data, ``body_codec.elide``, then canonical JSON."""
    decision = decided.decision
    ruleset = decision.ruleset
    as_of = decision.as_of.isoformat()
    decision_id = "d-" + sha256_hex(to_jsonable(
        {"as_of": as_of, "facts": redact(decision.facts, ruleset.redact, marked),
         "ruleset": ruleset.hash}))[:32]
    summary = decision.summary()
    body = {"as_of": as_of, "decision": summary, "enriched": decided.enriched,
            "input": redact(decision.facts, ruleset.redact, salted_digest(SALT)),
            "plugins": decided.plugins,
            "trace": [[slot[0], list(values), result]
                      for slot, values, result in decision.trace]}
    if decided.challenger is not None:
        body["challenger"] = decided.challenger
    policy = summary["policy"]
    columns = {"decision_id": decision_id, "customer_id": decision.facts.get("id", ""),
               "as_of": as_of, "ruleset_name": ruleset.name,
               "ruleset_version": ruleset.version, "ruleset_hash": ruleset.hash,
               "outcome": decision.outcome, "grade": decision.grade,
               "credit_limit": None if policy is None else policy["credit_limit"]}
    text = canonical_json(to_jsonable(elide(body, columns)))
    return decision_id, columns, text, canonical_json(to_jsonable(summary))


@pytest.mark.parametrize("which", ["plain", "challenged"])
@pytest.mark.parametrize("name", sorted(CUSTOMERS))
def test_the_record_is_the_straightforward_one_byte_for_byte(rulesets, which, name):
    decided = decide_facts(rulesets[which], CUSTOMERS[name], AS_OF, enriched=ENRICHED,
                           plugins=PLUGINS)
    assert (decided.challenger is not None) == (which == "challenged")
    decision_id, columns, text, line = straightforward(decided)

    assert decided.decision.decision_id == decision_id
    assert decision_body_text(decided.decision, SALT, plugins=PLUGINS, enriched=ENRICHED,
                              challenger=decided.challenger) == (columns, text, line)
    record, recorded_line = decided.record(SALT, batch_id="b-1", batch_row=7)
    assert recorded_line == line
    assert {key: getattr(record, key) for key in columns} == columns
    assert (record.batch_id, record.batch_row) == ("b-1", 7)
    dictionary = zstandard.ZstdCompressionDict(shipped_dictionary(1))
    assert zstandard.ZstdDecompressor(dict_data=dictionary).decompress(
        record.body[1:]).decode("utf-8") == text
    assert decided.results_line(None) == (None, line)
    assert decided.results_line(None, with_trace=True)[1] == \
        canonical_json(to_jsonable(decided.decision.to_dict()))


def test_the_cases_reach_what_they_are_named_for(rulesets):
    """Redaction, a refusal (no policy at all), the lowest grade and tiny floats are all
    met."""
    plain = rulesets["plain"]
    decide = {name: decide_facts(plain, doc, AS_OF) for name, doc in CUSTOMERS.items()}
    assert decide["redacted"].decision.redacting()
    assert not decide["strong"].decision.redacting()
    assert decide["refused"].decision.outcome == "reject"
    assert decide["refused"].decision.summary()["policy"] is None
    assert decide["loss-making"].decision.grade == "CCC"
    text = decision_body_text(decide["non-ascii and tiny floats"].decision, SALT,
                              enriched=ENRICHED)[1]
    assert "1e-05" in text and "1.5e-07" in text and "東京" in text


def summaries(rulesets) -> list[dict]:
    """Summaries of every shape a header may or may not match."""
    plain = rulesets["plain"]
    found = [decide_facts(plain, doc, AS_OF).decision.summary() for doc in CUSTOMERS.values()]
    first = found[0]
    nones = dict(first, customer_id=None, grading=dict(first["grading"], grade=None),
                 policy=dict(first["policy"], credit_limit=None),
                 ruleset=dict(first["ruleset"], version=None))
    without_policy = dict(first, policy=None)
    without_ruleset = {k: v for k, v in first.items() if k != "ruleset"}
    odd_ruleset = dict(first, ruleset={"name": "x", "hash": "h", "extra": 1})
    return [*found, nones, without_policy, without_ruleset, odd_ruleset]


def headers(summary: dict) -> list[dict]:
    """Columns equal to the summary's values, missing, None, or different from them."""
    policy = summary["policy"] or {}
    ruleset = summary.get("ruleset") or {}
    same = {"decision_id": summary["decision_id"], "customer_id": summary["customer_id"],
            "as_of": summary["as_of"], "outcome": summary["admission"]["outcome"],
            "grade": summary["grading"]["grade"], "credit_limit": policy.get("credit_limit"),
            "ruleset_name": ruleset.get("name"), "ruleset_version": ruleset.get("version"),
            "ruleset_hash": ruleset.get("hash")}
    found = [same, {}]
    for column in same:
        found.append({**same, column: None})
        found.append({**same, column: "something else"})
    found.append({key: None for key in same})
    return found


def test_leaving_out_the_header_values_agrees_with_elide(rulesets):
    """stored_head (the fast path, also what replay compares) against body_codec.elide on
    the whole head, for every summary shape and every header: equal, None, different."""
    assert set(ELIDED_TREE) == {"as_of", "decision"}
    challengers = [None, {"ruleset": {"name": "c"}, "share": 0.1, "decision": {"grade": "A"}}]
    for summary in summaries(rulesets):
        for columns in headers(summary):
            for as_of in (summary["as_of"], "2020-01-01"):
                for challenger in challengers:
                    head = {"as_of": as_of, "decision": summary}
                    if challenger is not None:
                        head["challenger"] = challenger
                    expected = compact_json(elide(head, columns))[:-1]
                    assert stored_head(as_of, summary, challenger, columns) == expected


@pytest.mark.parametrize("name", CUSTOMERS)
def test_the_answer_given_its_records_id_is_the_answer_that_derives_it(rulesets, name):
    decided = decide_facts(rulesets["challenged"], CUSTOMERS[name], AS_OF)
    record, _ = decided.record(SALT)
    assert decided.to_dict(written=record) == decided.to_dict()
    _, line = decided.results_line(SALT, with_trace=True)
    assert line == compact_json(decided.decision.to_dict())


# The texts are written from their parts (engine.audit.decision_texts) unless something
# needs the plain construction; either way the bytes are the straightforward ones. Each
# case says whether the fast way writes it, so that both ways stay covered.
PLAIN_ENRICHED = {"indicators.industry.growth": {"value": -0.02, "plugin": "industry"},
                  "indicators.industry.since": {"value": dt.date(2019, 5, 1), "plugin": "x"},
                  "indicators.industry.amount": {"value": Decimal("1E+3"), "plugin": "x"},
                  "indicators.industry.risk_class": {"value": "élevé ✓", "plugin": "x"}}
FAST_CASES = {  # name: (customer, enriched, plugins, written the fast way)
    "strong": (strong_customer(), PLAIN_ENRICHED, PLUGINS, True),
    "nothing enriched, no plugins": (strong_customer(), {}, [], True),
    "text that is not ASCII": (strong_customer(**{
        "id": "C-Ø-東京", "name": "Société \"Générale\" \\ 東京 \u2028 \x07 😀"}),
        PLAIN_ENRICHED, PLUGINS, True),
    "refused, no policy": (strong_customer(**{"flags.sanctions_hit": True}), PLAIN_ENRICHED,
                           PLUGINS, True),
    "lowest grade": (CUSTOMERS["loss-making"], PLAIN_ENRICHED, PLUGINS, True),
    "no id": (strong_customer(id=None), PLAIN_ENRICHED, PLUGINS, True),
    "a float exactly 1e-4, big floats with exponents": (strong_customer(**{
        "operating.market_share": 0.0001, "financials.revenue_prior": 1.5e16,
        "credit_history.on_time_payment_ratio": 1e-300 * 1e300}), {}, PLUGINS, True),
    "a float just below 1e-4": (strong_customer(**{"operating.market_share": 9.99e-05}),
                                {}, PLUGINS, False),
    "a text that looks like an exponent": (strong_customer(name="Type-1e-5 Ltd"), {},
                                           PLUGINS, False),
    "a whole number beyond 64 bits": (strong_customer(**{"financials.revenue": 2 ** 70}),
                                      {}, PLUGINS, False),
    "a number as id": (strong_customer(id=42), {}, PLUGINS, False),
    "redacted fields": (CUSTOMERS["redacted"], PLAIN_ENRICHED, PLUGINS, True),
    "a redacted field that is a tiny float (hashed, never written)": (
        strong_customer(**{"contact.phone": 1e-05}), {}, PLUGINS, True),
    "redacted fields and a tiny float": (strong_customer(**{
        "contact.phone": "1", "operating.market_share": 1e-05}), {}, PLUGINS, False),
    "redacted fields of every kind": (strong_customer(**{
        "contact.name": {"first": "Zoë", "n": [1.5, None]}, "contact.email": 2 ** 70,
        "contact.phone": ""}), {}, PLUGINS, True),
    "a set enriched": (strong_customer(), {"x": {"value": frozenset({2, 1}), "plugin": "x"}},
                       PLUGINS, False),
}


def assert_straightforward(decided, fast: bool) -> None:
    """The record, its body text and the results line of ``decided`` are the
    straightforward ones, written the fast way exactly when ``fast``."""
    decision = decided.decision
    parts = {"plugins": decided.plugins, "enriched": decided.enriched,
             "challenger": decided.challenger}
    assert (record_texts(decision, SALT, **parts) is not None) == fast
    _, columns, text, line = straightforward(decided)
    assert decision_body_text(decision, SALT, **parts) == (columns, text, line)
    record, recorded_line = decided.record(SALT, batch_id="b", batch_row=3)
    assert recorded_line == line
    assert {key: getattr(record, key) for key in columns} == columns
    assert (record.kind, record.batch_id, record.batch_row) == ("decision", "b", 3)
    assert record.body_sha256 == hashlib.sha256(record.body).hexdigest()
    dictionary = zstandard.ZstdCompressionDict(shipped_dictionary(1))
    assert zstandard.ZstdDecompressor(dict_data=dictionary).decompress(
        record.body[1:]).decode("utf-8") == text
    assert decided.results_line(None) == (None, line)
    assert summary_line(decision) in (None, line)


@pytest.mark.parametrize("which", ["plain", "challenged"])
@pytest.mark.parametrize("name", sorted(FAST_CASES))
def test_the_fast_way_writes_the_straightforward_bytes(rulesets, which, name):
    customer, enriched, plugins, fast = FAST_CASES[name]
    decided = decide_facts(rulesets[which], customer, AS_OF, enriched=enriched,
                           plugins=plugins)
    assert_straightforward(decided, fast)


# Decisions changed where the shipped ruleset never goes: each value of the summary the
# fast way writes itself, on and past its edges.
CHANGES = {  # name: (changes to the decision, written the fast way)
    "an exact score": ({"score": Exact("812.5")}, True),
    "an exact score Python writes with an exponent": ({"score": Exact("1.5E-7")}, True),
    "an exact score past a double": ({"score": Exact("1E+400")}, True),
    "a huge whole score": ({"score": 10 ** 40}, True),
    "a decimal score": ({"score": Decimal("812.5")}, False),
    "a score that is true": ({"score": True}, False),
    "no grade": ({"grade": None}, False),
    "caps, reasons and overrides": ({
        "adjustments": [{"id": "CAP_Ü", "kind": "cap", "grade": "BBB", "applied": True}],
        "grading_reasons": ["SMALL", "Ünicode"],
        "admission_reasons": [("C1", "Nachricht — ü \"x\"", "admission")],
        "overrides": [{"field": "grade", "value": "A", "accepted": False}]}, True),
    "a required level that is not ASCII": ({"required_level": "Geschäftsführung"}, True),
    "no credit limit": ("credit_limit", True),
    "policy values past the known ones": ("extra", True),
}


def changed(decision, change):
    """``decision`` with ``change`` (fields to replace, or a named change of its policy)."""
    if change == "credit_limit":
        return replace(decision, policy={**decision.policy, "credit_limit": None})
    if change == "extra":
        return replace(decision, policy={**decision.policy, "note": "ä", "since": AS_OF,
                                         "rate": Exact("0.125"), "cap": Decimal("5E+2")})
    return replace(decision, **change)


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_the_fast_way_writes_each_summary_value_as_the_plain_one(rulesets, name):
    change, fast = CHANGES[name]
    decided = decide_facts(rulesets["challenged"], strong_customer(), AS_OF,
                           enriched=PLAIN_ENRICHED, plugins=PLUGINS)
    decided = Decided(changed(decided.decision, change), decided.challenger,
                      decided.enriched, decided.plugins)
    assert_straightforward(decided, fast)


def test_a_results_line_alone_is_written_the_fast_way_where_the_facts_allow(rulesets):
    """Tiny floats in what plugins gave send the record the plain way, not the line."""
    decided = decide_facts(rulesets["plain"], strong_customer(), AS_OF, enriched=ENRICHED,
                           plugins=PLUGINS)
    parts = {"plugins": PLUGINS, "enriched": ENRICHED, "challenger": None}
    assert record_texts(decided.decision, SALT, **parts) is None
    assert summary_line(decided.decision) == straightforward(decided)[3]
    tiny = decide_facts(rulesets["plain"], strong_customer(**{"operating.market_share": 1e-05}),
                        AS_OF)
    assert summary_line(tiny.decision) is None
    assert tiny.results_line(None)[1] == straightforward(tiny)[3]


def test_a_lone_surrogate_is_the_decisions_error_as_before(rulesets):
    decided = decide_facts(rulesets["plain"], strong_customer(name="bad \ud800 text"), AS_OF)
    assert record_texts(decided.decision, SALT, plugins=[], enriched={},
                        challenger=None) is None
    with pytest.raises(DecisionError, match="its value cannot be written"):
        decided.record(SALT)
    with pytest.raises(DecisionError, match="its value cannot be written"):
        decided.results_line(None)


texts = st.text(max_size=8)
numbers = (st.integers() | st.integers(-(2 ** 80), 2 ** 80) | st.floats()
           | st.floats(min_value=-1e-3, max_value=1e-3)
           | st.decimals(allow_nan=False, allow_infinity=False)
           | st.builds(Exact, st.decimals(allow_nan=False, allow_infinity=False)))
values = st.recursive(st.none() | st.booleans() | texts | numbers | st.dates(),
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(texts, inner, max_size=3), max_leaves=8)
decision_changes = st.fixed_dictionaries({}, optional={
    "facts": st.builds(lambda name, id_, extra, contact: {
        **strong_customer(name=name, id=id_), "extra": extra, **contact},
        texts, texts | st.integers(), values,
        st.fixed_dictionaries({}, optional={"contact": st.dictionaries(
            st.sampled_from(["name", "email", "phone", "other"]), values, max_size=3)})),
    "score": numbers | st.booleans(),
    "grade": texts | st.none(),
    "band_grade": texts,
    "required_level": texts,
    "grading_reasons": st.lists(texts, max_size=3),
    "adjustments": st.lists(st.dictionaries(texts, values, max_size=3), max_size=2),
    "admission_reasons": st.lists(st.tuples(texts, texts, texts), max_size=2),
    "overrides": st.lists(values, max_size=2),
    "policy": st.none() | st.fixed_dictionaries({
        "credit_limit": st.none() | st.decimals(allow_nan=False, allow_infinity=False,
                                                places=2) | st.integers(),
        "payment_term_days": values, "discount_rate": values, "discount_days": values,
        "guarantee_required": values, "review_interval_days": values},
        optional={"total_exposure": values, "note": values}),
})


_STRONG: dict = {}


def _strong(rulesets, which):
    """The strong customer decided by ``rulesets[which]`` (once: hypothesis calls often)."""
    if which not in _STRONG:
        _STRONG[which] = decide_facts(rulesets[which], strong_customer(), AS_OF)
    return _STRONG[which]


def outcome(write):
    """What ``write()`` gives, or the class of what it raised."""
    try:
        return write()
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:
        return type(exc)


@settings(max_examples=200, deadline=None, database=None)
@given(changes=decision_changes, enriched=st.dictionaries(texts, st.fixed_dictionaries(
    {"value": values, "plugin": texts}), max_size=2),
    plugins=st.lists(st.fixed_dictionaries({"name": texts, "version": texts}), max_size=2),
    challenged=st.booleans())
def test_any_decision_gets_the_plain_ways_bytes(rulesets, changes, enriched, plugins,
                                                 challenged):
    """Whatever the summary's values, the facts and what plugins gave: the same texts as
    the plain way (or the same error)."""
    decided = _strong(rulesets, "challenged" if challenged else "plain")
    decision = replace(decided.decision, **changes)
    parts = {"plugins": plugins, "enriched": enriched, "challenger": decided.challenger}
    assert outcome(lambda: decision_body_text(decision, SALT, **parts)) == \
        outcome(lambda: _plain_body_text(decision, SALT, **parts))
    line = outcome(lambda: summary_line(decision))
    assert line is None or line == outcome(lambda: compact_json(decision.summary()))


def test_a_decision_record_is_made_with_its_fields_in_order():
    """decision_records makes a NewRecord as a plain tuple, in this order."""
    assert NewRecord._fields == ("kind", "body", *COLUMNS, "batch_id", "batch_row",
                                 "body_sha256")
