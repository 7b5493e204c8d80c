"""``credit audit ...``, ``credit replay`` and ``credit review``: the auditor's commands,
a thin layer over ``engine.audit`` and ``engine.replay``."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import click

from ..audit.chain import verify_file
from ..audit.checkpoints import (
    CheckpointError,
    check_signature,
    generate_key,
    load_private_key,
    load_public_key,
    load_statement,
    sign_head,
    write_json,
)
from ..audit.decision_records import full_decision
from ..audit.proofs import check_proof, load_proof, prove
from ..audit.queries import (
    EXPORT_COLUMNS,
    LIST_COLUMNS,
    Filters,
    export_records,
    exported,
    list_records,
    review_due,
    stats,
)
from ..audit.store import AuditError, AuditStore, default_db_path
from ..canonical import canonical_json
from ..quality.challenger_report import TABLES as CHALLENGER_TABLES
from ..quality.challenger_report import challenger_stats
from ..replay import Replayer, replay_records
from .options import db_option, needs_extra, parse_date
from .output import format_rows, output_options
from .progress import progress
from .render import counted, decision_text, painted

# The filter naming a recorded ruleset is --ruleset-id: --ruleset is a ruleset folder on
# every command that decides (decide, batch, monitor, override).
RULESET_ID_HELP = ("Only decisions made under this ruleset (name, name@version or start "
                   "of its hash).")


def filter_options(command=None, *, with_kind: bool = True):
    """The filters every review command shares (``with_kind=False``: not --kind, for a
    command that reads decisions only)."""
    def decorate(command):
        options = [
            click.option("--customer", help="Only this customer id."),
            click.option("--since", callback=parse_date, metavar="DATE",
                         help="Decided on or after."),
            click.option("--until", callback=parse_date, metavar="DATE",
                         help="Decided on or before."),
            click.option("--grade", help="Only this grade."),
            click.option("--outcome", type=click.Choice(["accept", "refer", "reject"]),
                         help="Only this admission outcome."),
            click.option("--ruleset-id", "ruleset", metavar="NAME[@VERSION]|HASH",
                         help=RULESET_ID_HELP),
            click.option("--limit", type=click.IntRange(1, None), help="At most this many."),
        ]
        if with_kind:
            options.insert(5, click.option(
                "--kind", help="Only this kind of record (decision, event, action, batch, "
                               "row-failed, ruleset-loaded, override, monitor-run)."))
        for option in reversed(options):
            command = option(command)
        return command
    return decorate(command) if command is not None else decorate


def _filters(kwargs: dict) -> Filters:
    return Filters(**{k: kwargs.pop(k, None) for k in ("customer", "since", "until",
                                                       "grade", "outcome", "kind",
                                                       "ruleset", "limit")})


def open_store(db_path: str | None) -> AuditStore:
    """An existing audit file (reading commands never create one)."""
    return AuditStore(db_path or default_db_path(), create=False)


@click.group()
def audit() -> None:
    """Review and verify the audit trail.

    Examples:

    \b
      credit audit list --since 2026-01-01
      credit audit verify
      credit audit show d-6618271a1f3807b87d3bc13f63088415
    """


@audit.command("list")
@db_option
@filter_options
@output_options(streams=True)
def list_command(db_path, fmt, **kwargs) -> None:
    """List records, newest first.

    Examples:

    \b
      credit audit list --customer C-000001
      credit audit list --kind action --since 2026-06-01 --csv
    """
    filters = _filters(kwargs)
    with open_store(db_path) as store:
        for line in format_rows(list_records(store, filters), LIST_COLUMNS, fmt):
            click.echo(line)


@audit.command("show")
@click.argument("ref", metavar="SEQ|DECISION_ID")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
def show_command(ref: str, db_path, as_json: bool) -> None:
    """Show one record: inputs, every rule that fired, outcome.

    Examples:

    \b
      credit audit show 2
      credit audit show d-6618271a1f3807b87d3bc13f63088415 --json
    """
    with open_store(db_path) as store:
        row = store.record(ref)
        record = exported(store, row)
        body = record["body"]
        decision = None
        if row["kind"] == "decision":
            slots = store.trace_slots(row["ruleset_hash"], body["decision"]["engine_version"])
            decision = full_decision(body, slots)
            if "challenger" in body:  # shown beside the decision, as credit decide does
                decision["challenger"] = {"in_split": True, **body["challenger"]}
        duplicates = store.count_with_decision_id(row["decision_id"]) if \
            row["decision_id"] and not ref.isdigit() else 1
    if as_json:
        if decision is not None:
            record["decision"] = decision
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    click.echo(f"Record     {row['seq']} ({row['kind']}), recorded {row['recorded_at']}")
    click.echo(f"Hash       {row['hash']}")
    click.echo(f"Previous   {row['prev_hash']}")
    if row["batch_id"]:
        click.echo(f"Batch      {row['batch_id']}"
                   + (f", row {row['batch_row']}" if row["batch_row"] else ""))
    if duplicates > 1:
        click.echo(f"Note       {duplicates} records carry this decision id; this is the "
                   "latest (use the sequence number for another)")
    if decision is None:
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    plugins = ", ".join(f"{p['name']} {p['version']}" for p in body["plugins"]) or "none"
    click.echo(f"Plugins    {plugins}")
    click.echo("Input")
    for line in json.dumps(body["input"], indent=2, ensure_ascii=False).splitlines():
        click.echo("  " + line)
    click.echo(decision_text(decision, with_trace=True))


@audit.command("verify")
@db_option
@click.option("--head", "head", metavar="SEQ:HASH|STATEMENT",
              help="A head noted earlier ('credit audit head'), or a signed statement file "
                   "('credit audit head --sign'): also detect a trail cut short or "
                   "rewritten after it.")
@click.option("--public-key", type=click.Path(dir_okay=False), metavar="KEY.pub",
              help="The public key that signed the --head statement.")
@click.option("--parquet", "parquet_dir", metavar="DIR",
              help="Verify a spark-batch run's Parquet partitions instead: each partition's "
                   "chain, the manifest, and its anchor in the audit file (pyarrow only).")
@output_options
def verify_command(db_path, head: str | None, public_key: str | None, fmt: str,
                   parquet_dir: str | None) -> None:
    """Walk the hash chain; exit 1 naming the first record that fails, and why.

    With a signed statement (--head FILE --public-key KEY.pub), its signature is checked
    and the trail must still hold the signed head and the records before it.

    Examples:

    \b
      credit audit verify
      credit audit verify --head 1003:b79c49b2...
      credit audit verify --head head.json --public-key signer.key.pub
      credit audit verify --parquet run/
    """
    if parquet_dir is not None:
        if head is not None:
            raise click.UsageError("--head checks the audit file's own head: not with "
                                   "--parquet")
        _verify_parquet(parquet_dir, db_path, fmt)
        return
    expected, statement = None, None
    if head is not None and Path(head).is_file():
        if public_key is None:
            raise click.UsageError("a signed --head statement needs --public-key")
        statement = load_statement(head)
        check_signature(statement, load_public_key(public_key))
        expected = (statement["size"], statement["head"])
    elif head is not None:
        seq, _, digest = head.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise click.BadParameter("expected SEQ:HASH, as 'credit audit head' prints it, "
                                     "or a signed statement file", param_hint="--head")
        expected = (int(seq), digest)
    with open_store(db_path) as store:  # checks it is an audit file
        path, head_now = store.path, store.head()
    meter = progress("verifying records", head_now[0] if head_now else None, fmt)
    try:
        report = verify_file(path, expected, statement=statement, on_progress=meter.update)
    finally:
        meter.finish()
    for warning in report.warnings:
        click.echo(f"credit: warning: {warning}", err=True)
    if fmt != "table":
        row = {"ok": report.ok, "checked": report.checked,
               "head": f"{report.head[0]}:{report.head[1]}" if report.head else None,
               "failed_record": report.failed_seq, "failed_ruleset": report.failed_ruleset,
               "failed_dictionary": report.failed_dictionary, "reason": report.reason}
        if fmt == "json":
            click.echo(json.dumps({**row, "warnings": list(report.warnings)}, indent=2))
        else:
            for line in format_rows([row], tuple(row), fmt):
                click.echo(line)
        sys.exit(0 if report.ok else 1)
    if report.ok:
        last = f", head {report.head[0]}:{report.head[1]}" if report.head else ""
        signed = (f"; extends the head signed {statement['signed_at']} (record "
                  f"{statement['size']})") if statement else ""
        click.echo(f"{painted('ok', 'ok')}: {counted(report.checked, 'record')} verified"
                   f"{last}{signed}")
        return
    if report.failed_ruleset:
        click.echo(f"{painted('FAILED', 'failed')}: stored ruleset {report.failed_ruleset}: "
                   f"{report.reason}",
                   err=True)
    elif report.failed_dictionary is not None:
        click.echo(f"{painted('FAILED', 'failed')}: body dictionary "
                   f"{report.failed_dictionary}: {report.reason}", err=True)
    else:
        click.echo(f"{painted('FAILED', 'failed')} at record {report.failed_seq}: "
                   f"{report.reason} "
                   f"({report.checked:,} records before it are intact)", err=True)
    sys.exit(1)


def _verify_parquet(folder: str, db_path: str | None, fmt: str) -> None:
    needs_extra("--parquet", ("pyarrow",), "spark")
    from ..spark.parquet_verify import verify_parquet  # pyarrow: the spark extra

    with open_store(db_path) as store:  # checks it is an audit file
        path = store.path
    report = verify_parquet(folder, path)
    if fmt != "table":
        row = {"ok": report.ok, "run_id": report.run_id, "partitions": report.partitions,
               "records": report.records, "anchor_record": report.anchor_seq,
               "reason": report.reason}
        if fmt == "json":
            click.echo(json.dumps(row, indent=2))
        else:
            for line in format_rows([row], tuple(row), fmt):
                click.echo(line)
        sys.exit(0 if report.ok else 1)
    if report.ok:
        click.echo(f"{painted('ok', 'ok')}: run {report.run_id}: "
                   f"{counted(report.partitions, 'partition')}, "
                   f"{counted(report.records, 'record')} verified; manifest anchored as "
                   f"record {report.anchor_seq} of {path}")
        return
    click.echo(f"{painted('FAILED', 'failed')}: {folder}: {report.reason}", err=True)
    sys.exit(1)


@audit.command("browse")
@db_option
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True,
              help="Port on 127.0.0.1 to serve on.")
def browse_command(db_path, port: int) -> None:
    """Browse the trail in a web browser (datasette), read-only.

    Serves the audit file on 127.0.0.1 with the metadata credit-rules ships: free SQL
    off, the meta table refused, no download of the file, every column described,
    facets on kind, grade and outcome, and canned queries (the chain head, a customer's
    history, one record with its body as JSON, overrides and who approved them, batch
    runs and a batch's summary). Needs the [browse] extra (datasette). Ctrl-C stops it.

    Examples:

    \b
      credit audit browse
      credit audit browse --db demo-audit.db --port 8002
    """
    path = Path(db_path or default_db_path())
    with open_store(str(path)):
        pass  # an audit file, or one clear line saying why not
    try:
        from .audit_browse import serve
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("datasette", "yaml"):
            raise
        raise click.ClickException("credit audit browse needs datasette: pip install "
                                   "'credit-rules[browse]'") from None
    click.echo(f"serving {path} read-only on http://127.0.0.1:{port}/ (Ctrl-C stops it)",
               err=True)
    serve(path, port)


@audit.command("head")
@db_option
@click.option("--sign", "key", type=click.Path(dir_okay=False), metavar="KEY",
              help="Sign a statement of the trail's size, head and Merkle root with this "
                   "Ed25519 private key ('credit audit keygen').")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="With --sign: write the statement here (default: standard output).")
def head_command(db_path, key: str | None, out: str | None) -> None:
    """Print the latest record as SEQ:HASH, to note elsewhere.

    With --sign, write a signed statement of the trail's size, head and Merkle root
    instead, which 'credit audit verify --head' and proofs check against.

    Examples:

    \b
      credit audit head
      credit audit head --sign signer.key --out head.json
    """
    with open_store(db_path) as store:
        head, path = store.head(), store.path
    if head is None:
        raise AuditError("the audit trail is empty")
    if key is None:
        if out is not None:
            raise click.UsageError("--out goes with --sign")
        click.echo(f"{head[0]}:{head[1]}")
        return
    statement = sign_head(path, load_private_key(key))
    if out is None:
        click.echo(json.dumps(statement, indent=2, sort_keys=True))
    else:
        write_json(out, statement)
        click.echo(f"signed record {statement['size']} ({statement['head'][:16]}...) into "
                   f"{out}", err=True)


@audit.command("dictionary")
@click.argument("dict_id", metavar="ID", type=click.IntRange(min=1))
@db_option
@click.option("--out", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Where to write the dictionary.")
def dictionary_command(dict_id: int, db_path, out: str) -> None:
    """Write a body dictionary the trail keeps, to read decision bodies elsewhere.

    An export's body_stored is the byte 0x02 and a Zstandard frame naming its dictionary;
    with this file, 'zstd -d -D FILE' gives the body's JSON (less what the record's header
    says).

    Examples:

    \b
      credit audit dictionary 1 --out dictionary-1.zdict
    """
    with open_store(db_path) as store:
        content = store.dictionary(dict_id)
    try:
        Path(out).write_bytes(content)
    except OSError as exc:
        raise AuditError(f"{out}: cannot write the dictionary ({exc.strerror or exc})") \
            from None
    click.echo(f"wrote body dictionary {dict_id} ({len(content):,} bytes) to {out}", err=True)


@audit.command("keygen")
@click.option("--out", required=True, type=click.Path(dir_okay=False), metavar="KEY",
              help="Where to write the private key; the public key goes to KEY.pub.")
def keygen_command(out: str) -> None:
    """Make an Ed25519 key pair for signing checkpoints.

    Keep the private key away from the audit file; hand the public key (KEY.pub) to
    whoever checks.

    Examples:

    \b
      credit audit keygen --out signer.key
    """
    private_path, public_path = generate_key(out)
    click.echo(f"private key {private_path} (owner only), public key {public_path}")


@audit.command("prove")
@click.argument("ref", metavar="SEQ|DECISION_ID")
@db_option
@click.option("--head", "head", type=click.Path(dir_okay=False), metavar="STATEMENT",
              help="Prove the record under this signed statement.")
@click.option("--sign", "key", type=click.Path(dir_okay=False), metavar="KEY",
              help="Or sign the head now with this private key and prove under it.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), metavar="PROOF.json",
              help="Where to write the proof.")
def prove_command(ref: str, db_path, head: str | None, key: str | None, out: str) -> None:
    """Write a proof that one record is in the trail under a signed head.

    'credit audit check-proof' checks it with only the proof and the public key.

    Examples:

    \b
      credit audit prove d-6618271a1f3807b87d3bc13f63088415 --head head.json --out proof.json
      credit audit prove 503 --sign signer.key --out proof.json
    """
    if (head is None) == (key is None):
        raise click.UsageError("give exactly one of --head STATEMENT and --sign KEY")
    with open_store(db_path) as store:
        path = store.path
    statement = load_statement(head) if head else sign_head(path, load_private_key(key))
    proof = prove(path, ref, statement)
    write_json(out, proof)
    click.echo(f"record {proof['index'] + 1} under the head signed {statement['signed_at']} "
               f"(record {statement['size']}): {len(proof['path'])} hashes in {out}")


@audit.command("check-proof")
@click.argument("proof_file", metavar="PROOF.json", type=click.Path(dir_okay=False))
@click.option("--public-key", required=True, type=click.Path(dir_okay=False),
              metavar="KEY.pub", help="The public key of whoever signed the head.")
def check_proof_command(proof_file: str, public_key: str) -> None:
    """Check a proof that a record is in a signed trail, without the audit file.

    Exits 0 with a line naming the record when the proof holds, 1 saying what failed.

    Examples:

    \b
      credit audit check-proof proof.json --public-key signer.key.pub
    """
    proof = load_proof(proof_file)
    try:
        record = check_proof(proof, load_public_key(public_key))
    except CheckpointError as exc:
        click.echo(f"{painted('FAILED', 'failed')}: {exc}", err=True)
        sys.exit(1)
    statement = proof["statement"]
    what = f"decision {record['decision_id']}" if record.get("decision_id") else \
        f"{record['kind']} record"
    click.echo(f"{painted('ok', 'ok')}: record {record['seq']} ({what}, customer "
               f"{record['customer_id']}) is in "
               f"the trail of {statement['size']:,} records signed {statement['signed_at']} "
               f"by key {statement['key_id']}")


@audit.command("export")
@db_option
@click.option("--nl", "as_nl", is_flag=True,
              help="Write JSON Lines, one record a line (the default).")
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV, one record a row.")
@click.option("--format", "legacy", type=click.Choice(["jsonl", "csv"]), hidden=True,
              help="Old spelling of --nl / --csv.")
@filter_options
def export_command(db_path, as_nl: bool, as_csv: bool, legacy: str | None,
                   **kwargs) -> None:
    """Write whole records (oldest first), for a regulator or another tool.

    Each body is written as JSON; a compressed (format-2) body's stored bytes are given
    in base64 as body_stored, which its hash covers, so every hash can be recomputed.

    Examples:

    \b
      credit audit export --customer C-000001 > c1.jsonl
      credit audit export --csv --since 2026-01-01
    """
    if as_nl and as_csv:
        raise click.UsageError("--nl and --csv: choose one")
    as_csv = as_csv or legacy == "csv"
    filters = _filters(kwargs)
    with open_store(db_path) as store:
        rows = export_records(store, filters)
        if as_csv:
            texts = ({**row, "body": canonical_json(row["body"])} for row in rows)
            for line in format_rows(texts, EXPORT_COLUMNS, "csv"):
                click.echo(line)
            return
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True))


CHALLENGER_TITLES = {
    "pairs": "Champion and challenger",
    "agreement": "Agreement (grade: a rejection is 'rejected'; granted limit: the limit of "
                 "an accepted decision)",
    "migration": "Grade migration (rows: champion's grade, columns: challenger's grade)",
    "limits": "Granted limits by champion grade",
}


@audit.command("stats")
@db_option
@filter_options(with_kind=False)
@click.option("--challenger", "with_challenger", is_flag=True,
              help="Compare the champion with its challenger over the decisions recorded "
                   "with a challenger result: agreement, grade migration, limits.")
@click.option("--show", "table", type=click.Choice(CHALLENGER_TABLES),
              help="With --challenger: only this table (needed with --csv).")
@output_options
def stats_command(db_path, fmt, with_challenger: bool, table: str | None, **kwargs) -> None:
    """Count decisions by grade, outcome, ruleset version and day.

    With --challenger, compare the champion with its challenger instead, over the
    decisions that have a challenger result beside them (the customers in its split).

    Examples:

    \b
      credit audit stats
      credit audit stats --ruleset-id default@1.0.0 --json
      credit audit stats --challenger
    """
    filters = _filters(kwargs)
    if table is not None and not with_challenger:
        raise click.UsageError("--show chooses a table of --challenger")
    if with_challenger:
        if fmt == "csv" and table is None:
            raise click.UsageError("--csv writes one table: choose it with --show "
                                   f"({'|'.join(CHALLENGER_TABLES)})")
        with open_store(db_path) as store:
            report = challenger_stats(store, filters)
        _print_challenger(report, table, fmt)
        return
    with open_store(db_path) as store:
        tables = stats(store, filters)
    if fmt == "json":
        click.echo(json.dumps(tables, ensure_ascii=False))
        return
    for index, (name, rows) in enumerate(tables.items()):
        if fmt == "table":
            click.echo(("\n" if index else "") + f"By {name}")
        else:
            rows = [{"group": name, "value": r[name], "decisions": r["decisions"]}
                    for r in rows]
        columns = (name, "decisions") if fmt == "table" else ("group", "value", "decisions")
        lines = list(format_rows(rows, columns, fmt))
        for line in lines if fmt == "table" or index == 0 else lines[1:]:
            click.echo(line)


def _print_challenger(report, table: str | None, fmt: str) -> None:
    if table is not None:
        for line in format_rows(report.rows(table), report.columns(table), fmt):
            click.echo(line)
        return
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    if not report.decisions:
        click.echo("No decision recorded with a challenger result matches.")
        return
    for index, name in enumerate(CHALLENGER_TABLES):
        click.echo(("\n" if index else "") + CHALLENGER_TITLES[name])
        rows = report.rows(name)
        if name == "agreement":
            rows = [{**r, "rate": f"{r['rate'] * 100:.1f}%"} for r in rows]
        for line in format_rows(rows, report.columns(name), "table"):
            click.echo("  " + line)


@click.command("replay")
@click.argument("ref", required=False, metavar="[SEQ|DECISION_ID]")
@click.option("--all", "replay_all", is_flag=True,
              help="Replay every decision and monitoring action matching the filters.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="With --all: processes to replay in (default: one per core).")
@click.option("--parquet", "parquet_dir", metavar="DIR",
              help="Replay the decisions of a spark-batch run's Parquet partitions (all, "
                   "or --sample N of them) under the rulesets stored in the audit file.")
@click.option("--sample", type=click.IntRange(1, None), default=None, metavar="N",
              help="With --parquet: replay N decisions drawn at random (the same N for the "
                   "same run every time).")
@db_option
@filter_options
def replay_command(ref: str | None, replay_all: bool, workers: int | None,
                   parquet_dir: str | None, sample: int | None, db_path, **kwargs) -> None:
    """Re-run a recorded decision or monitoring action and compare, byte for byte.

    A decision is decided again from its record alone; an action is taken again by the
    monitor on the records before it. Exit 0 when identical; 1 with a readable
    difference when not.

    Examples:

    \b
      credit replay 2
      credit replay --all --since 2026-01-01
      credit replay --parquet run/ --sample 100
    """
    if parquet_dir is not None:
        if ref or replay_all:
            raise click.UsageError("--parquet replays a spark-batch run: give no record and "
                                   "no --all")
        _replay_parquet(parquet_dir, sample, db_path)
        return
    if sample is not None:
        raise click.UsageError("--sample goes with --parquet")
    filters = _filters(kwargs)
    if bool(ref) == replay_all:
        raise click.UsageError("give either a record (SEQ or DECISION_ID) or --all")
    with open_store(db_path) as store:
        replayer = Replayer(store)
        if ref:
            result = replayer.replay(store.record(ref))
            if result.matched:
                click.echo(f"ok: record {result.seq} ({result.decision_id}) replays "
                           "identically")
                return
            click.echo(f"DIFFERENT: record {result.seq} ({result.decision_id}):", err=True)
            for line in result.differences:
                click.echo(f"  {line}", err=True)
            sys.exit(1)
        path = store.path
    if filters.kind not in (None, "decision", "action"):
        raise click.UsageError("replay --all replays decisions and actions: --kind "
                               "decision or --kind action")
    matched = differed = 0
    meter = progress("replaying records", None)
    try:
        for result in replay_records(path, filters, workers=workers or os.cpu_count() or 1):
            if result.matched:
                matched += 1
            else:
                differed += 1
                meter.clear()
                click.echo(f"DIFFERENT: record {result.seq} ({result.decision_id}): "
                           + "; ".join(result.differences[:3]), err=True)
            meter.update(matched + differed)
    finally:
        meter.finish()
    click.echo(f"{matched:,} replayed identically, {differed:,} differed")
    if differed:
        sys.exit(1)


def _replay_parquet(folder: str, sample: int | None, db_path: str | None) -> None:
    needs_extra("--parquet", ("pyarrow",), "spark")
    from ..spark.parquet_replay import replay_parquet  # pyarrow: the spark extra

    matched = differed = 0
    with open_store(db_path) as store:
        for index, result in replay_parquet(folder, store, sample):
            if result.matched:
                matched += 1
                continue
            differed += 1
            click.echo(f"DIFFERENT: partition {index} record {result.seq} "
                       f"({result.decision_id}): " + "; ".join(result.differences[:3]),
                       err=True)
    click.echo(f"{matched:,} replayed identically, {differed:,} differed")
    if differed:
        sys.exit(1)


@click.command("review")
@click.option("--due", is_flag=True, default=True,
              help="List customers due for review (the default, and the only listing so "
                   "far).")
@click.option("--as-of", "as_of", callback=parse_date, metavar="DATE",
              help="Review date (default: today).")
@db_option
@output_options(streams=True)
def review_command(due: bool, as_of, db_path, fmt) -> None:
    """Customers whose last decision is older than their grade's review interval.

    Examples:

    \b
      credit review --as-of 2026-11-30
      credit review --csv > due.csv
    """
    as_of = as_of or dt.date.today()
    columns = ("customer_id", "last_decision", "grade", "outcome", "review_interval_days",
               "due", "days_overdue", "decision_id")
    with open_store(db_path) as store:
        for line in format_rows(review_due(store, as_of), columns, fmt):
            click.echo(line)


def register(cli: click.Group) -> None:
    """Add the auditor's commands to the ``credit`` group."""
    cli.add_command(audit)
    cli.add_command(replay_command)
    cli.add_command(review_command)
