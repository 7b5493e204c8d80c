"""A monitor hold lifted by hand (credit hold lift): by a role authority.yaml allows, with
the reason, recorded; the monitor and the order check see it lifted from that day."""

from __future__ import annotations

import json

import pytest

from tests.audit_helpers import rows, verify
from tests.order_helpers import AS_OF, EXAMPLES, order_trail

INSOLVENCY = {"id": "H-1", "customer_id": "CUST-10004", "type": "bureau_alert",
              "occurred_at": "2026-12-02", "kind": "insolvency_filing"}
OVERDUE = {"id": "H-0", "customer_id": "CUST-10004", "type": "invoice_issued",
           "occurred_at": "2026-10-01", "invoice_id": "IN-OLD", "amount": 900,
           "due_date": "2026-10-31"}  # so that the account is on the monitor's worklist


@pytest.fixture
def held(tmp_path, credit):
    """CUST-10004 decided, its order events, an insolvency filing on 2026-12-02 and the
    monitor run to 2026-12-03: the account is on hold (M_INSOLVENCY_FILING)."""
    db = order_trail(tmp_path, customers=("bbb-distributor",))
    events = tmp_path / "filing.jsonl"
    events.write_text(json.dumps(OVERDUE) + "\n" + json.dumps(INSOLVENCY) + "\n",
                      encoding="utf-8")
    assert credit("events", "ingest", events, "--db", db).exit_code == 0
    result = credit("monitor", "--as-of", "2026-12-03", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert rows(db, "SELECT * FROM records WHERE kind = 'action' AND outcome = 'hold'")
    return db


def on_hold(credit, db, day) -> bool:
    result = credit("check-order", EXAMPLES / "orders" / "within-limit.json", "--as-of", day,
                    "--db", db, "--json", "--no-audit")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["facts"]["on_hold"]


def lift(credit, db, role="credit_manager", day="2026-12-04", *extra):
    return credit("hold", "lift", "CUST-10004", "--reason", "insolvency plan approved",
                  "--by", "ben", "--role", role, "--as-of", day, "--db", db, *extra)


def test_a_lifted_hold_is_gone_from_that_day(held, credit):
    assert on_hold(credit, held, "2026-12-04")
    result = lift(credit, held, "credit_manager", "2026-12-04", "--rule",
                  "M_INSOLVENCY_FILING")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("CUST-10004: lifted the holds of M_INSOLVENCY_FILING by "
                                    "ben (credit_manager); audited as record")
    assert not on_hold(credit, held, "2026-12-04")
    assert on_hold(credit, held, "2026-12-03")  # the day before, it still held
    body = json.loads(rows(held, "SELECT body FROM records WHERE kind = 'hold-lifted'")[0][
        "body"])
    assert (body["reason"], body["rules"]) == ("insolvency plan approved",
                                               ["M_INSOLVENCY_FILING"])


def worklist_hold(credit, db, day) -> bool:
    result = credit("monitor", "--as-of", day, "--db", db, "--worklist", "--json")
    assert result.exit_code == 0, result.stderr
    (line,) = [line for line in json.loads(result.stdout)
               if line["customer_id"] == "CUST-10004"]
    return line["on_hold"]


def test_the_monitor_runs_on_without_the_lifted_hold(held, credit):
    assert worklist_hold(credit, held, "2026-12-03") is True
    lift(credit, held)
    assert worklist_hold(credit, held, "2026-12-10") is False
    assert credit("replay", "--all", "--db", held).exit_code == 0
    assert verify(held).exit_code == 0


@pytest.mark.parametrize(("role", "extra", "message"), [
    ("credit_analyst", (), "lifting a hold needs credit_manager or above, not "
                           "credit_analyst"),
    ("credit_manager", ("--rule", "M_ORDER_OVER_LIMIT"),
     "customer CUST-10004 has no open hold taken by M_ORDER_OVER_LIMIT on 2026-12-04"),
])
def test_what_cannot_be_lifted_is_one_line(held, credit, role, extra, message):
    result = lift(credit, held, role, "2026-12-04", *extra)
    assert (result.exit_code, result.stderr) == (1, f"credit: error: {message}\n")


def test_a_customer_without_a_hold(tmp_path, credit):
    db = order_trail(tmp_path, customers=("bbb-distributor",))
    result = lift(credit, db, "credit_manager", AS_OF)
    assert (result.exit_code, result.stderr) == (
        1, "credit: error: customer CUST-10004 has no open hold on 2026-11-30\n")
