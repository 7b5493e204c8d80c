"""credit spark-batch on real Spark (local[2], each task tried up to twice): the same bytes
as credit batch, a partitioned audit that verifies and fails clearly when altered, replay,
resuming, a task attempt committed by rename and a task retried after its worker crashed.
One Spark session for the module and small portfolios, so that the module costs well under
a minute."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.audit.store import AuditStore, NewRecord
from engine.batch import run_batch
from engine.ruleset.loader import load_ruleset
from engine.spark.manifest import MANIFEST
from engine.spark.parquet_chain import SCHEMA, chain_rows, partition_name
from engine.spark.partition_task import PartitionTask, run_partition
from engine.spark.spark_job import RESULTS_FILE, run_spark_batch, spark_session
from tests.credit_cli import CREDIT, invoke_credit
from tests.paths import DEFAULT_RULESET, ROOT

AS_OF = dt.date(2025, 12, 31)
EXAMPLE = ROOT / "examples" / "portfolio.csv"


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    # local[2, 2]: two threads, and a failed task is tried once more (as on a cluster,
    # where spark.task.maxFailures is 4; local mode otherwise gives up on the first failure)
    session = spark_session("local[2, 2]", tmp_path_factory.mktemp("spark") / "spark.log")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A small generated portfolio, as JSON Lines (the example one is CSV)."""
    path = tmp_path_factory.mktemp("generated") / "portfolio.jsonl"
    subprocess.run([sys.executable, str(ROOT / "examples" / "generate_portfolio.py"),
                    "--seed", "18", "--count", "300", "--format", "jsonl", "--out", str(path)],
                   check=True)
    return path


def _both(spark, portfolio, folder, partitions):
    """The portfolio decided by spark-batch and by credit batch, into one audit file (so
    with one redaction key); returns (run folder, audit file, batch results, summary)."""
    db = folder / "audit.db"
    with AuditStore(db) as store:
        summary = run_spark_batch(portfolio, folder / "run", DEFAULT_RULESET, AS_OF,
                                  audit=store, spark=spark, partitions=partitions)
        run_batch(portfolio, folder / "batch.jsonl", DEFAULT_RULESET, AS_OF, audit=store)
    return folder / "run", db, folder / "batch.jsonl", summary


@pytest.fixture(scope="module")
def example_run(spark, tmp_path_factory):
    return _both(spark, EXAMPLE, tmp_path_factory.mktemp("example"), 3)


@pytest.fixture(scope="module")
def generated_run(spark, generated, tmp_path_factory):
    return _both(spark, generated, tmp_path_factory.mktemp("generated-run"), 2)


def _parquet_decisions(run):
    rows = []
    for path in sorted((run / "audit").glob("*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return [(r["batch_row"], r["decision_id"], r["outcome"], r["grade"], r["credit_limit"],
             r["body_sha256"], r["body"]) for r in rows if r["kind"] == "decision"]


def _sqlite_decisions(db):
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(
            "SELECT batch_row, decision_id, outcome, grade, credit_limit, body_sha256, body "
            "FROM records WHERE kind = 'decision' ORDER BY seq")]
    finally:
        conn.close()


@pytest.mark.parametrize("which", ["example_run", "generated_run"])
def test_spark_gives_the_same_bytes_as_credit_batch(which, request):
    run, db, batch_results, summary = request.getfixturevalue(which)
    assert (run / RESULTS_FILE).read_bytes() == batch_results.read_bytes()
    spark_rows, batch_rows = _parquet_decisions(run), _sqlite_decisions(db)
    assert len(spark_rows) == summary.decided == len(batch_rows) > 0
    assert spark_rows == batch_rows  # decision ids, header values and body bytes


def test_each_partition_chain_holds_its_rows_in_order(example_run):
    run, _, _, summary = example_run
    assert summary.partitions == 3 and summary.records == 1000
    numbers = [row[0] for row in _parquet_decisions(run)]
    assert numbers == list(range(1, 1001))


def _copy(run, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(run, target)
    return target


def _verify(run, db):
    return invoke_credit("audit", "verify", "--parquet", run, "--db", db)


def test_verify_passes_on_a_run_as_written(example_run):
    run, db, _, summary = example_run
    result = _verify(run, db)
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"ok: run {summary.run_id}: 3 partitions, 1,000 records "
                             f"verified; manifest anchored as record {summary.anchor_seq} of "
                             f"{db}\n")


