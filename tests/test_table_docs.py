"""The decision-table examples of docs/ruleset-language.md run: every ```yaml block of the
"Decision tables" section that is a derived.yaml (starts with ``derived:``) is compiled
into a ruleset and decided for the customers the page names, with the results it states:
in the prose (``STATED`` below), or in the table of results right under the block (its
first column the facts given, each other column a name read, or a hit policy or an
aggregation to decide the block's one table under); and every row of the "Input cells by
example" table is decided for each value it says the cell matches, or does not."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from engine.errors import DecisionError
from engine.language.tables import HIT_POLICIES
from tests.paths import ROOT
from tests.ruleset_factory import FACTS, compile_ruleset, run, trace_entries, trace_entry

PAGE = (ROOT / "docs" / "ruleset-language.md").read_text(encoding="utf-8")
SECTION = PAGE[PAGE.index("## Decision tables"):PAGE.index("## `admission.yaml`")]
BLOCKS = [block for block in re.findall(r"```yaml\n(.*?)```", SECTION, re.S)
          if block.startswith("derived:")]
# (block, its table of results) where a table follows the block.
WITH_RESULTS = re.findall(r"```yaml\n(derived:(?:(?!```).)*)```\n((?:\|[^\n]*\n)+)", SECTION,
                          re.S)
AGGREGATIONS = ("sum", "min", "max", "count")
ERROR = object()  # a cell saying "error": the decision fails

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
    tabled = {n for block, _ in WITH_RESULTS for n in yaml.safe_load(block)["derived"]}
    named = {n for block in BLOCKS for n in yaml.safe_load(block)["derived"]}
    assert named - {"early_payment_window"} - tabled == set(STATED)
    assert not tabled & set(STATED)
    assert len(WITH_RESULTS) >= 3


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def quoted(cell: str) -> list[str]:
    """The `...` items of a table cell."""
    return re.findall(r"`([^`]*)`", cell)


def results(table: str):
    """(facts given, column headers, [(values given, [expected per column])])."""
    header, _, *rows = table.strip().split("\n")
    heads = cells(header)
    given = quoted(heads[0])
    columns = [quoted(head)[0] for head in heads[1:]]
    found = []
    for row in rows:
        parts = cells(row)
        values = [yaml.safe_load(v) for v in quoted(parts[0])]
        assert len(values) == len(given), row
        expected = [ERROR if part == "error" else yaml.safe_load(quoted(part)[0])
                    for part in parts[1:]]
        assert len(expected) == len(columns), row
        found.append((dict(zip(given, values, strict=True)), expected))
    return given, columns, found


def variant(derived: dict, column: str) -> tuple[dict, str]:
    """The block's one table under the hit policy or aggregation ``column`` (and the name
    it is read by), or the block as it is, reading the name ``column``."""
    derived = copy.deepcopy(derived)
    if column not in HIT_POLICIES and column not in AGGREGATIONS:
        return derived, column
    (name, entry), = derived["derived"].items()
    spec = entry["table"]
    spec.pop("aggregation", None)
    spec["hit_policy"] = column if column in HIT_POLICIES else "collect"
    if column in AGGREGATIONS:
        spec["aggregation"] = column
    return derived, name


@pytest.mark.parametrize("index", range(len(WITH_RESULTS)))
def test_a_table_of_results_is_what_the_example_gives(tmp_path, index):
    block, table = WITH_RESULTS[index]
    _, columns, rows = results(table)
    for number, column in enumerate(columns):
        derived, read = variant(yaml.safe_load(block), column)
        derived["derived"]["probe"] = read
        rs = compile_ruleset(tmp_path / str(number), derived=derived)
        for given, expected in rows:
            if expected[number] is ERROR:
                with pytest.raises(DecisionError):
                    run(rs, given)
            else:
                assert trace_entry(run(rs, given), "probe")["result"] == expected[number], \
                    (column, given)


CATALOGUE = SECTION.split("### Input cells by example", 1)[1].split("\n### ", 1)[0]
CELL_ROWS = [cells(line) for line in CATALOGUE.splitlines()
             if line.startswith("| ") and not line.startswith(("| type", "| ---"))]


def test_the_cell_catalogue_has_a_row_for_every_type():
    from engine.language.temporal import TEMPORAL

    assert {row[0] for row in CELL_ROWS} == {"string", "number", "integer", "money",
                                             "boolean"} | TEMPORAL


@pytest.mark.parametrize("row", CELL_ROWS, ids=[f"{r[0]} {r[1]}" for r in CELL_ROWS])
def test_a_cell_matches_what_the_page_says_it_matches(tmp_path, row):
    typ, cell, matching, other = row
    (cell,) = quoted(cell)
    facts = copy.deepcopy(FACTS)
    facts["facts"].update({"attributes.x": {"type": typ}, "attributes.y": {"type": typ}})
    derived = {"derived": {"cell": {"table": {
        "hit_policy": "first", "inputs": [{"name": "x", "expr": "attributes.x"}],
        "outputs": [{"name": "cell", "type": "boolean"}],
        "rules": [{"id": "CELL", "when": {"x": cell}, "then": {"cell": True}}]}}}}
    rs = compile_ruleset(tmp_path, facts=facts, derived=derived)
    cases = [(v, True) for v in quoted(matching)] + [(v, False) for v in quoted(other)]
    assert cases
    for text, matches in cases:
        value = yaml.safe_load(text)
        given = {f"attributes.{k}": v for k, v in value.items()} if isinstance(value, dict) \
            else {"attributes.x": value}
        fired = [e["id"] for e in trace_entries(run(rs, given), "derived")]
        assert fired == (["cell/CELL"] if matches else ["cell/no_match"]), (text, fired)


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


def test_the_output_order_example_under_priority_gives_what_the_page_says(tmp_path):
    derived, name = variant(example("term_options"), "priority")
    derived["derived"]["probe"] = name
    rs = compile_ruleset(tmp_path, derived=derived)
    assert [trace_entry(run(rs, {"operating.employees": staff}), "probe")["result"]
            for staff in (300, 5)] == [60, 30]


def test_a_multi_hit_table_gathers_its_default_as_its_one_match(tmp_path):
    """The default outputs example, without its aggregation: the list is [default], and
    the trace records TABLE/default."""
    for policy, expected in (("collect", [0]), ("rule_order", [0]), ("sum", 0)):
        derived, name = variant(example("warning_points"), policy)
        derived["derived"]["probe"] = name
        rs = compile_ruleset(tmp_path / policy, derived=derived)
        decision = run(rs, {"credit_history.overdue_count_12m": 0})
        assert trace_entry(decision, "probe")["result"] == expected, policy
        assert [e["id"] for e in trace_entries(decision, "derived")
                if e["id"].startswith("warning_points")] == ["warning_points/default"]


@pytest.mark.parametrize("typ", ["date", "time", "datetime", "duration",
                                 "years_months_duration"])
def test_a_table_output_of_a_temporal_type_is_refused_where_the_type_is(tmp_path, typ):
    """As "Output cells" says: a table reads dates, times and durations, never gives one."""
    from tests.credit_cli import invoke_credit
    from tests.ruleset_factory import build_ruleset

    derived = {"derived": {"due": {"table": {
        "hit_policy": "first", "inputs": [], "outputs": [{"name": "due", "type": typ}],
        "rules": [{"id": "R", "then": {"due": "2026-01-01"}}]}}}}
    result = invoke_credit("validate", build_ruleset(tmp_path, derived=derived))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{tmp_path}/derived.yaml:8:15: /derived/due/table/outputs/0/type: must be one of "
        f"'number', 'integer', 'money', 'string', 'boolean'; got '{typ}'"]
