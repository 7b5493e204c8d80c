"""Enrichment when plugins fail, the built-in plugins, and the purity of decisions made
with plugins (a replay never calls one)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from engine.enrich import plugin_manager
from engine.enrich.enrichment import enrich
from engine.enrich.hookspecs import hookimpl
from engine.ruleset.loader import load_ruleset
from tests.credit_cli import CREDIT
from tests.paths import DEFAULT_RULESET, ROOT
from tests.plugin_helpers import (
    AS_OF,
    AS_OF_DATE,
    BUREAU_CHECK,
    Bureau,
    Indicator,
    Raise,
    Sleep,
    bureau_spec,
    decide_cli,
    empty_plugins,
    install,
    make_ruleset,
    plugins_with,
    probe_ruleset,
    reasons,
    release_sleepers,
    trace_read,
)
from tests.sample_customers import strong_customer

POLICIES = ("continue", "refer", "reject")
OUTCOME = {"continue": "accept", "refer": "refer", "reject": "reject"}
TIMEOUT = 0.2


@pytest.fixture(autouse=True)
def _release_sleeping_plugins():
    yield
    release_sleepers()


@pytest.fixture(scope="module")
def rulesets(tmp_path_factory):
    """Rulesets built once per module: ``(kind, policy)`` -> folder."""
    cache: dict = {}

    def get(kind: str, policy: str):
        if (kind, policy) not in cache:
            folder = tmp_path_factory.mktemp(f"{kind}-{policy}") / "rs"
            if kind == "indicators":
                cache[kind, policy] = probe_ruleset(folder, on_failure=policy, timeout=TIMEOUT)
            else:
                cache[kind, policy] = make_ruleset(folder, bureau=bureau_spec(
                    ["flaky"], on_unavailable=policy, timeout=TIMEOUT), checks=[BUREAU_CHECK])
        return cache[kind, policy]

    return get


# ---------------------------------------------------------------------------------------
# every failure mode, under every policy


INDICATOR_FAILURES = {
    "raises": (lambda: Indicator(Raise(RuntimeError("model server down"))),
               "raised RuntimeError: model server down"),
    "times out": (lambda: Indicator(Sleep(3.0, then={"pd": 0.9})),
                  f"timed out after {TIMEOUT:g} s"),
    "non-mapping": (lambda: Indicator([0.9, "model-7"]), "answered with list, not a mapping"),
    "wrong type": (lambda: Indicator({"pd": "high", "label": "model-7"}),
                   "gave pd = 'high', not a number"),
    "not installed": (None, "is not installed (no loaded plugin of that name implements "
                            "credit_rules_indicators)"),
}


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("mode", list(INDICATOR_FAILURES))
def test_indicator_plugin_failure_follows_on_failure(tmp_path, monkeypatch, rulesets, mode,
                                                     policy):
    make, error = INDICATOR_FAILURES[mode]
    install(monkeypatch, plugins_with(*([("probe", make())] if make else [])))
    decision, shown, result = decide_cli(tmp_path, rulesets("indicators", policy),
                                         strong_customer())
    # the decision completed, by the policy
    assert decision["admission"]["outcome"] == OUTCOME[policy]
    assert shown["outcome"] == OUTCOME[policy]
    if policy == "continue":
        assert reasons(decision) == []
    else:
        assert decision["admission"]["reasons"] == [
            {"code": "PLUGIN_FAILED", "message": f"probe: {error}", "stage": "enrichment"}]
    # a rejected case gets no credit policy
    assert (decision["policy"] is None) == (policy == "reject")
    # the audit record says which plugin failed, and how
    body = shown["body"]
    assert body["input"]["enrichment_failures"] == [
        {"source": "probe", "kind": "indicators", "error": error}]
    # no value from it: the rule reading it saw null (so did not fire)
    assert "probe" not in body["input"].get("indicators", {})
    assert not [name for name in body["enriched"] if name.startswith("indicators.probe.")]
    assert trace_read(decision, "KO_PD") is None
    # the other plugins were still used
    assert body["enriched"]["indicators.industry.growth"]["plugin"] == "industry"
    assert "warning" not in result.stderr


def test_continue_leaves_the_values_null_for_the_rules(tmp_path, monkeypatch):
    install(monkeypatch, plugins_with(("probe", Indicator(Raise(ValueError("no data"))))))
    ruleset = make_ruleset(tmp_path / "rs", {"probe": {
        "on_failure": "continue", "values": {"pd": {"type": "number"}}}}, checks=[{
            "id": "REF_NO_PD", "when": "is_missing(indicators.probe.pd)", "outcome": "refer",
            "reason": "NO_PD", "message": "No probability of default"}])
    decision, shown, _ = decide_cli(tmp_path, ruleset, strong_customer())
    assert trace_read(decision, "REF_NO_PD") == {"indicators.probe.pd": None}
    assert [code for code, _ in reasons(decision)] == ["NO_PD"]
    assert shown["body"]["input"]["enrichment_failures"] == [
        {"source": "probe", "kind": "indicators", "error": "raised ValueError: no data"}]


BUREAU_FAILURES = {
    "raises": (lambda: Bureau(Raise(ConnectionError("reset by peer"))),
               "raised ConnectionError: reset by peer"),
    "times out": (lambda: Bureau(Sleep(3.0, then={"score": 100})),
                  f"timed out after {TIMEOUT:g} s"),
    "non-mapping": (lambda: Bureau("<html>503</html>"), "answered with str, not a mapping"),
    "wrong type": (lambda: Bureau({"score": 700, "report_date": "01/05/2026"}),
                   "gave report_date = '01/05/2026', not a date"),
    "not installed": (None, "is not installed (no loaded plugin of that name implements "
                            "credit_rules_bureau_reports)"),
}


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("mode", list(BUREAU_FAILURES))
def test_bureau_failure_follows_on_unavailable(tmp_path, monkeypatch, rulesets, mode, policy):
    make, error = BUREAU_FAILURES[mode]
    install(monkeypatch, plugins_with(*([("flaky", make())] if make else [])))
    decision, shown, _ = decide_cli(tmp_path, rulesets("bureau", policy), strong_customer())
    assert decision["admission"]["outcome"] == OUTCOME[policy]
    if policy == "continue":
        assert reasons(decision) == []
    else:
        assert decision["admission"]["reasons"] == [
            {"code": "BUREAU_UNAVAILABLE", "stage": "enrichment",
             "message": f"bureau: no usable report: flaky (failed: {error})"}]
    body = shown["body"]
    assert body["input"]["enrichment_failures"] == [
        {"source": "flaky", "kind": "bureau", "error": error},
        {"source": "bureau", "kind": "bureau",
         "error": f"no usable report: flaky (failed: {error})"}]
    assert "bureau" not in body["input"]
    assert not [name for name in body["enriched"] if name.startswith("bureau.")]


@pytest.mark.parametrize("policy", POLICIES)
def test_bureau_on_unavailable_when_no_connector_has_a_report(tmp_path, monkeypatch, policy):
    empty, stale = Bureau(None), Bureau({"score": 100, "report_date": "2025-12-01"})
    install(monkeypatch, plugins_with(("empty_bureau", empty), ("stale_bureau", stale)))
    ruleset = make_ruleset(tmp_path / "rs", bureau=bureau_spec(
        ["empty_bureau", "stale_bureau"], on_unavailable=policy, max_age_days=180),
        checks=[BUREAU_CHECK])
    decision, shown, _ = decide_cli(tmp_path, ruleset, strong_customer())
    message = "no usable report: empty_bureau (no report), stale_bureau (report 211 days old)"
    assert decision["admission"]["outcome"] == OUTCOME[policy]
    assert reasons(decision) == ([] if policy == "continue" else
                                 [("BUREAU_UNAVAILABLE", f"bureau: {message}")])
    assert shown["body"]["input"]["enrichment_failures"] == [
        {"source": "bureau", "kind": "bureau", "error": message}]
    # the stale report's score (100) was not used
    assert trace_read(decision, "KO_BUREAU_SCORE") is None


def test_a_failing_plugin_never_stops_another(tmp_path, monkeypatch):
    install(monkeypatch, plugins_with(("probe", Indicator(Raise(KeyError("pd")))),
                                      ("rating_desk", Indicator({"grade": "B"}))))
    ruleset = make_ruleset(tmp_path / "rs", {
        "probe": {"on_failure": "refer", "values": {"pd": {"type": "number"}}},
        "rating_desk": {"on_failure": "reject", "values": {"grade": {"type": "string"}}}})
    decision, shown, _ = decide_cli(tmp_path, ruleset, strong_customer())
    assert reasons(decision) == [("PLUGIN_FAILED", "probe: raised KeyError: 'pd'")]
    assert decision["admission"]["outcome"] == "refer"
    assert shown["body"]["enriched"]["indicators.rating_desk.grade"] == {
        "value": "B", "plugin": "rating_desk"}


def test_failure_message_is_one_line_and_short(tmp_path, monkeypatch):
    long = "line one\n" + "x" * 500
    install(monkeypatch, plugins_with(("probe", Indicator(Raise(RuntimeError(long))))))
    decision, _, _ = decide_cli(tmp_path, probe_ruleset(tmp_path / "rs"), strong_customer())
    [(code, message)] = reasons(decision)
    assert code == "PLUGIN_FAILED"
    assert "\n" not in message and message.startswith("probe: raised RuntimeError: line one x")
    assert len(message) < 260


# ---------------------------------------------------------------------------------------
# engine bugs these tests found, since fixed


@pytest.mark.parametrize("kind", ["indicators", "bureau"])
def test_non_finite_number_is_a_wrong_shape_failure(tmp_path, monkeypatch, kind):
    if kind == "indicators":
        install(monkeypatch, plugins_with(("probe", Indicator({"pd": float("inf")}))))
        ruleset = probe_ruleset(tmp_path / "rs", on_failure="refer")
        code, source = "PLUGIN_FAILED", "probe"
    else:
        install(monkeypatch, plugins_with(("flaky", Bureau({"score": float("-inf")}))))
        ruleset = make_ruleset(tmp_path / "rs", bureau=bureau_spec(["flaky"]),
                               checks=[BUREAU_CHECK])
        code, source = "BUREAU_UNAVAILABLE", "flaky"
    decision, shown, _ = decide_cli(tmp_path, ruleset, strong_customer())
    assert decision["admission"]["outcome"] == "refer"
    assert [c for c, _ in reasons(decision)] == [code]
    assert shown["body"]["input"]["enrichment_failures"][0]["source"] == source


def test_hung_plugin_does_not_starve_other_plugins(tmp_path, monkeypatch):
    hung = Indicator(Sleep(10.0, then={}))
    healthy = Indicator({"pd": 0.1})
    plugins = plugins_with(("hung", hung), ("probe", healthy))
    ruleset = load_ruleset(make_ruleset(tmp_path / "rs", {
        "hung": {"on_failure": "continue", "timeout_seconds": 0.05,
                 "values": {"x": {"type": "number"}}},
        "probe": {"on_failure": "refer", "timeout_seconds": 0.5,
                  "values": {"pd": {"type": "number"}}}}))
    failed = []
    for n in range(10):
        enriched = enrich(ruleset, strong_customer(id=f"T-{n}"), AS_OF_DATE, plugins)
        failed += [f for f in enriched.failures if f["source"] == "probe"]
        if failed:
            break
    assert failed == []


def test_plugin_calling_sys_exit_is_recorded_as_failed(tmp_path):
    plugins = plugins_with(("probe", Indicator(Raise(SystemExit(3)))))
    ruleset = load_ruleset(probe_ruleset(tmp_path / "rs"))
    try:
        enriched = enrich(ruleset, strong_customer(), AS_OF_DATE, plugins)
    except SystemExit:
        pytest.fail("the plugin's SystemExit escaped enrich()")
    assert [f["source"] for f in enriched.failures] == ["probe"]


@pytest.mark.parametrize("carried", ["indicators", "bureau", "enrichment_failures"])
def test_customer_document_cannot_supply_plugin_values(tmp_path, monkeypatch, carried, credit):
    if carried == "enrichment_failures":
        # the plugin answers; the document claims it failed (policy: refer)
        install(monkeypatch, plugins_with(("probe", Indicator({"pd": 0.1}))))
        ruleset = probe_ruleset(tmp_path / "rs", on_failure="refer")
        doc = strong_customer(enrichment_failures=[
            {"source": "probe", "kind": "indicators", "error": "made up"}])
    else:
        # the plugins fail (policy: continue); the document carries values of its own
        install(monkeypatch, plugins_with(("probe", Indicator(Raise(RuntimeError("down")))),
                                          ("flaky", Bureau(None))))
        ruleset = probe_ruleset(tmp_path / "rs", on_failure="continue",
                                bureau=bureau_spec(["flaky"], on_unavailable="continue"))
        doc = strong_customer(**{carried: {"indicators": {"probe": {"pd": 0.99}},
                                           "bureau": {"score": 1}}[carried]})
    # The customer schema has no room for them: the document is refused, field by field.
    path = tmp_path / "customer.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    refused = credit("decide", path, "--ruleset", ruleset, "--as-of", AS_OF)
    assert refused.exit_code == 1
    assert f"{path}: /{carried}: unexpected property '{carried}'" in refused.stderr
    # Through the Python API (no schema check), enrichment drops them before it starts.
    enriched = enrich(load_ruleset(ruleset), doc, AS_OF_DATE,
                      plugin_manager.installed_plugins())
    assert enriched.facts.get(carried) != doc[carried]


def test_the_facts_are_the_document_in_its_order_less_what_only_enrichment_adds():
    """Through the Python API: every key enrichment owns is dropped (all four at once, or
    none), the others keep their order, and the document itself is left as it was."""
    plugins = plugins_with(("quiet", Judge([])), builtins=False)
    ruleset = load_ruleset(DEFAULT_RULESET)
    carried = {"indicators": {"x": {"y": 1}}, "bureau": {"score": 1},
               "enrichment_failures": [], "overrides": [{"kind": "grade"}]}
    plain = strong_customer()
    doc = dict(list(plain.items())[:2] + list(carried.items()) + list(plain.items())[2:])
    before = json.dumps(doc)
    facts = enrich(ruleset, doc, AS_OF_DATE, plugins).facts
    assert json.dumps(doc) == before
    keys = [k for k in facts if k not in ("indicators", "enrichment_failures")]
    assert keys == list(plain)  # an empty judgment list proposes nothing: no overrides
    assert "overrides" not in facts and "bureau" not in facts
    assert facts["enrichment_failures"][0]["source"] == "industry"  # not installed here
    assert list(enrich(ruleset, plain, AS_OF_DATE, plugins).facts)[:len(plain)] == \
        list(plain)


class Judge:
    """A plugin proposing ``answer`` as the customer's expert judgments."""

    def __init__(self, answer):
        self.answer = answer

    @hookimpl
    def credit_rules_expert_judgments(self, customer):
        return self.answer


