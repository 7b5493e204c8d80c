"""The order credit check (order_check.yaml): pass or block with reasons, over the
customer's exposure with the order, its limit, overdue items, review date and holds;
recorded with what it saw, and replayed from the record alone."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import pytest

from engine.audit.store import AuditStore
from engine.orders.order_check import check_order, check_order_document, order_facts
from engine.ruleset.loader import load_ruleset
from tests.audit_helpers import copy_db, edit_body, rows, tamper, verify
from tests.order_helpers import AS_OF, EXAMPLES, order_trail
from tests.paths import DEFAULT_RULESET

LIMIT = Decimal("134000.00")  # bbb-distributor's limit on 2026-11-30
EXPOSURE = Decimal("10700.00")  # CUST-10004's exposure in examples/order-events.jsonl


@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset(DEFAULT_RULESET)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return order_trail(tmp_path_factory.mktemp("orders"))


@pytest.fixture
def trail(pristine, tmp_path):
    return copy_db(pristine, tmp_path / "audit.db")


def order_file(tmp_path, amount, customer="CUST-10004", **fields):
    path = tmp_path / f"order-{amount}.json"
    path.write_text(json.dumps({"id": "SO-9", "customer_id": customer, "amount": amount,
                                **fields}), encoding="utf-8")
    return path


def checked(credit, trail, order, *extra) -> dict:
    result = credit("check-order", order, "--as-of", AS_OF, "--db", trail, "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def codes(data: dict) -> list[str]:
    return [reason["code"] for reason in data["reasons"]]


# --- the limit -------------------------------------------------------------------------------

@pytest.mark.parametrize(("over", "outcome"), [(Decimal(0), "pass"),
                                              (Decimal("0.01"), "block")])
def test_an_order_exactly_at_the_available_amount_passes(trail, credit, tmp_path, over,
                                                         outcome):
    available = LIMIT - EXPOSURE
    data = checked(credit, trail, order_file(tmp_path, float(available + over)))
    assert data["outcome"] == outcome
    assert data["facts"]["available"] == "123300.00"
    assert data["facts"]["over_limit_by"] == format(over, ".2f")


def test_the_example_orders(trail, credit):
    within = checked(credit, trail, EXAMPLES / "orders" / "within-limit.json")
    assert (within["outcome"], within["reasons"]) == ("pass", [])
    over = checked(credit, trail, EXAMPLES / "orders" / "over-limit.json")
    assert codes(over) == ["CREDIT_LIMIT_EXCEEDED"]
    assert over["facts"]["over_limit_by"] == "456700.00"
    overdue = checked(credit, trail, EXAMPLES / "orders" / "overdue-customer.json")
    assert codes(overdue) == ["OVERDUE_ITEMS"]
    assert overdue["facts"]["days_overdue"] == 60


def test_an_order_beyond_the_horizon_adds_nothing_yet(trail, credit, tmp_path):
    data = checked(credit, trail, order_file(tmp_path, 900_000, delivery_date="2027-06-01"))
    assert data["outcome"] == "pass"
    assert data["facts"]["order_counted"] == "0.00"


def test_a_customer_without_a_decision_has_no_limit(trail, credit, tmp_path):
    data = checked(credit, trail, order_file(tmp_path, 10, customer="NEW-1"))
    assert codes(data) == ["NO_CREDIT_LIMIT"]
    assert data["decision"] is None and data["facts"]["credit_limit"] is None


def test_a_decision_after_the_date_is_not_used(trail, credit, tmp_path):
    result = credit("check-order", order_file(tmp_path, 10), "--as-of", "2026-11-29",
                    "--db", trail, "--json")
    assert codes(json.loads(result.stdout)) == ["NO_CREDIT_LIMIT"]


# --- review, hold, grade ---------------------------------------------------------------------

def test_a_review_that_is_due_blocks(trail, credit, tmp_path):
    # bbb-distributor is reviewed every 180 days: due after 2027-05-29.
    for day, due in (("2027-05-29", False), ("2027-05-30", True)):
        result = credit("check-order", order_file(tmp_path, 10), "--as-of", day,
                        "--db", trail, "--json", "--no-audit")
        data = json.loads(result.stdout)
        assert data["facts"]["review_due"] is due, day
        assert ("REVIEW_DUE" in codes(data)) is due


def test_a_monitor_hold_blocks_from_the_day_it_is_taken(ruleset, tmp_path, credit):
    """The monitor holds an account on an order that takes it above the limit; the check
    reads the hold from the recorded actions, and not before it was taken."""
    db = tmp_path / "audit.db"
    events = tmp_path / "events.jsonl"
    lines = [
        {"id": "H1", "customer_id": "CUST-10004", "type": "invoice_issued",
         "occurred_at": "2026-12-01", "invoice_id": "I-1", "amount": 500_000,
         "due_date": "2026-12-31"},
        {"id": "H2", "customer_id": "CUST-10004", "type": "order_placed",
         "occurred_at": "2026-12-02", "order_id": "SO-X", "amount": 200_000},
    ]
    events.write_text("".join(json.dumps(e) + "\n" for e in lines), encoding="utf-8")
    assert credit("decide", EXAMPLES / "customers" / "bbb-distributor.json", "--as-of",
                  AS_OF, "--db", db).exit_code == 0
    assert credit("events", "ingest", events, "--db", db).exit_code == 0
    assert credit("monitor", "--as-of", "2026-12-03", "--db", db).exit_code == 0
    order = {"id": "SO-9", "customer_id": "CUST-10004", "amount": 10}
    with AuditStore(db) as store:
        facts, _, _ = order_facts(store, ruleset, order, dt.date(2026, 12, 3))
        assert facts["on_hold"] is True
        reasons, _ = check_order(ruleset, facts)
        assert "CREDIT_HOLD" in [code for code, _, _ in reasons]
        facts, _, _ = order_facts(store, ruleset, order, dt.date(2026, 12, 1))
        assert facts["on_hold"] is False  # before the hold


def test_a_ccc_grade_requires_prepayment(ruleset):
    facts = {"order_amount": Decimal(1), "order_counted": Decimal(1),
             "exposure": Decimal(0), "exposure_after": Decimal(1),
             "credit_limit": Decimal(1000), "days_overdue": 0, "overdue_amount": Decimal(0),
             "grade": "CCC", "decision_outcome": "accept", "review_due": False,
             "on_hold": False}
    reasons, trace = check_order(ruleset, facts)
    assert [code for code, _, _ in reasons] == ["PREPAYMENT_REQUIRED"]
    assert [entry[0][2] for entry in trace] == ["OC_PREPAYMENT"]


# --- the record and its replay -------------------------------------------------------------

def test_the_check_is_recorded_with_what_it_saw_and_replays(trail, credit):
    result = credit("check-order", EXAMPLES / "orders" / "over-limit.json", "--as-of",
                    AS_OF, "--db", trail)
    assert result.exit_code == 0
    seq = int(result.stdout.split("audited as record ")[1].split()[0])
    (row,) = rows(trail, "SELECT * FROM records WHERE seq = ?", (seq,))
    assert (row["kind"], row["customer_id"], row["outcome"], row["as_of"]) == (
        "order-check", "CUST-10004", "block", AS_OF)
    body = json.loads(row["body"])
    assert body["exposure"]["total"] == "10700.00"
    assert body["decision"]["decision_id"] == rows(
        trail, "SELECT decision_id FROM records WHERE kind = 'decision' AND "
               "customer_id = 'CUST-10004'")[0]["decision_id"]
    assert verify(trail).exit_code == 0
    assert credit("replay", str(seq), "--db", trail).exit_code == 0
    # The facts it recorded decide its replay: a changed one is found.
    tamper(trail, lambda conn: edit_body(conn, seq, lambda b: b["facts"].update(
        exposure_after="100.00")))
    replayed = credit("replay", str(seq), "--db", trail)
    assert replayed.exit_code == 1
    assert 'result.outcome: recorded "block", replayed "pass"' in replayed.stderr


def test_no_audit_writes_nothing(trail, credit):
    before = len(rows(trail))
    data = checked(credit, trail, EXAMPLES / "orders" / "within-limit.json", "--no-audit")
    assert data["outcome"] == "pass"
    assert len(rows(trail)) == before


def test_the_python_api_gives_what_the_command_gives(trail, ruleset):
    order = json.loads((EXAMPLES / "orders" / "over-limit.json").read_text())
    with AuditStore(trail) as store:
        check, appended = check_order_document(store, ruleset, order,
                                               dt.date(2026, 11, 30), record=False)
    assert appended is None
    assert check.outcome == "block"
    assert check.to_dict()["reasons"] == [{
        "code": "CREDIT_LIMIT_EXCEEDED",
        "message": "The exposure with this order is above the credit limit"}]


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize(("order", "message"), [
    ({"id": "SO-1", "customer_id": "CUST-10004"}, "/amount: required property is missing"),
    ({"id": "SO-1", "customer_id": "CUST-10004", "amount": 0},
     "/amount: 0 is less than or equal to the minimum of 0"),
    ({"id": "SO-1", "customer_id": "CUST-10004", "amount": 5, "currency": "usd"},
     "/currency: 'usd' does not match '^[A-Z]{3}$'"),
])
def test_a_bad_order_is_one_located_line(trail, credit, tmp_path, order, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(order), encoding="utf-8")
    result = credit("check-order", path, "--as-of", AS_OF, "--db", trail)
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.splitlines()) == 1


def test_no_audit_file_is_one_line(credit, tmp_path):
    result = credit("check-order", EXAMPLES / "orders" / "within-limit.json", "--db",
                    tmp_path / "none.db")
    assert (result.exit_code, result.stderr) == (
        1, f"credit: error: {tmp_path / 'none.db'}: no audit file here\n")


def test_a_ruleset_without_order_checks_says_so(trail, credit, tmp_path):
    folder = tmp_path / "ruleset"
    shutil.copytree(DEFAULT_RULESET, folder)
    (folder / "order_check.yaml").unlink()
    manifest = folder / "ruleset.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        "  order_check: order_check.yaml\n", ""), encoding="utf-8")
    result = credit("check-order", EXAMPLES / "orders" / "within-limit.json", "--db",
                    trail, "--ruleset", folder)
    assert (result.exit_code, result.stderr) == (
        1, "credit: error: ruleset default 1.0.0 has no order checks (stages: order_check: "
           "in ruleset.yaml)\n")


def test_a_check_reading_an_unknown_fact_is_a_located_problem(credit, tmp_path):
    folder = tmp_path / "ruleset"
    shutil.copytree(DEFAULT_RULESET, folder)
    path = folder / "order_check.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "when: days_overdue > 30", "when: days_overdu > 30"), encoding="utf-8")
    result = credit("validate", folder)
    assert result.exit_code == 1
    assert f"{path}:" in result.stderr and "days_overdu" in result.stderr
