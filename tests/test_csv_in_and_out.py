"""CSV in and out: cells a spreadsheet would run are escaped, a byte-order mark is read,
a row with the wrong number of cells is an error for that row, and JSON Lines errors name
the right line."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.cli.output import format_rows, spreadsheet_safe
from tests.credit_cli import invoke_credit
from tests.sample_customers import strong_customer

AS_OF = "2026-11-30"


@pytest.mark.parametrize(("text", "safe"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-0.25", "-0.25"), ("+12", "+12"), ("-1e5", "-1e5"), ("585000.00", "585000.00"),
    ("plain", "plain"), ("", ""), ("a=b", "a=b"),
])
def test_cells_a_spreadsheet_would_run_get_an_apostrophe(text, safe):
    assert spreadsheet_safe(text) == safe


def test_an_override_reason_from_the_command_line_is_escaped_in_csv(tmp_path, credit):
    db = tmp_path / "audit.db"
    added = credit("override", "add", "C-1", "--refer", "--reason", "=cmd|' /C calc'!A0",
                   "--by", "ana", "--role", "credit_manager", "--db", db)
    assert added.exit_code == 0, added.stderr
    listed = credit("override", "list", "--csv", "--db", db)
    assert listed.exit_code == 0, listed.stderr
    row = next(csv.DictReader(io.StringIO(listed.stdout)))
    assert row["reason"] == "'=cmd|' /C calc'!A0"


def test_nested_values_are_escaped_after_they_become_text():
    lines = list(format_rows([{"a": ["=1"]}], ["a"], "csv"))
    assert lines == ["a", '"[""=1""]"']  # JSON text starts with '[': nothing to escape


def portfolio(tmp_path: Path, text: str, name: str = "p.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def batch(path: Path, tmp_path: Path):
    """``credit batch PATH`` without an audit trail, the results in ``tmp_path``."""
    return invoke_credit("batch", path, "--out", tmp_path / "out.jsonl", "--as-of", AS_OF,
                         "--no-audit")


def test_a_csv_with_a_byte_order_mark_is_read(tmp_path):
    path = portfolio(tmp_path, "\ufeffid,name\nC-1,Alpha GmbH\n")
    result = batch(path, tmp_path)
    assert result.exit_code == 0, result.stderr
    assert json.loads((tmp_path / "out.jsonl").read_text())["customer_id"] == "C-1"


@pytest.mark.parametrize(("row", "message"), [
    ("C-2", "1 cells where the header has 3 columns"),
    ("C-2,Beta", "2 cells where the header has 3 columns"),
    ("C-2,Beta,DE,extra", "4 cells where the header has 3 columns"),
])
def test_a_row_with_the_wrong_number_of_cells_is_an_error_for_that_row(tmp_path, row,
                                                                       message):
    path = portfolio(tmp_path, f"id,name,country\nC-1,Alpha,DE\n{row}\nC-3,Gamma,FR\n")
    result = batch(path, tmp_path)
    assert result.exit_code == 1
    assert result.stderr == f"{path}: row 2: {message}\n"
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert [json.loads(line)["customer_id"] for line in lines] == ["C-1", "C-3"]


def test_a_row_that_cannot_be_read_is_its_own_error_with_workers_too(tmp_path):
    """The reader's error for a row travels to a worker process and back as that row's
    error (it once broke the process pool)."""
    path = portfolio(tmp_path, "id,name,country\nC-1,Alpha,DE\nC-2\nC-3,Gamma,FR\n")
    result = invoke_credit("batch", path, "--out", tmp_path / "out.jsonl", "--as-of", AS_OF,
                           "--no-audit", "--workers", "2")
    assert result.exit_code == 1
    assert result.stderr == f"{path}: row 2: 1 cells where the header has 3 columns\n"
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert [json.loads(line)["customer_id"] for line in lines] == ["C-1", "C-3"]


def test_two_workers_parse_the_records_as_one_process_reads_them(tmp_path):
    """With workers the records travel as text and each worker parses its own: quoted
    cells over several lines, blank lines, a short row, a cell failing its check and text
    that is not UTF-8 give the same results, errors and audited rows as one process."""
    records = ["C-1,Alpha,DE", 'C-2,"Beta\nover two lines",FR', "", "C-3", "C-4,Delta,Germany",
               '"C-5","Epsilon ""quoted""",IT', "C-6,\u00c9ta,ES"] * 300
    data = ("id,name,country\n" + "\n".join(records) + "\n").encode()
    cut = data.index(b"C-6", len(data) // 2)  # a bad byte well past the reader's first block
    path = portfolio(tmp_path, "")
    path.write_bytes(data[:cut] + b"\xff" + data[cut:])
    runs = []
    for workers in ("1", "2"):
        out, db = tmp_path / f"out{workers}.jsonl", tmp_path / f"audit{workers}.db"
        result = invoke_credit("batch", path, "--out", out, "--as-of", AS_OF, "--db", db,
                               "--workers", workers, "--json")
        assert result.exit_code == 1
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT kind, batch_row, customer_id, decision_id FROM records "
                                "WHERE kind IN ('decision', 'row-failed') ORDER BY seq").fetchall()
        conn.close()
        summary = json.loads(result.stdout)
        runs.append((out.read_bytes(), result.stderr, rows,
                     (summary["decided"], summary["failed"])))
    assert runs[0] == runs[1]
    errors = runs[0][1].splitlines()
    assert errors[:2] == [f"{path}: row 3: 1 cells where the header has 3 columns",
                          f"{path}: row 4: /country: 'Germany' does not match '^[A-Z]{{2}}$'"]
    assert sum("can't decode byte 0xff" in line for line in errors) == 1
    assert runs[0][3][1] == len(errors) and runs[0][3][0] > 800


