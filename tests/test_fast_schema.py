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


def _bounded_fields(schema: dict, prefix: tuple = ()) -> list[tuple[tuple, float | int]]:
    """(path, bound) of every minimum and maximum of a customer document's fields."""
    found = []
    for name, node in schema.get("properties", {}).items():
        for keyword in ("minimum", "maximum"):
            if keyword in node:
                found.append(((*prefix, name), node[keyword]))
        found.extend(_bounded_fields(node, (*prefix, name)))
    return found


BOUNDED = _bounded_fields(load_schema("customer.schema.json"))


def _around(bound: float | int) -> list[float | int]:
    """A bound as a float and as an integer, and the nearest numbers either side."""
    import math

    return [float(bound), int(bound), int(bound) - 1, int(bound) + 1,
            math.nextafter(float(bound), math.inf), math.nextafter(float(bound), -math.inf)]


@pytest.mark.parametrize(("path", "bound"), BOUNDED, ids=lambda v: ".".join(map(str, v))
                         if isinstance(v, tuple) else repr(v))
def test_a_number_on_or_beside_a_bound_is_judged_as_jsonschema_judges_it(path, bound):
    """The Rust check is given whole float bounds as integers (faster, the same numbers):
    on each bound, as a float and as an integer, and either side of it, both agree."""
    checker = compile_checker(load_schema("customer.schema.json"))
    validator = _store().validator("customer.schema.json")
    assert BOUNDED and any(isinstance(b, float) for _, b in BOUNDED)
    for value in _around(bound):
        doc = strong_customer(**{".".join(path): value})
        assert checker(doc) == validator.is_valid(doc), (path, value)


@pytest.mark.parametrize("keyword", ["minimum", "maximum", "exclusiveMinimum",
                                     "exclusiveMaximum"])
@pytest.mark.parametrize("bound", [0.0, -1.0, 1e15, -1e15, 2.0 ** 53, 2.0 ** 53 + 2, 1e300,
                                   0.5, 7])
def test_every_kind_of_bound_is_judged_as_jsonschema_judges_it(keyword, bound):
    from jsonschema import Draft202012Validator

    from engine.language.fast_schema import whole_limits

    # a property named like a keyword is a schema, not a bound
    schema = {"properties": {"n": {"type": "number", keyword: bound},
                             keyword: {"type": "integer", keyword: bound}}}
    exact = isinstance(bound, float) and bound.is_integer() and abs(bound) <= 2 ** 53
    written = whole_limits(schema)["properties"]
    assert type(written["n"][keyword]) is (int if exact else type(bound))
    assert written[keyword] == schema["properties"][keyword]
    checker = compile_checker(schema)
    validator = Draft202012Validator(schema)
    values = _around(bound) if abs(bound) < 1e300 else [bound, 1e299, -1e300, 10 ** 300]
    for value in values:
        for doc in ({"n": value}, {keyword: value}, {"n": value, keyword: 3}):
            assert checker(doc) == validator.is_valid(doc), (schema, doc)


def test_values_in_a_schema_are_not_rewritten():
    from engine.language.fast_schema import whole_limits

    schema = {"enum": [{"maximum": 1.0}], "const": {"minimum": 2.0},
              "default": {"maximum": 3.0}, "examples": [{"maximum": 4.0}],
              "properties": {"x": {"maximum": 5.0, "enum": [{"maximum": 6.0}]}}}
    written = whole_limits(schema)
    assert written == schema
    assert type(written["properties"]["x"]["maximum"]) is int
    assert type(written["enum"][0]["maximum"]) is float
    assert type(written["properties"]["x"]["enum"][0]["maximum"]) is float
