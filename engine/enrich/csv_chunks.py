"""A CSV portfolio cut into chunks of whole records, as text, for the processes that
simulate it to parse: the process that reads the file only finds where each record ends,
and sends a few hundred strings a chunk instead of a few hundred parsed rows (parsing and
pickling rows cost the reading process more than finding record ends costs it).

Parsing a chunk gives exactly the rows ``enrich.portfolio.read_rows`` gives for the same
records, numbered the same way: a blank line is no row, a record the csv module cannot
read (text that is not UTF-8, a field past its size limit) or one with more or fewer cells
than the header has columns is an InputError at its row. ``tests/test_simulate_csv.py``
holds the two readers to that on a file made of such edges.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .customer_documents import InputError
from .portfolio import csv_row, plain_cells, rows_are_mappings

BLANK_LINES = ("\n", "\r\n", "\r")  # what the csv module reads as an empty record


@dataclass(frozen=True, slots=True)
class CsvChunk:
    """Consecutive rows of a CSV portfolio, from row ``first``: each item is the text of
    one record (its lines joined), or, for a record that was not UTF-8 text, the decoding
    error's message in a one-item tuple."""

    first: int
    items: list

    def rows(self, columns: list[str], path: str) -> list[tuple[int, object]]:
        """``(row_number, raw_row)`` of each record as ``read_rows`` yields them: the row
        as its list of cells (a dict by column under a header naming a column twice), or
        its InputError."""
        rows = []
        as_mapping = rows_are_mappings(columns)
        limit = csv.field_size_limit()
        plain = [plain_cells(item, limit) if item.__class__ is str else None
                 for item in self.items]
        # The csv module reads the records split() cannot, one after the other (each
        # next() starts a record afresh, so leaving the others out changes nothing).
        reader = csv.reader(item for item, cells in zip(self.items, plain, strict=True)
                            if cells is None and item.__class__ is str)
        for number, (item, cells) in enumerate(zip(self.items, plain, strict=True),
                                               self.first):
            where = f"{path}: row {number}"
            if item.__class__ is tuple:
                rows.append((number, InputError(where, [("", item[0])])))
                continue
            if cells is None:
                try:
                    cells = next(reader)
                except csv.Error as exc:
                    rows.append((number, InputError(where, [("", str(exc))])))
                    continue
            rows.append((number, csv_row(number, cells, columns, as_mapping, path)))
        return rows


def csv_chunks(path: str | Path, size: int) -> tuple[list[str], Iterator[CsvChunk]]:
    """The header's columns and the file's records in chunks of ``size``. Call only once
    ``read_rows`` has read the same header without error: this reads it again as it is."""
    with _open(path) as handle:
        columns = next(csv.reader(handle))
    return columns, _chunks(path, size)


def _open(path: str | Path):
    return Path(path).open("r", encoding="utf-8-sig", newline="")  # as read_rows opens it


def _chunks(path: str | Path, size: int) -> Iterator[CsvChunk]:
    with _open(path) as handle:
        next(csv.reader(handle))  # the header
        first, items = 1, []
        while True:
            try:
                line = next(handle)
            except StopIteration:
                break
            except UnicodeDecodeError as exc:
                items.append((str(exc),))
            else:
                if line in BLANK_LINES:
                    continue
                # No double quote: the csv module ends the record with the line. With one,
                # a quoted field may go on over the next lines: its own reader says where.
                items.append(line if '"' not in line else _record(line, handle))
            if len(items) >= size:
                yield CsvChunk(first, items)
                first, items = first + len(items), []
        if items:
            yield CsvChunk(first, items)


def _record(line: str, handle) -> str | tuple:
    """The whole record that starts with ``line``: the lines the csv module reads for it
    (up to where it fails, if it does)."""
    taken = [line]

    def lines():
        yield line
        for more in handle:
            taken.append(more)
            yield more

    try:
        next(csv.reader(lines()), None)
    except UnicodeDecodeError as exc:  # the record is lost, as read_rows loses it
        return (str(exc),)
    except csv.Error:
        pass  # parsing the same text again meets the same error, at the same row
    return "".join(taken)
