"""Account events in: ``credit events ingest FILE.jsonl`` checks each line against
``schemas/event.schema.json`` and appends it to the event log, which is the audit trail
(records of kind ``event``, chained like every other record).

Ingest is idempotent: an event id already in the log (or earlier in the same file) is
reported and skipped, never appended twice. A bad line is reported with its line number
and skipped; every good line of the file is kept. Lines are appended in transactions of
``commit_every``, so a crash loses at most the open one, and ingesting the file again
picks up where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..canonical import canonical_json
from ..enrich.customer_documents import InputError, parse_json_document
from ..language.schema_check import fast_problems
from .store import AuditStore, NewRecord

SCHEMA = "event.schema.json"
DEFAULT_COMMIT_EVERY = 1000


@dataclass
class IngestReport:
    """What an ingest did: counts, and the lines it skipped with why."""

    ingested: int = 0
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (line, event id)
    bad: list[str] = field(default_factory=list)  # one message per problem, located


def ingest_events(store: AuditStore, path: str | Path, *,
                  commit_every: int = DEFAULT_COMMIT_EVERY,
                  on_bad: Callable[[str], None] | None = None,
                  on_progress: Callable[[int], None] | None = None) -> IngestReport:
    """Append the events of a JSON Lines file to the event log; see the module docs.
    ``on_progress`` hears the number of lines read after each commit."""
    report = IngestReport()
    seen: set[str] = set()
    pending: list[tuple[int, dict]] = []

    def flush() -> None:
        ids = [event["id"] for _, event in pending]
        records = []
        # The ids are looked up in the transaction that appends: another writer (a second
        # ingest, the HTTP service) cannot append one of them in between.
        with store.atomic():
            known = known_event_ids(store, ids)
            for line, event in pending:
                if event["id"] in known:
                    report.duplicates.append((line, event["id"]))
                    continue
                records.append(event_record(event))
            store.append(records)
        report.ingested += len(records)
        pending.clear()

    for line, event, problems in _read(path):
        if problems:
            report.bad.extend(problems)
            if on_bad:
                for problem in problems:
                    on_bad(problem)
            continue
        if event["id"] in seen:
            report.duplicates.append((line, event["id"]))
            continue
        seen.add(event["id"])
        pending.append((line, event))
        if len(pending) >= commit_every:
            flush()
            if on_progress:
                on_progress(line)
    if pending:
        flush()
    return report


def event_record(event: dict) -> NewRecord:
    """The audit record of one checked event (kind ``event``)."""
    return NewRecord("event", canonical_json(event), customer_id=event["customer_id"],
                     as_of=event["occurred_at"])


def event_problems(event: object, where: str) -> list[str]:
    """Every schema violation of one event as a located line (``WHERE: POINTER: message``,
    as ingest reports a bad line); empty when the event is valid."""
    return [f"{where}: {pointer}: {message}"
            for pointer, message in fast_problems(event, SCHEMA)]


def known_event_ids(store: AuditStore, ids: list[str]) -> set[str]:
    """Those of ``ids`` already in the event log."""
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        known.update(row["id"] for row in store.iter_rows(
            f"SELECT json_extract(body, '$.id') AS id FROM records WHERE kind = 'event' "
            f"AND json_extract(body, '$.id') IN ({marks})", chunk))
    return known


def _read(path: str | Path) -> Iterator[tuple[int, dict | None, list[str]]]:
    """(line number, event or None, problems) for each non-blank line."""
    label = str(path)
    try:
        handle = Path(path).open(encoding="utf-8", newline="")  # noqa: SIM115 - the with below closes it
    except OSError as exc:
        raise InputError(label, [("", exc.strerror or "cannot open the file")]) from None
    with handle:
        number = 0
        while True:
            try:
                text = handle.readline()
            except UnicodeDecodeError:
                number += 1
                yield number, None, [f"{label}:{number}: not valid UTF-8 text"]
                continue
            if not text:
                return
            number += 1
            if not text.strip():
                continue
            try:
                event = parse_json_document(text, f"{label}:{number}", label, number)
            except InputError as exc:
                yield number, None, exc.lines()
                continue
            problems = event_problems(event, f"{label}:{number}")
            if problems:
                yield number, None, problems
                continue
            yield number, event, []


def customer_events(store: AuditStore, customer_id: str, as_of: str) -> Iterator[dict]:
    """The events of one customer that occurred on or before ``as_of`` (ISO date), in
    event time (then log order), as they were ingested."""
    for row in store.iter_rows(
            "SELECT body FROM records WHERE customer_id = ? AND kind = 'event' AND "
            "as_of <= ? ORDER BY as_of, seq", [customer_id, as_of]):
        yield json.loads(row["body"])


def has_records(store: AuditStore, customer_id: str) -> bool:
    """Whether the trail holds any record of this customer (an event, a decision...)."""
    return store.conn.execute("SELECT 1 FROM records WHERE customer_id = ? LIMIT 1",
                              (customer_id,)).fetchone() is not None
