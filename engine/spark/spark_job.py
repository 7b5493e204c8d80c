"""A portfolio decided on Spark: the driver reads and numbers the rows, the executors
decide them partition by partition (``partition_task``), and the driver writes the
manifest, anchors it in the SQLite trail and joins the partitions' results in input order.

Resuming: ``run.json`` in the output folder names the run (its id, the portfolio, ruleset
and as-of date, the number of partitions) before any partition starts; a rerun into the
same folder with the same portfolio, ruleset and date takes that run up again and decides
only the partitions whose audit file is not there yet (a committed partition's file is
renamed into place whole, so it is either there, complete, or not at all).

This is the only module that imports pyspark, and only inside functions."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..audit.store import AuditStore
from ..batch import challenger_totals, portfolio_key, run_challenger
from ..errors import CreditRulesError
from ..ruleset.loader import load_ruleset
from ..service import store_rulesets
from .input_parts import count_rows, read_part, remove_parts, write_parts
from .manifest import (
    MANIFEST,
    RUN,
    anchor_record,
    build_manifest,
    manifest_text,
    read_json,
)
from .parquet_chain import file_metadata, partition_name
from .partition_task import AUDIT, RESULTS, PartitionTask, run_partition, shipped_challenger

ROWS_PER_PARTITION = 5_000
RESULTS_FILE = "results.jsonl"
LOG = "spark.log"  # what the JVM and executors say on standard error


@dataclass
class SparkRunSummary:
    """What a Spark run did: counts over all partitions, and where its audit is."""

    run_id: str
    partitions: int
    resumed: int  # partitions committed by an earlier, interrupted run
    decided: int = 0
    failed: int = 0
    records: int = 0
    by_grade: Counter = field(default_factory=Counter)
    by_outcome: Counter = field(default_factory=Counter)
    limit_accepted: Decimal = Decimal(0)
    limit_referred: Decimal = Decimal(0)
    errors: list[str] = field(default_factory=list)
    manifest_sha256: str = ""
    anchor_seq: int = 0
    challenger: dict | None = None  # {"ruleset", "share"} when the ruleset names one
    challenged: Counter = field(default_factory=Counter)  # "decided" / "failed"

    def to_dict(self) -> dict:
        data = {"run_id": self.run_id, "partitions": self.partitions,
                "resumed_partitions": self.resumed, "decided": self.decided,
                "failed": self.failed, "records": self.records,
                "by_grade": dict(self.by_grade), "by_outcome": dict(self.by_outcome),
                "limit_accepted": format(self.limit_accepted, "f"),
                "limit_referred": format(self.limit_referred, "f"),
                "manifest_sha256": self.manifest_sha256, "anchor_seq": self.anchor_seq}
        if self.challenger is not None:
            data["challenger"] = challenger_totals(self.challenger, self.challenged)
        return data


def spark_session(master: str | None, log: Path | None = None):
    """A Spark session for a job: ``master`` (default: the one spark-submit gave, else
    ``local[2]``), quiet logs, and executors running this very Python and engine. With
    ``log``, the JVM started here writes its standard error there (its start-up notes and
    the executors' output never reach the user's terminal)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise CreditRulesError("spark-batch needs pyspark: pip install "
                               "'credit-rules[spark]'") from None

    engine_root = str(Path(__file__).resolve().parents[2])
    python_path = os.pathsep.join(p for p in (engine_root, os.environ.get("PYTHONPATH"))
                                  if p)
    builder = SparkSession.builder.appName("credit-rules spark-batch") \
        .config("spark.ui.enabled", "false") \
        .config("spark.ui.showConsoleProgress", "false") \
        .config("spark.executorEnv.PYTHONPATH", python_path)
    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:
        master = "local[2]"  # not under spark-submit, which names the master itself
    if master is not None:
        builder = builder.master(master)
    try:
        with _stderr_to(log):
            session = builder.getOrCreate()
    except Exception as exc:  # no Java, a bad master: Spark says so in its own types
        raise CreditRulesError(f"cannot start Spark ({_first_line(exc)})"
                               + (f"; see {log}" if log else "")) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextlib.contextmanager
