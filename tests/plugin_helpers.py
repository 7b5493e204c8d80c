"""Shared helpers for the plugin tests: small in-test plugins, rulesets copied from the
shipped one with an enrichment.yaml of the test's own, and running ``credit decide``
through the real command with a chosen set of plugins installed."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import threading
from pathlib import Path

import pluggy
import yaml

from engine.enrich import hookspecs, plugin_manager
from engine.enrich.hookspecs import hookimpl
from engine.enrich.plugin_manager import Plugins, load_plugins, register
from tests.credit_cli import invoke_credit
from tests.paths import DEFAULT_RULESET

AS_OF = "2026-06-30"
AS_OF_DATE = dt.date.fromisoformat(AS_OF)
TEST_VERSION = "1.0.0-test"

# The shipped ruleset reads indicators.industry.* in its grading: keep that plugin declared.
INDUSTRY = yaml.safe_load((DEFAULT_RULESET / "enrichment.yaml").read_text())["indicators"][
    "industry"]

# Admission checks that make a plugin's value visibly change the decision.
PD_CHECK = {"id": "KO_PD", "when": "indicators.probe.pd > 0.5", "outcome": "reject",
            "reason": "HIGH_PD", "message": "The model's probability of default is above 50%"}
BUREAU_CHECK = {"id": "KO_BUREAU_SCORE", "when": "bureau.score < 300", "outcome": "reject",
                "reason": "LOW_BUREAU_SCORE", "message": "Bureau score below 300"}
PROBE_VALUES = {"pd": {"type": "number"}, "label": {"type": "string"}}
BUREAU_VALUES = {"score": {"type": "number"}, "rating": {"type": "string"},
                 "report_date": {"type": "date"}}


def make_ruleset(folder: Path, indicators: dict | None = None, bureau: dict | None = None,
                 checks: list[dict] = ()) -> Path:
    """The shipped ruleset copied to ``folder``, with an enrichment.yaml declaring the
    industry plugin plus ``indicators`` and ``bureau``, and ``checks`` added to its
    admission checks."""
    shutil.copytree(DEFAULT_RULESET, folder, ignore=shutil.ignore_patterns("tests"))
    enrichment: dict = {"indicators": {"industry": INDUSTRY, **(indicators or {})}}
    if bureau is not None:
        enrichment["bureau"] = bureau
    (folder / "enrichment.yaml").write_text(yaml.safe_dump(enrichment, sort_keys=False),
                                            encoding="utf-8")
    if checks:
        admission = yaml.safe_load((folder / "admission.yaml").read_text(encoding="utf-8"))
        admission["checks"].extend(checks)
        (folder / "admission.yaml").write_text(yaml.safe_dump(admission, sort_keys=False),
                                               encoding="utf-8")
    return folder


def probe_ruleset(folder: Path, on_failure: str = "refer", timeout: float | None = None,
                  bureau: dict | None = None) -> Path:
    """A ruleset asking the plugin ``probe`` for ``pd`` and ``label``, rejecting pd > 0.5."""
    spec: dict = {"on_failure": on_failure}
    if timeout is not None:
        spec["timeout_seconds"] = timeout
    spec["values"] = PROBE_VALUES
    checks = [PD_CHECK] + ([BUREAU_CHECK] if bureau is not None else [])
    return make_ruleset(folder, {"probe": spec}, bureau, checks)


def bureau_spec(waterfall: list[str], on_unavailable: str = "refer",
                max_age_days: int | None = None, timeout: float | None = None) -> dict:
    spec: dict = {"waterfall": waterfall, "on_unavailable": on_unavailable}
    if max_age_days is not None:
        spec["max_age_days"] = max_age_days
    if timeout is not None:
        spec["timeout_seconds"] = timeout
    spec["values"] = BUREAU_VALUES
    return spec


# ---------------------------------------------------------------------------------------
# In-test plugins


class Indicator:
    """An indicator plugin answering ``answer`` (a value, or a callable of the customer),
    remembering every call."""

    def __init__(self, answer):
        self.answer = answer
        self.calls: list[dict] = []

    @hookimpl
    def credit_rules_indicators(self, customer, as_of, wanted):
        self.calls.append({"customer": customer, "as_of": as_of, "wanted": wanted})
        return self.answer(customer) if callable(self.answer) else self.answer


class Bureau:
    """A bureau connector answering ``answer`` (a report, None, or a callable)."""

    def __init__(self, answer):
        self.answer = answer
        self.calls: list[dict] = []

    @hookimpl
    def credit_rules_bureau_reports(self, customer, as_of):
        self.calls.append({"customer": customer, "as_of": as_of})
        return self.answer(customer) if callable(self.answer) else self.answer


class Raise:
    """A callable answer that raises."""

    def __init__(self, exc: BaseException):
        self.exc = exc

    def __call__(self, customer):
        raise self.exc


_SLEEPERS: list[threading.Event] = []


class Sleep:
    """A callable answer that blocks for ``seconds`` (or until released), then answers."""

    def __init__(self, seconds: float, then: object = None):
        self.seconds = seconds
        self.then = then
        self.released = threading.Event()
        _SLEEPERS.append(self.released)

    def __call__(self, customer):
        self.released.wait(self.seconds)
        return self.then


def release_sleepers() -> None:
    """Let every sleeping plugin thread finish (the engine's pool is shared)."""
    while _SLEEPERS:
        _SLEEPERS.pop().set()


def empty_plugins() -> Plugins:
    """A fresh Plugins with the hook specs and nothing registered."""
    manager = pluggy.PluginManager(plugin_manager.PROJECT)
    manager.add_hookspecs(hookspecs)
    return Plugins(manager)


def plugins_with(*extra: tuple[str, object], builtins: bool = True) -> Plugins:
    """The built-in plugins (unless ``builtins`` is False) and ``(name, plugin)`` pairs,
    all registered through engine.enrich.plugin_manager.register."""
    plugins = load_plugins(entry_points=False) if builtins else empty_plugins()
    for name, plugin in extra:
        register(plugins, plugin, name, TEST_VERSION, "test")
    return plugins


def install(monkeypatch, plugins: Plugins) -> Plugins:
    """Make ``plugins`` the plugins of this process (what installed_plugins() returns)."""
    monkeypatch.setattr(plugin_manager, "_loaded", plugins)
    return plugins


# ---------------------------------------------------------------------------------------
# Running credit


_counter = iter(range(1, 10_000))


def decide_cli(folder: Path, ruleset: Path, customer: dict, *extra: str):
    """``credit decide CUSTOMER --json`` with ``ruleset``; returns (decision, stored record
    as ``credit audit show SEQ --json`` prints it, the decide result)."""
    path = folder / f"customer-{next(_counter)}.json"
    path.write_text(json.dumps(customer), encoding="utf-8")
    result = invoke_credit("decide", path, "--ruleset", ruleset, "--as-of", AS_OF, "--json",
                           *extra)
    assert result.exit_code == 0, result.output + result.stderr
    decision = json.loads(result.stdout)
    seq = audited_seq(result.stderr)
    shown = invoke_credit("audit", "show", seq, "--json")
    assert shown.exit_code == 0, shown.stderr
    return decision, json.loads(shown.stdout), result


def audited_seq(stderr: str) -> int:
    match = re.search(r"audited as record (\d+)", stderr)
    assert match, stderr
    return int(match.group(1))


def reasons(decision: dict) -> list[tuple[str, str]]:
    return [(r["code"], r["message"]) for r in decision["admission"]["reasons"]]


def trace_read(decision: dict, rule_id: str) -> dict | None:
    """What rule ``rule_id`` read, from the decision's trace (which lists the checks that
    fired): None when it did not fire."""
    for step in decision["trace"]:
        if step["id"] == rule_id:
            return step["read"]
    return None
