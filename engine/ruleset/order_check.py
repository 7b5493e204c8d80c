"""The order credit check (``order_check.yaml``): checks a sales order must pass, over what
the trail says of its customer when it arrives. Every check is evaluated; any that hits
blocks the order with its reason.

What a check reads (``ORDER_FACTS``), all gathered before the check and recorded with it:
the order's amount and what it adds to the exposure (``order_counted``: its amount at the
open-orders weight, nothing when its delivery lies beyond the horizon), the exposure before
and with it, the effective credit limit, what is available under it and by how much the
order would go over it, the oldest overdue item's days and the overdue amount, the grade,
outcome and age of the customer's latest decision, whether its review is due, whether the
account is on hold, and the payment term granted.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..language.codegen import FunctionBuilder, Reporter, scope_for
from ..language.expressions import BOOLEAN, INTEGER, MONEY, STRING

STAGE = "order_check"
OUTCOMES = ("pass", "block")
ORDER_FACTS = {"order_amount": MONEY, "order_counted": MONEY, "exposure": MONEY,
               "exposure_after": MONEY, "credit_limit": MONEY, "available": MONEY,
               "over_limit_by": MONEY, "days_overdue": INTEGER, "overdue_amount": MONEY,
               "grade": STRING, "decision_outcome": STRING, "days_since_decision": INTEGER,
               "review_due": BOOLEAN, "on_hold": BOOLEAN, "payment_term_days": INTEGER}
ALWAYS_KNOWN = frozenset({"order_amount", "order_counted", "exposure", "exposure_after",
                          "days_overdue", "overdue_amount", "review_due", "on_hold"})


def compile_order_check(spec: Mapping, fb: FunctionBuilder, rep: Reporter
                        ) -> tuple[str, ...]:
    """Write the order checks into ``fb``: the function returns the reasons of the checks
    that hit, ``(code, message, stage)`` tuples (none: the order passes). Returns the
    check ids."""
    scope = scope_for(ORDER_FACTS, non_null=ALWAYS_KNOWN)
    fb.line("reasons = []")
    ids: list[str] = []
    for index, check in enumerate(spec.get("checks", [])):
        path = ("checks", index)
        if check["id"] in ids:
            rep.error((*path, "id"), f"check id '{check['id']}' is used twice")
        ids.append(check["id"])
        compiled = rep.expression((*path, "when"), check["when"], scope, fb.ctx,
                                  expect=BOOLEAN)
        if compiled is None:
            continue
        reason = (check["reason"], check.get("message", check["reason"]), STAGE)
        fb.line(f"if {compiled.code}:")
        with fb.indented():
            fb.line(f"reasons.append({fb.ctx.constant(reason)})")
            fb.trace(STAGE, check["id"], compiled.reads, repr("block"))
    fb.line("return reasons")
    return tuple(ids)
