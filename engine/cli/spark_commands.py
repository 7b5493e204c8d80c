"""``credit spark-batch``: a portfolio decided on Apache Spark, a thin layer over
``engine.spark.spark_job`` (imported when the command runs: pyspark is an extra)."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from ..audit.checkpoints import checkpoint, load_private_key
from ..audit.store import AuditStore, default_db_path
from ..ruleset.loader import load_ruleset
from .options import (
    as_of_option,
    db_option,
    default_ruleset,
    needs_extra,
    ruleset_option,
    use_audit_file,
)
from .render import summary_text


@click.command("spark-batch")
@click.argument("portfolio", metavar="PORTFOLIO.(csv|jsonl)")
@click.option("--out", "out", required=True, metavar="DIR",
              help="Folder for the run: results.jsonl, the audit partitions (Parquet), the "
                   "manifest. Run again with the same folder to finish an interrupted run.")
@ruleset_option
@as_of_option
@click.option("--master", default=None, metavar="URL",
              help="Spark master (default: the one spark-submit gives, else local[2]).")
@click.option("--partitions", type=click.IntRange(1, 100_000), default=None,
              help="Partitions to split the rows into (default: one per 5,000 rows, at "
                   "least 2).")
@db_option
@click.option("--checkpoint", "checkpoint_key", type=click.Path(dir_okay=False), metavar="KEY",
              help="At the end, sign the trail's head (which chains the run's anchor, so "
                   "its manifest and partitions) with this private key, and keep the "
                   "statement beside the audit file (AUDIT_FILE.checkpoint-SIZE.json).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def spark_batch(portfolio: str, out: str, ruleset_dir: str | None, as_of: dt.date | None,
                master: str | None, partitions: int | None, db_path: str | None,
                checkpoint_key: str | None, as_json: bool) -> None:
    """Decide every customer of a portfolio on Apache Spark.

    The answers are those of credit batch; each partition's audit is a hash chain in
    Parquet, and one record in the audit file anchors the run's manifest (check it with
    'credit audit verify --parquet DIR'). Run the same command again to finish an
    interrupted run. Exits 1 when any row failed.

    Examples:

    \b
      credit spark-batch examples/portfolio.csv --out run/ --as-of 2025-12-31
      credit spark-batch big.csv --out run/ --master 'local[8]' --partitions 64
    """
    needs_extra("spark-batch", ("pyspark", "pyarrow"), "spark")
    from ..spark.spark_job import run_spark_batch  # pyspark only when a job runs

    signer = load_private_key(checkpoint_key) if checkpoint_key else None  # before deciding

    as_of = as_of or dt.date.today()
    folder = ruleset_dir or default_ruleset()
    use_audit_file(db_path)
    path = db_path or default_db_path()
    with AuditStore(path) as store:
        summary = run_spark_batch(portfolio, out, folder, as_of, audit=store, master=master,
                                  partitions=partitions)
    signed = checkpoint(path, signer) if signer else None
    for message in summary.errors:
        click.echo(message, err=True)
    data = summary.to_dict()
    data.update(as_of=as_of.isoformat(), out=out, audit=path)
    if signed:
        data["checkpoint"] = str(signed)
    if as_json:
        click.echo(json.dumps(data, sort_keys=True))
    else:
        ruleset = load_ruleset(folder)
        resumed = f", {summary.resumed} resumed" if summary.resumed else ""
        click.echo(summary_text({**data, "currency": ruleset.currency}, ruleset.grades))
        click.echo(f"Results    {out.rstrip('/')}/results.jsonl (as of {as_of.isoformat()})")
        click.echo(f"Audit      {summary.records:,} records in {summary.partitions} Parquet "
                   f"partitions{resumed}; manifest anchored as record {summary.anchor_seq} "
                   f"in {path}")
        if signed:
            click.echo(f"Checkpoint {signed}")
    if summary.failed:
        sys.exit(1)