@pytest.mark.parametrize(("answer", "proposed", "failed"), [
    ([], None, False), (None, None, False), ((), None, True), ({}, None, True),
    ([{"kind": "grade"}], [{"kind": "grade", "source": "judge"}], False),
])
def test_judgments_empty_none_or_of_the_wrong_shape(answer, proposed, failed):
    plugins = plugins_with(("judge", Judge(answer)), builtins=False)
    enriched = enrich(load_ruleset(DEFAULT_RULESET), strong_customer(), AS_OF_DATE, plugins)
    assert enriched.facts.get("overrides") == proposed
    assert ("judge" in [f["source"] for f in enriched.failures]) is failed


@pytest.mark.parametrize("timeout", [None, 5.0])
def test_plugin_raising_timeout_error_is_an_ordinary_failure(tmp_path, monkeypatch, timeout):
    # what a socket read raises (socket.timeout is TimeoutError since Python 3.10)
    install(monkeypatch, plugins_with(
        ("probe", Indicator(Raise(TimeoutError("read timed out"))))))
    ruleset = probe_ruleset(tmp_path / "rs", on_failure="refer", timeout=timeout)
    decision, _, _ = decide_cli(tmp_path, ruleset, strong_customer())
    assert reasons(decision) == [("PLUGIN_FAILED",
                                  "probe: raised TimeoutError: read timed out")]


