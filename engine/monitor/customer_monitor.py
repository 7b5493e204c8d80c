"""One customer through the monitoring rules: its log records in event time become signals
for durable_rules, and the rules' firings become actions. Deterministic: the same records,
ruleset and run date give the same actions, byte for byte, so a run can be repeated and an
action replayed.

The clock is event time. It ticks (a ``clock`` signal) at the end of every day with an
event, on the day after each promised payment date (of a promise or an instalment), and on
the run date, which then gets a ``run_date`` signal. A tick after a promised date whose
part the account did not find kept (``cases.py``) brings a ``promise_broken`` signal; a
tick on or after the day a security enters the ruleset's ``security_review_days`` before
its expiry brings a ``security_expiring`` signal (the clock also ticks on that day). A
decision on record governs the account from the day after its date.

Actions recorded by earlier runs are history: when their firing comes again, the recorded
action's effect (a step taken, a hold, a release, an escalation closed) is applied there
instead of acting again; one whose firing does not come again (a run date's collections
step, or history an event ingested late has changed) takes effect at the end of its day,
after the clock, as it did when it was taken. So a run sees the same account whatever
dates were run before, and a replay sees what the run saw.

Ids the monitor gives its own signals contain ``#``, which an event id cannot.

A rule acts when a signal arrives; a signal leaving (a hold released, an old signal
forgotten after ``remember_days``) never makes a rule act by itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ..enrich.exchange_rates import Rate, known_rates
from ..errors import DecisionError
from ..ruleset.compiler import CompiledRuleset
from ..ruleset.escalation import NONE, next_step, step_fee
from ..ruleset.monitoring import MonitoringRule
from ..service import decide_facts
from .account import Account
from .case_list import account_cases
from .late_payment import step_charges
from .regrade import account_facts
from .regrade import plain as _plain
from .rete_session import Firing, ReteSession

_CAN_CLEAR_OVERDUE = frozenset({"payment_received", "dispute_opened", "dispute_closed"})
_CARRY_POSITION = frozenset({"invoice_issued", "payment_received", "order_placed"})
_EVENT_FIELDS = {"invoice_issued": ("invoice_id", "amount"),
                 "payment_received": ("amount", "invoice_id"),
                 "promise_to_pay": ("invoice_id", "amount"),
                 "dispute_opened": ("invoice_id", "reason", "dispute_id", "amount", "owner"),
                 "dispute_resolved": ("dispute_id", "outcome", "credit_note_id"),
                 "instalment_plan_agreed": ("plan_id", "invoice_id"),
                 "security_received": ("security_id", "kind", "amount"),
                 "security_released": ("security_id",),
                 "dispute_closed": ("invoice_id", "outcome"),
                 "contact_made": ("channel", "outcome"),
                 "bureau_alert": ("kind", "detail"),
                 "order_placed": ("amount", "order_id"),
                 "order_cancelled": ("order_id", "amount"),
                 "delivery_made": ("order_id", "amount"),
                 "invoice_posted": ("invoice_id",),
                 "credit_note_issued": ("amount", "invoice_id"),
                 "liability_opened": ("liability_id", "amount", "kind"),
                 "liability_closed": ("liability_id",)}


@dataclass
class MonitorAction:
    """An action the rules took: the audit record's body, and for a re-grade the decision
    record it made."""

    body: dict
    decision: object | None = None  # NewRecord of a re-grade's decision


@dataclass
class CustomerOutcome:
    """What monitoring one customer gave: new actions in order, how many actions earlier
    runs had taken already, how many were held back (firings a changed ruleset finds in
    what the last run had seen), the worklist line (or None) and the events read."""

    actions: list[MonitorAction] = field(default_factory=list)
    already_taken: int = 0
    held_back: int = 0
    worklist: dict | None = None
    events: int = 0


@dataclass
class _Standing:
    """The decision in force: grade and limit, and how to read its input and the
    customer's segment (the segment its input gave)."""

    grade: str | None = None
    credit_limit: Decimal | None = None
    decision_id: str | None = None
    input: Callable[[], dict] | None = None
    enriched: Callable[[], dict] | None = None
    segment: Callable[[], str | None] | None = None  # read from the input when needed


