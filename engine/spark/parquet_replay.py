"""Replaying the decisions of a Spark run from its Parquet partitions: each record is
decided again under the ruleset stored in the SQLite trail, from its recorded input and
date, and compared byte for byte (``engine.replay.Replayer``, as for the trail's own
records). All of them, or a sample drawn the same way every time for a run."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq

from ..audit.store import AuditStore
from ..replay import Replayer, ReplayResult
from .manifest import MANIFEST, read_json


def replay_parquet(folder: str | Path, store: AuditStore, sample: int | None = None
                   ) -> Iterator[tuple[int, ReplayResult]]:
    """``(partition index, result)`` for every decision of the run in ``folder`` (or a
    sample of ``sample`` of them, seeded by the run id), in partition and record order."""
    folder = Path(folder)
    manifest = read_json(folder / MANIFEST, "spark-batch manifest")
    chosen: dict[int, set[int] | None] = {}
    if sample is None:
        chosen = {p["index"]: None for p in manifest["partitions"]}
    else:
        decisions = []
        for entry in manifest["partitions"]:
            kinds = pq.read_table(folder / entry["file"], columns=["kind"])["kind"]
            decisions.extend((entry["index"], seq) for seq, kind in
                             enumerate(kinds.to_pylist(), start=1) if kind == "decision")
        picked = random.Random(manifest["run_id"]).sample(decisions,
                                                          min(sample, len(decisions)))
        for index, seq in picked:
            chosen.setdefault(index, set()).add(seq)
    replayer = Replayer(store)
    for entry in manifest["partitions"]:
        index = entry["index"]
        if index not in chosen:
            continue
        wanted = chosen[index]
        for row in pq.read_table(folder / entry["file"]).to_pylist():
            if row["kind"] == "decision" and (wanted is None or row["seq"] in wanted):
                yield index, replayer.replay(row)
