"""Generate a year of account events for the example portfolio, for `credit events ingest`.

The customers are the first ``--customers`` of ``generate_portfolio.customers(seed, ...)``,
so with the defaults they are the first rows of examples/portfolio.csv. Their payment
behaviour follows their quality: the portfolio's hidden quality draw is not in the customer
document, so it is estimated back from the indicators it drove there (margin, current
ratio, debt ratio, overdue count and days) and the flags. A strong customer pays on time;
a weak one pays late (5 to 150 days), in part, after a broken promise or not at all, gets
disputes, dunning contacts and bureau downgrades; a few stop paying altogether, and some of
those end in a payment default or an insolvency filing.

Per customer, from the start of the relationship (or ``--start``) to ``--end``:

- orders every 2-6 weeks, invoiced a few days later on 30, 45 or 60 day terms, amounts
  scaled to revenue; now and then an order far above a plausible credit limit, which is
  either invoiced anyway or held (a phone call says so);
- payments on time, late, partial (part first, the rest later or never) or missing;
- the seller's dunning ladder on unpaid invoices: reminder, phone call, letter, legal;
  on the call the customer may promise to pay by a date, a promise kept (the payment
  arrives by then) or broken (it does not);
- disputes, closed weeks later as upheld (a credit note for what is open, nothing to
  pay), rejected (paid in full) or settled (paid in part); the occasional account-review
  visit;
- the way of an order to cash: a delivery date on every order, the delivery reported
  before the invoice for most, the invoice naming its order (now and then issued unposted
  and posted days later), a part cancelled now and then, held orders cancelled after a
  while; and for a few customers a guarantee given for them and released months later;
- bureau alerts: downgrades (now and then a second within 90 days), upgrades, and rarely
  a legal event, a payment default or an insolvency filing.

Every customer is a lazy generator that yields its events in date order (it keeps only
its open invoices' plans); the customers are merged by date with heapq.merge, and the
ids EV-0000001... are given in output order, so the output is sorted by occurred_at and
then id, memory does not grow with the number of events, and the same seed gives the
same bytes. Every line is valid against schemas/event.schema.json.

    python examples/generate_events.py                      # 400 customers, 2026, seed 2026
    python examples/generate_events.py --customers 20 --out -
    python examples/generate_events.py --customers 5000 --count-only
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import math
import random
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_portfolio import DEFAULT_AS_OF, customers

DEFAULT_SEED = 2026
DEFAULT_CUSTOMERS = 400
DEFAULT_START = "2026-01-01"
DEFAULT_END = "2026-12-31"
DEFAULT_OUT = "examples/events.jsonl"

EVENT_TYPES = ("invoice_issued", "payment_received", "promise_to_pay", "dispute_opened",
               "dispute_closed", "contact_made", "bureau_alert", "order_placed",
               "order_cancelled", "delivery_made", "invoice_posted", "credit_note_issued",
               "liability_opened", "liability_closed")
# How often, in the order-to-cash details drawn from their own random stream (so that the
# payment behaviour above them is the same whatever these are):
DELIVERED_FIRST = 0.6  # an order's delivery is reported before its invoice
UNPOSTED = 0.15  # an invoice is issued unposted and posted a few days later
PART_CANCELLED = 0.03  # part of an order is cancelled the day after it is placed
GUARANTEE = 0.05  # a customer for whom a guarantee is given during the year

DISPUTE_REASONS = (
    "goods damaged in transit", "price differs from the order", "quantity short",
    "late delivery", "quality complaint", "invoice sent twice", "wrong items delivered",
)
# outcome, weight; upheld means a credit note: nothing left to pay
DISPUTE_OUTCOMES = (("upheld", 35), ("rejected", 40), ("settled", 25))
PHONE_OUTCOMES = ("no answer", "left a message", "says the payment is scheduled",
                  "contact person on leave", "asked for a copy of the invoice")

_DAY = dt.timedelta(days=1)


def _days(n: int) -> dt.timedelta:
    return n * _DAY


def _clamp(x: float, low: float, high: float) -> float:
    return low if x < low else high if x > high else x


def _logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _money(x: float) -> float:
    return max(0.01, round(x, 2))


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    limit = math.exp(-min(lam, 30.0))
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


# -- the customer: who they are and how they behave --------------------------------------

def estimate_quality(doc: dict) -> float:
    """The portfolio generator's hidden quality, estimated back from the document.

    generate_portfolio draws quality q ~ N(-0.5, 0.7) and derives the indicators from it
    with noise; each indicator inverted gives an estimate of q with a known spread, and
    the estimates are combined with the prior by their precision (higher is better).
    """
    estimates: list[tuple[float, float]] = [(-0.5, 0.7)]  # (estimate, standard deviation)
    fin = doc.get("financials") or {}
    revenue = fin.get("revenue")
    if revenue:
        if fin.get("net_income") is not None:
            estimates.append(((fin["net_income"] / revenue - 0.028) / 0.025, 0.9))
        assets, liabilities = fin.get("current_assets"), fin.get("current_liabilities")
        if assets and liabilities:
            estimates.append(((math.log(assets / liabilities) - 0.25) / 0.24, 0.95))
        total, debt = fin.get("total_assets"), fin.get("total_liabilities")
        if total and debt is not None:
            share = _clamp(debt / total / 1.2, 0.01, 0.99)
            estimates.append(((-0.1 - math.log(share / (1 - share))) / 0.65, 0.7))
    history = doc.get("credit_history") or {}
    overdue = history.get("overdue_count_12m")
    if overdue is not None:
        estimates.append(((0.5 - math.log(overdue + 0.5)) / 0.9, 1.1))
        days = history.get("max_days_overdue_12m") or 0
        if overdue and days:
            estimates.append(((2.8 - math.log(max(days - 1, 0.5))) / 0.7, 0.8))
    weights = [1 / sd ** 2 for _, sd in estimates]
    q = sum(w * e for (e, _), w in zip(estimates, weights, strict=True)) / sum(weights)
    flags = doc.get("flags") or {}
    q -= 0.25 * min(flags.get("legal_events_24m") or 0, 4)
    if flags.get("insolvency_proceedings"):
        q -= 1.0
    return q


# The default ruleset's limits by grade (rulesets/default/policy.yaml): shares of revenue
# and of equity, whichever is lower; here by the estimated quality the grades roughly
# follow (the lowest band, CCC, gets none).
LIMIT_BANDS = (  # quality above, share of revenue, share of equity
    (0.2, 0.15, 0.6), (-0.1, 0.12, 0.5), (-0.4, 0.10, 0.4), (-0.7, 0.07, 0.3),
    (-1.05, 0.05, 0.2), (-1.45, 0.03, 0.1),
)


def _plausible_limit(fin: dict, quality: float) -> float:
    """About the limit the default ruleset would give; 0 when it would give none."""
    revenue, equity = fin.get("revenue"), fin.get("equity")
    if not revenue or equity is None:
        return 0.0
    for above, of_revenue, of_equity in LIMIT_BANDS:
        if quality > above:
            limit = min(revenue * of_revenue, equity * of_equity, 5_000_000)
            return max(0.0, math.floor(limit / 1000) * 1000)
    return 0.0


@dataclass(frozen=True, slots=True)
class Profile:
    """What drives one customer's events."""

    customer_id: str
    number: str  # the customer id's digits, for invoice and order numbers
    quality: float  # estimate_quality(); about N(-0.5, 0.6)
    since: dt.date  # the relationship starts (a prospect: around the decision date)
    invoice_mean: float  # a typical invoice
    limit: float  # a plausible credit limit
    insolvent: bool  # the portfolio flags insolvency proceedings
    legal_events: int  # legal events in the 24 months to the decision date


