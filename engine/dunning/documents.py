"""What a dunning letter and an account statement say, from the audit trail: the values a
template is given, and the amounts the letter's audit record keeps.

A letter answers a collections step the monitor took (an ``escalate`` action): the
customer (name and language from its latest decision on or before the step's day), the
invoices overdue that day with their days overdue, the late-payment interest and the
compensation the ruleset's ``late_payment`` terms give (``engine.monitor.late_payment``,
at the rates the action recorded), the step's dunning fee when ``escalation.yaml`` gives
it one, the total due and the step. The account is folded from
the log as it is now, so a dunning block in force that day leaves the customer (no letter)
or its invoices (not in the letter) out, even one set after the step was taken.

A statement (the periodic reconciliation) lists a customer's open items on a day, the
payments received in the period before it, unapplied cash and the balance.

Pure given the trail: the same records, ruleset and day give the same values.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ..audit.store import AuditStore
from ..enrich.exchange_rates import Rate, known_rates
from ..monitor.account import CENT, Account, Invoice, in_home
from ..monitor.late_payment import step_charges
from ..ruleset.compiler import CompiledRuleset
from ..ruleset.escalation import step_fee
from .templates import FALLBACK_LANGUAGE

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Customer:
    """Who a document is addressed to, as its latest decision's input says."""

    id: str
    name: str
    country: str | None = None
    language: str = FALLBACK_LANGUAGE

    def values(self) -> dict:
        return {"id": self.id, "name": self.name, "country": self.country,
                "language": self.language}


@dataclass
class Document:
    """One letter or statement to write: its kind (``letter`` or ``statement``), customer,
    day, the template name it is written from (a step, or ``statement``), the key that
    makes it once only, the values its template reads and the amounts its record keeps.
    ``skipped`` is (status, why) when a step gets no letter: ``blocked`` (the customer is
    under a dunning block) or ``nothing due`` (no overdue invoice is left to claim)."""

    kind: str
    customer: Customer
    day: dt.date
    document: str
    key: str
    values: dict = field(default_factory=dict)
    amounts: dict = field(default_factory=dict)
    source: dict = field(default_factory=dict)  # what it answers (the action's seq, key)
    skipped: tuple[str, str] | None = None


def customer_on(store: AuditStore, customer_id: str, day: dt.date) -> Customer:
    """The customer as its latest decision on or before ``day`` describes it (its id alone,
    in English, when it was never decided)."""
    rows = list(store.iter_rows(
        "SELECT seq FROM records WHERE kind = 'decision' AND customer_id = ? AND as_of <= ? "
        "ORDER BY as_of DESC, seq DESC LIMIT 1", [customer_id, day.isoformat()]))
    if not rows:
        return Customer(customer_id, customer_id)
    given = store.body(store.record(str(rows[0]["seq"]))).get("input") or {}
    return Customer(customer_id, str(given.get("name") or customer_id),
                    given.get("country"), given.get("language") or FALLBACK_LANGUAGE)


def customer_events(store: AuditStore, customer_id: str, day: dt.date) -> list[dict]:
    """The customer's events up to ``day``, in the order the monitor folds them."""
    return [json.loads(row["body"]) for row in store.iter_rows(
        "SELECT body FROM records WHERE kind = 'event' AND customer_id = ? AND as_of <= ? "
        "ORDER BY as_of, seq", [customer_id, day.isoformat()])]


def fold_events(events: list[dict], customer_id: str, currency: str) -> Account:
    account = Account(customer_id, currency)
    for event in events:
        account.apply(event)
    return account


def letters_due(store: AuditStore, ruleset: CompiledRuleset, as_of: dt.date
                ) -> list[Document]:
    """A letter for every collections step the monitor recorded on or before ``as_of``,
    in the order they were taken (one that gets none with ``skipped`` set)."""
    spec = ruleset.escalation_spec or {}
    terms = spec.get("late_payment")
    found = []
    for row in store.iter_rows(
            "SELECT seq, customer_id, as_of, body FROM records WHERE kind = 'action' AND "
            "outcome = 'escalate' AND as_of <= ? ORDER BY as_of, customer_id, seq",
            [as_of.isoformat()]):
        action = json.loads(row["body"])
        day = dt.date.fromisoformat(action["date"])
        customer = customer_on(store, action["customer_id"], day)
        rates = known_rates({r["currency"]: Rate.from_dict(r)
                             for r in action.get("rates", ()) if r["rate"] is not None})
        events = customer_events(store, customer.id, day)
        document = Document("letter", customer, day, action["details"]["step"],
                            f"letter:{action['key']}",
                            source={"action": action["key"], "action_seq": row["seq"],
                                    "rule": action["rule"]})
        _fill_letter(document, fold_events(events, customer.id, ruleset.currency), events,
                     terms, step_fee(spec, document.document), rates, ruleset.currency)
        found.append(document)
    return found