# ---------------------------------------------------------------------------------------
# built-in plugin: industry


def industry(code: str | None, wanted=("growth", "concentration", "risk_class", "sector")):
    plugins = plugins_with()
    customer = strong_customer(**{"industry.code": code}) if code else \
        strong_customer(industry=None)
    return plugins.call_one("industry", "credit_rules_indicators", customer=customer,
                            as_of=AS_OF_DATE, wanted=list(wanted))


C25 = {"growth": 0.018, "concentration": 0.25, "risk_class": "low",
       "sector": "fabricated metal products"}


def test_industry_exact_code():
    assert industry("C25") == C25


@pytest.mark.parametrize("code", ["C25.62", "C25.6", "c25.62", " C25.62 "])
def test_industry_prefix_fallback(code):
    assert industry(code) == C25


def test_industry_falls_back_to_the_section():
    assert industry("C99.1") == {"growth": 0.015, "concentration": 0.35,
                                 "risk_class": "medium", "sector": "manufacturing"}


@pytest.mark.parametrize("code", ["Z99", None])
def test_industry_unknown_code_gives_nulls(code):
    assert industry(code) == dict.fromkeys(("growth", "concentration", "risk_class",
                                            "sector"))


def test_industry_gives_only_what_is_wanted():
    assert industry("C25", wanted=["risk_class"]) == {"risk_class": "low"}