def test_empty_cells_are_still_cells(tmp_path):
    path = portfolio(tmp_path, "id,name,country\nC-1,Alpha,\n")
    assert batch(path, tmp_path).exit_code == 0


@pytest.mark.parametrize(("broken", "where"), [
    ('{"id": "C-2"', "2:13"),              # cut short at the end of the line
    ('{"id": "C-2",', "2:14"),
    ('{"id": "C-2", x}', "2:15"),
])
def test_json_lines_errors_name_the_line_they_are_on(tmp_path, broken, where):
    good = json.dumps({**strong_customer(), "id": "C-1"})
    path = portfolio(tmp_path, f"{good}\n{broken}\n{good}\n", "p.jsonl")
    result = batch(path, tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:{where}: ")


def _number_as_before(raw: str):
    """How a number cell was read before the fast path (the oracle)."""
    import math

    text = raw.strip()
    value = float(text)
    if not math.isfinite(value):
        raise ValueError
    whole = value.is_integer() and "." not in text and "e" not in text.lower()
    return int(value) if whole and len(text) <= 40 else value


@given(st.one_of(st.integers(0, 10 ** 20).map(str),
                 st.integers(-(10 ** 16), 10 ** 16).map(str),
                 st.floats(allow_nan=False, allow_infinity=False).map(repr),
                 st.sampled_from(["007", " 12 ", "0", "1e3", "1E3", "12.0", "٣", "²",
                                  "\x1c12.5\u2003", " 0.5", "-0.0", "1_000.5", "2.5e400",
                                  "nan", "-inf", "1" + "0" * 40, "1" + "0" * 39 + ".0"]),
                 st.text(alphabet=" +-.0123456789eE_\t\u00a0", max_size=8)))
def test_a_number_cell_reads_as_it_always_did(text):
    from engine.enrich.customer_documents import _as_number

    try:
        expected = _number_as_before(text)
    except ValueError:
        with pytest.raises(ValueError):
            _as_number(text)
        return
    got = _as_number(text)
    assert got == expected and type(got) is type(expected)


def _whole_number_as_before(raw: str) -> int:
    """How an integer cell was read before its fast path (the oracle)."""
    text = raw.strip()
    if len(text.lstrip("+-")) > 40:
        raise ValueError(f"'{raw[:20]}...' has more than 40 digits")
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"'{raw[:40]}' is not a whole number") from None


