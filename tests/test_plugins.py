"""The plugin hooks, one test (or a few) per hook as datasette keeps them, and loading
plugins: `credit plugins`, a plugin that fails to load, `credit validate` naming a plugin a
ruleset needs that is not installed."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from engine import __version__
from engine.cli.main import CreditGroup, cli
from engine.cli.plugin_commands import register_plugin_commands
from engine.enrich import plugin_manager
from engine.enrich.hookspecs import hookimpl
from engine.enrich.plugin_manager import load_plugins
from tests.credit_cli import CREDIT
from tests.paths import ROOT
from tests.plugin_helpers import (
    AS_OF,
    AS_OF_DATE,
    PD_CHECK,
    TEST_VERSION,
    Bureau,
    Indicator,
    Raise,
    bureau_spec,
    decide_cli,
    install,
    make_ruleset,
    plugins_with,
    probe_ruleset,
    reasons,
    trace_read,
)
from tests.sample_customers import strong_customer

BUILT_IN = [module.rsplit(".", 1)[1] for module in plugin_manager.BUILTIN_PLUGINS]
ALL_HOOKS = ["credit_rules_bureau_reports", "credit_rules_decision_recorded",
             "credit_rules_indicators", "credit_rules_register_commands"]


def report(score: float = 720, rating: str = "A", age_days: int = 30) -> dict:
    date = AS_OF_DATE - dt.timedelta(days=age_days)
    return {"score": score, "rating": rating, "report_date": date.isoformat()}


# ---------------------------------------------------------------------------------------
# credit_rules_indicators


@pytest.mark.parametrize(("pd", "outcome"), [(0.1, "accept"), (0.9, "reject")])
def test_indicators_values_land_in_facts_and_audit(tmp_path, monkeypatch, pd, outcome):
    probe = Indicator({"pd": pd, "label": "model-7", "not_asked": 1})
    install(monkeypatch, plugins_with(("probe", probe)))
    ruleset = probe_ruleset(tmp_path / "rs")
    decision, shown, _ = decide_cli(tmp_path, ruleset, strong_customer())

    # the plugin was asked once, with keyword arguments, for the names declared
    [call] = probe.calls
    assert call["customer"]["id"] == "T-STRONG"
    assert call["as_of"] == AS_OF_DATE
    assert call["wanted"] == ["pd", "label"]
    # the value is a fact the rule read, and it decided the case
    assert decision["admission"]["outcome"] == outcome
    assert trace_read(decision, "KO_PD") == ({"indicators.probe.pd": pd}
                                             if outcome == "reject" else None)
    assert (("HIGH_PD", "The model's probability of default is above 50%") in
            reasons(decision)) == (outcome == "reject")
    # the audit record: input holds the values (names not asked for dropped), enriched
    # names the plugin of each, plugins lists every loaded plugin with its version
    body = shown["body"]
    assert body["input"]["indicators"]["probe"] == {"pd": pd, "label": "model-7"}
    assert body["enriched"]["indicators.probe.pd"] == {"value": pd, "plugin": "probe"}
    assert body["enriched"]["indicators.probe.label"] == {"value": "model-7",
                                                          "plugin": "probe"}
    assert body["enriched"]["indicators.industry.growth"]["plugin"] == "industry"
    assert {"name": "probe", "version": TEST_VERSION} in body["plugins"]
    assert {"name": "industry", "version": __version__} in body["plugins"]
    assert "enrichment_failures" not in body["input"]


def test_every_indicator_plugin_listed_is_used(tmp_path, monkeypatch):
    probe = Indicator({"pd": 0.2, "label": None})
    rating = Indicator({"analyst_grade": "BB"})
    install(monkeypatch, plugins_with(("probe", probe), ("rating_desk", rating)))
    ruleset = make_ruleset(tmp_path / "rs", {
        "probe": {"values": {"pd": {"type": "number"}, "label": {"type": "string"}}},
        "rating_desk": {"values": {"analyst_grade": {"type": "string"}}}}, checks=[{
            "id": "REF_ANALYST", "when": "indicators.rating_desk.analyst_grade == 'BB'",
            "outcome": "refer", "reason": "ANALYST_BB", "message": "Analyst grade BB"}])
    decision, shown, _ = decide_cli(tmp_path, ruleset, strong_customer())
    assert decision["admission"]["outcome"] == "refer"
    assert [code for code, _ in reasons(decision)] == ["ANALYST_BB"]
    enriched = shown["body"]["enriched"]
    assert enriched["indicators.rating_desk.analyst_grade"] == {"value": "BB",
                                                                "plugin": "rating_desk"}
    # a null value is a value the plugin gave: recorded as null, with its plugin
    assert enriched["indicators.probe.label"] == {"value": None, "plugin": "probe"}
    assert shown["body"]["input"]["indicators"]["probe"] == {"pd": 0.2, "label": None}


def test_plugin_may_take_only_the_arguments_it_needs(tmp_path, monkeypatch):
    class Minimal:
        @hookimpl
        def credit_rules_indicators(self, wanted):
            return dict.fromkeys(wanted, 0.75)

    install(monkeypatch, plugins_with(("probe", Minimal())))
    ruleset = make_ruleset(tmp_path / "rs", {"probe": {"values": {"pd": {"type": "number"}}}},
                           checks=[PD_CHECK])
    decision, _, _ = decide_cli(tmp_path, ruleset, strong_customer())
    assert decision["admission"]["outcome"] == "reject"


# ---------------------------------------------------------------------------------------
# credit_rules_bureau_reports: the waterfall


def test_bureau_first_report_wins_and_the_rest_are_not_asked(tmp_path, monkeypatch):
    first, second = Bureau(report(score=250, rating="C")), Bureau(report(score=800))
    ruleset = probe_ruleset(tmp_path / "rs", on_failure="continue",
                            bureau=bureau_spec(["first_bureau", "second_bureau"]))
    install(monkeypatch, plugins_with(("first_bureau", first), ("second_bureau", second),
                                      ("probe", Indicator({"pd": 0.0}))))
    decision, shown, _ = decide_cli(tmp_path, ruleset, strong_customer())
    assert len(first.calls) == 1
    assert first.calls[0]["as_of"] == AS_OF_DATE
    assert second.calls == []
    # the score read by the rule is the first bureau's, and it rejects the case
    assert trace_read(decision, "KO_BUREAU_SCORE") == {"bureau.score": 250}
    assert decision["admission"]["outcome"] == "reject"
    assert "LOW_BUREAU_SCORE" in [code for code, _ in reasons(decision)]
    body = shown["body"]
    assert body["input"]["bureau"] == {**report(score=250, rating="C"),
                                       "source": "first_bureau"}
    assert body["enriched"]["bureau.score"] == {"value": 250, "plugin": "first_bureau"}
    assert body["enriched"]["bureau.rating"] == {"value": "C", "plugin": "first_bureau"}
    assert "enrichment_failures" not in body["input"]


def _bureau_case(tmp_path, monkeypatch, connectors: dict, **spec):
    plugins = plugins_with(*connectors.items(), ("probe", Indicator({"pd": 0.0})))
    install(monkeypatch, plugins)
    ruleset = probe_ruleset(tmp_path / "rs", bureau=bureau_spec(list(connectors), **spec))
    return decide_cli(tmp_path, ruleset, strong_customer())


def test_bureau_no_report_goes_on_to_the_next(tmp_path, monkeypatch):
    none, answer = Bureau(None), Bureau(report(score=640))
    decision, shown, _ = _bureau_case(tmp_path, monkeypatch,
                                      {"empty_bureau": none, "good_bureau": answer})
    assert len(none.calls) == 1 and len(answer.calls) == 1
    assert shown["body"]["input"]["bureau"]["source"] == "good_bureau"
    assert shown["body"]["enriched"]["bureau.score"] == {"value": 640,
                                                         "plugin": "good_bureau"}
    assert decision["admission"]["outcome"] == "accept"
    assert "enrichment_failures" not in shown["body"]["input"]


def test_bureau_failing_connector_is_recorded_and_the_next_asked(tmp_path, monkeypatch):
    broken, answer = Bureau(Raise(ConnectionError("bureau API 503"))), Bureau(report())
    decision, shown, _ = _bureau_case(tmp_path, monkeypatch,
                                      {"broken_bureau": broken, "good_bureau": answer})
    assert len(answer.calls) == 1
    assert shown["body"]["input"]["bureau"]["source"] == "good_bureau"
    assert shown["body"]["input"]["enrichment_failures"] == [
        {"source": "broken_bureau", "kind": "bureau",
         "error": "raised ConnectionError: bureau API 503"}]
    # the waterfall found a report: the connector's failure is recorded, not a reason
    assert decision["admission"]["outcome"] == "accept"
    assert reasons(decision) == []


@pytest.mark.parametrize(("age", "used"), [(90, "old_bureau"), (91, "fresh_bureau")])
def test_bureau_report_older_than_max_age_counts_as_none(tmp_path, monkeypatch, age, used):
    old, fresh = Bureau(report(score=100, age_days=age)), Bureau(report(score=700, age_days=1))
    decision, shown, _ = _bureau_case(tmp_path, monkeypatch,
                                      {"old_bureau": old, "fresh_bureau": fresh},
                                      max_age_days=90)
    assert shown["body"]["input"]["bureau"]["source"] == used
    assert decision["admission"]["outcome"] == ("reject" if used == "old_bureau"
                                                else "accept")
    assert len(fresh.calls) == (age > 90)


def test_bureau_report_missing_declared_fields_gives_nulls(tmp_path, monkeypatch):
    decision, shown, _ = _bureau_case(tmp_path, monkeypatch,
                                      {"thin_bureau": Bureau({"score": 500})})
    assert shown["body"]["input"]["bureau"] == {"score": 500, "rating": None,
                                                "report_date": None,
                                                "source": "thin_bureau"}
    assert decision["admission"]["outcome"] == "accept"


# ---------------------------------------------------------------------------------------
# credit_rules_decision_recorded


class Listener:
    def __init__(self, fail: bool = False):
        self.fail = fail
        self.calls: list[tuple[dict, dict]] = []

    @hookimpl
    def credit_rules_decision_recorded(self, record, decision):
        self.calls.append((record, decision))
        if self.fail:
            raise RuntimeError("webhook unreachable\nretry later")


def test_decision_recorded_gets_the_record_and_the_decision_without_trace(
        tmp_path, monkeypatch):
    listener = Listener()
    install(monkeypatch, plugins_with(("listener", listener), ("probe", Indicator({"pd": 0.9}))))
    decision, shown, result = decide_cli(tmp_path, probe_ruleset(tmp_path / "rs"),
                                         strong_customer())
    [(record, told)] = listener.calls
    assert record == {"seq": shown["seq"], "hash": shown["hash"],
                      "decision_id": decision["decision_id"], "customer_id": "T-STRONG"}
    assert "trace" not in told
    assert json.loads(json.dumps(told)) == {k: v for k, v in decision.items()
                                           if k != "trace"}
    assert told["admission"]["outcome"] == "reject"
    assert "warning" not in result.stderr


def test_decision_recorded_failure_is_a_warning_and_others_still_told(tmp_path, monkeypatch,
                                                                      credit):
    failing, other = Listener(fail=True), Listener()
    install(monkeypatch, plugins_with(("failing_listener", failing), ("other_listener", other)))
    decision, shown, result = decide_cli(tmp_path, make_ruleset(tmp_path / "rs"),
                                         strong_customer())
    assert len(failing.calls) == 1 and len(other.calls) == 1
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warnings == ["credit: warning: plugin failing_listener (decision recorded) raised "
                        "RuntimeError: webhook unreachable retry later"]
    # the decision stands, audited
    assert shown["decision_id"] == decision["decision_id"]
    assert credit("audit", "verify").exit_code == 0


def test_decision_recorded_and_indicators_in_batch(tmp_path, monkeypatch, credit):
    listener = Listener()
    probe = Indicator(lambda customer: {"pd": 0.9 if customer["id"] == "T-RISKY" else 0.1})
    install(monkeypatch, plugins_with(("listener", listener), ("probe", probe)))
    ruleset = probe_ruleset(tmp_path / "rs")
    portfolio = tmp_path / "portfolio.jsonl"
    portfolio.write_text("".join(json.dumps(strong_customer(id=name)) + "\n"
                                 for name in ("T-ONE", "T-RISKY", "T-TWO")))
    out = tmp_path / "results.jsonl"
    result = credit("batch", portfolio, "--out", out, "--ruleset", ruleset, "--as-of", AS_OF,
                    "--json")
    assert result.exit_code == 0, result.output + result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["admission"]["outcome"] for line in lines] == ["accept", "reject", "accept"]
    assert [r["customer_id"] for r, _ in listener.calls] == ["T-ONE", "T-RISKY", "T-TWO"]
    assert len({r["seq"] for r, _ in listener.calls}) == 3
    assert all("trace" not in d for _, d in listener.calls)
    shown = json.loads(credit("audit", "show", listener.calls[1][0]["seq"], "--json").stdout)
    assert shown["body"]["enriched"]["indicators.probe.pd"] == {"value": 0.9,
                                                                "plugin": "probe"}


# ---------------------------------------------------------------------------------------
# credit_rules_register_commands


class Commands:
    @hookimpl
    def credit_rules_register_commands(self, cli):
        @cli.command("hello")
        @click.option("--name", default="world")
        def hello(name):
            """Greet someone (a plugin's command)."""
            click.echo(f"hello {name}")

        @cli.command("boom")
        def boom():
            """Fail the way built-in commands fail."""
            raise click.ClickException("the plugin's command failed")


class BadCommands:
    @hookimpl
    def credit_rules_register_commands(self, cli):
        raise ImportError("optional dependency missing")


def _fresh_group() -> click.Group:
    """A copy of the credit group, so that plugins' commands do not leak into other tests."""
    return CreditGroup(name="credit", commands=dict(cli.commands), lazy=cli.lazy,
                       context_settings=cli.context_settings)


def test_register_commands_adds_a_working_subcommand(monkeypatch, capsys):
    install(monkeypatch, plugins_with(("greeter", Commands()), ("bad_commands", BadCommands())))
    group = _fresh_group()
    register_plugin_commands(group)
    assert capsys.readouterr().err.strip().splitlines() == [
        "credit: warning: plugin bad_commands (register commands) raised ImportError: "
        "optional dependency missing"]
    assert {"hello", "boom"} <= set(group.commands)
    assert {"hello", "boom", "decide", "plugins"} <= set(group.list_commands(None))
    assert "hello" not in cli.commands

    result = CliRunner().invoke(group, ["hello", "--name", "auditor"])
    assert (result.exit_code, result.stdout) == (0, "hello auditor\n")
    result = CliRunner().invoke(group, ["--help"])
    assert "hello" in result.stdout and "Greet someone" in result.stdout
    # a plugin command's error is one line, as a built-in command's
    result = CliRunner().invoke(group, ["boom"])
    assert result.exit_code == 1
    assert result.stderr == "credit: error: the plugin's command failed\n"


# ---------------------------------------------------------------------------------------
# loading plugins: entry points, `credit plugins`


BROKEN_MODULE = 'raise RuntimeError("licence server\\nunreachable")\n'
GOOD_MODULE = '''
import pluggy

hookimpl = pluggy.HookimplMarker("credit_rules")


@hookimpl
def credit_rules_indicators(wanted):
    return dict.fromkeys(wanted, 1.0)
'''


def make_site(folder: Path, entry_points: dict[str, str], tag: str) -> Path:
    """A folder holding an installed distribution (dist-info) with ``entry_points`` in
    the group credit_rules, and the modules they name (suffixed with ``tag``)."""
    folder.mkdir()
    (folder / f"broken_plugin_{tag}.py").write_text(BROKEN_MODULE)
    (folder / f"good_plugin_{tag}.py").write_text(GOOD_MODULE)
    info = folder / "credit_rules_test_plugins-0.3.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: credit-rules-test-plugins\n"
                                   "Version: 0.3.0\n")
    (info / "entry_points.txt").write_text("[credit_rules]\n" + "".join(
        f"{name} = {module.format(tag=tag)}\n" for name, module in entry_points.items()))
    return folder