def profile(doc: dict, as_of: dt.date) -> Profile:
    """The profile of one portfolio customer (no randomness: the document decides)."""
    customer_id = doc["id"]
    number = customer_id.removeprefix("C-")
    fin = doc.get("financials") or {}
    revenue = fin.get("revenue") or doc["requested_amount"] * 180 or 150_000
    # Our sales to the customer: a share of their revenue (their spend on what we sell).
    annual = revenue * 0.03
    invoice_mean = max(250.0, annual * 28 / 365)
    quality = estimate_quality(doc)
    limit = _plausible_limit(fin, quality) or max(1000.0, float(doc["requested_amount"]))
    months = (doc.get("credit_history") or {}).get("months_known") or 0
    since = as_of + _days(7) if months == 0 else as_of - _days(round(months * 30.44))
    founded = dt.date.fromisoformat(doc["founded"])
    flags = doc.get("flags") or {}
    return Profile(customer_id=customer_id, number=number or customer_id,
                   quality=quality, since=max(since, founded),
                   invoice_mean=invoice_mean, limit=limit,
                   insolvent=bool(flags.get("insolvency_proceedings")),
                   legal_events=int(flags.get("legal_events_24m") or 0))


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Probabilities and rates that follow from the quality (z = 0 is a typical customer)."""

    late: float  # an invoice is paid after its due date
    late_mean: float  # mean days late beyond the first five
    missing: float  # an invoice is never paid
    partial: float  # a late or missing invoice is first paid in part
    dispute: float  # an invoice is disputed
    promise: float  # the phone call ends in a promise to pay
    keep: float  # a promise is kept
    stop: float  # the customer stops paying altogether, some time in the period
    downgrades: float  # bureau downgrades a year
    second_downgrade: float  # a downgrade is followed by another within 90 days
    upgrades: float  # bureau upgrades a year
    over_limit: float  # an order is far above the credit limit
    terms: tuple[int, ...]  # the terms the customer buys on (30/45/60, weighted)
    bureau_class: int  # starting bureau risk class, 1 (best) to 6


def behaviour(p: Profile, rng: random.Random) -> Behaviour:
    z = p.quality + 0.5
    primary = rng.choices((30, 45, 60), weights=(45, 35, 20))[0]
    return Behaviour(
        late=_logistic(-1.5 - 1.8 * z),
        late_mean=_clamp(math.exp(2.6 - 0.8 * z), 4.0, 80.0),
        missing=_logistic(-4.8 - 2.2 * z),
        partial=_logistic(-2.0 - 0.8 * z),
        dispute=_clamp(0.03 - 0.02 * z, 0.01, 0.08),
        promise=_clamp(0.55 + 0.1 * z, 0.3, 0.75),
        keep=_logistic(0.7 + 1.6 * z),
        stop=1.0 if p.insolvent else _logistic(-5.3 - 2.6 * z),
        downgrades=_clamp(math.exp(-1.9 - 1.3 * z), 0.02, 2.0),
        second_downgrade=_clamp(0.15 - 0.25 * z, 0.05, 0.6),
        upgrades=_clamp(math.exp(-2.6 + 1.2 * z), 0.01, 0.6),
        over_limit=_clamp(0.012 - 0.01 * z, 0.004, 0.03),
        terms=(primary, primary, primary, primary, primary, 30, 45, 60),
        bureau_class=int(_clamp(round(3 - 1.6 * z + rng.gauss(0, 0.5)), 1, 6)),
    )


# -- one customer's events -----------------------------------------------------------------

Step = tuple[dt.date, str, dict]  # (occurred_at, type, the type's own fields)


def _plan_invoice(rng: random.Random, b: Behaviour, stop: dt.date | None, invoice_id: str,
                  issued: dt.date, amount: float, terms: int) -> list[Step]:
    """Everything that will happen to one invoice after it is issued, in date order."""
    due = issued + _days(terms)
    steps: list[Step] = []

    def add(day: dt.date, kind: str, **fields: object) -> None:
        steps.append((day, kind, fields))

    def paying(day: dt.date | None) -> dt.date | None:
        return None if day is None or (stop is not None and day >= stop) else day

    if rng.random() < b.dispute:
        opened = issued + _days(rng.randint(3, 35))
        closed = opened + _days(rng.randint(10, 80))
        outcome = rng.choices([o for o, _ in DISPUTE_OUTCOMES],
                              weights=[w for _, w in DISPUTE_OUTCOMES])[0]
        add(opened, "dispute_opened", invoice_id=invoice_id, reason=rng.choice(DISPUTE_REASONS))
        add(opened, "contact_made", channel="phone", outcome=f"{invoice_id}: dispute logged")
        if outcome == "upheld":  # the credit note comes with the closing
            add(closed, "credit_note_issued", invoice_id=invoice_id, amount=amount)
        add(closed, "dispute_closed", invoice_id=invoice_id, outcome=outcome)
        pay = paying(max(due, closed) + _days(rng.randint(2, 25)))
        if outcome != "upheld" and pay is not None:
            paid = amount if outcome == "rejected" else _money(amount * rng.uniform(0.5, 0.9))
            add(pay, "payment_received", amount=paid, invoice_id=invoice_id)
        return sorted(steps, key=lambda step: step[0])

    r = rng.random()
    pay: dt.date | None
    if r < b.missing:
        pay = None
    elif r < b.missing + b.late:
        pay = due + _days(min(150, 5 + int(rng.expovariate(1 / b.late_mean))))
    else:
        pay = due - _days(rng.randint(0, min(terms - 10, 12)))
    outstanding = amount
    if (pay is None or pay > due) and rng.random() < b.partial:
        part_day = paying(issued + _days(rng.randint(terms // 2, terms + 10)))
        if part_day is not None and (pay is None or part_day < pay):
            part = _money(amount * rng.uniform(0.25, 0.75))
            add(part_day, "payment_received", amount=part, invoice_id=invoice_id)
            outstanding = round(amount - part, 2)
    pay = paying(pay)

    def unpaid(day: dt.date) -> bool:
        return pay is None or pay > day

    reminder = due + _days(rng.randint(3, 7))
    if unpaid(reminder):
        add(reminder, "contact_made", channel="reminder", outcome=f"{invoice_id} overdue")
    call = due + _days(rng.randint(14, 21))
    if unpaid(call):
        if rng.random() < b.promise:
            promised = call + _days(rng.randint(5, 21))
            kept_on = paying(call + _days(rng.randint(1, (promised - call).days)))
            if kept_on is not None and rng.random() < b.keep:
                pay = kept_on
            elif pay is not None and pay <= promised:
                pay = paying(promised + _days(rng.randint(3, 30)))
            add(call, "contact_made", channel="phone",
                outcome=f"{invoice_id}: promised payment by {promised.isoformat()}")
            add(call, "promise_to_pay", invoice_id=invoice_id,
                promised_date=promised.isoformat(), amount=outstanding)
        else:
            add(call, "contact_made", channel="phone", outcome=rng.choice(PHONE_OUTCOMES))
    letter = due + _days(rng.randint(30, 42))
    if unpaid(letter):
        add(letter, "contact_made", channel="letter", outcome=f"{invoice_id}: dunning letter")
    legal = due + _days(rng.randint(75, 100))
    if unpaid(legal):
        add(legal, "contact_made", channel="legal",
            outcome=f"{invoice_id}: handed to the collection agency")
    if pay is not None:
        add(pay, "payment_received", amount=outstanding, invoice_id=invoice_id)
    return sorted(steps, key=lambda step: step[0])


def _alerts(rng: random.Random, p: Profile, b: Behaviour, first: dt.date, end: dt.date,
            stop: dt.date | None, as_of: dt.date) -> list[Step]:
    """The bureau alerts about one customer in the period, in date order."""
    span = (end - first).days
    found: list[tuple[dt.date, str]] = []

    def some_day() -> dt.date:
        return first + _days(rng.randint(0, span))

    for _ in range(_poisson(rng, b.downgrades * span / 365)):
        day = some_day()
        found.append((day, "downgrade"))
        if rng.random() < b.second_downgrade:
            found.append((day + _days(rng.randint(14, 85)), "downgrade"))
    found += [(some_day(), "upgrade") for _ in range(_poisson(rng, b.upgrades * span / 365))]
    # Legal events the portfolio counts in the 24 months to the decision: about half fall
    # in the last twelve.
    recent = max(first, as_of - _days(365))
    for _ in range(p.legal_events):
        if rng.random() < 0.45 and recent < as_of:
            found.append((recent + _days(rng.randint(0, (as_of - recent).days)), "legal_event"))
    if stop is not None:
        if rng.random() < 0.6:
            found.append((stop + _days(rng.randint(45, 120)), "payment_default"))
        if rng.random() < (0.7 if p.insolvent else 0.2):
            found.append((stop + _days(rng.randint(20, 150)), "insolvency_filing"))
        elif rng.random() < 0.3:
            found.append((stop + _days(rng.randint(10, 90)), "legal_event"))
    found.sort(key=lambda alert: alert[0])
    steps: list[Step] = []
    rank = b.bureau_class
    for day, kind in found:
        if kind == "downgrade":
            detail = (f"risk class {rank} -> {rank + 1}" if rank < 6
                      else "risk class 6 confirmed, outlook negative")
            rank = min(6, rank + 1)
        elif kind == "upgrade":
            detail = (f"risk class {rank} -> {rank - 1}" if rank > 1
                      else "risk class 1 confirmed, outlook positive")
            rank = max(1, rank - 1)
        elif kind == "payment_default":
            detail = "payment default reported by another creditor"
            rank = 6
        elif kind == "insolvency_filing":
            detail = "insolvency petition filed with the court"
            rank = 6
        else:
            detail = rng.choice(("court claim filed", "enforcement order registered",
                                 "lien registered"))
        steps.append((day, "bureau_alert", {"kind": kind, "detail": detail}))
    return steps


def customer_events(p: Profile, seed: int, start: dt.date, end: dt.date,
                    as_of: dt.date) -> Iterator[dict]:
    """One customer's events, lazily and in date order (without ids)."""
    rng = random.Random(f"{seed}:{p.customer_id}")
    o2c = random.Random(f"{seed}:{p.customer_id}:order-to-cash")
    b = behaviour(p, rng)
    first = max(start, p.since)
    if first > end:
        return
    stop = stop_orders = None
    if rng.random() < b.stop:
        latest = min(end, as_of) if p.insolvent else end - _days(30)
        earliest = first + _days(60)
        if earliest < latest:
            stop = earliest + _days(rng.randint(0, (latest - earliest).days))
            stop_orders = stop + _days(rng.randint(20, 60))

    # The customer's agenda: (day, sequence, action, payload); the sequence keeps the
    # order of equal days and means payloads are never compared.
    agenda: list[tuple[dt.date, int, str, object]] = []
    sequence = 0

    def push(day: dt.date, action: str, payload: object = None) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(agenda, (day, sequence, action, payload))

    def follow(steps: Iterable[Step]) -> None:
        """Put the first of a date-ordered plan on the agenda; the rest follow in turn."""
        rest = iter(steps)
        step = next(rest, None)
        if step is not None:
            push(step[0], "step", (step, rest))

    push(first + _days(rng.randint(0, 20)), "order")
    follow(_alerts(rng, p, b, first, end, stop, as_of))
    span = (end - first).days
    visits = sorted(first + _days(rng.randint(0, span))
                    for _ in range(_poisson(rng, 0.3 * (span + 1) / 365)))
    follow((day, "contact_made", {"channel": "visit", "outcome": "account review"})
           for day in visits)
    if o2c.random() < GUARANTEE and span > 30:
        given = first + _days(o2c.randint(0, span - 30))
        amount = _money(p.invoice_mean * o2c.uniform(2, 6))
        follow([(given, "liability_opened", {"liability_id": f"GU-{p.number}",
                                             "amount": amount, "kind": "guarantee"}),
                (given + _days(o2c.randint(90, 180)), "liability_closed",
                 {"liability_id": f"GU-{p.number}"})])
    orders = invoices = 0
    while agenda:
        day, _, action, payload = heapq.heappop(agenda)
        if day > end:
            return
        if action == "step":  # the next step of a plan: an invoice's, the alerts, visits
            (_, kind, fields), rest = payload
            yield _event(p, day, kind, fields)
            follow(rest)
        elif action == "order":
            if stop_orders is not None and day >= stop_orders:
                continue
            orders += 1
            order_id = f"SO-{p.number}-{orders:03d}"
            delivery = day + _days(o2c.randint(0, 10))
            if rng.random() < b.over_limit:
                amount = _money(p.limit * rng.uniform(1.1, 1.6))
                if rng.random() < 0.5:
                    held = day + _days(rng.randint(0, 2))
                    follow([(held, "contact_made", {
                        "channel": "phone",
                        "outcome": f"{order_id} held: over the credit limit"}),
                        (held + _days(o2c.randint(5, 20)), "order_cancelled",
                         {"order_id": order_id})])
                else:
                    invoice_day = day + _days(rng.randint(0, 6))
                    push(invoice_day, "invoice", (amount, order_id))
            else:
                amount = _money(p.invoice_mean * math.exp(rng.gauss(-0.045, 0.3)))
                invoice_day = day + _days(rng.randint(0, 6))
                billed = amount
                if o2c.random() < PART_CANCELLED:
                    cut = _money(amount * o2c.uniform(0.1, 0.4))
                    billed = round(amount - cut, 2)
                    follow([(day + _DAY, "order_cancelled", {"order_id": order_id,
                                                             "amount": cut})])
                    invoice_day = max(invoice_day, day + _DAY)
                if o2c.random() < DELIVERED_FIRST:
                    follow([(max(day, invoice_day - _days(o2c.randint(0, 2))),
                             "delivery_made", {"order_id": order_id, "amount": billed})])
                push(invoice_day, "invoice", (billed, order_id))
            yield _event(p, day, "order_placed", {"amount": amount, "order_id": order_id,
                                                  "delivery_date": delivery.isoformat()})
            push(day + _days(rng.randint(14, 42)), "order")
        else:  # "invoice"
            amount, order_id = payload
            invoices += 1
            invoice_id = f"INV-{p.number}-{invoices:03d}"
            terms = rng.choice(b.terms)
            issued = {"invoice_id": invoice_id, "amount": amount,
                      "due_date": (day + _days(terms)).isoformat(), "order_id": order_id}
            if o2c.random() < UNPOSTED:
                issued["posted"] = False
                follow([(day + _days(o2c.randint(1, 3)), "invoice_posted",
                         {"invoice_id": invoice_id})])
            yield _event(p, day, "invoice_issued", issued)
            follow(_plan_invoice(rng, b, stop, invoice_id, day, amount, terms))