def test_verify_says_it_in_json_too(example_run, tmp_path):
    run, db, _, summary = example_run
    result = invoke_credit("audit", "verify", "--parquet", run, "--db", db, "--json")
    assert (result.exit_code, json.loads(result.stdout)) == (0, {
        "ok": True, "run_id": summary.run_id, "partitions": 3, "records": 1000,
        "anchor_record": summary.anchor_seq, "reason": None})
    copy = _copy(run, tmp_path)
    (copy / "audit" / partition_name(1)).unlink()
    result = invoke_credit("audit", "verify", "--parquet", copy, "--db", db, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["reason"] == \
        "partition 1 (audit/part-00001.parquet) is missing"


def _failure(result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("FAILED: "), result.stderr
    return lines[0]


def test_verify_fails_after_a_one_byte_edit_in_a_body(example_run, tmp_path):
    run, db, _, _ = example_run
    copy = _copy(run, tmp_path)
    path = copy / "audit" / partition_name(1)
    table = pq.read_table(path)
    bodies = table.column("body").to_pylist()
    body = bytearray(bodies[4])
    body[40] ^= 0x01
    bodies[4] = bytes(body)
    edited = table.set_column(table.schema.get_field_index("body"), "body",
                              pa.array(bodies, pa.binary()))
    pq.write_table(edited.cast(table.schema), path)
    assert "partition 1 (audit/part-00001.parquet) record 5: its body was changed" in \
        _failure(_verify(copy, db))


def test_verify_fails_when_a_partition_is_missing(example_run, tmp_path):
    run, db, _, _ = example_run
    copy = _copy(run, tmp_path)
    (copy / "audit" / partition_name(2)).unlink()
    assert _failure(_verify(copy, db)).endswith(
        "partition 2 (audit/part-00002.parquet) is missing")


def test_verify_fails_on_a_partition_from_another_run(generated_run, spark, generated,
                                                      tmp_path):
    run, db, _, _ = generated_run
    with AuditStore(db) as store:  # the same rows decided again: another run
        run_spark_batch(generated, tmp_path / "other", DEFAULT_RULESET, AS_OF, audit=store,
                        spark=spark, partitions=2)
    copy = _copy(run, tmp_path)
    shutil.copy(tmp_path / "other" / "audit" / partition_name(0),
                copy / "audit" / partition_name(0))
    assert "partition 0 (audit/part-00000.parquet) comes from another run" in \
        _failure(_verify(copy, db))
    assert _verify(tmp_path / "other", db).exit_code == 0


def test_verify_fails_on_a_changed_manifest_and_without_the_anchor(example_run, tmp_path):
    run, db, _, _ = example_run
    copy = _copy(run, tmp_path)
    text = (copy / MANIFEST).read_text()
    (copy / MANIFEST).write_text(text.replace('"records":334', '"records":335', 1))
    assert "the manifest was changed" in _failure(_verify(copy, db))
    other_db = tmp_path / "other.db"
    AuditStore(other_db).close()
    assert "holds no anchor for run" in _failure(_verify(run, other_db))


def test_replay_a_sample_and_all(example_run, generated_run):
    run, db, _, _ = example_run
    result = invoke_credit("replay", "--parquet", run, "--sample", "25", "--db", db)
    assert (result.exit_code, result.stdout) == (0, "25 replayed identically, 0 differed\n")
    run, db, _, summary = generated_run
    result = invoke_credit("replay", "--parquet", run, "--db", db)
    assert (result.exit_code, result.stdout) == (
        0, f"{summary.decided} replayed identically, 0 differed\n")


def test_a_rerun_decides_only_the_partitions_not_committed(example_run, spark, tmp_path):
    run, db, _, _ = example_run
    copy = _copy(run, tmp_path)
    before = pq.read_table(copy / "audit" / partition_name(1))
    for gone in (copy / MANIFEST, copy / RESULTS_FILE, copy / "audit" / partition_name(1)):
        gone.unlink()  # as a job that failed before committing partition 1 leaves it
    with AuditStore(db) as store:
        summary = run_spark_batch(EXAMPLE, copy, DEFAULT_RULESET, AS_OF, audit=store,
                                  spark=spark)
    assert (summary.partitions, summary.resumed, summary.decided) == (3, 2, 1000)
    assert pq.read_table(copy / "audit" / partition_name(1)).equals(before)
    assert (copy / RESULTS_FILE).read_bytes() == (run / RESULTS_FILE).read_bytes()
    assert _verify(copy, db).exit_code == 0
    result = invoke_credit("spark-batch", EXAMPLE, "--out", copy, "--as-of", AS_OF,
                           "--db", db)
    assert result.exit_code == 1 and "finished already" in result.stderr


def test_a_retried_task_leaves_one_chain(example_run, tmp_path):
    """Two attempts at one partition (a retry, or a speculative copy) each write their own
    attempt file; the renames leave one partition file, the same whichever came last."""
    run, db, _, _ = example_run
    manifest = json.loads((run / MANIFEST).read_text())
    ruleset = load_ruleset(DEFAULT_RULESET)
    (tmp_path / "results").mkdir()
    (tmp_path / "audit").mkdir()
    with AuditStore(db) as store:
        salt = store.salt
    task = PartitionTask(manifest["run_id"], str(tmp_path), ruleset.source.content,
                         ruleset.hash, AS_OF, None, "rows.jsonl", salt,
                         manifest["recorded_at"])
    lines = [json.dumps({"id": f"C{n}", "name": "x"}) for n in range(3)]
    rows = [(n + 1, line) for n, line in enumerate(lines)]
    first = run_partition(0, iter(rows), task, "0-1")
    table = pq.read_table(tmp_path / "audit" / partition_name(0))
    second = run_partition(0, iter(rows), task, "0-2")
    assert first == second
    assert pq.read_table(tmp_path / "audit" / partition_name(0)).equals(table)
    assert sorted(p.name for p in (tmp_path / "audit").iterdir()) == [partition_name(0)]
    assert len(list((tmp_path / "results").iterdir())) == 1


def test_a_task_retried_after_its_worker_crashed_leaves_one_chain(example_run, spark,
                                                                 tmp_path, monkeypatch):
    """The first attempt at partition 1 writes half an attempt file and kills its Python
    worker; Spark retries the task, and the run is the same as one that never failed."""
    from engine.spark import spark_job
    from tests.spark_faults import CRASHING_PARTITION, CrashFirstAttempt

    run, db, _, _ = example_run
    monkeypatch.setattr(spark_job, "_PartitionJob", CrashFirstAttempt)
    with AuditStore(db) as store:
        summary = run_spark_batch(EXAMPLE, tmp_path / "run", DEFAULT_RULESET, AS_OF,
                                  audit=store, spark=spark, partitions=3)
    assert (summary.partitions, summary.resumed, summary.decided) == (3, 0, 1000)
    tracker = spark.sparkContext.statusTracker()
    job = tracker.getJobInfo(max(tracker.getJobIdsForGroup()))
    stage = tracker.getStageInfo(job.stageIds[0])
    assert (stage.numTasks, stage.numCompletedTasks, stage.numFailedTasks) == (3, 3, 1)
    assert (tmp_path / "run" / RESULTS_FILE).read_bytes() == \
        (run / RESULTS_FILE).read_bytes()
    for folder in ("audit", "results"):
        names = sorted(p.name for p in (tmp_path / "run" / folder).iterdir())
        assert len(names) == 3 and not any(n.startswith(".") for n in names), names
    crashed = pq.read_table(tmp_path / "run" / "audit" / partition_name(CRASHING_PARTITION))
    assert crashed.column("batch_row").to_pylist() == list(range(334, 667))
    assert _verify(tmp_path / "run", db).exit_code == 0


def test_a_champion_and_its_challenger_give_what_credit_batch_gives(spark, generated,
                                                                    tmp_path):
    """The challenger travels to the executors as content: the same customers are in its
    split, its part is recorded beside the champion's decision in the same bytes as credit
    batch records it, and replay decides both again."""
    from tests.test_challenger import challenged, make_champion

    champion = make_champion(tmp_path, share=0.3)
    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        summary = run_spark_batch(generated, tmp_path / "run", champion, AS_OF, audit=store,
                                  spark=spark, partitions=2)
        batch = run_batch(generated, tmp_path / "batch.jsonl", champion, AS_OF, audit=store)
    assert summary.to_dict()["challenger"] == batch.to_dict()["challenger"]
    assert 0 < summary.challenged["decided"] < summary.decided
    assert (tmp_path / "run" / RESULTS_FILE).read_bytes() == \
        (tmp_path / "batch.jsonl").read_bytes()
    spark_rows = _parquet_decisions(tmp_path / "run")
    assert spark_rows == _sqlite_decisions(db)
    assert len(challenged(db)) == summary.challenged["decided"]  # the same bodies
    result = invoke_credit("replay", "--parquet", tmp_path / "run", "--db", db)
    assert (result.exit_code, result.stdout) == (
        0, f"{summary.decided} replayed identically, 0 differed\n")
    result = invoke_credit("spark-batch", generated, "--out", tmp_path / "cli", "--ruleset",
                           champion, "--as-of", AS_OF, "--db", db)
    assert result.exit_code == 0, result.output
    assert f"also decided {summary.challenged['decided']:,} customers (30% split)" in \
        result.stdout


def test_the_command_is_quiet_and_the_version_imports_no_spark(generated, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "CREDIT_DB": str(tmp_path / "audit.db")}
    done = subprocess.run([*CREDIT, "spark-batch", str(generated), "--out",
                           str(tmp_path / "run"), "--as-of", "2025-12-31", "--partitions",
                           "2", "--json"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert (done.returncode, done.stderr) == (0, "")  # Spark's notes go to run/spark.log
    summary = json.loads(done.stdout)
    assert summary["decided"] + summary["failed"] == 300
    probe = ("import sys\nfrom engine.cli.main import main\nsys.argv = ['credit', "
             "'--version']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('pyspark', 'pyarrow', 'py4j')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, check=True)
    assert done.stdout.splitlines()[-1] == "[]"


def test_bad_rows_are_reported_and_recorded_as_credit_batch_does(spark, generated, tmp_path):
    lines = generated.read_text().splitlines(keepends=True)[:40]
    lines[7] = '{"id": "broken", \n'
    lines[20] = '{"id": "C-20", "name": 5}\n'
    portfolio = tmp_path / "bad.jsonl"
    portfolio.write_text("".join(lines))
    run, db, batch_results, summary = _both(spark, portfolio, tmp_path, 2)
    assert (summary.decided, summary.failed) == (38, 2)
    assert len(summary.errors) >= 2 and summary.errors[0].startswith(f"{portfolio}:8")
    assert (run / RESULTS_FILE).read_bytes() == batch_results.read_bytes()
    assert _parquet_decisions(run) == _sqlite_decisions(db)
    failed = [r for path in sorted((run / "audit").glob("*.parquet"))
              for r in pq.read_table(path).to_pylist() if r["kind"] == "row-failed"]
    conn = sqlite3.connect(db)
    recorded = [(r, json.loads(b)["errors"]) for r, b in conn.execute(
        "SELECT batch_row, body FROM records WHERE kind = 'row-failed' ORDER BY seq")]
    conn.close()
    assert [(r["batch_row"], json.loads(r["body"])["errors"]) for r in failed] == recorded
    assert _verify(run, db).exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["spark-batch", "p.csv", "--out", "run"],
     "credit: error: spark-batch needs pyspark and pyarrow: pip install "
     "'credit-rules[spark]'"),
    (["audit", "verify", "--parquet", "run"],
     "credit: error: --parquet needs pyarrow: pip install 'credit-rules[spark]'"),
])
def test_without_the_extra_one_line_says_what_to_install(args, message, tmp_path):
    probe = ("import sys\nsys.modules['pyspark'] = sys.modules['pyarrow'] = None\n"
             "import importlib.util\nimportlib.util.find_spec = lambda name, *a: None\n"
             f"from engine.cli.main import main\nsys.argv = ['credit', *{args!r}]\nmain()")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                             "CREDIT_DB": str(tmp_path / "a.db")})
    assert (done.returncode, done.stderr) == (1, message + "\n")


