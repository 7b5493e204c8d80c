"""The manifest of a Spark run: every partition's file, size and head, and the run it
belongs to. Its SHA-256 is what the SQLite trail anchors, in one ``spark-run`` record."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..audit.body_codec import SHIPPED, WRITING
from ..audit.store import NewRecord
from ..canonical import canonical_json
from ..errors import CreditRulesError

MANIFEST = "manifest.json"
RUN = "run.json"  # what identifies the run, written before any partition (for resuming)
FORMAT = "credit-rules-spark-manifest-1"
ANCHOR_KIND = "spark-run"


def build_manifest(run: dict, summaries: list[dict]) -> dict:
    """The manifest of a finished run (``run``: the content of run.json)."""
    partitions = [{"index": s["index"], "file": f"audit/part-{s['index']:05d}.parquet",
                   "records": s["records"], "rows": s["rows"], "first_row": s["first_row"],
                   "last_row": s["last_row"], "head": s["head"]}
                  for s in sorted(summaries, key=lambda s: s["index"])]
    return {"format": FORMAT, **run, "body_dictionary": {"id": WRITING,
                                                         "sha256": SHIPPED[WRITING][1]},
            "partitions": partitions}


def manifest_text(manifest: dict) -> str:
    """The manifest as written (canonical JSON and a newline): its hash is of these bytes."""
    return canonical_json(manifest) + "\n"


def manifest_sha256(folder: Path) -> str:
    return hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()


def read_json(path: Path, what: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CreditRulesError(f"{path}: no {what} here") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CreditRulesError(f"{path}: cannot read the {what} ({exc})") from None
    if not isinstance(data, dict):
        raise CreditRulesError(f"{path}: not a {what}")
    return data


def anchor_record(manifest: dict, digest: str) -> NewRecord:
    """The record that anchors a run's manifest in the SQLite trail."""
    ruleset = manifest["ruleset"]
    body = canonical_json({"event": ANCHOR_KIND, "batch_id": manifest["run_id"],
                           "as_of": manifest["as_of"], "ruleset": ruleset,
                           "manifest_sha256": digest,
                           "partitions": len(manifest["partitions"]),
                           "records": sum(p["records"] for p in manifest["partitions"])})
    return NewRecord(ANCHOR_KIND, body, batch_id=manifest["run_id"], as_of=manifest["as_of"],
                     ruleset_name=ruleset["name"], ruleset_version=ruleset["version"],
                     ruleset_hash=ruleset["hash"])
