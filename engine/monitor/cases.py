"""Disputes and promises to pay as cases of an account: who owns them, what they are
for, and where they stand. The account (``account.py``) keeps them as its events tell it;
this module holds what a case is and the rules that decide its status.

A **dispute** is for an amount of one invoice (the older ``dispute_opened`` without an
amount disputes the whole invoice, whatever is open of it), with a reason and an owner. It
is open until ``dispute_resolved`` says how it ended: for the customer (the disputed
amount is credited, by the credit note the event names), for us (the amount is owed
again) or withdrawn by the customer (the same). The older ``dispute_closed`` closes every
open dispute of its invoice: ``upheld`` for the customer (all that is open is credited),
``rejected`` and ``settled`` for us. A dispute for more than what is open of its
invoice, less what its other open disputes hold, or of an invoice the account does not
hold, is refused: it is kept as ``refused``, with why, and leaves the invoice as it was.
While a dispute is open its amount is not overdue (collections leave it out) but it is
still owed: it stays in the balance and in exposure.

A **promise to pay** is an amount by a date, for one invoice; an **instalment plan** is a
promise in parts (several dated amounts), for one invoice or for the account. Each part
is kept or broken on its own:

- What counts towards a promise is every payment received from the day it was made that
  goes to its invoice, and every payment naming no invoice (the customer paid; which open
  invoice the cash is applied to is our posting, not its choice), in full; a payment
  naming another invoice does not count. A plan for the account counts every payment in its
  currency.
- Part *k* is **kept** when what counted, by the end of its date, reaches the amounts of
  parts 1..*k* together (paying ahead keeps later parts; a later payment that catches up
  keeps the parts still to come, never one whose date has passed).
- **No grace**: the day after its date a part not kept is **broken**. The date is the
  customer's own, given after the due date had passed; a grace on top would be a second
  extension, and the collections ladder already has its waiting days.
- **No partial keeping**: a cent short is broken. What was paid is paid (it lowers the
  invoice); the rest goes on through collections.
- A promise for more than is open of its invoice counts as a promise of what is open; a
  promise of nothing (0, or made when nothing was open) is kept.
- **Nothing left to pay**: when its invoice has nothing open any more (paid, or credited
  in full by a credit note or a dispute resolved for the customer), every part of a
  promise still to come is kept; a plan for the account, when no invoice in its currency
  is open. The promise is a promise of what is owed, and nothing is: a part cannot be
  broken for not paying what the customer does not owe. A part whose date had already
  passed stays broken.
- A new promise for the same invoice (for a plan for the account, a new plan for the
  account) replaces the parts still to come, not kept, of the one before (a renegotiated
  date is not a broken promise): they are ``replaced`` and count nowhere. A part already
  broken (its date passed) or kept stays so and keeps counting; the replaced promise is
  listed as ``replaced``, or ``replaced (a part broken)``.

Kept and broken parts are what the payment-behaviour measure ``promise_kept_ratio_365``
counts (``Account.behaviour``). Forgetting: a closed dispute is forgotten
``CLOSED_KEPT_DAYS`` after it closed, an open one never; a promise when every part is
decided and its last date is more than a year back, an open one never.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CLOSED_KEPT_DAYS = 90  # a closed (or refused) dispute is listed and kept this long
PROMISE_KEPT_DAYS = 365  # the look-back of the promise-kept ratio
OUTCOMES = {"for_customer": "resolved_for_customer", "for_us": "resolved_for_us",
            "withdrawn": "withdrawn"}
OLDER_OUTCOMES = {"upheld": "for_customer", "rejected": "for_us", "settled": "for_us"}
ZERO = Decimal(0)
CENT = Decimal("0.01")


def amount_text(amount: Decimal) -> str:
    """An amount of a case as its rows give it, to the cent: '1000.00' (the form the
    JSON of the other listings has; the table adds thousands separators)."""
    return format(amount.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def money_text(amount: Decimal) -> str:
    """An amount in a case's prose (its detail): '1,000.00', as the CLI prints money."""
    return f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


