"""The fast customer-document (and event, and ruleset stage file) check must never accept
what jsonschema rejects, and must accept the documents jsonschema accepts (else every
decision pays jsonschema's price)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import ProblemsError
from engine.language.fast_schema import compile_checker
from engine.language.schema_check import _store, load_schema
from engine.language.yaml_source import load_yaml_file
from engine.ruleset.source import STAGE_SCHEMAS
from tests.paths import ROOT
from tests.sample_customers import paths, strong_customer

EXAMPLES = [json.loads(p.read_text()) for p in sorted((ROOT / "examples" / "customers")
                                                       .glob("*.json"))]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**16, 10**16)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
    | st.sampled_from(["2026-02-30", "2026-01-01", "DE", "de", "low", "C-1", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "x", "revenue", "code", "risk_class"]), inner, max_size=3),
    max_leaves=6)




def mutate(doc, path, value, new_key):
    doc = copy.deepcopy(doc)
    if not path:
        return value
    target = doc
    for key in path[:-1]:
        target = target[key]
    if new_key and isinstance(target.get(path[-1]), dict):
        target[path[-1]][new_key] = value
    else:
        target[path[-1]] = value
    return doc


def test_the_checker_accepts_the_valid_documents():
    checker = compile_checker(load_schema("customer.schema.json"))
    for doc in [strong_customer(), *EXAMPLES]:
        assert checker(doc), doc.get("id")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_checker_agrees_with_jsonschema(data):
    schema = load_schema("customer.schema.json")
    checker = compile_checker(schema)
    validator = _store().validator("customer.schema.json")
    base = data.draw(st.sampled_from([strong_customer(), *EXAMPLES]))
    path = data.draw(st.sampled_from(list(paths(base))))
    doc = mutate(base, path, data.draw(json_values),
                 data.draw(st.none() | st.sampled_from(["extra", "growth", "phone"])))
    valid = validator.is_valid(doc)
    assert checker(doc) == valid, (path, doc)


def _sample() -> list[dict]:
    """Every 40th example event, and the first of each type (the dunning blocks, set by
    hand, and the cases' example have their own files)."""
    events = [json.loads(line) for name in ("events.jsonl", "dunning-blocks.jsonl",
                                            "case-events.jsonl")
              for line in (ROOT / "examples" / name).read_text().splitlines()]
    first = {}
    for event in events:
        first.setdefault(event["type"], event)
    return events[::40] + [e for e in first.values() if e not in events[::40]]


EVENTS = _sample()
EVENT_TYPES = json.loads((ROOT / "schemas" / "event.schema.json").read_text())[
    "properties"]["type"]["enum"]


def test_the_event_checker_accepts_the_example_events():
    checker = compile_checker(load_schema("event.schema.json"))
    assert all(checker(event) for event in EVENTS)
    assert {e["type"] for e in EVENTS} == set(EVENT_TYPES)  # every kind of event


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_event_checker_agrees_with_jsonschema(data):
    checker = compile_checker(load_schema("event.schema.json"))
    validator = _store().validator("event.schema.json")
    base = data.draw(st.sampled_from(EVENTS))
    key = data.draw(st.sampled_from([*base, "type", "amount", "due_date", "extra"]))
    value = data.draw(json_values | st.sampled_from(
        ["invoice_issued", "payment_received", "promise_to_pay", "contact_made",
         "bureau_alert", "phone", "downgrade", 0, 0.0, -1, 1e15, 1e16]))
    event = {**base, key: value}
    if data.draw(st.booleans()):
        event.pop(data.draw(st.sampled_from(list(event))))
    assert checker(event) == validator.is_valid(event), event


def test_both_checks_read_patterns_and_dates_the_same_way():
    """ECMA-262 patterns ('$' is the end of the text) and checked date formats, in the
    Rust check and in jsonschema alike."""
    from engine.language.schema_check import json_problems

    checker = compile_checker(load_schema("customer.schema.json"))
    for document, valid in [({"id": "C-1"}, True), ({"id": "C-1\n"}, False),
                            ({"id": "C-1", "founded": "2026-02-30"}, False),
                            ({"id": "C-1", "founded": "2026-02-28"}, True),
                            ({"id": "C-1", "attributes": {"n": 10 ** 39}}, True)]:
        assert checker(document) is valid, document
        assert (json_problems(document, "customer.schema.json") == []) is valid, document


def _stage_files() -> list[tuple[Path, str]]:
    """Every stage file of the shipped rulesets and the test rulesets (broken ones too),
    with the schema its ruleset.yaml checks it against."""
    found = []
    for manifest in sorted([*(ROOT / "rulesets").glob("*/ruleset.yaml"),
                            *(ROOT / "tests" / "rulesets").rglob("ruleset.yaml")]):
        try:
            stages = yaml.safe_load(manifest.read_text(encoding="utf-8")).get("stages") or {}
        except (yaml.YAMLError, AttributeError):
            continue
        found.append((manifest, "ruleset.schema.json"))
        for stage, name in stages.items():
            path = manifest.parent / str(name)
            if stage in STAGE_SCHEMAS and path.is_file():
                found.append((path, STAGE_SCHEMAS[stage]))
    return found


@pytest.mark.parametrize(("path", "schema"), _stage_files(),
                         ids=lambda value: str(value).rsplit("rulesets/", 1)[-1])
def test_the_stage_checker_agrees_with_jsonschema(path, schema):
    """Stage files are answered by the compiled check when valid (their messages come from
    jsonschema): both must agree on every ruleset the tests hold, broken ones included."""
    try:
        doc = load_yaml_file(path)
    except ProblemsError:
        pytest.skip("not YAML the loader takes")
    store = _store()
    assert store.fast_valid(doc.data, schema) == store.validator(schema).is_valid(doc.data)
