"""The signals the monitor feeds its rules, and the fields each one carries.

A signal is one fact about one customer's account at one day: an event of the log as it
came in (with the account's position after it where a rule needs it), something the monitor
derives from the events (a payment applied to an invoice, a late payment), the clock
reaching a day (with the arrears then: how much is overdue, for how many days), the run
date, a hold the monitor put on the account (with the rule that put it and the amount of
the order it holds), the overdue balance cleared (by a payment or a dispute), or a rule
having acted (``fired``, so that a rule can wait after acting).
Every signal has ``id`` (unique for the customer), ``day`` (days since 0001-01-01, so
that windows are arithmetic: ``day <= first.day + 180``), ``n`` (its order among the
customer's signals) and ``event_id`` (the event it comes from; absent for the clock, the
run date and what the monitor itself adds).

Money is carried as a number (durable_rules compares doubles); every amount is converted
once from its exact decimal value, so two equal amounts compare equal.
"""

from __future__ import annotations

from ..language.expressions import BOOLEAN, INTEGER, NUMBER, STRING

COMMON = {"id": STRING, "day": INTEGER, "n": INTEGER, "event_id": STRING}

# Position fields a signal carries after it was applied to the account.
_POSITION = {"balance_after": NUMBER, "overdue_after": NUMBER, "credit_limit": NUMBER,
             "grade": STRING, "headroom": NUMBER}  # headroom: credit limit less balance

SIGNALS: dict[str, dict[str, str]] = {
    "invoice_issued": {"invoice_id": STRING, "amount": NUMBER, "due_day": INTEGER,
                       **_POSITION},
    "payment_received": {"amount": NUMBER, "invoice_id": STRING, "unapplied": NUMBER,
                         "overdue_before": NUMBER, **_POSITION},
    "payment_applied": {"invoice_id": STRING, "amount": NUMBER, "paid_total": NUMBER,
                        "invoice_amount": NUMBER, "cleared": BOOLEAN},
    "late_payment": {"invoice_id": STRING, "days_late": INTEGER, "amount": NUMBER},
    "promise_to_pay": {"invoice_id": STRING, "promised_day": INTEGER, "amount": NUMBER,
                       "target_paid": NUMBER},
    "dispute_opened": {"invoice_id": STRING, "reason": STRING, "dispute_id": STRING,
                       "amount": NUMBER, "owner": STRING},
    "dispute_resolved": {"dispute_id": STRING, "outcome": STRING, "credit_note_id": STRING},
    "instalment_plan_agreed": {"plan_id": STRING, "invoice_id": STRING},
    # a part of a promise (or of an instalment plan) not kept by its date, the day after
    "promise_broken": {"promise_id": STRING, "kind": STRING, "invoice_id": STRING,
                       "part": INTEGER, "amount": NUMBER, "promised_day": INTEGER,
                       "paid": NUMBER},
    "dispute_closed": {"invoice_id": STRING, "outcome": STRING},
    "contact_made": {"channel": STRING, "outcome": STRING},
    "bureau_alert": {"kind": STRING, "detail": STRING},
    "order_placed": {"amount": NUMBER, "order_id": STRING, "exposure_after": NUMBER,
                     **_POSITION},
    "order_cancelled": {"order_id": STRING, "amount": NUMBER},
    "delivery_made": {"order_id": STRING, "amount": NUMBER},
    "invoice_posted": {"invoice_id": STRING},
    "credit_note_issued": {"amount": NUMBER, "invoice_id": STRING},
    "liability_opened": {"liability_id": STRING, "amount": NUMBER, "kind": STRING},
    "liability_closed": {"liability_id": STRING},
    "security_received": {"security_id": STRING, "kind": STRING, "amount": NUMBER},
    "security_released": {"security_id": STRING},
    # a security expiring within security_review_days of the day, or expired (once each)
    "security_expiring": {"security_id": STRING, "kind": STRING, "amount": NUMBER,
                          "expires_day": INTEGER, "days_left": INTEGER},
    # the account's arrears at the end of the day (disputed items left out)
    "clock": {"overdue_amount": NUMBER, "days_overdue": INTEGER},
    "run_date": {"overdue_amount": NUMBER, "days_overdue": INTEGER, **_POSITION},
    "hold": {"reason": STRING, "amount": NUMBER},  # amount: of the order held
    "overdue_cleared": {"by": STRING, "overdue_before": NUMBER},  # by: the event type
    "fired": {"rule": STRING},  # a rule acted (so another firing can wait for a while)
}

# Fields whose values are a closed list: a condition comparing one with another literal is
# refused when the ruleset is checked (a typo would otherwise never match).
VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("bureau_alert", "kind"): ("downgrade", "upgrade", "legal_event", "insolvency_filing",
                               "payment_default"),
    ("contact_made", "channel"): ("reminder", "phone", "letter", "visit", "email", "legal"),
    ("dispute_closed", "outcome"): ("upheld", "rejected", "settled"),
    ("dispute_resolved", "outcome"): ("for_customer", "for_us", "withdrawn"),
    ("promise_broken", "kind"): ("promise", "instalment_plan"),
    ("security_expiring", "kind"): ("collateral", "guarantee", "credit_insurance"),
    ("security_received", "kind"): ("collateral", "guarantee", "credit_insurance"),
}


def fields_of(signal: str) -> dict[str, str]:
    """Every field a signal of this kind may carry, with its type."""
    return {**COMMON, **SIGNALS[signal]}