@dataclass
class Dispute:
    """A disputed amount of one invoice; ``amount`` None disputes all that is open of it."""

    id: str
    invoice_id: str
    amount: Decimal | None
    opened_on: dt.date
    event_id: str
    reason: str | None = None
    owner: str | None = None
    currency: str | None = None  # the invoice's
    status: str = "open"  # open, resolved_for_customer, resolved_for_us, withdrawn, refused
    closed_on: dt.date | None = None
    credit_note_id: str | None = None
    why: str | None = None  # why it was refused
    opened_open: Decimal | None = None  # what was open of the invoice when it was opened

    @property
    def open(self) -> bool:
        return self.status == "open"

    def to_dict(self, open_amount: Decimal | None) -> dict:
        """The case as ``credit cases`` lists it (``open_amount``: its invoice's now). A
        dispute of all of an invoice shows what is open of it while open, and what was
        open when it was opened once closed."""
        amount = self.amount if self.amount is not None else \
            open_amount if self.open else self.opened_open
        return {"case_id": self.id, "kind": "dispute", "invoice_id": self.invoice_id,
                "amount": None if amount is None else amount_text(amount),
                "currency": self.currency, "date": self.opened_on.isoformat(), "owner": self.owner,
                "status": self.status,
                "closed_on": self.closed_on.isoformat() if self.closed_on else None,
                "detail": "; ".join(part for part in (
                    self.why, self.reason,
                    self.credit_note_id and f"credit note {self.credit_note_id}") if part)}


@dataclass
class PromisePart:
    """One dated amount of a promise (a plain promise has one)."""

    date: dt.date
    amount: Decimal
    kept: bool = False
    replaced: bool = False  # by a new promise before its date: it counts nowhere

    def status(self, as_of: dt.date) -> str:
        """kept, replaced, broken (its date is before ``as_of`` and it was not kept) or
        open."""
        if self.kept:
            return "kept"
        if self.replaced:
            return "replaced"
        return "broken" if self.date < as_of else "open"

    def to_come(self, day: dt.date) -> bool:
        """Whether it is still undecided on ``day`` (its date not passed)."""
        return not self.kept and not self.replaced and self.date >= day


@dataclass
class PromiseCase:
    """A promise to pay, or an instalment plan (``kind``), and what counted towards it."""

    id: str
    kind: str  # promise, instalment_plan
    invoice_id: str | None  # None: a plan for the account
    made_on: dt.date
    event_id: str
    parts: list[PromisePart]
    owner: str | None = None
    currency: str | None = None
    counted: Decimal = ZERO  # payments counted towards it since it was made
    replaced_on: dt.date | None = None
    settled_on: dt.date | None = None  # nothing was left to pay: its parts to come kept

    @property
    def last_date(self) -> dt.date:
        return self.parts[-1].date

    def count(self, amount: Decimal, day: dt.date) -> Decimal:
        """Count ``amount`` paid on ``day`` towards the parts still to come; returns what
        the promise did not need (for the next one)."""
        due = [index for index, part in enumerate(self.parts) if part.to_come(day)]
        if not due or self.replaced_on is not None:
            return amount
        needed = sum((p.amount for p in self.parts[:due[-1] + 1]), ZERO) - self.counted
        taken = min(amount, max(needed, ZERO))
        self.counted += taken
        total = ZERO
        for index, part in enumerate(self.parts):
            total += part.amount
            if index in due and self.counted >= total:
                part.kept = True
        return amount - taken

    def settle(self, day: dt.date) -> None:
        """Nothing is left to pay on ``day``: the parts still to come are kept."""
        for part in self.parts:
            if part.to_come(day):
                part.kept = True
                self.settled_on = day

    def open_on(self, day: dt.date) -> bool:
        """Whether a part is still to come on ``day`` (and the promise not replaced)."""
        return self.replaced_on is None and any(
            p.status(day) == "open" for p in self.parts)

    def status(self, as_of: dt.date) -> str:
        """replaced (a part broken, if one was before); open while a part is to come
        (broken if one already was); kept when every part was; else broken."""
        statuses = {part.status(as_of) for part in self.parts}
        if self.replaced_on is not None:
            return "replaced (a part broken)" if "broken" in statuses else "replaced"
        if "open" in statuses:
            return "open (a part broken)" if "broken" in statuses else "open"
        return "kept" if statuses == {"kept"} else "broken"

    def to_dict(self, as_of: dt.date) -> dict:
        """The case as ``credit cases`` lists it: the next part to come (else the last)."""
        coming = next((p for p in self.parts if p.status(as_of) == "open"), self.parts[-1])
        paid = (f"{money_text(self.counted)} paid towards "
                f"{money_text(sum((p.amount for p in self.parts), ZERO))}")
        parts = "; ".join(f"{p.date.isoformat()} {money_text(p.amount)} {p.status(as_of)}"
                          for p in self.parts)
        return {"case_id": self.id, "kind": self.kind, "invoice_id": self.invoice_id,
                "amount": amount_text(coming.amount), "currency": self.currency,
                "date": coming.date.isoformat(), "owner": self.owner,
                "status": self.status(as_of),
                "closed_on": self.replaced_on.isoformat() if self.replaced_on else None,
                "detail": (paid if len(self.parts) == 1 else f"{paid}: {parts}") + (
                    f"; nothing left to pay on {self.settled_on.isoformat()}"
                    if self.settled_on else "")}


