"""Blocked orders and their release: who may release a sales order the order credit check
blocked, the four eyes above a threshold, how long a release holds, and the worklist.

A release, a request for one and a rejection are audit records (kind ``order-release``)
naming the blocked check they answer (``check_seq``), who acted, in which role and why.
The ruleset's ``authority.yaml`` decides (``order_release``): each role may release an
order up to its ``max_release``; an order above ``second_approval_above`` needs a second
person, not the first, with at least the first's authority; a release holds for
``valid_days``, and an order checked again within them passes as released.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from ..audit.store import AuditStore
from ..errors import CreditRulesError
from ..ruleset.compiler import CompiledRuleset
from .records import act_record

KIND = "order-release"
CHECK_KIND = "order-check"


class ReleaseError(CreditRulesError):
    """A release or rejection that may not be made (and why)."""


@dataclass(frozen=True)
class OrderState:
    """Where a checked order stands: its latest check, and what answered it."""

    check_seq: int
    check: dict  # the check record's body
    status: str  # passed, blocked, awaiting second approval, released, release expired,
    #              rejected
    answers: tuple[dict, ...] = ()  # release records about that check, oldest first

    @property
    def order(self) -> dict:
        return self.check["order"]

    def row(self) -> dict:
        """A worklist line."""
        facts = self.check["facts"]
        released = next((a for a in reversed(self.answers) if a["event"] == "released"),
                        self.check["result"].get("release"))
        return {"order_id": self.order["id"], "customer_id": self.order["customer_id"],
                "amount": facts["order_amount"], "status": self.status,
                "reasons": " ".join(r["code"] for r in self.check["result"]["reasons"]),
                "over_limit_by": facts.get("over_limit_by"),
                "checked": self.check["as_of"], "check_seq": self.check_seq,
                "valid_until": released["valid_until"] if released else None}


def order_state(store: AuditStore, order_id: str, as_of: dt.date) -> OrderState | None:
    """The state of order ``order_id`` on ``as_of`` (None: never checked)."""
    row = next(store.iter_rows(
        f"SELECT seq, body FROM records WHERE kind = '{CHECK_KIND}' AND "
        "json_extract(body, '$.order.id') = ? ORDER BY seq DESC LIMIT 1", [order_id]), None)
    return None if row is None else _state(store, row["seq"], json.loads(row["body"]), as_of)


def _state(store: AuditStore, check_seq: int, check: dict, as_of: dt.date) -> OrderState:
    answers = tuple(json.loads(row["body"]) for row in store.iter_rows(
        f"SELECT body FROM records WHERE kind = '{KIND}' AND "
        "json_extract(body, '$.check_seq') = ? ORDER BY seq", [check_seq]))
    outcome = check["result"]["outcome"]
    status = {"pass": "passed", "block": "blocked"}.get(outcome)
    if outcome == "released":  # the checks blocked it, and a release held that day
        until = dt.date.fromisoformat(check["result"]["release"]["valid_until"])
        status = "released" if as_of <= until else "release expired"
    for answer in answers:
        if answer["event"] == "rejected":
            status = "rejected"
        elif answer["event"] == "release-requested":
            status = "awaiting second approval"
        elif answer["event"] == "released":
            status = "released" if as_of <= dt.date.fromisoformat(answer["valid_until"]) \
                else "release expired"
    return OrderState(check_seq, check, status, answers)


def blocked_orders(store: AuditStore, as_of: dt.date) -> list[OrderState]:
    """Orders whose latest check blocked them and that wait for someone: blocked,
    awaiting a second approval, or released and not shipped in time (check again)."""
    found = []
    for row in store.iter_rows(
            f"SELECT seq, body FROM records WHERE seq IN (SELECT max(seq) FROM records "
            f"WHERE kind = '{CHECK_KIND}' AND as_of <= ? GROUP BY "
            "json_extract(body, '$.order.id')) AND outcome IN ('block', 'released') "
            "ORDER BY seq",
            [as_of.isoformat()]):
        state = _state(store, row["seq"], json.loads(row["body"]), as_of)
        if state.status in ("blocked", "awaiting second approval", "release expired"):
            found.append(state)
    return found


def valid_release(store: AuditStore, order_id: str, amount: Decimal,
                  as_of: dt.date) -> dict | None:
    """A release of this order still holding on ``as_of`` for at least ``amount`` (the
    last one given), as the record says it; None when there is none."""
    for row in store.iter_rows(
            f"SELECT seq, body FROM records WHERE kind = '{KIND}' AND "
            "json_extract(body, '$.order_id') = ? ORDER BY seq DESC", [order_id]):
        answer = json.loads(row["body"])
        if answer["event"] != "released":
            continue
        if dt.date.fromisoformat(answer["valid_until"]) >= as_of >= \
                dt.date.fromisoformat(answer["as_of"]) and Decimal(answer["amount"]) >= amount:
            return {"seq": row["seq"], **{k: answer[k] for k in (
                "by", "role", "reason", "as_of", "valid_until", "amount")}}
        return None  # the latest release does not cover it
    return None


def release_order(store: AuditStore, ruleset: CompiledRuleset, order_id: str, *, by: str,
                  role: str, reason: str, as_of: dt.date) -> tuple[str, int]:
    """Release a blocked order (or ask for its release, when it needs a second person);
    returns the new status and the record's number. Raises ReleaseError saying why not."""
    state = _blocked(store, order_id, as_of, "release")
    policy, roles = _policy(ruleset)
    amount = Decimal(state.check["facts"]["order_amount"])
    limit = _role(roles, role).get("max_release")
    if limit is not None and amount > Decimal(str(limit)):
        raise ReleaseError(f"{role} may release orders up to {_money(limit)} "
                           f"{ruleset.currency}; order {order_id} is {_money(amount)}")
    second = policy.get("second_approval_above")
    approvals = [{"by": by, "role": role}]
    if second is not None and amount > Decimal(str(second)):
        asked = state.answers[-1] if state.status == "awaiting second approval" else None
        if asked is None:
            seq = _append(store, ruleset, state, "release-requested", by, role, reason, as_of)
            return "awaiting second approval", seq
        if asked["by"] == by:
            raise ReleaseError(f"order {order_id} is above {_money(second)} "
                               f"{ruleset.currency}: a second person must release it ({by} "
                               "asked for the release)")
        names = list(roles)
        if names.index(role) < names.index(asked["role"]):
            raise ReleaseError(f"the second release of order {order_id} needs at least the "
                               f"authority of {asked['role']}, who asked for it")
        approvals = [{"by": asked["by"], "role": asked["role"]}, *approvals]
    valid_until = as_of + dt.timedelta(days=int(policy["valid_days"]))
    seq = _append(store, ruleset, state, "released", by, role, reason, as_of,
                  valid_until=valid_until.isoformat(), approvals=approvals)
    return "released", seq


