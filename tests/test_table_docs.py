"""The decision-table examples of docs/ruleset-language.md run: every ```yaml block of the
"Decision tables" section that is a derived.yaml (starts with ``derived:``) is compiled
into a ruleset and decided for the customers the page names, with the results it states."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.paths import ROOT
from tests.ruleset_factory import compile_ruleset, run, trace_entry

PAGE = (ROOT / "docs" / "ruleset-language.md").read_text(encoding="utf-8")
SECTION = PAGE[PAGE.index("## Decision tables"):PAGE.index("## `admission.yaml`")]
BLOCKS = [block for block in re.findall(r"```yaml\n(.*?)```", SECTION, re.S)
          if block.startswith("derived:")]

# What the page says each example gives: (name read, customer, value).
STATED = {
    "term_options": [("term_options", {"operating.employees": 300}, [60, 30]),
                     ("term_options", {"operating.employees": 5}, [30, 14])],
    "terms": [("terms.days", {"operating.employees": 300}, 60),
              ("early_payment_window", {"operating.employees": 300}, 0.6),
              ("terms.label", {"operating.employees": 10}, "standard"),
              ("early_payment_window", {"operating.employees": 10}, 0.9)],
    "segment": [
        ("segment.label", {"operating.employees": 120, "industry.sector": "retail"},
         "retail/large"),
        ("segment.seats", {"operating.employees": 120, "industry.sector": "retail"}, 2),
        ("segment.label", {"operating.employees": 10, "industry.sector": "retail"}, "small"),
        ("segment.seats", {"operating.employees": 10}, 1)],
    "sector_points": [("sector_points", {"industry.sector": "retail"}, 20),
                      ("sector_points", {"industry.sector": "mining"}, 10),
                      ("sector_points", {"industry.sector": "banking"}, None)],
    "warning_points": [
        ("warning_points", {"credit_history.overdue_count_12m": 2}, 10),
        ("warning_points", {"credit_history.overdue_count_12m": 4}, 35),
        ("warning_points", {"credit_history.overdue_count_12m": 0}, 0),
        ("warning_points", {"credit_history.overdue_count_12m": None}, 0)],
}


def example(name: str) -> dict:
    found = [yaml.safe_load(block) for block in BLOCKS
             if name in (yaml.safe_load(block)["derived"] or {})]
    assert len(found) == 1, name
    return found[0]


def test_every_example_is_checked():
    named = {n for block in BLOCKS for n in yaml.safe_load(block)["derived"]}
    assert named - {"early_payment_window"} == set(STATED)


@pytest.mark.parametrize("name", sorted(STATED))
def test_the_example_gives_what_the_page_says(tmp_path, name):
    derived = example(name)
    for index, (read, given, value) in enumerate(STATED[name]):
        spec = {"derived": {**derived["derived"], "probe": read}}
        rs = compile_ruleset(tmp_path / str(index), derived=spec)
        assert trace_entry(run(rs, given), "probe")["result"] == value, (read, given)


def test_the_input_values_example_is_complete_for_lint_only_with_its_list(tmp_path):
    from engine.quality.lint import lint_ruleset
    from tests.ruleset_factory import build_ruleset

    derived = example("sector_points")
    use = {"checks": [{"id": "USE", "when": "sector_points > 10", "outcome": "refer",
                       "reason": "USE"}]}
    gaps = []
    for name, keep in (("with", True), ("without", False)):
        if not keep:
            del derived["derived"]["sector_points"]["table"]["inputs"][0]["values"]
        folder = build_ruleset(tmp_path / name, derived=derived, admission=use)
        gaps.append([f.message for f in lint_ruleset(folder) if f.code == "table-gap"])
    assert gaps == [[], ["table sector_points: no rule matches when sector is any other "
                         "value (the table has no default, so its outputs are missing)"]]
