"""Expert overrides: the authority matrix (each role at and beyond its limit), four eyes,
expiry, revocation, and the register through the CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from engine.canonical import canonical_json
from engine.decide.pipeline import decide
from engine.ruleset.compiler import compile_ruleset
from engine.ruleset.source import source_from_content
from tests.sample_customers import strong_customer

AS_OF = dt.date(2026, 11, 30)


def decide_with(ruleset, *overrides, **changes):
    doc = strong_customer(**changes)
    doc["overrides"] = [{"id": f"ov-{i}", "approvals": [], "reason": "test", **o}
                        for i, o in enumerate(overrides)]
    return decide(ruleset, doc, AS_OF).to_dict()


def judged(data):
    return [(o["applied"], o["why"]) for o in data["overrides"]]


def test_no_override_leaves_the_decision_alone(default_ruleset):
    data = decide(default_ruleset, strong_customer(), AS_OF).to_dict()
    assert data["overrides"] == [] and data["grading"]["grade"] == "AAA"


@pytest.mark.parametrize(("role", "notches", "applied"), [
    ("credit_analyst", -1, True), ("credit_analyst", -2, False),
    ("credit_manager", -2, True), ("credit_manager", -3, False),
    ("credit_committee", -6, True)])
def test_each_role_at_and_beyond_its_notch_limit(default_ruleset, role, notches, applied):
    approvals = [{"by": "zoe", "role": "credit_committee"}]  # four eyes satisfied
    data = decide_with(default_ruleset, {"kind": "notches", "value": notches, "by": "ann",
                                         "role": role, "approvals": approvals})
    grades = list(default_ruleset.grades)
    expected = grades[min(-notches, len(grades) - 1)] if applied else "AAA"
    assert data["grading"]["grade"] == expected
    assert data["grading"]["band_grade"] == "AAA"
    assert data["overrides"][0]["applied"] is applied
    if not applied:
        assert f"{role} may move a grade" in data["overrides"][0]["why"]


def test_moving_two_notches_needs_a_second_person(default_ruleset):
    override = {"kind": "grade", "value": "A", "by": "ann", "role": "credit_manager"}
    alone = decide_with(default_ruleset, override)
    assert alone["grading"]["grade"] == "AAA"
    assert "awaiting a second approval" in alone["overrides"][0]["why"]
    self_approved = decide_with(default_ruleset, {**override, "approvals": [
        {"by": "ann", "role": "credit_committee"}]})
    assert self_approved["overrides"][0]["applied"] is False
    junior = decide_with(default_ruleset, {**override, "approvals": [
        {"by": "bob", "role": "credit_analyst"}]})
    assert junior["overrides"][0]["applied"] is False
    approved = decide_with(default_ruleset, {**override, "approvals": [
        {"by": "bob", "role": "credit_manager"}]})
    assert approved["grading"]["grade"] == "A" and approved["overrides"][0]["applied"]


@pytest.mark.parametrize(("role", "limit", "applied"), [
    ("credit_analyst", 100000, True), ("credit_analyst", 100001, False),
    ("credit_manager", 250000, True)])
def test_limit_within_authority_and_below_the_four_eyes_amount(default_ruleset, role, limit,
                                                                applied):
    data = decide_with(default_ruleset, {"kind": "limit", "value": limit, "by": "ann",
                                         "role": role})
    assert data["overrides"][0]["applied"] is applied
    assert data["policy"]["credit_limit"] == (f"{limit}.00" if applied else "70000.00")


def test_limit_above_the_four_eyes_amount_needs_another_approver(default_ruleset):
    override = {"kind": "limit", "value": 250001, "by": "ann", "role": "credit_manager"}
    assert judged(decide_with(default_ruleset, override))[0][0] is False
    data = decide_with(default_ruleset, {**override, "approvals": [
        {"by": "cy", "role": "credit_committee"}]})
    assert data["policy"]["credit_limit"] == "250001.00"


def test_a_lower_limit_brings_the_exposure_referral_back(default_ruleset):
    data = decide_with(default_ruleset, {"kind": "limit_cap", "value": 60000, "by": "ann",
                                         "role": "credit_analyst"})
    assert data["policy"]["credit_limit"] == "60000.00"
    assert data["admission"]["outcome"] == "refer"  # 50,000 asked + 20,000 owed > 60,000
    assert data["admission"]["reasons"][-1]["code"] == "EXPOSURE_ABOVE_LIMIT"


def test_expired_override_is_not_applied(default_ruleset):
    override = {"kind": "notches", "value": -1, "by": "ann", "role": "credit_analyst"}
    on_the_day = decide_with(default_ruleset, {**override, "expires": "2026-11-30"})
    assert on_the_day["overrides"][0]["applied"] is True
    day_after = decide_with(default_ruleset, {**override, "expires": "2026-11-29"})
    assert judged(day_after) == [(False, "expired on 2026-11-29")]


def test_unknown_role_and_forced_referral(default_ruleset):
    data = decide_with(default_ruleset,
                       {"kind": "notches", "value": -1, "by": "ann", "role": "intern"},
                       {"kind": "refer", "value": True, "by": "ann",
                        "role": "credit_analyst", "reason": "new owner"})
    assert judged(data)[0] == (False, "role 'intern' is not in the authority matrix")
    assert data["admission"]["outcome"] == "refer"
    assert data["admission"]["reasons"][-1] == {"code": "OVERRIDE_REFER",
                                                "message": "ann: new owner",
                                                "stage": "overrides"}


def test_overrides_replay_identically_from_stored_content(default_ruleset):
    content = json.loads(canonical_json(default_ruleset.source.content))
    rebuilt = compile_ruleset(source_from_content(content, "stored"))
    override = {"kind": "grade", "value": "A", "by": "ann", "role": "credit_manager",
                "approvals": [{"by": "bob", "role": "credit_manager"}]}
    assert canonical_json(decide_with(rebuilt, override)) == \
        canonical_json(decide_with(default_ruleset, override))


def test_register_through_the_cli(tmp_path, credit):
    customer = tmp_path / "c.json"
    customer.write_text(json.dumps(strong_customer()))
    added = credit("override", "add", "T-STRONG", "--limit", "500000", "--reason", "order",
                   "--by", "bob", "--role", "credit_manager")
    assert added.exit_code == 0 and added.stdout.startswith("added ov-")
    override_id = added.stdout.split()[1].rstrip(":")
    assert credit("override", "approve", override_id, "--by", "bob",
                  "--role", "credit_committee").exit_code == 1  # not the requester
    decision = json.loads(credit("decide", customer, "--as-of", "2026-11-30",
                                 "--json").stdout)
    assert decision["overrides"][0]["applied"] is False
    assert credit("override", "approve", override_id, "--by", "dora",
                  "--role", "credit_committee").exit_code == 0
    decision = json.loads(credit("decide", customer, "--as-of", "2026-11-30",
                                 "--json").stdout)
    assert decision["policy"]["credit_limit"] == "500000.00"
    assert credit("override", "revoke", override_id, "--by", "dora").exit_code == 0
    decision = json.loads(credit("decide", customer, "--as-of", "2026-11-30",
                                 "--json").stdout)
    assert decision["overrides"] == []
    listed = json.loads(credit("override", "list", "--all", "--json").stdout)
    assert listed[0]["revoked"] is True and listed[0]["approvals"] == [
        {"by": "dora", "role": "credit_committee"}]
    assert credit("audit", "verify").exit_code == 0
    assert credit("replay", "--all").exit_code == 0


@pytest.mark.parametrize("args", [["--grade", "A", "--limit", "5"], []])
def test_add_needs_exactly_one_kind(args, credit):
    result = credit("override", "add", "C-1", *args, "--reason", "r", "--by", "a",
                    "--role", "credit_analyst")
    assert result.exit_code == 2


def test_a_cap_cannot_give_a_limit_the_policy_could_not_compute(default_ruleset):
    # No equity: the policy has no limit and refers. A cap must not become the limit.
    data = decide_with(default_ruleset, {"kind": "limit_cap", "value": 5000000, "by": "ann",
                                         "role": "credit_analyst"},
                       **{"financials.equity": None})
    assert data["policy"]["credit_limit"] is None
    assert data["admission"]["outcome"] == "refer"
    assert "LIMIT_UNDETERMINED" in [r["code"] for r in data["admission"]["reasons"]]


@pytest.mark.parametrize("value", ["NaN", "inf", 1e30, -5, "lots", True])
def test_an_override_amount_that_is_no_amount_is_not_applied(default_ruleset, value):
    data = decide_with(default_ruleset, {"kind": "limit_cap", "value": value, "by": "ann",
                                         "role": "credit_analyst"})
    assert data["overrides"][0]["applied"] is False
    assert data["overrides"][0]["why"].endswith("is not an amount from 0 to 10^15")
    assert data["policy"]["credit_limit"] == "70000.00"


def test_an_applied_override_needs_a_manager_to_sign_off(default_ruleset):
    smaller = {"requested_amount": 20000}  # limit 40,000 (20,000 + 20,000 owed): automatic
    assert decide_with(default_ruleset, **smaller)["approval"]["required_level"] == "automatic"
    capped = decide_with(default_ruleset, {"kind": "limit_cap", "value": 30000, "by": "ann",
                                           "role": "credit_analyst"}, **smaller)
    assert capped["overrides"][0]["applied"] is True
    assert capped["policy"]["credit_limit"] == "30000.00"
    assert capped["approval"]["required_level"] == "credit_manager"
    expired = decide_with(default_ruleset, {"kind": "limit_cap", "value": 30000, "by": "ann",
                                            "role": "credit_analyst", "expires": "2026-01-01"},
                          **smaller)
    assert expired["approval"]["required_level"] == "automatic"


def test_reading_the_register_does_not_scan_the_trail(tmp_path):
    """The register is read after every batch commit: it must use its own index, or the
    cost of a batch grows with the whole trail."""
    from engine.audit.store import AuditStore

    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        plan = store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT seq, recorded_at, body FROM records WHERE kind = "
            "'override' AND 1 ORDER BY seq").fetchall()
    assert "USING INDEX records_overrides" in " ".join(str(step[-1]) for step in plan)


def _register_of(path, monkeypatch, customer_id="T-STRONG"):
    from plugins.overrides import credit_rules_expert_judgments

    monkeypatch.setenv("CREDIT_DB", str(path))
    return [o["value"] for o in credit_rules_expert_judgments({"id": customer_id})]


def test_the_register_follows_every_change_of_a_busy_file(tmp_path, monkeypatch):
    """The plugin keeps one connection open to tell whether the register changed: an
    override appended after a decision is seen by the next, and so is one appended
    between records of other kinds."""
    from engine.audit.override_register import add_override
    from engine.audit.store import AuditStore, NewRecord

    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        assert _register_of(db, monkeypatch) == []
        add_override(store, "T-STRONG", "limit_cap", 1000, "r", "ann", "credit_analyst")
        assert _register_of(db, monkeypatch) == [1000]
        store.append([NewRecord("event", '{"id":"e-1"}', customer_id="T-OTHER")])
        assert _register_of(db, monkeypatch) == [1000]
        add_override(store, "T-STRONG", "limit_cap", 2000, "r", "ann", "credit_analyst")
        assert sorted(_register_of(db, monkeypatch)) == [1000, 2000]


def test_only_a_commit_changes_what_the_plugin_looks_at(tmp_path, monkeypatch):
    """The plugin looks at the write-ahead log alone while it is there: a checkpoint,
    which writes the file but leaves the log and the register as they were, reads
    nothing; an override written into the log begun again after a checkpoint (over the
    bytes it had, at the same size) is seen by the next decision."""
    from engine.audit.override_register import add_override
    from engine.audit.store import AuditStore, NewRecord
    from plugins import overrides

    db = tmp_path / "audit.db"
    log = tmp_path / "audit.db-wal"
    with AuditStore(db) as store:
        add_override(store, "T-STRONG", "limit_cap", 1000, "r", "ann", "credit_analyst")
        assert _register_of(db, monkeypatch) == [1000]
        store.append([NewRecord("event", '{"id":"e-1"}', customer_id="T-OTHER")])
        assert _register_of(db, monkeypatch) == [1000]  # a log to fold into the file
        file_before = db.stat().st_mtime_ns
        store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        assert db.stat().st_mtime_ns != file_before
        with monkeypatch.context() as patched:
            patched.setattr(overrides, "_file_stamp", None)  # not looked at, or it fails
            assert _register_of(db, monkeypatch) == [1000]
        size = log.stat().st_size
        store.conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
        add_override(store, "T-STRONG", "limit_cap", 2000, "r", "ann", "credit_analyst")
        assert log.stat().st_size == size
        assert sorted(_register_of(db, monkeypatch)) == [1000, 2000]
    overrides.close_reader()


def test_a_file_replaced_at_the_same_path_is_read_anew(tmp_path, monkeypatch):
    """Another audit file put where the first one was (the kept connection still holds
    the first): its register, not the first one's."""
    from engine.audit.override_register import add_override
    from engine.audit.store import AuditStore

    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        add_override(store, "T-STRONG", "limit_cap", 1000, "r", "ann", "credit_analyst")
    assert _register_of(db, monkeypatch) == [1000]
    other = tmp_path / "other.db"
    with AuditStore(other) as store:
        add_override(store, "T-STRONG", "limit_cap", 3000, "r", "ann", "credit_analyst")
    for suffix in ("", "-wal", "-shm"):
        if (tmp_path / f"other.db{suffix}").exists():
            (tmp_path / f"other.db{suffix}").replace(tmp_path / f"audit.db{suffix}")
        elif (tmp_path / f"audit.db{suffix}").exists():
            (tmp_path / f"audit.db{suffix}").unlink()
    assert _register_of(db, monkeypatch) == [3000]


def test_an_audit_file_made_after_decisions_without_one_is_read(tmp_path, monkeypatch):
    """Without an audit file there are no overrides, and nothing is kept of that: the file
    made afterwards (its write-ahead log still there, or folded in) is read on the next
    decision."""
    from engine.audit.override_register import add_override
    from engine.audit.store import AuditStore

    db = tmp_path / "audit.db"
    assert _register_of(db, monkeypatch) == []
    with AuditStore(db) as store:
        add_override(store, "T-STRONG", "limit_cap", 1000, "r", "ann", "credit_analyst")
        assert _register_of(db, monkeypatch) == [1000]
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"audit.db{suffix}").unlink(missing_ok=True)
    assert _register_of(db, monkeypatch) == []
    with AuditStore(db) as store:
        add_override(store, "T-STRONG", "limit_cap", 2000, "r", "ann", "credit_analyst")
    assert not (tmp_path / "audit.db-wal").exists()
    assert _register_of(db, monkeypatch) == [2000]
