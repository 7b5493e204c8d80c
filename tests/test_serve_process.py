"""The real ``credit serve`` in a subprocess on a free port of 127.0.0.1: concurrent
clients (every decision recorded once, the chain valid), SIGTERM with a request in
flight (it is answered and committed, exit 0) and SIGHUP reloads (good and broken)."""

from __future__ import annotations

import json
import signal
import socket
import threading

import httpx
import pytest

from engine.audit.chain import verify_file
from tests.audit_helpers import copy_ruleset, rows, verify
from tests.serve_helpers import customer_json, running_server, wait_for

CLIENTS = 50
EACH = 4


def test_fifty_concurrent_clients_each_decision_recorded_once_and_the_chain_holds(tmp_path):
    answers: list[dict] = []
    failures: list[str] = []
    lock = threading.Lock()
    with running_server(tmp_path) as server:
        go = threading.Barrier(CLIENTS)

        def client(number: int) -> None:
            with httpx.Client(base_url=server.url, headers=server.headers["erp"],
                              timeout=60) as http:
                go.wait()
                for index in range(EACH):
                    body = customer_json(f"C-{number}-{index}")
                    key = {"Idempotency-Key": f"{number}-{index}"}
                    answer = http.post("/v1/decisions?as_of=2026-11-30", content=body,
                                       headers=key)
                    retry = http.post("/v1/decisions?as_of=2026-11-30", content=body,
                                      headers=key) if index == 0 else answer
                    with lock:
                        if answer.status_code != 200 or retry.json() != answer.json():
                            failures.append(f"{number}-{index}: {answer.status_code} "
                                            f"{answer.text[:200]}")
                        answers.append(answer.json())

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        metrics = httpx.get(server.url + "/metrics").text
        assert server.stop() == 0, server.log_text()
    assert failures == []
    recorded = rows(server.db, "SELECT seq, hash, customer_id FROM records WHERE kind = "
                               "'decision' ORDER BY seq")
    assert len(recorded) == CLIENTS * EACH
    assert sorted((a["seq"], a["hash"], a["decision"]["customer_id"]) for a in answers) == \
        [(r["seq"], r["hash"], r["customer_id"]) for r in recorded]
    report = verify_file(str(server.db))
    assert report.failed_seq is None, report.reason
    assert verify(server.db).exit_code == 0
    appended = next(line for line in metrics.splitlines()
                    if line.startswith("credit_audit_records_appended_total"))
    assert float(appended.split()[1]) == CLIENTS * EACH


