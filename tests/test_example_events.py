"""examples/events.jsonl: what generate_events.py makes; valid, sorted, coherent, ingestible."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from engine.language.schema_check import json_problems
from tests.paths import ROOT

GENERATOR = ROOT / "examples" / "generate_events.py"
SHIPPED = ROOT / "examples" / "events.jsonl"
SCHEMA = ROOT / "schemas" / "event.schema.json"
END = "2026-12-31"  # the generator's default last day
BLOCKS = ROOT / "examples" / "dunning-blocks.jsonl"
BLOCK_TYPES = {"dunning_block_set", "dunning_block_lifted"}


def generate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(GENERATOR), *args], check=True,
                          capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def events() -> list[dict]:
    with SHIPPED.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def of_type(events: list[dict], kind: str) -> list[dict]:
    return [event for event in events if event["type"] == kind]


def test_the_shipped_file_is_what_the_generator_makes(tmp_path):
    out = tmp_path / "events.jsonl"
    generate("--out", str(out))  # the defaults: seed 2026, 400 customers, 2026
    assert out.read_bytes() == SHIPPED.read_bytes()
    assert SHIPPED.stat().st_size < 10_000_000


def test_count_only_counts_what_would_be_written(tmp_path):
    out = tmp_path / "small.jsonl"
    generate("--customers", "15", "--seed", "7", "--out", str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    report = generate("--customers", "15", "--seed", "7", "--count-only", cwd=tmp_path).stdout
    assert report.splitlines()[0] == f"{len(lines)} events"
    assert list(tmp_path.iterdir()) == [out]  # nothing written


def test_every_line_is_a_valid_event(events):
    # credit events ingest (below) checks every line; this checks a spread of them directly.
    stride = max(1, len(events) // 3000)
    sample = events[::stride] + events[-1:]
    assert len(sample) >= 2000
    for event in sample:
        assert json_problems(event, "event.schema.json") == [], event


def test_ids_are_unique_and_the_file_is_sorted_by_date_then_id(events):
    ids = [event["id"] for event in events]
    assert ids == [f"EV-{n:07d}" for n in range(1, len(events) + 1)]
    keys = [(event["occurred_at"], event["id"]) for event in events]
    assert keys == sorted(keys)
    assert events[0]["occurred_at"] >= "2026-01-01"
    assert events[-1]["occurred_at"] <= END
    assert 2_000 <= len(events) <= 100_000


def test_every_event_type_is_present(events):
    """In the generated year, but for the dunning blocks a credit manager sets by hand
    (make demo ingests them from their own file) and the cases' newer kinds (disputes
    resolved, instalment plans, securities: in the small example the monitoring guide
    walks through)."""
    types = json.loads(SCHEMA.read_text(encoding="utf-8"))["properties"]["type"]["enum"]
    blocks = [json.loads(line) for line in BLOCKS.read_text(encoding="utf-8").splitlines()]
    cases = [json.loads(line) for line in
             (ROOT / "examples" / "case-events.jsonl").read_text().splitlines()]
    assert {event["type"] for event in [*events, *cases]} == set(types) - BLOCK_TYPES
    assert {event["type"] for event in blocks} == BLOCK_TYPES
    assert all(json_problems(event, "event.schema.json") == [] for event in blocks)
    customers = {event["customer_id"] for event in events}
    assert {event["customer_id"] for event in blocks} <= customers


def test_the_customers_are_the_first_of_the_example_portfolio(events):
    with (ROOT / "examples" / "portfolio.csv").open(encoding="utf-8") as handle:
        portfolio = [row["id"] for row in itertools.islice(csv.DictReader(handle), 400)]
    assert {event["customer_id"] for event in events} == set(portfolio)


def test_invoices_payments_and_disputes_hang_together(events):
    invoices = {}
    paid: dict[str, float] = defaultdict(float)
    opened = set()
    for event in events:
        kind, invoice = event["type"], event.get("invoice_id")
        if kind == "invoice_issued":
            assert invoice not in invoices
            assert event["due_date"] > event["occurred_at"]
            invoices[invoice] = event
            continue
        if invoice is None:
            continue
        # Anything about an invoice comes after it was issued, from the same customer.
        assert invoices[invoice]["customer_id"] == event["customer_id"], event
        if kind == "payment_received":
            paid[invoice] += event["amount"]
            assert paid[invoice] <= invoices[invoice]["amount"] + 0.01, event
        elif kind == "dispute_opened":
            opened.add(invoice)
        elif kind == "dispute_closed":
            assert invoice in opened, event
    unpaid = [i for i, inv in invoices.items() if inv["due_date"] < "2026-09-01" and not paid[i]]
    assert unpaid, "some invoices are never paid"


def test_some_promises_are_kept_and_some_broken(events):
    payments = defaultdict(list)
    for payment in of_type(events, "payment_received"):
        payments[payment.get("invoice_id")].append(payment["occurred_at"])
    kept = broken = 0
    for promise in of_type(events, "promise_to_pay"):
        made, due = promise["occurred_at"], promise["promised_date"]
        assert due > made
        if any(made <= day <= due for day in payments[promise["invoice_id"]]):
            kept += 1
        elif due <= END:
            broken += 1  # the promised date passed with no payment of that invoice
    assert kept >= 1 and broken >= 1


def test_a_customer_is_downgraded_twice_within_90_days(events):
    downgrades = defaultdict(list)
    for alert in of_type(events, "bureau_alert"):
        if alert["kind"] == "downgrade":
            downgrades[alert["customer_id"]].append(dt.date.fromisoformat(alert["occurred_at"]))
    assert any((later - earlier).days <= 90
               for days in downgrades.values()
               for earlier, later in itertools.pairwise(days))


def test_orders_above_a_plausible_limit_occur(events):
    orders = of_type(events, "order_placed")
    assert all(re.fullmatch(r"SO-\d{6}-\d{3}", order["order_id"]) for order in orders)
    typical = sorted(order["amount"] for order in orders)[len(orders) // 2]
    assert max(order["amount"] for order in orders) > 20 * typical
    assert any("over the credit limit" in contact.get("outcome", "")
               for contact in of_type(events, "contact_made"))


def test_credit_events_ingest_takes_the_whole_file_once(credit):
    first = credit("events", "ingest", SHIPPED)
    assert first.exit_code == 0, first.stderr
    count = sum(1 for _ in SHIPPED.open(encoding="utf-8"))
    assert first.stdout.strip() == (f"ingested {count:,} events; skipped 0 already seen; "
                                    "0 problems in bad lines")
    again = credit("events", "ingest", SHIPPED)
    assert again.exit_code == 0, again.stderr
    assert again.stdout.strip() == (f"ingested 0 events; skipped {count:,} already seen; "
                                    "0 problems in bad lines")
