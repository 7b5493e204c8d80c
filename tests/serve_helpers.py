"""The HTTP service under test: tokens for each role, the application in process
(Starlette's TestClient) and the real server as a subprocess on a free loopback port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from engine.serve.tokens import new_token
from tests.credit_cli import CREDIT
from tests.paths import DEFAULT_RULESET, ROOT

ROLES = {"erp": ["integrator"], "auditor": ["auditor"], "admin": ["admin"]}


def write_tokens(folder: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    """A tokens file with one token per role; returns it and each name's auth header."""
    lines, headers = [], {}
    for name, roles in ROLES.items():
        token, line = new_token(name, roles)
        lines.append(line)
        headers[name] = {"Authorization": f"Bearer {token}"}
    path = folder / "tokens.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, headers


def customer_json(customer_id: str = "C-1", **changes) -> bytes:
    """A valid customer document as a request body."""
    from tests.sample_customers import strong_customer

    return json.dumps(strong_customer(id=customer_id, **changes)).encode()


@contextlib.contextmanager
def client(folder: Path, ruleset: Path = DEFAULT_RULESET, **config) -> Iterator[tuple]:
    """(TestClient, headers by name, audit file) of the app in process, started."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette's note that it prefers httpx2
        from starlette.testclient import TestClient

    from engine.serve.app import create_app
    from engine.serve.state import ServeConfig

    tokens, headers = write_tokens(folder)
    db = folder / "serve.db"
    app = create_app(ServeConfig(db=str(db), ruleset=str(ruleset), tokens=str(tokens),
                                 **config))
    with TestClient(app, client=("127.0.0.1", 50000)) as test_client:
        yield test_client, headers, db


def free_port() -> int:
    """A loopback port no one listens on (just now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A ``credit serve`` process: its base URL, auth headers, audit file, log file."""

    process: subprocess.Popen
    url: str
    headers: dict[str, dict[str, str]]
    db: Path
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``sig`` and wait for the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def running_server(folder: Path, ruleset: Path = DEFAULT_RULESET, *args: str
                   ) -> Iterator[Server]:
    """``credit serve`` in a subprocess on 127.0.0.1, ready (readyz answered); killed at
    the end if the test did not stop it."""
    tokens, headers = write_tokens(folder)
    db, log = folder / "serve.db", folder / "serve.log"
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CREDIT_NO_ENTRY_POINTS": "1"}
    with log.open("w", encoding="utf-8") as log_handle:
        process = subprocess.Popen(
            [*CREDIT, "serve", "--tokens", str(tokens), "--db", str(db), "--ruleset",
             str(ruleset), "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=folder, env=env, stdout=log_handle, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", headers, db, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _wait_ready(server: Server, attempts: int = 300) -> None:
    for _ in range(attempts):  # bounded: 300 tries, 0.1 s apart
        if server.process.poll() is not None:
            raise AssertionError(f"the server exited ({server.process.returncode}):\n"
                                 f"{server.log_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/readyz", timeout=5).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"the server did not get ready:\n{server.log_text()}")


def wait_for(condition, attempts: int = 300) -> bool:
    """Whether ``condition()`` holds within ``attempts`` tries 0.1 s apart."""
    for _ in range(attempts):
        if condition():
            return True
        time.sleep(0.1)
    return False


PYTHON = sys.executable
