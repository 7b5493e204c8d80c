"""Small rulesets for tests, written into a folder from Python dicts or YAML text.

``build_ruleset(folder)`` writes a minimal valid ruleset (manifest, facts, admission,
grading, policy, approval); every stage can be replaced by a dict (written as YAML) or by
YAML text (written as it stands), and the manifest can be patched. Helpers build the
pieces tests change most: decision tables, policy tables, grading specs, customers.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from engine.decide.pipeline import decide
from engine.errors import DecisionError
from engine.ruleset.compiler import CompiledRuleset
from engine.ruleset.loader import load_ruleset

AS_OF = dt.date(2026, 6, 30)
STAGE_ORDER = ("facts", "derived", "admission", "grading", "policy", "approval")

MANIFEST = {
    "name": "test",
    "version": "1.0.0",
    "owner": "Tests",
    "currency": "EUR",
    "rounding": {"places": 2, "mode": "half_up"},
    "grades": ["A", "B", "C"],
}

FACTS = {
    "facts": {
        "founded": {"type": "date"},
        "financials.revenue": {"type": "money"},
        "financials.equity": {"type": "money"},
        "operating.market_share": {"type": "number"},
        "operating.employees": {"type": "integer"},
        "industry.sector": {"type": "string"},
        "industry.risk_class": {"type": "string"},
        "credit_history.overdue_count_12m": {"type": "integer"},
        "credit_history.max_days_overdue_12m": {"type": "integer"},
        "flags.sanctions_hit": {"type": "boolean"},
        "flags.parent_guarantee": {"type": "boolean"},
    }
}

ADMISSION = {
    "checks": [
        {"id": "KO_SANCTIONS", "when": "flags.sanctions_hit", "outcome": "reject",
         "reason": "SANCTIONS_HIT"},
    ]
}

GRADING = {
    "scorecard": {
        "base_points": 0,
        "reason_count": 3,
        "characteristics": [
            {"id": "share", "input": "operating.market_share", "reason": "SMALL_SHARE",
             "bins": [
                 {"missing": True, "points": 0},
                 {"range": "(..0.5)", "points": 10},
                 {"range": "[0.5..)", "points": 20},
             ]},
        ],
    },
    "bands": [
        {"grade": "A", "score": "[20..)"},
        {"grade": "B", "score": "[10..20)"},
        {"grade": "C", "score": "(..10)"},
    ],
}

POLICY_OUTPUTS = [
    {"name": "credit_limit", "type": "money"},
    {"name": "payment_term_days", "type": "integer"},
    {"name": "discount_rate", "type": "number"},
    {"name": "discount_days", "type": "integer"},
    {"name": "guarantee_required", "type": "boolean"},
    {"name": "review_interval_days", "type": "integer"},
]

POLICY_THEN = {"credit_limit": 1000, "payment_term_days": 30, "discount_rate": 0,
               "discount_days": 0, "guarantee_required": False, "review_interval_days": 365}

POLICY = {
    "table": {
        "id": "policy_table",
        "hit_policy": "first",
        "inputs": [{"name": "grade"}],
        "outputs": POLICY_OUTPUTS,
        "rules": [{"id": "P_ALL", "then": POLICY_THEN}],
    }
}

APPROVAL = {
    "levels": ["automatic", "manager"],
    "table": {
        "id": "approval_table",
        "hit_policy": "first",
        "inputs": [{"name": "admission_outcome"}],
        "outputs": [{"name": "required_level", "type": "string"}],
        "rules": [{"id": "A_ALL", "then": {"required_level": "automatic"}}],
    },
}

BASE = {"facts": FACTS, "admission": ADMISSION, "grading": GRADING, "policy": POLICY,
        "approval": APPROVAL}

Content = Mapping | str | None


def dump(data: object) -> str:
    """YAML text for ``data``, keys in the order given."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def build_ruleset(folder: str | Path, *, manifest: Mapping | None = None,
                  facts: Content = None, derived: Content = None, admission: Content = None,
                  grading: Content = None, policy: Content = None, approval: Content = None,
                  omit: tuple[str, ...] = (), extra_files: Mapping[str, str] | None = None,
                  schema_base: str | None = None) -> Path:
    """Write a ruleset into ``folder`` and return the folder.

    Each stage argument replaces that stage: a mapping is written as YAML, a text is
    written as it stands; None keeps the minimal default (``derived`` is left out unless
    given). ``manifest`` patches the manifest (top-level keys; a ``stages`` mapping replaces
    the computed one). ``omit`` names stage files to list in the manifest but not write.
    ``schema_base`` (e.g. ``../../../../schemas``) adds the yaml-language-server line.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    given = {"facts": facts, "derived": derived, "admission": admission, "grading": grading,
             "policy": policy, "approval": approval}
    contents: dict[str, Content] = {}
    for stage in STAGE_ORDER:
        if given[stage] is not None:
            contents[stage] = given[stage]
        elif stage in BASE:
            contents[stage] = BASE[stage]
    data = copy.deepcopy(MANIFEST)
    data["stages"] = {stage: f"{stage}.yaml" for stage in contents}
    data.update(copy.deepcopy(dict(manifest or {})))
    _write(folder / "ruleset.yaml", data, schema_base and f"{schema_base}/ruleset.schema.json")
    for stage, content in contents.items():
        if stage in omit:
            continue
        _write(folder / f"{stage}.yaml", content,
               schema_base and f"{schema_base}/{stage}.schema.json")
    for name, text in (extra_files or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _write(path: Path, content: Content, schema: str | None) -> None:
    text = content if isinstance(content, str) else dump(content)
    if schema and not isinstance(content, str):
        text = f"# yaml-language-server: $schema={schema}\n" + text
    path.write_text(text, encoding="utf-8")


def compile_ruleset(folder: str | Path, **stages) -> CompiledRuleset:
    """Build a ruleset into ``folder`` and load it."""
    return load_ruleset(build_ruleset(folder, **stages))


# --- pieces -------------------------------------------------------------------------------

# A table input the table tests share: the customer's head count, named n.
EMPLOYEES = {"name": "n", "expr": "operating.employees"}


def table(rules: list, *, inputs: list | None = None, outputs: list | None = None,
          hit_policy: str = "unique", table_id: str = "t", **extra) -> dict:
    """A decision table spec. ``inputs`` may be names or {name, expr} dicts."""
    spec = {"id": table_id, "hit_policy": hit_policy, **extra,
            "inputs": [i if isinstance(i, Mapping) else {"name": i} for i in inputs or []],
            "outputs": outputs or [{"name": "out", "type": "number"}],
            "rules": rules}
    if "default" in spec:  # keep the documented key order: rules, then default
        spec["default"] = spec.pop("default")
    return spec


def policy_table(rules: list, **kwargs) -> dict:
    """A policy stage whose table has the required outputs (plus ``extra_outputs``);
    each rule's ``then`` is completed with neutral values."""
    extra_outputs = kwargs.pop("extra_outputs", [])
    full_rules = [{**rule, "then": {**POLICY_THEN, **rule.get("then", {})}} for rule in rules]
    kwargs.setdefault("table_id", "policy_table")
    if "default" in kwargs:
        kwargs["default"] = {**POLICY_THEN, **kwargs["default"]}
    return {"table": table(full_rules, outputs=POLICY_OUTPUTS + extra_outputs, **kwargs)}


