"""A ruleset's own test cases (``tests/*.yaml`` beside it: given facts, expected outcome),
run by the same code for ``credit test`` and for pytest.

A case is either a customer (``given``, decided as of ``as_of``) or an overdue account's
position (``position``, asked of the escalation table: ``expect: {step: ...}``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..decide.pipeline import decide
from ..enrich.customer_documents import customer_problems
from ..errors import DecisionError, Location, Problem, ProblemsError
from ..language.schema_check import schema_problems
from ..language.yaml_source import load_yaml_file
from ..monitor.rete_session import MonitorUnavailable
from ..ruleset.compiler import CompiledRuleset
from ..ruleset.escalation import next_step
from .account_cases import account_case_problems, run_account_case

CASES_SCHEMA = "ruleset-tests.schema.json"
ESCALATION_EXPECTATIONS = frozenset({"step", "proposed"})


@dataclass(frozen=True)
class Case:
    """One test case: where it is written, its name, date, customer (or, for an
    escalation case, the account position) and expectations."""

    location: Location
    name: str
    as_of: dt.date | None
    given: dict
    expect: dict
    position: dict | None = None
    account: dict | None = None


@dataclass
class CaseResult:
    """How a case came out: its differences from the expectations, and what the decision
    (or escalation) reached, for coverage: its trace and the score band's grade."""

    case: Case
    differences: list[str] = field(default_factory=list)
    trace: list = field(default_factory=list)
    band_grade: str | None = None
    fired: set[str] = field(default_factory=set)  # monitoring rules an account case fired
    skipped: str | None = None  # why the case could not run here

    @property
    def passed(self) -> bool:
        return not self.differences


def load_cases(ruleset_dir: str | Path) -> list[Case]:
    """Every case of ``RULESET/tests/*.yaml``, in file and then written order. Raises
    ProblemsError (located) for a case file that does not match the tests schema."""
    folder = Path(ruleset_dir) / "tests"
    cases: list[Case] = []
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        try:
            doc = load_yaml_file(path, str(path))
        except ProblemsError as exc:
            problems.extend(exc.problems)
            continue
        found = schema_problems(doc, CASES_SCHEMA)
        if found:
            problems.extend(found)
            continue
        for index, item in enumerate(doc.data["cases"]):
            where = doc.locate(("cases", index))
            if "account" in item:
                found = account_case_problems(item)
                problems.extend(Problem(where, message) for message in found)
                if not found:
                    cases.append(Case(where, item["name"], None, {}, item.get("expect") or {},
                                      account=item["account"]))
                continue
            if "position" in item:
                found = _position_case_problems(item)
                problems.extend(Problem(where, message) for message in found)
                if not found:
                    as_of = item.get("as_of")
                    cases.append(Case(where, item["name"], as_of and dt.date.fromisoformat(
                        as_of), {}, item.get("expect") or {}, item["position"]))
                continue
            if "given" not in item or "as_of" not in item:
                problems.append(Problem(where, "a case needs given and as_of (a customer), "
                                        "position (for the escalation table) or account "
                                        "(events, for the monitoring rules)"))
                continue
            if ESCALATION_EXPECTATIONS & set(item.get("expect") or {}):
                problems.append(Problem(where, "expect: step and proposed are for position "
                                        "cases (the escalation table), not for a customer"))
                continue
            for pointer, message in customer_problems(item["given"]):
                problems.append(Problem(doc.locate(("cases", index, "given", *[
                    int(p) if p.isdigit() else p for p in pointer.strip("/").split("/")
                    if p])), f"given{pointer}: {message}"))
            # What plugins would add comes after the customer check, as in a decision.
            facts = {**item["given"], **(item.get("enriched") or {})}
            cases.append(Case(where, item["name"], dt.date.fromisoformat(item["as_of"]),
                              facts, item.get("expect") or {}))
    if problems:
        raise ProblemsError(problems)
    return cases


def _position_case_problems(item: dict) -> list[str]:
    """What is wrong with an escalation (position) case."""
    problems = []
    if "given" in item or "enriched" in item:
        problems.append("a position case gives no customer (given, enriched)")
    wrong = sorted(set(item.get("expect") or {}) - ESCALATION_EXPECTATIONS)
    if wrong:
        problems.append("a position case expects only step and proposed, not "
                        + ", ".join(wrong))
    return problems