def _boolean_as_before(raw: str) -> bool:
    """How a boolean cell was read before its fast path (the oracle)."""
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError(f"'{raw[:40]}' is not true or false")


_EDGE_CELLS = ["0", "007", " 12 ", "+7", "-3", "٣", "²", "1_000", "1" + "0" * 39,
               "1" + "0" * 40, " " + "1" * 40, "true", "false", "TRUE", " false", "True ",
               "yes", "", "truE"]


@pytest.mark.parametrize("converter", ["_as_integer", "_as_boolean"])
@given(st.one_of(st.sampled_from(_EDGE_CELLS), st.integers().map(str),
                 st.text(alphabet=" +-0123456789_truefalsTRUEFALS", max_size=45)))
def test_an_integer_or_boolean_cell_reads_as_it_always_did(converter, text):
    """The fast path for plain digits (integers) and plain true/false (booleans) gives
    what the full reading gives, value and message."""
    from engine.enrich import customer_documents

    before = {"_as_integer": _whole_number_as_before,
              "_as_boolean": _boolean_as_before}[converter]
    convert = getattr(customer_documents, converter)
    try:
        expected = before(text)
    except ValueError as exc:
        with pytest.raises(ValueError) as raised:
            convert(text)
        assert str(raised.value) == str(exc)
        return
    got = convert(text)
    assert got == expected and type(got) is type(expected)


# --- the reader's fast path: a row is its list of cells -------------------------------------

def _rows_as_before(path: Path) -> list[tuple[int, object]]:
    """How a CSV's rows were read before rows became lists (the oracle): csv.DictReader,
    its cells counted against the header, each row a mapping."""
    from engine.enrich.customer_documents import column_types

    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames
        rows: list[tuple[int, object]] = [(0, column_types(fields))]
        number = 0
        while True:
            number += 1
            try:
                row = next(reader)
            except StopIteration:
                return rows
            except (csv.Error, UnicodeDecodeError) as exc:
                rows.append((number, ("error", f"{path}: row {number}", [("", str(exc))])))
                continue
            cells = len(fields) + len(row.get(None) or ()) - sum(v is None
                                                                 for v in row.values())
            if cells != len(fields):
                rows.append((number, ("error", f"{path}: row {number}", [
                    ("", f"{cells} cells where the header has {len(fields)} columns")])))
                continue
            rows.append((number, row))


def _documents(rows: list[tuple[int, object]], label: str) -> list[tuple[int, object]]:
    """Each row's document as JSON text (so the order of its keys counts too), or its
    error as (where, problems)."""
    from engine.enrich.portfolio import row_document
    from engine.errors import InputError

    types = rows[0][1]
    out = []
    for number, raw in rows[1:]:
        if isinstance(raw, tuple):
            out.append((number, raw[1:]))
            continue
        try:
            out.append((number, json.dumps(row_document(number, raw, types, label))))
        except InputError as exc:
            out.append((number, (exc.where, exc.problems)))
    return out


HEADER = ("id,financials.revenue,operating.employees,name,flags.sanctions_hit,"
          "financials.equity,attributes.tier")


