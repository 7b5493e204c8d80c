"""Expert overrides inside the decision: each proposed override is judged against the
ruleset's authority matrix (``authority.yaml``) and applied or not, with the reason.

Pure: the overrides arrive in the enriched facts (``facts["overrides"]``, put there by
plugins such as the overrides register), the authority matrix is part of the ruleset, and
the date is the as-of date. An override is a mapping with ``id``, ``kind``, ``value``,
``by``, ``role``, ``reason``, optional ``expires`` (YYYY-MM-DD) and ``approvals``
(``[{"by", "role"}]``). Kinds:

- ``notches``: move the grade by ``value`` grades (positive = better, negative = worse);
- ``grade``: set the grade to ``value``;
- ``limit``: set the credit limit to ``value``;
- ``limit_cap``: cap the credit limit at ``value`` (any role may lower a limit);
- ``refer``: refer the case to a person.

An override is not applied when it has expired, when its author's role is not in the
matrix or lacks the authority (more notches or a larger limit than the role allows), or
when it needs a second approval (``second_approval``) that no other person with at least
the author's authority has given. Grade overrides are judged against the model's grade
(after caps and floors); when several apply, the last one written wins.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

GRADE_KINDS = ("notches", "grade")
LIMIT_KINDS = ("limit", "limit_cap")
KINDS = (*GRADE_KINDS, *LIMIT_KINDS, "refer")


def judge(override: dict, authority: dict, as_of: dt.date, grades: tuple[str, ...],
          rank: int) -> tuple[bool, str, int | None]:
    """(applied, why, new grade rank or None) for one override against the model grade
    ``rank`` (0 = best)."""
    kind, value = override.get("kind"), override.get("value")
    if kind not in KINDS:
        return False, f"unknown kind {kind!r}", None
    expires = override.get("expires")
    if expires:
        try:
            if as_of > dt.date.fromisoformat(str(expires)):
                return False, f"expired on {expires}", None
        except ValueError:
            return False, f"expiry {expires!r} is not a date", None
    roles = {r["name"]: r for r in authority.get("roles") or []}
    role_names = list(roles)  # lowest authority first
    role = override.get("role")
    if role not in roles:
        return False, f"role {role!r} is not in the authority matrix", None
    limits = roles[role] or {}
    second = authority.get("second_approval") or {}
    new_rank = None
    needs_second = False
    if kind in GRADE_KINDS:
        if kind == "notches":
            if not isinstance(value, int) or isinstance(value, bool):
                return False, f"notches must be a whole number, not {value!r}", None
            new_rank = min(max(rank - value, 0), len(grades) - 1)
        else:
            if value not in grades:
                return False, f"{value!r} is not a grade of this ruleset", None
            new_rank = grades.index(value)
        notches = abs(new_rank - rank)
        allowed = limits.get("max_notches")
        if allowed is not None and notches > allowed:
            return False, (f"{role} may move a grade {allowed} notch"
                           f"{'' if allowed == 1 else 'es'}, this moves it {notches}"), None
        needs_second = "notches_above" in second and notches > second["notches_above"]
    elif kind in LIMIT_KINDS:
        amount = amount_of(value)
        if amount is None:
            return False, f"limit {value!r} is not an amount from 0 to 10^15", None
        allowed = limits.get("max_limit")
        if kind == "limit" and allowed is not None and amount > Decimal(str(allowed)):
            return False, f"{role} may set limits up to {allowed}, not {value}", None
        needs_second = kind == "limit" and "limit_above" in second and \
            amount > Decimal(str(second["limit_above"]))
    if needs_second and not _second_approval(override, role_names):
        return False, (f"awaiting a second approval (by someone other than "
                       f"{override.get('by')} with at least {role}'s authority)"), None
    return True, "applied", new_rank


def _second_approval(override: dict, role_names: list[str]) -> bool:
    author_level = role_names.index(override["role"])
    for approval in override.get("approvals") or []:
        if approval.get("by") and approval.get("by") != override.get("by") and \
                approval.get("role") in role_names and \
                role_names.index(approval["role"]) >= author_level:
            return True
    return False


MAX_AMOUNT = Decimal(10) ** 15  # as the customer schema bounds amounts


def amount_of(value: object) -> Decimal | None:
    """A finite amount between 0 and 10^15, else None."""
    if isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and 0 <= amount <= MAX_AMOUNT else None


def outcome_entry(override: dict, applied: bool, why: str) -> dict:
    """How an override appears in the decision."""
    return {"id": override.get("id"), "kind": override.get("kind"),
            "value": override.get("value"), "by": override.get("by"),
            "role": override.get("role"), "reason": override.get("reason"),
            "applied": applied, "why": why}
