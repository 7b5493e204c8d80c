"""The work of one Spark partition, free of Spark: decide its rows with the very function
``credit batch`` decides a chunk with (``batch.decide_rows``), then commit its results and
its audit chain (``parquet_chain``). Spark calls ``run_partition`` from ``mapPartitions``;
a test can call it directly."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..audit.store import NewRecord
from ..batch import RowSettings, decide_rows
from ..canonical import canonical_json
from ..decide.redaction import scrubbed
from ..errors import InputError
from ..ruleset.challenger import Challenger
from ..ruleset.compiler import CompiledRuleset, compile_ruleset
from ..ruleset.source import source_from_content
from .parquet_chain import chain_rows, partition_genesis, partition_name, write_committed

RESULTS = "results"  # DIR/results/part-NNNNN.jsonl
AUDIT = "audit"  # DIR/audit/part-NNNNN.parquet


@dataclass(frozen=True)
class ShippedChallenger:
    """The challenger the champion names, as it travels to the executors: its content and
    hash (checked against the champion by the driver, which loaded it), and its share."""

    content: dict
    hash: str
    share: float
    reference: str


@dataclass(frozen=True)
class PartitionTask:
    """What every partition of a run needs besides its rows (pickled to the executors):
    the ruleset (and its challenger) travels as content, so the job needs no ruleset
    folder on the cluster."""

    run_id: str
    out: str
    ruleset_content: dict
    ruleset_hash: str
    as_of: dt.date
    types: dict | None
    label: str
    salt: bytes
    recorded_at: str
    challenger: ShippedChallenger | None = None


def shipped_challenger(ruleset: CompiledRuleset) -> ShippedChallenger | None:
    """What the executors need of the challenger ``ruleset`` names (None without one)."""
    challenger = ruleset.challenger
    if challenger is None:
        return None
    return ShippedChallenger(challenger.ruleset.source.content, challenger.ruleset.hash,
                             challenger.share, challenger.reference)


# per executor process, by (champion hash, challenger hash or None)
_compiled: dict[tuple[str, str | None], CompiledRuleset] = {}


def task_ruleset(task: PartitionTask) -> CompiledRuleset:
    """The task's ruleset with its challenger, compiled once per process from their
    content (and each checked to be the very ruleset the driver loaded)."""
    shipped = task.challenger
    key = (task.ruleset_hash, shipped.hash if shipped else None)
    if key not in _compiled:
        compiled = _compiled_content(task.ruleset_content, task.ruleset_hash)
        if shipped is not None:
            compiled = dataclasses.replace(compiled, challenger=Challenger(
                _compiled_content(shipped.content, shipped.hash), shipped.share,
                shipped.reference))
        _compiled[key] = compiled
    return _compiled[key]


def _compiled_content(content: dict, expected_hash: str) -> CompiledRuleset:
    compiled = compile_ruleset(source_from_content(content, f"ruleset {expected_hash[:12]}"))
    if compiled.hash != expected_hash:
        raise RuntimeError(f"the ruleset compiled on this executor hashes to "
                           f"{compiled.hash[:12]}, not {expected_hash[:12]}")
    return compiled


def _unshipped(raw: object) -> object:
    if isinstance(raw, tuple) and raw and raw[0] == "unreadable":
        return InputError(raw[1], [tuple(p) for p in raw[2]])
    return raw


def run_partition(index: int, rows, task: PartitionTask, attempt: str) -> dict:
    """Decide partition ``index``'s ``(number, raw)`` rows, write its results and audit
    chain under a task-attempt name, commit both by rename (the audit file last: it is the
    mark that the partition is done), and return its summary."""
    ruleset = task_ruleset(task)
    settings = RowSettings(task.as_of, task.types, task.label, task.salt, task.run_id, False)
    numbered = [(number, _unshipped(raw)) for number, raw in rows]
    results = decide_rows(ruleset, numbered, settings)
    records: list[NewRecord] = []
    lines: list[str] = []
    summary = {"index": index, "rows": len(numbered), "decided": 0, "failed": 0,
               "first_row": numbered[0][0] if numbered else None,
               "last_row": numbered[-1][0] if numbered else None,
               "by_grade": Counter(), "by_outcome": Counter(), "challenged": Counter(),
               "errors": []}
    accepted = referred = Decimal(0)
    for result in results:
        if result[0] == "error":
            _, number, customer_id, messages = result
            summary["failed"] += 1
            summary["errors"].extend(messages)
            body = canonical_json({"event": "row-failed", "batch_id": task.run_id,
                                   "row": number, "customer_id": customer_id,
                                   "errors": scrubbed(messages, ruleset.redact)})
            records.append(NewRecord("row-failed", body, batch_id=task.run_id,
                                     batch_row=number, customer_id=customer_id,
                                     ruleset_name=ruleset.name,
                                     ruleset_version=ruleset.version,
                                     ruleset_hash=ruleset.hash))
            continue
        _, _, line, outcome, grade, limit, record, challenged = result
        if challenged is not None:
            summary["challenged"][challenged] += 1
        lines.append(line)
        records.append(record)
        summary["decided"] += 1
        summary["by_grade"][grade] += 1
        summary["by_outcome"][outcome] += 1
        if limit is not None and outcome in ("accept", "refer"):
            if outcome == "accept":
                accepted += Decimal(limit)
            else:
                referred += Decimal(limit)
    summary["limit_accepted"] = format(accepted, "f")
    summary["limit_referred"] = format(referred, "f")
    summary["by_grade"] = dict(summary["by_grade"])
    summary["by_outcome"] = dict(summary["by_outcome"])
    summary["challenged"] = dict(summary["challenged"])
    columns, head = chain_rows(records, partition_genesis(task.run_id, index),
                               task.recorded_at)
    summary["records"] = len(records)
    summary["head"] = head
    out = Path(task.out)
    results_path = out / RESULTS / partition_name(index).replace(".parquet", ".jsonl")
    temporary = results_path.with_name(f".{results_path.name}.attempt-{attempt}")
    temporary.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    os.replace(temporary, results_path)
    write_committed(columns, out / AUDIT / partition_name(index), attempt,
                    {"run_id": task.run_id, "partition": str(index),
                     "summary": json.dumps(summary, sort_keys=True)})
    return summary
