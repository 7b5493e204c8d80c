"""``credit rescore``: grade again, on a date, the customers whose review is due or whose
payment behaviour crossed a threshold since their latest decision (credit management is
dynamic: a grade is not kept for ever on old news).

A customer is due when its latest decision on record (on or before the date) has a review
interval that has run out: its date plus ``review_interval_days`` is on or before the
rescore date. Its behaviour crossed a threshold when the oldest arrears of its account
moved into a later ageing bucket (current, 1-30, 31-60, 61-90, over 90 days past due;
disputed invoices left out) than on the day of that decision.

Each is decided again on its latest decision's input with the account's measures put in
(as the monitor's re-grade does: ``monitoring.yaml``'s ``regrade: facts:``; a customer
without events in the log keeps the credit history it was decided on), as of the
rescore date, and the decision is appended as any other (with its challenger). Time is the
rescore date, never the clock: running twice for a date decides no one twice, since the
second run finds every decision it made current.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

from ..audit.store import AuditStore, NewRecord
from ..enrich.exchange_rates import known_rates
from ..errors import DecisionError
from ..ruleset.compiler import CompiledRuleset
from ..service import decide_facts, store_rulesets
from .account import AGEING_BUCKETS, Account
from .regrade import account_facts, plain
from .run import MonitorError, log_rates

BUCKET_NAMES = (*(name for _, name in AGEING_BUCKETS), "ageing_over_90")
BUCKET_LABELS = ("current", "1-30 days", "31-60 days", "61-90 days", "over 90 days")


@dataclass
class Rescored:
    """One customer decided again: why, the grade and limit before and after, and the new
    decision's id (None when the rules could not decide: ``error`` says why)."""

    customer_id: str
    reasons: list[str]
    decision_before: str
    grade_before: str | None
    grade_after: str | None = None
    credit_limit_before: object = None
    credit_limit_after: object = None
    outcome: str | None = None
    decision_id: str | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return {"customer_id": self.customer_id, "reasons": self.reasons,
                "decision_before": self.decision_before, "grade_before": self.grade_before,
                "grade_after": self.grade_after,
                "credit_limit_before": self.credit_limit_before,
                "credit_limit_after": self.credit_limit_after, "outcome": self.outcome,
                "decision_id": self.decision_id, "error": self.error}


@dataclass
class RescoreReport:
    """What a rescore did: the customers decided again, how many decisions it read, and
    how many of those were not due."""

    as_of: dt.date
    rescored: list[Rescored] = field(default_factory=list)
    customers: int = 0  # with a decision on record

    @property
    def failed(self) -> int:
        return sum(item.error is not None for item in self.rescored)


def rescore(store: AuditStore, ruleset: CompiledRuleset, as_of: dt.date, *,
            record: bool = True) -> RescoreReport:
    """Decide again the customers due on ``as_of`` (see the module) and append their
    decisions unless ``record`` is False. Never prints."""
    if ruleset.monitoring is None:
        raise MonitorError(f"ruleset {ruleset.name} {ruleset.version} has no monitoring "
                           "rules: it does not say which account measures a re-grade reads "
                           "(regrade: facts: in monitoring.yaml)")
    report = RescoreReport(as_of)
    rates = known_rates(log_rates(store, ruleset, as_of))
    records: list[NewRecord] = []
    for row in _latest_decisions(store, as_of):
        report.customers += 1
        body = store.body(row)
        decided_on = dt.date.fromisoformat(row["as_of"])
        events = [json.loads(event["body"]) for event in store.iter_rows(
            "SELECT body FROM records WHERE kind = 'event' AND customer_id = ? AND as_of <= ? "
            "ORDER BY as_of, seq", [row["customer_id"], as_of.isoformat()])]
        reasons = _reasons(body, decided_on, as_of, events, ruleset.currency, rates)
        if not reasons:
            continue
        account = _fold(row["customer_id"], events, as_of, ruleset.currency)
        item = Rescored(row["customer_id"], reasons, row["decision_id"], row["grade"],
                        credit_limit_before=_limit(body))
        if events:
            facts, enriched, _ = account_facts(ruleset, body["input"],
                                               body.get("enriched") or {},
                                               account.measures(as_of, rates,
                                                                ruleset.rounding))
        else:  # the log says nothing of this customer: its recorded history stands
            facts, enriched = body["input"], body.get("enriched") or {}
        try:
            decided = decide_facts(ruleset, facts, as_of, enriched=enriched)
        except DecisionError as exc:
            item.error = str(exc)
        else:
            new_record, _ = decided.record(store.salt)
            records.append(new_record)
            decision = decided.decision
            item.decision_id = new_record.decision_id
            item.grade_after, item.outcome = decision.grade, decision.outcome
            item.credit_limit_after = plain(decision.credit_limit)
        report.rescored.append(item)
    if record and records:
        store_rulesets(store, ruleset)
        store.append(records)
    return report


def _limit(body: dict) -> object:
    limit = (body["decision"].get("policy") or {}).get("credit_limit")
    return None if limit is None else plain(Decimal(str(limit)))


def _latest_decisions(store: AuditStore, as_of: dt.date) -> list[dict]:
    """Each customer's latest decision on or before ``as_of``, by customer."""
    return list(store.iter_rows(
        "SELECT * FROM records WHERE seq IN (SELECT MAX(seq) FROM records WHERE "
        "kind = 'decision' AND as_of <= ? AND customer_id IS NOT NULL GROUP BY customer_id) "
        "ORDER BY customer_id", [as_of.isoformat()]))


def _reasons(body: dict, decided_on: dt.date, as_of: dt.date, events: list[dict],
             currency: str, rates: dict) -> list[str]:
    """Why a customer is due: its review, and its arrears in a later ageing bucket."""
    reasons = []
    interval = (body["decision"].get("policy") or {}).get("review_interval_days")
    if interval is not None and decided_on + dt.timedelta(days=interval) <= as_of:
        reasons.append(f"review due {(decided_on + dt.timedelta(days=interval)).isoformat()}")
    if events and decided_on < as_of:
        before = _worst_bucket(_fold("", events, decided_on, currency), decided_on, rates)
        now = _worst_bucket(_fold("", events, as_of, currency), as_of, rates)
        if now > before:
            reasons.append(f"arrears {BUCKET_LABELS[before]} -> {BUCKET_LABELS[now]}")
    return reasons


def _worst_bucket(account: Account, day: dt.date, rates: dict) -> int:
    """The index in BUCKET_NAMES of the oldest arrears' bucket (0: nothing past due)."""
    behaviour = account.behaviour(day, account.balance(rates), rates)
    return max((index for index, name in enumerate(BUCKET_NAMES) if behaviour[name] > 0),
               default=0)


def _fold(customer_id: str, events: list[dict], day: dt.date, currency: str) -> Account:
    account = Account(customer_id, currency)
    for event in events:
        if event["occurred_at"] <= day.isoformat():
            account.apply(event)
    return account
