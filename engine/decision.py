"""The result of one decision, and its JSON form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from .admission import OUTCOMES
from .canonical import PLAIN, sha256_hex, to_jsonable


@dataclass(slots=True)
class Decision:
    """Everything a decision produced. ``to_dict`` gives the documented JSON shape."""

    ruleset: object  # CompiledRuleset (kept loose to avoid an import cycle)
    facts: dict
    as_of: dt.date
    severity: int
    admission_reasons: list
    score: float
    band_grade: str
    grade: str
    adjustments: list
    grading_reasons: list
    policy: dict | None
    required_level: str
    trace: list

    @property
    def outcome(self) -> str:
        return OUTCOMES[self.severity]

    @property
    def customer_id(self) -> str:
        return self.facts.get("id", "")

    @property
    def credit_limit(self) -> Decimal | None:
        return None if self.policy is None else self.policy["credit_limit"]

    @property
    def decision_id(self) -> str:
        """Derived from the inputs alone (ruleset hash, as-of date, enriched facts), so
        the same inputs always give the same id."""
        return "d-" + sha256_hex({"ruleset": self.ruleset.hash, "as_of": self.as_of,
                                  "facts": self.facts})[:32]

    def to_dict(self) -> dict:
        """The decision as JSON-ready data (amounts as decimal text)."""
        from . import __version__

        return {
            "decision_id": self.decision_id,
            "customer_id": self.customer_id,
            "as_of": self.as_of.isoformat(),
            "ruleset": self.ruleset.identity,
            "admission": {
                "outcome": self.outcome,
                "reasons": [{"code": c, "message": m, "stage": s}
                            for c, m, s in self.admission_reasons],
            },
            "grading": {
                "score": to_jsonable(self.score),
                "grade": self.grade,
                "band_grade": self.band_grade,
                "caps": self.adjustments,
                "reasons": self.grading_reasons,
            },
            "policy": self._policy_dict(),
            "approval": {"required_level": self.required_level},
            "trace": [_trace_entry(entry) for entry in self.trace],
            "engine_version": __version__,
        }

    def _policy_dict(self) -> dict | None:
        if self.policy is None:
            return None
        p = self.policy
        known = {"credit_limit", "payment_term_days", "discount_rate", "discount_days",
                 "guarantee_required", "review_interval_days", "total_exposure"}
        limit = p["credit_limit"]
        return {
            "credit_limit": None if limit is None else format(limit, "f"),
            "currency": self.ruleset.currency,
            "payment_term_days": p["payment_term_days"],
            "discount": {"rate": to_jsonable(p["discount_rate"]), "days": p["discount_days"]},
            "guarantee_required": p["guarantee_required"],
            "review_interval_days": p["review_interval_days"],
            "total_exposure": to_jsonable(p.get("total_exposure")),
            "extra": {k: to_jsonable(v) for k, v in p.items() if k not in known},
        }


def _trace_entry(entry: tuple) -> dict:
    (stage, rule_id, names), values, result = entry
    item = {"stage": stage, "id": rule_id,
            "read": {n: v if v.__class__ in PLAIN else to_jsonable(v)
                     for n, v in zip(names, values, strict=True)},
            "result": result if result.__class__ in PLAIN else to_jsonable(result)}
    if None in values:
        item["missing"] = [n for n, v in zip(names, values, strict=True) if v is None]
    return item