def _fill_letter(document: Document, account: Account, events: list[dict],
                 terms: Mapping | None, fee: Decimal | None, rates: Mapping[str, Decimal],
                 currency: str) -> None:
    day = document.day
    blocks = account.dunning_blocks_on(day)
    if "" in blocks:
        document.skipped = ("blocked", f"dunning blocked: {blocks[''].reason}")
        return
    overdue = sorted((i for i in account.invoices.values()
                      if i.open_amount > 0 and i.due_date < day and not i.disputed
                      and i.id not in blocks), key=lambda i: (i.due_date, i.id))
    if not overdue:
        document.skipped = ("nothing due", "nothing overdue left to claim" + (
            " (the overdue invoices are blocked)" if blocks else ""))
        return
    charges = step_charges(terms, fee, overdue, day, rates) or {}
    lines = {line["invoice_id"]: line for line in charges.get("invoices", ())}
    issued = _issued(events)
    invoices = []
    for invoice in overdue:
        line = lines.get(invoice.id, {})
        invoices.append({
            **_item(invoice, day, issued, rates, currency),
            "interest": Decimal(line.get("interest", ZERO)),
            "compensation": Decimal(line.get("compensation", ZERO))})
    overdue_total = sum((line["open_home"] for line in invoices), ZERO)
    interest = Decimal(charges.get("interest", ZERO))
    compensation = Decimal(charges.get("compensation", ZERO))
    fee_due = Decimal(charges.get("fee", ZERO))
    total = overdue_total + interest + compensation + fee_due
    document.values = {
        "step": document.document, "invoices": invoices, "currency": currency,
        "overdue": overdue_total, "interest": interest, "compensation": compensation,
        "fee": fee_due, "total_due": total, "annual_rate": Decimal(charges["annual_rate"])
        if charges else None, "day_count": charges.get("day_count"),
        "days_overdue": max(line["days_overdue"] for line in invoices),
        "blocked_invoices": sorted(key for key in blocks if key)}
    document.amounts = {
        "currency": currency, "overdue": str(overdue_total), "interest": str(interest),
        "compensation": str(compensation), "total_due": str(total),
        "annual_rate": charges.get("annual_rate"),
        "invoices": [{"invoice_id": line["id"], "open_amount": str(line["open_home"]),
                      "days_overdue": line["days_overdue"], "interest": str(line["interest"]),
                      "compensation": str(line["compensation"])} for line in invoices]}
    if "fee" in charges:  # (left out without a fee, as before fees existed)
        document.amounts["fee"] = charges["fee"]


def statements_due(store: AuditStore, ruleset: CompiledRuleset, as_of: dt.date,
                   since: dt.date, rates: Mapping[str, Rate]) -> list[Document]:
    """A statement for every customer with events up to ``as_of`` that has open items,
    unapplied cash or payments received from ``since`` to ``as_of``."""
    factors = known_rates(rates)
    found = []
    for row in list(store.iter_rows(
            "SELECT DISTINCT customer_id FROM records WHERE kind = 'event' AND as_of <= ? "
            "ORDER BY customer_id", [as_of.isoformat()])):
        customer_id = row["customer_id"]
        events = customer_events(store, customer_id, as_of)
        account = fold_events(events, customer_id, ruleset.currency)
        document = statement(customer_on(store, customer_id, as_of), account, events,
                             as_of, since, factors, ruleset.currency)
        if document is not None:
            found.append(document)
    return found


def statement(customer: Customer, account: Account, events: list[dict], as_of: dt.date,
              since: dt.date, rates: Mapping[str, Decimal], currency: str
              ) -> Document | None:
    """The customer's statement on ``as_of`` (None when there is nothing to reconcile)."""
    blocks = account.dunning_blocks_on(as_of)
    issued = _issued(events)
    items = [{**_item(invoice, as_of, issued, rates, currency), "disputed": invoice.disputed,
              "blocked": invoice.id in blocks or "" in blocks}
             for invoice in sorted(account.invoices.values(),
                                   key=lambda i: (i.due_date, i.id))
             if invoice.open_amount > 0]
    payments = [{"date": dt.date.fromisoformat(e["occurred_at"]), "id": e["id"],
                 "invoice_id": e.get("invoice_id"),
                 "amount": Decimal(str(e["amount"])).quantize(CENT),
                 "currency": e.get("currency") or currency}
                for e in events if e["type"] == "payment_received"
                and since <= dt.date.fromisoformat(e["occurred_at"]) <= as_of]
    unapplied = account.unapplied_total(rates).quantize(CENT)
    if not items and not payments and not unapplied:
        return None
    open_total = sum((item["open_home"] for item in items), ZERO)
    balance = (open_total - unapplied).quantize(CENT)
    values = {"items": items, "payments": payments, "currency": currency,
              "open_total": open_total, "unapplied": unapplied, "balance": balance,
              "overdue": sum((item["open_home"] for item in items
                              if item["days_overdue"] > 0 and not item["disputed"]), ZERO),
              "since": since}
    amounts = {"currency": currency, "open_items": str(open_total),
               "payments": len(payments),
               "payments_since": since.isoformat(), "unapplied": str(unapplied),
               "balance": str(balance)}
    return Document("statement", customer, as_of, "statement",
                    f"statement:{customer.id}:{as_of.isoformat()}", values, amounts)


def _issued(events: list[dict]) -> dict[str, dt.date]:
    """The day each invoice was issued, by invoice id."""
    return {e["invoice_id"]: dt.date.fromisoformat(e["occurred_at"]) for e in events
            if e["type"] == "invoice_issued"}


def _item(invoice: Invoice, day: dt.date, issued: Mapping[str, dt.date],
          rates: Mapping[str, Decimal], currency: str) -> dict:
    """An invoice as a document lists it: in its own currency, and what is open in the
    ruleset's (``open_home``)."""
    return {"id": invoice.id, "issued": issued.get(invoice.id), "due_date": invoice.due_date,
            "days_overdue": max((day - invoice.due_date).days, 0),
            "currency": invoice.currency or currency, "amount": invoice.amount.quantize(CENT),
            "paid": invoice.paid.quantize(CENT), "open_amount":
            invoice.open_amount.quantize(CENT),
            "open_home": in_home(invoice.open_amount, invoice.currency, rates).quantize(CENT)}
