"""Cases through the monitor and on the command line: an instalment broken escalates, a
disputed amount is left out of the step's overdue amount, the worklist shows open cases
with owner, status and date, and `credit cases` lists them."""

from __future__ import annotations

import json

import pytest

from tests.monitor_log import Log, invoice, payment, promise


@pytest.fixture
def log(tmp_path, default_ruleset):
    return Log(tmp_path, default_ruleset)


def _plan(day, *parts, plan_id="PL-1", invoice_id="I1"):
    return {"type": "instalment_plan_agreed", "occurred_at": day, "plan_id": plan_id,
            "invoice_id": invoice_id, "owner": "bo",
            "instalments": [{"date": d, "amount": a} for d, a in parts]}


def _dispute(day, amount, dispute_id="D-1", invoice_id="I1"):
    return {"type": "dispute_opened", "occurred_at": day, "invoice_id": invoice_id,
            "dispute_id": dispute_id, "amount": amount, "reason": "short delivery",
            "owner": "ana"}


def test_an_instalment_broken_escalates_the_day_after_its_date(log):
    log.decide()
    log.add(invoice("2026-01-05", "I1", 9000, "2026-02-05"),
            _plan("2026-02-10", ("2026-03-01", 3000), ("2026-04-01", 6000)),
            payment("2026-03-01", 3000, "I1"), payment("2026-04-01", 3000, "I1"))
    report = log.monitor("2026-04-05")
    broken = [a for a in report.actions if a["rule"] == "M_BROKEN_PROMISE"]
    assert [(a["date"], a["action"]) for a in broken] == [("2026-04-02", "escalate"),
                                                          ("2026-04-02", "notify")]
    assert broken[0]["matched"]["broken"]["part"] == 2
    assert broken[0]["matched"]["broken"]["paid"] == 6000
    assert log.replays_identically()


def test_a_disputed_amount_is_left_out_of_the_step_and_its_charges(log):
    log.decide()
    log.add(invoice("2026-01-05", "I1", 9000, "2026-02-05"), _dispute("2026-02-06", 4000))
    report = log.monitor("2026-03-31")
    step = next(a for a in report.actions if a["action"] == "escalate")
    assert step["details"]["position"]["overdue_amount"] == 5000
    assert step["details"]["position"]["balance"] == 9000  # still owed: still exposure
    assert step["details"]["charges"]["invoices"][0]["open_amount"] == "5000.00"


def test_the_worklist_shows_open_cases_even_with_nothing_overdue(log, credit):
    log.decide()
    log.add(invoice("2026-01-05", "I1", 9000, "2026-02-05"), _dispute("2026-02-06", 9000),
            invoice("2026-01-06", "I2", 1000, "2026-04-30"),
            _plan("2026-02-10", ("2026-05-01", 500), ("2026-06-01", 500), plan_id="PL-2",
                  invoice_id="I2"))
    result = credit("monitor", "--as-of", "2026-03-31", "--db", log.path, "--worklist",
                    "--json")
    line = json.loads(result.stdout)[0]
    assert (line["overdue_amount"], line["dispute_open"]) == (0, True)
    assert [(c["case_id"], c["kind"], c["amount"], c["date"], c["owner"], c["status"])
            for c in line["cases"]] == [
        ("D-1", "dispute", "9000.00", "2026-02-06", "ana", "open"),
        ("PL-2", "instalment_plan", "500.00", "2026-05-01", "bo", "open")]
    assert result.stderr.strip().endswith("0 accounts overdue")
    table = credit("monitor", "--as-of", "2026-03-31", "--db", log.path, "--worklist",
                   "--dry-run").stdout
    assert ("D-1 dispute 9,000.00 since 2026-02-06 ana open; PL-2 instalment plan 500.00 "
            "by 2026-05-01 bo open") in table


