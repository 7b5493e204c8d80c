"""Dunning blocks (issue 16): a stop on dunning for a customer or one invoice, with a
reason and an expiry, set and lifted by account events. While it blocks: no collections
step and no letter for what it covers; the worklist shows it. A block stops blocking by
itself on its ``expires_on`` day."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from engine.audit.store import AuditStore
from engine.dunning.writing import write_letters
from engine.language.schema_check import json_problems
from engine.monitor.account import Account, DunningBlock
from tests.monitor_log import Log, invoice
from tests.paths import ROOT

DEFAULT = ROOT / "rulesets" / "default"
DAY = "2026-02-06"  # I1 6 days overdue: the strong customer's reminder is due


def block(day: str, reason: str = "copy of the invoice sent", **fields: object) -> dict:
    return {"type": "dunning_block_set", "occurred_at": day, "reason": reason, **fields}


def lifted(day: str, **fields: object) -> dict:
    return {"type": "dunning_block_lifted", "occurred_at": day, **fields}


def ev(kind: str, day: str, **fields: object) -> dict:
    return {"id": f"E-{day}-{kind}", "customer_id": "C-1", "type": kind, "occurred_at": day,
            **fields}


# -- the account ------------------------------------------------------------------------
def test_a_block_holds_from_its_day_to_the_day_before_it_expires():
    held = DunningBlock("why", dt.date(2026, 3, 1), expires_on=dt.date(2026, 3, 31))
    assert not held.blocks_on(dt.date(2026, 2, 28))
    assert held.blocks_on(dt.date(2026, 3, 1))
    assert held.blocks_on(dt.date(2026, 3, 30))
    assert not held.blocks_on(dt.date(2026, 3, 31))  # its expiry day: expired
    assert DunningBlock("why", dt.date(2026, 3, 1)).blocks_on(dt.date(2099, 1, 1))


def test_blocks_are_set_replaced_and_lifted_per_customer_and_per_invoice():
    account = Account("C-1")
    for event in (ev("invoice_issued", "2026-01-01", invoice_id="I1", amount=100,
                     due_date="2026-01-31"),
                  ev("dunning_block_set", "2026-02-01", reason="first"),
                  ev("dunning_block_set", "2026-02-02", reason="second",
                     expires_on="2026-03-01"),
                  ev("dunning_block_set", "2026-02-02", invoice_id="I1", reason="dispute?")):
        account.apply(event)
    blocks = account.dunning_blocks_on(dt.date(2026, 2, 10))
    assert {key: (b.reason, b.since) for key, b in blocks.items()} == {
        "": ("second", dt.date(2026, 2, 2)), "I1": ("dispute?", dt.date(2026, 2, 2))}
    account.apply(ev("dunning_block_lifted", "2026-02-11", invoice_id="I1"))
    assert list(account.dunning_blocks_on(dt.date(2026, 2, 11))) == [""]
    assert account.dunning_blocks_on(dt.date(2026, 3, 1)) == {}
    account.apply(ev("dunning_block_lifted", "2026-02-12"))
    assert account.dunning_blocks == {}


def test_an_expired_block_is_forgotten_and_a_blocked_invoice_is_not_overdue():
    account = Account("C-1")
    account.apply(ev("invoice_issued", "2026-01-01", invoice_id="I1", amount=100,
                     due_date="2026-01-31"))
    account.apply(ev("dunning_block_set", "2026-01-02", reason="r", expires_on="2026-02-01"))
    account.apply(ev("dunning_block_set", "2026-01-03", invoice_id="I1", reason="r"))
    position = account.position(dt.date(2026, 2, 10), blocked={"I1"})
    assert (position["overdue_amount"], position["days_overdue"], position["balance"]) == (
        0, 0, 100)
    account.forget(dt.date(2026, 2, 1))
    assert list(account.dunning_blocks) == ["I1"]


@pytest.mark.parametrize(("event", "problem"), [
    ({"type": "dunning_block_set", "occurred_at": DAY}, "required property is missing"),
    ({"type": "dunning_block_set", "occurred_at": DAY, "reason": ""}, "/reason"),
    ({"type": "dunning_block_set", "occurred_at": DAY, "reason": "r", "until": DAY},
     "until"),
    ({"type": "dunning_block_set", "occurred_at": DAY, "reason": "r", "expires_on": "soon"},
     "/expires_on"),
    ({"type": "dunning_block_lifted", "occurred_at": DAY, "amount": 5}, "amount"),
])
def test_the_event_schema_checks_blocks(event, problem):
    problems = json_problems({"id": "E1", "customer_id": "C-1", **event}, "event.schema.json")
    assert problems and problem in " ".join(problems[0]), problems


def test_a_well_formed_block_and_lift_pass_the_schema():
    for event in (block(DAY, invoice_id="I1", expires_on="2026-03-01"), lifted(DAY),
                  lifted(DAY, invoice_id="I1", reason="paid")):
        assert json_problems({"id": "E1", "customer_id": "C-1", **event},
                             "event.schema.json") == []


# -- the monitor and the letters --------------------------------------------------------
@pytest.fixture
def log(tmp_path, default_ruleset) -> Log:
    pytest.importorskip("durable.engine", reason="durable-rules does not import here")
    log = Log(tmp_path, default_ruleset)
    log.decide()
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"),
            invoice("2026-01-02", "I2", 8000, "2026-01-30"))
    return log


def steps(log: Log, day: str = DAY) -> list[dict]:
    report = log.monitor(day)
    return [a["details"] for a in report.actions if a["action"] == "escalate"]


def letters(log: Log, tmp_path, day: str = DAY):
    with AuditStore(log.path) as store:
        return write_letters(store, log.ruleset, DEFAULT, dt.date.fromisoformat(day),
                             tmp_path / "letters").documents


def test_a_customer_block_stops_the_step_and_the_worklist_says_why(log, tmp_path):
    log.add(block("2026-02-03", "new owner; payment plan talks", expires_on="2026-03-01"))
    report = log.monitor(DAY)
    assert [a for a in report.actions if a["action"] == "escalate"] == []
    [line] = report.worklist
    assert line["dunning_block"] == "customer: new owner; payment plan talks (expires " \
                                    "2026-03-01)"
    assert line["overdue_amount"] == 68000  # still overdue: the block stops dunning only
    assert letters(log, tmp_path) == []
    assert log.replays_identically()


def test_an_invoice_block_leaves_that_invoice_out_of_the_step_and_the_letter(log, tmp_path):
    log.add(block("2026-02-01", invoice_id="I2"))
    [step] = steps(log)
    assert step["overdue_invoices"] == ["I1"] and step["blocked_invoices"] == ["I2"]
    assert step["position"]["overdue_amount"] == 60000
    assert step["charges"]["total"] == "140.11"  # I1 alone: 100.11 + 40
    [item] = letters(log, tmp_path)
    text = (tmp_path / "letters" / item.file).read_text(encoding="utf-8")
    assert "<td>I1</td>" in text and "<td>I2</td>" not in text
    assert item.total == "60140.11"
    [line] = log.monitor(DAY, record=False).worklist
    assert line["dunning_block"] == "I2: copy of the invoice sent"
    assert log.replays_identically()


def test_every_overdue_invoice_blocked_is_no_step(log):
    log.add(block("2026-02-01", invoice_id="I1"), block("2026-02-01", invoice_id="I2"))
    assert steps(log) == []


def test_a_block_expiring_on_the_run_date_no_longer_blocks(log):
    log.add(block("2026-02-01", expires_on=DAY))
    [step] = steps(log)
    assert step["step"] == "reminder"


def test_a_block_expiring_the_day_after_the_run_date_still_blocks(log):
    log.add(block("2026-02-01", expires_on="2026-02-07"))
    assert steps(log) == []
    [step] = steps(log, "2026-02-07")
    assert step["step"] == "reminder"


def test_a_lifted_block_no_longer_blocks(log):
    log.add(block("2026-02-01"), lifted("2026-02-05", reason="copy received"))
    [step] = steps(log)
    assert step["step"] == "reminder"
    assert log.monitor(DAY, record=False).worklist[0]["dunning_block"] is None


def test_a_block_set_after_the_step_stops_its_letter(log, tmp_path):
    assert [step["step"] for step in steps(log)] == ["reminder"]
    log.add(block(DAY, "disputed by phone; checking"))  # ingested after the run, same day
    [item] = letters(log, tmp_path)
    assert (item.status, item.note) == ("blocked", "dunning blocked: disputed by phone; "
                                                   "checking")
    assert not (tmp_path / "letters").exists()
    with AuditStore(log.path) as store:
        assert list(store.iter_rows("SELECT seq FROM records WHERE kind = 'letter'")) == []


def test_the_worklist_cli_shows_the_block(log):
    from tests.credit_cli import invoke_credit

    log.add(block("2026-02-03", "payment plan talks"))
    result = invoke_credit("monitor", "--as-of", DAY, "--worklist", "--db", log.path,
                           "--json")
    assert result.exit_code == 0, result.output
    [line] = json.loads(result.stdout)
    assert line["dunning_block"] == "customer: payment plan talks"


def test_invoices_all_blocked_after_the_step_leave_its_letter_nothing_to_claim(log,
                                                                             tmp_path):
    assert [step["step"] for step in steps(log)] == ["reminder"]
    log.add(block(DAY, invoice_id="I1"), block(DAY, invoice_id="I2"))
    [item] = letters(log, tmp_path)
    assert (item.status, item.note) == ("nothing due", "nothing overdue left to claim (the "
                                                       "overdue invoices are blocked)")
    assert not (tmp_path / "letters").exists()
