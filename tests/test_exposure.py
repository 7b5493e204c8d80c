"""A customer's credit exposure by category (exposure.yaml), from the event log: an order's
amount moving from open orders to deliveries, invoices and receivables, cancellations and
credit notes lowering it, the horizon and the weights, and ``credit exposure``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest

from engine.audit.events import customer_events
from engine.audit.store import AuditStore, NewRecord
from engine.canonical import canonical_json
from engine.monitor.account import fold
from engine.orders.accounts import AccountBook
from engine.orders.exposure import exposure_of
from engine.ruleset.loader import load_ruleset
from tests.audit_helpers import copy_ruleset
from tests.paths import DEFAULT_RULESET

AS_OF = dt.date(2026, 11, 30)
EXPOSURE = DEFAULT_RULESET / "exposure.yaml"


@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset(DEFAULT_RULESET)


def event(n: int, type_: str, day: str = "2026-11-01", **fields) -> dict:
    return {"id": f"E{n}", "customer_id": "K-1", "type": type_, "occurred_at": day,
            **fields}


def order(n, order_id="SO-1", amount=10_000, **fields):
    return event(n, "order_placed", order_id=order_id, amount=amount, **fields)


def invoice(n, invoice_id="IN-1", amount=1_000, **fields):
    return event(n, "invoice_issued", invoice_id=invoice_id, amount=amount,
                 due_date="2026-12-31", **fields)


def breakdown(ruleset, events, as_of=AS_OF) -> dict[str, str]:
    """category -> amount open in it (before weights), and "total" -> what counts."""
    exposure = exposure_of(fold("K-1", events, as_of), as_of, ruleset)
    data = {line.category.name: format(line.amount, "f") for line in exposure.lines}
    data["total"] = format(exposure.total, "f")
    return data


def opened(ruleset, events, as_of=AS_OF) -> dict[str, str]:
    """Only the categories with something open, and the total."""
    return {k: v for k, v in breakdown(ruleset, events, as_of).items() if v != "0.00"}


# --- an order on its way to cash ------------------------------------------------------------

def test_an_order_moves_from_category_to_category(ruleset):
    placed = [order(1)]
    assert opened(ruleset, placed) == {"open_orders": "10000.00", "total": "10000.00"}
    delivered = [*placed, event(2, "delivery_made", order_id="SO-1", amount=6_000)]
    assert opened(ruleset, delivered) == {"open_orders": "4000.00",
                                          "deliveries_not_invoiced": "6000.00",
                                          "total": "10000.00"}
    billed = [*delivered, invoice(3, amount=6_000, order_id="SO-1", posted=False)]
    assert opened(ruleset, billed) == {"open_orders": "4000.00",
                                       "invoices_not_posted": "6000.00", "total": "10000.00"}
    posted = [*billed, event(4, "invoice_posted", invoice_id="IN-1")]
    assert opened(ruleset, posted) == {"open_orders": "4000.00",
                                       "open_receivables": "6000.00", "total": "10000.00"}
    paid = [*posted, event(5, "payment_received", amount=6_000, invoice_id="IN-1")]
    assert opened(ruleset, paid) == {"open_orders": "4000.00", "total": "4000.00"}


def test_an_invoice_beyond_the_deliveries_delivers_with_it(ruleset):
    events = [order(1), event(2, "delivery_made", order_id="SO-1", amount=2_000),
              invoice(3, amount=5_000, order_id="SO-1")]
    assert opened(ruleset, events) == {"open_orders": "5000.00",
                                       "open_receivables": "5000.00", "total": "10000.00"}


def test_an_invoice_naming_no_known_order_leaves_the_orders_alone(ruleset):
    events = [order(1), invoice(2, amount=3_000, order_id="SO-404"), invoice(3, "IN-2")]
    assert opened(ruleset, events) == {"open_orders": "10000.00",
                                       "open_receivables": "4000.00", "total": "14000.00"}


# --- what lowers exposure -------------------------------------------------------------------

@pytest.mark.parametrize(("cancelled", "left"), [
    ({}, None),                       # the whole order
    ({"amount": 2_500}, "7500.00"),   # a part
    ({"amount": 50_000}, None),       # more than is left: what is left
])
def test_a_cancellation_takes_what_is_undelivered_off(ruleset, cancelled, left):
    events = [order(1), event(2, "order_cancelled", order_id="SO-1", **cancelled)]
    assert opened(ruleset, events).get("open_orders") == left


def test_a_cancellation_cannot_take_back_what_was_delivered(ruleset):
    events = [order(1, amount=1_000), event(2, "delivery_made", order_id="SO-1",
                                            amount=1_000),
              event(3, "order_cancelled", order_id="SO-1")]
    assert opened(ruleset, events) == {"deliveries_not_invoiced": "1000.00",
                                       "total": "1000.00"}


@pytest.mark.parametrize(("note", "owed"), [
    ({"invoice_id": "IN-1", "amount": 400}, "1600.00"),
    # Beyond the invoice's open amount: the rest is credit, lowering what else is owed.
    ({"invoice_id": "IN-1", "amount": 1_300}, "700.00"),
    ({"amount": 250}, "1750.00"),  # no invoice named: credit on the account
])
def test_a_credit_note_lowers_what_is_owed(ruleset, note, owed):
    events = [invoice(1, amount=1_000), invoice(2, "IN-2", amount=1_000),
              event(3, "credit_note_issued", **note)]
    assert opened(ruleset, events) == {"open_receivables": owed, "total": owed}


def test_a_credit_note_on_an_unposted_invoice_lowers_it(ruleset):
    events = [invoice(1, amount=1_000, posted=False),
              event(2, "credit_note_issued", invoice_id="IN-1", amount=100)]
    assert opened(ruleset, events) == {"invoices_not_posted": "900.00", "total": "900.00"}


def test_unapplied_cash_never_makes_exposure_negative(ruleset):
    events = [invoice(1, amount=1_000), event(2, "payment_received", amount=5_000)]
    assert opened(ruleset, events) == {}  # nothing open, and a total of 0.00


def test_a_closed_liability_no_longer_counts(ruleset):
    opening = event(1, "liability_opened", liability_id="G-1", amount=3_000,
                    kind="guarantee")
    assert opened(ruleset, [opening]) == {"special_liabilities": "3000.00",
                                          "total": "1500.00"}  # weighted at 0.5
    closing = event(2, "liability_closed", liability_id="G-1")
    assert opened(ruleset, [opening, closing]) == {}


# --- the horizon and the date ---------------------------------------------------------------

@pytest.mark.parametrize(("delivery", "counts"), [
    ("2026-12-30", True),    # exactly 30 days ahead: inside the horizon
    ("2026-12-31", False),   # 31 days ahead
    ("2026-10-01", True),    # due in the past and still undelivered
    (None, True),            # no delivery date: due at once
])
def test_open_orders_count_within_the_horizon(ruleset, delivery, counts):
    fields = {"delivery_date": delivery} if delivery else {}
    result = opened(ruleset, [order(1, **fields)])
    assert ("open_orders" in result) is counts


def test_events_after_the_date_do_not_count(ruleset):
    events = [order(1), order(2, "SO-2", day="2026-12-01")]
    assert opened(ruleset, events)["open_orders"] == "10000.00"
    assert opened(ruleset, events, dt.date(2026, 12, 1))["open_orders"] == "20000.00"


# --- weights and rounding -------------------------------------------------------------------

def test_weights_are_exact_and_counted_amounts_rounded_half_up(tmp_path):
    folder = copy_ruleset(tmp_path)
    (folder / "exposure.yaml").write_text(EXPOSURE.read_text(encoding="utf-8").replace(
        "weight: 0.5", "weight: 0.1").replace(
        "deliveries_not_invoiced: {weight: 1,", "deliveries_not_invoiced: {weight: 0,"),
        encoding="utf-8")
    ruleset = load_ruleset(folder)
    events = [event(1, "liability_opened", liability_id="G-1", amount=0.05),
              order(2, amount=300), event(3, "delivery_made", order_id="SO-1", amount=300)]
    exposure = exposure_of(fold("K-1", events, AS_OF), AS_OF, ruleset)
    lines = {line.category.name: line for line in exposure.lines}
    assert lines["special_liabilities"].counted == Decimal("0.01")  # 0.005 -> 0.01
    assert lines["deliveries_not_invoiced"].amount == Decimal("300.00")
    assert lines["deliveries_not_invoiced"].counted == Decimal("0.00")
    assert exposure.total == Decimal("0.01")


# --- the command ---------------------------------------------------------------------------

WORKED = [order(1, delivery_date="2026-11-10"),
          order(2, "SO-2", amount=5_000, delivery_date="2027-03-01"),
          event(3, "delivery_made", "2026-11-10", order_id="SO-1", amount=6_000),
          {**invoice(4, amount=4_000, order_id="SO-1"), "occurred_at": "2026-11-12"},
          {**invoice(5, "IN-2", amount=700, posted=False), "occurred_at": "2026-11-13"},
          event(6, "credit_note_issued", "2026-11-14", invoice_id="IN-1", amount=500),
          event(7, "liability_opened", "2026-11-15", liability_id="G-1", amount=3_000,
                kind="guarantee"),
          event(8, "order_cancelled", "2026-11-16", order_id="SO-1", amount=1_000)]


@pytest.fixture
def log(tmp_path, credit):
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in WORKED), encoding="utf-8")
    db = tmp_path / "audit.db"
    assert credit("events", "ingest", path, "--db", db).exit_code == 0
    return db


def test_credit_exposure_shows_the_breakdown(log, credit):
    result = credit("exposure", "K-1", "--as-of", "2026-11-30", "--db", log)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Exposure of K-1 as of 2026-11-30, in EUR (ruleset default 1.0.0)",
        "category                          amount    weight  counted    items",
        "--------------------------------  --------  ------  ---------  -----",
        "open orders (due within 30 days)  3,000.00  1       3,000.00   1",
        "deliveries not invoiced           2,000.00  1       2,000.00   1",
        "invoices not posted               700.00    1       700.00     1",
        "open receivables                  3,500.00  1       3,500.00   1",
        "special liabilities               3,000.00  0.5     1,500.00   1",
        "total                                               10,700.00"]


def test_credit_exposure_as_json_and_csv(log, credit):
    data = json.loads(credit("exposure", "K-1", "--as-of", "2026-11-30", "--db", log,
                             "--json").stdout)
    assert data["total"] == "10700.00" and data["currency"] == "EUR"
    assert data["categories"][0] == {"category": "open_orders", "amount": "3000.00",
                                     "weight": "1", "horizon_days": 30,
                                     "counted": "3000.00", "items": 1}
    table = list(csv.DictReader(io.StringIO(credit(
        "exposure", "K-1", "--as-of", "2026-11-30", "--db", log, "--csv").stdout)))
    assert [row["category"] for row in table] == [
        "open_orders", "deliveries_not_invoiced", "invoices_not_posted", "open_receivables",
        "special_liabilities", "total"]
    assert table[-1]["counted"] == "10700.00"


def test_an_unknown_customer_is_one_line(log, credit):
    result = credit("exposure", "K-2", "--as-of", "2026-11-30", "--db", log)
    assert (result.exit_code, result.stderr) == (
        1, f"credit: error: {log}: no records of customer K-2\n")


def test_a_ruleset_without_exposure_says_so(log, credit, tmp_path):
    folder = copy_ruleset(tmp_path)
    (folder / "exposure.yaml").unlink()
    manifest = folder / "ruleset.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        "  exposure: exposure.yaml\n", ""), encoding="utf-8")
    result = credit("exposure", "K-1", "--db", log, "--ruleset", folder)
    assert (result.exit_code, result.stderr) == (
        1, "credit: error: ruleset default 1.0.0 defines no exposure (stages: exposure: in "
           "ruleset.yaml)\n")


def test_a_missing_category_is_a_located_problem(tmp_path, credit):
    folder = copy_ruleset(tmp_path)
    text = EXPOSURE.read_text(encoding="utf-8")
    (folder / "exposure.yaml").write_text(
        text.replace("  invoices_not_posted: {weight: 1, description: Billed and not yet in "
                     "receivables.}\n", ""), encoding="utf-8")
    result = credit("validate", folder)
    assert result.exit_code == 1
    assert result.stderr == (f"{folder / 'exposure.yaml'}:4:3: /categories/"
                             "invoices_not_posted: required property is missing\n")


def test_the_monitor_reads_a_log_with_the_new_events(log, credit):
    result = credit("monitor", "--as-of", "2026-11-30", "--db", log, "--dry-run")
    assert result.exit_code == 0, result.stderr


# --- accounts kept between checks ----------------------------------------------------------

def test_a_kept_account_is_what_folding_afresh_gives(ruleset, tmp_path):
    """Kept accounts take only the events appended since; an event ingested late (it
    happened before one already applied), or a day before the latest event, folds anew."""
    def append(store, *events):
        store.append([NewRecord("event", canonical_json(e), customer_id="K-1",
                                as_of=e["occurred_at"]) for e in events])

    def afresh(store, as_of):
        account = fold("K-1", customer_events(store, "K-1", as_of.isoformat()), as_of)
        return breakdown_of(account, as_of)

    def breakdown_of(account, as_of):
        return exposure_of(account, as_of, ruleset).to_dict()

    with AuditStore(tmp_path / "audit.db") as store:
        book = AccountBook(store)
        # Logged out of event order from the start: the kept fold sorts by event time.
        append(store, order(1, day="2026-11-05"), invoice(2, amount=500),
               order(3, "SO-3", amount=7, day="2026-11-03"))
        for step in (
                [],
                [event(4, "delivery_made", "2026-11-06", order_id="SO-1", amount=4_000)],
                [event(5, "payment_received", "2026-11-01", amount=200)],  # late: the past
                [event(6, "order_cancelled", "2026-11-20", order_id="SO-3")]):
            if step:
                append(store, *step)
            for as_of in (AS_OF, dt.date(2026, 11, 5)):
                assert breakdown_of(book.account("K-1", as_of), as_of) == \
                    afresh(store, as_of), (step, as_of)


def test_a_kept_exposure_follows_every_new_event_and_day(ruleset, tmp_path):
    with AuditStore(tmp_path / "audit.db") as store:
        book = AccountBook(store)

        def append(*events):
            store.append([NewRecord("event", canonical_json(e), customer_id="K-1",
                                    as_of=e["occurred_at"]) for e in events])

        append(order(1, delivery_date="2026-12-20"))
        _, first = book.exposure("K-1", AS_OF, ruleset)
        assert first.total == Decimal("10000.00")
        assert book.exposure("K-1", AS_OF, ruleset)[1] is first  # unchanged: kept
        append(order(2, "SO-2", amount=500))
        assert book.exposure("K-1", AS_OF, ruleset)[1].total == Decimal("10500.00")
        # Another day: the horizon moves (SO-1 is due 2026-12-20, 30 days ahead).
        assert book.exposure("K-1", dt.date(2026, 11, 19), ruleset)[1].total == \
            Decimal("500.00")


def test_a_kept_position_follows_every_new_event_and_day(ruleset, tmp_path):
    with AuditStore(tmp_path / "audit.db") as store:
        book = AccountBook(store)
        due = event(1, "invoice_issued", invoice_id="IN-1", amount=1000,
                    due_date="2026-11-10")
        store.append([NewRecord("event", canonical_json(due), customer_id="K-1",
                                as_of="2026-11-01")])
        first = book.standing("K-1", AS_OF, ruleset)[2]
        assert (first["days_overdue"], first["overdue_amount"]) == (20, Decimal(1000))
        assert book.standing("K-1", AS_OF, ruleset)[2] is first  # unchanged: kept
        assert book.standing("K-1", dt.date(2026, 12, 1), ruleset)[2]["days_overdue"] == 21
        paid = event(2, "payment_received", "2026-11-20", invoice_id="IN-1", amount=400)
        store.append([NewRecord("event", canonical_json(paid), customer_id="K-1",
                                as_of="2026-11-20")])
        again = book.standing("K-1", AS_OF, ruleset)[2]
        assert again["overdue_amount"] == Decimal(600)
        assert again == book.account("K-1", AS_OF).position(AS_OF)  # as folding afresh