def reject_order(store: AuditStore, ruleset: CompiledRuleset, order_id: str, *, by: str,
                 role: str, reason: str, as_of: dt.date) -> int:
    """Reject a blocked order (any role of the authority matrix may); the record's number."""
    state = _blocked(store, order_id, as_of, "reject")
    _role(_policy(ruleset)[1], role)
    return _append(store, ruleset, state, "rejected", by, role, reason, as_of)


def _blocked(store: AuditStore, order_id: str, as_of: dt.date, doing: str) -> OrderState:
    state = order_state(store, order_id, as_of)
    if state is None:
        raise ReleaseError(f"order {order_id} has not been checked (credit check-order)")
    if state.status in ("passed", "released", "rejected"):
        until = next((f" until {a['valid_until']}" for a in reversed(state.answers)
                      if a["event"] == "released"), "")
        raise ReleaseError(f"order {order_id} is {state.status}{until}: nothing to {doing}")
    if state.status == "release expired":
        raise ReleaseError(f"the release of order {order_id} expired: check it again "
                           "(credit check-order) before releasing it")
    return state


def _policy(ruleset: CompiledRuleset) -> tuple[dict, dict[str, dict]]:
    authority = ruleset.authority or {}
    policy = authority.get("order_release")
    if not policy:
        raise ReleaseError(f"ruleset {ruleset.name} {ruleset.version} lets no one release "
                           "orders (order_release: in authority.yaml)")
    return policy, {r["name"]: r for r in authority.get("roles") or []}


def _role(roles: dict[str, dict], role: str) -> dict:
    if role not in roles:
        raise ReleaseError(f"role {role!r} is not in the authority matrix "
                           f"({', '.join(roles)})")
    return roles[role]


def _append(store: AuditStore, ruleset: CompiledRuleset, state: OrderState, event: str,
            by: str, role: str, reason: str, as_of: dt.date, **more) -> int:
    body = {"event": event, "order_id": state.order["id"],
            "customer_id": state.order["customer_id"],
            "amount": state.check["facts"]["order_amount"], "check_seq": state.check_seq,
            "by": by, "role": role, "reason": reason, "as_of": as_of.isoformat(), **more}
    return store.append([act_record(KIND, body, ruleset, outcome=event)])[0][0]


def _money(value: object) -> str:
    return f"{Decimal(str(value)):,.2f}"
