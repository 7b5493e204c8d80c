"""Customer groups: a group's limit over the sum of its members' exposures, split across
members by share; the order check checks both levels and says which one blocked."""

from __future__ import annotations

import json

import pytest

from tests.audit_helpers import copy_db, rows, verify
from tests.order_helpers import AS_OF, EXAMPLES, order_trail

# CUST-10004 owes 10,700.00 EUR, CUST-10005 10,000.00 (examples/order-events.jsonl)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return order_trail(tmp_path_factory.mktemp("groups"))


@pytest.fixture
def trail(pristine, tmp_path):
    return copy_db(pristine, tmp_path / "audit.db")


def define(credit, db, limit, *members, day=AS_OF):
    args = [arg for member in members for arg in ("--member", member)]
    return credit("group", "set", "G-ACME", "--limit", str(limit), *args, "--by", "ana",
                  "--reason", "one parent", "--as-of", day, "--db", db)


def check(credit, db, amount, customer="CUST-10004") -> dict:
    order = db.parent / f"order-{customer}-{amount}.json"
    order.write_text(json.dumps({"id": "SO-9", "customer_id": customer, "amount": amount}),
                     encoding="utf-8")
    result = credit("check-order", order, "--as-of", AS_OF, "--db", db, "--json",
                    "--no-audit")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def codes(data: dict) -> list[str]:
    return [reason["code"] for reason in data["reasons"]]


@pytest.mark.parametrize(("amount", "blocked"), [(39_300, False), (39_300.01, True)])
def test_a_group_at_its_limit_blocks_a_members_order(trail, credit, amount, blocked):
    assert define(credit, trail, 60_000, "CUST-10004", "CUST-10005").exit_code == 0
    data = check(credit, trail, amount)  # the group's 20,700.00 + the order against 60,000
    assert data["facts"]["group_exposure"] == "20700.00"
    assert codes(data) == (["GROUP_LIMIT_EXCEEDED"] if blocked else [])


def test_a_group_with_one_member_at_its_limit(trail, credit):
    assert define(credit, trail, 10_700, "CUST-10004").exit_code == 0
    assert codes(check(credit, trail, 0.01)) == ["GROUP_LIMIT_EXCEEDED"]
    # Its own limit (134,000) has room: the group is what blocked it.
    assert check(credit, trail, 0.01)["facts"]["over_limit_by"] == "0.00"


def test_a_members_share_of_a_split_limit(trail, credit):
    assert define(credit, trail, 60_000, "CUST-10004",
                  "CUST-10005=15000").exit_code == 0
    # CUST-10005 owes 10,000.00 of its 15,000.00 share (and is blocked for its arrears too)
    assert codes(check(credit, trail, 5_000, "CUST-10005")) == ["OVERDUE_ITEMS"]
    assert codes(check(credit, trail, 5_000.01, "CUST-10005")) == [
        "OVERDUE_ITEMS", "GROUP_SHARE_EXCEEDED"]
    assert codes(check(credit, trail, 5_000.01)) == []  # no share: the whole limit


def test_a_group_is_a_record_and_can_be_defined_anew(trail, credit):
    assert define(credit, trail, 60_000, "CUST-10004").exit_code == 0
    assert define(credit, trail, 90_000, "CUST-10004", "CUST-10005",
                  day="2026-11-30").exit_code == 0
    assert [r["kind"] for r in rows(trail, "SELECT kind FROM records WHERE seq > 13")] == \
        ["group", "group"]
    shown = credit("group", "show", "G-ACME", "--as-of", AS_OF, "--db", trail)
    assert shown.stdout.splitlines()[0] == (
        "Group G-ACME as of 2026-11-30: limit 90,000.00 EUR, exposure 20,700.00")
    assert verify(trail).exit_code == 0


@pytest.mark.parametrize(("members", "message"), [
    (["CUST-10004=50000", "CUST-10005=20000"], "the shares of group G-ACME add up to "
                                               "70,000.00, above its limit of 60,000.00"),
    (["=5"], "'=5': give CUSTOMER or CUSTOMER=SHARE"),
])
def test_a_group_that_cannot_be_defined(trail, credit, members, message):
    result = define(credit, trail, 60_000, *members)
    assert result.exit_code in (1, 2)
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_customer_is_in_one_group(trail, credit):
    assert define(credit, trail, 60_000, "CUST-10004").exit_code == 0
    result = credit("group", "set", "G-OTHER", "--limit", "1000", "--member", "CUST-10004",
                    "--by", "ana", "--reason", "x", "--as-of", AS_OF, "--db", trail)
    assert (result.exit_code, result.stderr) == (
        1, "credit: error: customer CUST-10004 is in group G-ACME already\n")


def test_the_check_with_a_group_replays(trail, credit):
    define(credit, trail, 60_000, "CUST-10004", "CUST-10005=15000")
    assert credit("check-order", EXAMPLES / "orders" / "within-limit.json", "--as-of",
                  AS_OF, "--db", trail).exit_code == 0
    assert credit("replay", "--all", "--db", trail).stdout.strip() == \
        "3 replayed identically, 0 differed"
