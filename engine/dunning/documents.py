"""What a dunning letter and an account statement say, from the audit trail: the values a
template is given, and the amounts the letter's audit record keeps.

A letter answers a collections step the monitor took (an ``escalate`` action): the
customer (name and language from its latest decision on or before the step's day), the
invoices overdue that day with their days overdue, the late-payment interest and the
compensation the ``late_payment`` terms of the ruleset that took the step give
(``engine.monitor.late_payment``, at the rates the action recorded; a later edit of the
terms does not reprice it), the step's dunning fee when that ruleset's ``escalation.yaml``
gives it one, the total due and the step. What an open dispute holds of an invoice is not
claimed: a partly disputed invoice is claimed for its undisputed part. The account is
folded from the log as it is now, so a dunning block in force that day leaves the customer
(no letter) or its invoices (not in the letter) out, even one set after the step was
taken.

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
from pathlib import PurePosixPath

from ..audit.events import customer_events
from ..audit.queries import latest_decision
from ..audit.store import AuditStore
from ..enrich.exchange_rates import Rate, known_rates
from ..monitor.account import CENT, Account, Invoice, fold, in_home
from ..monitor.late_payment import step_charges
from ..ruleset.compiler import CompiledRuleset
from ..ruleset.escalation import step_fee
from ..ruleset.source import MANIFEST
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
    ruleset: dict = field(default_factory=dict)  # name, version, hash: what priced it


def customer_on(store: AuditStore, customer_id: str, day: dt.date) -> Customer:
    """The customer as its latest decision on or before ``day`` describes it (its id alone,
    in English, when it was never decided)."""
    row = latest_decision(store, customer_id, day)
    if row is None:
        return Customer(customer_id, customer_id)
    given = store.body(row).get("input") or {}
    return Customer(customer_id, str(given.get("name") or customer_id),
                    given.get("country"), given.get("language") or FALLBACK_LANGUAGE)


@dataclass(frozen=True)
class StepRuleset:
    """What a letter takes from the ruleset that took its step: its collections spec
    (``escalation.yaml``: the late-payment terms, the steps' fees), the currency, and its
    name, version and hash."""

    spec: Mapping | None
    currency: str
    identity: dict

    @property
    def terms(self) -> Mapping | None:
        """The late-payment terms."""
        return (self.spec or {}).get("late_payment")


def step_ruleset(store: AuditStore, ruleset_hash: str | None, current: CompiledRuleset,
                 known: dict[str, StepRuleset]) -> StepRuleset:
    """The ruleset stored under ``ruleset_hash`` (``known`` caches them); the current one
    when the hash is the current one's or the action names none."""
    if not ruleset_hash or ruleset_hash == current.hash:
        ruleset_hash = current.hash
        if ruleset_hash not in known:
            known[ruleset_hash] = StepRuleset(current.escalation_spec, current.currency,
                                              dict(current.identity))
        return known[ruleset_hash]
    if ruleset_hash not in known:
        content = store.ruleset_content(ruleset_hash)
        manifest = content.get(MANIFEST) or {}
        # the stage's file as the manifest names it (read as is: the stored ruleset was
        # checked when it was loaded, by the engine of its day)
        stage = (manifest.get("stages") or {}).get("escalation")
        spec = content.get(str(PurePosixPath(stage))) if stage else None
        known[ruleset_hash] = StepRuleset(
            spec if isinstance(spec, Mapping) else None,
            manifest.get("currency") or current.currency,
            {"name": manifest.get("name"), "version": manifest.get("version"),
             "hash": ruleset_hash})
    return known[ruleset_hash]


def letters_due(store: AuditStore, ruleset: CompiledRuleset, as_of: dt.date
                ) -> list[Document]:
    """A letter for every collections step the monitor recorded on or before ``as_of``,
    in the order they were taken (one that gets none with ``skipped`` set), each priced by
    the ruleset that took the step."""
    known: dict[str, StepRuleset] = {}
    found = []
    for row in store.iter_rows(
            "SELECT seq, customer_id, as_of, ruleset_hash, body FROM records WHERE "
            "kind = 'action' AND outcome = 'escalate' AND as_of <= ? "
            "ORDER BY as_of, customer_id, seq", [as_of.isoformat()]):
        action = json.loads(row["body"])
        day = dt.date.fromisoformat(action["date"])
        customer = customer_on(store, action["customer_id"], day)
        rates = known_rates({r["currency"]: Rate.from_dict(r)
                             for r in action.get("rates", ()) if r["rate"] is not None})
        events = list(customer_events(store, customer.id, day.isoformat()))
        took = step_ruleset(store, row["ruleset_hash"], ruleset, known)
        document = Document("letter", customer, day, action["details"]["step"],
                            f"letter:{action['key']}",
                            source={"action": action["key"], "action_seq": row["seq"],
                                    "rule": action["rule"]}, ruleset=took.identity)
        _fill_letter(document, fold(customer.id, events, day, took.currency), events,
                     took.terms, step_fee(took.spec, document.document), rates,
                     took.currency)
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
                      if i.undisputed > 0 and i.due_date < day and i.id not in blocks),
                     key=lambda i: (i.due_date, i.id))
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
            **_claimed(invoice, day, issued, rates, currency),
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
                      "compensation": str(line["compensation"]),
                      # (only when a dispute holds part of it: other records stay as were)
                      **({"disputed": str(line["disputed_home"])}
                         if line["disputed_home"] else {})} for line in invoices]}
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
        events = list(customer_events(store, customer_id, as_of.isoformat()))
        account = fold(customer_id, events, as_of, ruleset.currency)
        document = statement(customer_on(store, customer_id, as_of), account, events,
                             as_of, since, factors, ruleset.currency)
        if document is not None:
            document.ruleset = dict(ruleset.identity)
            found.append(document)
    return found


