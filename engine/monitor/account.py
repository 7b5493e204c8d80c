"""A customer's account as its events tell it: open invoices, payments, promises to pay,
disputes, contacts, bureau alerts, and the way of an order to cash (ordered, delivered,
invoiced, posted), folded in event order. Pure: the same events and the same date give the
same account, which is what escalation, monitoring and exposure read.

Payments with an invoice id go to that invoice; payments without one go to the oldest
open invoices first (and what is left stays unapplied). Disputed amounts count in the
balance (they are still exposure) but not in what is overdue for collections. Disputes,
promises to pay and instalment plans are cases the account keeps (``cases.py`` says how a
dispute ends and when a promise is kept or broken).

An order's amount moves on as it is delivered (``delivery_made``) and invoiced (an
``invoice_issued`` naming the order; what it invoices beyond the deliveries counts as
delivered with it); a cancellation takes what is left undelivered off. An invoice issued
with ``posted: false`` is not a receivable until ``invoice_posted``. A credit note lowers
its invoice's amount (beyond what is open, or without an invoice, it is unapplied credit).
A credit note is applied once by its ``credit_note_id``: a ``credit_note_issued`` naming
a note already applied (sent twice, or the note of a ``dispute_resolved`` for the
customer, which is the credit itself) is ignored, and a resolution for the customer
naming a note already issued closes the dispute without crediting again.
Special liabilities (a guarantee given for the customer) are opened and closed by id.
A dunning block (``dunning_block_set``) stops dunning for the whole customer or for one
invoice, with a reason, from its day until it is lifted (``dunning_block_lifted``) or
until its ``expires_on`` day, on which it no longer blocks; setting one again replaces it.

Security for the customer's credit (collateral, guarantees in our favour, credit
insurance) is received and released by id (``securities.py``).

Invoices, orders, payments, credit notes and liabilities may be in another currency than
the ruleset's (the account's ``currency``). Each item keeps its own currency, and what
acts on it is in that currency: deliveries, cancellations and postings always; an
invoice naming an order, and a payment or credit note naming an invoice, are in that
item's currency unless they say otherwise. One that says another currency does not
touch the item it names: its amount stays unapplied in its own currency (an exchange
between currencies is booked by the ERP, not guessed here). A payment naming no invoice
goes to the oldest open invoices in its currency. Amounts are converted only when read,
at the ``rates`` the reader passes (what one unit is worth in the ruleset's currency);
reading a foreign amount without its rate raises ``MissingRate``, never counts it 1:1.

An account forgets what no reading can count any more, so that its memory follows its
open items rather than its whole history: every 30 days of event time it drops the
orders delivered and invoiced (or cancelled) in full, the invoices settled more than
``SETTLED_KEPT_DAYS`` before, the cases closed long enough ago (``cases.py``; an open one
never), the credit note ids applied more than two years before, the securities expired
more than ``SETTLED_KEPT_DAYS`` before, and history older than ``measures`` looks back (a
year for payments and downgrades, 90 days for the invoicing DSO is measured on, two years
for bureau alerts; an insolvency filing is kept: it counts for ever). A payment that
names an invoice settled that long ago is applied as one without an invoice id, oldest
open invoice first. Forgetting happens as events are applied, so the same
events always leave the same account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ..errors import CreditRulesError
from .cases import OLDER_OUTCOMES, OUTCOMES, Cases, Dispute, PromiseCase, PromisePart, money_text
from .securities import Security, cover, secured_value

CONTACT_STEPS = {"reminder": "reminder", "phone": "phone_call", "letter": "letter",
                 "visit": "on_site_visit", "legal": "legal_action"}
NO_RATES: Mapping[str, Decimal] = {}
HISTORY_DAYS = 730  # the look-back of measures() for bureau alerts
PAYMENT_HISTORY_DAYS = 365  # ... for payments (on time, late) and downgrades
SETTLED_KEPT_DAYS = 90  # a payment naming an invoice settled within this stays unapplied
DSO_DAYS = 90  # the sales measures() divides the receivables by: invoiced in this many days
AGEING_BUCKETS = ((0, "ageing_current"), (30, "ageing_1_30"), (60, "ageing_31_60"),
                  (90, "ageing_61_90"))  # (most days past due, measure); beyond: over_90
CENT = Decimal("0.01")
HALF_UP_CENT = (CENT, "ROUND_HALF_UP")  # the default ruleset's rounding of amounts
CREDIT_NOTE_KEPT_DAYS = 730  # a credit note id applied is remembered (not applied again)
FORGET_EVERY = dt.timedelta(days=30)


class MissingRate(CreditRulesError):
    """An amount in ``currency`` was read without a rate into the ruleset's currency."""

    def __init__(self, currency: str):
        super().__init__(f"no exchange rate for {currency}: amounts in {currency} cannot "
                         "be counted")
        self.currency = currency


