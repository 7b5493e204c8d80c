"""``credit spark-batch`` on Spark ``local[2]`` against ``credit batch --workers 2`` on the
same machine, over the same generated customers: decisions per second, and bytes of audit
per decision (the SQLite file for batch; the Parquet partitions, manifest and anchor for
Spark).

The Spark figure is given twice: the whole command (the JVM's start included) and the job
once a session is up (what a cluster's resident session pays). Needs the [spark] extra and
Java 17. Run by hand (``python bench/bench_spark.py --count 200000``); never in CI. Files
go to a temporary folder, removed after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "examples")]

from generate_portfolio import customers, write

from engine.audit.store import AuditStore
from engine.batch import run_batch
from engine.spark.spark_job import run_spark_batch, spark_session

AS_OF = dt.date(2026, 11, 30)
RULESET = HERE.parent / "rulesets" / "default"


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() \
        else path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000, help="customers (200,000)")
    parser.add_argument("--partitions", type=int, default=None,
                        help="Spark partitions (default: spark-batch's, one per 5,000 rows)")
    args = parser.parse_args()
    os.environ.setdefault("CREDIT_AUDIT_SALT", "b" * 64)
    folder = Path(tempfile.mkdtemp(prefix="bench-spark-"))
    try:
        portfolio = folder / "portfolio.csv"
        with portfolio.open("w", encoding="utf-8", newline="") as handle:
            write(customers(2026, args.count, AS_OF), handle, "csv")
        print(f"{args.count:,} generated customers, {os.cpu_count()} cores")

        db = folder / "batch.db"
        started = time.perf_counter()
        with AuditStore(db) as store:
            summary = run_batch(portfolio, folder / "batch.jsonl", RULESET, AS_OF,
                                workers=2, audit=store)
        seconds = time.perf_counter() - started
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        decided = summary.decided
        print(f"credit batch --workers 2      {seconds:7.1f} s  {decided / seconds:8,.0f} "
              f"decisions/s  {_size(db) / decided:7,.0f} audit bytes/decision (SQLite)")

        anchor_db = folder / "anchor.db"
        started = time.perf_counter()
        with AuditStore(anchor_db) as store:
            spark = run_spark_batch(portfolio, folder / "run", RULESET, AS_OF, audit=store,
                                    master="local[2]", partitions=args.partitions)
        seconds = time.perf_counter() - started
        audit_bytes = _size(folder / "run" / "audit") + _size(folder / "run" / "manifest.json")
        print(f"spark-batch local[2], whole   {seconds:7.1f} s  {spark.decided / seconds:8,.0f} "
              f"decisions/s  {audit_bytes / spark.decided:7,.0f} audit bytes/decision "
              f"(Parquet, {spark.partitions} partitions)")

        session = spark_session("local[2]", folder / "spark.log")
        try:
            session.sparkContext.parallelize(range(4), 2).count()  # workers started
            started = time.perf_counter()
            with AuditStore(anchor_db) as store:
                run_spark_batch(portfolio, folder / "run2", RULESET, AS_OF, audit=store,
                                spark=session, partitions=args.partitions)
            seconds = time.perf_counter() - started
        finally:
            session.stop()
        print(f"spark-batch local[2], job     {seconds:7.1f} s  {spark.decided / seconds:8,.0f} "
              "decisions/s  (a session already up)")
        same = (folder / "run" / "results.jsonl").read_bytes() == \
            (folder / "batch.jsonl").read_bytes()
        print(f"results identical to credit batch: {same}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