def run_case(ruleset: CompiledRuleset, case: Case) -> CaseResult:
    """Decide the case (or ask the escalation table, for a position case, or run the
    monitoring rules, for an account case) and compare every expectation it states."""
    result = CaseResult(case)
    if case.account is not None:
        return _run_account_case(ruleset, result)
    if case.position is not None:
        return _run_position_case(ruleset, result)
    try:
        decision = decide(ruleset, case.given, case.as_of)
    except DecisionError as exc:
        result.differences.append(f"the decision failed: {exc}")
        return result
    result.trace = decision.trace
    result.band_grade = decision.band_grade
    data = decision.to_dict()
    actual = actual_values(data)
    for key, wanted in case.expect.items():
        got = actual.get(key)
        if not _matches(key, wanted, got):
            result.differences.append(f"{key}: expected {_show(wanted)}, got {_show(got)}")
    return result


def _run_position_case(ruleset: CompiledRuleset, result: CaseResult) -> CaseResult:
    if ruleset.escalation is None:
        result.differences.append(f"ruleset {ruleset.name} has no escalation.yaml")
        return result
    try:
        escalation = next_step(ruleset, result.case.position)
    except (DecisionError, ArithmeticError, ValueError) as exc:
        result.differences.append(f"the escalation failed: {exc}")
        return result
    result.trace = escalation.trace
    return _compared(result, {"step": escalation.step, "proposed": escalation.proposed})


def _run_account_case(ruleset: CompiledRuleset, result: CaseResult) -> CaseResult:
    if ruleset.monitoring is None:
        result.differences.append(f"ruleset {ruleset.name} has no monitoring.yaml")
        return result
    try:
        actual, result.fired = run_account_case(ruleset, result.case.account)
    except MonitorUnavailable as exc:
        result.skipped = str(exc)
        return result
    return _compared(result, actual)


def _compared(result: CaseResult, actual: dict) -> CaseResult:
    """``result`` with a difference for each expectation ``actual`` does not meet exactly."""
    for key, wanted in result.case.expect.items():
        if wanted != actual[key]:
            result.differences.append(f"{key}: expected {_show(wanted)}, got "
                                      f"{_show(actual[key])}")
    return result


def actual_values(data: dict) -> dict:
    """The values a case can state expectations about, from a decision's JSON form."""
    policy = data["policy"] or {}
    discount = policy.get("discount") or {}
    return {
        "admission": data["admission"]["outcome"],
        "reasons": [r["code"] for r in data["admission"]["reasons"]],
        "score": data["grading"]["score"],
        "grade": data["grading"]["grade"],
        "band_grade": data["grading"]["band_grade"],
        "grading_reasons": data["grading"]["reasons"],
        "credit_limit": policy.get("credit_limit"),
        "payment_term_days": policy.get("payment_term_days"),
        "discount_rate": discount.get("rate"),
        "discount_days": discount.get("days"),
        "guarantee_required": policy.get("guarantee_required"),
        "review_interval_days": policy.get("review_interval_days"),
        "required_level": data["approval"]["required_level"],
        "policy": data["policy"],
    }


def _matches(key: str, wanted: object, got: object) -> bool:
    if key == "reasons":
        return isinstance(got, list) and sorted(map(str, wanted)) == sorted(got)
    if key == "credit_limit" and wanted is not None and got is not None:
        try:
            return Decimal(str(wanted)) == Decimal(got)
        except InvalidOperation:
            return False
    if key == "policy" and isinstance(wanted, dict) and isinstance(got, dict):
        return all(_matches(k, v, got.get(k)) for k, v in wanted.items())
    if isinstance(wanted, dict) and isinstance(got, dict):
        return all(_matches(k, v, got.get(k)) for k, v in wanted.items())
    if isinstance(wanted, int | float) and isinstance(got, int | float) and \
            not isinstance(wanted, bool) and not isinstance(got, bool):
        return wanted == got
    return wanted == got


def _show(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return "null" if value is None else str(value)
