"""Tests of engine.language.schema_check, against small throwaway schemas in a temp dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import CreditRulesError, Location
from engine.language import schema_check
from engine.language.schema_check import SchemaError, SchemaStore, pointer_text
from engine.language.yaml_source import load_yaml_text
from tests.paths import ROOT

BASE = "https://credit-rules.example/schemas/"

TABLE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": BASE + "table.schema.json",
    "$defs": {
        "table": {
            "type": "object",
            "required": ["rows"],
            "additionalProperties": False,
            "properties": {
                "hit": {"enum": ["unique", "first"]},
                "rows": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}

RULES = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": BASE + "rules.schema.json",
    "type": "object",
    "required": ["name", "stages"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "effective": {"type": "string", "format": "date"},
        "stages": {
            "type": "object",
            "properties": {"policy": {"$ref": "table.schema.json#/$defs/table"}},
        },
        "limit": {
            "oneOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": "^[0-9]+k$"},
            ]
        },
        "action": {
            "oneOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "required": ["kind"],
                    "properties": {"kind": {"type": "string"}},
                },
            ]
        },
        "either": {
            "oneOf": [
                {"type": "object", "required": ["a"]},
                {"type": "object", "required": ["b"]},
            ]
        },
        "grades": {"type": "array", "items": {"enum": ["AAA", "AA", "A"]}},
        "notes": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}

# No $id: refers to the table schema by its file name.
CUSTOMER = {
    "type": "object",
    "required": ["customer_id"],
    "properties": {
        "customer_id": {"type": "string"},
        "opened": {"type": "string", "format": "date"},
        "a/b": {"type": "integer"},
        "table": {"$ref": "table.schema.json#/$defs/table"},
        "orders": {"type": "array", "items": {"type": "object", "required": ["amount"]}},
    },
}


def write(directory: Path, name: str, schema: object) -> None:
    text = schema if isinstance(schema, str) else json.dumps(schema, indent=2)
    (directory / name).write_text(text, encoding="utf-8")


@pytest.fixture
def schema_dir(tmp_path: Path) -> Path:
    write(tmp_path, "table.schema.json", TABLE)
    write(tmp_path, "rules.schema.json", RULES)
    write(tmp_path, "customer.schema.json", CUSTOMER)
    return tmp_path


@pytest.fixture
def store(schema_dir: Path) -> SchemaStore:
    return SchemaStore(schema_dir)


def messages(store: SchemaStore, text: str) -> list[str]:
    doc = load_yaml_text(text, "r.yaml")
    return [str(p) for p in store.schema_problems(doc, "rules.schema.json")]


GOOD = """\
name: default
effective: 2026-01-01
stages:
  policy:
    hit: unique
    rows: [{grade: AAA}]
limit: 10k
action: {kind: hold}
grades: [AAA, A]
"""


def test_valid_document_has_no_problems(store: SchemaStore) -> None:
    assert messages(store, GOOD) == []


def test_problems_are_located_and_sorted(store: SchemaStore) -> None:
    text = """\
name: 3
effective: 2026-13-01
colour: red
stages:
  policy:
    hit: any
    extra: 1
