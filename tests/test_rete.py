"""engine/rete.py against durable_rules itself, in real subprocesses: joins that made
durable_rules 2.0.28 crash (reading past a list of join conditions whose last one is false)
and deleting a state no rule fired in (a crash in delete_state) now run to the end."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.paths import ROOT

pytest.importorskip("durable.engine", reason="durable-rules does not import here")

PROBE = """
import sys
from engine.language.codegen import Reporter
from engine.ruleset.monitoring import compile_monitoring
from engine.monitor.rete_session import ReteSession

spec = {"rules": [
    {"id": "R1", "match": [{"as": "a", "signal": "order_placed"},
                           {"as": "b", "signal": "order_placed", "when": "n > a.n"}],
     "actions": ["notify"]},
    {"id": "R2", "match": [{"as": "c", "signal": "bureau_alert"}], "actions": ["notify"]}]}
session = ReteSession("probe", compile_monitoring(spec, {}, False, Reporter()))
firings = 0
for customer in ("c1", "c2"):
    session.begin(customer)
    if customer == "c1":
        for n in range(8):
            firings += len(session.assert_signal(
                {"sid": customer, "id": f"o{n}", "signal": "order_placed", "n": n,
                 "day": 740000}))
    else:  # a signal no rule matches, then the state deleted
        session.assert_signal({"sid": customer, "id": "x", "signal": "clock", "n": 1,
                               "day": 740000})
    session.forget(customer)
print(firings)
"""


def test_joins_and_deleted_states_do_not_crash_durable_rules():
    for _ in range(8):  # the crash depended on the heap's layout: most runs, not all
        run = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
        assert run.returncode == 0, (run.returncode, run.stderr[-500:])
        assert run.stdout.split() == ["28"]  # every pair of the 8 orders, once
