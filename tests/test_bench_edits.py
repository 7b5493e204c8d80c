"""The bench scripts run by hand (make bench), never in CI; the one that edits the shipped
ruleset into a candidate finds the texts it edits there, so that a change of the shipped
rules cannot leave it failing unseen until someone measures."""

from __future__ import annotations

import importlib.util

from tests.paths import DEFAULT_RULESET, ROOT


def test_the_simulate_bench_finds_each_text_it_edits_once():
    spec = importlib.util.spec_from_file_location("bench_simulate",
                                                  ROOT / "bench" / "bench_simulate.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for name, (before, after) in bench.CHANGES.items():
        text = (DEFAULT_RULESET / name).read_text(encoding="utf-8")
        assert text.count(before) == 1, (name, before)
        assert before != after
