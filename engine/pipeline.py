"""The pure decision: (compiled ruleset, enriched facts, as-of date) -> Decision.

No clock, no I/O, no randomness: the same inputs give the same decision, byte for byte,
which is what makes replay and simulation exact.
"""

from __future__ import annotations

import datetime as dt

from .compiler import CompiledRuleset
from .decision import Decision

REJECT = 2


def decide(ruleset: CompiledRuleset, facts: dict, as_of: dt.date) -> Decision:
    """Decide one customer. ``facts`` is the validated (and enriched) customer document.
    Raises DecisionError when the rules cannot decide (e.g. a unique table with two
    matching rules)."""
    trace: list = []
    record = trace.append
    v = ruleset.extract(facts, as_of)
    ruleset.derive(v, record)
    severity, reasons = ruleset.admission(v, record)
    v["admission_outcome"] = _OUTCOME_NAMES[severity]
    score, band_grade, grade, adjustments, grading_reasons = ruleset.grading(v, record)
    v["score"] = score
    v["band_grade"] = band_grade
    v["grade"] = grade
    policy = None
    if severity < REJECT:
        policy, referral = ruleset.policy(v, record)
        if referral is not None:
            reasons.append(referral[1])
            if referral[0] > severity:
                severity = referral[0]
                v["admission_outcome"] = _OUTCOME_NAMES[severity]
        v.update(policy)
    else:
        v.update(_NO_POLICY)
    required_level = ruleset.approval(v, record)
    return Decision(ruleset, facts, as_of, severity, reasons, score, band_grade, grade,
                    adjustments, grading_reasons, policy, required_level, trace)


_OUTCOME_NAMES = ("accept", "refer", "reject")
_NO_POLICY = dict.fromkeys(("credit_limit", "payment_term_days", "discount_rate",
                            "discount_days", "guarantee_required", "review_interval_days",
                            "total_exposure"))