def test_verify_fails_on_a_partition_rewritten_with_its_chain_recomputed(example_run,
                                                                         tmp_path):
    """A grade changed and every hash after it made again: the chain holds, but its head
    is no longer the one the anchored manifest lists."""
    run, db, _, _ = example_run
    copy = _copy(run, tmp_path)
    path = copy / "audit" / partition_name(0)
    rows = pq.read_table(path).to_pylist()
    meta = pq.read_schema(path).metadata
    rows[9]["grade"] = "AAA" if rows[9]["grade"] != "AAA" else "AA"
    records = [NewRecord(**{k: r[k] for k in ("kind", "decision_id", "customer_id", "as_of",
                                              "ruleset_name", "ruleset_version",
                                              "ruleset_hash", "outcome", "grade",
                                              "credit_limit", "batch_id", "batch_row",
                                              "body_sha256")}, body=r["body"]) for r in rows]
    columns, _ = chain_rows(records, rows[0]["prev_hash"], rows[0]["recorded_at"])
    pq.write_table(pa.Table.from_pydict(columns, schema=SCHEMA.with_metadata(meta)), path)
    assert _failure(_verify(copy, db)).endswith(
        "partition 0 (audit/part-00000.parquet): its head is not the one the manifest lists "
        "(the partition was rewritten)")


