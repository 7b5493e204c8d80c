"""Work on a stream of rows in chunks, in several processes, in input order, with memory
that stays flat: at most a few chunks per worker are in flight.

Workers are started by a fork server, never forked from the process that calls: that
process holds the audit file open, and SQLite's state (its connection, its locks, the
write-ahead log's shared memory) must never cross a fork. A worker forked from it read the
overrides register as "database disk image is malformed" on resumed batches."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import multiprocessing.context

CHUNK_ROWS = 500
IN_FLIGHT_PER_WORKER = 3
# Imported once in the fork server, so each worker starts with them loaded (none of them
# opens a file when imported).
PRELOAD = ["engine.batch", "engine.quality.simulate"]


def chunked(rows: Iterator, size: int = CHUNK_ROWS) -> Iterator[list]:
    """Rows in lists of ``size``, streaming."""
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def map_chunks(chunks: Iterator[list], work: Callable, args: tuple, *, workers: int,
               initializer: Callable, initargs: tuple) -> Iterator:
    """``work(chunk, *args)`` for each chunk in ``workers`` processes (each set up once by
    ``initializer(*initargs)``), yielded in input order, with at most a few chunks per
    worker in flight so that memory stays flat."""
    # Imported here, as in worker_context: a command that runs in one process (most do)
    # does not pay the 20 ms of importing process pools.
    from concurrent.futures import ProcessPoolExecutor

    pending: deque = deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(),
                             initializer=initializer, initargs=initargs) as pool:
        for chunk in chunks:
            pending.append(pool.submit(work, chunk, *args))
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def worker_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: from a fork server (see the module's docstring)."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context
