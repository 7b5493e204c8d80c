"""The service's worker threads (engine.serve.handover.Workers): a call handed over runs
on a worker thread, a call waited for gives its result or raises what it raised, a call
that fails is logged and the thread goes on, and stopping finishes every call queued."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from engine.serve.handover import Workers, WorkersStopped


def test_a_call_waited_for_gives_its_result_or_raises_what_it_raised():
    workers = Workers(2, "test-workers")
    workers.start()

    async def scenario():
        names = await asyncio.gather(*(workers.run(lambda: threading.current_thread().name)
                                       for _ in range(8)))
        with pytest.raises(ZeroDivisionError):
            await workers.run(lambda: 1 / 0)
        return names, await workers.run(sum, [1, 2, 3])

    try:
        names, total = asyncio.run(scenario())
    finally:
        workers.stop()
    assert set(names) <= {"test-workers_0", "test-workers_1"} and total == 6


def test_a_failing_call_is_logged_and_stopping_finishes_every_call_queued(caplog):
    workers = Workers(2, "test-workers")
    done: list[int] = []

    def slowly(number: int) -> None:
        time.sleep(0.001)
        done.append(number)

    def failing() -> None:
        raise RuntimeError("no")

    workers.start()
    with caplog.at_level(logging.ERROR, logger="credit.serve"):
        workers.call(failing)
        for number in range(50):
            workers.call(slowly, number)
        workers.stop()
    assert sorted(done) == list(range(50))
    assert "a call on a worker thread failed" in caplog.text


def test_a_call_after_stopping_is_refused_not_left_waiting():
    workers = Workers(1, "test-workers")
    workers.start()
    workers.stop()
    with pytest.raises(WorkersStopped):
        workers.call(print)
    with pytest.raises(WorkersStopped):
        asyncio.run(workers.run(print))
