"""Work on a stream of rows in chunks, in several processes, in input order, with memory
that stays flat: at most a few chunks per worker are in flight."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

CHUNK_ROWS = 500
IN_FLIGHT_PER_WORKER = 3


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
    pending: deque[Future] = deque()
    with ProcessPoolExecutor(max_workers=workers, initializer=initializer,
                             initargs=initargs) as pool:
        for chunk in chunks:
            pending.append(pool.submit(work, chunk, *args))
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
