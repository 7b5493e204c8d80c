"""The monitor's credit holds as order checks see them, and lifting one by hand.

The monitor holds an account (an order above the limit, an insolvency filing) and lifts the
hold itself when the rules say so (a payment leaving room); some holds only a person lifts.
``credit hold lift`` records a ``hold-lifted`` record, with the reason, who and in which
role: the monitor lifts those holds from that day (``engine.monitor``), and the order check
no longer sees them. The ruleset's ``authority.yaml`` names the lowest role that may
(``order_release: lift_holds_from``).
"""

from __future__ import annotations

import datetime as dt
import json

from ..audit.store import AuditStore
from ..errors import CreditRulesError
from ..ruleset.compiler import CompiledRuleset
from .records import act_record

KIND = "hold-lifted"


class HoldError(CreditRulesError):
    """A hold that may not be lifted as asked (and why)."""


def open_holds(store: AuditStore, customer_id: str, as_of: dt.date) -> dict[str, str]:
    """The monitor's holds on the customer's account still open on ``as_of``: hold id ->
    the rule that took it, from the hold and release actions it recorded and the holds
    people lifted."""
    held: dict[str, str] = {}
    params = [customer_id, as_of.isoformat()]
    rows = [*store.iter_rows(
        "SELECT seq, as_of, kind, body FROM records WHERE customer_id = ? AND kind = "
        "'action' AND outcome IN ('hold', 'release') AND as_of <= ?", params),
            *store.iter_rows(
        f"SELECT seq, as_of, kind, body FROM records WHERE customer_id = ? AND kind = "
        f"'{KIND}' AND as_of <= ?", params)]  # two queries: each uses its own index
    for row in sorted(rows, key=lambda row: (row["as_of"], row["seq"])):
        body = json.loads(row["body"])
        if row["kind"] == KIND:
            for hold in body["holds"]:
                held.pop(hold, None)
        elif body["action"] == "hold":
            held[f"#hold:{body['firing']}"] = body["details"]["reason"]
        else:
            for lifted in body["details"]["released"]:
                held.pop(lifted["hold"], None)
    return held


def lift_hold(store: AuditStore, ruleset: CompiledRuleset, customer_id: str, *, by: str,
              role: str, reason: str, as_of: dt.date, rule: str | None = None
              ) -> tuple[list[str], int]:
    """Lift the customer's open holds (only those ``rule`` took, when given); returns the
    rules whose holds were lifted and the record's number."""
    authority = ruleset.authority or {}
    names = [r["name"] for r in authority.get("roles") or []]
    lowest = (authority.get("order_release") or {}).get("lift_holds_from")
    if lowest is None:
        raise HoldError(f"ruleset {ruleset.name} {ruleset.version} lets no one lift a hold "
                        "(order_release: lift_holds_from: in authority.yaml)")
    if role not in names:
        raise HoldError(f"role {role!r} is not in the authority matrix ({', '.join(names)})")
    if names.index(role) < names.index(lowest):
        raise HoldError(f"lifting a hold needs {lowest} or above, not {role}")
    holds = {hold: taken_by for hold, taken_by in open_holds(store, customer_id,
                                                              as_of).items()
             if rule is None or taken_by == rule}
    if not holds:
        which = f" taken by {rule}" if rule else ""
        raise HoldError(f"customer {customer_id} has no open hold{which} on "
                        f"{as_of.isoformat()}")
    body = {"event": "lifted", "customer_id": customer_id, "holds": sorted(holds),
            "rules": sorted(set(holds.values())), "by": by, "role": role, "reason": reason,
            "as_of": as_of.isoformat()}
    record = act_record(KIND, body, ruleset, outcome="lifted")
    return body["rules"], store.append([record])[0][0]