def _raw_request(url: str, headers: dict, body: bytes) -> tuple[socket.socket, bytes]:
    """A socket with a decision request whose headers and the start of its body are sent;
    the rest of the body is returned, to be sent later."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=60)
    head = (f"POST /v1/decisions?as_of=2026-11-30 HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: {headers['Authorization']}\r\nContent-Type: application/json"
            f"\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    half = len(body) // 2
    sock.sendall(head + body[:half])
    return sock, body[half:]


def _response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, json.loads(rest)


def test_sigterm_finishes_the_request_in_flight_commits_and_exits_0(tmp_path):
    with running_server(tmp_path) as server:
        before = httpx.post(server.url + "/v1/decisions?as_of=2026-11-30",
                            content=customer_json("C-before"), headers=server.headers["erp"])
        assert before.status_code == 200
        sock, rest = _raw_request(server.url, server.headers["erp"], customer_json("C-late"))
        server.process.send_signal(signal.SIGTERM)
        assert wait_for(lambda: "Shutting down" in server.log_text()), server.log_text()
        with pytest.raises(httpx.ConnectError):  # no new connections once stopping
            httpx.get(server.url + "/healthz", timeout=5)
        sock.sendall(rest)  # the request in flight completes...
        status, answer = _response(sock)
        sock.close()
        assert status == 200  # ... and is answered
        assert server.process.wait(timeout=60) == 0, server.log_text()
    recorded = rows(server.db, "SELECT seq, customer_id FROM records WHERE kind = "
                               "'decision' ORDER BY seq")
    assert [(r["seq"], r["customer_id"]) for r in recorded] == \
        [(before.json()["seq"], "C-before"), (answer["seq"], "C-late")]
    assert verify_file(str(server.db)).failed_seq is None
    assert "stopped; every answered request is committed" in server.log_text()


def test_sighup_reloads_a_good_ruleset_and_keeps_the_old_one_when_broken(tmp_path):
    folder = copy_ruleset(tmp_path)
    with running_server(tmp_path, folder) as server:
        def version() -> str:
            return httpx.get(server.url + "/readyz").json()["ruleset"]["version"]

        assert version() == "1.0.0"
        manifest = folder / "ruleset.yaml"
        manifest.write_text(manifest.read_text().replace("version:", "version: '1.0.1'\n#"),
                            encoding="utf-8")
        server.process.send_signal(signal.SIGHUP)
        assert wait_for(lambda: version() == "1.0.1"), server.log_text()
        decided = httpx.post(server.url + "/v1/decisions", content=customer_json(),
                             headers=server.headers["erp"])
        assert decided.json()["decision"]["ruleset"]["version"] == "1.0.1"
        grading = folder / "grading.yaml"
        grading.write_text(grading.read_text() + "\nbands: [oops\n", encoding="utf-8")
        server.process.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "reload (SIGHUP) refused" in server.log_text())
        assert "still using default 1.0.1" in server.log_text()
        assert str(grading) in server.log_text()
        assert version() == "1.0.1"
        assert server.stop() == 0
    assert "reload (SIGHUP): using default 1.0.1" in server.log_text()


def test_every_endpoint_and_error_status_over_real_http(tmp_path):
    event = {"id": "E-1", "customer_id": "C-1", "type": "invoice_issued",
             "occurred_at": "2026-11-01", "invoice_id": "I-1", "amount": 1200,
             "due_date": "2026-12-01"}
    with running_server(tmp_path) as server, \
            httpx.Client(base_url=server.url, timeout=60) as http:
        erp, auditor, admin = (server.headers[n] for n in ("erp", "auditor", "admin"))
        keyed = {**erp, "Idempotency-Key": "k-1"}
        decided = http.post("/v1/decisions?as_of=2026-11-30", content=customer_json("C-1"),
                            headers=keyed)
        statuses = {
            "decision": decided.status_code,
            "retry": http.post("/v1/decisions?as_of=2026-11-30",
                               content=customer_json("C-1"), headers=keyed).status_code,
            "key reused": http.post("/v1/decisions?as_of=2026-11-30",
                                    content=customer_json("C-2"), headers=keyed).status_code,
            "events": http.post("/v1/events", content=json.dumps(event),
                                headers=erp).status_code,
            "order": http.post("/v1/orders/check?as_of=2026-11-30", headers=erp, content=json.dumps(
                {"id": "SO-1", "customer_id": "C-1", "amount": 100})).status_code,
            "exposure": http.get("/v1/customers/C-1/exposure", headers=erp).status_code,
            "read": http.get(f"/v1/decisions/{decided.json()['seq']}",
                             headers=auditor).status_code,
            "head": http.get("/v1/audit/head", headers=auditor).status_code,
            "reload": http.post("/v1/admin/reload", headers=admin).status_code,
            "health": http.get("/healthz").status_code,
            "ready": http.get("/readyz").status_code,
            "metrics": http.get("/metrics").status_code,
            "openapi": http.get("/openapi.json").status_code,
            "no token": http.post("/v1/decisions", content=b"{}").status_code,
            "wrong role": http.post("/v1/decisions", content=b"{}",
                                    headers=auditor).status_code,
            "bad json": http.post("/v1/decisions", content=b"{", headers=erp).status_code,
            "schema": http.post("/v1/decisions", content=b"{}", headers=erp).status_code,
            "too big": http.post("/v1/decisions", content=b" " * 1_000_001,
                                 headers=erp).status_code,
            "unknown": http.get("/v1/decisions/999", headers=auditor).status_code,
        }
        assert server.stop() == 0
    assert statuses == {
        "decision": 200, "retry": 200, "key reused": 409, "events": 200, "order": 200,
        "exposure": 200, "read": 200, "head": 200, "reload": 200, "health": 200,
        "ready": 200, "metrics": 200, "openapi": 200, "no token": 401, "wrong role": 403,
        "bad json": 400, "schema": 422, "too big": 413, "unknown": 404}
    assert "Traceback" not in server.log_text()
    assert verify_file(str(server.db)).failed_seq is None


def test_sigterm_under_load_loses_no_answered_decision(tmp_path):
    answered: list[dict] = []
    lock = threading.Lock()
    some_answered = threading.Event()
    with running_server(tmp_path) as server:
        def client(number: int) -> None:
            with httpx.Client(base_url=server.url, headers=server.headers["erp"],
                              timeout=60) as http:
                for index in range(100):  # bounded; most stop at the shutdown
                    try:
                        answer = http.post("/v1/decisions?as_of=2026-11-30",
                                           content=customer_json(f"C-{number}-{index}"))
                    except httpx.HTTPError:
                        return  # the service stopped taking requests
                    if answer.status_code != 200:
                        return
                    with lock:
                        answered.append(answer.json())
                        if len(answered) >= 40:
                            some_answered.set()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        assert some_answered.wait(timeout=120)
        server.process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(timeout=120)
        assert server.process.wait(timeout=60) == 0, server.log_text()
    recorded = rows(server.db, "SELECT seq, hash FROM records WHERE kind = 'decision' "
                               "ORDER BY seq")
    assert sorted((a["seq"], a["hash"]) for a in answered) == \
        [(r["seq"], r["hash"]) for r in recorded]
    assert verify_file(str(server.db)).failed_seq is None