def test_industry_table_from_environment_replaces_the_shipped_one(tmp_path, monkeypatch):
    table = tmp_path / "my-industries.csv"
    table.write_text("code,sector,growth,concentration,risk_class\n"
                     "C25,metalwork,-0.05,0.9,very_high\nC25.6,machining,,0.1,\n")
    monkeypatch.setenv("CREDIT_INDUSTRY_TABLE", str(table))
    assert industry("C25.99") == {"growth": -0.05, "concentration": 0.9,
                                  "risk_class": "very_high", "sector": "metalwork"}
    assert industry("C25.62") == {"growth": None, "concentration": 0.1, "risk_class": None,
                                  "sector": "machining"}
    assert industry("J62")["growth"] is None  # J is in the shipped table, not in this one
    # and the decision reads it (the customer's own industry figures removed)
    install(monkeypatch, plugins_with())
    decision, shown, _ = decide_cli(tmp_path, DEFAULT_RULESET, strong_customer(**{
        "industry.growth": None, "industry.risk_class": None,
        "industry.concentration": None}))
    assert shown["body"]["enriched"]["indicators.industry.risk_class"] == {
        "value": "very_high", "plugin": "industry"}
    industry_risk = next(s for s in decision["trace"] if s["id"] == "industry_risk")
    assert industry_risk["read"]["indicators.industry.risk_class"] == "very_high"


