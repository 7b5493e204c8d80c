"""How work passes between the event loop and the service's threads: ``Workers``, the
threads that decide and read, taking calls from one queue; ``LoopFuture``, what a thread
resolves for a request waiting on the event loop.

Both replace concurrent.futures where a request pays for it: ``ThreadPoolExecutor.submit``
makes a Future (with its Condition) and takes three locks, and ``asyncio.wrap_future``
chains it to an asyncio future through two callbacks; a decision needs neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("credit.serve")


class LoopFuture:
    """What a thread resolves for a request waiting on an event loop: ``set_result`` and
    ``set_exception``, called from the thread, resolve ``waiting`` (an asyncio future)
    with one ``call_soon_threadsafe``, no concurrent Future wrapped in between (7 us of
    CPU less a request). A request cancelled meanwhile, or a loop closed, is skipped, as
    the writer skips a cancelled Future."""

    __slots__ = ("loop", "waiting")

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.waiting: asyncio.Future = loop.create_future()

    def set_result(self, result: object) -> None:
        self._call(result, None)

    def set_exception(self, error: BaseException) -> None:
        self._call(None, error)

    def cancelled(self) -> bool:
        return self.waiting.cancelled()

    def _call(self, result: object, error: BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: no one waits
            self.loop.call_soon_threadsafe(self._resolve, result, error)

    def _resolve(self, result: object, error: BaseException | None) -> None:
        if self.waiting.done():  # cancelled while the thread worked
            return
        if error is not None:
            self.waiting.set_exception(error)
        else:
            self.waiting.set_result(result)


_STOP = None


class WorkersStopped(RuntimeError):
    """A call handed to worker threads that have stopped."""


class Workers:
    """``count`` threads named ``name``_N taking calls from one queue, in order: ``call``
    hands one over and returns (a decision answers through the writer), ``run`` waits for
    one on the event loop. ``stop`` lets them finish every call queued before it; a call
    after it raises WorkersStopped rather than wait for ever."""

    def __init__(self, count: int, name: str):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stopped = False
        self._threads = [threading.Thread(target=self._serve, name=f"{name}_{index}",
                                          daemon=True) for index in range(count)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def call(self, function: Callable, *args) -> None:
        """Run ``function(*args)`` on a worker thread; what it raises is logged only."""
        if self._stopped:
            raise WorkersStopped("the worker threads are stopped")
        self._queue.put((function, args))

    async def run(self, function: Callable, *args):
        """Run ``function(*args)`` on a worker thread and wait for its result (or what it
        raised)."""
        if self._stopped:
            raise WorkersStopped("the worker threads are stopped")
        answer = LoopFuture(asyncio.get_running_loop())
        self._queue.put((_answering, (answer, function, args)))
        return await answer.waiting

    def stop(self) -> None:
        """Finish the calls queued, then end the threads."""
        self._stopped = True
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            if thread.is_alive():
                thread.join()

    def _serve(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            function, args = item
            try:
                function(*args)
            except Exception:
                log.exception("a call on a worker thread failed")


def _answering(answer: LoopFuture, function: Callable, args: tuple) -> None:
    try:
        result = function(*args)
    except BaseException as exc:  # the waiting request raises it
        answer.set_exception(exc)
    else:
        answer.set_result(result)
