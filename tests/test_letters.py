"""Dunning letters and account statements (issue 16, real dunning): rendered from the
ruleset's Jinja2 templates in the customer's language, written as files, recorded with the
SHA-256 of their bytes, once only; a template error is one located line."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from engine.audit.chain import verify_file
from engine.audit.store import AuditStore
from engine.dunning.templates import LetterTemplateError, long_date, money, percent
from engine.dunning.writing import write_letters, write_statements
from engine.monitor.account import fold
from engine.monitor.late_payment import late_payment_charges
from engine.ruleset.loader import load_ruleset
from tests.credit_cli import invoke_credit
from tests.monitor_log import Log, invoice, payment
from tests.paths import ROOT

pytest.importorskip("durable.engine", reason="durable-rules does not import here")

DEFAULT = ROOT / "rulesets" / "default"
STEP_DAY = dt.date(2026, 2, 6)  # I1 6 days overdue: the reminder (AAA, past the grace)


def year(tmp_path: Path, ruleset, **customer: object) -> Log:
    """A customer with two invoices overdue on STEP_DAY, one part paid, and the monitor's
    reminder that day."""
    log = Log(tmp_path, ruleset)
    log.decide(**customer)
    log.add(invoice("2026-01-01", "I1", 60000, "2026-01-31"),
            invoice("2026-01-02", "I2", 8000, "2026-01-30"),
            payment("2026-01-20", 3000, "I2"),
            invoice("2026-02-01", "I3", 1000, "2026-03-03"))
    [step] = [a for a in log.monitor(STEP_DAY.isoformat()).actions
              if a["action"] == "escalate"]
    assert step["details"]["step"] == "reminder"
    return log


def letters(log: Log, out: Path, folder: Path = DEFAULT, as_of: dt.date = STEP_DAY):
    with AuditStore(log.path) as store:
        return write_letters(store, log.ruleset, folder, as_of, out)


def records(log: Log, kind: str) -> list[dict]:
    with AuditStore(log.path) as store:
        return [json.loads(row["body"]) for row in store.iter_rows(
            "SELECT body FROM records WHERE kind = ? ORDER BY seq", [kind])]


def own_templates(tmp_path: Path, **files: str) -> Path:
    """A copy of the shipped ruleset whose letters have ``files`` (name under letters/,
    ``__`` for ``/`` -> text; None removes it) changed."""
    folder = tmp_path / "own"
    shutil.copytree(DEFAULT, folder)
    for name, text in files.items():
        path = folder / "letters" / (name if "." in name else
                                     name.replace("__", "/") + ".html.j2")
        if text is None:
            path.unlink()
        else:
            path.write_text(text, encoding="utf-8")
    return folder


# -- a letter in English --------------------------------------------------------------------
def test_a_reminder_lists_the_overdue_invoices_the_charges_and_the_total(tmp_path,
                                                                         default_ruleset):
    log = year(tmp_path, default_ruleset, name="Strong <Tools> & Co")
    report = letters(log, tmp_path / "out")
    [item] = report.documents
    assert (item.status, item.customer_id, item.document, item.language) == (
        "written", "T-STRONG", "reminder", "en")
    assert item.file == "2026-02-06-T-STRONG-reminder.html"
    text = (tmp_path / "out" / item.file).read_text(encoding="utf-8")
    assert "<h1>Payment reminder</h1>" in text
    assert "Strong &lt;Tools&gt; &amp; Co" in text and "<Tools>" not in text  # autoescaped
    assert "Date: 6 February 2026" in text
    # I2 (5,000 open, 7 days) first, then I1 (60,000, 6 days); I3 is not yet due
    assert text.index("<td>I2</td>") < text.index("<td>I1</td>") and "<td>I3</td>" not in text
    # 5,000 x 10.15% x 7 / 365 = 9.73; 60,000 x 10.15% x 6 / 365 = 100.11; 2 x 40
    assert '<td class="amount">9.73</td>' in text and '<td class="amount">100.11</td>' in text
    assert "Late-payment interest (10.15% a year" in text
    assert '<tr class="total"><td>Total due</td><td class="amount">65,189.84 EUR</td>' in text
    assert item.total == "65189.84"


def test_the_amounts_are_the_late_payment_modules_and_the_monitors(tmp_path,
                                                                   default_ruleset):
    log = year(tmp_path, default_ruleset)
    letters(log, tmp_path / "out")
    [record] = records(log, "letter")
    [action] = [a for a in records(log, "action") if a["action"] == "escalate"]
    with AuditStore(log.path) as store:
        events = [json.loads(row["body"]) for row in store.iter_rows(
            "SELECT body FROM records WHERE kind = 'event' ORDER BY seq")]
    account = fold("T-STRONG", events, STEP_DAY, "EUR")
    overdue = [i for i in account.invoices.values() if i.due_date < STEP_DAY]
    expected = late_payment_charges(default_ruleset.escalation_spec["late_payment"], overdue,
                                    STEP_DAY, {})
    assert expected == action["details"]["charges"]
    amounts = record["amounts"]
    assert (amounts["interest"], amounts["compensation"]) == (
        expected["interest"], expected["compensation"])
    assert [(line["invoice_id"], line["open_amount"], line["days_overdue"], line["interest"])
            for line in amounts["invoices"]] == [
        (line["invoice_id"], line["open_amount"], line["days_late"], line["interest"])
        for line in expected["invoices"]]
    assert amounts["overdue"] == "65000.00"
    assert amounts["total_due"] == "65189.84"  # 65,000 + 109.84 + 80


def test_a_steps_fee_is_in_its_letter_its_total_and_both_records(tmp_path):
    folder = own_templates(tmp_path)
    ladder = folder / "escalation.yaml"
    text = ladder.read_text(encoding="utf-8")
    assert "{name: reminder, min_amount: 50, wait_days: 7}" in text
    ladder.write_text(text.replace("{name: reminder, min_amount: 50, wait_days: 7}",
                                   "{name: reminder, min_amount: 50, wait_days: 7, fee: 5}"),
                      encoding="utf-8")
    log = year(tmp_path, load_ruleset(folder))
    [item] = letters(log, tmp_path / "out", folder).documents
    text = (tmp_path / "out" / item.file).read_text(encoding="utf-8")
    assert '<tr><td>Dunning fee (this step)</td><td class="amount">5.00 EUR</td></tr>' in text
    assert '<td>Total due</td><td class="amount">65,194.84 EUR</td>' in text  # 65,189.84 + 5
    [record] = records(log, "letter")
    assert (record["amounts"]["fee"], record["amounts"]["total_due"]) == ("5.00", "65194.84")
    [action] = [a for a in records(log, "action") if a["action"] == "escalate"]
    assert (action["details"]["charges"]["fee"], action["details"]["charges"]["total"]) == (
        "5.00", "194.84")  # 109.84 interest, 2 x 40 compensation, the fee


def test_a_fee_is_the_one_the_ruleset_that_took_the_step_states(tmp_path):
    """The step was taken under a ladder charging 5; written later under the shipped one
    (no fee), the letter still claims the 5 its step recorded."""
    folder = own_templates(tmp_path)
    ladder = folder / "escalation.yaml"
    ladder.write_text(ladder.read_text(encoding="utf-8").replace(
        "{name: reminder, min_amount: 50, wait_days: 7}",
        "{name: reminder, min_amount: 50, wait_days: 7, fee: 5}"), encoding="utf-8")
    log = year(tmp_path, load_ruleset(folder))
    [item] = letters(log, tmp_path / "out", DEFAULT).documents
    assert item.status == "written"
    [record] = records(log, "letter")
    assert (record["amounts"]["fee"], record["amounts"]["total_due"]) == ("5.00", "65194.84")
    assert record["ruleset"]["hash"] == load_ruleset(folder).hash


def test_the_shipped_ladder_charges_no_fee(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)
    [item] = letters(log, tmp_path / "out").documents
    assert "Dunning fee" not in (tmp_path / "out" / item.file).read_text(encoding="utf-8")
    [record] = records(log, "letter")
    assert "fee" not in record["amounts"]
    assert all("fee" not in step for step in default_ruleset.escalation_spec["steps"])


def test_the_record_proves_which_letter_was_sent(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)
    [item] = letters(log, tmp_path / "out").documents
    [record] = records(log, "letter")
    data = (tmp_path / "out" / item.file).read_bytes()
    assert record["sha256"] == hashlib.sha256(data).hexdigest() == item.sha256
    assert record["bytes"] == len(data)
    assert (record["customer_id"], record["as_of"], record["document"], record["file"],
            record["template"], record["language"]) == (
        "T-STRONG", "2026-02-06", "reminder", item.file, "en/reminder.html.j2", "en")
    assert set(record["templates"]) == {"en/reminder.html.j2", "en/dunning.html.j2",
                                        "layout.html.j2"}
    template = (DEFAULT / "letters" / "en" / "reminder.html.j2").read_bytes()
    assert record["templates"]["en/reminder.html.j2"] == hashlib.sha256(template).hexdigest()
    assert record["ruleset"]["hash"] == log.ruleset.hash
    assert record["action"].startswith("M_") and "fallback" not in record
    assert verify_file(str(log.path)).ok
    assert log.replays_identically()


# -- languages --------------------------------------------------------------------------
def test_a_chinese_customer_gets_its_letter_in_chinese(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset, name="天津精密机械有限公司", language="zh")
    [item] = letters(log, tmp_path / "out").documents
    assert (item.language, item.fallback) == ("zh", None)
    text = (tmp_path / "out" / item.file).read_text(encoding="utf-8")
    assert '<html lang="zh">' in text and "<h1>付款提醒函</h1>" in text
    assert "<p>天津精密机械有限公司：</p>" in text
    assert "日期：2026年2月6日" in text
    assert "逾期利息（年利率 10.15%" in text
    assert '<tr class="total"><td>应付总额</td><td class="amount">65,189.84 EUR</td>' in text


def test_a_language_without_templates_falls_back_to_english_with_a_note(tmp_path,
                                                                       default_ruleset):
    log = year(tmp_path, default_ruleset, language="fr")
    [item] = letters(log, tmp_path / "out").documents
    assert (item.status, item.language) == ("written", "en")
    assert item.fallback == "no fr template for reminder: written in en"
    [record] = records(log, "letter")
    assert (record["asked_language"], record["language"], record["fallback"]) == (
        "fr", "en", "no fr template for reminder: written in en")
    result = invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "again",
                           "--db", log.path)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        "credit: 0 letters written and recorded as of 2026-02-06 into "
        f"{tmp_path / 'again'}; 1 recorded before; 1 not in the customer's language "
        "(no template in it)")


def test_a_regional_language_falls_back_to_its_primary_language(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset, language="zh-TW")
    [item] = letters(log, tmp_path / "out").documents
    assert (item.language, item.fallback) == ("zh", "no zh-TW template for reminder: "
                                                    "written in zh")


def test_filters_write_money_rates_and_dates():
    assert money("1234567.5") == "1,234,567.50"
    assert percent("0.1015") == "10.15%" and percent("0.08") == "8%"
    assert long_date(dt.date(2026, 11, 30)) == "30 November 2026"
    assert long_date("2026-11-30", "zh") == "2026年11月30日"
    assert long_date(dt.date(2026, 11, 30), "de") == "2026-11-30"


def test_filters_round_half_up_as_the_engine_rounds_money():
    assert money("0.125") == "0.13" and money("2.675") == "2.68"  # not half-even's 0.12
    assert money("-0.125") == "-0.13" and money("1234.565") == "1,234.57"
    assert percent("0.10125") == "10.13%" and percent("0.101249") == "10.12%"


# -- once only, byte for byte -----------------------------------------------------------
def test_a_second_run_records_nothing_and_writes_the_same_bytes(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)
    [first] = letters(log, tmp_path / "out").documents
    data = (tmp_path / "out" / first.file).read_bytes()
    (tmp_path / "out" / first.file).unlink()
    with AuditStore(log.path) as store:
        head = store.head()
    [again] = letters(log, tmp_path / "out").documents
    assert (again.status, again.seq, again.sha256) == ("recorded before", first.seq,
                                                       first.sha256)
    assert (tmp_path / "out" / first.file).read_bytes() == data  # byte for byte
    assert [item.status for item in letters(log, tmp_path / "elsewhere").documents] == [
        "recorded before"]
    assert (tmp_path / "elsewhere" / first.file).read_bytes() == data
    with AuditStore(log.path) as store:
        assert store.head() == head
    assert len(records(log, "letter")) == 1


def test_a_later_run_writes_only_the_new_steps(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)
    letters(log, tmp_path / "out")
    log.monitor("2026-03-20")  # 48 days: AAA gets a phone call, which has no template
    report = letters(log, tmp_path / "out", as_of=dt.date(2026, 3, 20))
    assert [(item.document, item.status) for item in report.documents] == [
        ("reminder", "recorded before"), ("phone_call", "no template")]
    assert report.documents[1].note.startswith("no template for phone_call in ")
    assert len(records(log, "letter")) == 1


def test_a_recorded_letter_whose_file_is_there_is_not_rendered_again(tmp_path,
                                                                     default_ruleset):
    log = year(tmp_path, default_ruleset)
    [first] = letters(log, tmp_path / "out").documents
    before = (tmp_path / "out" / first.file).read_bytes()
    changed = own_templates(tmp_path, en__reminder=(
        DEFAULT / "letters/en/reminder.html.j2").read_text().replace("Payment reminder",
                                                                     "Friendly reminder"))
    result = invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "out",
                           "--db", log.path, "--ruleset", changed)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        "credit: 0 letters written and recorded as of 2026-02-06 into "
        f"{tmp_path / 'out'}; 1 recorded before")
    assert (tmp_path / "out" / first.file).read_bytes() == before


def test_a_missing_letter_that_now_renders_otherwise_is_reported_and_not_written(
        tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)
    [first] = letters(log, tmp_path / "out").documents
    changed = own_templates(tmp_path, en__reminder=(
        DEFAULT / "letters/en/reminder.html.j2").read_text().replace("Payment reminder",
                                                                     "Friendly reminder"))
    result = invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "again",
                           "--db", log.path, "--ruleset", changed)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"credit: {first.file}: renders other bytes than record {first.seq} (sha256 "
        f"{first.sha256[:12]}): a template or the log changed since; the file is left as "
        "it was")
    assert not (tmp_path / "again" / first.file).exists()
    assert len(records(log, "letter")) == 1


# -- templates as user input ------------------------------------------------------------
@pytest.mark.parametrize(("text", "line", "message"), [
    ("<p>\n{% if %}\n</p>\n", 2, "Expected an expression, got 'end of statement block'"),
    ("<p>\n{{ customer.nickname }}\n</p>\n", 2, "'dict object' has no attribute 'nickname'"),
    ("<p>\n\n{{ customer.name.__class__.__mro__ }}\n", 3,
     "access to attribute '__class__' of 'str' object is unsafe."),
    ("{{ cycler.__init__.__globals__ }}\n", 1,
     "access to attribute '__init__' of 'type' object is unsafe."),
    ("{{ invoices.append(1) }}\n", 1,
     "access to attribute 'append' of 'list' object is unsafe."),
    ('{% include "../../ruleset.yaml" %}\n', 1, "no template ../../ruleset.yaml in the "
                                               "letters folder"),
])
def test_a_bad_template_is_one_located_line_and_writes_nothing(tmp_path, default_ruleset,
                                                               text, line, message):
    log = year(tmp_path, default_ruleset)
    folder = own_templates(tmp_path, en__reminder=text)
    result = invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "out",
                           "--db", log.path, "--ruleset", folder)
    assert result.exit_code == 1
    assert result.stderr == (f"credit: error: {folder}/letters/en/reminder.html.j2:{line}: "
                             f"{message}\n")
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    assert records(log, "letter") == []


def test_an_error_in_a_template_it_extends_names_that_file(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)
    layout = (DEFAULT / "letters/layout.html.j2").read_text().replace(
        "{{ customer.id }}", "{{ customer.vat_number }}")
    folder = own_templates(tmp_path, **{"layout.html.j2": layout})
    with pytest.raises(LetterTemplateError, match=r"/letters/layout\.html\.j2:\d+: 'dict "
                                                  "object' has no attribute 'vat_number'"):
        letters(log, tmp_path / "out", folder)


def test_a_template_linking_outside_the_letters_folder_is_refused(tmp_path,
                                                                  default_ruleset):
    log = year(tmp_path, default_ruleset)
    folder = own_templates(tmp_path, en__reminder=None)
    secret = tmp_path / "secret.html.j2"
    secret.write_text("secret\n")
    (folder / "letters" / "en" / "reminder.html.j2").symlink_to(secret)
    with pytest.raises(LetterTemplateError, match="links outside the letters folder"):
        letters(log, tmp_path / "out", folder)


def test_a_ruleset_without_letter_templates_says_so(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)
    bare = own_templates(tmp_path)
    shutil.rmtree(bare / "letters")
    result = invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "out",
                           "--db", log.path, "--ruleset", bare)
    assert result.exit_code == 1
    assert result.stderr == (f"credit: error: {bare}/letters: no letter templates (a folder "
                             "letters/ with en/NAME.html.j2 in the ruleset)\n")


def test_out_naming_a_file_is_one_line(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)
    (tmp_path / "taken").write_text("")
    result = invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "taken",
                           "--db", log.path)
    assert result.exit_code == 1
    assert result.stderr == f"credit: error: {tmp_path / 'taken'}: not a folder\n"


@pytest.mark.parametrize("where", [
    "afile/sub", pytest.param("/proc/nope", marks=pytest.mark.skipif(
        not Path("/proc/self").is_dir(), reason="no /proc here"))])
def test_out_that_cannot_be_made_is_one_line_naming_it(tmp_path, default_ruleset, where):
    log = year(tmp_path, default_ruleset)
    (tmp_path / "afile").write_text("")
    out = tmp_path / where if not where.startswith("/") else Path(where)
    result = invoke_credit("letters", "--as-of", "2026-02-06", "--out", out, "--db", log.path)
    assert result.exit_code == 1
    why = "Not a directory" if where == "afile/sub" else "No such file or directory"
    assert result.stderr == (f"credit: error: {out}: cannot write "
                             f"2026-02-06-T-STRONG-reminder.html there: {why}\n")
    assert records(log, "letter") == []


def test_the_cli_lists_the_letters_and_counts_them(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)
    result = invoke_credit("letters", "--as-of", "2026-02-06", "--out", tmp_path / "out",
                           "--db", log.path, "--json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert (row["date"], row["customer_id"], row["document"], row["status"], row["total"],
            row["file"]) == ("2026-02-06", "T-STRONG", "reminder", "written", "65189.84",
                             "2026-02-06-T-STRONG-reminder.html")
    assert result.stderr == ("credit: 1 letter written and recorded as of 2026-02-06 into "
                             f"{tmp_path / 'out'}\n")
    listed = invoke_credit("audit", "list", "--kind", "letter", "--db", log.path, "--json")
    assert [(r["customer_id"], r["outcome"]) for r in json.loads(listed.stdout)] == [
        ("T-STRONG", "reminder")]


# -- statements -------------------------------------------------------------------------
def test_a_statement_lists_open_items_payments_and_the_balance(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset, language="zh")
    log.add(payment("2026-02-20", 1500), invoice("2026-02-21", "I4", 200, "2026-03-23"))
    with AuditStore(log.path) as store:
        report = write_statements(store, log.ruleset, DEFAULT, dt.date(2026, 2, 28),
                                  tmp_path / "out")
    [item] = report.documents
    assert (item.kind, item.file, item.language) == (
        "statement", "2026-02-28-T-STRONG-statement.html", "zh")
    text = (tmp_path / "out" / item.file).read_text(encoding="utf-8")
    assert "<h1>对账单（截至2026年2月28日）</h1>" in text
    assert "2026年2月1日至2026年2月28日" in text  # the period: from the 1st of the month
    # the payment without an invoice went to the oldest open one (I2: 5,000 -> 3,500)
    assert "<td>2026-02-20</td><td>E00005</td><td>未指定发票</td>" in text
    assert "<td>2026-01-20</td>" not in text  # January's payment is before the period
    [record] = records(log, "statement")
    assert record["amounts"] == {"currency": "EUR", "open_items": "64700.00",
                                 "payments": 1, "payments_since": "2026-02-01",
                                 "unapplied": "0.00", "balance": "64700.00"}
    assert item.total == "64700.00"
    with AuditStore(log.path) as store:
        again = write_statements(store, log.ruleset, DEFAULT, dt.date(2026, 2, 28),
                                 tmp_path / "out")
    assert [i.status for i in again.documents] == ["recorded before"]
    assert len(records(log, "statement")) == 1
    assert verify_file(str(log.path)).ok


def test_a_statement_period_must_end_on_its_date(tmp_path, default_ruleset):
    log = year(tmp_path, default_ruleset)
    result = invoke_credit("statements", "--as-of", "2026-02-28", "--since", "2026-03-01",
                           "--out", tmp_path / "out", "--db", log.path)
    assert result.exit_code == 2  # a usage error
    [line] = result.stderr.splitlines()
    assert line.startswith("credit: error: --since 2026-03-01 is after --as-of 2026-02-28: "
                           "the period ends on the statement date (see '")
    assert not (tmp_path / "out").exists()


def test_a_customer_with_nothing_to_reconcile_gets_no_statement(tmp_path, default_ruleset):
    log = Log(tmp_path, default_ruleset)
    log.decide()
    log.add(invoice("2026-01-01", "I1", 100, "2026-01-31"), payment("2026-01-10", 100))
    result = invoke_credit("statements", "--as-of", "2026-02-28", "--out", tmp_path / "out",
                           "--db", log.path)
    assert result.exit_code == 0, result.output
    assert result.stderr == ("credit: 0 statements written and recorded as of 2026-02-28 "
                             f"into {tmp_path / 'out'}\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("step", ["reminder", "letter", "legal_action"])
def test_every_shipped_step_template_renders_in_both_languages(tmp_path, default_ruleset,
                                                               step, language):
    from engine.dunning.documents import letters_due
    from engine.dunning.templates import LetterTemplates
    from engine.dunning.writing import _values

    log = year(tmp_path, default_ruleset, language=language)
    with AuditStore(log.path) as store:
        [document] = letters_due(store, log.ruleset, STEP_DAY)
    document.document = step
    templates = LetterTemplates(DEFAULT)
    chosen = templates.choose(step, language)
    assert (chosen.name, chosen.fallback) == (f"{language}/{step}.html.j2", None)
    text = templates.render(chosen, _values(document, chosen, log.ruleset)).decode()
    assert text.startswith(f'<!DOCTYPE html>\n<html lang="{language}">')
    assert "65,189.84 EUR" in text and "{{" not in text and "{%" not in text


def test_validate_finds_a_syntax_error_in_a_letter_template(tmp_path):
    folder = own_templates(tmp_path, zh__statement="<p>\n\n{% for x in %}\n")
    result = invoke_credit("validate", folder)
    assert result.exit_code == 1
    assert result.stderr == (f"{folder}/letters/zh/statement.html.j2:3:1: Expected an "
                             "expression, got 'end of statement block'\n")
    assert invoke_credit("validate", DEFAULT).exit_code == 0


def test_validate_refuses_a_template_linking_outside_the_letters_folder(tmp_path):
    folder = own_templates(tmp_path)
    secret = tmp_path / "secret.html.j2"
    secret.write_text("{{ 1 }}", encoding="utf-8")
    (folder / "letters" / "en" / "outside.html.j2").symlink_to(secret)
    result = invoke_credit("validate", folder)
    assert result.exit_code == 1
    assert result.stderr == (f"{folder}/letters/en/outside.html.j2: links outside the "
                             "letters folder: letters refuse it\n")


def test_a_statement_marks_disputed_and_blocked_items_but_is_not_blocked(tmp_path,
                                                                         default_ruleset):
    log = year(tmp_path, default_ruleset)
    log.add({"type": "dispute_opened", "occurred_at": "2026-02-10", "invoice_id": "I1",
             "reason": "quality"},
            {"type": "dunning_block_set", "occurred_at": "2026-02-10", "reason": "whole "
             "account: talks"})
    with AuditStore(log.path) as store:
        [item] = write_statements(store, log.ruleset, DEFAULT, dt.date(2026, 2, 28),
                                  tmp_path / "out").documents
    assert item.status == "written"
    text = (tmp_path / "out" / item.file).read_text(encoding="utf-8")
    assert '<td class="amount">28</td><td>disputed</td>' in text  # I1
    assert '<td class="amount">29</td><td>dunning on hold</td>' in text  # I2
    assert '<tr><td>of which overdue</td><td class="amount">5,000.00 EUR</td>' in text