@pytest.mark.parametrize(("row", "problem"), [
    ("C25,metalwork,fast,0.2,low", "growth 'fast' is not a number"),
    (",metalwork,0.1,0.2,low", "a row without a code"),
])
def test_industry_bad_table_row_is_a_recorded_failure(tmp_path, monkeypatch, row, problem):
    table = tmp_path / "bad.csv"
    table.write_text(f"code,sector,growth,concentration,risk_class\nA,farming,0,0,low\n{row}\n")
    monkeypatch.setenv("CREDIT_INDUSTRY_TABLE", str(table))
    install(monkeypatch, plugins_with())
    decision, shown, _ = decide_cli(tmp_path, DEFAULT_RULESET, strong_customer())
    # the shipped ruleset says on_failure: continue for industry
    assert decision["admission"]["outcome"] == "accept"
    assert reasons(decision) == []
    assert shown["body"]["input"]["enrichment_failures"] == [
        {"source": "industry", "kind": "indicators",
         "error": f"raised ValueError: {table}:3: {problem}"}]
    assert "industry" not in shown["body"]["input"].get("indicators", {})


# ---------------------------------------------------------------------------------------
# built-in plugin: bureau_files


def bureau_files(customer_id: str):
    plugins = plugins_with()
    return plugins.call_one("bureau_files", "credit_rules_bureau_reports",
                            customer=strong_customer(id=customer_id), as_of=AS_OF_DATE)


