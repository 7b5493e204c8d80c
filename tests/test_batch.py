"""credit batch: streaming portfolios, bad rows, worker processes, flat memory."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audit_helpers import generate
from tests.credit_cli import invoke_credit
from tests.paths import ROOT
from tests.sample_customers import strong_customer


def batch(*args: str):
    """``credit batch ARGS --as-of 2026-11-30``."""
    return invoke_credit("batch", *args, "--as-of", "2026-11-30")


def test_csv_portfolio_is_decided_in_order(tmp_path):
    portfolio = generate(tmp_path / "p.csv", 50)
    out = tmp_path / "out.jsonl"
    result = batch(str(portfolio), "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["decided"] == 50 and summary["failed"] == 0
    assert sum(summary["by_grade"].values()) == 50
    assert sum(summary["by_outcome"].values()) == 50
    lines = out.read_text().splitlines()
    with portfolio.open() as handle:
        ids = [row["id"] for row in csv.DictReader(handle)]
    assert [json.loads(line)["customer_id"] for line in lines] == ids
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_total_limit_is_the_sum_of_accepted_limits(tmp_path):
    portfolio = generate(tmp_path / "p.csv", 40)
    out = tmp_path / "out.jsonl"
    summary = json.loads(batch(str(portfolio), "--out", str(out), "--json").stdout)
    from decimal import Decimal
    decisions = [json.loads(line) for line in out.read_text().splitlines()]
    accepted = sum((Decimal(d["policy"]["credit_limit"]) for d in decisions
                    if d["admission"]["outcome"] == "accept"), Decimal(0))
    assert Decimal(summary["limit_accepted"]) == accepted


def test_bad_rows_are_reported_with_their_number_and_skipped(tmp_path):
    portfolio = generate(tmp_path / "p.csv", 5)
    rows = portfolio.read_text().splitlines()
    header = rows[0].split(",")
    cells = rows[2].split(",")
    cells[header.index("financials.revenue")] = "lots"
    rows[2] = ",".join(cells)
    cells = rows[4].split(",")
    cells[header.index("country")] = "Germany"
    rows[4] = ",".join(cells)
    portfolio.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out.jsonl"
    result = batch(str(portfolio), "--out", str(out), "--json")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{portfolio}: row 2: /financials/revenue: 'lots' is not a number",
        f"{portfolio}: row 4: /country: 'Germany' does not match '^[A-Z]{{2}}$'",
    ]
    summary = json.loads(result.stdout)
    assert (summary["decided"], summary["failed"]) == (3, 2)
    assert len(out.read_text().splitlines()) == 3


def test_jsonl_portfolio_with_a_malformed_line(tmp_path):
    good = json.dumps(strong_customer())
    portfolio = tmp_path / "p.jsonl"
    portfolio.write_text(good + "\n{not json\n\n" + json.dumps(strong_customer(id="T-2"))
                         + "\n")
    out = tmp_path / "out.jsonl"
    result = batch(str(portfolio), "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{portfolio}:2:2: Expecting property name enclosed in double quotes"]
    assert [json.loads(x)["customer_id"] for x in out.read_text().splitlines()] == [
        "T-STRONG", "T-2"]
    assert "Decided 2 customers; 1 row failed" in result.stdout


def test_two_workers_write_the_same_bytes_as_one(tmp_path):
    portfolio = generate(tmp_path / "p.csv", 1200)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert batch(str(portfolio), "--out", str(one)).exit_code == 0
    assert batch(str(portfolio), "--out", str(two), "--workers", "2").exit_code == 0
    assert one.read_bytes() == two.read_bytes()


def test_unknown_column_fails_before_any_decision(tmp_path):
    portfolio = tmp_path / "p.csv"
    portfolio.write_text("id,finacials.revenue\nC-1,100\n")
    out = tmp_path / "out.jsonl"
    result = batch(str(portfolio), "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"{portfolio}:1: unknown column 'finacials.revenue' "
                                     "(did you mean 'financials.revenue'?)")
    assert not out.exists() and not (tmp_path / "out.jsonl.partial").exists()


@pytest.mark.parametrize("header", ["id,exposure,exposure.current",
                                    "id,exposure.current,exposure"])
def test_a_column_and_a_field_of_it_fail_before_any_decision(tmp_path, header):
    portfolio = tmp_path / "p.csv"
    portfolio.write_text(f"{header}\nC-1,5,3\n")
    result = batch(str(portfolio), "--out", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 1
    assert result.stderr == (f"{portfolio}:1: column 'exposure.current' is a field of column "
                             "'exposure': give one or the other\n")


def test_empty_portfolio_is_an_error(tmp_path):
    portfolio = tmp_path / "p.csv"
    portfolio.write_text("")
    result = batch(str(portfolio), "--out", str(tmp_path / "o.jsonl"), "--json")
    assert result.exit_code == 1
    assert result.stderr == f"{portfolio}: no rows: the portfolio has no customers\n"
    assert result.stdout == ""


@pytest.mark.parametrize("name", ["p.txt", "missing.csv"])
def test_unusable_portfolio_path(tmp_path, name):
    if name.endswith(".txt"):
        (tmp_path / name).write_text("x")
    result = batch(str(tmp_path / name), "--out", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1


PEAK_MEMORY = """
import datetime as dt, resource, sys
from engine.batch import run_batch
run_batch(sys.argv[1], sys.argv[2], "rulesets/default", dt.date(2026, 11, 30))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_kib(portfolio: Path, out: Path) -> int:
    done = subprocess.run([sys.executable, "-c", PEAK_MEMORY, str(portfolio), str(out)],
                          cwd=ROOT, check=True, capture_output=True, text=True)
    return int(done.stdout.strip())


@pytest.mark.slow
def test_memory_stays_flat_as_the_portfolio_grows(tmp_path):
    small = peak_kib(generate(tmp_path / "small.jsonl", 1500, "jsonl"), tmp_path / "s.out")
    large = peak_kib(generate(tmp_path / "large.jsonl", 15000, "jsonl"), tmp_path / "l.out")
    # Ten times the rows: holding them (or their ~5 KB decisions) would add > 50 MB.
    assert large - small < 15_000, (small, large)