@pytest.mark.parametrize("body", [
    "C-1,100,7,Alpha,true,2.5,gold\n",
    "C-1,,,,,,\n",                                          # every cell empty
    ",100,,Alpha,,,\n",                                     # the first cell empty
    "C-1,12x,7.5,Alpha,yes,inf,\n",                         # bad number, integer, boolean
    "C-1, 12 ,+7,Alpha,TRUE,-0.0,1e3\n",                    # spaces, signs, exponents
    "C-1,999999999999999,1,A,false,9999999999999999,3\n",   # 15 and 16 digits
    "C-1,1,1" + "0" * 40 + ",A,false,1" + "0" * 39 + ",x\n",  # 41 and 40 digits
    "C-1,٣,²,A,false,1_000,\n",                             # digits that are not ASCII
    "C-1,1,2,A,true,3,4\n\n\nC-2,5,6,B,false,7,8\n\n",      # blank lines are not rows
    'C-1,1,2,"A, with a comma",true,3,4\n"",\n',            # a quoted empty cell is a cell
    "C-1,1,2,A,true,3\n",                                   # a column missing
    "C-1,1,2,A,true,3,4,5\n",                               # an extra cell
    "C-1,1,2,A,true,3,4,\n",                                # an extra empty cell
    'C-1,1,2,"' + "x" * 200_000 + '",true,3,4\nC-2,1,2,B,true,3,4\n',  # past csv's limit
    'C-1,1,2,"two\nlines",true,3,4\nC-2,1,2,B,true,3,4\n',
    # lines without a quote, which are split at their commas without the csv module
    "C-1,1,2,A,true,3,4\rC-2,1,2,B,true,3,4\r\nC-3,1,2,C,true,3,4",  # \r, \r\n, none
    "C-1,1,2,Zoë \u2028 x\x1c,true,3, 4 \nC-2,1,2,B\x00,true,3,4\n",  # not line breaks
    "C-1,1,2," + "x" * 200_000 + ",true,3,4\nC-2,1,2,B,true,3,4\n",    # past csv's limit
    'C-1,1,2,A,true,3,4\nC-2,1,2,"B\r\nC",true,3,4\r\n\r\nC-3,1,2,C,true,3,4\n',
    # number cells the row's one JSON reading must leave to the converters
    "C-1,9007199254740993,9007199254740993,A,false,-9007199254740993,\n",  # past 2**53
    "C-1,9007199254740992,-9007199254740992,A,false,-0,\n",                 # on it
    "C-1,18446744073709551616,7.0,A,true,4.9e-324,\n",  # past 64 bits; a point in an integer
    'C-1,"1,5",7,A,true,"[2]",\nC-2,"1",2,B,true,"{}",\n',  # a comma, brackets, braces
    'C-1,"""1""",7,A,true,1e400,\nC-2,true,null,B,true,NaN,\n',  # quotes, words, too large
    "C-1, 12\t,\u00a07,A,true,\u0663,\nC-2,1 2,0x1,B,true,1_0,\n",  # spaces JSON has not
    'C-1,"\n12\r",7 ,A,true,1E5,\nC-2,12345678901234567890.5,-0,B,true,0.1e1,\n',
])
def test_a_csv_row_reads_as_it_always_did(tmp_path, body):
    _same_as_before(tmp_path, f"{HEADER}\n{body}")


@pytest.mark.parametrize("body", [
    "C-1,Alpha,C-9\n",   # the last cell of a name wins
    "C-1,Alpha,\n",      # even when it is empty
    "C-1,Alpha\n",       # and the header's length still counts
])
def test_a_column_named_twice_reads_as_it_always_did(tmp_path, body):
    _same_as_before(tmp_path, f"id,name,id\n{body}")


@pytest.mark.parametrize("body", [
    "1,2,C-1,3,4,5\n", ",2,C-1,3,,5\n", ",,C-1,,4,\n", "1,x,C-1,,4,5\n",
])
def test_columns_of_one_mapping_side_by_side_or_apart_read_as_they_always_did(tmp_path,
                                                                              body):
    _same_as_before(tmp_path, "financials.revenue,financials.equity,id,financials.inventory,"
                              "credit_history.dso,credit_history.months_known\n" + body)


def _same_as_before(tmp_path: Path, text: str) -> None:
    from engine.enrich.portfolio import read_rows

    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    rows = list(read_rows(path))
    before = _rows_as_before(path)
    assert rows[0] == before[0]
    got = _documents([(n, ("error", r.where, r.problems)) if isinstance(r, Exception)
                      else (n, r) for n, r in rows], str(path))
    assert got == _documents(before, str(path))
    assert len(got) == len(before) - 1 > 0


# --- the function written for a header gives what the plain path gives ----------------------

