"""Deciding a whole portfolio: stream rows in, decisions out, in one or several processes,
with flat memory whatever the portfolio's size, every decision audited.

Rows are read lazily and sent to workers in chunks; at most a few chunks per worker are in
flight, so a million-row file is never held in memory. Results are written in input order.
Workers decide and serialise; the main process alone appends to the audit trail, in
transactions of ``commit_every`` records, so a crash loses at most the open transaction and
never breaks the chain. A run is identified by its portfolio's content, ruleset and as-of
date; ``resume`` finishes an interrupted run without deciding any customer twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path

from .audit.decision_records import full_decision
from .audit.store import AuditStore, NewRecord
from .canonical import canonical_json, compact_json
from .decide.redaction import scrubbed
from .enrich.csv_chunks import CsvChunk, csv_chunks
from .enrich.customer_documents import InputError, check_customer
from .enrich.plugin_manager import installed_plugins
from .enrich.portfolio import read_rows, row_document, row_where
from .enrich.settings import fixed_settings
from .errors import CreditRulesError, DecisionError
from .parallel import CHUNK_ROWS, chunked, map_chunks, start_fork_server
from .ruleset.compiler import CompiledRuleset
from .ruleset.loader import load_ruleset
from .service import decide_document, store_rulesets

DEFAULT_COMMIT_EVERY = 1000


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
    resumed: int = 0  # decided in an earlier, interrupted run and not decided again
    by_grade: Counter = field(default_factory=Counter)
    by_outcome: Counter = field(default_factory=Counter)
    limit_accepted: Decimal = Decimal(0)
    limit_referred: Decimal = Decimal(0)
    currency: str = ""
    batch_id: str | None = None
    challenger: dict | None = None  # {"ruleset", "share"} when the ruleset names one
    challenged: Counter = field(default_factory=Counter)  # "decided" / "failed"

    def add(self, outcome: str, grade: str, limit: str | None,
            challenger: str | None = None) -> None:
        """Count one decision; ``challenger`` is "decided" or "failed" when the challenger
        decided this customer too (or could not)."""
        self.decided += 1
        if challenger is not None:
            self.challenged[challenger] += 1
        self.by_grade[grade] += 1
        self.by_outcome[outcome] += 1
        if limit is not None:
            if outcome == "accept":
                self.limit_accepted += Decimal(limit)
            elif outcome == "refer":
                self.limit_referred += Decimal(limit)

    def to_dict(self) -> dict:
        data = {"decided": self.decided, "failed": self.failed, "resumed": self.resumed,
                "by_grade": dict(self.by_grade), "by_outcome": dict(self.by_outcome),
                "limit_accepted": format(self.limit_accepted, "f"),
                "limit_referred": format(self.limit_referred, "f"),
                "currency": self.currency, "batch_id": self.batch_id}
        if self.challenger is not None:
            data["challenger"] = challenger_totals(self.challenger, self.challenged)
        return data


def run_challenger(ruleset: CompiledRuleset) -> dict | None:
    """What a run's summary names of the challenger ``ruleset`` names (its identity and
    share); None without one."""
    challenger = ruleset.challenger
    if challenger is None:
        return None
    return {"ruleset": challenger.ruleset.identity, "share": challenger.share}


def challenger_totals(challenger: dict, challenged: Counter) -> dict:
    """The challenger as a run's summary shows it: who it is, and how many customers it
    decided and could not."""
    return {**challenger, "decided": challenged["decided"], "failed": challenged["failed"]}


# --- work done in each worker ---------------------------------------------------------------

@dataclass(frozen=True)
class RowSettings:
    """What a worker needs to know about the run besides the rows."""

    as_of: dt.date
    types: dict | None
    label: str
    salt: bytes | None  # None: not audited
    batch_id: str | None
    with_trace: bool
    columns: list[str] | None = None  # a CSV's header, when workers parse its record text


@fixed_settings()  # the plugins read their settings once a chunk (settings.py)
def decide_rows(ruleset: CompiledRuleset, rows: list[tuple[int, object]],
                settings: RowSettings) -> list[tuple]:
    """Enrich and decide a chunk of raw rows. Each result is ``("ok", row, line, outcome, grade,
    limit, record, challenger)`` (record None when not audited; challenger None, "decided"
    or "failed": see ``BatchSummary.add``), ``("done", ...)`` for a row an earlier run
    decided (passed through), or ``("error", row, customer_id, messages)``."""
    plugins = installed_plugins()
    results = []
    for number, raw in rows:
        if isinstance(raw, tuple):  # decided by an interrupted run: pass it through
            results.append(raw)
            continue
        where = row_where(number, settings.types, settings.label)
        customer_id = None
        try:
            doc = row_document(number, raw, settings.types, settings.label)
            customer_id = doc.get("id") if isinstance(doc.get("id"), str) else None
            check_customer(doc, where)
            decided = decide_document(ruleset, doc, settings.as_of, plugins)
            decision = decided.decision
            record, line = decided.results_line(settings.salt,
                                                with_trace=settings.with_trace,
                                                batch_id=settings.batch_id, batch_row=number,
                                                packed=False)
        except InputError as exc:
            results.append(("error", number, customer_id, exc.lines()))
            continue
        except DecisionError as exc:
            results.append(("error", number, customer_id, [f"{where}: {exc}"]))
            continue
        policy = decision.policy
        limit = None if policy is None or policy["credit_limit"] is None else \
            format(policy["credit_limit"], "f")
        results.append(("ok", number, line, decision.outcome, decision.grade, limit, record,
                        _challenged(decided.challenger)))
    return _packed(results)


def _packed(results: list[tuple]) -> list[tuple]:
    """``results`` with each decision's record packed (compressed), all in one go, after
    the chunk is decided (see ``UnpackedRecord``)."""
    for index, result in enumerate(results):
        if result[0] == "ok" and result[6] is not None:
            results[index] = (*result[:6], result[6].packed(), result[7])
    return results


def _challenged(part: dict | None) -> str | None:
    if part is None:
        return None
    return "failed" if "error" in part else "decided"


def decide_chunk(ruleset: CompiledRuleset, rows: list[tuple[int, object]] | CsvChunk,
                 settings: RowSettings) -> list[tuple]:
    """``decide_rows`` of a chunk as a batch sends it to a worker (which loaded
    ``ruleset`` once): its rows, or the text of its CSV records (parsed here, as
    ``read_rows`` would)."""
    if rows.__class__ is CsvChunk:
        rows = rows.rows(settings.columns, str(Path(settings.label)))
    return decide_rows(ruleset, rows, settings)


# --- the run ---------------------------------------------------------------------------------

def portfolio_key(path: str | Path, ruleset: CompiledRuleset, as_of: dt.date) -> str:
    """What identifies a batch: the portfolio's bytes, the ruleset and the as-of date."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"|{ruleset.hash}|{as_of.isoformat()}".encode())
    challenger = ruleset.challenger
    if challenger is not None:  # not in the ruleset's hash, but a different run
        digest.update(f"|challenger:{challenger.ruleset.hash}:{challenger.share!r}".encode())
    return digest.hexdigest()[:24]