def in_home(amount: Decimal, currency: str | None, rates: Mapping[str, Decimal]) -> Decimal:
    """``amount`` in the ruleset's currency: itself for the ruleset's own currency (None),
    else converted at its rate (unrounded: readers round their totals)."""
    if currency is None or not amount:
        return amount
    rate = rates.get(currency)
    if rate is None:
        raise MissingRate(currency)
    return amount * rate


@dataclass
class Invoice:
    id: str
    amount: Decimal
    due_date: dt.date
    paid: Decimal = Decimal(0)
    disputed_all: bool = False  # an open dispute of all that is open of it
    disputed_amount: Decimal = Decimal(0)  # what its other open disputes hold
    # what paid must reach for its latest promise: the promise_to_pay signal's target_paid,
    # which rules written before promises were cases read (cases.py decides keeping now)
    promised_paid: Decimal = Decimal(0)
    paid_on: dt.date | None = None  # when it was paid in full
    event_id: str | None = None  # the event that issued it
    currency: str | None = None  # None: the ruleset's currency

    @property
    def open_amount(self) -> Decimal:
        return max(self.amount - self.paid, Decimal(0))

    @property
    def disputed(self) -> bool:
        """Whether an open dispute holds part of it."""
        return self.disputed_all or self.disputed_amount > 0

    @property
    def undisputed(self) -> Decimal:
        """What is open of it and not held by an open dispute: what collections read."""
        if self.disputed_all:
            return Decimal(0)
        return max(self.open_amount - self.disputed_amount, Decimal(0))


@dataclass
class Order:
    id: str
    amount: Decimal
    placed_on: dt.date
    delivery_date: dt.date | None = None  # when it is due for delivery (None: at once)
    delivered: Decimal = Decimal(0)
    invoiced: Decimal = Decimal(0)
    cancelled: Decimal = Decimal(0)
    currency: str | None = None  # None: the ruleset's currency

    @property
    def undelivered(self) -> Decimal:
        """What is ordered and not yet delivered (nor cancelled)."""
        return max(self.amount - self.delivered - self.cancelled, Decimal(0))

    @property
    def uninvoiced(self) -> Decimal:
        """What is delivered and not yet invoiced."""
        return max(self.delivered - self.invoiced, Decimal(0))


@dataclass(frozen=True)
class Liability:
    """A special liability (a guarantee given for the customer) still open."""

    amount: Decimal
    currency: str | None = None  # None: the ruleset's currency


@dataclass(frozen=True)
class DunningBlock:
    """A stop on dunning, for the customer (``invoice_id`` None) or one invoice: it blocks
    from the day it was set up to the day before ``expires_on`` (None: until lifted)."""

    reason: str
    since: dt.date
    invoice_id: str | None = None
    expires_on: dt.date | None = None
    event_id: str | None = None

    def blocks_on(self, day: dt.date) -> bool:
        """Whether it blocks on ``day`` (on its ``expires_on`` day it has expired)."""
        return self.since <= day and (self.expires_on is None or day < self.expires_on)