@dataclass
class Cases:
    """An account's disputes and promises, by id, in the order they were opened or made."""

    disputes: dict[str, Dispute] = field(default_factory=dict)
    promises: dict[str, PromiseCase] = field(default_factory=dict)

    def forget(self, day: dt.date) -> None:
        """Drop what no reading on ``day`` or later lists or counts (see the module)."""
        closed_before = day - dt.timedelta(days=CLOSED_KEPT_DAYS)
        year_before = day - dt.timedelta(days=PROMISE_KEPT_DAYS)
        self.disputes = {key: item for key, item in self.disputes.items()
                         if item.open or item.closed_on > closed_before}
        self.promises = {key: item for key, item in self.promises.items()
                         if (item.replaced_on or item.last_date) > year_before
                         or item.open_on(day)}

    def disputed(self, invoice_id: str, open_amount: Decimal) -> Decimal:
        """What of an invoice's ``open_amount`` its open disputes hold (at most all)."""
        held = ZERO
        for dispute in self.disputes.values():
            if dispute.open and dispute.invoice_id == invoice_id:
                if dispute.amount is None:
                    return open_amount
                held += dispute.amount
        return min(held, open_amount)

    def has_open_dispute(self, invoice_id: str) -> bool:
        return any(d.open and d.invoice_id == invoice_id for d in self.disputes.values())

    def latest_promise(self, invoice_id: str | None) -> PromiseCase | None:
        """The promise for an invoice (None: the account's plans) not replaced, latest
        made."""
        found = None
        for case in self.promises.values():
            if case.invoice_id == invoice_id and case.replaced_on is None:
                found = case
        return found

    def replace(self, invoice_id: str | None, day: dt.date) -> None:
        """A new promise for ``invoice_id`` replaces the parts still to come (not kept,
        their date not passed) of those before it; their parts already decided stay."""
        for case in self.promises.values():
            if case.invoice_id == invoice_id and case.replaced_on is None and \
                    any(p.to_come(day) for p in case.parts):
                case.replaced_on = day
                for part in case.parts:
                    part.replaced = part.to_come(day)

    def parts_due(self, as_of: dt.date) -> list[PromisePart]:
        """The parts, not replaced, whose date is in the year before ``as_of`` and that
        are decided: kept, or broken (their date passed). A part broken before its
        promise was replaced counts."""
        start = as_of - dt.timedelta(days=PROMISE_KEPT_DAYS)
        return [part for case in self.promises.values() for part in case.parts
                if start < part.date and not part.replaced
                and (part.kept or part.date < as_of)]
