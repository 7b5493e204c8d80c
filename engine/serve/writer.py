"""The one writer: a thread that owns the service's audit connection and appends what
requests bring, many requests in one transaction (group commit).

A request hands its records to ``GroupWriter.submit`` and waits on the future it gets
(or on the event loop, through a ``LoopFuture`` it passes).
The writer takes every request waiting (up to ``max_group``), stores any ruleset they
decided with, appends all their records in one transaction, keeps their idempotency keys
in it, and only then resolves each future with its records' (seq, hash): an answer is
sent only for what is committed. Keys and event ids are checked here, inside the writer,
so that two requests racing with the same key or event id append once.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field

from ..audit.body_codec import compress_all
from ..audit.decision_records import UnpackedRecord
from ..audit.events import known_event_ids
from ..audit.store import AuditStore, NewRecord
from ..errors import CreditRulesError
from ..service import store_rulesets
from .handover import LoopFuture
from .idempotency import Claim, keep, kept
from .register_watch import RegisterWatch

DEFAULT_MAX_GROUP = 256
log = logging.getLogger("credit.serve")


class WriterStopped(CreditRulesError):
    """Records were handed to a writer that is not running (stopped, or never started)."""


@dataclass
class Written:
    """What the writer did with one request's records: their (seq, hash), or, for a key
    already kept, the first request's record (``replay_of``) and its request digest; for
    events, the ids it skipped as already in the log."""

    appended: list[tuple[int, str]] = field(default_factory=list)
    replay_of: int | None = None
    first_request_sha256: str | None = None
    duplicate_events: list[str] = field(default_factory=list)


@dataclass
class _Pending:
    records: list[NewRecord | UnpackedRecord]
    rulesets: tuple
    claim: Claim | None
    event_ids: list[str] | None
    future: Future


_STOP = object()


def _settle(future: Future | LoopFuture, result: Written | None = None, *,
            error: BaseException | None = None) -> None:
    """Resolve a request's future, unless the request was cancelled meanwhile (a
    shutdown's timeout): its records are committed all the same, and the writer must not
    stop over an answer no one waits for (``set_result`` raises on a cancelled future)."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass


def _pack(group: list[_Pending]) -> None:
    """Pack the group's unpacked records, their bodies compressed in one call
    (``compress_all``): zstd lets go of the interpreter lock once for the group, where each
    deciding thread compressing its own record let go of it once a request, to one of five
    other threads, and waited to have it back. The bytes are those ``packed()`` gives."""
    unpacked = [(pending, index) for pending in group
                for index, record in enumerate(pending.records)
                if record.__class__ is UnpackedRecord]
    if not unpacked:
        return
    bodies = compress_all([pending.records[index].text for pending, index in unpacked])
    for (pending, index), body in zip(unpacked, bodies, strict=True):
        pending.records[index] = pending.records[index].with_body(body)