def _event(p: Profile, day: dt.date, kind: str, fields: dict) -> dict:
    return {"customer_id": p.customer_id, "type": kind, "occurred_at": day.isoformat(),
            **fields}


# -- all customers, merged -------------------------------------------------------------------

def _keyed(index: int, stream: Iterable[dict]) -> Iterator[tuple[str, int, int, dict]]:
    for n, event in enumerate(stream):
        yield event["occurred_at"], index, n, event


def events(seed: int = DEFAULT_SEED, count: int = DEFAULT_CUSTOMERS,
           start: dt.date = dt.date(2026, 1, 1), end: dt.date = dt.date(2026, 12, 31),
           as_of: dt.date | None = None) -> Iterator[dict]:
    """Yield the events of the first ``count`` portfolio customers, sorted by date then id."""
    as_of = as_of or dt.date.fromisoformat(DEFAULT_AS_OF)
    streams = [_keyed(index, customer_events(profile(doc, as_of), seed, start, end, as_of))
               for index, doc in enumerate(customers(seed, count, as_of))]
    for n, (_, _, _, event) in enumerate(heapq.merge(*streams), start=1):
        yield {"id": f"EV-{n:07d}", **event}


def write(stream: Iterable[dict], out) -> Counter:
    """Write the events to the open text file ``out``, one line each; count them by type."""
    counts: Counter = Counter()
    for event in stream:
        out.write(json.dumps(event, separators=(",", ":")) + "\n")
        counts[event["type"]] += 1
    return counts


