"""The order credit check (``order_check.yaml``): checks a sales order must pass, over what
the trail says of its customer when it arrives. Every check is evaluated; any that hits
blocks the order with its reason.

What a check reads (``ORDER_FACTS``), all gathered before the check and recorded with it:
the order's amount and what it adds to the exposure (``order_counted``: its amount at the
open-orders weight, nothing when its delivery lies beyond the horizon), the exposure before
and with it, the effective credit limit, what is available under it and by how much the
order would go over it, whether an approved limit request newer than the latest decision
ran out (the limit is then the decision's), the oldest overdue item's days and the overdue
amount, for a customer in a group the group's limit, its exposure (the sum of its
members') before and with the order and the customer's share of the group's limit, the
grade,
outcome and age of the customer's latest decision, whether its review is due, whether the
account is on hold, and the payment term granted; and what the customer's security
(collateral, guarantees, credit insurance valid on the day: ``monitor/securities.py``)
covers of the exposure with the order (``cover``), that exposure net of it, and the
secured part of the credit limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..language.codegen import FunctionBuilder, Reporter, scope_for
from ..language.expressions import BOOLEAN, INTEGER, MONEY, STRING
from .checks import compile_checks

STAGE = "order_check"
OUTCOMES = ("pass", "block")
ORDER_FACTS = {"order_amount": MONEY, "order_counted": MONEY, "exposure": MONEY,
               "exposure_after": MONEY, "credit_limit": MONEY, "available": MONEY,
               "over_limit_by": MONEY, "days_overdue": INTEGER, "overdue_amount": MONEY,
               "grade": STRING, "decision_outcome": STRING, "days_since_decision": INTEGER,
               "review_due": BOOLEAN, "on_hold": BOOLEAN, "payment_term_days": INTEGER,
               "limit_expired": BOOLEAN, "group_limit": MONEY, "group_exposure": MONEY,
               "group_exposure_after": MONEY, "group_share": MONEY, "cover": MONEY,
               "exposure_net_of_cover": MONEY, "secured_limit": MONEY}
ALWAYS_KNOWN = frozenset({"order_amount", "order_counted", "exposure", "exposure_after",
                          "days_overdue", "overdue_amount", "review_due", "on_hold",
                          "limit_expired", "cover", "exposure_net_of_cover"})


def compile_order_check(spec: Mapping, fb: FunctionBuilder, rep: Reporter
                        ) -> tuple[str, ...]:
    """Write the order checks into ``fb``: the function returns the reasons of the checks
    that hit, ``(code, message, stage)`` tuples (none: the order passes). Returns the
    check ids."""
    fb.line("reasons = []")
    ids = compile_checks(spec, scope_for(ORDER_FACTS, non_null=ALWAYS_KNOWN), fb, rep, STAGE,
                         outcome=lambda check: "block")
    fb.line("return reasons")
    return ids