class GroupWriter:
    """The thread that appends to the audit file at ``path``; ``start`` it, ``submit``
    records, ``stop`` it (it commits everything submitted before it stops)."""

    def __init__(self, path: str, *, max_group: int = DEFAULT_MAX_GROUP,
                 on_commit: Callable[[int, int], None] | None = None,
                 watch: RegisterWatch | None = None):
        self.path = path
        self.max_group = max_group
        self.on_commit = on_commit  # (requests, records) after each commit
        self.watch = watch  # told of each transaction and commit (register_watch)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._opened = threading.Event()
        self._error: BaseException | None = None

    @property
    def alive(self) -> bool:
        """Whether the writer thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Open the audit file (creating it) in the writer thread; raises what opening
        raised."""
        self._thread = threading.Thread(target=self._run, name="credit-audit-writer",
                                        daemon=True)
        self._thread.start()
        self._opened.wait()
        if self._error is not None:
            raise self._error

    def submit(self, records: list[NewRecord | UnpackedRecord], *, rulesets: tuple = (),
               claim: Claim | None = None, event_ids: list[str] | None = None,
               future: Future | LoopFuture | None = None) -> Future | LoopFuture:
        """Queue records (of one request) for the next group; the future (``future``
        when given, else a new one) gives Written. ``rulesets`` are stored first;
        ``event_ids`` (one per record) drop events already in the log. A decision's record
        may come unpacked (``UnpackedRecord``): the writer packs a group's together."""
        future = Future() if future is None else future
        if not self.alive:
            _settle(future, error=WriterStopped("the audit writer is not running"))
            return future
        self._queue.put(_Pending(records, tuple(rulesets), claim, event_ids, future))
        return future

    def stop(self) -> None:
        """Commit what is queued, then end the thread and close the file."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        try:
            store = AuditStore(self.path)
        except BaseException as exc:
            self._error = exc
            self._opened.set()
            return
        self._opened.set()
        try:
            stopping = False
            while not stopping:
                item = self._queue.get()
                if item is _STOP:
                    break
                group = [item]
                while len(group) < self.max_group:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stopping = True
                        break
                    group.append(item)
                self._commit_group(store, group)
        finally:
            store.close()

    def _commit_group(self, store: AuditStore, group: list[_Pending]) -> None:
        try:
            _pack(group)
            # One transaction from the key and event-id lookups to the append: another
            # writer on the file (a second service, credit events ingest) cannot slip in.
            with store.atomic():
                results = self._commit(store, group)
                if self.watch is not None:
                    self.watch.in_transaction(store.conn, any(
                        r.kind == "override" for p in group for r in p.records))
        except Exception:
            if self.watch is not None:
                self.watch.forget()
            if len(group) == 1:
                log.exception("audit append failed")
                _settle(group[0].future, error=RuntimeError("the audit append failed"))
                return
            for pending in group:  # one request's failure must not fail the others
                self._commit_group(store, [pending])
            return
        if self.watch is not None:
            self.watch.committed(store.conn)
        for pending, written in zip(group, results, strict=True):
            _settle(pending.future, written)

    def _commit(self, store: AuditStore, group: list[_Pending]) -> list[Written]:
        stored: set[str] = set()
        for pending in group:
            for ruleset in pending.rulesets:
                if ruleset.hash not in stored:
                    store_rulesets(store, ruleset)
                    stored.add(ruleset.hash)
        results = [Written() for _ in group]
        claimed: dict[tuple[str, str], tuple[int, str]] = {}  # key -> (group index, digest)
        events_seen: set[str] = set()
        ids = [i for p in group if p.event_ids for i in p.event_ids]
        events_known = known_event_ids(store, ids) if ids else set()
        plan: list[tuple[int, list[NewRecord]]] = []
        for index, pending in enumerate(group):
            claim = pending.claim
            if claim is not None:
                first = kept(store.conn, claim.principal, claim.key)
                if first is not None:
                    results[index].replay_of = first.seq
                    results[index].first_request_sha256 = first.request_sha256
                    continue
                if (claim.principal, claim.key) in claimed:
                    claimed_index, digest = claimed[(claim.principal, claim.key)]
                    results[index].replay_of = -claimed_index - 1  # resolved below
                    results[index].first_request_sha256 = digest
                    continue
                claimed[(claim.principal, claim.key)] = (index, claim.request_sha256)
            records = pending.records
            if pending.event_ids is not None:
                records = []
                for event_id, record in zip(pending.event_ids, pending.records, strict=True):
                    if event_id in events_known or event_id in events_seen:
                        results[index].duplicate_events.append(event_id)
                    else:
                        events_seen.add(event_id)
                        records.append(record)
            plan.append((index, records))
        flat = [record for _, records in plan for record in records]
        starts: dict[int, int] = {}
        position = 0
        for index, records in plan:
            starts[index] = position
            position += len(records)

        def keep_keys(conn, appended: list[tuple[int, str]]) -> None:
            for index, _ in plan:
                claim = group[index].claim
                if claim is not None and group[index].records:
                    keep(conn, claim, appended[starts[index]][0])

        appended = store.append(flat, also=keep_keys) if flat else []
        for index, records in plan:
            results[index].appended = appended[starts[index]:starts[index] + len(records)]
        for written in results:
            if written.replay_of is not None and written.replay_of < 0:
                first = results[-written.replay_of - 1]
                written.replay_of = first.appended[0][0] if first.appended else None
        if self.on_commit is not None and flat:
            self.on_commit(len(group), len(flat))
        return results
