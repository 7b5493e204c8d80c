"""Deciding a whole portfolio: stream rows in, decisions out, in one or several processes,
with flat memory whatever the portfolio's size.

Rows are read lazily and sent to workers in chunks; at most a few chunks per worker are in
flight, so a million-row file is never held in memory. Results are written in input order.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from .canonical import canonical_json
from .compiler import CompiledRuleset, load_ruleset
from .customer import (
    InputError,
    check_customer,
    column_types,
    document_from_row,
    parse_json_document,
)
from .errors import CreditRulesError, DecisionError
from .pipeline import decide

CHUNK_ROWS = 500
IN_FLIGHT_PER_WORKER = 3


@dataclass
class RowError:
    """A row that was not decided: where it is and why."""

    row: int
    customer_id: str | None
    messages: list[str]


@dataclass
class BatchSummary:
    """Counts of a finished batch."""

    decided: int = 0
    failed: int = 0
    by_grade: Counter = field(default_factory=Counter)
    by_outcome: Counter = field(default_factory=Counter)
    limit_accepted: Decimal = Decimal(0)
    limit_referred: Decimal = Decimal(0)
    currency: str = ""

    def add(self, outcome: str, grade: str, limit: str | None) -> None:
        self.decided += 1
        self.by_grade[grade] += 1
        self.by_outcome[outcome] += 1
        if limit is not None:
            if outcome == "accept":
                self.limit_accepted += Decimal(limit)
            elif outcome == "refer":
                self.limit_referred += Decimal(limit)

    def to_dict(self) -> dict:
        return {"decided": self.decided, "failed": self.failed,
                "by_grade": dict(self.by_grade), "by_outcome": dict(self.by_outcome),
                "limit_accepted": format(self.limit_accepted, "f"),
                "limit_referred": format(self.limit_referred, "f"),
                "currency": self.currency}


def read_rows(path: str | Path) -> Iterator[tuple[int, object]]:
    """Yield ``(row_number, raw_row)`` from a CSV (row 1 is the first data row) or a JSON
    Lines file (row = line number), streaming. Raises InputError for a bad header."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise InputError(str(path), [("", "a portfolio must be a .csv or .jsonl file")])
    try:
        handle = path.open("r", encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(str(path), [("", exc.strerror or "cannot open the file")]) from None
    with handle:
        if suffix == ".csv":
            reader = csv.DictReader(handle)
            try:
                fields = reader.fieldnames
            except (csv.Error, UnicodeDecodeError) as exc:
                raise InputError(f"{path}:1", [("", f"unreadable header: {exc}")]) from None
            if not fields:
                return
            types = column_types(fields)
            yield 0, types  # the header's column types go first
            number = 0
            while True:
                number += 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except (csv.Error, UnicodeDecodeError) as exc:
                    yield number, InputError(f"{path}: row {number}", [("", str(exc))])
                    continue
                yield number, row
        else:
            number = 0
            while True:
                try:
                    line = handle.readline()
                except UnicodeDecodeError:
                    number += 1
                    yield number, InputError(f"{path}:{number}",
                                             [("", "not valid UTF-8 text")])
                    continue
                if not line:
                    return
                number += 1
                if line.strip():
                    yield number, line


# --- work done in each worker ---------------------------------------------------------------

_worker_ruleset: CompiledRuleset | None = None


def _init_worker(ruleset_dir: str) -> None:
    global _worker_ruleset
    _worker_ruleset = load_ruleset(ruleset_dir)


def decide_rows(ruleset: CompiledRuleset, rows: list[tuple[int, object]], as_of: dt.date,
                types: dict | None, label: str) -> list[tuple]:
    """Decide a chunk of raw rows. Each result is ``("ok", json_line, outcome, grade,
    limit)`` or ``("error", row, customer_id, messages)``."""
    results = []
    for number, raw in rows:
        where = f"{label}: row {number}" if types is not None else f"{label}:{number}"
        customer_id = None
        try:
            if isinstance(raw, InputError):
                raise raw
            if types is not None:
                doc = document_from_row(raw, types, where)
            else:
                doc = parse_json_document(raw, where, label, number)
            customer_id = doc.get("id") if isinstance(doc.get("id"), str) else None
            check_customer(doc, where)
            decision = decide(ruleset, doc, as_of)
            data = decision.to_dict()
        except InputError as exc:
            results.append(("error", number, customer_id, exc.lines()))
            continue
        except DecisionError as exc:
            results.append(("error", number, customer_id, [f"{where}: {exc}"]))
            continue
        policy = data["policy"]
        results.append(("ok", canonical_json(data), data["admission"]["outcome"],
                        data["grading"]["grade"], policy and policy["credit_limit"]))
    return results


def _decide_chunk(rows, as_of, types, label):
    assert _worker_ruleset is not None
    return decide_rows(_worker_ruleset, rows, as_of, types, label)


def run_batch(portfolio: str | Path, out: str | Path, ruleset_dir: str | Path,
              as_of: dt.date, *, workers: int = 1,
              on_error: Callable[[RowError], None] | None = None,
              on_progress: Callable[[int], None] | None = None) -> BatchSummary:
    """Decide every row of ``portfolio`` into ``out`` (JSON Lines, one decision per line,
    in input order). ``on_error`` hears about each skipped row; ``on_progress`` gets the
    number of rows finished so far. Returns the summary."""
    ruleset = load_ruleset(ruleset_dir)
    summary = BatchSummary(currency=ruleset.currency)
    label = str(portfolio)
    rows = read_rows(portfolio)
    types = None
    first = next(rows, None)
    if first is not None and first[0] == 0:
        types = first[1]
        first = None
    chunks = _chunks(rows, first)
    done = 0
    out_path = Path(out)
    tmp_path = out_path.with_name(out_path.name + ".partial")
    try:
        with tmp_path.open("w", encoding="utf-8") as sink:
            def consume(results: list[tuple]) -> None:
                nonlocal done
                for result in results:
                    if result[0] == "ok":
                        sink.write(result[1])
                        sink.write("\n")
                        summary.add(result[2], result[3], result[4])
                    else:
                        summary.failed += 1
                        if on_error:
                            on_error(RowError(result[1], result[2], result[3]))
                    done += 1
                if on_progress:
                    on_progress(done)

            if workers <= 1:
                for chunk in chunks:
                    consume(decide_rows(ruleset, chunk, as_of, types, label))
            else:
                _run_parallel(chunks, consume, str(ruleset_dir), as_of, types, label, workers)
        os.replace(tmp_path, out_path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return summary


def _run_parallel(chunks, consume, ruleset_dir, as_of, types, label, workers) -> None:
    pending: deque[Future] = deque()
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(ruleset_dir,)) as pool:
        for chunk in chunks:
            pending.append(pool.submit(_decide_chunk, chunk, as_of, types, label))
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                consume(pending.popleft().result())
        while pending:
            consume(pending.popleft().result())


def _chunks(rows: Iterator, first) -> Iterator[list]:
    chunk = [first] if first is not None else []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


__all__ = ["BatchSummary", "CreditRulesError", "RowError", "decide_rows", "read_rows",
           "run_batch"]


def summary_json(summary: BatchSummary) -> str:
    """The summary as one line of JSON."""
    return json.dumps(summary.to_dict(), sort_keys=True)