class CustomerMonitor:
    """Runs one customer's records (``(seq, kind, as_of, body-or-columns)`` rows in event
    time) through a ReteSession."""

    def __init__(self, ruleset: CompiledRuleset, session: ReteSession, customer_id: str,
                 run_date: dt.date, *, load_body: Callable[[int], dict], salt: bytes,
                 other_rules_run: tuple[int, dt.date] | None = None,
                 rates: Mapping[str, Rate] | None = None):
        self.ruleset = ruleset
        self.rules: dict[str, MonitoringRule] = {r.id: r for r in ruleset.monitoring.rules}
        self.order = {rule_id: index for index, rule_id in enumerate(self.rules)}
        self.used = ruleset.monitoring.signals
        self.session = session
        self.customer_id = customer_id
        self.run_date = run_date
        self.load_body = load_body
        self.salt = salt
        # (seq, run date) of the latest recorded run under other rules than these
        self.other_rules_run = other_rules_run
        self.changed_from: dt.date | None = None
        self.account = Account(customer_id, ruleset.currency)
        # Amounts in other currencies count at the run's rates (recorded with actions).
        self.rates = dict(rates or {})
        self.factors = known_rates(self.rates)
        self.standing = _Standing()
        self.pending: list[tuple[dt.date, _Standing]] = []  # decisions not yet in force
        self.recorded: dict[str, dict] = {}  # key -> body of an action earlier runs took
        self.unapplied: dict[str, list[dict]] = {}  # day -> recorded, in record order
        self.applied: set[str] = set()  # keys of recorded actions whose effect is applied
        self.fired: set[str] = set()  # firings acted on in this run
        self.marked: set[str] = set()  # firings a fired signal was asserted for
        self.remembered: deque[tuple[dt.date, dict]] = deque()
        self.deadlines: list[dt.date] = []
        self.broken_signalled: set[str] = set()  # promise parts a promise_broken was for
        self.expiring_signalled: set[str] = set()  # security_expiring signals asserted
        self.holds: list[dict] = []
        self.lifted_today: list[list[str]] = []  # hold ids of hold-lifted records today
        self.last_clock: dt.date | None = None
        self.today: dt.date | None = None
        self.n = 0
        self.outcome = CustomerOutcome()

    # -- the walk through time -------------------------------------------------------------
    def run(self, rows: list[Mapping]) -> CustomerOutcome:
        """Process the customer's rows (as_of <= run date) and the run date itself."""
        # A firing comes before the record of its action in event time (the record is
        # appended after the day's events): know them all from the start.
        for row in rows:
            if row["kind"] == "action":
                body = json.loads(row["body"])
                self.recorded[body["key"]] = body
                self.unapplied.setdefault(body["date"], []).append(body)
        if self.other_rules_run is not None:  # the earliest day of what came in since
            self.changed_from = min((dt.date.fromisoformat(row["as_of"]) for row in rows
                                     if row["kind"] == "event"
                                     and row["seq"] > self.other_rules_run[0]), default=None)
        self.session.begin(self.customer_id)
        try:
            current = None  # the day of the rows being read
            for row in rows:
                day = dt.date.fromisoformat(row["as_of"])
                if day != current:
                    if current is not None:
                        self._finish_day()
                    self._start_day(day)
                    current = day
                self._row(row, day)
            if current is not None:
                self._finish_day()
            self._tick_until(self.run_date + dt.timedelta(days=1))
            if self.last_clock != self.run_date:
                self._start_day(self.run_date)
                self._finish_day()
            self._run_date()
        finally:
            self.session.forget(self.customer_id)
        return self.outcome

    def _start_day(self, day: dt.date) -> None:
        self._tick_until(day)
        self.today = day
        while self.pending and self.pending[0][0] < day:
            self.standing = self.pending.pop(0)[1]
        horizon = day - dt.timedelta(days=self.ruleset.monitoring.remember_days)
        while self.remembered and self.remembered[0][0] < horizon:
            self.session.retract_signal(self.remembered.popleft()[1])

    def _finish_day(self) -> None:
        self._clock(self.today)
        for body in self.unapplied.pop(self.today.isoformat(), []):
            self._apply_recorded(body)
        # Holds a person lifted that day (after the day's recorded holds are in place).
        lifted = set().union(*self.lifted_today) if self.lifted_today else set()
        self.lifted_today.clear()
        self._lift([hold for hold in self.holds if hold["id"] in lifted])

    def _tick_until(self, day: dt.date) -> None:
        """Clock ticks for the promised-date deadlines before ``day``."""
        while self.deadlines and self.deadlines[0] < day:
            deadline = heapq.heappop(self.deadlines)
            if self.last_clock is not None and deadline <= self.last_clock:
                continue
            self.today = deadline
            self._start_day(deadline)
            self._clock(deadline)

    def _clock(self, day: dt.date) -> None:
        self.last_clock = day
        if "promise_broken" in self.used and self.account.cases.promises:
            self._broken_promises(day)
        if "security_expiring" in self.used and self.account.securities:
            self._expiring_securities(day)
        if "clock" in self.used:
            position = self.account.position(day, rates=self.factors)
            signal = self._signal("clock", f"#clock:{day.isoformat()}", day, None, {
                "overdue_amount": position["overdue_amount"],
                "days_overdue": position["days_overdue"]})
            self._assert(signal, remember=False)
            self.session.retract_signal(signal)

    def _broken_promises(self, day: dt.date) -> None:
        """A promise_broken signal for each part of a promise (not replaced) whose date
        is before ``day`` and that was not kept, once."""
        for case in self.account.cases.promises.values():
            for index, part in enumerate(case.parts):
                signal_id = f"{case.event_id}#broken:{index + 1}"
                if part.status(day) != "broken" or signal_id in self.broken_signalled:
                    continue
                self.broken_signalled.add(signal_id)
                self._assert(self._signal("promise_broken", signal_id, day, case.event_id, {
                    "promise_id": case.id, "kind": case.kind, "invoice_id": case.invoice_id,
                    "part": index + 1, "amount": part.amount,
                    "promised_day": part.date.toordinal(), "paid": case.counted}))

    def _expiring_securities(self, day: dt.date) -> None:
        """A security_expiring signal for each security (as last received) whose expiry
        is within the review days of ``day``, or past, once."""
        review_days = self.ruleset.monitoring.security_review_days
        for security in self.account.securities.values():
            signal_id = f"{security.event_id}#expiring"
            days_left = security.days_left(day)
            if days_left > review_days or signal_id in self.expiring_signalled:
                continue
            self.expiring_signalled.add(signal_id)
            self._assert(self._signal("security_expiring", signal_id, day, security.event_id, {
                "security_id": security.id, "kind": security.kind, "amount": security.amount,
                "expires_day": security.expires_on.toordinal(), "days_left": days_left}))

    def _run_date(self) -> None:
        day = self.run_date
        position = self.account.position(day, self.standing.grade, self.factors)
        fields = {"overdue_amount": position["overdue_amount"],
                  "days_overdue": position["days_overdue"], **self._position_fields(position)}
        self._assert(self._signal("run_date", f"#run:{day.isoformat()}", day, None, fields),
                     remember=False)
        self.outcome.worklist = self._worklist_line(day)

    # -- records of the log ----------------------------------------------------------------
    def _row(self, row: Mapping, day: dt.date) -> None:
        kind = row["kind"]
        if kind == "event":
            self.outcome.events += 1
            self._event(json.loads(row["body"]), day)
        elif kind == "hold-lifted":
            self.lifted_today.append(json.loads(row["body"])["holds"])
        elif kind == "decision":
            seq = row["seq"]
            body = functools.cache(lambda: self.load_body(seq))  # read if a re-grade needs it
            self.pending.append((day, _Standing(
                row["grade"], Decimal(row["credit_limit"]) if row["credit_limit"] else None,
                row["decision_id"], lambda: body()["input"],
                lambda: body().get("enriched") or {},
                # a ruleset case's standing has no recorded input: its row gives the segment
                (lambda: row["segment"]) if "segment" in row
                else lambda: _segment_of(body()["input"]))))

    def _apply_recorded(self, body: Mapping) -> None:
        """The effect of an action an earlier run took (its record is the truth), once."""
        if body["key"] in self.applied:
            return
        self.applied.add(body["key"])
        day, details = dt.date.fromisoformat(body["date"]), body["details"]
        if body["action"] == "escalate":
            self.account.record_step(details["step"], day)
        elif body["action"] == "close_escalation":
            self.account.close_steps()
        elif body["action"] == "hold":
            self._add_hold(details["reason"], details.get("amount"), body["firing"], day)
        elif body["action"] == "release":
            ids = {held["hold"] for held in details["released"]}
            self._lift([hold for hold in self.holds if hold["id"] in ids])
        self._mark_fired(body["rule"], body["firing"], day)

    def _event(self, event: dict, day: dt.date) -> None:
        kind = event["type"]
        before = {i.id: i.paid for i in self.account.invoices.values()} \
            if kind == "payment_received" else {}
        overdue_before = self.account.position(day, rates=self.factors)["overdue_amount"] \
            if kind in _CAN_CLEAR_OVERDUE else None
        self.account.apply(event)
        after = self.account.position(day, rates=self.factors) \
            if kind in _CARRY_POSITION or overdue_before else None
        fields = {name: event[name] for name in _EVENT_FIELDS.get(kind, ()) if name in event}
        if kind == "invoice_issued":
            fields["due_day"] = dt.date.fromisoformat(event["due_date"]).toordinal()
        elif kind == "promise_to_pay":
            promised = dt.date.fromisoformat(event["promised_date"])
            fields["promised_day"] = promised.toordinal()
            invoice = self.account.invoices.get(event["invoice_id"])
            fields["target_paid"] = invoice.promised_paid if invoice else \
                Decimal(str(event["amount"]))
            heapq.heappush(self.deadlines, promised + dt.timedelta(days=1))
        elif kind == "security_received":
            review = dt.date.fromisoformat(event["expires_on"]) - dt.timedelta(
                days=self.ruleset.monitoring.security_review_days)
            if review > day:
                heapq.heappush(self.deadlines, review)
        elif kind == "instalment_plan_agreed":
            for part in event["instalments"]:
                heapq.heappush(self.deadlines,
                               dt.date.fromisoformat(part["date"]) + dt.timedelta(days=1))
        elif kind == "payment_received":
            fields["overdue_before"] = overdue_before
            fields["unapplied"] = self.account.unapplied
        elif kind == "order_placed":
            fields["exposure_after"] = after["balance"] + Decimal(str(event["amount"]))
        if kind in _CARRY_POSITION:
            fields.update(self._position_fields(after))
        self._assert(self._signal(kind, event["id"], day, event["id"], fields))
        if kind == "payment_received":
            self._payment_signals(event, day, before)
        if overdue_before and not after["overdue_amount"]:
            self._assert(self._signal("overdue_cleared", f"{event['id']}#cleared", day,
                                      event["id"], {"by": kind,
                                                    "overdue_before": overdue_before}))

    def _payment_signals(self, event: dict, day: dt.date, before: Mapping) -> None:
        """payment_applied for each invoice the payment went to; late_payment for each
        invoice it settled after its due date."""
        for invoice in sorted(self.account.invoices.values(), key=lambda i: i.id):
            paid = invoice.paid - before.get(invoice.id, Decimal(0))
            if paid <= 0:
                continue
            cleared = invoice.open_amount == 0
            self._assert(self._signal("payment_applied", f"{event['id']}#paid:{invoice.id}", day,
                                      event["id"], {
                                          "invoice_id": invoice.id, "amount": paid,
                                          "paid_total": invoice.paid,
                                          "invoice_amount": invoice.amount,
                                          "cleared": cleared}))
            if cleared and invoice.paid_on == day and day > invoice.due_date:
                self._assert(self._signal("late_payment", f"{event['id']}#late:{invoice.id}",
                                          day, event["id"], {
                                              "invoice_id": invoice.id,
                                              "days_late": (day - invoice.due_date).days,
                                              "amount": invoice.amount}))

    def _position_fields(self, position: Mapping) -> dict:
        """What a signal says of the account's position (after the event) and standing."""
        limit = self.standing.credit_limit
        return {"balance_after": position["balance"],
                "overdue_after": position["overdue_amount"],
                "credit_limit": limit, "grade": self.standing.grade,
                "headroom": None if limit is None else limit - position["balance"]}

    # -- signals and firings ---------------------------------------------------------------
    def _signal(self, kind: str, signal_id: str, day: dt.date, event_id: str | None,
                fields: Mapping) -> dict:
        self.n += 1
        signal = {"sid": self.customer_id, "id": signal_id, "signal": kind,
                  "day": day.toordinal(), "n": self.n}
        if event_id is not None:
            signal["event_id"] = event_id
        for name, value in fields.items():
            if value is not None:
                signal[name] = float(value) if isinstance(value, Decimal) else value
        return signal

    def _assert(self, signal: dict, remember: bool = True) -> None:
        if signal["signal"] not in self.used:
            return
        if remember:
            self.remembered.append((dt.date.fromordinal(signal["day"]), signal))
        firings = self.session.assert_signal(signal)
        for rule_id, bound in sorted(firings, key=self._firing_order):
            self._fire(self.rules[rule_id], bound)

    def _firing_order(self, firing: Firing) -> tuple:
        rule_id, bound = firing
        return self.order[rule_id], [bound[name]["n"] for name in self.rules[rule_id].bound]

    def _fire(self, rule: MonitoringRule, bound: dict) -> None:
        firing = f"{rule.id}:{self.customer_id}:{bound[rule.once_per]['id']}"
        if firing in self.fired:
            return
        self.fired.add(firing)
        day = self.today
        acted = held_back = False
        for action in rule.actions:
            key = f"{firing}/{action}"
            if key in self.recorded:  # taken by an earlier run: its record is the truth
                self.outcome.already_taken += 1
                self._apply_recorded(self.recorded[key])
                continue
            if not self._news(day):
                held_back = True
                continue
            details = getattr(self, "_" + action)(rule, bound, day, firing)
            if details is None:
                continue
            acted = True
            decision = details.pop("_decision", None)
            events = {s["event_id"] for s in bound.values() if "event_id" in s} | \
                set(details.pop("_events", ()))  # an escalation's overdue invoices
            if not events:  # fired by the clock (ageing arrears): the overdue invoices
                events = {i.event_id for i in self._overdue(day) if i.event_id}
            matched = {name: {k: v for k, v in signal.items() if k != "sid"}
                       for name, signal in bound.items()}
            self.outcome.actions.append(MonitorAction({
                "action": action, "customer_id": self.customer_id,
                "date": day.isoformat(), "details": details,
                "events": sorted(events),
                "firing": firing, "key": key, "matched": matched, "rule": rule.id,
                "run_as_of": self.run_date.isoformat(), **self._rates_seen()}, decision))
        if acted:
            self._mark_fired(rule.id, firing, day)
        self.outcome.held_back += held_back

    def _rates_seen(self) -> dict:
        """The rates of the other currencies the customer's events were in so far, as an
        action records them (none: the key is left out, as before rates existed)."""
        seen = sorted(self.account.seen)
        return {"rates": [self.rates[c].to_dict() if c in self.rates else
                          {"currency": c, "rate": None} for c in seen]} if seen else {}

    def _news(self, day: dt.date) -> bool:
        """Whether a firing no recorded action answers is news since the latest run under
        other rules: dated after that run, or on a history that changed since (an event
        ingested after it, dated on or before the firing). Otherwise that run saw the same
        and its rules did not act: acting now would take an action dated in the past."""
        seen = self.other_rules_run
        if seen is None or day > seen[1]:
            return True
        return self.changed_from is not None and self.changed_from <= day

    def _mark_fired(self, rule_id: str, firing: str, day: dt.date) -> None:
        """A ``fired`` signal: this rule acted today (once per firing)."""
        marker = f"#fired:{firing}"
        if marker not in self.marked:
            self.marked.add(marker)
            self._assert(self._signal("fired", marker, day, None, {"rule": rule_id}))

    # -- actions: each returns the action's details, or None when there is nothing to do ---
    def _escalate(self, rule, bound, day, firing) -> dict | None:
        blocked = self.account.dunning_blocks_on(day)
        if "" in blocked:  # the customer's dunning is blocked: no step
            return None
        segment = self.standing.segment() if self.standing.segment is not None else None
        position = self.account.position(day, self.standing.grade, self.factors, blocked,
                                         segment)
        result = next_step(self.ruleset, position)
        if result.step == NONE:
            return None
        self.account.record_step(result.step, day)
        overdue = [i for i in self._overdue(day) if i.id not in blocked]
        details = {"step": result.step, "proposed": result.proposed, "notes": result.notes,
                   "table_rows": [slot[2] for slot, _, _ in result.trace],
                   "position": _plain(position),
                   "overdue_invoices": sorted(i.id for i in overdue),
                   "_events": [i.event_id for i in overdue if i.event_id]}
        spec = self.ruleset.escalation_spec
        charges = step_charges(spec.get("late_payment"), step_fee(spec, result.step),
                               overdue, day, self.factors)
        if charges is not None:  # what the step's letter claims beyond the invoices
            details["charges"] = charges
        if blocked:  # (the key is left out without a block, as before blocks existed)
            details["blocked_invoices"] = sorted(blocked)
        return details

    def _overdue(self, day: dt.date) -> list:
        """The invoices overdue on ``day`` (those wholly disputed left out)."""
        return [i for i in self.account.invoices.values()
                if i.undisputed > 0 and i.due_date < day]

    def _close_escalation(self, rule, bound, day, firing) -> dict | None:
        if self.account.last_step is None:
            return None
        details = {"closed_step": self.account.last_step,
                   "step_date": self.account.last_step_date.isoformat()}
        self.account.close_steps()
        return details

    def _hold(self, rule, bound, day, firing) -> dict | None:
        if any(hold["reason"] == rule.id for hold in self.holds):
            return None  # already held for this reason
        # What is held: the amount of the signal that caused the hold (an order's).
        amount = bound[rule.once_per].get("amount")
        self._add_hold(rule.id, amount, firing, day)
        return {"reason": rule.id, "amount": amount,
                "credit_limit": _plain(self.standing.credit_limit),
                "balance": _plain(max(self.account.balance(self.factors), Decimal(0)))}

    def _add_hold(self, reason: str, amount: object, firing: str, day: dt.date) -> None:
        hold = self._signal("hold", f"#hold:{firing}", day, None,
                            {"reason": reason, "amount": amount})
        self.holds.append(hold)
        self._assert(hold, remember=False)

    def _release(self, rule, bound, day, firing) -> dict | None:
        """Lift the holds the rule matched (every hold, when it matched none)."""
        matched = {signal["id"] for signal in bound.values() if signal["signal"] == "hold"}
        lifted = [hold for hold in self.holds if not matched or hold["id"] in matched]
        if not lifted:
            return None
        self._lift(lifted)
        return {"released": [{"hold": h["id"], "reason": h["reason"],
                              "since": dt.date.fromordinal(h["day"]).isoformat()}
                             for h in lifted]}

    def _lift(self, holds: list[dict]) -> None:
        for hold in holds:
            self.holds.remove(hold)
            self.session.retract_signal(hold)

    def _notify(self, rule, bound, day, firing) -> dict | None:
        return {"message": rule.description or rule.id}

    def _review(self, rule, bound, day, firing) -> dict | None:
        """A person must review the customer's credit: why, and for a security expiring,
        which one and when."""
        details = {"message": rule.description or rule.id}
        signal = bound[rule.once_per]
        if signal["signal"] == "security_expiring":
            security = self.account.securities.get(signal["security_id"])
            details.update(security_id=signal["security_id"], kind=signal["kind"],
                           expires_on=dt.date.fromordinal(signal["expires_day"]).isoformat(),
                           days_left=signal["days_left"],
                           amount=None if security is None else format(security.amount, "f"),
                           currency=None if security is None else
                           security.currency or self.ruleset.currency)
        return details

    def _regrade(self, rule, bound, day, firing) -> dict | None:
        before = self.standing
        recorded = before.input() if before.input is not None else None
        if recorded is None:
            return {"status": "skipped",
                    "reason": f"no decision on record before {day.isoformat()} to re-grade"}
        measures = self.account.measures(day, self.factors, self.ruleset.rounding)
        facts, enriched, changed = account_facts(self.ruleset, recorded, before.enriched(),
                                                 measures)
        try:
            decided = decide_facts(self.ruleset, facts, day, enriched=enriched)
        except DecisionError as exc:
            return {"status": "failed", "reason": str(exc), "facts": changed}
        decision = decided.decision
        record, _ = decided.record(self.salt)
        self.pending.append((day, _Standing(
            decision.grade, decision.credit_limit, record.decision_id,
            lambda: facts, lambda: enriched, lambda: _segment_of(facts))))
        return {"status": "done", "decision_id": record.decision_id,
                "grade_before": before.grade, "grade_after": decision.grade,
                "credit_limit_before": _plain(before.credit_limit),
                "credit_limit_after": _plain(decision.credit_limit),
                "outcome": decision.outcome, "facts": changed, "_decision": record}

    # -- the worklist ----------------------------------------------------------------------
    def _worklist_line(self, day: dt.date) -> dict | None:
        position = self.account.position(day, self.standing.grade, self.factors)
        cases = account_cases(self.account, day, open_only=True)
        if position["overdue_amount"] <= 0 and not cases:
            return None
        # A step taken today: by this run, an earlier run for today, or a contact event.
        today = position["last_step"] if self.account.last_step_date == day else None
        return {"customer_id": self.customer_id,
                "overdue_amount": _plain(position["overdue_amount"]),
                "days_overdue": position["days_overdue"], "balance": _plain(position["balance"]),
                "grade": self.standing.grade, "step_today": today,
                "last_step": position["last_step"],
                "days_since_last_step": position["days_since_last_step"],
                "on_hold": bool(self.holds), "promise_broken": position["promise_broken"],
                "dispute_open": position["dispute_open"],
                "dunning_block": block_text(self.account.dunning_blocks_on(day)),
                "cases": cases}


def block_text(blocks: Mapping) -> str | None:
    """The dunning blocks in force as the worklist shows them: what is blocked (the
    customer, or an invoice), why, and until when; None without any."""
    if not blocks:
        return None
    return "; ".join(
        f"{block.invoice_id or 'customer'}: {block.reason}"
        + (f" (expires {block.expires_on.isoformat()})" if block.expires_on else "")
        for _, block in sorted(blocks.items()))


def _segment_of(given: object) -> str | None:
    """The segment a customer document gives (None when it gives none)."""
    segment = given.get("segment") if isinstance(given, Mapping) else None
    return segment if isinstance(segment, str) else None