@pytest.fixture
def site(tmp_path, monkeypatch):
    """Entry points: ``broken`` (raises on import) and ``rating_desk`` (a good one),
    importable in this process; installed_plugins() loads them afresh."""
    tag = tmp_path.name.replace("-", "_").replace(".", "_")
    folder = make_site(tmp_path / "site", {"broken": "broken_plugin_{tag}",
                                          "rating_desk": "good_plugin_{tag}"}, tag)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delenv("CREDIT_NO_ENTRY_POINTS", raising=False)
    monkeypatch.setattr(plugin_manager, "_loaded", None)
    yield folder
    sys.modules.pop(f"good_plugin_{tag}", None)


def test_plugin_failing_to_load_is_named_and_the_others_listed(site, credit):
    result = credit("plugins")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "credit: error: plugin broken failed to load: RuntimeError: licence server "
        "unreachable"]
    names = [line.split()[0] for line in result.stdout.splitlines()[2:]]
    assert names == [*BUILT_IN, "rating_desk"]
    assert "entry point credit-rules-test-plugins" in result.stdout


def test_plugins_json_shape(site, credit):
    result = credit("plugins", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert set(data) == {"plugins", "failed"}
    assert [p["name"] for p in data["plugins"]] == [*BUILT_IN, "rating_desk"]
    assert all(set(p) == {"name", "version", "source", "hooks"} for p in data["plugins"])
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["industry"] == {"name": "industry", "version": __version__,
                                   "source": "built-in", "hooks": ["credit_rules_indicators"]}
    assert by_name["bureau_files"] == {"name": "bureau_files", "version": __version__,
                                       "source": "built-in",
                                       "hooks": ["credit_rules_bureau_reports"]}
    assert by_name["rating_desk"] == {"name": "rating_desk", "version": "0.3.0",
                                      "source": "entry point credit-rules-test-plugins",
                                      "hooks": ["credit_rules_indicators"]}
    assert data["failed"] == [{"name": "broken",
                               "error": "RuntimeError: licence server unreachable"}]
    assert len(result.stderr.splitlines()) == 1


def test_plugins_without_failures_exit_zero(monkeypatch, credit):
    monkeypatch.setattr(plugin_manager, "_loaded", None)
    monkeypatch.setenv("CREDIT_NO_ENTRY_POINTS", "1")
    result = credit("plugins", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [p["name"] for p in data["plugins"]] == BUILT_IN
    assert data["failed"] == []


def test_entry_point_with_a_built_in_name_is_refused(tmp_path, monkeypatch):
    tag = "dup_" + tmp_path.name.replace("-", "_")
    folder = make_site(tmp_path / "site", {"industry": "good_plugin_{tag}"}, tag)
    monkeypatch.syspath_prepend(str(folder))
    plugins = load_plugins()
    sys.modules.pop(f"good_plugin_{tag}", None)
    assert plugins.names() == BUILT_IN
    assert [(f.name, f.error) for f in plugins.failures] == [
        ("industry", "ValueError: a plugin named industry is already loaded")]
    # the built-in is the one in use
    assert {i.source for i in plugins.infos} == {"built-in"}


def test_plugins_command_in_a_fresh_process(tmp_path):
    """The real entry-point path and exit code, in a new interpreter."""
    folder = make_site(tmp_path / "site", {"broken": "broken_plugin_{tag}",
                                          "rating_desk": "good_plugin_{tag}"}, "p")
    env = {**os.environ, "PYTHONPATH": str(folder)}
    env.pop("CREDIT_NO_ENTRY_POINTS", None)
    run = subprocess.run([*CREDIT, "plugins"], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=60)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "credit: error: plugin broken failed to load: RuntimeError: licence server "
        "unreachable"]
    assert "rating_desk" in run.stdout and "bureau_files" in run.stdout
    # $CREDIT_NO_ENTRY_POINTS=1 keeps to the built-in plugins
    run = subprocess.run([*CREDIT, "plugins"], capture_output=True, text=True,
                         env={**env, "CREDIT_NO_ENTRY_POINTS": "1"}, cwd=ROOT, timeout=60)
    assert (run.returncode, run.stderr) == (0, "")
    assert "rating_desk" not in run.stdout


def test_loaded_plugin_lists_every_hook_it_implements():
    class Everything(Indicator, Bureau, Listener, Commands):
        def __init__(self):
            Indicator.__init__(self, {})
            Listener.__init__(self)

    plugins = plugins_with(("everything", Everything()), builtins=False)
    assert plugins.versions() == [{"name": "everything", "version": TEST_VERSION}]
    assert list(plugins.infos[0].hooks) == ALL_HOOKS


# ---------------------------------------------------------------------------------------
# credit validate: plugins a ruleset needs


def _location(path: Path, needle: str, occurrence: int = 0) -> str:
    """FILE:LINE:COL of ``needle`` (1-based) in ``path``."""
    lines = path.read_text().splitlines()
    found = [(n, line.index(needle)) for n, line in enumerate(lines, 1) if needle in line]
    line, col = found[occurrence]
    return f"{path}:{line}:{col + 1}"


def test_validate_names_plugins_that_are_not_installed(tmp_path, monkeypatch, credit):
    install(monkeypatch, plugins_with())
    ruleset = probe_ruleset(tmp_path / "rs",
                            bureau=bureau_spec(["bureau_files", "nope_bureau"]))
    enrichment = ruleset / "enrichment.yaml"
    result = credit("validate", ruleset)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{_location(enrichment, 'probe:')}: the plugin 'probe' is not installed (install "
        "the package that provides it; it must implement credit_rules_indicators; see "
        "'credit plugins')",
        f"{_location(enrichment, 'nope_bureau')}: the plugin 'nope_bureau' is not installed "
        "(install the package that provides it; it must implement "
        "credit_rules_bureau_reports; see 'credit plugins')"]


def test_validate_wants_the_hook_the_ruleset_uses(tmp_path, monkeypatch, credit):
    # installed, but as a bureau: it cannot give indicators
    install(monkeypatch, plugins_with(("probe", Bureau(None))))
    result = credit("validate", probe_ruleset(tmp_path / "rs"))
    assert result.exit_code == 1
    assert "the plugin 'probe' is not installed" in result.stderr
    assert "credit_rules_indicators" in result.stderr


def test_validate_passes_once_the_plugin_is_installed(tmp_path, monkeypatch, credit):
    install(monkeypatch, plugins_with(("probe", Indicator({}))))
    result = credit("validate", probe_ruleset(tmp_path / "rs"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ok: ")


def test_validate_in_a_fresh_process(tmp_path):
    ruleset = probe_ruleset(tmp_path / "rs")
    run = subprocess.run([*CREDIT, "validate", str(ruleset)], capture_output=True, text=True,
                         cwd=ROOT, timeout=60,
                         env={**os.environ, "CREDIT_NO_ENTRY_POINTS": "1"})
    assert run.returncode == 1
    [line] = run.stderr.splitlines()
    assert line.startswith(_location(ruleset / "enrichment.yaml", "probe:") + ": ")
    assert "'probe' is not installed" in line


def test_what_the_plugins_work_out_once_follows_every_registration():
    """versions, implements and the hook callers are worked out once and kept while the
    plugins stay the same: a plugin registered later, or taken out of pluggy, is seen."""
    hook = "credit_rules_indicators"
    first = Indicator({"pd": 0.1})
    plugins = plugins_with(("first", first), builtins=False)
    assert plugins.versions() is plugins.versions()  # kept while nothing changes
    assert plugins.versions() == [{"name": "first", "version": TEST_VERSION}]
    assert plugins.implements("first", hook) and not plugins.implements("second", hook)
    assert plugins.call_one("first", hook, customer={}, as_of=AS_OF_DATE,
                            wanted=["pd"]) == {"pd": 0.1}

    second = Indicator({"pd": 0.2})
    plugin_manager.register(plugins, second, "second", "2.0", "test")
    assert plugins.versions() == [{"name": "first", "version": TEST_VERSION},
                                  {"name": "second", "version": "2.0"}]
    assert plugins.implements("second", hook)
    assert plugins.call_one("second", hook, customer={}, as_of=AS_OF_DATE,
                            wanted=["pd"]) == {"pd": 0.2}
    assert [name for name, _ in plugins.call_each(hook, customer={}, as_of=AS_OF_DATE,
                                                  wanted=[])] == ["second", "first"]

    plugins.manager.unregister(name="first")  # behind Plugins' back, as a test may
    with pytest.raises(plugin_manager.PluginCallError,
                       match=f"^plugin first does not implement {hook}$"):
        plugins.call_one("first", hook, customer={}, as_of=AS_OF_DATE, wanted=[])
    assert [name for name, _ in plugins.call_each(hook, customer={}, as_of=AS_OF_DATE,
                                                  wanted=[])] == ["second"]
    assert len(first.calls) == 2 and len(second.calls) == 3  # none after it was taken out


def test_a_hook_gets_the_arguments_it_names_in_its_order():
    """A plugin's function is given the keyword arguments it names, however many (none,
    one, all) and in whatever order it names them."""
    class Picky:
        @hookimpl
        def credit_rules_indicators(self, wanted, customer):
            return {"got": [wanted, customer]}

    class Single:
        @hookimpl
        def credit_rules_indicators(self, as_of):
            return {"got": [as_of]}

    class Nothing:
        @hookimpl
        def credit_rules_indicators(self):
            return {"got": []}

    plugins = plugins_with(("picky", Picky()), ("single", Single()), ("nothing", Nothing()),
                           builtins=False)
    hook = "credit_rules_indicators"
    arguments = {"customer": {"id": "C-1"}, "as_of": AS_OF_DATE, "wanted": ["got"]}
    assert plugins.call_one("picky", hook, **arguments) == {"got": [["got"], {"id": "C-1"}]}
    assert plugins.call_one("single", hook, **arguments) == {"got": [AS_OF_DATE]}
    assert plugins.call_each(hook, **arguments) == [
        ("nothing", {"got": []}), ("single", {"got": [AS_OF_DATE]}),
        ("picky", {"got": [["got"], {"id": "C-1"}]})]