REPORT = {"score": 712, "rating": "A-", "report_date": "2026-05-02"}


@pytest.fixture
def report_folder(tmp_path, monkeypatch):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "T-STRONG.json").write_text(json.dumps(REPORT))
    (folder / "T-LIST.json").write_text("[1, 2]")
    monkeypatch.setenv("CREDIT_BUREAU_FILES", str(folder))
    return folder


def test_bureau_files_from_a_folder(report_folder):
    assert bureau_files("T-STRONG") == REPORT
    assert bureau_files("T-NOBODY") is None


def test_bureau_files_from_a_csv(tmp_path, monkeypatch):
    table = tmp_path / "reports.csv"
    table.write_text("customer_id,score,rating,report_date,payment_index\n"
                     "T-STRONG,712,A-,2026-05-02,0.93\nT-THIN,,,,\n")
    monkeypatch.setenv("CREDIT_BUREAU_FILES", str(table))
    assert bureau_files("T-STRONG") == {**REPORT, "payment_index": 0.93}
    assert bureau_files("T-THIN") == {"score": None, "rating": None, "report_date": None,
                                      "payment_index": None}
    assert bureau_files("T-NOBODY") is None


def test_bureau_files_without_a_source_has_no_report(monkeypatch):
    monkeypatch.delenv("CREDIT_BUREAU_FILES", raising=False)
    assert bureau_files("T-STRONG") is None


@pytest.mark.parametrize("customer_id", ["../secret", "sub/T-STRONG", "/etc/passwd",
                                         ".hidden", "a/../../secret"])
def test_bureau_files_does_not_read_a_path_like_customer_id(report_folder, customer_id):
    (report_folder.parent / "secret.json").write_text(json.dumps(REPORT))
    (report_folder / "sub").mkdir()
    (report_folder / "sub" / "T-STRONG.json").write_text(json.dumps(REPORT))
    (report_folder / ".hidden.json").write_text(json.dumps(REPORT))
    assert bureau_files(customer_id) is None


def test_bureau_files_in_a_decision(tmp_path, monkeypatch, report_folder):
    install(monkeypatch, plugins_with())
    ruleset = make_ruleset(tmp_path / "rs", bureau=bureau_spec(["bureau_files"]),
                           checks=[BUREAU_CHECK])
    decision, shown, _ = decide_cli(tmp_path, ruleset, strong_customer())
    assert decision["admission"]["outcome"] == "accept"
    assert shown["body"]["input"]["bureau"] == {**REPORT, "source": "bureau_files"}
    assert shown["body"]["enriched"]["bureau.score"] == {"value": 712,
                                                         "plugin": "bureau_files"}
    # a customer without a file, and one whose file is not a report
    decision, shown, _ = decide_cli(tmp_path, ruleset, strong_customer(id="T-NOBODY"))
    assert reasons(decision) == [("BUREAU_UNAVAILABLE",
                                  "bureau: no usable report: bureau_files (no report)")]
    decision, shown, _ = decide_cli(tmp_path, ruleset, strong_customer(id="T-LIST"))
    assert decision["admission"]["outcome"] == "refer"
    [failure, _] = shown["body"]["input"]["enrichment_failures"]
    assert failure["source"] == "bureau_files"
    assert failure["error"].startswith("raised ValueError: ")
    assert failure["error"].endswith("T-LIST.json: a report must be a JSON object")
    # a path-like id (valid for the customer schema) reads nothing outside the folder
    decision, _, _ = decide_cli(tmp_path, ruleset, strong_customer(id="X/../../secret"))
    assert decision["admission"]["outcome"] == "refer"


# ---------------------------------------------------------------------------------------
# decisions stay pure: a replay never calls a plugin


class Spy:
    """Implements every hook, counting calls, answering differently from before."""

    def __init__(self):
        self.calls = 0

    @hookimpl
    def credit_rules_indicators(self, wanted):
        self.calls += 1
        return dict.fromkeys(wanted)

    @hookimpl
    def credit_rules_bureau_reports(self):
        self.calls += 1
        return None


