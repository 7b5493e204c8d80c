"""A ruleset's own test cases (``tests/*.yaml`` beside it: given facts, expected outcome),
run by the same code for ``credit test`` and for pytest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .compiler import CompiledRuleset
from .customer import customer_problems
from .errors import DecisionError, Location, Problem, ProblemsError
from .pipeline import decide
from .schema_check import schema_problems
from .yaml_source import load_yaml_file

CASES_SCHEMA = "ruleset-tests.schema.json"


@dataclass(frozen=True)
class Case:
    """One test case: where it is written, its name, date, customer and expectations."""

    location: Location
    name: str
    as_of: dt.date
    given: dict
    expect: dict


@dataclass
class CaseResult:
    case: Case
    differences: list[str] = field(default_factory=list)

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


def run_case(ruleset: CompiledRuleset, case: Case) -> CaseResult:
    """Decide the case and compare every expectation it states."""
    result = CaseResult(case)
    try:
        data = decide(ruleset, case.given, case.as_of).to_dict()
    except DecisionError as exc:
        result.differences.append(f"the decision failed: {exc}")
        return result
    actual = actual_values(data)
    for key, wanted in case.expect.items():
        got = actual.get(key)
        if not _matches(key, wanted, got):
            result.differences.append(f"{key}: expected {_show(wanted)}, got {_show(got)}")
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