def _stderr_to(log: Path | None):
    """File descriptor 2 pointed at ``log`` while a JVM is started (it keeps it)."""
    if log is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with log.open("ab") as handle:
            os.dup2(handle.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def run_spark_batch(portfolio: str | Path, out: str | Path, ruleset_dir: str | Path,
                    as_of: dt.date, *, audit: AuditStore, master: str | None = None,
                    partitions: int | None = None, spark=None) -> SparkRunSummary:
    """Decide every row of ``portfolio`` on Spark into the folder ``out`` (see the module
    docstring), anchoring the run in ``audit``. ``spark``: a session to use (else one is
    started on ``master`` and stopped at the end, unless this thread has one running)."""
    ruleset = load_ruleset(ruleset_dir)
    total, types = count_rows(portfolio)
    key = portfolio_key(portfolio, ruleset, as_of)
    folder = Path(out)
    run = _start_or_resume(folder, key, portfolio, ruleset, as_of,
                           partitions or max(2, -(-total // ROWS_PER_PARTITION)), total)
    count = run["partitions"]
    store_rulesets(audit, ruleset)  # the ruleset and body dictionary, for replay
    committed = {i for i in range(count) if (folder / AUDIT / partition_name(i)).exists()}
    task = PartitionTask(run["run_id"], str(folder.resolve()), ruleset.source.content,
                         ruleset.hash, as_of, types, str(portfolio), audit.salt,
                         run["recorded_at"], shipped_challenger(ruleset))
    if len(committed) < count:
        spark = spark or _active_session()
        own = spark is None  # a session this run starts, and stops
        session = spark_session(master, folder / LOG) if own else spark
        try:
            write_parts(portfolio, folder, count, total)
            rdd = session.sparkContext.parallelize(range(count), count)
            rdd.mapPartitionsWithIndex(_PartitionJob(task, frozenset(committed))).collect()
        except CreditRulesError:
            raise
        except Exception as exc:  # a task failed past its retries (Py4JJavaError)
            raise CreditRulesError(f"the Spark job failed ({_first_line(exc)}); see "
                                   f"{folder / LOG}; run the same command again to decide "
                                   "the partitions not committed yet") from None
        finally:
            if own:
                session.stop()
    summaries = []
    for index in range(count):
        path = folder / AUDIT / partition_name(index)
        if not path.exists():
            raise CreditRulesError(f"{path}: partition {index} was not written")
        summaries.append(json.loads(file_metadata(path)["summary"]))
    manifest = build_manifest(run, summaries)
    text = manifest_text(manifest)
    _replace_text(folder / MANIFEST, text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    (seq, _), = audit.append([anchor_record(manifest, digest)])
    _join_results(folder, count)
    remove_parts(folder)
    for leftover in [*(folder / AUDIT).glob(".*.attempt-*"),
                     *(folder / RESULTS).glob(".*.attempt-*")]:
        leftover.unlink(missing_ok=True)  # written by attempts that failed or lost the race
    summary = SparkRunSummary(run["run_id"], count, len(committed), manifest_sha256=digest,
                              anchor_seq=seq, challenger=run_challenger(ruleset))
    for part in summaries:
        summary.decided += part["decided"]
        summary.failed += part["failed"]
        summary.records += part["records"]
        summary.by_grade.update(part["by_grade"])
        summary.by_outcome.update(part["by_outcome"])
        summary.challenged.update(part.get("challenged", {}))
        summary.limit_accepted += Decimal(part["limit_accepted"])
        summary.limit_referred += Decimal(part["limit_referred"])
        summary.errors.extend(part["errors"])
    return summary


def _active_session():
    """The Spark session running in this thread (an application's, a notebook's), if any:
    a run uses it rather than stopping it at the end."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(exc).__name__


class _PartitionJob:
    """The function Spark runs on each partition (a class, so that it pickles plainly)."""

    def __init__(self, task: PartitionTask, committed: frozenset[int]):
        self.task = task
        self.committed = committed

    def __call__(self, index: int, _):
        if index in self.committed:
            return iter(())  # done by an earlier run: its file stands
        from pyspark import TaskContext

        context = TaskContext.get()
        attempt = f"{context.stageId()}-{context.taskAttemptId()}" if context else "local"
        rows = read_part(Path(self.task.out), index)  # its own part, not the driver's rows
        return iter([run_partition(index, rows, self.task, attempt)])


def _start_or_resume(folder: Path, key: str, portfolio, ruleset, as_of: dt.date,
                     partitions: int, rows: int) -> dict:
    """The run the folder holds (resumed), or a new one written to its run.json."""
    if (folder / RUN).exists():
        run = read_json(folder / RUN, "run description")
        if run.get("portfolio_key") != key:
            raise CreditRulesError(f"{folder}: holds another run (another portfolio, ruleset "
                                   "or as-of date): choose another --out")
        if (folder / MANIFEST).exists():
            raise CreditRulesError(f"{folder}: this run ({run['run_id']}) finished already")
        return run
    if folder.exists() and not folder.is_dir():
        raise CreditRulesError(f"{folder}: a file, not a folder for the run")
    if folder.exists() and any(folder.iterdir()):
        raise CreditRulesError(f"{folder}: not empty, and holds no spark-batch run")
    run = {"run_id": f"spark-{key}-{secrets.token_hex(4)}", "portfolio_key": key,
           "input": str(portfolio), "as_of": as_of.isoformat(),
           "ruleset": {"name": ruleset.name, "version": ruleset.version,
                       "hash": ruleset.hash},
           "partitions": partitions, "rows": rows,
           "recorded_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    try:
        (folder / RESULTS).mkdir(parents=True, exist_ok=True)
        (folder / AUDIT).mkdir(exist_ok=True)
    except OSError as exc:
        raise CreditRulesError(f"{folder}: cannot write there ({exc.strerror or exc})") \
            from None
    _replace_text(folder / RUN, json.dumps(run, sort_keys=True, indent=2) + "\n")
    return run


def _replace_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _join_results(folder: Path, count: int) -> None:
    """The partitions' results in one file, in input order."""
    temporary = folder / f".{RESULTS_FILE}.partial"
    with temporary.open("wb") as sink:
        for index in range(count):
            part = folder / RESULTS / partition_name(index).replace(".parquet", ".jsonl")
            with part.open("rb") as source:
                while block := source.read(1 << 20):
                    sink.write(block)
    os.replace(temporary, folder / RESULTS_FILE)
