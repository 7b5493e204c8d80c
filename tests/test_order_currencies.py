"""Orders in another currency than the ruleset's: converted with the rate a plugin gives
(the built-in one reads $CREDIT_RATES_FILE), recorded with the check; a missing rate is a
blocked order with its reason, never a silent 1:1."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from plugins import exchange_rates
from tests.audit_helpers import copy_db
from tests.order_helpers import AS_OF, EXAMPLES, order_trail

RATES = EXAMPLES / "rates.csv"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return order_trail(tmp_path_factory.mktemp("currencies"), customers=("bbb-distributor",))


@pytest.fixture
def trail(pristine, tmp_path):
    return copy_db(pristine, tmp_path / "audit.db")


def check(credit, db, order, rates=RATES, day=AS_OF) -> dict:
    env = {"CREDIT_RATES_FILE": str(rates)} if rates else {}
    result = credit("check-order", order, "--as-of", day, "--db", db, "--json", env=env)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def order_file(tmp_path, amount, currency):
    path = tmp_path / f"order-{currency}.json"
    path.write_text(json.dumps({"id": "SO-9", "customer_id": "CUST-10004", "amount": amount,
                                "currency": currency}), encoding="utf-8")
    return path


def test_a_dollar_order_is_checked_in_euros_at_the_days_rate(trail, credit):
    data = check(credit, trail, EXAMPLES / "orders" / "in-dollars.json")
    assert data["exchange"] == {"currency": "USD", "amount": "100000", "rate": "0.9215",
                                "on": AS_OF, "plugin": "exchange_rates"}
    assert data["facts"]["order_amount"] == "92150.00"
    assert data["outcome"] == "pass"
    assert credit("replay", "--all", "--db", trail).stdout.strip() == \
        "2 replayed identically, 0 differed"


def test_the_rate_is_the_latest_on_or_before_the_day(monkeypatch):
    monkeypatch.setenv("CREDIT_RATES_FILE", str(RATES))
    rate = exchange_rates.credit_rules_exchange_rate
    assert rate("USD", "EUR", dt.date(2026, 11, 29)) == "0.9150"  # the 27th's
    assert rate("USD", "EUR", dt.date(2026, 12, 25)) == "0.9215"
    assert rate("USD", "EUR", dt.date(2026, 11, 26)) is None  # none published yet
    assert rate("GBP", "EUR", dt.date(2026, 11, 30)) == format(
        Decimal(1) / Decimal("0.84"), ".10g")  # the other way round, inverted


@pytest.mark.parametrize("rates", [None, "empty"])
def test_a_missing_rate_blocks_the_order_and_says_so(trail, credit, tmp_path, rates):
    if rates == "empty":
        rates = tmp_path / "rates.csv"
        rates.write_text("date,from,to,rate\n", encoding="utf-8")
    data = check(credit, trail, order_file(tmp_path, 10, "USD"), rates=rates)
    assert data["outcome"] == "block"
    assert data["reasons"] == [{"code": "NO_EXCHANGE_RATE", "message": "No USD to EUR "
                                "exchange rate on or before 2026-11-30"}]
    assert data["facts"]["order_amount"] is None and data["exchange"]["rate"] is None
    assert credit("replay", "--all", "--db", trail).exit_code == 0


@pytest.mark.parametrize(("amount", "euros"), [
    (1.005, "0.93"),   # 0.9261075: the exact product, then rounded half up
    (0.01, "0.01"),    # 0.009215
    (0.005, "0.00"),   # 0.0046075
])
def test_the_exact_product_is_rounded_half_up(trail, credit, tmp_path, amount, euros):
    data = check(credit, trail, order_file(tmp_path, amount, "USD"))
    assert data["facts"]["order_amount"] == euros


def test_a_broken_rates_file_is_one_line(trail, credit, tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("date,from,to,rate\n2026-11-30,USD,EUR,-1\n", encoding="utf-8")
    result = credit("check-order", order_file(tmp_path, 10, "USD"), "--db", trail,
                    env={"CREDIT_RATES_FILE": str(rates)})
    assert result.exit_code == 1
    assert result.stderr.startswith("credit: error: plugin exchange_rates (exchange rate) ")
    assert "the rate must be a positive number" in result.stderr
    assert len(result.stderr.splitlines()) == 1
