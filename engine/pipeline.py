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
    failures = facts.get("enrichment_failures")
    if failures:
        severity = _apply_failure_policy(ruleset, failures, severity, reasons)
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


def _apply_failure_policy(ruleset: CompiledRuleset, failures: list, severity: int,
                          reasons: list) -> int:
    """Each recorded plugin failure, handled as the ruleset says for that source:
    continue (values stay missing), refer or reject, with a reason naming the plugin."""
    indicators = ruleset.enrichment.get("indicators") or {}
    bureau = ruleset.enrichment.get("bureau") or {}
    for failure in failures:
        source = failure.get("source")
        if failure.get("kind") == "bureau":
            if source != "bureau":
                continue  # one connector failed: the waterfall went on; judged as a whole
            policy, code = bureau.get("on_unavailable", "refer"), "BUREAU_UNAVAILABLE"
        else:
            policy = (indicators.get(source) or {}).get("on_failure", "refer")
            code = "PLUGIN_FAILED"
        if policy == "continue":
            continue
        reasons.append((code, f"{source}: {failure.get('error')}", "enrichment"))
        severity = max(severity, 2 if policy == "reject" else 1)
    return severity


_OUTCOME_NAMES = ("accept", "refer", "reject")
_NO_POLICY = dict.fromkeys(("credit_limit", "payment_term_days", "discount_rate",
                            "discount_days", "guarantee_required", "review_interval_days",
                            "total_exposure"))
