"""Two processes writing to one audit file at once: both succeed, nothing is lost, and the
chain stays linear."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections import Counter

import pytest

from engine.audit.store import AuditStore, NewRecord
from engine.canonical import canonical_json
from tests.audit_helpers import AS_OF, generate, rows, run_together, verify
from tests.credit_cli import CREDIT
from tests.paths import ROOT

WRITER = """
import json, os, sys, time
from engine.audit.store import AuditStore, NewRecord
from engine.canonical import canonical_json
db, name, group, count = sys.argv[1:5]
group, count = int(group), int(count)
with AuditStore(db) as store:
    wait_to_go()
    for i in range(count):
        store.append([NewRecord("event", canonical_json({"customer_id": name, "writer": name,
                                                         "i": i, "j": j}),
                                customer_id=name) for j in range(group)])
        time.sleep(0.001)  # leave the other writer a gap now and then
"""


def test_two_batches_into_one_fresh_file(tmp_path):
    first = generate(tmp_path / "a.csv", 1500, seed=11)
    second = generate(tmp_path / "b.jsonl", 1500, "jsonl", seed=12)
    db = tmp_path / "audit.db"
    procs = [subprocess.Popen([*CREDIT, "batch", str(portfolio), "--out",
                               str(tmp_path / f"{portfolio.stem}.out.jsonl"), "--as-of", AS_OF,
                               "--commit-every", "10", "--db", str(db), "--json"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for portfolio in (first, second)]
    outputs = [p.communicate(timeout=60) for p in procs]
    for proc, (_, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stderr
    batch_ids = {json.loads(stdout)["batch_id"] for stdout, _ in outputs}
    assert len(batch_ids) == 2

    result = verify(db)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 3,005 records verified")
    kinds = Counter(r["kind"] for r in rows(db))
    assert kinds == {"decision": 3000, "batch": 4, "ruleset-loaded": 1}
    for batch_id in batch_ids:
        decided = rows(db, "SELECT batch_row FROM records WHERE batch_id = ? AND "
                           "kind = 'decision'", (batch_id,))
        assert sorted(r["batch_row"] for r in decided) == list(range(1, 1501))


def test_two_writers_appending_in_a_loop(tmp_path):
    db = tmp_path / "audit.db"
    plan = {"one": (1, 300), "three": (3, 100)}  # records per transaction, transactions
    run_together(tmp_path, {name: (WRITER, [str(db), name, str(group), str(count)])
                            for name, (group, count) in plan.items()})

    result = verify(db)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 600 records verified")
    records = rows(db)
    assert [r["seq"] for r in records] == list(range(1, 601))
    writers = [r["customer_id"] for r in records]
    assert Counter(writers) == {"one": 300, "three": 300}
    # The writers took turns, and each transaction's records stayed together, in order.
    assert sum(a != b for a, b in itertools.pairwise(writers)) > 1
    bodies = [json.loads(r["body"]) for r in records if r["customer_id"] == "three"]
    assert [(b["i"], b["j"]) for b in bodies] == [(i, j) for i in range(100) for j in range(3)]
    threes = [r["seq"] for r in records if r["customer_id"] == "three"]
    for start in range(0, 300, 3):
        assert threes[start + 2] - threes[start] == 2


INGEST = """
import sys
from engine.audit.events import ingest_events
from engine.audit.store import AuditStore
db, events = sys.argv[1:3]
with AuditStore(db) as store:
    wait_to_go()
    ingest_events(store, events, commit_every=3)
"""


def test_two_ingests_of_the_same_events_at_once_append_each_event_once(tmp_path):
    db = tmp_path / "audit.db"
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps({
        "id": f"E-{n}", "customer_id": f"C-{n % 7}", "type": "contact_made",
        "occurred_at": "2026-11-01", "channel": "phone"}) + "\n" for n in range(600)),
        encoding="utf-8")
    AuditStore(db).close()  # made (and migrated) before either starts
    run_together(tmp_path, {name: (INGEST, [str(db), str(events)]) for name in ("a", "b")})
    ids = [r["id"] for r in rows(db, "SELECT json_extract(body, '$.id') AS id FROM records "
                                     "WHERE kind = 'event'")]
    assert len(ids) == 600 and len(set(ids)) == 600
    assert verify(db).exit_code == 0


def test_an_atomic_block_inside_another_joins_it(tmp_path):
    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        record = NewRecord("event", canonical_json({"id": "E-1"}), customer_id="C-1")
        with pytest.raises(RuntimeError), store.atomic():
            store.append([record])  # an atomic block of its own, inside this one
            assert store.conn.in_transaction
            raise RuntimeError("the outer block fails after the inner one ended")
        assert not store.conn.in_transaction
        assert rows(db) == []  # the inner append went with the outer block
        with store.atomic():
            store.append([record])
        assert len(rows(db)) == 1
