"""The credit command through click's CliRunner: exit codes, one-line errors, --json."""

from __future__ import annotations

import json

import pytest

from tests.sample_customers import strong_customer


def write(path, doc):
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_validate_default_ruleset(credit):
    result = credit("validate", "rulesets/default")
    assert result.exit_code == 0
    assert result.output.startswith("ok: rulesets/default: ruleset default")


def test_validate_without_argument_uses_the_shipped_ruleset(credit):
    result = credit("validate")
    assert result.exit_code == 0, result.output


def test_validate_missing_folder_is_one_line(credit):
    result = credit("validate", "no/such/ruleset")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "no/such/ruleset: not a ruleset folder (no such directory)"]


def test_decide_json_shape(credit, tmp_path):
    path = write(tmp_path / "c.json", strong_customer())
    result = credit("decide", path, "--as-of", "2026-11-30", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data)[:4] == ["decision_id", "customer_id", "as_of", "ruleset"]
    assert data["as_of"] == "2026-11-30"
    assert {"admission", "grading", "policy", "approval", "trace"} <= set(data)
    assert set(data["grading"]) == {"score", "grade", "band_grade", "caps", "reasons"}
    assert set(data["policy"]["discount"]) == {"rate", "days"}
    assert all({"stage", "id", "read", "result"} <= set(e) for e in data["trace"])


def test_decide_reads_standard_input(credit):
    result = credit("decide", "-", "--as-of", "2026-11-30", "--json",
                    stdin=json.dumps(strong_customer()))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["customer_id"] == "T-STRONG"


def test_decide_defaults_to_today_and_records_it(credit, tmp_path):
    import datetime as dt

    path = write(tmp_path / "c.json", strong_customer())
    result = credit("decide", path, "--json")
    assert json.loads(result.stdout)["as_of"] == dt.date.today().isoformat()


def test_decide_readable_output(credit, tmp_path):
    path = write(tmp_path / "c.json", strong_customer())
    result = credit("decide", path, "--as-of", "2026-11-30")
    assert result.exit_code == 0
    assert "Admission  ACCEPT" in result.stdout
    assert "Grade      AAA" in result.stdout
    assert "limit 70,000.00 EUR" in result.stdout


def test_decide_trace_lists_rules(credit, tmp_path):
    path = write(tmp_path / "c.json", strong_customer())
    result = credit("decide", path, "--as-of", "2026-11-30", "--trace")
    assert "approval_routing/A_ANALYST_LIMIT" in result.stdout


def test_invalid_customer_names_every_field_by_pointer(credit, tmp_path):
    doc = strong_customer(**{"financials.revenue": "lots", "country": "Germany"})
    doc["unexpected"] = 1
    path = write(tmp_path / "c.json", doc)
    result = credit("decide", path)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "/country", "/financials/revenue", "/unexpected"]
    assert all(line.startswith(path + ": ") for line in lines)
    assert "Traceback" not in result.output


def test_malformed_json_gives_line_and_column(credit, tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"id": "X",\n  "name": }', encoding="utf-8")
    result = credit("decide", path)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"{path}:2:11: Expecting value"


@pytest.mark.parametrize("content", [b"", b"[]", b"\xff\xfe", b'{"id": "A", "id": "B"}',
                                     b'{"id": NaN}', b"null", b'{"id": "\\ud800"}'])
def test_unusable_customer_files_exit_1_with_one_line(credit, tmp_path, content):
    path = tmp_path / "c.json"
    path.write_bytes(content)
    result = credit("decide", path)
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_missing_customer_file(credit):
    result = credit("decide", "nope.json")
    assert result.exit_code == 1
    assert result.stderr.strip() == "nope.json: No such file or directory"


@pytest.mark.parametrize("args", [["decide"], ["decide", "x.json", "--as-of", "2026-02-30"],
                                  ["decide", "x.json", "--bogus"], ["nosuchcommand"],
                                  ["batch", "p.csv"], ["batch", "p.csv", "--out", "o",
                                                       "--workers", "0"]])
def test_usage_errors_exit_2_with_one_line(credit, args):
    result = credit(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("credit: error: ")


def test_bad_ruleset_option_reports_problems(credit, tmp_path):
    path = write(tmp_path / "c.json", strong_customer())
    result = credit("decide", path, "--ruleset", tmp_path)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"{tmp_path}: not a ruleset folder (no ruleset.yaml in it)"


def test_version(credit):
    result = credit("--version")
    assert result.exit_code == 0 and "credit-rules" in result.stdout


@pytest.mark.parametrize("command", [["audit", "stats"], ["audit", "list"],
                                     ["monitor", "--as-of", "2026-01-01"],
                                     ["review", "--due"]])
def test_json_and_csv_together_are_a_usage_error(credit, command):
    result = credit(*command, "--json", "--csv")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("credit: error: --json and --csv: "
                                                     "choose one")