_COLUMNS = ("id", "name", "requested_amount", "exposure.current", "exposure.overdue",
            "financials.revenue", "financials.period_end", "operating.employees",
            "industry.code", "industry.growth", "flags.sanctions_hit",
            "flags.legal_events_24m", "attributes.tier", "attributes.naïve 'quoted' name",
            'attributes.a"b\\c\nd')
_CELLS = st.one_of(st.sampled_from(["", "0", "007", "12", " 12 ", "+7", "-3", "1e3", "12.0",
                                    "-0.0", "inf", "nan", "true", "FALSE", " true", "yes",
                                    "٣", "²", "1_000", "9999999999999999", "1" + "0" * 40,
                                    "2025-12-31", "Zoë", "x,y", "\n"]),
                   st.text(max_size=6))


# Number texts, most of them JSON numbers, so that the row's number cells are often read
# together by one JSON reading (see row_builder.py), and the edges of that reading.
_NUMBER_CELLS = st.one_of(
    st.integers(-(2 ** 54), 2 ** 54).map(str), st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["", "0", "-0", "-0.0", "1.0", "1E5", "0.1e1", "9007199254740992",
                     "9007199254740993", "-9007199254740993", "18446744073709551616",
                     "9007199254740991", "4503599627370496", "1" + "0" * 300, "1e308",
                     "1" + "0" * 400 + ".5", "4.9e-324", "1e400", " 7", "7\t", "\n7",
                     "\u00a07", "٣", "1,5", "[1]", '"1"', "true", "null", "1_0", "007"]))


@given(st.lists(st.sampled_from(_COLUMNS), min_size=1, unique=True).flatmap(
    lambda header: st.tuples(st.just(header),
                             st.lists(_NUMBER_CELLS, min_size=len(header),
                                      max_size=len(header)))))
def test_number_cells_read_together_read_as_a_mapping_does(header_and_cells):
    """Rows whose number cells are JSON numbers (and now and then one that is not, or is
    past what that reading may take): the same document or the same problems as the
    mapping's plain path, which reads each cell by its converter."""
    _reads_as_a_mapping(*header_and_cells)


def test_number_cells_are_read_together_only_when_the_reading_is_certain():
    """The row's one JSON reading stands in for the number converters when it qualifies,
    and the converters read every cell of a row where it does not."""
    from engine.enrich.row_builder import row_builder

    read = []

    def number(text):
        read.append(text)
        return float(text)

    def whole(text):
        read.append(text)
        return int(text)

    build = row_builder([("a", (), number, "/a"), ("b", (), whole, "/b"),
                         ("c", (), None, "/c")], {number: False, whole: True})
    assert build(["1.5", "2", "x"]) == ({"a": 1.5, "b": 2, "c": "x"}, [])
    assert build(["", "-3", ""]) == ({"b": -3}, [])
    assert read == []
    for cells in (["1.5", "2.0", "x"],      # a point where only whole numbers go
                  ["1,5", "2", "x"],        # two numbers in one cell
                  ["9007199254740993", "2", "x"], ["1.5", "true", "x"]):
        read.clear()
        build(cells)
        assert read == cells[:2], cells


@given(st.lists(st.sampled_from(_COLUMNS), min_size=1, unique=True).flatmap(
    lambda header: st.tuples(st.just(header),
                             st.lists(_CELLS, min_size=len(header), max_size=len(header)))))
def test_a_row_of_cells_reads_as_the_same_row_as_a_mapping(header_and_cells):
    """Any header (columns of one object side by side or apart, names needing quotes in
    Python) and any cells: the document written for the header gives the mapping's
    document, key order included, or the same problems in the same order."""
    _reads_as_a_mapping(*header_and_cells)


def _reads_as_a_mapping(header: list[str], cells: list[str]) -> None:
    from engine.enrich.customer_documents import column_types, document_from_row
    from engine.errors import InputError

    types = column_types(header)

    def read(row):
        try:
            return json.dumps(document_from_row(row, types, "p.csv: row 1"))
        except InputError as exc:
            return exc.where, exc.problems

    assert read(list(cells)) == read(dict(zip(header, cells, strict=True)))
