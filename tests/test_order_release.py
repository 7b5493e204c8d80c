"""Blocked orders and their release (authority.yaml's order_release): the worklist, the
authority by amount, four eyes above the threshold with no self-approval, a release that
holds for some days and then expires, and rejections; each an audit record."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.audit_helpers import copy_db, rows, verify
from tests.order_helpers import AS_OF, EXAMPLES, order_trail
from tests.paths import DEFAULT_RULESET


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """SO-101 passed, SO-102 (580,000 EUR) blocked for its limit, SO-201 for overdue
    items."""
    return order_trail(tmp_path_factory.mktemp("release"),
                       orders=("within-limit", "over-limit", "overdue-customer"))


@pytest.fixture
def trail(pristine, tmp_path):
    return copy_db(pristine, tmp_path / "audit.db")


def worklist(credit, db, day=AS_OF) -> dict[str, str]:
    result = credit("orders", "--blocked", "--as-of", day, "--db", db, "--json")
    assert result.exit_code == 0, result.stderr
    return {row["order_id"]: row["status"] for row in json.loads(result.stdout)}


def release(credit, db, order_id, by, role, day=AS_OF, reason="checked with sales"):
    return credit("order", "release", order_id, "--reason", reason, "--by", by, "--role",
                  role, "--as-of", day, "--db", db)


def check_again(credit, db, day) -> dict:
    result = credit("check-order", EXAMPLES / "orders" / "over-limit.json", "--as-of", day,
                    "--db", db, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_the_worklist_lists_what_waits(trail, credit):
    assert worklist(credit, trail) == {"SO-102": "blocked", "SO-201": "blocked"}


def test_a_release_within_the_role_needs_one_person(trail, credit):
    # SO-201 is 1,000 EUR: below the second-approval threshold of 100,000.
    result = release(credit, trail, "SO-201", "carla", "credit_analyst")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("SO-201: released by carla (credit_analyst); audited as")
    assert worklist(credit, trail) == {"SO-102": "blocked"}
    (record,) = rows(trail, "SELECT * FROM records WHERE kind = 'order-release'")
    body = json.loads(record["body"])
    assert (record["outcome"], body["valid_until"], body["approvals"]) == (
        "released", "2026-12-14", [{"by": "carla", "role": "credit_analyst"}])
    assert verify(trail).exit_code == 0


def test_a_role_cannot_release_above_its_authority(trail, credit):
    result = release(credit, trail, "SO-102", "carla", "credit_analyst")
    assert (result.exit_code, result.stderr) == (
        1, "credit: error: credit_analyst may release orders up to 25,000.00 EUR; order "
           "SO-102 is 580,000.00\n")
    assert not rows(trail, "SELECT * FROM records WHERE kind = 'order-release'")


def test_above_the_threshold_four_eyes_and_no_self_approval(trail, credit):
    first = release(credit, trail, "SO-102", "ana", "credit_manager")
    assert first.stdout.startswith("SO-102: awaiting second approval by ana")
    assert worklist(credit, trail)["SO-102"] == "awaiting second approval"
    again = release(credit, trail, "SO-102", "ana", "credit_manager")
    assert (again.exit_code, again.stderr) == (
        1, "credit: error: order SO-102 is above 100,000.00 EUR: a second person must "
           "release it (ana asked for the release)\n")
    lower = release(credit, trail, "SO-102", "dan", "credit_analyst")
    assert lower.exit_code == 1 and "up to 25,000.00 EUR" in lower.stderr
    second = release(credit, trail, "SO-102", "ben", "credit_committee", day="2026-12-01")
    assert second.exit_code == 0, second.stderr
    assert "SO-102" not in worklist(credit, trail, "2026-12-01")
    body = json.loads(rows(trail, "SELECT body FROM records WHERE outcome = 'released'")[0][
        "body"])
    assert body["approvals"] == [{"by": "ana", "role": "credit_manager"},
                                 {"by": "ben", "role": "credit_committee"}]


def test_a_release_holds_for_its_days_then_expires(trail, credit):
    release(credit, trail, "SO-102", "ana", "credit_manager")
    release(credit, trail, "SO-102", "ben", "credit_manager", day="2026-12-01")
    # Valid for 14 days: through 2026-12-15.
    held = check_again(credit, trail, "2026-12-15")
    assert held["outcome"] == "released"
    assert [r["code"] for r in held["reasons"]] == ["CREDIT_LIMIT_EXCEEDED"]
    assert held["release"]["by"] == "ben" and held["release"]["valid_until"] == "2026-12-15"
    assert worklist(credit, trail, "2026-12-16")["SO-102"] == "release expired"
    assert check_again(credit, trail, "2026-12-16")["outcome"] == "block"
    assert worklist(credit, trail, "2026-12-16")["SO-102"] == "blocked"
    assert credit("replay", "--all", "--db", trail).exit_code == 0


def test_a_rejected_order_leaves_the_worklist_and_cannot_be_released(trail, credit):
    result = credit("order", "reject", "SO-201", "--reason", "60 days in arrears", "--by",
                    "ana", "--role", "credit_analyst", "--as-of", AS_OF, "--db", trail)
    assert result.exit_code == 0, result.stderr
    assert worklist(credit, trail) == {"SO-102": "blocked"}
    refused = release(credit, trail, "SO-201", "ben", "credit_manager")
    assert (refused.exit_code, refused.stderr) == (
        1, "credit: error: order SO-201 is rejected: nothing to release\n")


@pytest.mark.parametrize(("order_id", "role", "message"), [
    ("SO-101", "credit_manager", "order SO-101 is passed: nothing to release"),
    ("SO-999", "credit_manager", "order SO-999 has not been checked (credit check-order)"),
    ("SO-201", "sales_rep", "role 'sales_rep' is not in the authority matrix "
                            "(credit_analyst, credit_manager, credit_committee)"),
])
def test_what_cannot_be_released_is_one_line(trail, credit, order_id, role, message):
    result = release(credit, trail, order_id, "ana", role)
    assert (result.exit_code, result.stderr) == (1, f"credit: error: {message}\n")


def test_a_ruleset_without_order_release_lets_no_one_release(trail, credit, tmp_path):
    folder = tmp_path / "ruleset"
    shutil.copytree(DEFAULT_RULESET, folder)
    authority = folder / "authority.yaml"
    text = authority.read_text(encoding="utf-8")
    authority.write_text(text[:text.index("# Who may release")], encoding="utf-8")
    result = credit("order", "release", "SO-201", "--reason", "x", "--by", "ana", "--role",
                    "credit_manager", "--db", trail, "--ruleset", folder)
    assert (result.exit_code, result.stderr) == (
        1, "credit: error: ruleset default 1.0.0 lets no one release orders (order_release: "
           "in authority.yaml)\n")
