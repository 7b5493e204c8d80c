"""Appending to the audit trail from a thread of its own, for long runs (a batch).

SQLite does its share of an append (index B-trees, WAL writes, checkpoints and their
fsync) without holding Python's GIL, so a writer thread lets that work overlap with
deciding the next customers instead of stopping them. Transactions still commit one after
another, in the order they were queued, so the trail holds a prefix of what was queued:
after a failed transaction nothing queued later is appended.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from .store import AuditError, AuditStore, NewRecord

IN_MEMORY = ":memory:"


class BackgroundAppender:
    """Queue transactions of records for a writer thread; at most ``depth`` wait at once
    (beyond that, queueing waits for the oldest). The thread writes through its own
    connection to ``store``'s file; an in-memory trail is appended at once instead."""

    def __init__(self, store: AuditStore, *, depth: int = 2):
        self.depth = max(1, depth)
        self._pending: deque[tuple[Future, object]] = deque()
        self._failed = False
        if store.path == IN_MEMORY:  # a second connection would see another database
            self._store, self._executor = store, None
        else:
            self._store = AuditStore(store.path, create=False)
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="audit-append")

    def submit(self, records: Iterable[NewRecord], token: object = None) -> list[tuple]:
        """Queue ``records`` as one transaction. Returns the transactions committed since
        the last call, oldest first, as ``(appended, token)`` with ``appended`` the
        records' ``[(seq, hash)]``. Raises what a failed append raised."""
        records = list(records)
        if self._executor is None:
            return [(self._store.append(records), token)]
        self._pending.append((self._executor.submit(self._append, records), token))
        done = []
        while self._pending and (len(self._pending) > self.depth
                                 or self._pending[0][0].done()):
            done.append(self._result())
        return done

    def drain(self) -> list[tuple]:
        """Wait for every queued transaction; returns them as ``submit`` does."""
        done = []
        while self._pending:
            done.append(self._result())
        return done

    def close(self) -> None:
        """Stop the writer thread (after what is queued) and close its connection."""
        if self._executor is None:
            return
        try:
            self._executor.shutdown(wait=True)
        finally:
            self._executor = None
            self._pending.clear()
            self._store.close()

    def _result(self) -> tuple:
        future, token = self._pending.popleft()
        return future.result(), token

    def _append(self, records: list[NewRecord]) -> list[tuple[int, str]]:
        if self._failed:
            raise AuditError(f"{self._store.path}: not appended, since an earlier "
                             "transaction of this run failed")
        try:
            return self._store.append(records)
        except BaseException:
            self._failed = True
            raise
