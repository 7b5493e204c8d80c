"""Credit limit requests: a limit asked for by a person, routed by the ruleset's
``approval.yaml`` to the level that must sign, approved or rejected under
``authority.yaml``, and in effect only once approved, until its validity date.

Routing asks the approval table what the customer's latest decision would need with the
requested limit in place of its own (a request always needs a person: at least the lowest
level that is not automatic). The approver must be another person than the requester, in
a role at least that level whose ``max_limit`` (when set) covers the amount. Every step is
an audit record (kind ``limit-request``); the order check uses an approved limit newer
than the latest decision while it is valid, and says when one expired.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..audit.queries import latest_decision
from ..audit.store import AuditStore, NewRecord
from ..errors import CreditRulesError
from ..ruleset.compiler import CompiledRuleset
from .records import act_record

KIND = "limit-request"
AUTOMATIC = "automatic"  # the approval level no person signs


class LimitRequestError(CreditRulesError):
    """A limit request, approval or rejection that may not be made (and why)."""


@dataclass(frozen=True)
class EffectiveLimit:
    """The limit an order is checked against, and where it comes from."""

    amount: Decimal | None
    source: dict | None  # {"kind": "decision"|"limit request", "seq", ...}
    expired: bool = False  # an approved request newer than the decision ran out


def request_limit(store: AuditStore, ruleset: CompiledRuleset, customer_id: str, *,
                  amount: str, reason: str, by: str, valid_until: dt.date,
                  as_of: dt.date) -> tuple[str, str, int]:
    """Record a request; returns its id, the level that must sign it and the record's
    number."""
    decision = latest_decision(store, customer_id, as_of)
    if decision is None:
        raise LimitRequestError(f"customer {customer_id} has no credit decision on or before "
                                f"{as_of.isoformat()} to ask a limit against")
    if valid_until <= as_of:
        raise LimitRequestError(f"a limit valid until {valid_until.isoformat()} would not "
                                f"hold after {as_of.isoformat()}")
    amount = format(Decimal(amount).quantize(ruleset.rounding[0]), "f")
    level = required_level(store, ruleset, decision, Decimal(amount))

    def request(seq: int) -> NewRecord:  # the id is the record's own number
        return _record(ruleset, {
            "event": "requested", "id": f"LR-{seq}", "customer_id": customer_id,
            "amount": amount, "currency": ruleset.currency, "reason": reason, "by": by,
            "required_level": level, "decision_seq": decision["seq"],
            "valid_until": valid_until.isoformat(), "as_of": as_of.isoformat()})

    seq, _ = store.append_numbered(request)
    return f"LR-{seq}", level, seq


def required_level(store: AuditStore, ruleset: CompiledRuleset, decision: dict,
                   amount: Decimal) -> str:
    """The level that must sign ``amount`` for the customer of ``decision`` (a decision
    record row): the approval table over that decision with the limit asked for."""
    summary = store.body(decision)["decision"]
    values = {"credit_limit": amount, "admission_outcome": decision["outcome"],
              "grade": decision["grade"], "score": (summary.get("grading") or {}).get("score"),
              "band_grade": (summary.get("grading") or {}).get("band_grade"),
              "overrides_applied": len(summary.get("overrides") or [])}
    try:
        level = ruleset.approval(_AnyFact(values), lambda entry: None)
    except (KeyError, TypeError, ValueError, InvalidOperation):
        level = None
    signers = [name for name in ruleset.levels if name != AUTOMATIC]
    if not signers:
        raise LimitRequestError(f"ruleset {ruleset.name} {ruleset.version} names no approval "
                                "level that signs (levels: in approval.yaml)")
    return level if level in signers else signers[0]


class _AnyFact(dict):
    """The approval table's view: the decision's values, and nothing for a fact it reads
    that a limit request does not have (so that its rules on those do not match)."""

    def __missing__(self, key):
        return None


def answer_request(store: AuditStore, ruleset: CompiledRuleset, request_id: str, *,
                   approve: bool, by: str, role: str, reason: str, as_of: dt.date) -> int:
    """Approve or reject a pending request; returns the record's number."""
    request, answered = _request(store, request_id)
    if answered is not None:
        raise LimitRequestError(f"limit request {request_id} was already {answered}")
    if by == request["by"]:
        raise LimitRequestError(f"limit request {request_id} needs another person than "
                                f"{by}, who asked for it")
    roles = {r["name"]: r for r in (ruleset.authority or {}).get("roles") or []}
    if role not in roles:
        raise LimitRequestError(f"role {role!r} is not in the authority matrix "
                                f"({', '.join(roles)})")
    if approve:
        levels = list(ruleset.levels)
        needed = request["required_level"]
        if role not in levels or levels.index(role) < levels.index(needed):
            raise LimitRequestError(f"limit request {request_id} needs the signature of "
                                    f"{needed} or above, not {role}")
        most = roles[role].get("max_limit")
        if most is not None and Decimal(request["amount"]) > Decimal(str(most)):
            raise LimitRequestError(f"{role} may set limits up to {Decimal(str(most)):,.2f} "
                                    f"{ruleset.currency}; the request is for "
                                    f"{Decimal(request['amount']):,.2f}")
    body = {"event": "approved" if approve else "rejected", "id": request_id,
            "customer_id": request["customer_id"], "amount": request["amount"],
            "by": by, "role": role, "reason": reason, "as_of": as_of.isoformat(),
            "valid_until": request["valid_until"]}
    return _append(store, ruleset, body)


def effective_limit(store: AuditStore, customer_id: str, decision: dict | None,
                    as_of: dt.date) -> EffectiveLimit:
    """The limit an order of the customer is checked against on ``as_of``: an approved
    request newer than its latest decision while valid, else that decision's limit."""
    approved = next(store.iter_rows(
        f"SELECT seq, body FROM records WHERE customer_id = ? AND kind = '{KIND}' AND "
        "outcome = 'approved' AND as_of <= ? ORDER BY seq DESC LIMIT 1",
        [customer_id, as_of.isoformat()]), None)
    from_decision = EffectiveLimit(
        None if decision is None or decision["credit_limit"] is None
        else Decimal(decision["credit_limit"]),
        None if decision is None else {"kind": "decision", "seq": decision["seq"],
                                       "decision_id": decision["decision_id"],
                                       "as_of": decision["as_of"]})
    if approved is None or (decision is not None and approved["seq"] < decision["seq"]):
        return from_decision
    body = json.loads(approved["body"])
    if dt.date.fromisoformat(body["valid_until"]) < as_of:
        return EffectiveLimit(from_decision.amount, from_decision.source, expired=True)
    return EffectiveLimit(Decimal(body["amount"]), {
        "kind": "limit request", "seq": approved["seq"], "id": body["id"],
        "as_of": body["as_of"], "valid_until": body["valid_until"]})


def _request(store: AuditStore, request_id: str) -> tuple[dict, str | None]:
    found = [json.loads(row["body"]) for row in store.iter_rows(
        f"SELECT body FROM records WHERE kind = '{KIND}' AND "
        "json_extract(body, '$.id') = ? ORDER BY seq", [request_id])]
    if not found:
        raise LimitRequestError(f"no limit request {request_id}")
    answered = next((b["event"] for b in found[1:]), None)
    return found[0], answered


def _append(store: AuditStore, ruleset: CompiledRuleset, body: dict) -> int:
    return store.append([_record(ruleset, body)])[0][0]


def _record(ruleset: CompiledRuleset, body: dict) -> NewRecord:
    return act_record(KIND, body, ruleset, outcome=body["event"])
