"""The example third-party package (examples/example-plugin), installed with pip as a user
would, then seen by `credit` in a fresh interpreter through its entry point alone."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys

import pytest

from tests.credit_cli import CREDIT
from tests.paths import ROOT
from tests.plugin_helpers import AS_OF, audited_seq, make_ruleset
from tests.sample_customers import strong_customer

EXAMPLE = ROOT / "examples" / "example-plugin"
HOOKS = ["credit_rules_decision_recorded", "credit_rules_indicators",
         "credit_rules_register_commands"]


def _pip_install(source, target, isolated: bool) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input",
               "--disable-pip-version-check", "--retries", "1", "--timeout", "15",
               "--target", str(target), str(source)]
    if not isolated:
        command.insert(4, "--no-build-isolation")
    return subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=source)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A folder the example package is pip-installed into (its dist-info holds the entry
    point). pip builds a copy, so the checkout gets no build/ or egg-info."""
    base = tmp_path_factory.mktemp("example-plugin")
    source = base / "source"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))
    target = base / "site"
    run = _pip_install(source, target, isolated=False)
    if run.returncode != 0:
        # the venv's setuptools may be older than the package asks for: let pip fetch it
        shutil.rmtree(target, ignore_errors=True)
        run = _pip_install(source, target, isolated=True)
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"pip cannot build the example plugin offline: {last}")
    assert (target / "credit_rules_example_plugin").is_dir()
    return target


def run_credit(site, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("CREDIT_NO_ENTRY_POINTS", None)
    return subprocess.run([*CREDIT, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60)


def test_plugins_lists_the_installed_package(site):
    run = run_credit(site, "plugins", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["failed"] == []
    [pd_model] = [p for p in data["plugins"] if p["name"] == "pd_model"]
    assert pd_model == {"name": "pd_model", "version": "1.2.0",
                        "source": "entry point credit-rules-example-plugin", "hooks": HOOKS}
    # and the table
    run = run_credit(site, "plugins")
    assert run.returncode == 0
    [row] = [line for line in run.stdout.splitlines() if line.startswith("pd_model ")]
    assert "1.2.0" in row and "credit_rules_register_commands" in row


def test_the_package_adds_a_command(site):
    run = run_credit(site, "pd-model")
    assert (run.returncode, run.stdout, run.stderr) == (
        0, "pd_model: logistic stand-in, version 1.2.0\n", "")
    assert "pd-model" in run_credit(site, "--help").stdout
    # without the package the command does not exist: a usage error
    run = subprocess.run([*CREDIT, "pd-model"], capture_output=True, text=True, cwd=ROOT,
                         timeout=60, env={**os.environ, "CREDIT_NO_ENTRY_POINTS": "1"})
    assert run.returncode == 2
    assert "pd-model" in run.stderr


def test_decide_records_the_package_value(site, tmp_path, credit):
    ruleset = make_ruleset(tmp_path / "rs", {"pd_model": {
        "on_failure": "refer",
        "values": {"probability_of_default": {"type": "number"}}}}, checks=[{
            "id": "REF_PD", "when": "indicators.pd_model.probability_of_default > 0.05",
            "outcome": "refer", "reason": "PD_ABOVE_5_PERCENT",
            "message": "Probability of default above 5%"}])
    customer = tmp_path / "customer.json"
    customer.write_text(json.dumps(strong_customer()))
    run = run_credit(site, "validate", str(ruleset))
    assert run.returncode == 0, run.stderr
    run = run_credit(site, "decide", str(customer), "--ruleset", str(ruleset),
                     "--as-of", AS_OF, "--json")
    assert run.returncode == 0, run.stderr
    decision = json.loads(run.stdout)
    # leverage 4.0M/9.0M, 5 days overdue, as the example's logistic stand-in computes it
    expected = round(1 / (1 + math.exp(-(-4.0 + 3.0 * 4 / 9 + 0.02 * 5))), 6)
    assert expected > 0.05
    assert decision["admission"]["outcome"] == "refer"
    assert [r["code"] for r in decision["admission"]["reasons"]] == ["PD_ABOVE_5_PERCENT"]

    seq = audited_seq(run.stderr)
    shown = json.loads(credit("audit", "show", seq, "--json").stdout)
    body = shown["body"]
    assert body["enriched"]["indicators.pd_model.probability_of_default"] == {
        "value": expected, "plugin": "pd_model"}
    assert {"name": "pd_model", "version": "1.2.0"} in body["plugins"]
    assert "enrichment_failures" not in body["input"]

    # replayed without the package installed: the recorded value is enough
    run = subprocess.run([*CREDIT, "replay", str(seq)], capture_output=True, text=True,
                         cwd=ROOT, timeout=60, env={**os.environ, "CREDIT_NO_ENTRY_POINTS": "1"})
    assert run.returncode == 0, run.stderr
    assert "replays identically" in run.stdout


def test_without_the_package_the_ruleset_is_refused_and_the_decision_referred(tmp_path):
    ruleset = make_ruleset(tmp_path / "rs", {"pd_model": {
        "on_failure": "refer", "values": {"probability_of_default": {"type": "number"}}}})
    env = {**os.environ, "CREDIT_NO_ENTRY_POINTS": "1"}
    run = subprocess.run([*CREDIT, "validate", str(ruleset)], capture_output=True, text=True,
                         cwd=ROOT, timeout=60, env=env)
    assert run.returncode == 1
    assert "the plugin 'pd_model' is not installed" in run.stderr
    assert run.stderr.startswith(f"{ruleset / 'enrichment.yaml'}:")
