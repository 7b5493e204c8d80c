"""The expert overrides register: overrides kept in the audit trail as ``override``
records (added, approved, revoked), so every change to them is chained and verifiable
like a decision. The current state of an override is the fold of its events."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator

from ..canonical import canonical_json
from ..decide.override_authority import KINDS, LIMIT_KINDS, amount_of
from ..enrich.customer_documents import customer_id_problem
from ..ruleset.compiler import CompiledRuleset
from .store import AuditError, AuditStore, NewRecord


def add_override(store: AuditStore, customer_id: str, kind: str, value: object,
                 reason: str, by: str, role: str, expires: dt.date | None = None, *,
                 ruleset: CompiledRuleset | None = None) -> dict:
    """Register an override proposed by ``by`` acting as ``role``; returns its state.
    The customer id is checked as a customer document's is; with ``ruleset``, the role
    must be in its authority matrix and a grade one of its grades. An amount is kept
    exactly: a whole number, else its decimal text."""
    if kind not in KINDS:
        raise AuditError(f"unknown override kind {kind!r} (one of {', '.join(KINDS)})")
    if not reason.strip() or not by.strip():
        raise AuditError("an override needs a reason and the name of who gives it")
    wrong_id = customer_id_problem(customer_id)
    if wrong_id:
        raise AuditError(f"customer id {customer_id!r}: {wrong_id}")
    if kind in LIMIT_KINDS:
        amount = amount_of(value)
        if amount is None:
            raise AuditError(f"{value!r} is not an amount from 0 to 10^15")
        value = int(amount) if amount == amount.to_integral_value() else format(amount, "f")
    if ruleset is not None:
        check_role(ruleset, role)
        if kind == "grade" and value not in ruleset.grades:
            raise AuditError(f"{value!r} is not a grade of ruleset {ruleset.name} (one of "
                             f"{', '.join(ruleset.grades)})")
    override_id = "ov-" + secrets.token_hex(5)
    event = {"event": "added", "id": override_id, "customer_id": customer_id, "kind": kind,
             "value": value, "reason": reason, "by": by, "role": role,
             "expires": expires.isoformat() if expires else None}
    _append(store, customer_id, event)
    return get_override(store, override_id)


def check_role(ruleset: CompiledRuleset, role: str) -> None:
    """The role must be one of the ruleset's authority matrix. (Who may claim a role is
    not checked: credit-rules has no user accounts; the record names who said so.)"""
    roles = [r["name"] for r in ruleset.authority.get("roles", [])]
    if role not in roles:
        raise AuditError(f"role {role!r} is not in the authority matrix of ruleset "
                         f"{ruleset.name} (roles: {', '.join(roles) or 'none'})")


def approve_override(store: AuditStore, override_id: str, by: str, role: str) -> dict:
    """Record a second approval. The approver must not be the requester."""
    state = get_override(store, override_id)
    if state["revoked"]:
        raise AuditError(f"override {override_id} was revoked")
    if by == state["by"]:
        raise AuditError(f"{by} proposed override {override_id} and cannot also approve it")
    _append(store, state["customer_id"], {"event": "approved", "id": override_id,
                                          "by": by, "role": role})
    return get_override(store, override_id)


def revoke_override(store: AuditStore, override_id: str, by: str) -> dict:
    """Withdraw an override; it is never applied again."""
    state = get_override(store, override_id)
    if state["revoked"]:
        raise AuditError(f"override {override_id} was already revoked")
    _append(store, state["customer_id"], {"event": "revoked", "id": override_id, "by": by})
    return get_override(store, override_id)


def get_override(store: AuditStore, override_id: str) -> dict:
    found = list(_states(store, "json_extract(body, '$.id') = ?", [override_id]))
    if not found:
        raise AuditError(f"no override {override_id} in {store.path}")
    return found[0]


def list_overrides(store: AuditStore, customer_id: str | None = None,
                   include_revoked: bool = False) -> list[dict]:
    """Overrides in the order they were added (for one customer when given)."""
    where, params = ("customer_id = ?", [customer_id]) if customer_id else ("1", [])
    return [s for s in _states(store, where, params) if include_revoked or not s["revoked"]]


def _append(store: AuditStore, customer_id: str, event: dict) -> None:
    store.append([NewRecord("override", canonical_json(event), customer_id=customer_id)])


def _states(store: AuditStore, where: str, params: list) -> Iterator[dict]:
    states: dict[str, dict] = {}
    for row in store.iter_rows(f"SELECT seq, recorded_at, body FROM records WHERE kind = "
                               f"'override' AND {where} ORDER BY seq", params):
        event = json.loads(row["body"])
        if event["event"] == "added":
            states[event["id"]] = {key: event[key] for key in (
                "id", "customer_id", "kind", "value", "reason", "by", "role", "expires")}
            states[event["id"]].update(added_at=row["recorded_at"], seq=row["seq"],
                                       approvals=[], revoked=False)
        elif event["id"] in states:
            state = states[event["id"]]
            if event["event"] == "approved":
                state["approvals"].append({"by": event["by"], "role": event["role"]})
            elif event["event"] == "revoked":
                state["revoked"] = True
    yield from states.values()