def statement(customer: Customer, account: Account, events: list[dict], as_of: dt.date,
              since: dt.date, rates: Mapping[str, Decimal], currency: str
              ) -> Document | None:
    """The customer's statement on ``as_of`` (None when there is nothing to reconcile)."""
    blocks = account.dunning_blocks_on(as_of)
    issued = _issued(events)
    items = [{**_item(invoice, as_of, issued, rates, currency), "disputed": invoice.disputed,
              "disputed_amount": (invoice.open_amount - invoice.undisputed).quantize(CENT),
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
              "overdue": sum((in_home(invoice.undisputed, invoice.currency, rates
                                      ).quantize(CENT)
                              for invoice in account.invoices.values()
                              if invoice.open_amount > 0 and invoice.due_date < as_of),
                             ZERO),
              "since": since}
    amounts = {"currency": currency, "open_items": str(open_total),
               "payments": len(payments),
               "payments_since": since.isoformat(), "unapplied": str(unapplied),
               "balance": str(balance)}
    return Document("statement", customer, as_of, "statement",
                    statement_key(customer.id, as_of, since), values, amounts)


def statement_key(customer_id: str, as_of: dt.date, since: dt.date) -> str:
    """What makes a statement once only: its customer, day and period (the key of a
    statement of the default period, from the first of the month, names no start, as
    before periods were keyed)."""
    key = f"statement:{customer_id}:{as_of.isoformat()}"
    return key if since == as_of.replace(day=1) else f"{key}:since:{since.isoformat()}"


def _issued(events: list[dict]) -> dict[str, dt.date]:
    """The day each invoice was issued, by invoice id."""
    return {e["invoice_id"]: dt.date.fromisoformat(e["occurred_at"]) for e in events
            if e["type"] == "invoice_issued"}


def _claimed(invoice: Invoice, day: dt.date, issued: Mapping[str, dt.date],
             rates: Mapping[str, Decimal], currency: str) -> dict:
    """An invoice as a letter claims it: open for its undisputed part, with what an open
    dispute holds of it (``disputed_amount``, ``disputed_home``; 0.00 when none)."""
    item = _item(invoice, day, issued, rates, currency)
    disputed = invoice.open_amount - invoice.undisputed
    item["open_amount"] = invoice.undisputed.quantize(CENT)
    item["open_home"] = in_home(invoice.undisputed, invoice.currency, rates).quantize(CENT)
    item["disputed_amount"] = disputed.quantize(CENT)
    item["disputed_home"] = in_home(disputed, invoice.currency, rates).quantize(CENT)
    return item


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
