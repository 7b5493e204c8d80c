"""credit review --due: customers whose latest decision plus its review interval falls on
or before the review date; rejected customers are not listed."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.audit_helpers import one_line_error, write_json
from tests.credit_cli import invoke_credit
from tests.sample_customers import strong_customer

REVIEW_DATE = "2026-11-30"
COLUMNS = ["customer_id", "last_decision", "grade", "outcome", "review_interval_days", "due",
           "days_overdue", "decision_id"]


@pytest.fixture
def trail(tmp_path, credit):
    """Strong customers (AAA, reviewed every 365 days) decided on various dates."""
    db = tmp_path / "audit.db"
    decisions = [
        ("R-OVERDUE", "2025-06-01", {}),
        ("R-ON-DUE-DATE", "2025-11-30", {}),
        ("R-DAY-BEFORE", "2025-12-01", {}),
        ("R-REDECIDED", "2024-01-01", {}),
        ("R-REDECIDED", "2026-06-01", {}),
        ("R-REJECTED", "2020-01-01", {}),
        ("R-REJECTED", "2021-01-01", {"flags.sanctions_hit": True}),
    ]
    ids = {}
    for customer_id, as_of, changes in decisions:
        path = write_json(tmp_path / "c.json", strong_customer(id=customer_id, **changes))
        result = credit("decide", path, "--as-of", as_of, "--db", db, "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["grading"]["grade"] == "AAA" or changes
        ids[customer_id] = data
    assert ids["R-REJECTED"]["admission"]["outcome"] == "reject"
    assert ids["R-REJECTED"]["policy"] is None
    return db, ids


def review(db, *args: str):
    return invoke_credit("review", "--due", "--as-of", REVIEW_DATE, "--db", db, *args)


def test_due_customers_json(trail):
    db, ids = trail
    result = review(db, "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [r["customer_id"] for r in listed] == ["R-OVERDUE", "R-ON-DUE-DATE"]
    overdue, on_date = listed
    assert set(COLUMNS) <= set(overdue)
    assert {k: overdue[k] for k in COLUMNS} == {
        "customer_id": "R-OVERDUE", "last_decision": "2025-06-01", "grade": "AAA",
        "outcome": "accept", "review_interval_days": 365, "due": "2026-06-01",
        "days_overdue": 182, "decision_id": ids["R-OVERDUE"]["decision_id"]}
    assert (on_date["due"], on_date["days_overdue"]) == (REVIEW_DATE, 0)


def test_due_customers_csv(trail):
    db, ids = trail
    result = review(db, "--csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["customer_id"] for r in table] == ["R-OVERDUE", "R-ON-DUE-DATE"]
    assert table[1] == {"customer_id": "R-ON-DUE-DATE", "last_decision": "2025-11-30",
                        "grade": "AAA", "outcome": "accept", "review_interval_days": "365",
                        "due": REVIEW_DATE, "days_overdue": "0",
                        "decision_id": ids["R-ON-DUE-DATE"]["decision_id"]}


def test_due_customers_table(trail):
    db, _ = trail
    result = review(db)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == COLUMNS
    assert [line.split()[0] for line in lines[2:]] == ["R-OVERDUE", "R-ON-DUE-DATE"]


def test_the_day_before_the_due_date_nobody_on_that_date_is_listed(trail, credit):
    db, _ = trail
    result = credit("review", "--due", "--as-of", "2026-11-29", "--db", db, "--json")
    assert [r["customer_id"] for r in json.loads(result.stdout)] == ["R-OVERDUE"]
    result = credit("review", "--due", "--as-of", "2026-12-01", "--db", db, "--json")
    assert [r["customer_id"] for r in json.loads(result.stdout)] == [
        "R-OVERDUE", "R-ON-DUE-DATE", "R-DAY-BEFORE"]
    result = credit("review", "--due", "--as-of", "2026-05-31", "--db", db, "--json")
    assert result.stdout.strip() == "[]"


def test_review_lists_due_customers_by_default_and_needs_a_real_date(trail, credit):
    db, _ = trail
    plain = credit("review", "--as-of", "2026-11-30", "--db", db)
    assert plain.exit_code == 0
    assert plain.stdout == credit("review", "--due", "--as-of", "2026-11-30", "--db",
                                  db).stdout
    result = credit("review", "--due", "--as-of", "30.11.2026", "--db", db)
    assert result.exit_code == 2
    assert "is not a date" in one_line_error(result)