def run_batch(portfolio: str | Path, out: str | Path, ruleset_dir: str | Path,
              as_of: dt.date, *, workers: int = 1, audit: AuditStore | None = None,
              commit_every: int = DEFAULT_COMMIT_EVERY, resume: bool = False,
              with_trace: bool = False,
              on_error: Callable[[RowError], None] | None = None,
              on_progress: Callable[[int], None] | None = None,
              on_recorded: Callable[[list[tuple]], None] | None = None) -> BatchSummary:
    """Decide every row of ``portfolio`` into ``out`` (JSON Lines, one decision per line,
    in input order, without the trace unless ``with_trace``), auditing each decision in
    ``audit`` when given. ``on_error`` hears about each skipped row; ``on_progress`` gets
    the number of rows finished so far; ``on_recorded`` gets ``[(seq, hash, record,
    decision)]`` after each audit commit. Returns the summary."""
    ruleset = load_ruleset(ruleset_dir)
    summary = BatchSummary(currency=ruleset.currency, challenger=run_challenger(ruleset))
    label = str(portfolio)
    rows = read_rows(portfolio)
    types = None
    first = next(rows, None)
    if first is not None and first[0] == 0:
        types = first[1]
        first = next(rows, None)
    if first is None:
        raise InputError(label, [("", "no rows: the portfolio has no customers")])
    if resume and audit is None:
        raise CreditRulesError("--resume needs the audit trail (drop --no-audit)")
    # The results go somewhere writable before anything is recorded.
    out_path = Path(out)
    tmp_path = None if str(out) == "-" else out_path.with_name(out_path.name + ".partial")
    try:
        opened = contextlib.nullcontext(sys.stdout) if tmp_path is None else \
            tmp_path.open("w", encoding="utf-8")
    except OSError as exc:
        raise CreditRulesError(f"{out}: cannot write the results there "
                               f"({exc.strerror or exc})") from None
    done = 0
    run = None
    try:
        with opened as sink:
            if workers > 1:  # it imports the engine while the run's start is recorded
                start_fork_server()
            run = _AuditedRun(audit, ruleset, portfolio, as_of, resume, commit_every,
                              with_trace, on_recorded) if audit else None
            summary.batch_id = run.batch_id if run else None
            columns = None
            if workers > 1 and types is not None and not (run and run.resuming):
                # The workers parse the records: this process only finds where each ends
                # (a resumed run merges stored results by row, so it reads rows here).
                rows.close()
                columns, chunks = csv_chunks(portfolio, CHUNK_ROWS)
            else:
                chunks = chunked(run.skip_done(rows, first) if run else _prepend(first, rows))
            settings = RowSettings(as_of, types, label, audit.salt if audit else None,
                                   run.batch_id if run else None, with_trace, columns)

            def consume(results: list[tuple]) -> None:
                nonlocal done
                # A chunk's lines in one write (two writes a row cost twice the CPU),
                # each before its record is added.
                lines = [result[2] for result in results if result[0] != "error"]
                if lines:
                    lines.append("")
                    sink.write("\n".join(lines))
                for result in results:
                    if result[0] == "error":
                        summary.failed += 1
                        if run:
                            run.add_failure(result[1], result[2], result[3])
                        if on_error:
                            on_error(RowError(result[1], result[2], result[3]))
                    else:
                        _, _, line, outcome, grade, limit, record, challenged = result
                        summary.add(outcome, grade, limit, challenged)
                        if result[0] == "done":
                            summary.resumed += 1
                        elif run:
                            run.add(record, line)
                    done += 1
                if on_progress:
                    on_progress(done)

            if workers <= 1:
                for chunk in chunks:
                    consume(decide_rows(ruleset, chunk, settings))
            else:
                _run_parallel(chunks, consume, ruleset, str(ruleset_dir), settings, workers)
            sink.flush()
        if run:
            run.finish(summary)
        if tmp_path is not None:
            os.replace(tmp_path, out_path)
    except BaseException:
        if run:
            run.flush()  # what was decided stays decided: --resume picks up from there
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)
        raise
    return summary


