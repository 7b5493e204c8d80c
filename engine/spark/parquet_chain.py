"""One partition's audit records as a hash chain in a Parquet file.

Each row is one record: the record header fields of the SQLite trail (``chain.HEADER_FIELDS``,
with ``seq`` numbering the records of the partition from 1), the stored ``body`` bytes (a
format-2 decision body, or the UTF-8 of a text body) and the record ``hash``, made exactly
as the SQLite trail makes it (``chain.record_hash``). The first record's ``prev_hash`` is
the partition's genesis, a digest of the run id and the partition index, so a partition
cannot be moved to another place or another run unseen.

A file is written whole under a task-attempt name, then renamed into place: a retried or
speculative task writes its own attempt file, and the rename (atomic on one filesystem)
commits exactly one of them; the one that lands is the same bytes whichever attempt it came
from, because the chain is a function of the rows, ruleset, as-of date, run id and key.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..audit.chain import HEADER_FIELDS, record_hash
from ..audit.store import NewRecord
from ..canonical import sha256_hex_text

FORMAT = "credit-rules-parquet-chain-1"
_INT_FIELDS = ("seq", "batch_row")
SCHEMA = pa.schema([*(pa.field(name, pa.int64() if name in _INT_FIELDS else pa.string(),
                               nullable=name not in ("seq", "kind", "recorded_at",
                                                     "body_sha256", "prev_hash"))
                      for name in HEADER_FIELDS),
                    pa.field("body", pa.binary(), nullable=False),
                    pa.field("hash", pa.string(), nullable=False)])


def partition_genesis(run_id: str, index: int) -> str:
    """What the first record of partition ``index`` of run ``run_id`` chains to."""
    return sha256_hex_text(f"credit-rules spark partition {run_id} {index}")


def partition_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def chain_rows(records: Iterable[NewRecord], genesis: str, recorded_at: str
               ) -> tuple[dict[str, list], str]:
    """The columns of a chain of ``records`` starting from ``genesis``, and its head hash
    (``genesis`` itself for no records)."""
    columns: dict[str, list] = {name: [] for name in SCHEMA.names}
    prev = genesis
    for seq, record in enumerate(records, start=1):
        body = record.body
        data = body if body.__class__ is bytes else body.encode("utf-8")
        header = {"seq": seq, "kind": record.kind, "decision_id": record.decision_id,
                  "customer_id": record.customer_id, "as_of": record.as_of,
                  "recorded_at": recorded_at, "ruleset_name": record.ruleset_name,
                  "ruleset_version": record.ruleset_version,
                  "ruleset_hash": record.ruleset_hash, "outcome": record.outcome,
                  "grade": record.grade, "credit_limit": record.credit_limit,
                  "batch_id": record.batch_id, "batch_row": record.batch_row,
                  "body_sha256": record.body_sha256 or sha256_hex_text(body),
                  "prev_hash": prev}
        prev = record_hash(header)
        for name in HEADER_FIELDS:
            columns[name].append(header[name])
        columns["body"].append(data)
        columns["hash"].append(prev)
    return columns, prev


def write_committed(columns: dict[str, list], target: Path, attempt: str,
                    metadata: dict[str, str]) -> None:
    """Write a partition's chain to an attempt file beside ``target``, then rename it into
    place (the commit)."""
    table = pa.Table.from_pydict(columns, schema=SCHEMA.with_metadata(
        {"format": FORMAT, **metadata}))
    temporary = target.with_name(f".{target.name}.attempt-{attempt}")
    pq.write_table(table, temporary, compression="zstd")
    os.replace(temporary, target)


def read_chain(path: Path) -> pa.Table:
    """A partition file's records (only pyarrow)."""
    return pq.read_table(path)


def file_metadata(path: Path) -> dict[str, str]:
    """The key-value metadata a partition file was written with (format, run, index)."""
    raw = pq.read_schema(path).metadata or {}
    return {key.decode(): value.decode() for key, value in raw.items()}


def records_of(table: pa.Table) -> Iterator[dict]:
    """The rows of a partition table as dicts (header fields, body, hash)."""
    yield from table.to_pylist()
