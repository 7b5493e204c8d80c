"""Checking a Spark run's partitioned audit with pyarrow alone (no Spark needed to audit):
every partition's chain from its genesis, the manifest against the partitions, and the
manifest against the anchor record in the SQLite trail (whose own chain is verified too,
for the anchor is only as good as the trail that holds it)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..audit.body_codec import FORMAT_2
from ..audit.chain import HEADER_FIELDS, record_hash, verify_file
from ..errors import CreditRulesError
from .manifest import ANCHOR_KIND, FORMAT, MANIFEST, read_json
from .parquet_chain import FORMAT as CHAIN_FORMAT
from .parquet_chain import file_metadata, partition_genesis, read_chain

KINDS = ("decision", "row-failed")  # what a partition's chain holds


@dataclass
class ParquetReport:
    """The outcome: how much was checked, and the first thing that failed, with why."""

    partitions: int = 0
    records: int = 0
    anchor_seq: int | None = None
    run_id: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


class _Failed(Exception):
    pass


def verify_parquet(folder: str | Path, db_path: str) -> ParquetReport:
    """Verify the Spark run in ``folder`` against the audit file at ``db_path``."""
    folder = Path(folder)
    report = ParquetReport()
    try:
        manifest = read_json(folder / MANIFEST, "spark-batch manifest")
        if manifest.get("format") != FORMAT:
            raise CreditRulesError(f"{folder / MANIFEST}: not a spark-batch manifest")
        report.run_id = manifest["run_id"]
        _check_anchor(folder, manifest, db_path, report)
        listed = {p["file"] for p in manifest["partitions"]}
        last_row = 0
        for entry in manifest["partitions"]:  # each row in one partition, in input order
            if entry["records"] and entry["first_row"] <= last_row:
                raise _Failed(f"partition {entry['index']} starts at row {entry['first_row']}, "
                              f"which an earlier partition holds (rows decided twice)")
            last_row = entry["last_row"] or last_row
        for path in sorted((folder / "audit").glob("*.parquet")):
            name = f"audit/{path.name}"
            if name not in listed:
                raise _Failed(f"{name} is not in the manifest (a partition was added)")
        for entry in manifest["partitions"]:
            _check_partition(folder, manifest["run_id"], entry, report)
            report.partitions += 1
    except _Failed as exc:
        report.reason = str(exc)
    return report


def _check_anchor(folder: Path, manifest: dict, db_path: str, report: ParquetReport) -> None:
    digest = hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()
    trail = verify_file(db_path)
    if not trail.ok:
        raise _Failed(f"the audit trail {db_path} fails verification"
                      f"{f' at record {trail.failed_seq}' if trail.failed_seq else ''}: "
                      f"{trail.reason}")
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        anchors = conn.execute("SELECT seq, body FROM records WHERE kind = ? AND batch_id = ? "
                               "ORDER BY seq", (ANCHOR_KIND, manifest["run_id"])).fetchall()
    finally:
        conn.close()
    if not anchors:
        raise _Failed(f"{db_path} holds no anchor for run {manifest['run_id']} (the run was "
                      "not anchored in this trail, or its run id was changed)")
    for seq, body in anchors:
        if json.loads(body)["manifest_sha256"] == digest:
            report.anchor_seq = seq
            return
    raise _Failed(f"the manifest was changed: its SHA-256 is not the one anchored in record "
                  f"{anchors[-1][0]} of {db_path}")


def _check_partition(folder: Path, run_id: str, entry: dict, report: ParquetReport) -> None:
    index, name = entry["index"], entry["file"]
    where = f"partition {index} ({name})"
    path = folder / name
    if not path.exists():
        raise _Failed(f"{where} is missing")
    try:
        meta = file_metadata(path)
        table = read_chain(path)
    except Exception as exc:  # pyarrow raises its own errors and OSError for damaged files
        raise _Failed(f"{where} cannot be read ({type(exc).__name__}: {exc})") from None
    if meta.get("format") != CHAIN_FORMAT:
        raise _Failed(f"{where} is not a credit-rules partition chain")
    if meta.get("run_id") != run_id or meta.get("partition") != str(index):
        raise _Failed(f"{where} comes from another run or place (run {meta.get('run_id')}, "
                      f"partition {meta.get('partition')})")
    prev = partition_genesis(run_id, index)
    last_row = 0
    sha256 = hashlib.sha256
    rows = table.to_pylist()
    for expected, row in enumerate(rows, start=1):
        at = f"{where} record {expected}"
        if row["seq"] != expected:
            raise _Failed(f"{at} is missing: record {row['seq']} follows record "
                          f"{expected - 1} (records were removed or renumbered)")
        if row["prev_hash"] != prev:
            raise _Failed(f"{at}: its previous-record hash does not match "
                          + ("the partition's genesis (it belongs to another run or place)"
                             if expected == 1 else f"record {expected - 1} (records were "
                             "removed, inserted or reordered)"))
        body = row["body"]
        if row["kind"] not in KINDS or (row["kind"] == "decision") != (body[:1] ==
                                                                     bytes([FORMAT_2])):
            raise _Failed(f"{at}: its body is in no format credit-rules writes for its kind")
        if sha256(body).hexdigest() != row["body_sha256"]:
            raise _Failed(f"{at}: its body was changed (the body's SHA-256 does not match)")
        if row["batch_row"] is None or row["batch_row"] <= last_row or \
                not entry["first_row"] <= row["batch_row"] <= entry["last_row"]:
            raise _Failed(f"{at}: its row ({row['batch_row']}) is out of order or outside "
                          f"the partition's rows {entry['first_row']}-{entry['last_row']}")
        last_row = row["batch_row"]
        if row["batch_id"] != run_id:
            raise _Failed(f"{at}: it names another run ({row['batch_id']})")
        try:
            digest = record_hash({field: row[field] for field in HEADER_FIELDS})
        except TypeError as exc:
            raise _Failed(f"{at}: a field has the wrong type ({exc})") from None
        if digest != row["hash"]:
            raise _Failed(f"{at}: its fields were changed (the record hash does not match)")
        prev = digest
        report.records += 1
    if len(rows) != entry["records"] or len(rows) != entry["rows"]:
        raise _Failed(f"{where} holds {len(rows)} records where the manifest says "
                      f"{entry['records']} for {entry['rows']} rows (records were removed "
                      "or added)")
    if prev != entry["head"]:
        raise _Failed(f"{where}: its head is not the one the manifest lists (the partition "
                      "was rewritten)")
