"""Every command that lists or reports offers the same output options: a readable table
(the default), --json and --csv, and --nl (JSON Lines) where rows stream."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.audit_helpers import one_invoice_event
from tests.paths import DEFAULT_RULESET, ROOT

REPORTS = ["validate", "test", "lint", "diff", "simulate", "plugins", "audit stats",
           "audit verify", "events ingest"]
STREAMS = ["audit list", "review", "override list", "monitor"]


def options_of(credit, command: str) -> set[str]:
    text = credit(*command.split(), "--help").stdout
    return {word.strip(",") for word in text.split() if word.startswith("--")}


@pytest.mark.parametrize("command", REPORTS + STREAMS)
def test_json_and_csv_everywhere(credit, command):
    assert {"--json", "--csv"} <= options_of(credit, command)


@pytest.mark.parametrize("command", STREAMS)
def test_json_lines_where_rows_stream(credit, command):
    assert "--nl" in options_of(credit, command)


def test_export_writes_json_lines_or_csv(credit):
    assert {"--nl", "--csv"} <= options_of(credit, "audit export")


@pytest.mark.parametrize(("flags", "message"), [
    (["--json", "--csv"], "--json and --csv: choose one"),
    (["--csv", "--nl"], "--csv and --nl: choose one"),
])
def test_two_formats_are_a_usage_error(credit, flags, message):
    result = credit("audit", "list", *flags)
    assert result.exit_code == 2
    assert message in result.stderr


def test_validate_reports_as_json_and_csv(credit, tmp_path):
    ok = json.loads(credit("validate", DEFAULT_RULESET, "--json").stdout)
    assert ok["ok"] is True and ok["problems"] == [] and ok["ruleset"]["name"] == "default"
    broken = ROOT / "tests" / "rulesets" / "broken" / "band_gap"
    result = credit("validate", broken, "--csv")
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and set(rows[0]) == {"file", "line", "column", "message"}


def test_audit_list_as_json_lines(credit, tmp_path):
    db = tmp_path / "audit.db"
    customer = ROOT / "examples" / "customers" / "bbb-distributor.json"
    assert credit("decide", customer, "--as-of", "2026-11-30", "--db", db).exit_code == 0
    lines = credit("audit", "list", "--db", db, "--nl").stdout.splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["decision", "ruleset-loaded"]


def test_verify_and_ingest_report_as_json(credit, tmp_path):
    db = tmp_path / "audit.db"
    events = one_invoice_event(tmp_path / "events.jsonl", "C-1")
    ingested = json.loads(credit("events", "ingest", events, "--db", db, "--json").stdout)
    assert ingested == {"ingested": 1, "already_seen": 0, "bad_line_problems": 0}
    verified = json.loads(credit("audit", "verify", "--db", db, "--json").stdout)
    assert verified["ok"] is True and verified["checked"] == 1
    assert verified["head"].startswith("1:")


def test_lint_and_test_as_csv(credit):
    lint = list(csv.DictReader(io.StringIO(credit("lint", DEFAULT_RULESET, "--csv").stdout)))
    assert lint == []  # the shipped ruleset is clean; the header is there
    assert credit("lint", DEFAULT_RULESET, "--csv").stdout.startswith(
        "file,line,column,severity,code,message")
    cases = list(csv.DictReader(io.StringIO(credit("test", DEFAULT_RULESET, "--csv").stdout)))
    assert cases and {row["result"] for row in cases} <= {"passed", "skipped"}


def test_a_table_fits_the_terminal_by_cutting_the_widest_columns():
    from engine.cli.output import MIN_COLUMN, table_lines

    rows = [{"date": "2026-05-07", "action": "notify",
             "what": "A promise to pay whose date passed without the promised payment.",
             "rule": "M_BROKEN_PROMISE"}]
    columns = ("date", "action", "what", "rule")
    whole = list(table_lines(rows, columns))
    assert whole[2].split("  ")[2].strip().endswith("payment.")
    narrow = list(table_lines(rows, columns, width=60))
    assert all(len(line) <= 60 for line in narrow)
    assert "A promise to pay" in narrow[2]
    assert "…" in narrow[2] and narrow[2].rstrip().endswith("M_BROKEN_PROMISE")
    tiny = list(table_lines(rows, columns, width=10))  # cannot fit: no column below the minimum
    assert min(len(part) for part in tiny[1].split("  ")) >= min(MIN_COLUMN, len("date"))


def test_in_a_pipe_every_cell_is_whole(credit, tmp_path):
    from engine.cli.output import terminal_width

    assert terminal_width() is None  # the tests' standard output is no terminal


def test_colour_on_a_terminal_and_never_with_no_color(tmp_path):
    """ok in green, FAILED in red, on a terminal; $NO_COLOR turns colour off, and in a
    pipe click leaves it out by itself."""
    from click.testing import CliRunner

    from engine.cli.main import cli

    on_terminal = CliRunner().invoke(cli, ["validate", str(DEFAULT_RULESET)], color=True)
    assert on_terminal.stdout.startswith("\x1b[32mok\x1b[0m: ")
    plain = CliRunner().invoke(cli, ["validate", str(DEFAULT_RULESET)], color=True,
                               env={"NO_COLOR": "1"})
    assert plain.stdout.startswith("ok: ") and "\x1b[" not in plain.stdout
    piped = CliRunner().invoke(cli, ["validate", str(DEFAULT_RULESET)])
    assert "\x1b[" not in piped.stdout
