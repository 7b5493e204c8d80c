"""Work on a stream of rows in chunks, in several processes, in input order, with memory
that stays flat: at most a few chunks per worker are in flight.

Workers are started by a fork server, never forked from the process that calls: that
process holds the audit file open, and SQLite's state (its connection, its locks, the
write-ahead log's shared memory) must never cross a fork. A worker forked from it read the
overrides register as "database disk image is malformed" on resumed batches.

The fork server outlives a run, and a process forked from it has the environment the fork
server started with. A worker takes on the caller's environment before it sets itself up
(``_set_up``), so that a setting the caller changed since (``$CREDIT_DB``, which the
overrides plugin reads) is the one its rows are decided with. A worker also ends when
the caller does, even one killed outright (``_exit_with``): its work queue would never
close, and the worker and the fork server would stay behind."""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from itertools import islice
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Future

CHUNK_ROWS = 500
IN_FLIGHT_PER_WORKER = 3
STARTING_SWITCH_INTERVAL = 0.0002  # seconds (see _start_helping)
# Imported once in the fork server, so each worker starts with them loaded (none of them
# opens a file when imported); the fast schema check and the built-in plugins (those of
# enrich.plugin_manager.BUILTIN_PLUGINS; a test holds the two lists together) a worker
# would otherwise import when it decides its first row.
PRELOAD = ["engine.batch", "engine.quality.simulate", "engine.language.fast_schema",
           "plugins.industry", "plugins.bureau_files", "plugins.bureau_http",
           "plugins.overrides", "plugins.exchange_rates"]


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
               initializer: Callable, initargs: tuple,
               work_here: Callable | None = None) -> Iterator:
    """``work(state, chunk, *args)`` for each chunk in ``workers`` processes, ``state``
    being what ``initializer(*initargs)`` returned in that process (each worker sets
    itself up once, and is sent ``work`` and ``args`` once), yielded in input order, with
    at most a few chunks per worker in flight so that memory stays flat.

    ``work_here(chunk)``, when given, does in this process what ``work`` does in a worker
    (``work`` with this process's own state and ``args``): this process then works on the
    first chunks itself while the workers start (the fork server imports the engine and
    each worker sets itself up, a few hundred milliseconds in which it would only wait;
    see ``_start_helping``)."""
    # Imported here, as in worker_context: a command that runs in one process (most do)
    # does not pay the 20 ms of importing process pools.
    from concurrent.futures import ProcessPoolExecutor

    chunks = iter(chunks)
    in_flight = workers * IN_FLIGHT_PER_WORKER
    with ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(),
                             initializer=_set_up,
                             initargs=(dict(os.environ), os.getpid(), initializer,
                                       initargs, work, args)) as pool:
        pending: deque = deque()
        if work_here is not None:
            pending.extend(_start_helping(pool, chunks, work_here, workers, in_flight))
        for chunk in chunks:
            pending.append(pool.submit(_work_on, chunk))
            while len(pending) >= in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# A worker's work, the state its initializer made and the arguments the work is called
# with besides each chunk: set once by _set_up, so that each worker has one copy of them
# for the whole run. What is worked out once per object (``per_object``: a CSV header's
# row builder, keyed by its column types) is then worked out once a worker, where a copy
# unpickled with every chunk was a new object every time (2.3 ms a chunk, 4.7 us a row).
_job: tuple[Callable, object, tuple] | None = None


def _set_up(environment: dict[str, str], caller: int, initializer: Callable,
            initargs: tuple, work: Callable, args: tuple) -> None:
    """A worker's start: the caller's environment as it was when the run began, a watch
    on the caller (``_exit_with``), then its state, ``initializer(*initargs)``, kept with
    the work it is to do on each chunk (``_work_on``)."""
    global _job
    _exit_with(caller)
    for name in os.environ.keys() - environment.keys():
        del os.environ[name]
    for name, value in environment.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
    _job = (work, initializer(*initargs), args)


def _work_on(chunk: list) -> object:
    """In a worker: ``work(state, chunk, *args)``, as ``_set_up`` kept them."""
    assert _job is not None
    work, state, args = _job
    return work(state, chunk, *args)


def _exit_with(caller: int) -> None:
    """End this worker when process ``caller`` ends. A pool's workers wait on a queue
    whose writing end each of them also holds, so a caller killed outright (SIGKILL, the
    out-of-memory killer) left them waiting for ever, and with them the fork server,
    which lives while any process it started does. Where the system cannot watch a
    process (``pidfd_open``: Linux 5.3 and later), nothing is watched."""
    try:
        watched = os.pidfd_open(caller)
    except (AttributeError, OSError):
        return

    def wait() -> None:
        import select

        select.select([watched], [], [])  # readable once the caller has ended
        os._exit(1)

    threading.Thread(target=wait, name="exit with the caller", daemon=True).start()


def _start_helping(pool, chunks: Iterator[list], work_here: Callable, workers: int,
                   in_flight: int) -> list:
    """Start ``pool``'s workers on a chunk each, and meanwhile do the first chunk here,
    then the next ones until the workers have started (at most ``in_flight`` of them, so
    that memory stays flat): the futures of what is pending, in input order (those of the
    chunks done here already have their result).

    The workers are started from a thread of its own: the pool's first submit waits
    until the fork server has imported the engine and forked a worker (a few hundred
    milliseconds), time in which this process would only wait."""
    first = next(chunks, None)
    if first is None:
        return []
    to_pool = list(islice(chunks, workers))
    futures: list[Future] = []
    failures: list[BaseException] = []

    def start() -> None:
        try:
            for chunk in to_pool:
                futures.append(pool.submit(_work_on, chunk))
        except BaseException as exc:  # raised again by the thread that waits for it
            failures.append(exc)

    starter = threading.Thread(target=start, name="start workers", daemon=True)
    switching = sys.getswitchinterval()
    if to_pool:
        # Starting a worker takes the starter thread many short steps, each waiting for
        # the interpreter lock this thread holds while it works: by default 5 ms a step.
        sys.setswitchinterval(STARTING_SWITCH_INTERVAL)
        starter.start()
    try:
        done_here = _done(work_here, first)
        later = []
        while starter.is_alive() and len(later) < in_flight:
            chunk = next(chunks, None)
            if chunk is None:
                break
            later.append(_done(work_here, chunk))
    finally:
        if to_pool:
            sys.setswitchinterval(switching)  # (joining, this thread holds no lock)
            starter.join()
    if failures:
        raise failures[0]
    return [done_here, *futures, *later]


def _done(work_here: Callable, chunk: list) -> Future:
    from concurrent.futures import Future

    done = Future()
    done.set_result(work_here(chunk))
    return done


def start_fork_server() -> None:
    """Start the fork server workers come from now, without waiting for it: it imports
    PRELOAD (about 150 ms of CPU from source) while the caller prepares its run, instead
    of after, when the caller's pool first asks it for a worker."""
    from multiprocessing import forkserver

    worker_context()
    forkserver.ensure_running()


def worker_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: from a fork server (see the module's docstring)."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context
