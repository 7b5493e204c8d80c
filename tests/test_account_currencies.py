"""Account events in other currencies than the ruleset's: each invoice, order, liability
and payment keeps its currency; cash settles only invoices in its own currency; amounts
are converted when read, at recorded rates; a missing rate is an explained refusal (or a
blocked order), never a 1:1 count."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from engine.enrich.exchange_rates import Rate
from engine.monitor.account import Account, MissingRate, fold
from engine.orders.exposure import exposure_of
from engine.ruleset.loader import load_ruleset
from tests.audit_helpers import copy_db
from tests.order_helpers import AS_OF, EXAMPLES, order_trail
from tests.paths import ROOT

RATES = EXAMPLES / "rates.csv"  # USD -> EUR 0.9215 on AS_OF; EUR -> GBP 0.84
DAY = dt.date.fromisoformat(AS_OF)
USD = {"USD": Rate("USD", DAY, Decimal("0.9215"), "exchange_rates")}


def event(n, kind, day="2026-11-01", **fields):
    return {"id": f"X-{n}", "customer_id": "CUST-10004", "type": kind, "occurred_at": day,
            **fields}


def invoice(n, amount, currency=None, due="2026-11-15", **fields):
    extra = {"currency": currency} if currency else {}
    return event(n, "invoice_issued", invoice_id=f"INV-{n}", amount=amount, due_date=due,
                 **extra, **fields)


def account_of(*events) -> Account:
    return fold("CUST-10004", events, DAY, "EUR")


# -- folding ---------------------------------------------------------------------------------
def test_cash_settles_only_invoices_in_its_own_currency():
    account = account_of(invoice(1, 100, "USD", due="2026-11-10"), invoice(2, 50),
                         event(3, "payment_received", amount=30, currency="USD"),
                         event(4, "payment_received", amount=20))
    assert account.invoices["INV-1"].paid == 30  # the dollars went to the dollar invoice
    assert account.invoices["INV-2"].paid == 20
    assert account.seen == {"USD"}


def test_a_payment_naming_an_invoice_is_in_its_currency_unless_it_says_otherwise():
    account = account_of(invoice(1, 100, "USD"), invoice(2, 40),
                         event(3, "payment_received", amount=60, invoice_id="INV-1"))
    assert account.invoices["INV-1"].paid == 60  # no currency said: the invoice's dollars
    assert account.invoices["INV-2"].paid == 0


def test_a_payment_in_another_currency_than_the_invoice_it_names_stays_unapplied():
    account = account_of(invoice(1, 100, "USD"), invoice(2, 40),
                         event(3, "payment_received", amount=60, invoice_id="INV-1",
                               currency="EUR"))
    assert account.invoices["INV-1"].paid == 0 and account.invoices["INV-2"].paid == 0
    assert account.unapplied == 60 and account.foreign_unapplied == {}


def test_a_credit_note_in_another_currency_is_unapplied_credit_in_it():
    account = account_of(invoice(1, 100, "USD"),
                         event(2, "credit_note_issued", amount=25, invoice_id="INV-1",
                               currency="GBP"))
    assert account.invoices["INV-1"].amount == 100
    assert account.foreign_unapplied == {"GBP": Decimal(25)}
    assert account.currencies() == {"USD", "GBP"}


def test_the_rulesets_own_currency_named_is_the_same_as_none_named():
    account = account_of(invoice(1, 100, "EUR"), event(2, "payment_received", amount=100))
    assert account.invoices["INV-1"].open_amount == 0
    assert account.seen == set() and account.currencies() == set()


def test_an_invoice_naming_an_order_is_in_its_currency_unless_it_says_otherwise():
    order = event(1, "order_placed", order_id="SO-1", amount=500, currency="USD")
    same = account_of(order, invoice(2, 400, order_id="SO-1"))
    assert same.invoices["INV-2"].currency == "USD"
    assert (same.orders["SO-1"].invoiced, same.orders["SO-1"].undelivered) == (400, 100)
    other = account_of(order, invoice(2, 400, "GBP", order_id="SO-1"))
    assert other.invoices["INV-2"].currency == "GBP"
    assert (other.orders["SO-1"].invoiced, other.orders["SO-1"].undelivered) == (0, 500)


def test_a_credit_note_naming_an_invoice_is_in_its_currency():
    account = account_of(invoice(1, 100, "USD"),
                         event(2, "credit_note_issued", amount=30, invoice_id="INV-1"))
    assert account.invoices["INV-1"].amount == 70 and account.foreign_unapplied == {}


def test_reading_a_foreign_amount_needs_its_rate():
    account = account_of(invoice(1, 100, "USD"), invoice(2, 10))
    with pytest.raises(MissingRate) as caught:
        account.position(DAY)
    assert caught.value.currency == "USD"
    position = account.position(DAY, rates={"USD": Decimal("0.9215")})
    assert position["overdue_amount"] == Decimal("102.1500")
    assert position["days_overdue"] == 15


def test_a_settled_foreign_invoice_needs_no_rate():
    account = account_of(invoice(1, 100, "USD"),
                         event(2, "payment_received", amount=100, currency="USD"))
    assert account.currencies() == set()
    assert account.position(DAY)["overdue_amount"] == 0


# -- exposure ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset(ROOT / "rulesets" / "default")


def test_each_category_is_converted_item_by_item_and_rounded_once(ruleset):
    # 1.005 USD twice at 0.9215: 1.852215 EUR, rounded once to 1.85 (0.93 + 0.93 would
    # be 1.86 if each item were rounded).
    account = account_of(invoice(1, 1.005, "USD", due="2026-12-31"),
                         invoice(2, 1.005, "USD", due="2026-12-31"))
    exposure = exposure_of(account, DAY, ruleset, USD)
    line = next(x for x in exposure.lines if x.category.name == "open_receivables")
    assert (line.amount, line.items) == (Decimal("1.85"), 2)
    assert exposure.to_dict()["rates"] == [{"currency": "USD", "rate": "0.9215",
                                            "on": AS_OF, "plugin": "exchange_rates"}]


def test_unapplied_foreign_cash_lowers_receivables_at_its_rate(ruleset):
    account = account_of(invoice(1, 1000), event(2, "payment_received", amount=100,
                                                 currency="USD"))
    exposure = exposure_of(account, DAY, ruleset, USD)
    line = next(x for x in exposure.lines if x.category.name == "open_receivables")
    assert line.amount == Decimal("907.85")  # 1000 - 92.15


def test_an_exposure_without_a_rate_it_needs_is_refused(ruleset):
    account = account_of(event(1, "liability_opened", liability_id="G-1", amount=5,
                               currency="CHF"))
    with pytest.raises(MissingRate):
        exposure_of(account, DAY, ruleset, USD)
    assert exposure_of(account_of(invoice(1, 10)), DAY, ruleset, {}).to_dict().get(
        "rates") is None  # an account all in euros records no rates


# -- the commands over a trail ----------------------------------------------------------------
@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return order_trail(tmp_path_factory.mktemp("account-currencies"),
                       customers=("bbb-distributor",))


@pytest.fixture
def trail(pristine, tmp_path, credit):
    db = copy_db(pristine, tmp_path / "audit.db")
    events = tmp_path / "usd.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in (
        invoice("U1", 20000, "USD", day="2026-11-05", due="2026-12-05"),
        event("U2", "liability_opened", day="2026-11-06", liability_id="G-9", amount=1000,
              currency="GBP"))), encoding="utf-8")
    assert credit("events", "ingest", events, "--db", db).exit_code == 0
    return db


def env(rates=RATES):
    return {"CREDIT_RATES_FILE": str(rates)} if rates else {}


def test_exposure_converts_and_names_the_rates(trail, credit):
    result = credit("exposure", "CUST-10004", "--as-of", AS_OF, "--db", trail, "--json",
                    env=env())
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    receivables = next(c for c in data["categories"] if c["category"] == "open_receivables")
    liabilities = next(c for c in data["categories"]
                       if c["category"] == "special_liabilities")
    # The example events leave 3,500.00 EUR receivable and a 3,000.00 EUR guarantee.
    assert receivables["amount"] == "21930.00"  # + 20,000 USD at 0.9215
    assert liabilities["amount"] == "4190.48"  # + 1,000 GBP at 1 / 0.84
    assert [r["currency"] for r in data["rates"]] == ["GBP", "USD"]
    table = credit("exposure", "CUST-10004", "--as-of", AS_OF, "--db", trail, env=env())
    assert table.stdout.splitlines()[-1] == (
        "Converted at GBP 1.190476190 (exchange_rates, 2026-11-30), "
        "USD 0.9215 (exchange_rates, 2026-11-30)")


def test_exposure_without_a_rate_is_one_line_and_exit_1(trail, credit):
    result = credit("exposure", "CUST-10004", "--as-of", AS_OF, "--db", trail)
    assert result.exit_code == 1
    assert result.stderr == ("credit: error: No GBP to EUR exchange rate on or before 2026-11-30: "
                             "the open items in GBP cannot be counted (a rates plugin, e.g. "
                             "$CREDIT_RATES_FILE, gives them)\n")


def test_an_order_check_records_the_accounts_rates_and_replays(trail, credit):
    result = credit("check-order", EXAMPLES / "orders" / "within-limit.json", "--as-of",
                    AS_OF, "--db", trail, "--json", env=env())
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["outcome"] == "pass" and data["exchange"] is None
    assert [r["currency"] for r in data["rates"]] == ["GBP", "USD"]
    assert data["exposure"]["rates"] == data["rates"]
    replay = credit("replay", "--all", "--db", trail)
    assert replay.stdout.strip() == "2 replayed identically, 0 differed"


def test_an_order_of_a_customer_with_items_in_a_currency_without_rate_is_blocked(
        trail, credit, tmp_path):
    rates = tmp_path / "usd-only.csv"
    rates.write_text("date,from,to,rate\n2026-11-30,USD,EUR,0.9215\n", encoding="utf-8")
    result = credit("check-order", EXAMPLES / "orders" / "within-limit.json", "--as-of",
                    AS_OF, "--db", trail, env=env(rates))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "Outcome    BLOCKED"
    assert lines[2] == ("Reasons    NO_EXCHANGE_RATE: No GBP to EUR exchange rate on or "
                        "before 2026-11-30: the open items in GBP cannot be counted")
    assert lines[3] == "Exposure   unknown: a rate is missing"
    replay = credit("replay", "--all", "--db", trail)
    assert replay.stdout.strip() == "2 replayed identically, 0 differed"


# -- the monitor --------------------------------------------------------------------------------
def test_the_monitor_counts_foreign_items_at_the_runs_rates_and_replays(tmp_path, credit):
    db = tmp_path / "audit.db"
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps({**e, "customer_id": "C-1"}) + "\n" for e in (
        invoice("M1", 60000, "USD", day="2026-08-01", due="2026-08-31"),
        invoice("M2", 100, day="2026-08-01", due="2026-08-31"))), encoding="utf-8")
    assert credit("events", "ingest", events, "--db", db).exit_code == 0
    refused = credit("monitor", "--as-of", AS_OF, "--db", db)
    assert refused.exit_code == 1
    assert refused.stderr == ("credit: error: no USD to EUR exchange rate on or before 2026-11-30: "
                              "the events in USD cannot be counted (a rates plugin, e.g. "
                              "$CREDIT_RATES_FILE, gives them)\n")
    run = credit("monitor", "--as-of", AS_OF, "--db", db, "--json", env=env())
    assert run.exit_code == 0, run.stderr
    actions = json.loads(run.stdout)
    assert actions, "60,000 USD 91 days overdue escalates"
    assert all(a["rates"] == [{"currency": "USD", "rate": "0.9215", "on": AS_OF,
                               "plugin": "exchange_rates"}] for a in actions)
    # (the arrears, 91 days past due, hold and re-grade the account before the escalation)
    position = next(a for a in actions if a["action"] == "escalate")["details"]["position"]
    assert (position["overdue_amount"], position["days_overdue"]) == (55390, 91)  # 60,000
    # USD at 0.9215, plus 100 EUR, both 91 days overdue
    replay = credit("replay", "--all", "--db", db)
    assert replay.exit_code == 0 and replay.stdout.strip().endswith("0 differed")


def test_a_group_members_items_in_a_currency_without_rate_block_the_others_order(
        tmp_path, credit):
    db = order_trail(tmp_path)
    events = tmp_path / "gbp.jsonl"
    events.write_text(json.dumps({**invoice("G1", 1000, "GBP", day="2026-11-05",
                                            due="2026-12-05"),
                                  "customer_id": "CUST-10005"}) + "\n", encoding="utf-8")
    assert credit("events", "ingest", events, "--db", db).exit_code == 0
    assert credit("group", "set", "G-1", "--limit", "900000", "--member", "CUST-10004",
                  "--member", "CUST-10005", "--by", "ana", "--reason", "one parent",
                  "--as-of", AS_OF, "--db", db).exit_code == 0
    usd_only = tmp_path / "usd.csv"
    usd_only.write_text("date,from,to,rate\n2026-11-30,USD,EUR,0.9215\n", encoding="utf-8")
    order = EXAMPLES / "orders" / "within-limit.json"  # CUST-10004's, all in euros
    blocked = json.loads(credit("check-order", order, "--as-of", AS_OF, "--db", db,
                                "--json", "--no-audit", env=env(usd_only)).stdout)
    assert blocked["outcome"] == "block"
    assert [r["code"] for r in blocked["reasons"]] == ["NO_EXCHANGE_RATE"]
    assert "GBP" in blocked["reasons"][0]["message"]
    passed = json.loads(credit("check-order", order, "--as-of", AS_OF, "--db", db,
                               "--json", "--no-audit", env=env()).stdout)
    assert passed["outcome"] == "pass"
    assert [r["currency"] for r in passed["rates"]] == ["GBP"]
    assert passed["exposure"].get("rates") is None  # CUST-10004's own items are in euros
    assert Decimal(passed["facts"]["group_exposure"]) > Decimal(passed["facts"]["exposure"])
