"""Every decision document the engine writes matches schemas/decision.schema.json: each
example customer's decision (credit decide --json), every line of the example portfolio's
results, with and without --trace; and money is never negative zero."""

from __future__ import annotations

import json

import pytest

from engine.language.runtime import money, round_money
from engine.language.schema_check import json_problems
from tests.paths import ROOT

CUSTOMERS = sorted((ROOT / "examples" / "customers").glob("*.json"))
AS_OF = "2026-11-30"


@pytest.mark.parametrize("path", CUSTOMERS, ids=lambda p: p.stem)
def test_each_example_customers_decision_matches_the_schema(path, credit):
    result = credit("decide", path, "--json", "--no-audit", "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    assert json_problems(json.loads(result.stdout), "decision.schema.json") == []


@pytest.fixture(scope="module")
def results(tmp_path_factory, credit) -> dict[str, list[dict]]:
    folder = tmp_path_factory.mktemp("results")
    found = {}
    for name, extra in (("summary", []), ("trace", ["--trace"])):
        out = folder / f"{name}.jsonl"
        done = credit("batch", ROOT / "examples" / "portfolio.csv", "--out", out,
                      "--as-of", AS_OF, "--no-audit", *extra)
        assert done.exit_code == 0, done.stderr
        found[name] = [json.loads(line) for line in out.read_text().splitlines()]
    return found


@pytest.mark.parametrize("kind", ["summary", "trace"])
def test_every_line_of_the_example_portfolios_results_matches_the_schema(results, kind):
    lines = results[kind]
    assert len(lines) == 1000
    assert any(line["policy"] and line["policy"]["credit_limit"] is None for line in lines)
    problems = {(n, *p) for n, line in enumerate(lines, 1)
                for p in json_problems(line, "decision.schema.json")}
    assert problems == set()
    assert all(("trace" in line) is (kind == "trace") for line in lines)


def test_negative_zero_revenue_gives_a_limit_of_zero(tmp_path, credit):
    path = tmp_path / "zero.json"
    path.write_text('{"id": "Z-1", "name": "Zero Revenue Ltd", '
                    '"financials": {"revenue": -0.0}}')
    result = credit("decide", path, "--json", "--no-audit", "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["policy"]["credit_limit"] == "0.00"
    assert '"-0' not in result.stdout


@pytest.mark.parametrize("value", [-0.0, -0.001, -0.004])
def test_rounding_to_zero_is_never_negative(value):
    from decimal import ROUND_HALF_UP, Decimal

    rounded = round_money(value, (Decimal("0.01"), ROUND_HALF_UP))
    assert format(rounded, "f") == "0.00"
    assert str(money(-0.0)) == "0.0"
