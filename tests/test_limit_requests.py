"""Credit limit requests: routed by approval.yaml to the level that must sign, approved
under authority.yaml by another person, in effect for the order check only once approved
and until their validity date; each step an audit record."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.audit_helpers import copy_db, rows, run_together, verify
from tests.order_helpers import AS_OF, EXAMPLES, order_trail
from tests.paths import DEFAULT_RULESET


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return order_trail(tmp_path_factory.mktemp("limits"), customers=("bbb-distributor",))


@pytest.fixture
def trail(pristine, tmp_path):
    return copy_db(pristine, tmp_path / "audit.db")


def ask(credit, db, amount, *extra, by="ana"):
    result = credit("limit", "request", "CUST-10004", "--amount", str(amount), "--reason",
                    "seasonal peak", "--by", by, "--as-of", AS_OF, "--db", db, *extra)
    assert result.exit_code == 0, result.stderr
    return result.stdout.split(":")[0], result.stdout


def answer(credit, db, request_id, by, role, verb="approve", day=AS_OF):
    return credit("limit", verb, request_id, "--by", by, "--role", role, "--reason",
                  "budget seen", "--as-of", day, "--db", db)


def limit_on(credit, db, day) -> dict:
    result = credit("check-order", EXAMPLES / "orders" / "over-limit.json", "--as-of", day,
                    "--db", db, "--json", "--no-audit")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(("amount", "level"), [
    (50_000, "credit_analyst"),       # automatic for a decision: a request needs a person
    (100_000, "credit_analyst"),      # the analyst's band is (50,000..100,000]
    (100_001, "credit_manager"),      # the manager's (100,000..1,000,000]
    (1_000_000, "credit_manager"),
    (1_000_001, "credit_committee"),
])
def test_a_request_is_routed_by_the_approval_table(trail, credit, amount, level):
    _, said = ask(credit, trail, amount)
    assert f"to be signed by {level};" in said
    (record,) = rows(trail, "SELECT * FROM records WHERE kind = 'limit-request'")
    assert record["outcome"] == "requested"
    assert json.loads(record["body"])["required_level"] == level


def test_an_approved_limit_takes_effect_until_its_date(trail, credit):
    request_id, _ = ask(credit, trail, 700_000, "--valid-until", "2026-12-31")
    assert limit_on(credit, trail, AS_OF)["facts"]["credit_limit"] == "134000.00"  # not yet
    approved = answer(credit, trail, request_id, "ben", "credit_manager")
    assert approved.exit_code == 0, approved.stderr
    held = limit_on(credit, trail, "2026-12-31")  # the last day it holds
    assert (held["outcome"], held["facts"]["credit_limit"]) == ("pass", "700000.00")
    assert held["decision"]["limit_request"]["id"] == request_id
    after = limit_on(credit, trail, "2027-01-01")
    assert after["facts"]["credit_limit"] == "134000.00"
    assert [r["code"] for r in after["reasons"]] == ["CREDIT_LIMIT_EXCEEDED", "LIMIT_EXPIRED"]
    assert verify(trail).exit_code == 0


def test_a_newer_decision_replaces_an_approved_limit(trail, credit):
    request_id, _ = ask(credit, trail, 700_000)
    answer(credit, trail, request_id, "ben", "credit_manager")
    assert credit("decide", EXAMPLES / "customers" / "bbb-distributor.json", "--as-of",
                  AS_OF, "--db", trail).exit_code == 0
    assert limit_on(credit, trail, AS_OF)["facts"]["credit_limit"] == "134000.00"


@pytest.mark.parametrize(("by", "role", "message"), [
    ("ana", "credit_manager", "needs another person than ana, who asked for it"),
    ("ben", "credit_analyst", "needs the signature of credit_manager or above, not "
                              "credit_analyst"),
    ("ben", "sales_rep", "role 'sales_rep' is not in the authority matrix"),
])
def test_who_may_not_approve(trail, credit, by, role, message):
    request_id, _ = ask(credit, trail, 700_000)
    result = answer(credit, trail, request_id, by, role)
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert limit_on(credit, trail, AS_OF)["facts"]["credit_limit"] == "134000.00"


def test_a_role_cannot_approve_beyond_its_max_limit(trail, credit, tmp_path):
    # The shipped routing never sends an analyst more than an analyst may set (credit lint
    # checks it), so this ruleset brings back the old manager band (250,000..1,000,000]:
    # a request for 200,000 then goes to an analyst, whose max_limit is 100,000, and the
    # approval is refused all the same.
    folder = tmp_path / "old_routing"
    shutil.copytree(DEFAULT_RULESET, folder)
    approval = folder / "approval.yaml"
    approval.write_text(approval.read_text(encoding="utf-8").replace(
        '"(100000..1000000]"', '"(250000..1000000]"'), encoding="utf-8")
    request_id, said = ask(credit, trail, 200_000, "--ruleset", folder)
    assert "to be signed by credit_analyst;" in said
    result = credit("limit", "approve", request_id, "--by", "ben", "--role",
                    "credit_analyst", "--reason", "budget seen", "--as-of", AS_OF,
                    "--ruleset", folder, "--db", trail)
    assert (result.exit_code, result.stderr) == (
        1, "credit: error: credit_analyst may set limits up to 100,000.00 EUR; the request "
           "is for 200,000.00\n")


def test_a_rejected_request_never_takes_effect_and_is_answered_once(trail, credit):
    request_id, _ = ask(credit, trail, 700_000)
    assert answer(credit, trail, request_id, "ben", "credit_manager",
                  verb="reject").exit_code == 0
    assert limit_on(credit, trail, AS_OF)["facts"]["credit_limit"] == "134000.00"
    again = answer(credit, trail, request_id, "carl", "credit_committee")
    assert (again.exit_code, again.stderr) == (
        1, f"credit: error: limit request {request_id} was already rejected\n")


@pytest.mark.parametrize(("args", "message"), [
    (["CUST-99999", "--amount", "10"], "customer CUST-99999 has no credit decision on or "
                                       "before 2026-11-30 to ask a limit against"),
    (["CUST-10004", "--amount", "10", "--valid-until", AS_OF],
     "a limit valid until 2026-11-30 would not hold after 2026-11-30"),
])
def test_a_request_that_cannot_be_made_is_one_line(trail, credit, args, message):
    result = credit("limit", "request", *args, "--reason", "x", "--by", "ana", "--as-of",
                    AS_OF, "--db", trail)
    assert (result.exit_code, result.stderr) == (1, f"credit: error: {message}\n")


def test_an_unknown_request_and_a_bad_amount(trail, credit):
    result = answer(credit, trail, "LR-404", "ben", "credit_manager")
    assert (result.exit_code, result.stderr) == (1, "credit: error: no limit request "
                                                    "LR-404\n")
    bad = credit("limit", "request", "CUST-10004", "--amount", "lots", "--reason", "x",
                 "--by", "ana", "--db", trail)
    assert bad.exit_code == 2 and "'lots' is not a decimal amount" in bad.stderr


REQUESTER = """
import datetime as dt, sys
from engine.audit.store import AuditStore
from engine.orders.limit_requests import request_limit
from engine.ruleset.loader import load_ruleset
db, name, count, rules = sys.argv[1:5]
ruleset = load_ruleset(rules)
with AuditStore(db) as store:
    wait_to_go()
    for i in range(int(count)):
        request_limit(store, ruleset, "CUST-10004", amount="700000", reason=f"{name} {i}",
                      by=name, valid_until=dt.date(2027, 6, 30), as_of=dt.date(2026, 11, 30))
"""


def test_requests_from_two_processes_at_once_get_their_own_ids(trail, tmp_path):
    """A request's id is its record's number, taken inside the append's transaction."""
    run_together(tmp_path, {name: (REQUESTER, [str(trail), name, "15", str(DEFAULT_RULESET)])
                            for name in ("ana", "ben")},
                 env={**os.environ, "CREDIT_NO_ENTRY_POINTS": "1"}, timeout=120)
    requests = [(r["seq"], json.loads(r["body"])) for r in rows(
        trail, "SELECT seq, body FROM records WHERE kind = 'limit-request'")]
    assert len(requests) == 30
    assert all(body["id"] == f"LR-{seq}" for seq, body in requests)
    assert verify(trail).exit_code == 0
