"""The portfolio split into the run's partitions on disk, so that the driver never holds
the portfolio: it reads the file twice, a row at a time (to count the rows, then to write
each partition's rows to a part of its own under ``DIR/input/``), and each task reads its
own part. Parts live in the run's folder, which must be shared with the executors anyway
(partitions are committed there by rename), and are removed when the run is done.

A part is JSON Lines: ``[row number, "csv", [cell, ...]]`` for a CSV row (the reader has
already checked its cells against the header; ``{column: cell}`` under a header naming a
column twice), ``[row number, "line", text]`` for a JSON Lines line (parsed on the
executor, as ``credit batch`` parses it in its workers), ``[row number, "unreadable",
where, problems]`` for a row the reader could not read. JSON, not pickle: a part is data,
and reading one runs no code whatever it holds.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from ..enrich.portfolio import read_rows
from ..errors import InputError

INPUT = "input"  # DIR/input/part-NNNNN.jsonl


def part_path(folder: Path, index: int) -> Path:
    return folder / INPUT / f"part-{index:05d}.jsonl"


def count_rows(portfolio: str | Path) -> tuple[int, dict | None]:
    """How many rows the portfolio has, and its CSV column types (None for JSON Lines);
    InputError for a file without rows."""
    total, types = 0, None
    for number, raw in read_rows(portfolio):
        if number == 0:
            types = raw
        else:
            total += 1
    if not total:
        raise InputError(str(portfolio), [("", "no rows: the portfolio has no customers")])
    return total, types


def write_parts(portfolio: str | Path, folder: Path, count: int, total: int) -> None:
    """Write the portfolio's rows into ``count`` parts, part ``i`` holding rows
    ``i * total // count`` up to the next part's first (each part written whole)."""
    (folder / INPUT).mkdir(parents=True, exist_ok=True)
    rows = _data_rows(portfolio)
    for index in range(count):
        wanted = (index + 1) * total // count - index * total // count
        target = part_path(folder, index)
        partial = target.with_name(f".{target.name}.partial")
        with partial.open("w", encoding="utf-8") as handle:
            for _ in range(wanted):
                number, raw = next(rows)
                handle.write(json.dumps(_encoded(number, raw), ensure_ascii=False) + "\n")
        os.replace(partial, target)


def read_part(folder: Path, index: int) -> list[tuple[int, object]]:
    """Part ``index``'s ``(row number, raw row)`` pairs, a row the reader could not read
    as ``("unreadable", where, problems)``, the form a task turns back into the reader's
    InputError."""
    rows = []
    with part_path(folder, index).open(encoding="utf-8") as handle:
        for line in handle:
            number, kind, *data = json.loads(line)
            if kind == "unreadable":
                rows.append((number, ("unreadable", data[0], [tuple(p) for p in data[1]])))
            else:
                rows.append((number, data[0]))
    return rows


def remove_parts(folder: Path) -> None:
    """The parts, once every partition is committed."""
    for path in (folder / INPUT).glob("*part-*"):
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty (a stray file), or gone
        (folder / INPUT).rmdir()


def _data_rows(portfolio: str | Path) -> Iterator[tuple[int, object]]:
    return ((number, raw) for number, raw in read_rows(portfolio) if number != 0)


def _encoded(number: int, raw: object) -> list:
    if isinstance(raw, InputError):
        return [number, "unreadable", raw.where, [list(p) for p in raw.problems]]
    return [number, "csv" if isinstance(raw, list | dict) else "line", raw]