@dataclass
class Account:
    """Everything the events of one customer say, up to the last event applied.
    ``currency`` is the ruleset's: items in it are kept as in the ruleset's currency."""

    customer_id: str
    currency: str | None = None
    invoices: dict[str, Invoice] = field(default_factory=dict)
    unapplied: Decimal = Decimal(0)
    last_step: str | None = None
    last_step_date: dt.date | None = None
    late_payments: list[dt.date] = field(default_factory=list)  # invoice paid after due
    # (paid on, days late, amount, currency) of each invoice paid in full
    settled: list[tuple[dt.date, int, Decimal, str | None]] = field(default_factory=list)
    downgrades: list[dt.date] = field(default_factory=list)
    alerts: list[tuple[dt.date, str]] = field(default_factory=list)
    orders: dict[str, Order] = field(default_factory=dict)
    unposted: dict[str, Invoice] = field(default_factory=dict)  # issued, not yet posted
    liabilities: dict[str, Liability] = field(default_factory=dict)  # special, by id
    foreign_unapplied: dict[str, Decimal] = field(default_factory=dict)  # by currency
    seen: set[str] = field(default_factory=set)  # other currencies events were in
    invoiced: list[tuple[dt.date, Decimal, str | None]] = field(default_factory=list)
    cases: Cases = field(default_factory=Cases)  # disputes and promises (cases.py)
    securities: dict[str, Security] = field(default_factory=dict)  # by id (securities.py)
    # dunning blocks by invoice id ("" for the whole customer), set and not lifted
    dunning_blocks: dict[str, DunningBlock] = field(default_factory=dict)
    forgot_on: dt.date | None = None  # the event day it last forgot on (see the module)
    credit_notes: dict[str, dt.date] = field(default_factory=dict)  # applied, by id: day

    def apply(self, event: Mapping) -> None:
        """Fold one event (already checked against the event schema) into the account."""
        kind = event["type"]
        day = dt.date.fromisoformat(event["occurred_at"])
        handler = getattr(self, "_" + kind, None)
        if handler is not None:
            handler(event, day)
        if self.forgot_on is None:
            self.forgot_on = day
        elif day - self.forgot_on >= FORGET_EVERY:
            self.forget(day)

    def forget(self, day: dt.date) -> None:
        """Drop what no reading on ``day`` or later can count (see the module)."""
        self.forgot_on = day
        cutoff = day - dt.timedelta(days=HISTORY_DAYS)
        year_before = day - dt.timedelta(days=PAYMENT_HISTORY_DAYS)
        settled_before = day - dt.timedelta(days=SETTLED_KEPT_DAYS)
        self.orders = {key: order for key, order in self.orders.items()
                       if order.undelivered or order.uninvoiced}
        self.invoices = {key: invoice for key, invoice in self.invoices.items()
                         if invoice.open_amount > 0
                         or (invoice.paid_on or invoice.due_date) > settled_before}
        self.settled = [item for item in self.settled if item[0] > year_before]
        self.invoiced = [item for item in self.invoiced
                         if item[0] > day - dt.timedelta(days=DSO_DAYS)]
        self.cases.forget(day)
        self.credit_notes = {key: applied for key, applied in self.credit_notes.items()
                             if applied > day - dt.timedelta(days=CREDIT_NOTE_KEPT_DAYS)}
        self.securities = {key: item for key, item in self.securities.items()
                           if item.expires_on > settled_before}
        self.late_payments = [paid for paid in self.late_payments if paid > year_before]
        self.downgrades = [alert for alert in self.downgrades if alert > year_before]
        self.alerts = [(alerted, kind) for alerted, kind in self.alerts
                       if alerted > cutoff or kind == "insolvency_filing"]
        self.foreign_unapplied = {currency: amount for currency, amount
                                  in self.foreign_unapplied.items() if amount}
        if self.dunning_blocks:
            self.dunning_blocks = {key: block for key, block in self.dunning_blocks.items()
                                   if block.expires_on is None or block.expires_on > day}

    def _currency(self, event: Mapping, of_item: object = None) -> str | None:
        """The event's currency, None for the ruleset's own; an event that names an item
        (``of_item``: an order or an invoice) and says no currency is in the item's."""
        currency = event.get("currency")
        if currency is None:
            return of_item.currency if of_item is not None else None
        if currency == self.currency:
            return None
        self.seen.add(currency)
        return currency

    def _unapply(self, amount: Decimal, currency: str | None) -> None:
        if currency is None:
            self.unapplied += amount
        elif amount:
            self.foreign_unapplied[currency] = \
                self.foreign_unapplied.get(currency, Decimal(0)) + amount

    def _invoice_issued(self, event, day) -> None:
        order = self.orders.get(event.get("order_id") or "")
        invoice = Invoice(event["invoice_id"], _amount(event["amount"]),
                          dt.date.fromisoformat(event["due_date"]), event_id=event.get("id"),
                          currency=self._currency(event, order))
        book = self.invoices if event.get("posted", True) else self.unposted
        book[invoice.id] = invoice
        if book is self.invoices:
            self.invoiced.append((day, invoice.amount, invoice.currency))
        if order is not None and order.currency == invoice.currency:
            # Invoiced beyond what was delivered: delivered with the invoice.
            beyond = min(max(invoice.amount - order.uninvoiced, Decimal(0)),
                         order.undelivered)
            order.delivered += beyond
            order.invoiced += invoice.amount

    def _invoice_posted(self, event, day) -> None:
        invoice = self.unposted.pop(event["invoice_id"], None)
        if invoice is not None:
            self.invoices[invoice.id] = invoice
            self.invoiced.append((day, invoice.amount, invoice.currency))

    def _order_placed(self, event, day) -> None:
        order_id = event.get("order_id")
        if order_id is not None:  # an order without an id cannot be followed to its cash
            delivery = event.get("delivery_date")
            self.orders[order_id] = Order(order_id, _amount(event["amount"]), day,
                                          dt.date.fromisoformat(delivery) if delivery
                                          else None, currency=self._currency(event))

    def _delivery_made(self, event, day) -> None:
        order = self.orders.get(event["order_id"])
        if order is not None:
            order.delivered += min(_amount(event["amount"]), order.undelivered)

    def _order_cancelled(self, event, day) -> None:
        order = self.orders.get(event["order_id"])
        if order is not None:
            wanted = _amount(event["amount"]) if "amount" in event else order.undelivered
            order.cancelled += min(wanted, order.undelivered)

    def _credit_note_issued(self, event, day) -> None:
        if not self._first_credit_note(event.get("credit_note_id"), day):
            return
        invoice_id = event.get("invoice_id") or ""
        invoice = self.invoices.get(invoice_id) or self.unposted.get(invoice_id)
        amount, currency = _amount(event["amount"]), self._currency(event, invoice)
        if invoice is not None and invoice.currency == currency:
            credited = min(amount, invoice.open_amount)
            invoice.amount -= credited
            amount -= credited
            self._settle_promises(day)
        self._unapply(amount, currency)

    def _first_credit_note(self, credit_note_id: str | None, day: dt.date) -> bool:
        """Whether the credit note ``credit_note_id`` (None: unnamed) credits: a note
        already applied (by a ``credit_note_issued`` or a ``dispute_resolved`` for the
        customer naming it) in the ``CREDIT_NOTE_KEPT_DAYS`` before is not applied again."""
        if credit_note_id is None:
            return True
        if credit_note_id in self.credit_notes:
            return False
        self.credit_notes[credit_note_id] = day
        return True

    def _liability_opened(self, event, day) -> None:
        self.liabilities[event["liability_id"]] = Liability(_amount(event["amount"]),
                                                            self._currency(event))

    def _liability_closed(self, event, day) -> None:
        self.liabilities.pop(event["liability_id"], None)

    def _security_received(self, event, day) -> None:
        percent = event.get("insured_percent")
        self.securities[event["security_id"]] = Security(
            event["security_id"], event["kind"], _amount(event["amount"]),
            self._currency(event), dt.date.fromisoformat(event["expires_on"]), day,
            event["id"], None if percent is None else _amount(percent),
            event.get("provider"))

    def _security_released(self, event, day) -> None:
        self.securities.pop(event["security_id"], None)

    def _payment_received(self, event, day) -> None:
        invoice = self.invoices.get(event.get("invoice_id") or "")
        amount, currency = _amount(event["amount"]), self._currency(event, invoice)
        self._count_for_promises(amount, currency, day, event.get("invoice_id"))
        if invoice is not None and invoice.currency != currency:
            # Cash in one currency does not settle an invoice in another: unapplied.
            self._unapply(amount, currency)
            return
        targets = [invoice] if invoice else sorted(
            (i for i in self.invoices.values()
             if i.open_amount > 0 and i.currency == currency),
            key=lambda i: (i.due_date, i.id))
        for target in targets:
            if amount <= 0:
                break
            paid = min(amount, target.open_amount)
            target.paid += paid
            amount -= paid
            if target.open_amount == 0 and target.paid_on is None:
                target.paid_on = day
                self.settled.append((day, max((day - target.due_date).days, 0),
                                     target.amount, target.currency))
                if day > target.due_date:
                    self.late_payments.append(day)
        self._unapply(amount, currency)
        self._settle_promises(day)

    def _settle_promises(self, day: dt.date) -> None:
        """Keep the parts still to come of promises with nothing left to pay on ``day``
        (``cases.py``): of an invoice with nothing open (or no longer held: settled long
        ago), and the account's plans with no invoice open in their currency."""
        for case in self.cases.promises.values():
            if case.replaced_on is not None or not any(p.to_come(day) for p in case.parts):
                continue
            if case.invoice_id is not None:
                invoice = self.invoices.get(case.invoice_id)
                settled = invoice is None or invoice.open_amount <= 0
            else:
                settled = not any(i.open_amount > 0 and i.currency == case.currency
                                  for i in self.invoices.values())
            if settled:
                case.settle(day)

    def _count_for_promises(self, amount: Decimal, currency: str | None, day: dt.date,
                            invoice_id: str | None) -> None:
        """Count a payment towards the promises it serves (see ``cases.py``): naming an
        invoice, that invoice's promise; naming none, every invoice's promise in its
        currency, the nearest date first; then the account's plans."""
        promises = self.cases.promises
        if not promises:
            return
        if invoice_id is not None:
            served = [self.cases.latest_promise(invoice_id)]
        else:
            served = sorted((case for case in promises.values()
                             if case.invoice_id is not None and case.replaced_on is None),
                            key=lambda case: (min((p.date for p in case.parts
                                                   if not p.kept), default=dt.date.max),
                                              case.made_on))
        served += [case for case in promises.values()
                   if case.invoice_id is None and case.replaced_on is None]
        for case in served:
            if amount <= 0:
                break
            if case is not None and case.currency == currency and case.made_on <= day:
                amount = case.count(amount, day)

    def _promise_to_pay(self, event, day) -> None:
        invoice = self.invoices.get(event["invoice_id"])
        if invoice is None:  # a promise for an invoice the account does not hold
            return
        # A new promise replaces the one before, unless its date has passed (broken).
        self.cases.replace(invoice.id, day)
        amount = min(_amount(event["amount"]), invoice.open_amount)
        case_id = event.get("promise_id") or event["id"]
        self.cases.promises.pop(case_id, None)
        self.cases.promises[case_id] = PromiseCase(
            case_id, "promise", invoice.id, day, event["id"],
            [PromisePart(dt.date.fromisoformat(event["promised_date"]), amount)],
            event.get("owner"), invoice.currency)
        if amount <= 0:  # a promise of nothing is kept
            self.cases.promises[case_id].settle(day)
        invoice.promised_paid = min(invoice.paid + _amount(event["amount"]), invoice.amount)

    def _instalment_plan_agreed(self, event, day) -> None:
        invoice_id = event.get("invoice_id")
        invoice = self.invoices.get(invoice_id) if invoice_id else None
        if invoice_id and invoice is None:
            return  # a plan for an invoice the account does not hold
        currency = self._currency(event, invoice)
        self.cases.replace(invoice_id, day)
        parts = sorted((PromisePart(dt.date.fromisoformat(item["date"]),
                                    _amount(item["amount"]))
                        for item in event["instalments"]), key=lambda part: part.date)
        self.cases.promises.pop(event["plan_id"], None)
        self.cases.promises[event["plan_id"]] = PromiseCase(
            event["plan_id"], "instalment_plan", invoice_id, day, event["id"], parts,
            event.get("owner"), currency)
        self._settle_promises(day)

    def _dispute_opened(self, event, day) -> None:
        invoice = self.invoices.get(event["invoice_id"])
        amount = _amount(event["amount"]) if "amount" in event else None
        dispute = Dispute(event.get("dispute_id") or event["id"], event["invoice_id"], amount,
                          day, event["id"], event.get("reason"), event.get("owner"),
                          invoice.currency if invoice is not None else None,
                          opened_open=invoice.open_amount if invoice is not None else None)
        if invoice is None:
            dispute.status, dispute.closed_on = "refused", day
            dispute.why = f"no invoice {event['invoice_id']} on the account"
        elif amount is not None:
            free = invoice.open_amount - self.cases.disputed(invoice.id, invoice.open_amount)
            if amount > free:
                dispute.status, dispute.closed_on = "refused", day
                dispute.why = (f"disputes {money_text(amount)}, more than the "
                               f"{money_text(free)} open of invoice {invoice.id} and not "
                               "already disputed")
        self.cases.disputes.pop(dispute.id, None)
        self.cases.disputes[dispute.id] = dispute
        if invoice is not None:
            self._refresh_disputes(invoice)

    def _dispute_resolved(self, event, day) -> None:
        dispute = self.cases.disputes.get(event["dispute_id"])
        if dispute is None or not dispute.open:
            return
        invoice = self.invoices.get(dispute.invoice_id)
        credit_note_id = event.get("credit_note_id")
        credits = event["outcome"] != "for_customer" or \
            self._first_credit_note(credit_note_id, day)
        self._close_dispute(dispute, event["outcome"], day, invoice if credits else None)
        dispute.credit_note_id = credit_note_id
        if invoice is not None:
            self._refresh_disputes(invoice)
            self._settle_promises(day)

    def _close_dispute(self, dispute: Dispute, outcome: str, day: dt.date,
                       invoice: Invoice | None) -> None:
        """Close an open dispute; for the customer, its amount is credited."""
        dispute.status, dispute.closed_on = OUTCOMES[outcome], day
        if outcome == "for_customer" and invoice is not None:
            open_amount = invoice.open_amount
            invoice.amount -= open_amount if dispute.amount is None else \
                min(dispute.amount, open_amount)

    def _dispute_closed(self, event, day) -> None:
        invoice = self.invoices.get(event["invoice_id"])
        if invoice is None:
            return
        outcome = OLDER_OUTCOMES.get(event.get("outcome"), "for_us")
        for dispute in list(self.cases.disputes.values()):
            if dispute.open and dispute.invoice_id == invoice.id:
                self._close_dispute(dispute, outcome, day, None)
        if event.get("outcome") == "upheld":  # the customer was right: nothing is owed
            invoice.amount = invoice.paid
        self._refresh_disputes(invoice)
        self._settle_promises(day)

    def _refresh_disputes(self, invoice: Invoice) -> None:
        """What the open disputes of an invoice hold, as the invoice keeps it."""
        invoice.disputed_all, invoice.disputed_amount = False, Decimal(0)
        for dispute in self.cases.disputes.values():
            if dispute.open and dispute.invoice_id == invoice.id:
                if dispute.amount is None:
                    invoice.disputed_all = True
                else:
                    invoice.disputed_amount += dispute.amount

    def _contact_made(self, event, day) -> None:
        step = CONTACT_STEPS.get(event["channel"])
        if step is not None:
            self.record_step(step, day)

    def _dunning_block_set(self, event, day) -> None:
        expires = event.get("expires_on")
        invoice_id = event.get("invoice_id")
        self.dunning_blocks[invoice_id or ""] = DunningBlock(
            event["reason"], day, invoice_id,
            dt.date.fromisoformat(expires) if expires else None, event.get("id"))

    def _dunning_block_lifted(self, event, day) -> None:
        self.dunning_blocks.pop(event.get("invoice_id") or "", None)

    def _bureau_alert(self, event, day) -> None:
        self.alerts.append((day, event["kind"]))
        if event["kind"] == "downgrade":
            self.downgrades.append(day)

    def record_step(self, step: str, day: dt.date) -> None:
        """Note a collections step taken (by a contact event or by the monitor)."""
        self.last_step, self.last_step_date = step, day

    def close_steps(self) -> None:
        """The escalation is closed (the overdue balance was cleared): the ladder restarts."""
        self.last_step, self.last_step_date = None, None

    # -- reading --------------------------------------------------------------------------
    def dunning_blocks_on(self, day: dt.date) -> dict[str, DunningBlock]:
        """The dunning blocks in force on ``day``, by invoice id ("" for the customer)."""
        return {key: block for key, block in self.dunning_blocks.items()
                if block.blocks_on(day)}

    def currencies(self) -> set[str]:
        """The other currencies than the ruleset's that open items are in: the rates a
        reader needs."""
        if not self.seen:  # (most accounts: nothing to look for)
            return set()
        items = [*self.invoices.values(), *self.unposted.values()]
        found = {i.currency for i in items if i.open_amount > 0}
        found |= {o.currency for o in self.orders.values() if o.undelivered or o.uninvoiced}
        found |= {item.currency for item in self.liabilities.values() if item.amount}
        found |= {item.currency for item in self.securities.values()}
        found |= {currency for currency, amount in self.foreign_unapplied.items() if amount}
        found.discard(None)
        return found

    def unapplied_total(self, rates: Mapping[str, Decimal] = NO_RATES) -> Decimal:
        """Unapplied cash and credit in every currency, in the ruleset's currency."""
        return self.unapplied + sum((in_home(amount, currency, rates) for currency, amount
                                     in self.foreign_unapplied.items()), Decimal(0))

    def balance(self, rates: Mapping[str, Decimal] = NO_RATES) -> Decimal:
        """What the customer owes, disputed invoices included, less unapplied cash, in the
        ruleset's currency."""
        return sum((in_home(i.open_amount, i.currency, rates)
                    for i in self.invoices.values()), Decimal(0)) - \
            self.unapplied_total(rates)

    def cover(self, amount: Decimal, as_of: dt.date,
              rates: Mapping[str, Decimal] = NO_RATES) -> Decimal:
        """What the security valid on ``as_of`` covers of ``amount`` (``securities.py``),
        in the ruleset's currency, unrounded."""
        return cover(self.securities.values(), amount, as_of,
                     lambda value, currency: in_home(value, currency, rates))

    def position(self, as_of: dt.date, grade: str | None = None,
                 rates: Mapping[str, Decimal] = NO_RATES,
                 blocked: Iterable[str] = (), segment: str | None = None) -> dict:
        """The account's position for the escalation table on ``as_of`` (amounts in the
        ruleset's currency, converted at ``rates``); the ``blocked`` invoices (a dunning
        block) are left out of what is overdue, as disputed ones are. The customer's
        ``segment`` is in it only when one is given (a position recorded before segments
        existed keeps its bytes)."""
        overdue_amount = owed = Decimal(0)
        oldest = None
        dispute_open = False
        for invoice in self.invoices.values():  # one pass: this runs for every event
            open_amount = invoice.amount - invoice.paid
            if open_amount <= 0:
                continue
            owed += in_home(open_amount, invoice.currency, rates)
            if invoice.disputed:
                dispute_open = True
                open_amount = invoice.undisputed
            if invoice.due_date < as_of and open_amount > 0 and \
                    not (blocked and invoice.id in blocked):
                overdue_amount += in_home(open_amount, invoice.currency, rates)
                if oldest is None or invoice.due_date < oldest:
                    oldest = invoice.due_date
        promise_broken, promise_open = self._promise_flags(as_of, owed) \
            if self.cases.promises else (False, False)
        position = {
            "days_overdue": (as_of - oldest).days if oldest else 0,
            "overdue_amount": overdue_amount,
            "balance": max(owed - self.unapplied_total(rates), Decimal(0)),
            "grade": grade,
            "dispute_open": dispute_open,
            "promise_broken": promise_broken,
            "promise_open": promise_open,
            "last_step": self.last_step,
            "days_since_last_step": (as_of - self.last_step_date).days
            if self.last_step_date else None,
        }
        if segment is not None:
            position["segment"] = segment
        return position

    def _promise_flags(self, as_of: dt.date, owed: Decimal) -> tuple[bool, bool]:
        """(a promise broken, a promise to come) among the latest promise of each invoice
        still open and the account's plans while it owes. A plan with a part broken is
        broken, and its parts to come no longer hold the collections ladder."""
        latest: dict[str | None, list[PromiseCase]] = {}
        for case in self.cases.promises.values():
            if case.replaced_on is None:
                if case.invoice_id is None:
                    latest.setdefault(None, []).append(case)
                else:
                    latest[case.invoice_id] = [case]
        broken = to_come = False
        for invoice_id, cases in latest.items():
            invoice = self.invoices.get(invoice_id) if invoice_id is not None else None
            if (owed <= 0) if invoice_id is None else \
                    (invoice is None or invoice.open_amount <= 0):
                continue
            for case in cases:
                statuses = {part.status(as_of) for part in case.parts}
                if "broken" in statuses:  # a plan with an instalment broken holds nothing
                    broken = True
                elif "open" in statuses:
                    to_come = True
        return broken, to_come

    def measures(self, as_of: dt.date, rates: Mapping[str, Decimal] = NO_RATES,
                 rounding: tuple[Decimal, str] = HALF_UP_CENT) -> dict:
        """Credit-history figures on ``as_of`` that a re-grade can put in a customer's
        facts (the names ``monitoring.yaml``'s ``regrade: facts:`` maps). The security
        figures are rounded as the order check rounds its cover: to ``rounding``, the
        ruleset's (quantum, decimal mode)."""
        position = self.position(as_of, rates=rates)

        def within(day: dt.date, days: int) -> bool:
            return as_of - dt.timedelta(days=days) < day <= as_of

        settled = [late for day, late, _, _ in self.settled if within(day, 365)]
        alerts = [(day, kind) for day, kind in self.alerts if day <= as_of]
        behaviour = self.behaviour(as_of, position["balance"], rates)
        secured = secured_value(self.securities.values(), as_of,
                                lambda value, currency: in_home(value, currency, rates))
        quantum, mode = rounding
        covered = self.cover(position["balance"], as_of, rates).quantize(quantum, rounding=mode)
        return {
            **behaviour,
            "secured_amount": secured.quantize(quantum, rounding=mode),
            "exposure_net_of_cover": (position["balance"] - covered).quantize(
                quantum, rounding=mode),
            "balance": position["balance"],
            "overdue_amount": position["overdue_amount"],
            "days_overdue": position["days_overdue"],
            "late_payments_180": sum(within(day, 180) for day in self.late_payments),
            "late_payments_365": sum(within(day, 365) for day in self.late_payments),
            "max_days_late_365": max([position["days_overdue"], *settled]),
            "on_time_ratio_365": round(sum(late == 0 for late in settled) / len(settled), 4)
            if settled else None,
            "downgrades_365": sum(within(day, 365) for day in self.downgrades),
            "legal_events_730": sum(within(day, 730) and kind == "legal_event"
                                    for day, kind in alerts),
            "insolvency_filed": any(kind == "insolvency_filing" for _, kind in alerts),
            "payment_defaults_365": sum(within(day, 365) and kind == "payment_default"
                                        for day, kind in alerts),
        }


    def behaviour(self, as_of: dt.date, balance: Decimal,
                  rates: Mapping[str, Decimal] = NO_RATES) -> dict:
        """Payment behaviour on ``as_of``: what is open by age past its due date (the
        ageing buckets: not yet due, 1-30, 31-60, 61-90 and over 90 days; disputed
        amounts left out, as from what is overdue), DSO (the receivables ``balance`` over
        what was invoiced in the last ``DSO_DAYS`` days, times those days; None without
        sales), average days delinquent (the days beyond terms of the invoices paid in
        full in the last year, on time at 0, and of those open past due so far, weighted
        by their amounts; None without any) and the share of promises to pay kept among
        those due in the last year, each part of an instalment plan one promise (kept or
        broken as ``cases.py`` decides; None without any)."""
        buckets = dict.fromkeys([name for _, name in AGEING_BUCKETS] + ["ageing_over_90"],
                                Decimal(0))
        weighed = [(in_home(amount, currency, rates), late) for day, late, amount, currency
                   in self.settled if as_of - dt.timedelta(days=PAYMENT_HISTORY_DAYS)
                   < day <= as_of]
        for invoice in self.invoices.values():
            open_amount = invoice.undisputed
            if open_amount <= 0:
                continue
            late = (as_of - invoice.due_date).days
            name = next((name for most, name in AGEING_BUCKETS if late <= most),
                        "ageing_over_90")
            buckets[name] += in_home(open_amount, invoice.currency, rates)
            if late > 0:
                weighed.append((in_home(open_amount, invoice.currency, rates), late))
        buckets = {name: amount.quantize(CENT) for name, amount in buckets.items()}
        sales = sum((in_home(amount, currency, rates) for day, amount, currency
                     in self.invoiced
                     if as_of - dt.timedelta(days=DSO_DAYS) < day <= as_of), Decimal(0))
        dso = round(float(balance) / float(sales) * DSO_DAYS, 1) if sales > 0 else None
        weight = sum((amount for amount, _ in weighed), Decimal(0))
        delinquent = round(float(sum(amount * late for amount, late in weighed) / weight), 1) \
            if weight > 0 else None
        due = self.cases.parts_due(as_of)
        return {**buckets, "dso_90": dso, "average_days_delinquent_365": delinquent,
                "promise_kept_ratio_365": round(sum(p.kept for p in due) / len(due), 4)
                if due else None}


def fold(customer_id: str, events: Iterable[Mapping], as_of: dt.date,
         currency: str | None = None) -> Account:
    """The account after every event of ``events`` that occurred on or before ``as_of``
    (events in log order); ``currency`` is the ruleset's."""
    account = Account(customer_id, currency)
    for event in events:
        if dt.date.fromisoformat(event["occurred_at"]) <= as_of:
            account.apply(event)
    return account


def _amount(value: object) -> Decimal:
    return Decimal(str(value))
