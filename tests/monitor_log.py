"""An account's event log for monitoring tests, written through the real paths: a decision
appended as ``credit decide`` appends it, events ingested from a JSON Lines file, and the
monitor run on the real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from engine.audit.decision_records import decision_record
from engine.audit.events import ingest_events
from engine.audit.store import AuditStore
from engine.decide.pipeline import decide
from engine.monitor.run import MonitorReport, run_monitor
from engine.replay import Replayer
from engine.ruleset.compiler import CompiledRuleset
from tests.sample_customers import strong_customer

CUSTOMER = "T-STRONG"


class Log:
    """One audit file holding a customer's decision and account events."""

    def __init__(self, folder: Path, ruleset: CompiledRuleset, customer: str = CUSTOMER):
        self.folder = folder
        self.path = folder / "monitor.db"
        self.ruleset = ruleset
        self.customer = customer
        self.count = 0

    def decide(self, as_of: str = "2025-12-31", **changes: object) -> Decimal:
        """Record a decision for the customer; returns its credit limit. The strong customer
        buys 720,000 a month with a 12,000,000 net worth, so its AAA limit is 1,800,000
        (720,000 x (60 + 15) / 30, and 15% of net worth), the amount the tests' orders and
        invoices are measured against."""
        facts = strong_customer(id=self.customer, **{
            "attributes.monthly_purchases": 720000, "financials.equity": 12000000, **changes})
        decision = decide(self.ruleset, facts, dt.date.fromisoformat(as_of))
        with AuditStore(self.path) as store:
            store.store_ruleset(self.ruleset)
            record, _ = decision_record(decision, store.salt)
            store.append([record])
        return decision.credit_limit

    def add(self, *events: dict) -> None:
        """Ingest events (each given an id and the customer unless it has them)."""
        lines = []
        for event in events:
            self.count += 1
            lines.append(json.dumps({"id": f"E{self.count:05d}", "customer_id": self.customer,
                                     **event}))
        source = self.folder / f"events-{self.count}.jsonl"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with AuditStore(self.path) as store:
            report = ingest_events(store, source)
        assert not report.bad, report.bad

    def monitor(self, as_of: str, record: bool = True) -> MonitorReport:
        with AuditStore(self.path) as store:
            return run_monitor(store, self.ruleset, dt.date.fromisoformat(as_of),
                               record=record)

    def replays_identically(self) -> bool:
        """Whether every decision and action in the file replays byte for byte."""
        with AuditStore(self.path) as store:
            replayer = Replayer(store)
            return all(replayer.replay(row).matched for row in store.iter_rows(
                "SELECT * FROM records WHERE kind IN ('action', 'decision')"))

    def actions(self, report: MonitorReport, kind: str | None = None) -> list[tuple]:
        """(date, rule, action) of a report's actions, optionally of one kind."""
        return [(a["date"], a["rule"], a["action"]) for a in report.actions
                if kind is None or a["action"] == kind]


def invoice(day: str, invoice_id: str, amount: float, due: str) -> dict:
    return {"type": "invoice_issued", "occurred_at": day, "invoice_id": invoice_id,
            "amount": amount, "due_date": due}


def payment(day: str, amount: float, invoice_id: str | None = None) -> dict:
    event = {"type": "payment_received", "occurred_at": day, "amount": amount}
    if invoice_id:
        event["invoice_id"] = invoice_id
    return event


def promise(day: str, invoice_id: str, promised: str, amount: float) -> dict:
    return {"type": "promise_to_pay", "occurred_at": day, "invoice_id": invoice_id,
            "promised_date": promised, "amount": amount}


def alert(day: str, kind: str) -> dict:
    return {"type": "bureau_alert", "occurred_at": day, "kind": kind}


def order(day: str, amount: float) -> dict:
    return {"type": "order_placed", "occurred_at": day, "amount": amount}


def contact(day: str, channel: str) -> dict:
    return {"type": "contact_made", "occurred_at": day, "channel": channel,
            "outcome": "reached"}


def dispute(day: str, invoice_id: str) -> dict:
    return {"type": "dispute_opened", "occurred_at": day, "invoice_id": invoice_id,
            "reason": "damaged goods"}


def days_after(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()
