"""Shared helpers for the audit tests: building trails, changing an audit file behind the
engine's back, copying the shipped ruleset. (Running ``credit`` is tests.credit_cli's.)"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from engine.audit.body_codec import BodyReader, compress
from engine.audit.chain import genesis, record_hash
from engine.audit.store import AuditStore
from engine.canonical import canonical_json
from tests.credit_cli import invoke_credit
from tests.paths import DEFAULT_RULESET, ROOT

GENERATOR = ROOT / "examples" / "generate_portfolio.py"
EXAMPLE_PORTFOLIO = ROOT / "examples" / "portfolio.csv"
AS_OF = "2026-11-30"

HEADER_COLUMNS = ("seq", "kind", "decision_id", "customer_id", "as_of", "recorded_at",
                  "ruleset_name", "ruleset_version", "ruleset_hash", "outcome", "grade",
                  "credit_limit", "batch_id", "batch_row", "body_sha256", "prev_hash")
ALL_COLUMNS = (*HEADER_COLUMNS, "body", "hash")


def one_line_error(result) -> str:
    """The single line a failed command wrote to stderr (asserting it is one line)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def generate(path: Path, count: int, fmt: str = "csv", seed: int = 7) -> Path:
    subprocess.run([sys.executable, str(GENERATOR), "--count", str(count), "--seed",
                    str(seed), "--format", fmt, "--out", str(path)], check=True, cwd=ROOT)
    return path


def write_json(path: Path, doc: dict) -> str:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def copy_db(source: Path, target: Path) -> Path:
    """Copy a closed audit file (its WAL is checkpointed away when the last writer
    closes, so the main file is the whole trail)."""
    assert not Path(str(source) + "-wal").exists() or \
        Path(str(source) + "-wal").stat().st_size == 0
    shutil.copyfile(source, target)
    return target


FORMAT_1_TRAIL = Path(__file__).parent / "data" / "format-1-trail.db"
FORMAT_1_SALT = "format-1-fixture"  # the redaction key it was written with


def format_1_trail(target: Path) -> Path:
    """A copy of a trail written before decision bodies were compressed (see
    tests/data/make_format_1_trail.sh): a batch with challenger parts, a decision, an
    approved override, events and a monitor run with re-grades."""
    return copy_db(FORMAT_1_TRAIL, target)


def connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def tamper(db: Path, action) -> None:
    """Drop the append-only triggers, then run ``action(conn)`` in one transaction."""
    conn = connect(db)
    try:
        # Every trigger, as someone working behind the engine's back would.
        for (trigger,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("BEGIN")
        action(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()


def rows(db: Path, sql: str = "SELECT * FROM records ORDER BY seq", params=()) -> list[dict]:
    conn = connect(db)
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def read_only_rows(db: Path, sql: str, params=()) -> list[tuple]:
    """The rows of a query, as tuples, through a read-only connection."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def insert_record(conn: sqlite3.Connection, row: dict) -> None:
    marks = ", ".join("?" * len(ALL_COLUMNS))
    conn.execute(f"INSERT INTO records ({', '.join(ALL_COLUMNS)}) VALUES ({marks})",
                 [row[c] for c in ALL_COLUMNS])


def changed_body(conn: sqlite3.Connection, seq: int, change=None,
                 dumps=canonical_json) -> str | bytes:
    """Record ``seq``'s stored body after ``change(parsed JSON)``, written with ``dumps``
    and stored again in its own format, as a forger who has the engine (and so the
    dictionary) would write it. (A format-2 body holds no header value: change the
    column for those.)"""
    body = conn.execute("SELECT body FROM records WHERE seq = ?", (seq,)).fetchone()[0]
    data = json.loads(BodyReader(conn).text(body))
    if change is not None:
        change(data)
    text = dumps(data)
    return compress(text) if isinstance(body, bytes) else text


def edit_body(conn: sqlite3.Connection, seq: int, change=None, dumps=canonical_json) -> None:
    """Change record ``seq``'s stored body in place (``changed_body``), hashes untouched."""
    conn.execute("UPDATE records SET body = ? WHERE seq = ?",
                 (changed_body(conn, seq, change, dumps), seq))


def decision_bodies(db: Path) -> list[tuple[dict, dict]]:
    """Every decision record of a trail, oldest first, with its whole body."""
    with AuditStore(db, create=False) as store:
        return [(row, store.body(row)) for row in store.iter_rows(
            "SELECT * FROM records WHERE kind = 'decision' ORDER BY seq")]


def full_body(db: Path, seq: int) -> dict:
    """Record ``seq``'s whole body, as the engine reads it (either format)."""
    with AuditStore(db, create=False) as store:
        return store.body(store.record(str(seq)))


def rehash(row: dict) -> dict:
    """The row with body_sha256 and hash recomputed, as a forger who knows the scheme
    would write it."""
    row = dict(row)
    body = row["body"]
    row["body_sha256"] = hashlib.sha256(
        body if isinstance(body, bytes) else body.encode("utf-8")).hexdigest()
    row["hash"] = record_hash({c: row[c] for c in HEADER_COLUMNS})
    return row


def head(db: Path) -> str:
    result = invoke_credit("audit", "head", "--db", db)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def verify(db: Path, *args: str):
    return invoke_credit("audit", "verify", "--db", db, *args)


def copy_ruleset(tmp_path: Path, folder: str = "ruleset", manifest: dict | None = None
                 ) -> Path:
    """A copy of the shipped ruleset; ``manifest`` replaces top-level scalar lines of
    ruleset.yaml (e.g. {"version": '"1.1.0"'})."""
    target = tmp_path / folder
    shutil.copytree(DEFAULT_RULESET, target)
    path = target / "ruleset.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    for key, value in (manifest or {}).items():
        lines = [f"{key}: {value}" if line.startswith(f"{key}:") else line for line in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def check_like_a_regulator(lines: list[str]) -> None:
    """Recompute every body hash and record hash of an export, with no engine code but
    canonical JSON and base64, and follow the chain (from the first record's link to the
    trail's meta, which the export does not hold). A compressed body's hash covers its
    stored bytes; a text body's, its canonical JSON."""
    previous = None
    for number, line in enumerate(lines, start=1):
        record = json.loads(line)
        previous = record["prev_hash"] if previous is None else previous
        assert record["seq"] == number
        body = base64.b64decode(record["body_stored"]) if record["body_stored"] else \
            canonical_json(record["body"]).encode("utf-8")
        assert hashlib.sha256(body).hexdigest() == record["body_sha256"], number
        header = canonical_json({k: record[k] for k in HEADER_COLUMNS}).encode("utf-8")
        assert hashlib.sha256(header).hexdigest() == record["hash"], number
        assert record["prev_hash"] == previous
        previous = record["hash"]


def rechain_from(conn, seq: int, change) -> None:
    """Apply ``change(row)`` to record ``seq`` and recompute the chain from it on, as a
    forger who knows the scheme would: every check inside the file still passes."""
    rows = [dict(r) for r in conn.execute(
        f"SELECT {', '.join(ALL_COLUMNS)} FROM records WHERE seq >= ? ORDER BY seq", (seq,))]
    before = conn.execute("SELECT hash FROM records WHERE seq = ?", (seq - 1,)).fetchone()
    prev = before[0] if before else genesis(conn)
    for row in rows:
        if row["seq"] == seq:
            change(row)
        row["prev_hash"] = prev
        row = rehash(row)
        conn.execute(f"UPDATE records SET {', '.join(f'{c} = ?' for c in ALL_COLUMNS)} "
                     "WHERE seq = ?", (*[row[c] for c in ALL_COLUMNS], row["seq"]))
        prev = row["hash"]


def committed_decisions(db) -> int:
    """Decision records committed so far, read without disturbing the writer."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    except sqlite3.OperationalError:
        return 0
    try:
        return conn.execute("SELECT count(*) FROM records WHERE kind = 'decision'"
                            ).fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        conn.close()


def one_invoice_event(path: Path, customer_id: str = "C-1") -> Path:
    """A JSON Lines file holding one valid event (an invoice issued) for ``customer_id``."""
    path.write_text(json.dumps({"id": "EV-1", "type": "invoice_issued",
                                "customer_id": customer_id, "occurred_at": "2026-01-05",
                                "invoice_id": "INV-1", "amount": 1000,
                                "due_date": "2026-02-04"}) + "\n")
    return path


def batched_trail(folder: Path, rows: int, seed: int) -> Path:
    """An audit file holding one batch of ``rows`` generated customers."""
    db = folder / "audit.db"
    portfolio = generate(folder / "p.csv", rows, seed=seed)
    result = invoke_credit("batch", portfolio, "--out", folder / "r.jsonl", "--as-of", AS_OF,
                           "--db", db)
    assert result.exit_code == 0, result.stderr
    return db


# Where a program started by run_together waits, once its set-up is done, until all are
# ready (its last two arguments are its ready file and the go file); a function, so that
# it can sit inside the program's own ``with`` block.
WAIT_TO_GO = """
def wait_to_go():
    import os, sys, time
    ready, go = sys.argv[-2:]
    open(ready, "w").close()
    deadline = time.monotonic() + 60  # never outlive a failed test
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            sys.exit("never told to go")
        time.sleep(0.001)
"""


def run_together(folder: Path, programs: dict[str, tuple[str, list[str]]],
                 env: dict | None = None, timeout: float = 60) -> None:
    """Start each ``name: (python code, arguments)`` in its own process (the code calls
    ``wait_to_go()`` from WAIT_TO_GO when set up), let them all go at once, and assert
    each ends well within ``timeout`` seconds."""
    go = folder / "go"
    procs = {name: subprocess.Popen(
        [sys.executable, "-c", WAIT_TO_GO + code, *arguments,
         str(folder / f"{name}.ready"), str(go)],
        cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env)
        for name, (code, arguments) in programs.items()}
    deadline = time.monotonic() + 20
    while not all((folder / f"{name}.ready").exists() for name in procs):
        assert all(p.poll() is None for p in procs.values()), \
            [p.stderr.read() for p in procs.values()]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    go.touch()
    for proc in procs.values():
        _, stderr = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, stderr