class _AuditedRun:
    """The audit side of a batch: its start and finish marks, commits every N records,
    and on resume the rows an interrupted run already decided."""

    def __init__(self, store: AuditStore, ruleset: CompiledRuleset, portfolio, as_of,
                 resume: bool, commit_every: int, with_trace: bool, on_recorded):
        self.store = store
        self.ruleset = ruleset
        self.with_trace = with_trace
        self.on_recorded = on_recorded
        self.commit_every = max(1, commit_every)
        self.pending: list[NewRecord] = []
        self.lines: list[str | None] = []  # each pending record's results line, if any
        store_rulesets(store, ruleset)
        key = portfolio_key(portfolio, ruleset, as_of)
        runs = self._runs(key)
        if resume:
            if not runs:
                raise CreditRulesError("no earlier run of this batch to resume (same "
                                       "portfolio, ruleset and as-of date)")
            number, finished = runs[-1]
            if finished:
                raise CreditRulesError(f"the last run of this batch ({key}-{number}) "
                                       "finished; nothing to resume")
            self.batch_id = f"{key}-{number}"
            self.resuming = True
            self.failed_before = {row["batch_row"] for row in store.iter_rows(
                "SELECT batch_row FROM records WHERE kind = 'row-failed' AND batch_id = ?",
                [self.batch_id])}
        else:
            number = (runs[-1][0] + 1) if runs else 1
            self.batch_id = f"{key}-{number}"
            self.resuming = False
            self.failed_before = set()
            body = canonical_json({"event": "batch-started", "batch_id": self.batch_id,
                                   "portfolio": str(portfolio), "as_of": as_of.isoformat(),
                                   "run": number})
            store.append([NewRecord("batch", body, batch_id=self.batch_id,
                                    as_of=as_of.isoformat(), ruleset_name=ruleset.name,
                                    ruleset_version=ruleset.version,
                                    ruleset_hash=ruleset.hash)])

    def _runs(self, key: str) -> list[tuple[int, bool]]:
        runs: dict[int, bool] = {}
        for row in self.store.iter_rows(
                "SELECT batch_id, body FROM records WHERE kind = 'batch' AND batch_id LIKE ? "
                "ORDER BY seq", [key + "-%"]):
            number = int(row["batch_id"].rsplit("-", 1)[1])
            event = json.loads(row["body"])["event"]
            runs[number] = runs.get(number, False) or event == "batch-finished"
        return sorted(runs.items())

    def skip_done(self, rows: Iterator, first) -> Iterator[tuple[int, object]]:
        """The input rows, with those an interrupted run decided replaced by their stored
        results (merged in row order, streaming)."""
        source = _prepend(first, rows)
        if not self.resuming:
            yield from source
            return
        done = self.store.iter_rows(
            "SELECT * FROM records "
            "WHERE kind = 'decision' AND batch_id = ? ORDER BY batch_row", [self.batch_id])
        pending = next(done, None)
        slots = None
        for number, raw in source:
            while pending is not None and pending["batch_row"] < number:
                pending = next(done, None)
            if pending is not None and pending["batch_row"] == number:
                body = self.store.body(pending)
                if self.with_trace:
                    if slots is None:
                        slots = self.store.trace_slots(pending["ruleset_hash"],
                                                       body["decision"]["engine_version"])
                    line = compact_json(full_decision(body, slots))
                else:
                    line = compact_json(body["decision"])
                yield number, ("done", number, line, pending["outcome"], pending["grade"],
                               pending["credit_limit"], None,
                               _challenged(body.get("challenger")))
                pending = next(done, None)
            else:
                yield number, raw

    def add(self, record: NewRecord, line: str | None = None) -> None:
        self.pending.append(record)
        self.lines.append(line)
        if len(self.pending) >= self.commit_every:
            self.flush()

    def add_failure(self, row: int, customer_id: str | None, messages: list[str]) -> None:
        """Record a row that could not be decided (once, even when a resumed run meets it
        again), with why; what a message says of a redacted field is left out."""
        if row in self.failed_before:
            return
        body = canonical_json({"event": "row-failed", "batch_id": self.batch_id,
                               "row": row, "customer_id": customer_id,
                               "errors": scrubbed(messages, self.ruleset.redact)})
        self.add(NewRecord("row-failed", body, batch_id=self.batch_id, batch_row=row,
                           customer_id=customer_id, ruleset_name=self.ruleset.name,
                           ruleset_version=self.ruleset.version,
                           ruleset_hash=self.ruleset.hash))

    def flush(self) -> None:
        records, self.pending = self.pending, []
        lines, self.lines = self.lines, []
        appended = self.store.append(records)
        if self.on_recorded and records:
            self.on_recorded([(seq, digest, record, _summary(line))
                              for (seq, digest), record, line in zip(appended, records, lines,
                                                                     strict=True)
                              if record.kind == "decision"])

    def finish(self, summary: BatchSummary) -> None:
        self.flush()
        body = canonical_json({"event": "batch-finished", "batch_id": self.batch_id,
                               "summary": summary.to_dict()})
        self.store.append([NewRecord("batch", body, batch_id=self.batch_id,
                                     ruleset_name=self.ruleset.name,
                                     ruleset_version=self.ruleset.version,
                                     ruleset_hash=self.ruleset.hash)])


def _summary(line: str) -> dict:
    """The decision summary a results line holds (it has the trace too ``--with-trace``)."""
    data = json.loads(line)
    data.pop("trace", None)
    return data


def _run_parallel(chunks, consume, ruleset, ruleset_dir, settings, workers) -> None:
    # This process decides the first chunks itself while the workers start.
    for results in map_chunks(chunks, decide_chunk, (settings,), workers=workers,
                              initializer=load_ruleset, initargs=(ruleset_dir,),
                              work_here=partial(decide_chunk, ruleset, settings=settings)):
        consume(results)


def _prepend(first, rows: Iterator) -> Iterator:
    if first is not None:
        yield first
    yield from rows


