"""A CSV portfolio read in chunks of record text (engine.enrich.csv_chunks) gives exactly
the rows read_rows gives, on a file made of the edges of CSV reading; and a simulation of
a CSV with bad rows gives the same report in one process and in two."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from engine.enrich.csv_chunks import csv_chunks
from engine.enrich.customer_documents import InputError
from engine.enrich.portfolio import read_rows
from engine.quality.simulate import simulate_portfolio
from tests.paths import DEFAULT_RULESET

HEADER = "id,name,country\r\n"
TOO_LONG = "x" * (csv.field_size_limit() + 1)
EDGES = [  # records, each with its line ending
    "C1,plain,DE\n",
    'C2,"quoted, with a comma",DE\n',
    'C3,"over\ntwo lines",DE\r\n',
    'C4,"over\r\nthree\rlines ""quoted""",DE\n',
    "\n", "\r\n", "\r",  # blank lines: no row
    'C5,a "quote" inside,DE\n',
    "C6,short\n",
    "C7,long,DE,x\n",
    f"C8,{TOO_LONG},DE\n",
    f'C9,"{TOO_LONG}\nafter the error",DE\n',
    '"C10",""," DE"\r',
    "\u00e9t\u00e9,caf\u00e9,DE\n",
    "C11,\"ends,\"x\"\n",
    "C12,trailing,\n",  # the records below are split at their commas, no csv module
    "C13,nul\x00inside,DE\n",
    "C14,line\u2028separator,DE\r\n",
    " , , \n",
]


def _rows_by_read_rows(path: Path) -> list:
    rows = list(read_rows(path))
    assert rows[0][0] == 0  # the column types
    return [_comparable(row) for row in rows[1:]]


def _rows_by_chunks(path: Path, size: int) -> list:
    columns, chunks = csv_chunks(path, size)
    return [_comparable(row) for chunk in chunks for row in chunk.rows(columns, str(path))]


def _comparable(row: tuple) -> tuple:
    number, raw = row
    return (number, raw.lines()) if isinstance(raw, InputError) else (number, raw)


def _write(path: Path, text: str, bad_bytes_at: int | None = None) -> Path:
    data = ("\ufeff" + HEADER + text).encode("utf-8")
    if bad_bytes_at is not None:
        data = data[:bad_bytes_at] + b"\xff\xfe" + data[bad_bytes_at:]
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("size", [1, 2, 3, 500])
@pytest.mark.parametrize("ending", [
    "",                               # the last record has no line end
    "\n\n",                           # blank lines at the end
    'C12,"a quote never closed\nx\n',  # the rest of the file is one field
])
def test_chunks_read_what_read_rows_reads(tmp_path, size, ending):
    path = _write(tmp_path / "edges.csv", "".join(EDGES) + ending)
    expected = _rows_by_read_rows(path)
    assert any(isinstance(raw, list) for _, raw in expected)  # errors are among the edges
    assert _rows_by_chunks(path, size) == expected


@pytest.mark.parametrize("section", [0, 1])  # in plain records, in quoted multi-line ones
def test_text_that_is_not_utf8_is_the_same_error_at_the_same_row(tmp_path, section):
    # each section is past the first block the reader decodes (8 KiB): rows come before
    plain = "".join(f"C{n},name {n},DE\n" for n in range(600))
    quoted = "".join(f'Q{n},"name\n{n}",DE\n' for n in range(600))
    start = len(("\ufeff" + HEADER + plain).encode()) if section else 0
    path = _write(tmp_path / "bad.csv", plain + quoted + plain, bad_bytes_at=start + 9000)
    expected = _rows_by_read_rows(path)
    assert any(isinstance(raw, list) and "utf-8" in raw[0] for _, raw in expected)
    for size in (1, 7, 500):
        assert _rows_by_chunks(path, size) == expected


def test_a_header_alone_gives_no_rows(tmp_path):
    path = _write(tmp_path / "empty.csv", "\n\n")
    assert _rows_by_read_rows(path) == _rows_by_chunks(path, 500) == []


def test_a_csv_with_bad_rows_gives_the_same_report_in_one_process_and_two(tmp_path):
    rulesets = tmp_path / "baseline", tmp_path / "candidate"
    for folder in rulesets:
        shutil.copytree(DEFAULT_RULESET, folder)
    policy = rulesets[1] / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert text.count("financials.equity * 0.12") == 1
    policy.write_text(text.replace("financials.equity * 0.12", "financials.equity * 0.10"),
                      encoding="utf-8")
    header = ("id,name,country,requested_amount,financials.equity,financials.total_assets,"
              "financials.revenue,credit_history.months_known\n")
    good = [f"C{n},\"Firm {n}, Ltd\",DE,{10000 * n},{400000 * n},{900000 * n},"
            f"{2000000 * n},{24 + n}\n" for n in range(1, 40)]
    bad = ["C90,short\n", "C91,x,DE,abc,1,1,1,1\n", "\n", 'C92,"two\nlines",DE,1,1,1,1,1\n']
    path = tmp_path / "portfolio.csv"
    path.write_text(header + "".join(good[:15] + bad + good[15:]), encoding="utf-8")
    reports = []
    for workers in (1, 2):
        errors: list = []
        simulation = simulate_portfolio(path, *rulesets, dt.date(2026, 11, 30),
                                        workers=workers, on_error=errors.append)
        reports.append(json.dumps({"report": simulation.to_dict(), "errors": errors}))
    assert reports[0] == reports[1]
    data = json.loads(reports[0])
    assert data["report"]["summary"]["unreadable"] == 2
    assert data["errors"][0] == [f"{path}: row 16: 2 cells where the header has 8 columns"]
    assert data["report"]["summary"]["customers"] == 40


def test_an_unreadable_json_lines_row_gives_the_same_report_with_two_workers(tmp_path):
    # read_rows yields the row's InputError, which is sent to a worker as it is
    path = tmp_path / "portfolio.jsonl"
    path.write_bytes(b'{"id": "C1", "country": "DE"}\n' * 3 + b'{"id": "\xff"}\n')
    reports = []
    for workers in (1, 2):
        errors: list = []
        simulation = simulate_portfolio(path, DEFAULT_RULESET, DEFAULT_RULESET,
                                        dt.date(2026, 11, 30), workers=workers,
                                        on_error=errors.append)
        reports.append((simulation.to_dict(), errors))
    assert reports[0] == reports[1]
    assert reports[0][1] and "not valid UTF-8 text" in reports[0][1][0][0]