@pytest.fixture
def decided_with_plugins(tmp_path, monkeypatch):
    """Two decisions made with plugins (industry, probe, a bureau), whose values decide."""
    install(monkeypatch, plugins_with(("probe", Indicator({"pd": 0.9, "label": "m7"})),
                                      ("one_bureau", Bureau({"score": 650}))))
    ruleset = probe_ruleset(tmp_path / "rs", bureau=bureau_spec(["one_bureau"]))
    first, shown, _ = decide_cli(tmp_path, ruleset, strong_customer())
    assert first["admission"]["outcome"] == "reject"
    assert shown["body"]["enriched"]["indicators.probe.pd"]["plugin"] == "probe"
    decide_cli(tmp_path, ruleset, strong_customer(id="T-TWO"))
    return shown["seq"]


def test_replay_calls_no_plugin(decided_with_plugins, monkeypatch, credit):
    spies = {name: Spy() for name in ("industry", "probe", "one_bureau")}
    plugins = install(monkeypatch, empty_plugins())
    for name, spy in spies.items():
        plugin_manager.register(plugins, spy, name, "9.9.9", "test")
    result = credit("replay", decided_with_plugins)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"ok: record {decided_with_plugins} (")
    result = credit("replay", "--all")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().endswith("2 replayed identically, 0 differed")
    assert [spy.calls for spy in spies.values()] == [0, 0, 0]


def test_replay_without_the_plugins_installed(decided_with_plugins, monkeypatch, credit):
    plugins = install(monkeypatch, plugin_manager.load_plugins(entry_points=False))
    plugins.manager.unregister(name="industry")
    result = credit("replay", "--all")
    assert result.exit_code == 0, result.stderr
    # in a fresh process that knows only the built-in plugins (no probe, no one_bureau)
    run = subprocess.run([*CREDIT, "replay", str(decided_with_plugins)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "CREDIT_NO_ENTRY_POINTS": "1"})
    assert run.returncode == 0, run.stderr
    assert "replays identically" in run.stdout


def test_same_plugin_values_same_decision(tmp_path, monkeypatch):
    """Enrichment is the only impure step: the same values give the same bytes."""
    install(monkeypatch, plugins_with(("probe", Indicator({"pd": 0.3, "label": "x"}))))
    ruleset = probe_ruleset(tmp_path / "rs")
    first, _, _ = decide_cli(tmp_path, ruleset, strong_customer())
    second, _, _ = decide_cli(tmp_path, ruleset, strong_customer())
    assert first == second
    install(monkeypatch, plugins_with(("probe", Indicator({"pd": 0.31, "label": "x"}))))
    third, _, _ = decide_cli(tmp_path, ruleset, strong_customer())
    assert third["decision_id"] != first["decision_id"]
    assert first["as_of"] == AS_OF


class _Text(str):
    pass


@pytest.mark.parametrize("typ", ["string", "number", "money", "integer", "boolean", "date",
                                 "list"])
@pytest.mark.parametrize("value", [None, "x", _Text("x"), "", 0, 7, -(2 ** 70), 1.5,
                                   float("nan"), float("inf"), True, False, [], ["a", 1],
                                   "2026-11-30", {"a": 1}])
def test_a_plugin_value_is_checked_as_the_type_table_says(typ, value):
    """The values of a type's usual class are taken without calling its check: every
    value is still taken or refused as value_types.fits says, with the same message."""
    from engine.enrich.enrichment import checked_values
    from engine.enrich.plugin_manager import PluginCallError
    from engine.language.value_types import fits

    declared = {"first": {"type": "string"}, "v": {"type": typ}}
    if fits(value, typ):
        assert checked_values({"first": "a", "v": value}, declared) == {"first": "a",
                                                                        "v": value}
    else:
        with pytest.raises(PluginCallError) as raised:
            checked_values({"first": "a", "v": value}, declared)
        assert str(raised.value) == f"gave v = {str(value)[:40]!r}, not a {typ}"