def test_credit_cases_lists_open_and_recently_closed_cases(log, credit):
    log.decide()
    log.add(invoice("2026-01-05", "I1", 9000, "2026-02-05"), _dispute("2026-02-06", 4000),
            _dispute("2026-02-07", 5000.01, dispute_id="D-2"),
            {"type": "dispute_resolved", "occurred_at": "2026-03-01", "dispute_id": "D-1",
             "outcome": "for_customer", "credit_note_id": "CN-1"},
            {"type": "promise_to_pay", "occurred_at": "2026-03-02", "invoice_id": "I1",
             "promised_date": "2026-03-20", "amount": 2000, "promise_id": "P-1",
             "owner": "bo"},
            payment("2026-03-20", 2000))
    result = credit("cases", "--as-of", "2026-03-31", "--db", log.path, "--csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "customer_id,case_id,kind,invoice_id,amount,currency,date,owner,status,closed_on,"
        "detail",
        "T-STRONG,D-1,dispute,I1,4000.00,EUR,2026-02-06,ana,resolved_for_customer,"
        "2026-03-01,short delivery; credit note CN-1",
        "T-STRONG,D-2,dispute,I1,5000.01,EUR,2026-02-07,ana,refused,2026-02-07,"
        "\"disputes 5,000.01, more than the 5,000.00 open of invoice I1 and not already "
        "disputed; short delivery\"",
        "T-STRONG,P-1,promise,I1,2000.00,EUR,2026-03-20,bo,kept,,"
        "\"2,000.00 paid towards 2,000.00\""]
    assert result.stderr.strip() == "credit: 3 cases as of 2026-03-31 (0 open)"
    # 90 days after they closed (a promise: its date) they are no longer listed
    later = credit("cases", "--as-of", "2026-05-29", "--db", log.path, "--json")
    assert [row["case_id"] for row in json.loads(later.stdout)] == ["D-1", "P-1"]
    later = credit("cases", "--as-of", "2026-05-30", "--db", log.path, "--json")
    assert [row["case_id"] for row in json.loads(later.stdout)] == ["P-1"]
    assert json.loads(credit("cases", "--as-of", "2026-06-18", "--db", log.path,
                             "--json").stdout) == []


def test_credit_cases_for_one_customer_and_on_a_missing_file(log, credit, tmp_path):
    log.decide()
    log.add(invoice("2026-01-05", "I1", 9000, "2026-02-05"), _dispute("2026-02-06", 100))
    assert credit("cases", "--as-of", "2026-03-31", "--customer", "OTHER", "--db",
                  log.path, "--json").stdout.strip() == "[]"
    mine = credit("cases", "--as-of", "2026-03-31", "--customer", "T-STRONG", "--db",
                  log.path, "--json")
    assert [row["case_id"] for row in json.loads(mine.stdout)] == ["D-1"]
    missing = credit("cases", "--as-of", "2026-03-31", "--db", tmp_path / "none.db")
    assert missing.exit_code == 1 and len(missing.stderr.strip().splitlines()) == 1
    bad_date = credit("cases", "--as-of", "2026-02-30", "--db", log.path)
    assert bad_date.exit_code == 2


def test_a_promise_with_nothing_owed_is_kept_and_not_escalated(log, credit):
    log.decide()
    log.add(invoice("2026-01-05", "I1", 1000, "2026-01-31"), payment("2026-02-10", 1000, "I1"),
            promise("2026-02-10", "I1", "2026-02-20", 1000),
            invoice("2026-01-05", "I2", 1000, "2026-01-31"),
            promise("2026-02-10", "I2", "2026-02-20", 1000),
            {"type": "credit_note_issued", "occurred_at": "2026-02-12", "invoice_id": "I2",
             "amount": 1000, "credit_note_id": "CN-1"})
    report = log.monitor("2026-03-01")
    assert [a for a in report.actions if a["rule"] == "M_BROKEN_PROMISE"] == []
    result = credit("cases", "--as-of", "2026-03-01", "--db", log.path)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[2].split()[4:6] == ["0.00", "EUR"]
    assert lines[2].endswith("kept               0.00 paid towards 0.00; nothing left to pay "
                             "on 2026-02-10")
    assert lines[3].split()[4:6] == ["1,000.00", "EUR"]
    assert lines[3].endswith("kept               0.00 paid towards 1,000.00; nothing left "
                             "to pay on 2026-02-12")


def test_a_new_plan_leaves_the_broken_instalment_of_the_one_it_replaces(log, credit):
    log.decide()
    log.add(invoice("2026-01-05", "I1", 1000, "2026-01-31"),
            _plan("2026-02-05", ("2026-02-20", 500), ("2026-03-20", 500)),
            _plan("2026-03-01", ("2026-04-20", 500), ("2026-05-20", 500), plan_id="PL-2"))
    broken = [a for a in log.monitor("2026-03-10").actions
              if a["rule"] == "M_BROKEN_PROMISE"]
    assert {a["date"] for a in broken} == {"2026-02-21"}
    rows = json.loads(credit("cases", "--as-of", "2026-03-10", "--db", log.path,
                             "--json").stdout)
    assert [(row["case_id"], row["status"], row["closed_on"]) for row in rows] == [
        ("PL-1", "replaced (a part broken)", "2026-03-01"), ("PL-2", "open", None)]
    assert rows[0]["detail"] == ("0.00 paid towards 1,000.00: 2026-02-20 500.00 broken; "
                                 "2026-03-20 500.00 replaced")
