"""Writing rows for people and programs: an aligned table (default), JSON, CSV or JSON
Lines, chosen by the shared ``--json`` / ``--csv`` / ``--nl`` options (as sqlite-utils'
commands have them)."""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence

import click


def output_options(command: Callable | None = None, *, streams: bool = False) -> Callable:
    """Add the output options every listing or report shares, as ``fmt``: a readable
    table (default), ``--json``, ``--csv``, and for rows that stream ``--nl`` (JSON Lines,
    one object a line). Giving two is a usage error."""
    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def with_format(*args, output_json: bool, output_csv: bool,
                        output_nl: bool = False, **kwargs):
            chosen = [name for name, given in (("json", output_json), ("csv", output_csv),
                                               ("nl", output_nl)) if given]
            if len(chosen) > 1:
                raise click.UsageError(" and ".join(f"--{c}" for c in chosen)
                                       + ": choose one")
            return command(*args, fmt=chosen[0] if chosen else "table", **kwargs)

        if streams:
            with_format = click.option("--nl", "output_nl", is_flag=True,
                                       help="Write JSON Lines, one object a line.")(with_format)
        with_format = click.option("--csv", "output_csv", is_flag=True,
                                   help="Write CSV.")(with_format)
        return click.option("--json", "output_json", is_flag=True,
                            help="Write JSON.")(with_format)
    return decorate(command) if command is not None else decorate


def format_rows(rows: Iterable[dict], columns: Sequence[str], fmt: str) -> Iterable[str]:
    """The rows as text lines in the chosen format (streamed for JSON and CSV)."""
    if fmt == "json":
        yield from _json_lines(rows)
    elif fmt == "nl":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False)
    elif fmt == "csv":
        yield from _csv_lines(rows, columns)
    else:
        yield from table_lines(list(rows), columns, terminal_width())


def _json_lines(rows: Iterable[dict]) -> Iterable[str]:
    first = True
    for row in rows:
        yield ("[" if first else ",") + json.dumps(row, ensure_ascii=False)
        first = False
    yield "[]" if first else "]"


def _csv_lines(rows: Iterable[dict], columns: Sequence[str]) -> Iterable[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    yield from _drain(buffer)
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
        yield from _drain(buffer)


def _drain(buffer: io.StringIO) -> Iterable[str]:
    """What the CSV writer put in ``buffer`` (a quoted cell may hold a newline, so this
    is one text per record, not per line)."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    if text:
        yield text[:-1] if text.endswith("\n") else text


def _cell(value: object) -> object:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP's advice): text starting
    with = + - @, a tab or a carriage return gets a leading apostrophe. A number such as
    -0.25 is left as it is: a spreadsheet reads it as a number, never a formula."""
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


MIN_COLUMN = 8  # a column is not narrowed below this to fit a terminal


def terminal_width() -> int | None:
    """The terminal's width when standard output is one; None in a pipe or a file (where
    every cell is written whole)."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def table_lines(rows: list[dict], columns: Sequence[str],
                width: int | None = None) -> Iterable[str]:
    """An aligned table; given a ``width``, the widest columns are narrowed (their cells
    cut with '…') until a line fits, as far as MIN_COLUMN allows."""
    cells = [[_text(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    if width is not None:
        while sum(widths) + 2 * (len(widths) - 1) > width:
            widest = max(range(len(widths)), key=lambda i: widths[i])
            if widths[widest] <= MIN_COLUMN:
                break
            widths[widest] -= 1
    yield "  ".join(_fit(c, w).ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    yield "  ".join("-" * w for w in widths)
    for row in cells:
        yield "  ".join(_fit(v, w).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
