"""Audited decisions per second through ``credit serve``, and latency percentiles, at a
few concurrency levels (issue 15's target on a 2-core machine: >= 2,000 audited
decisions/s with p99 <= 20 ms at 16 concurrent clients).

Starts the real service (uvicorn, a fresh audit file in a temporary folder) on a free
port of 127.0.0.1, then for each concurrency level sends a fixed number of decision
requests (generated customers, HTTP/1.1 keep-alive, one connection per client) and
stops by itself. The load generator is an asyncio client on raw sockets in this process,
so it competes with the server for the same cores: the figures are a floor. Beside
the wall-clock figures, the CPU time a request cost the service and the load generator
(from /proc, on Linux): on a shared machine the rate and latencies follow the other
processes' load, the CPU time much less so. At the end the service is stopped with
SIGTERM and the trail is verified: every answered request is one record.

Run by hand (``make bench`` or ``python bench/bench_serve.py -n 2000``); never in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "examples")]

from generate_portfolio import customers

from engine.audit.chain import verify_file
from engine.serve.tokens import new_token


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(folder: Path, port: int, workers: int) -> subprocess.Popen:
    token, line = new_token("bench", ["integrator"])
    (folder / "tokens.jsonl").write_text(line + "\n", encoding="utf-8")
    (folder / "token").write_text(token, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CREDIT_NO_ENTRY_POINTS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from engine.cli.main import main; main()", "serve",
         "--tokens", str(folder / "tokens.jsonl"), "--db", str(folder / "bench.db"),
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning"], cwd=folder, env=env,
        stdout=subprocess.DEVNULL, stderr=open(folder / "serve.log", "w"))  # noqa: SIM115
    for _ in range(300):  # bounded wait for readiness
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the service did not start; see " + str(folder / "serve.log"))


def requests_for(token: str, count: int, port: int) -> list[bytes]:
    """``count`` ready-made HTTP requests, one generated customer each."""
    made = []
    for index, doc in enumerate(customers(seed=15, count=count)):
        doc["id"] = f"B-{index:07d}"
        body = json.dumps(doc).encode()
        made.append((f"POST /v1/decisions?as_of=2026-11-30 HTTP/1.1\r\nHost: 127.0.0.1:{port}"
                     f"\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    return made


async def one_client(port: int, queue: list[bytes], latencies: list[float],
                     statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while queue:
            request = queue.pop()
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            status = int(head.split(b" ", 2)[1])
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def load(port: int, requests: list[bytes], clients: int) -> tuple[float, list, dict]:
    queue = list(requests)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    await asyncio.gather(*(one_client(port, queue, latencies, statuses)
                           for _ in range(clients)))
    return time.perf_counter() - started, latencies, statuses


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of process ``pid`` (all its threads) so far; None where
    /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def per_request_ms(before: float | None, after: float | None, count: int) -> str:
    return "-" if before is None or after is None else f"{(after - before) / count * 1000:.2f}"


def run(coroutine):
    """Run the load generator on uvloop where it is installed (the service's own event
    loop, from the serve extra): it shares the cores with the service, and on uvloop it
    costs a third to a half less CPU a request than on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=2000,
                        help="decision requests per concurrency level")
    parser.add_argument("--levels", default="1,4,16", help="concurrent clients, comma-separated")
    parser.add_argument("--workers", type=int, default=4, help="the service's --workers")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        port = free_port()
        server = start_server(folder, port, args.workers)
        try:
            token = (folder / "token").read_text()
            warm = requests_for(token, 200, port)
            run(load(port, warm, 4))  # warm up: imports, caches, first records
            answered = len(warm)
            print(f"credit serve on 127.0.0.1, {os.cpu_count()} cores, "
                  f"{args.requests:,} audited decisions per level")
            print(f"{'clients':>8} {'decisions/s':>12} {'p50 ms':>8} {'p90 ms':>8} "
                  f"{'p99 ms':>8} {'CPU ms/request: service':>24} {'load':>6}  statuses")
            for clients in levels:
                requests = requests_for(token, args.requests, port)
                served, loaded = cpu_seconds(server.pid), time.process_time()
                elapsed, latencies, statuses = run(load(port, requests, clients))
                service_cpu = per_request_ms(served, cpu_seconds(server.pid), len(latencies))
                load_cpu = per_request_ms(loaded, time.process_time(), len(latencies))
                answered += statuses.get(200, 0)
                print(f"{clients:>8} {len(latencies) / elapsed:>12,.0f} "
                      f"{statistics.median(latencies) * 1000:>8.2f} "
                      f"{percentile(latencies, 0.90) * 1000:>8.2f} "
                      f"{percentile(latencies, 0.99) * 1000:>8.2f} {service_cpu:>24} "
                      f"{load_cpu:>6}  {statuses}")
        finally:
            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=120)
        db = str(folder / "bench.db")
        recorded = sqlite3.connect(db).execute(
            "SELECT count(*) FROM records WHERE kind = 'decision'").fetchone()[0]
        report = verify_file(db)
        print(f"stopped with status {code}; {recorded:,} decision records for {answered:,} "
              f"answered requests; chain "
              f"{'verified' if report.failed_seq is None else 'BROKEN: ' + str(report.reason)}")


if __name__ == "__main__":
    main()