def _report(counts: Counter, out) -> None:
    print(f"{sum(counts.values())} events", file=out)
    for kind in EVENT_TYPES:
        print(f"  {kind:<17} {counts[kind]}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate a seeded year of account events for the example portfolio.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"random seed, also the portfolio's (default {DEFAULT_SEED})")
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS,
                        help=f"the first N portfolio customers (default {DEFAULT_CUSTOMERS})")
    parser.add_argument("--start", default=DEFAULT_START,
                        help=f"first day of events (default {DEFAULT_START})")
    parser.add_argument("--end", default=DEFAULT_END,
                        help=f"last day of events (default {DEFAULT_END})")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"output file, - for stdout (default {DEFAULT_OUT})")
    parser.add_argument("--count-only", action="store_true",
                        help="write nothing; print the number of events by type")
    args = parser.parse_args(argv)
    if args.customers < 0:
        parser.error("--customers must not be negative")
    dates = {}
    for name in ("start", "end"):
        try:
            dates[name] = dt.date.fromisoformat(getattr(args, name))
        except ValueError:
            parser.error(f"--{name}: '{getattr(args, name)}' is not a date (YYYY-MM-DD)")
    if dates["start"] > dates["end"]:
        parser.error("--start is after --end")
    stream = events(args.seed, args.customers, dates["start"], dates["end"])
    if args.count_only:
        counts: Counter = Counter(event["type"] for event in stream)
        _report(counts, sys.stdout)
    elif args.out == "-":
        write(stream, sys.stdout)
    else:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            write(stream, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
