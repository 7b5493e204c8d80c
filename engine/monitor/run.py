"""``credit monitor``: the event log up to a date through the ruleset's monitoring rules,
one customer at a time, and the actions they take appended to the audit trail.

Each run reads the whole log up to its date, so per-customer state is rebuilt from the log
and deleted when the customer is done: memory holds one customer at a time. Actions that
earlier runs recorded are read back and not taken again, so running twice for the same
date takes no action twice. Every action is a record of kind ``action`` naming its rule,
its firing and the events that caused it; a re-grade also appends the decision it made.
Replaying an action runs the monitor again for its customer on the records that came
before it and checks that the same action comes out, byte for byte. Each recorded run
ends with a ``monitor-run`` record (its date, ruleset and counts); a run under changed
rules holds back what they find in what the latest run under other rules had already
seen, rather than take actions dated in the past.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..audit.store import AuditError, AuditStore, NewRecord
from ..canonical import canonical_json
from ..enrich.exchange_rates import Rate, exchange_rates
from ..ruleset.compiler import CompiledRuleset
from ..service import store_rulesets
from .customer_monitor import CustomerMonitor, MonitorAction
from .rete_session import ReteSession

_COLUMNS = ("seq, kind, customer_id, as_of, grade, credit_limit, decision_id, "
            "CASE WHEN kind = 'decision' THEN NULL ELSE body END AS body")


class MonitorError(AuditError):
    """The monitor cannot run on this ruleset or this audit file."""


@dataclass
class MonitorReport:
    """What a run did: the actions it took (record bodies, in order), how many firings
    earlier runs had already acted on, the worklist for the run date (the accounts
    overdue, and those with an open dispute or promise), and counts."""

    as_of: dt.date
    actions: list[dict] = field(default_factory=list)
    already_taken: int = 0
    held_back: int = 0  # firings a changed ruleset finds in what the last run had seen
    worklist: list[dict] = field(default_factory=list)
    customers: int = 0
    events: int = 0
    decisions: int = 0  # re-grade decisions appended
    counted: Counter = field(default_factory=Counter)
    rates: dict[str, Rate] = field(default_factory=dict)  # of the log's other currencies

    def counts(self) -> dict[str, int]:
        """Actions taken, by kind."""
        return dict(sorted(self.counted.items()))

    @property
    def overdue_accounts(self) -> int:
        """How many accounts of the worklist have something overdue."""
        return sum(line["overdue_amount"] > 0 for line in self.worklist)

    @property
    def taken(self) -> int:
        """How many actions this run took."""
        return sum(self.counted.values())


def run_monitor(store: AuditStore, ruleset: CompiledRuleset, as_of: dt.date, *,
                record: bool = True, commit_every: int = 500,
                on_action: Callable[[dict], None] | None = None,
                progress: Callable[[int], None] | None = None) -> MonitorReport:
    """Monitor every customer with records up to ``as_of``; append the new actions (and
    re-grade decisions) unless ``record`` is False. Each action's body goes to
    ``on_action`` when given (then the report keeps counts only, so memory stays flat on
    a long log), else into ``report.actions``. ``progress`` is told the number of
    customers done after each one."""
    session = _session(ruleset)
    with _one_run_at_a_time(store, record):
        return _run(store, ruleset, session, as_of, record, commit_every, on_action, progress)


@contextlib.contextmanager
def _one_run_at_a_time(store: AuditStore, record: bool) -> Iterator[None]:
    """Hold an exclusive lock beside the audit file while a run reads what earlier runs
    recorded and appends its own: two runs at once would both take the same actions."""
    if not record:
        yield
        return
    with open(f"{store.path}.monitor-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(store: AuditStore, ruleset: CompiledRuleset, session: ReteSession, as_of: dt.date,
         record: bool, commit_every: int, on_action, progress) -> MonitorReport:
    """The run itself: customer by customer, appending every ``commit_every`` records
    (a customer's records always go in the same transaction)."""
    report = MonitorReport(as_of, rates=log_rates(store, ruleset, as_of))
    pending: list[NewRecord] = []
    other_rules_run = _other_rules_run(store, ruleset)
    if record:
        store_rulesets(store, ruleset)  # re-grades record the challenger beside them
    for customer_id in _customers(store, as_of):
        outcome = _monitor(store, ruleset, session, customer_id, as_of,
                           list(_rows(store, as_of, customer_id=customer_id)),
                           other_rules_run, report.rates)
        report.customers += 1
        report.events += outcome.events
        report.already_taken += outcome.already_taken
        report.held_back += outcome.held_back
        if outcome.worklist:
            report.worklist.append(outcome.worklist)
        for action in outcome.actions:
            report.counted[action.body["action"]] += 1
            if on_action is None:
                report.actions.append(action.body)
            else:
                on_action(action.body)
            if action.decision is not None:
                report.decisions += 1
            if record:  # (a dry run builds no records)
                if action.decision is not None:
                    pending.append(action.decision)
                pending.append(action_record(action, ruleset))
        if record and len(pending) >= commit_every:
            store.append(pending)
            pending = []
        if progress is not None:
            progress(report.customers)
    report.worklist.sort(key=lambda line: _priority(line, ruleset))
    if record:  # the run itself, after its actions: the next run knows what it had seen
        store.append([*pending, run_record(report, ruleset)])
    return report


def run_record(report: MonitorReport, ruleset: CompiledRuleset) -> NewRecord:
    """The audit record of a monitor run: its date, ruleset and counts."""
    body = {"as_of": report.as_of.isoformat(), "actions": report.counts(),
            "already_taken": report.already_taken, "held_back": report.held_back,
            "customers": report.customers, "events": report.events,
            "overdue_accounts": report.overdue_accounts}
    if report.rates:
        body["rates"] = [rate.to_dict() for rate in report.rates.values()]
    return NewRecord(kind="monitor-run", body=canonical_json(body),
                     as_of=report.as_of.isoformat(), ruleset_name=ruleset.name,
                     ruleset_version=ruleset.version, ruleset_hash=ruleset.hash)


def action_again(store: AuditStore, ruleset: CompiledRuleset, row: dict) -> dict | None:
    """The body the monitor gives the recorded action ``row`` when run again on the
    records before it (its customer, its run date); None when it no longer takes it."""
    body = json.loads(row["body"])
    run_date = dt.date.fromisoformat(body["run_as_of"])
    rows = list(_rows(store, run_date, customer_id=body["customer_id"],
                      before_seq=row["seq"]))
    rates = {rate["currency"]: Rate.from_dict(rate) for rate in body.get("rates", ())
             if rate["rate"] is not None}
    outcome = _monitor(store, ruleset, _session(ruleset), body["customer_id"], run_date,
                       rows, _other_rules_run(store, ruleset, before_seq=row["seq"]), rates)
    return next((a.body for a in outcome.actions if a.body["key"] == body["key"]), None)


def action_record(action: MonitorAction, ruleset: CompiledRuleset) -> NewRecord:
    """The audit record of one action. A re-grade names its decision in the body only, so
    that a decision id still finds the decision record."""
    body = action.body
    return NewRecord(kind="action", body=canonical_json(body),
                     customer_id=body["customer_id"], as_of=body["date"],
                     ruleset_name=ruleset.name, ruleset_version=ruleset.version,
                     ruleset_hash=ruleset.hash, outcome=body["action"])


def _session(ruleset: CompiledRuleset) -> ReteSession:
    if ruleset.monitoring is None:
        raise MonitorError(f"ruleset {ruleset.name} {ruleset.version} has no monitoring "
                           "rules (stages: monitoring: in ruleset.yaml)")
    return ReteSession(f"monitor-{ruleset.hash[:16]}", ruleset.monitoring)


def _monitor(store, ruleset, session, customer_id, as_of, rows, other_rules_run, rates):
    monitor = CustomerMonitor(ruleset, session, customer_id, as_of,
                              load_body=lambda seq: store.body(store.record(str(seq))),
                              salt=store.salt, other_rules_run=other_rules_run, rates=rates)
    return monitor.run(rows)


def log_rates(store: AuditStore, ruleset: CompiledRuleset, as_of: dt.date
               ) -> dict[str, Rate]:
    """The plugins' rates on the run date for every other currency than the ruleset's that
    events up to it are in. A missing one stops the run before it acts: amounts in that
    currency cannot be counted, and counting them 1:1 would take wrong actions."""
    currencies = [row["currency"] for row in store.iter_rows(
        "SELECT DISTINCT json_extract(body, '$.currency') AS currency FROM records "
        "WHERE kind = 'event' AND as_of <= ? AND body LIKE '%\"currency\"%' "
        "AND json_extract(body, '$.currency') != ? ORDER BY 1",
        [as_of.isoformat(), ruleset.currency])]
    rates = exchange_rates(currencies, ruleset.currency, as_of)
    missing = [currency for currency, rate in rates.items() if rate.rate is None]
    if missing:
        raise MonitorError(f"no {', '.join(missing)} to {ruleset.currency} exchange rate on "
                           f"or before {as_of.isoformat()}: the events in {missing[0]} cannot "
                           "be counted (a rates plugin, e.g. $CREDIT_RATES_FILE, gives them)")
    return rates


def _other_rules_run(store: AuditStore, ruleset: CompiledRuleset,
                     before_seq: int | None = None) -> tuple[int, dt.date] | None:
    """(seq, run date) of the latest recorded monitor run (before ``before_seq``) under
    another ruleset than ``ruleset``: what its rules saw and did not act on is not news."""
    sql = ("SELECT seq, as_of FROM records WHERE kind = 'monitor-run' AND "
           "ruleset_hash != ?")
    params: list = [ruleset.hash]
    if before_seq is not None:
        sql += " AND seq < ?"
        params.append(before_seq)
    rows = list(store.iter_rows(sql + " ORDER BY seq DESC LIMIT 1", params))
    return (rows[0]["seq"], dt.date.fromisoformat(rows[0]["as_of"])) if rows else None


def _customers(store: AuditStore, as_of: dt.date) -> list[str]:
    """Customers with events up to ``as_of`` (read before any action is appended)."""
    return [row["customer_id"] for row in store.iter_rows(
        "SELECT DISTINCT customer_id FROM records WHERE kind = 'event' AND as_of <= ? "
        "ORDER BY customer_id", [as_of.isoformat()])]


def _rows(store: AuditStore, as_of: dt.date, *, customer_id: str,
          before_seq: int | None = None) -> Iterator[dict]:
    """A customer's events, actions and decisions up to ``as_of``, in event time."""
    where = ["customer_id = ?", "kind IN ('event', 'action', 'decision', 'hold-lifted')",
             "as_of <= ?"]
    params: list = [customer_id, as_of.isoformat()]
    if before_seq is not None:
        where.append("seq < ?")
        params.append(before_seq)
    return store.iter_rows(f"SELECT {_COLUMNS} FROM records WHERE {' AND '.join(where)} "
                           "ORDER BY as_of, seq", params)


def _priority(line: dict, ruleset: CompiledRuleset) -> tuple:
    """Worklist order: larger overdue amount first, then more days, then riskier grade."""
    grades = ruleset.grades
    risk = grades.index(line["grade"]) if line["grade"] in grades else len(grades)
    return -line["overdue_amount"], -line["days_overdue"], -risk, line["customer_id"]
