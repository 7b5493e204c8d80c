"""credit audit browse: datasette over a real audit file, started on a free port in its own
process, asked for JSON: what an auditor may see (records with facets, the canned
queries, a decision body as JSON) and what nobody may (free SQL, ``_where``, the meta
table, the file itself). Skipped where datasette (the [browse] extra) is not installed."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.audit_helpers import read_only_rows as sql
from tests.credit_cli import CREDIT, invoke_credit
from tests.credit_cli import credit_stdout as credit
from tests.order_helpers import order_trail
from tests.paths import ROOT

pytest.importorskip("datasette", reason="datasette (the [browse] extra) is not installed")

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def trail(tmp_path_factory) -> Path:
    """Decisions (format-2 bodies), order events and checks, an override and a batch of 20
    customers."""
    folder = tmp_path_factory.mktemp("browse")
    db = order_trail(folder, orders=("over-limit",))
    credit("override", "add", "CUST-10005", "--notches", "1", "--reason", "parent support",
           "--by", "ana", "--role", "credit_analyst", "--db", db)
    lines = (EXAMPLES / "portfolio.csv").read_text(encoding="utf-8").splitlines(True)
    portfolio = folder / "portfolio.csv"
    portfolio.write_text("".join(lines[:21]), encoding="utf-8")
    credit("batch", portfolio, "--out", folder / "results.jsonl", "--as-of", "2025-12-31",
           "--db", db)
    return db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(trail):
    """The base URL of `credit audit browse` over the trail, and the file's digest before."""
    before = hashlib.sha256(trail.read_bytes()).hexdigest()
    port = free_port()
    process = subprocess.Popen(
        [*CREDIT, "audit", "browse", "--db", str(trail), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CREDIT_NO_ENTRY_POINTS": "1"})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"credit audit browse did not start: {process.stderr.read()}")
            time.sleep(0.2)
    yield base, before
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def get(url: str) -> tuple[int, object]:
    """(status, JSON body or None) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, None


def test_records_are_listed_newest_first_with_facets(server, trail):
    base, _ = server
    status, page = get(f"{base}/audit/records.json?_shape=objects&_size=5")
    assert status == 200
    total = sql(trail, "SELECT count(*) FROM records")[0][0]
    assert page["filtered_table_rows_count"] == total
    assert [row["seq"] for row in page["rows"]] == list(range(total, total - 5, -1))
    assert set(page["facet_results"]) == {"kind", "grade", "outcome"}
    kinds = {f["value"]: f["count"] for f in page["facet_results"]["kind"]["results"]}
    assert kinds == dict(sql(trail, "SELECT kind, count(*) FROM records GROUP BY kind"))


def test_free_sql_where_clauses_the_meta_table_and_the_file_are_refused(server):
    base, _ = server
    assert get(f"{base}/audit.json?sql=select+*+from+meta")[0] == 403
    assert get(f"{base}/audit/records.json?_where=1%3D1")[0] == 403
    assert get(f"{base}/audit/meta.json")[0] == 403
    assert get(f"{base}/audit/meta/created_at.json")[0] == 403
    assert get(f"{base}/audit.db")[0] == 403
    status, database = get(f"{base}/audit.json")
    assert status == 200
    assert "meta" not in [t["name"] for t in database["tables"] if not t["hidden"]]


def test_columns_are_described(server):
    base, _ = server
    _, metadata = get(f"{base}/-/metadata.json")
    described = metadata["databases"]["audit"]["tables"]["records"]["columns"]
    _, table = get(f"{base}/audit/records.json?_size=1")
    assert set(described) == set(table["columns"])
    assert all(len(text) > 10 for text in described.values())


def test_the_chain_head_is_the_audit_head(server, trail):
    base, _ = server
    status, rows = get(f"{base}/audit/chain_head.json?_shape=array")
    assert status == 200
    assert rows[0]["head"] == credit("audit", "head", "--db", trail).strip()


def test_a_decision_body_reads_as_json(server, trail):
    base, _ = server
    seq, customer = sql(trail, "SELECT seq, customer_id FROM records WHERE kind = 'decision' "
                               "AND typeof(body) = 'blob' ORDER BY seq LIMIT 1")[0]
    status, [row] = get(f"{base}/audit/record.json?seq={seq}&_shape=array")
    assert status == 200 and row["kind"] == "decision"
    body = json.loads(row["body"])
    shown = json.loads(credit("audit", "show", str(seq), "--json", "--db", trail))
    assert body["input"] == shown["body"]["input"]
    assert body["input"]["id"] == customer and body["trace"] == shown["body"]["trace"]


def test_a_customers_history_overrides_and_a_batch(server, trail):
    base, _ = server
    _, history = get(f"{base}/audit/customer_history.json?customer=CUST-10005&_shape=array")
    assert [r["seq"] for r in history] == [seq for (seq,) in sql(
        trail, "SELECT seq FROM records WHERE customer_id = 'CUST-10005' ORDER BY seq")]
    _, overrides = get(f"{base}/audit/overrides.json?_shape=array")
    assert [(o["event"], o["customer_id"], o["by"], o["role"], o["value"])
            for o in overrides] == [("added", "CUST-10005", "ana", "credit_analyst", 1)]
    _, [batch] = get(f"{base}/audit/batches.json?_shape=array")
    _, [summary] = get(f"{base}/audit/batch_summary.json?batch={batch['batch_id']}"
                       "&_shape=array")
    assert summary["decisions"] == batch["decisions"] == 20
    assert summary["accepted"] + summary["referred"] + summary["rejected"] == 20
    assert summary["accepted"] == sql(
        trail, "SELECT count(*) FROM records WHERE batch_id = ? AND outcome = 'accept'",
        (batch["batch_id"],))[0][0]


def test_browsing_changes_nothing(server, trail):
    base, before = server
    get(f"{base}/audit/records.json")
    assert hashlib.sha256(trail.read_bytes()).hexdigest() == before


def test_no_audit_file_is_one_line(tmp_path):
    result = invoke_credit("audit", "browse", "--db", tmp_path / "missing.db")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"credit: error: {tmp_path / 'missing.db'}: no audit " \
        "file here"
