"""The pure decision: (compiled ruleset, enriched facts, as-of date) -> Decision.

No clock, no I/O, no randomness: the same inputs give the same decision, byte for byte,
which is what makes replay and simulation exact.
"""

from __future__ import annotations

import datetime as dt

from ..errors import DecisionError
from ..language.runtime import round_money
from ..ruleset.admission import OUTCOMES
from ..ruleset.compiler import CompiledRuleset, rule_at
from ..ruleset.policy import POLICY_OUTPUTS, exposure_rule
from .decision import Decision
from .override_authority import LIMIT_KINDS, amount_of, judge, outcome_entry

REJECT = OUTCOMES.index("reject")


def decide(ruleset: CompiledRuleset, facts: dict, as_of: dt.date) -> Decision:
    """Decide one customer. ``facts`` is the validated (and enriched) customer document.
    Raises DecisionError when the rules cannot decide (e.g. a unique table with two
    matching rules, or arithmetic beyond what an amount can hold)."""
    try:
        return _decide(ruleset, facts, as_of)
    except DecisionError:
        raise
    except _RUNTIME_FAILURES as exc:
        where = rule_at(ruleset, exc)
        raise DecisionError(f"{where + ': ' if where else ''}{_reason(exc)}") from None


# What rules can meet on hostile values that the type checker cannot rule out: numbers past
# what an amount or a decimal text can hold, an infinity where a number was expected...
_RUNTIME_FAILURES = (ArithmeticError, ValueError, TypeError, AttributeError, RecursionError,
                     MemoryError)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ArithmeticError):  # decimal.InvalidOperation, OverflowError...
        return f"arithmetic failed: {type(exc).__name__}"
    if isinstance(exc, ValueError) and "digits" in str(exc):
        return "a whole number grew past 4,300 digits"
    if isinstance(exc, RecursionError | MemoryError):
        return f"the values grew too large ({type(exc).__name__})"
    return f"a value the rule cannot work with ({type(exc).__name__}: {exc})"


def _decide(ruleset: CompiledRuleset, facts: dict, as_of: dt.date) -> Decision:
    trace: list = []
    record = trace.append
    v, severity, reasons, graded = _through_grading(ruleset, facts, as_of, trace)
    v["admission_outcome"] = OUTCOMES[severity]
    score, band_grade, grade, adjustments, grading_reasons = graded
    v["score"] = score
    v["band_grade"] = band_grade
    v["grade"] = grade
    proposed = facts.get("overrides")
    judged = _judge_overrides(ruleset, proposed, as_of, grade) if proposed else []
    for _, applied, _, new_rank in judged:
        if applied and new_rank is not None:
            grade = ruleset.grades[new_rank]
            v["grade"] = grade
    policy = None
    if severity < REJECT:
        policy, referral = ruleset.policy(v, record)
        if judged:
            referral = _apply_limit_overrides(ruleset, judged, policy, referral)
        if referral is not None:
            reasons.append(referral[1])
            if referral[0] > severity:
                severity = referral[0]
                v["admission_outcome"] = OUTCOMES[severity]
        v.update(policy)
    else:
        v.update(_NO_POLICY)
    for override, applied, _, _ in judged:
        if applied and override.get("kind") == "refer":
            reasons.append(("OVERRIDE_REFER", f"{override.get('by')}: "
                            f"{override.get('reason')}", "overrides"))
            severity = max(severity, 1)
            v["admission_outcome"] = OUTCOMES[severity]
    # (Most customers come with no override: no generator or list to build for them.)
    v["overrides_applied"] = sum(1 for _, applied, _, _ in judged if applied) if judged else 0
    required_level = ruleset.approval(v, record)
    return Decision(ruleset, facts, as_of, severity, reasons, score, band_grade, grade,
                    adjustments, grading_reasons, policy, required_level, trace,
                    [outcome_entry(o, applied, why) for o, applied, why, _ in judged]
                    if judged else [])


def _through_grading(ruleset: CompiledRuleset, facts: dict, as_of: dt.date, trace: list
                     ) -> tuple[dict, int, list, tuple]:
    """Extract, derive, admission (with the enrichment failures handled) and grading:
    ``(values, severity, reasons, grading's result)``. The compiled ruleset's
    ``through_grading`` runs them as one function; where it raises (or the ruleset has
    none), the stage functions run one by one, and raise as they always did."""
    joined = ruleset.through_grading
    if joined is not None:
        try:
            v, (severity, reasons), graded = joined(facts, as_of, trace.append)
        except Exception:  # the stages one by one raise it, named by its rule
            trace.clear()
        else:
            return v, _failures_handled(ruleset, facts, severity, reasons), reasons, graded
    record = trace.append
    v = ruleset.extract(facts, as_of)
    ruleset.derive(v, record)
    severity, reasons = ruleset.admission(v, record)
    severity = _failures_handled(ruleset, facts, severity, reasons)
    return v, severity, reasons, ruleset.grading(v, record)


def _failures_handled(ruleset: CompiledRuleset, facts: dict, severity: int,
                      reasons: list) -> int:
    failures = facts.get("enrichment_failures")
    return _apply_failure_policy(ruleset, failures, severity, reasons) if failures \
        else severity


def _judge_overrides(ruleset: CompiledRuleset, proposed: list, as_of: dt.date,
                     grade: str) -> list[tuple[dict, bool, str, int | None]]:
    """Each proposed override judged against the authority matrix and the model grade."""
    rank = ruleset.grades.index(grade)
    judged = []
    for override in proposed:
        if not isinstance(override, dict):
            continue
        if not ruleset.authority:
            judged.append((override, False, "this ruleset has no authority matrix "
                           "(authority.yaml): no override is applied", None))
            continue
        judged.append((override, *judge(override, ruleset.authority, as_of, ruleset.grades,
                                        rank)))
    return judged


def _apply_limit_overrides(ruleset: CompiledRuleset, judged: list, policy: dict,
                           referral: tuple | None) -> tuple | None:
    """Set or cap the credit limit as the applied limit overrides say (in order), then
    check the exposure against the new limit. Returns the referral that now holds."""
    changed = False
    for override, applied, _, _ in judged:
        if not applied or override.get("kind") not in LIMIT_KINDS:
            continue
        amount = round_money(amount_of(override["value"]), ruleset.rounding)  # exact decimal
        current = policy["credit_limit"]
        if override["kind"] == "limit":
            policy["credit_limit"] = amount
        elif current is not None:  # a cap lowers a limit; it cannot set a missing one
            policy["credit_limit"] = min(current, amount)
        else:
            continue
        changed = True
    if not changed:
        return referral
    # The same rule the compiled policy stage applied, now against the new limit.
    rule = exposure_rule(ruleset.source.stages["policy"].data)
    exposure, limit = policy.get("total_exposure"), policy["credit_limit"]
    if rule and exposure is not None and exposure > limit:
        return rule
    return None





def _apply_failure_policy(ruleset: CompiledRuleset, failures: list, severity: int,
                          reasons: list) -> int:
    """Each recorded plugin failure, handled as the ruleset says for that source:
    continue (values stay missing), refer or reject, with a reason naming the plugin."""
    indicators = ruleset.enrichment.get("indicators") or {}
    bureau = ruleset.enrichment.get("bureau") or {}
    for failure in failures:
        source = failure.get("source")
        if failure.get("kind") == "overrides":
            # An expert judgment that could not be read: a person should look.
            policy, code = "refer", "OVERRIDES_UNAVAILABLE"
        elif failure.get("kind") == "bureau":
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


_NO_POLICY = dict.fromkeys((*POLICY_OUTPUTS, "total_exposure"))