def grading_spec(characteristics: list, bands: list, *, base_points: float = 0,
                 reason_count: int = 3, adjustments: list | None = None) -> dict:
    spec: dict = {"scorecard": {"base_points": base_points, "reason_count": reason_count,
                                "characteristics": characteristics},
                  "bands": bands}
    if adjustments is not None:
        spec["adjustments"] = adjustments
    return spec


def customer(values: Mapping[str, object] | None = None, **dotted) -> dict:
    """A customer document from dotted paths: customer({"financials.revenue": 10})."""
    doc: dict = {"id": "C-1"}
    for path, value in {**(values or {}), **dotted}.items():
        target = doc
        *parents, last = path.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return doc


def run(ruleset: CompiledRuleset, values: Mapping[str, object] | None = None,
        as_of: dt.date = AS_OF):
    """Decide a customer given by dotted paths, and check that the stages compiled as one
    function (``through_grading``) decide it as the stages one by one do, or fail with
    the same error."""
    doc = customer(values)
    one_by_one = dataclasses.replace(ruleset, through_grading=None)
    try:
        decision = decide(ruleset, doc, as_of)
    except DecisionError as exc:
        with pytest.raises(DecisionError) as plain:
            decide(one_by_one, doc, as_of)
        assert str(plain.value) == str(exc)
        raise
    assert _outcome(decision) == _outcome(decide(one_by_one, doc, as_of))
    return decision


def _outcome(decision) -> str:
    return repr([decision.severity, decision.admission_reasons, decision.score,
                 decision.band_grade, decision.grade, decision.adjustments,
                 decision.grading_reasons, decision.policy, decision.required_level,
                 decision.trace, decision.overrides])


def trace_entries(decision, stage: str | None = None) -> list[dict]:
    """The decision's trace as JSON-ready dicts, optionally of one stage."""
    entries = decision.to_dict()["trace"]
    return [e for e in entries if stage is None or e["stage"] == stage]


def trace_entry(decision, entry_id: str) -> dict:
    """The one trace entry with id ``entry_id``."""
    found = [e for e in trace_entries(decision) if e["id"] == entry_id]
    assert len(found) == 1, (entry_id, [e["id"] for e in trace_entries(decision)])
    return found[0]