limit: -5
action: {foo: 1}
grades: [AAA, B]
"""
    assert messages(store, text) == [
        "r.yaml:1:7: /name: expected text, got the number 3",
        "r.yaml:2:12: /effective: '2026-13-01' is not a valid date (expected YYYY-MM-DD)",
        "r.yaml:3:1: /colour: unexpected property 'colour' (allowed: name, effective, stages, "
        "limit, action, either, grades, notes)",
        "r.yaml:6:5: /stages/policy/rows: required property is missing",
        "r.yaml:6:10: /stages/policy/hit: must be one of 'unique', 'first'; got 'any'",
        "r.yaml:7:5: /stages/policy/extra: unexpected property 'extra' (allowed: hit, rows)",
        "r.yaml:8:8: /limit: -5 is less than the minimum of 0",
        "r.yaml:9:9: /action/kind: required property is missing",
        "r.yaml:10:15: /grades/1: must be one of 'AAA', 'AA', 'A'; got 'B'",
    ]


def test_missing_required_at_root_is_located_at_the_root(store: SchemaStore) -> None:
    assert messages(store, "# nothing but\nname: x\n") == [
        "r.yaml:2:1: /stages: required property is missing"
    ]


def test_empty_document(store: SchemaStore) -> None:
    assert messages(store, "") == ["r.yaml:1:1: (root): expected a mapping, got null"]


def test_additional_property_located_at_its_key(store: SchemaStore) -> None:
    doc = load_yaml_text("name: x\nstages: {}\nextra:\n  deep: [1, 2]\n", "r.yaml")
    [problem] = store.schema_problems(doc, "rules.schema.json")
    assert problem.location == Location("r.yaml", 3, 1)
    assert problem.message.startswith("/extra: unexpected property 'extra'")


def test_additional_properties_schema_errors_point_inside(store: SchemaStore) -> None:
    assert messages(store, "name: x\nstages: {}\nnotes:\n  a: ok\n  b: 2\n") == [
        "r.yaml:5:6: /notes/b: expected text, got the number 2"
    ]


def test_one_of_all_type_mismatches_are_combined(store: SchemaStore) -> None:
    assert messages(store, "name: x\nstages: {}\naction: [1]\n") == [
        "r.yaml:3:9: /action: expected text or a mapping, got a list"
    ]


def test_one_of_prefers_the_branch_of_the_right_type(store: SchemaStore) -> None:
    assert messages(store, "name: x\nstages: {}\nlimit: lots\n") == [
        "r.yaml:3:8: /limit: 'lots' does not match '^[0-9]+k$'"
    ]


def test_one_of_with_equally_good_branches(store: SchemaStore) -> None:
    [message] = messages(store, "name: x\nstages: {}\neither: {}\n")
    assert message.startswith("r.yaml:3:9: /either: matches none of the allowed forms (")
    assert "'a' is a required property" in message
    assert "'b' is a required property" in message


def test_huge_instances_are_never_dumped(store: SchemaStore) -> None:
    huge = "x" * 5000
    found = messages(store, f"name: x\nstages: {{}}\ngrades: [{huge}]\nlimit: {huge}\n")
    assert len(found) == 2
    assert all(len(message) < 400 for message in found)


def test_json_problems_name_every_field(store: SchemaStore) -> None:
    data = {
        "opened": "2026-02-30",
        "a/b": 1.5,
        "orders": [{"amount": 1}, {}, {}],
        "table": {"rows": "x", "hit": "first", "note": "?"},
    }
    assert store.json_problems(data, "customer.schema.json", "c.json") == [
        ("/a~1b", "expected a whole number, got the number 1.5"),
        ("/customer_id", "required property is missing"),
        ("/opened", "'2026-02-30' is not a valid date (expected YYYY-MM-DD)"),
        ("/orders/1/amount", "required property is missing"),
        ("/orders/2/amount", "required property is missing"),
        ("/table/note", "unexpected property 'note' (allowed: hit, rows)"),
        ("/table/rows", "expected a list, got the text 'x'"),
    ]


def test_json_problems_sort_list_indexes_numerically(store: SchemaStore) -> None:
    data = {"customer_id": "c", "orders": [{}] * 11}
    pointers = [p for p, _ in store.json_problems(data, "customer.schema.json", "c.json")]
    assert pointers == [f"/orders/{i}/amount" for i in range(11)]


def test_json_problems_root(store: SchemaStore) -> None:
    assert store.json_problems([1], "customer.schema.json", "c.json") == [
        ("(root)", "expected a mapping, got a list")
    ]


def test_pointer_text() -> None:
    assert pointer_text([]) == "(root)"
    assert pointer_text(["stages", "policy", 0]) == "/stages/policy/0"
    assert pointer_text(["a/b", "m~n"]) == "/a~1b/m~0n"


def test_load_schema_by_name_and_id(store: SchemaStore) -> None:
    assert store.load_schema("rules.schema.json")["$id"] == BASE + "rules.schema.json"
    assert store.load_schema(BASE + "table.schema.json") is store.load_schema("table.schema.json")


def test_validators_are_cached(store: SchemaStore) -> None:
    assert store.validator("rules.schema.json") is store.validator("rules.schema.json")


def test_module_functions_use_schema_dir(schema_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema_check, "SCHEMA_DIR", schema_dir)
    assert schema_check.load_schema("customer.schema.json") == CUSTOMER
    doc = load_yaml_text("name: x\n", "r.yaml")
    assert [str(p) for p in schema_check.schema_problems(doc, "rules.schema.json")] == [
        "r.yaml:1:1: /stages: required property is missing"
    ]
    assert schema_check.json_problems({}, "customer.schema.json", "c.json") == [
        ("/customer_id", "required property is missing")
    ]


def test_default_schema_dir_is_the_repo_schemas_folder() -> None:
    assert ROOT / "schemas" == schema_check.SCHEMA_DIR


# --- broken schemas are a clear CreditRulesError ---------------------------------------------


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="schema directory not found"):
        SchemaStore(tmp_path / "nope").load_schema("x.schema.json")


def test_missing_schema(store: SchemaStore) -> None:
    with pytest.raises(CreditRulesError, match=r"schema 'nope\.schema\.json' not found"):
        store.json_problems({}, "nope.schema.json", "c.json")


def test_invalid_json_schema_file(tmp_path: Path) -> None:
    write(tmp_path, "bad.schema.json", '{"type": "object",\n  oops}')
    with pytest.raises(SchemaError, match=r"bad\.schema\.json:2:3: invalid JSON"):
        SchemaStore(tmp_path).load_schema("bad.schema.json")


def test_schema_that_is_not_a_valid_schema(tmp_path: Path) -> None:
    write(tmp_path, "bad.schema.json", {"type": "objekt"})
    with pytest.raises(SchemaError, match="not a valid JSON Schema at /type"):
        SchemaStore(tmp_path).load_schema("bad.schema.json")


def test_duplicate_id(tmp_path: Path) -> None:
    write(tmp_path, "a.schema.json", {"$id": BASE + "same.schema.json"})
    write(tmp_path, "b.schema.json", {"$id": BASE + "same.schema.json"})
    with pytest.raises(SchemaError, match="already used"):
        SchemaStore(tmp_path).load_schema("a.schema.json")


def test_unresolvable_ref(tmp_path: Path) -> None:
    write(tmp_path, "a.schema.json", {"$id": BASE + "a.schema.json", "$ref": "gone.schema.json"})
    with pytest.raises(SchemaError, match="cannot resolve"):
        SchemaStore(tmp_path).json_problems({}, "a.schema.json", "c.json")


def test_every_shipped_schema_is_a_valid_draft_2020_12_schema():
    """The engine does not check its own schemas at start (they are checked here)."""
    from engine.language.schema_check import SCHEMA_DIR, SchemaStore

    store = SchemaStore(SCHEMA_DIR, check_metaschema=True)
    names = sorted(path.name for path in SCHEMA_DIR.glob("*.schema.json"))
    assert len(names) >= 16
    for name in names:
        assert store.load_schema(name)["$schema"].endswith("2020-12/schema")
