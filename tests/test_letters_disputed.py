"""A partly disputed invoice in dunning letters and statements: claimed for what no open
dispute holds of it (``Invoice.undisputed``), as the monitor's position and late-payment
charges count it, with the disputed part shown and not claimed; a wholly disputed invoice
is left out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.audit.store import AuditStore
from engine.dunning.writing import write_statements
from tests.credit_cli import invoke_credit
from tests.monitor_log import Log, invoice, payment
from tests.test_letters import DEFAULT, records

pytest.importorskip("durable.engine", reason="durable-rules does not import here")


def disputed_year(tmp_path: Path, ruleset, disputed: float | None) -> Log:
    """The strong customer's two overdue invoices (I1 60,000 due 2026-01-31, I2 5,000 open
    due 2026-01-30), a dispute opened on 2026-02-02 holding ``disputed`` of I1 (all of it
    when None), and the monitor's run of 2026-02-06."""
    log = Log(tmp_path, ruleset)
    log.decide()
    opened = {"type": "dispute_opened", "occurred_at": "2026-02-02", "invoice_id": "I1",
              "reason": "short delivery"}
    if disputed is not None:
        opened["amount"] = disputed
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"),
            invoice("2026-01-02", "I2", 8000, "2026-01-30"),
            payment("2026-01-20", 3000, "I2"), opened)
    log.monitor("2026-02-06")
    return log


@pytest.mark.parametrize(("disputed", "claimed", "shown"), [
    (20000, "40000.00", "20,000.00"),
    (0.01, "59999.99", "0.01"),  # a cent disputed does not drop the invoice
])
def test_a_partly_disputed_invoice_is_claimed_for_its_undisputed_part(
        tmp_path, default_ruleset, disputed, claimed, shown):
    log = disputed_year(tmp_path, default_ruleset, disputed)
    [action] = [a for a in records(log, "action") if a["action"] == "escalate"]
    result = invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "out",
                           "--db", log.path)
    assert result.exit_code == 0, result.output
    [record] = records(log, "letter")
    charges = action["details"]["charges"]
    amounts = record["amounts"]
    assert [line["invoice_id"] for line in amounts["invoices"]] == ["I2", "I1"]
    assert amounts["invoices"][1]["open_amount"] == claimed
    assert amounts["invoices"][1]["disputed"] == f"{disputed:.2f}"
    assert "disputed" not in amounts["invoices"][0]
    # the letter claims what the step's record counted: the position and the charges
    assert amounts["overdue"] == f"{action['details']['position']['overdue_amount']:.2f}"
    assert (amounts["interest"], amounts["compensation"]) == (charges["interest"],
                                                              charges["compensation"])
    assert [line["interest"] for line in amounts["invoices"]] == [
        line["interest"] for line in charges["invoices"]]
    text = (tmp_path / "out" / record["file"]).read_text(encoding="utf-8")
    assert f"<br><small>{shown} disputed, not claimed</small>" in text


def test_a_partly_disputed_invoice_alone_overdue_still_gets_its_letter(tmp_path,
                                                                     default_ruleset):
    log = Log(tmp_path, default_ruleset)
    log.decide()
    log.add(invoice("2026-01-01", "I1", 10000, "2026-01-31"),
            {"type": "dispute_opened", "occurred_at": "2026-02-02", "invoice_id": "I1",
             "amount": 2000, "reason": "short delivery"})
    log.monitor("2026-02-06")
    result = invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "out",
                           "--db", log.path, "--json")
    assert result.exit_code == 0, result.output
    [record] = records(log, "letter")
    # 8,000 x 10.15% x 6 / 365 = 13.35, and 40
    assert (record["amounts"]["overdue"], record["amounts"]["total_due"]) == (
        "8000.00", "8053.35")


def test_a_wholly_disputed_invoice_is_left_out_of_the_letter(tmp_path, default_ruleset):
    log = disputed_year(tmp_path, default_ruleset, None)
    invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "out",
                  "--db", log.path)
    [record] = records(log, "letter")
    assert [line["invoice_id"] for line in record["amounts"]["invoices"]] == ["I2"]
    assert record["amounts"]["overdue"] == "5000.00"


def test_a_statement_counts_the_undisputed_part_as_overdue(tmp_path, default_ruleset):
    log = disputed_year(tmp_path, default_ruleset, 20000)
    with AuditStore(log.path) as store:
        [item] = write_statements(store, log.ruleset, DEFAULT, dt.date(2026, 2, 28),
                                  tmp_path / "out").documents
    text = (tmp_path / "out" / item.file).read_text(encoding="utf-8")
    assert '<td class="amount">28</td><td>disputed 20,000.00</td>' in text  # I1: its part
    # 40,000 of I1 and 5,000 of I2
    assert '<tr><td>of which overdue</td><td class="amount">45,000.00 EUR</td>' in text


def test_a_statement_marks_a_wholly_disputed_invoice_without_an_amount(tmp_path,
                                                                      default_ruleset):
    log = disputed_year(tmp_path, default_ruleset, None)
    with AuditStore(log.path) as store:
        [item] = write_statements(store, log.ruleset, DEFAULT, dt.date(2026, 2, 28),
                                  tmp_path / "out").documents
    text = (tmp_path / "out" / item.file).read_text(encoding="utf-8")
    assert '<td class="amount">28</td><td>disputed</td>' in text  # all of I1
