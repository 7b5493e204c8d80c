"""Collateral, guarantees and credit insurance (securities.py): what they cover, through
which day, in which currency; the order check's cover facts, recorded and replayed; the
monitor's review before an expiry."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from engine.audit.events import event_problems
from engine.monitor.account import MissingRate, fold
from tests.audit_helpers import copy_db
from tests.monitor_log import Log, invoice
from tests.order_helpers import AS_OF, EXAMPLES, order_trail

D = dt.date.fromisoformat
USD = {"USD": Decimal("0.9")}


def security(day, security_id, kind, amount, expires, **extra):
    return {"id": f"S-{security_id}-{day}", "customer_id": "C-1", "type": "security_received",
            "occurred_at": day, "security_id": security_id, "kind": kind, "amount": amount,
            "expires_on": expires, **extra}


INSURANCE = security("2026-01-01", "CI", "credit_insurance", 10000, "2026-06-30",
                     insured_percent=90)
GUARANTEE = security("2026-01-01", "G", "guarantee", 3000, "2026-06-30")


def test_insurance_covers_its_share_of_the_lower_of_its_limit_and_the_amount():
    account = fold("C-1", [INSURANCE], D("2026-03-01"))
    assert account.cover(Decimal(5000), D("2026-03-01")) == Decimal(4500)  # 90% of 5,000
    assert account.cover(Decimal(20000), D("2026-03-01")) == Decimal(9000)  # 90% of 10,000


def test_cover_adds_up_and_never_exceeds_the_amount():
    account = fold("C-1", [INSURANCE, GUARANTEE], D("2026-03-01"))
    assert account.cover(Decimal(20000), D("2026-03-01")) == Decimal(12000)
    assert account.cover(Decimal(2000), D("2026-03-01")) == Decimal(2000)
    assert account.cover(Decimal(0), D("2026-03-01")) == 0


@pytest.mark.parametrize(("day", "covered"), [("2026-06-30", Decimal(3000)),
                                              ("2026-07-01", Decimal(0))])
def test_a_security_covers_through_its_expiry_day_and_not_after(day, covered):
    account = fold("C-1", [GUARANTEE], D(day))
    assert account.cover(Decimal(10000), D(day)) == covered


def test_insurance_cover_in_another_currency_counts_at_the_rate():
    account = fold("C-1", [INSURANCE | {"currency": "USD"}], D("2026-03-01"), "EUR")
    assert account.currencies() == {"USD"}
    # a limit of 10,000 USD is 9,000 EUR: 90% of it, and of an exposure above it
    assert account.cover(Decimal(20000), D("2026-03-01"), USD) == Decimal("8100.00")
    assert account.cover(Decimal(5000), D("2026-03-01"), USD) == Decimal("4500.0")
    with pytest.raises(MissingRate):
        account.cover(Decimal(5000), D("2026-03-01"))


def test_a_release_ends_the_cover_and_the_same_id_received_again_replaces_it():
    released = {"id": "R", "customer_id": "C-1", "type": "security_released",
                "occurred_at": "2026-02-01", "security_id": "G"}
    assert fold("C-1", [GUARANTEE, released], D("2026-03-01")).cover(
        Decimal(9000), D("2026-03-01")) == 0
    raised = security("2026-02-01", "G", "guarantee", 5000, "2026-12-31")
    assert fold("C-1", [GUARANTEE, raised], D("2026-08-01")).cover(
        Decimal(9000), D("2026-08-01")) == Decimal(5000)


def test_the_measures_say_what_is_secured_and_the_balance_net_of_cover():
    events = [{"id": "I", "customer_id": "C-1", "type": "invoice_issued",
               "occurred_at": "2026-01-01", "invoice_id": "I-1", "amount": 8000,
               "due_date": "2026-02-01"}, INSURANCE, GUARANTEE]
    measures = fold("C-1", events, D("2026-03-01")).measures(D("2026-03-01"))
    assert measures["secured_amount"] == Decimal("12000.00")  # 3,000 + 90% of 10,000
    # 8,000 owed: the guarantee's 3,000, then the insurer's 90% of the 5,000 left
    assert measures["exposure_net_of_cover"] == Decimal("500.00")


def test_the_measures_round_as_the_ruleset_rounds_the_order_checks_cover():
    events = [{"id": "I", "customer_id": "C-1", "type": "invoice_issued",
               "occurred_at": "2026-01-01", "invoice_id": "I-1", "amount": 100.01,
               "due_date": "2026-02-01"},
              security("2026-01-01", "CI", "credit_insurance", 10000, "2026-06-30",
                       insured_percent=50)]
    account = fold("C-1", events, D("2026-03-01"))
    # 50% of 100.01 is 50.005: half up to 50.01 covered, 50.00 net
    assert account.measures(D("2026-03-01"))["exposure_net_of_cover"] == Decimal("50.00")
    down = account.measures(D("2026-03-01"), rounding=(Decimal("0.01"), "ROUND_DOWN"))
    assert down["exposure_net_of_cover"] == Decimal("50.01")
    assert account.measures(D("2026-03-01"), rounding=(Decimal(1), "ROUND_HALF_UP"))[
        "secured_amount"] == Decimal(5000)


# -- what collateral and insurance held together cover -------------------------------------
COLLATERAL = security("2026-01-01", "COL", "collateral", 10000, "2026-06-30")
BIG_INSURANCE = security("2026-01-01", "CI", "credit_insurance", 500000, "2026-06-30",
                         insured_percent=90)


@pytest.mark.parametrize(("events", "amount", "covered"), [
    # the reviewer's case: 10,000 + 90% of (120,000 - 10,000), not 10,000 + 90% of 120,000
    ([COLLATERAL, BIG_INSURANCE], 120000, 109000),
    ([BIG_INSURANCE], 120000, 108000),  # insurance alone: its share of the amount
    # collateral worth more than the exposure covers all of it; the insurer pays nothing
    ([security("2026-01-01", "COL", "collateral", 150000, "2026-06-30"), BIG_INSURANCE],
     120000, 120000),
    ([COLLATERAL, BIG_INSURANCE], 10000, 10000),  # exactly the collateral: nothing left
    # the insurer's limit binds: 10,000 + 90% of its 50,000, not of the 110,000 left
    ([COLLATERAL, security("2026-01-01", "CI", "credit_insurance", 50000, "2026-06-30",
                           insured_percent=90)], 120000, 55000),
    # several collateral items all come off the loss first
    ([security("2026-01-01", "C1", "collateral", 4000, "2026-06-30"),
      security("2026-01-01", "C2", "collateral", 6000, "2026-06-30"), BIG_INSURANCE],
     120000, 109000),
])
def test_recoveries_come_off_the_loss_before_the_insured_share(events, amount, covered):
    account = fold("C-1", events, D("2026-03-01"))
    assert account.cover(Decimal(amount), D("2026-03-01")) == Decimal(covered)


def test_collateral_in_another_currency_comes_off_the_loss_at_its_rate():
    account = fold("C-1", [COLLATERAL | {"currency": "USD"}, BIG_INSURANCE],
                   D("2026-03-01"), "EUR")
    # 10,000 USD is 9,000 EUR; the insurer 90% of the 91,000 left of 100,000
    assert account.cover(Decimal(100000), D("2026-03-01"), USD) == Decimal("90900")


def test_an_expired_collateral_no_longer_comes_off_the_loss():
    account = fold("C-1", [security("2026-01-01", "COL", "collateral", 10000, "2026-02-28"),
                           BIG_INSURANCE], D("2026-03-01"))
    assert account.cover(Decimal(120000), D("2026-03-01")) == Decimal(108000)


def test_only_credit_insurance_has_an_insured_share_and_it_must_say_it():
    assert event_problems(GUARANTEE | {"insured_percent": 90}, "x") == [
        "x: (root): must be one of '$schema', 'id', 'customer_id', 'type', 'occurred_at', "
        "'security_id', 'kind', 'amount', 'currency', 'expires_on', 'provider'; got "
        "'insured_percent'"]
    assert event_problems({k: v for k, v in INSURANCE.items() if k != "insured_percent"},
                          "x") == ["x: /insured_percent: required property is missing"]
    assert event_problems(INSURANCE | {"insured_percent": 100.5}, "x") == [
        "x: /insured_percent: 100.5 is greater than the maximum of 100"]


# -- the order check ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return order_trail(tmp_path_factory.mktemp("securities"), customers=("bbb-distributor",))


@pytest.fixture
def trail(pristine, tmp_path):
    return copy_db(pristine, tmp_path / "audit.db")


def _ingest(credit, db, tmp_path, *events):
    path = tmp_path / "securities.jsonl"
    path.write_text("".join(json.dumps(e | {"customer_id": "CUST-10004"}) + "\n"
                            for e in events), encoding="utf-8")
    assert credit("events", "ingest", path, "--db", db).exit_code == 0


def test_the_order_check_records_the_cover_facts_and_replays(trail, credit, tmp_path):
    # CUST-10004: exposure 10,700.00, limit 134,000.00; the order adds 50,000.00.
    _ingest(credit, trail, tmp_path,
            security("2026-11-01", "CI", "credit_insurance", 40000, "2027-06-30",
                     insured_percent=90),
            security("2026-11-01", "G", "guarantee", 5000, "2026-11-30"))
    result = credit("check-order", EXAMPLES / "orders" / "within-limit.json", "--as-of",
                    AS_OF, "--db", trail, "--json")
    facts = json.loads(result.stdout)["facts"]
    assert facts["exposure_after"] == "60700.00"
    # the guarantee (its last day) and 90% of the insurer's 40,000 limit
    assert (facts["cover"], facts["exposure_net_of_cover"]) == ("41000.00", "19700.00")
    assert facts["secured_limit"] == "41000.00"  # of the 134,000.00 limit
    assert credit("replay", "--all", "--db", trail).stdout.strip() == \
        "2 replayed identically, 0 differed"
    shown = credit("check-order", EXAMPLES / "orders" / "within-limit.json", "--as-of",
                   AS_OF, "--db", trail, "--no-audit").stdout.splitlines()
    assert shown[3] == ("Cover      41,000.00 of the exposure with this order (net "
                        "19,700.00); secured limit 41,000.00")


def test_the_order_check_takes_the_collateral_off_before_the_insured_share(trail, credit,
                                                                          tmp_path):
    # CUST-10004: exposure with the order 60,700.00; collateral 10,000, insurer 90% of
    # the 50,700 left (its 500,000 limit does not bind)
    _ingest(credit, trail, tmp_path,
            security("2026-11-01", "COL", "collateral", 10000, "2027-06-30"),
            security("2026-11-01", "CI", "credit_insurance", 500000, "2027-06-30",
                     insured_percent=90))
    order = EXAMPLES / "orders" / "within-limit.json"
    facts = json.loads(credit("check-order", order, "--as-of", AS_OF, "--db", trail,
                              "--json", "--no-audit").stdout)["facts"]
    assert (facts["cover"], facts["exposure_net_of_cover"]) == ("55630.00", "5070.00")
    # the 134,000.00 limit: 10,000 + 90% of 124,000
    assert facts["secured_limit"] == "121600.00"
    shown = credit("check-order", order, "--as-of", AS_OF, "--db", trail,
                   "--no-audit").stdout.splitlines()
    assert shown[3] == ("Cover      55,630.00 of the exposure with this order (net "
                        "5,070.00); secured limit 121,600.00")


def test_without_security_the_cover_is_nothing(trail, credit):
    result = credit("check-order", EXAMPLES / "orders" / "within-limit.json", "--as-of",
                    AS_OF, "--db", trail, "--json")
    facts = json.loads(result.stdout)["facts"]
    assert (facts["cover"], facts["exposure_net_of_cover"], facts["secured_limit"]) == (
        "0.00", "60700.00", "0.00")
    shown = credit("check-order", EXAMPLES / "orders" / "within-limit.json", "--as-of",
                   AS_OF, "--db", trail, "--no-audit").stdout
    assert "Cover" not in shown  # as before security existed


def test_insurance_in_dollars_needs_the_dollar_rate_for_the_check(trail, credit, tmp_path):
    _ingest(credit, trail, tmp_path,
            security("2026-11-01", "CI", "credit_insurance", 40000, "2027-06-30",
                     insured_percent=90, currency="USD"))
    order = EXAMPLES / "orders" / "within-limit.json"
    blocked = json.loads(credit("check-order", order, "--as-of", AS_OF, "--db", trail,
                                "--json", "--no-audit").stdout)
    assert [r["code"] for r in blocked["reasons"]] == ["NO_EXCHANGE_RATE"]
    checked = json.loads(credit("check-order", order, "--as-of", AS_OF, "--db", trail,
                                "--json", env={"CREDIT_RATES_FILE": str(
                                    EXAMPLES / "rates.csv")}).stdout)
    # 40,000 USD at 0.9215 is 36,860.00 EUR; 90% of it
    assert checked["facts"]["cover"] == "33174.00"
    assert checked["rates"][0]["currency"] == "USD"


# -- the monitor's review ----------------------------------------------------------------
@pytest.fixture
def log(tmp_path, default_ruleset):
    return Log(tmp_path, default_ruleset)


def _security(day, security_id, expires, **extra):
    return {"type": "security_received", "occurred_at": day, "security_id": security_id,
            "kind": "credit_insurance", "amount": 50000, "insured_percent": 80,
            "expires_on": expires, **extra}


def test_an_expiry_30_days_ahead_brings_a_review_on_that_day(log):
    log.decide()
    log.add(invoice("2026-01-05", "I1", 1000, "2026-03-05"),
            _security("2026-01-10", "CI-1", "2026-06-30"))
    report = log.monitor("2026-06-30")
    reviews = [a for a in report.actions if a["action"] == "review"]
    assert [(a["date"], a["rule"]) for a in reviews] == [("2026-05-31", "M_SECURITY_EXPIRING")]
    assert reviews[0]["details"] | {"message": None} == {
        "message": None, "security_id": "CI-1", "kind": "credit_insurance",
        "expires_on": "2026-06-30", "days_left": 30, "amount": "50000", "currency": "EUR"}
    assert log.monitor("2026-07-31").taken == 0  # once per security received
    assert log.replays_identically()


def test_a_security_received_already_expired_is_reviewed_the_day_it_arrives(log):
    log.decide()
    log.add(_security("2026-03-10", "CI-2", "2026-03-01"))
    report = log.monitor("2026-03-31")
    assert [(a["date"], a["details"]["days_left"]) for a in report.actions
            if a["action"] == "review"] == [("2026-03-10", -9)]


def test_a_new_expiry_for_the_same_security_is_reviewed_again(log):
    log.decide()
    log.add(_security("2026-01-10", "CI-1", "2026-03-31"),
            _security("2026-03-15", "CI-1", "2026-09-30"))
    report = log.monitor("2026-09-30")
    assert [a["date"] for a in report.actions if a["action"] == "review"] == [
        "2026-03-01", "2026-08-31"]
