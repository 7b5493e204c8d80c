"""Reading a portfolio: a CSV (a header, then one customer a row) or a JSON Lines file (one
customer document a line), streamed row by row, and each raw row turned into a customer
document. A row that cannot be read is yielded as its error, so one bad row never stops
the rest."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

from .customer_documents import InputError, column_types, document_from_row, parse_json_document


def read_rows(path: str | Path) -> Iterator[tuple[int, object]]:
    """Yield ``(row_number, raw_row)`` from a CSV (row 1 is the first data row) or a JSON
    Lines file (row = line number), streaming. A CSV's column types come first, as row 0.
    Raises InputError for an unusable file or header."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise InputError(str(path), [("", "a portfolio must be a .csv or .jsonl file")])
    try:
        handle = path.open("r", encoding="utf-8-sig", newline="")  # a byte-order mark is no column
    except OSError as exc:
        raise InputError(str(path), [("", exc.strerror or "cannot open the file")]) from None
    with handle:
        if suffix == ".csv":
            yield from _csv_rows(path, handle)
        else:
            yield from _jsonl_rows(path, handle)


def _csv_rows(path: Path, handle) -> Iterator[tuple[int, object]]:
    # A row is its list of cells (cheaper to read, to check and to send to a worker than
    # the mapping csv.DictReader makes); blank lines are skipped and not counted, as
    # DictReader does. Under a header naming a column twice a row is a mapping, the last
    # cell of that name winning, as it always did.
    reader = csv.reader(handle)
    try:
        fields = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{path}:1", [("", f"unreadable header: {exc}")]) from None
    if not fields:
        return
    try:
        types = column_types(fields)
    except InputError as exc:  # name the file and its header line
        raise InputError(f"{path}:1", exc.problems) from None
    yield 0, types
    as_mapping = rows_are_mappings(fields)
    limit = csv.field_size_limit()
    number = 0
    while True:
        try:
            line = next(handle)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            number += 1
            yield number, InputError(f"{path}: row {number}", [("", str(exc))])
            continue
        cells = plain_cells(line, limit)
        if cells == []:  # a blank line is no row
            continue
        if cells is None:
            try:
                cells = next(csv.reader(_record_lines(line, handle)))
            except (csv.Error, UnicodeDecodeError) as exc:
                number += 1
                yield number, InputError(f"{path}: row {number}", [("", str(exc))])
                continue
        number += 1
        yield number, csv_row(number, cells, fields, as_mapping, path)


def plain_cells(line: str, limit: int) -> list[str] | None:
    """The cells of a record that is ``line`` alone, as the csv module reads it (``[]``
    for a blank line), where that is certain without it: the line holds no double quote,
    so the record ends with the line and the csv module cuts it at each comma, and it is
    within the module's field size limit (``limit``). None otherwise. split() does it in a
    third of the time."""
    if '"' in line or len(line) > limit:
        return None
    text = line.rstrip("\r\n")
    return text.split(",") if text else []


def _record_lines(line: str, handle) -> Iterator[str]:
    """``line`` and the lines after it, as the csv module takes them for a record that
    starts with ``line`` (a quoted field may go on over the next lines)."""
    yield line
    for more in handle:  # noqa: UP028 (``yield from`` would close the file with this)
        yield more


def csv_row(number: int, cells: list[str], fields: list[str], as_mapping: bool,
            path: str | Path) -> object:
    """Record ``number`` of a CSV portfolio as ``read_rows`` yields it: its cells (a
    mapping by column when ``as_mapping``, see ``rows_are_mappings``), or the InputError
    of a record with more or fewer cells than the header has columns."""
    if len(cells) != len(fields):
        return InputError(f"{path}: row {number}", [(
            "", f"{len(cells)} cells where the header has {len(fields)} columns")])
    return dict(zip(fields, cells, strict=True)) if as_mapping else cells


def rows_are_mappings(fields: list[str]) -> bool:
    """Whether ``read_rows`` gives the rows under this CSV header as mappings (a header
    naming a column twice: the last cell of a name wins) rather than as lists of cells.
    Any other reader of a portfolio's rows gives them the same way."""
    return len(set(fields)) != len(fields)


def _jsonl_rows(path: Path, handle) -> Iterator[tuple[int, object]]:
    number = 0
    while True:
        try:
            line = handle.readline()
        except UnicodeDecodeError:
            number += 1
            yield number, InputError(f"{path}:{number}", [("", "not valid UTF-8 text")])
            continue
        if not line:
            return
        number += 1
        if line.strip():
            yield number, line


def row_where(number: int, types: dict | None, label: str) -> str:
    """How an error names a row: ``FILE: row N`` for CSV, ``FILE:LINE`` for JSON Lines."""
    return f"{label}: row {number}" if types is not None else f"{label}:{number}"


def row_document(number: int, raw: object, types: dict | None, label: str) -> dict:
    """The customer document of one raw row as ``read_rows`` gave it (``types``: the CSV's
    column types, None for JSON Lines), not yet checked. Raises InputError."""
    if isinstance(raw, InputError):
        raise raw
    where = row_where(number, types, label)
    if types is not None:
        return document_from_row(raw, types, where)
    # The line's own end is not part of the document: an error at its end is on this line.
    return parse_json_document(raw.rstrip("\r\n"), where, label, number)


def estimate_rows(path: str | Path) -> int | None:
    """Rows in a portfolio, estimated from its size and its first lines."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            sample = handle.read(65536)
    except OSError:
        return None
    lines = sample.count(b"\n")
    if not lines:
        return None
    return max(1, int(size / (len(sample) / lines)))
