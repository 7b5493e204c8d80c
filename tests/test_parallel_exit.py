"""A batch killed outright (SIGKILL, the out-of-memory killer) takes its worker processes
and their fork server with it, instead of leaving them waiting for ever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.paths import ROOT

CALLER = """
import sys
from engine.parallel import map_chunks
from tests.test_parallel_exit import no_setup, sleeping
list(map_chunks(iter([[sys.argv[1]], [sys.argv[1]]]), sleeping, (), workers=2,
                initializer=no_setup, initargs=()))
"""


def no_setup() -> None:
    """A worker initializer that does nothing."""


def sleeping(_state: None, chunk: list[str]) -> list:
    """Run in a worker: say who it is and who started it (the fork server), then wait."""
    Path(chunk[0], str(os.getpid())).write_text(str(os.getppid()), encoding="utf-8")
    time.sleep(120)
    return []


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.skipif(not hasattr(os, "pidfd_open") or not Path("/proc/self/stat").exists(),
                    reason="watching a process needs pidfd_open and /proc (Linux)")
def test_workers_and_their_fork_server_end_when_the_caller_is_killed(tmp_path):
    caller = subprocess.Popen([sys.executable, "-c", CALLER, str(tmp_path)], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: len(list(tmp_path.iterdir())) == 2, 60), \
            "the workers did not start"
        workers = {int(p.name): int(p.read_text(encoding="utf-8"))
                   for p in tmp_path.iterdir()}
        caller.send_signal(signal.SIGKILL)
        caller.wait(timeout=10)
        left = {*workers, *workers.values()}  # the workers and their fork server
        assert wait_until(lambda: not any(running(pid) for pid in left), 15), \
            f"still running after the caller was killed: {sorted(filter(running, left))}"
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.wait()