def test_the_command_signs_the_head_that_anchors_the_run(spark, generated, tmp_path):
    """The command, in this process, uses the module's running session (and leaves it
    running); --checkpoint signs the trail's head, which chains the run's anchor."""
    db = tmp_path / "audit.db"
    assert invoke_credit("audit", "keygen", "--out", tmp_path / "signer.key").exit_code == 0
    result = invoke_credit("spark-batch", generated, "--out", tmp_path / "run", "--as-of",
                           AS_OF, "--db", db, "--checkpoint", tmp_path / "signer.key",
                           "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    statement = json.loads(Path(summary["checkpoint"]).read_text())
    assert statement["size"] == summary["anchor_seq"]
    result = invoke_credit("audit", "verify", "--db", db, "--head", summary["checkpoint"],
                           "--public-key", tmp_path / "signer.key.pub")
    assert result.exit_code == 0, result.output
    assert _verify(tmp_path / "run", db).exit_code == 0
    assert spark.sparkContext.parallelize([1, 2], 2).sum() == 3  # still running


def test_what_cannot_run_is_one_line_before_spark_starts(example_run, tmp_path):
    run, _, _, _ = example_run
    (tmp_path / "file").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("x")
    for out, portfolio, message in [
            (tmp_path / "file", EXAMPLE, f"{tmp_path / 'file'}: a file, not a folder"),
            (tmp_path / "full", EXAMPLE, "not empty, and holds no spark-batch run"),
            (run, ROOT / "examples" / "customers" / "bbb-distributor.json",
             "a portfolio must be a .csv or .jsonl file"),
            (tmp_path / "new", tmp_path / "missing.csv", "missing.csv")]:
        result = invoke_credit("spark-batch", portfolio, "--out", out, "--as-of", AS_OF)
        assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1, result.output
        assert message in result.stderr
    result = invoke_credit("spark-batch", EXAMPLE, "--as-of", AS_OF)
    assert result.exit_code == 2 and "Missing option '--out'" in result.stderr


def test_the_driver_hands_each_task_a_part_of_its_own_and_keeps_none(example_run):
    run, *_ = example_run
    assert not (run / "input").exists()  # the parts are gone once the run is done


def test_parts_split_the_rows_evenly_and_read_back_as_the_reader_gave_them(tmp_path):
    from engine.enrich.portfolio import read_rows
    from engine.spark.input_parts import count_rows, read_part, write_parts

    portfolio = tmp_path / "p.csv"
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines(True)
    portfolio.write_text("".join([*lines[:8], "only,two\n", *lines[8:12]]), encoding="utf-8")
    total, types = count_rows(portfolio)
    assert total == 12 and types is not None
    write_parts(portfolio, tmp_path, 5, total)
    parts = [read_part(tmp_path, index) for index in range(5)]
    assert [len(part) for part in parts] == [2, 2, 3, 2, 3]  # i * 12 // 5 boundaries
    expected = [(number, ("unreadable", raw.where, raw.problems)
                 if isinstance(raw, Exception) else raw)
                for number, raw in read_rows(portfolio) if number]
    assert [row for part in parts for row in part] == expected
    columns = len(lines[0].split(","))
    assert parts[3][0] == (8, ("unreadable", f"{portfolio}: row 8",
                               [("", f"2 cells where the header has {columns} columns")]))
