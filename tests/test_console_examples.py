"""Every console example in the README and the guide (docs/) is run and compared with what
the program prints.

Each ``console`` block has a scenario below that makes what its commands need (a customer
file, a candidate ruleset, a decided portfolio and its events) in a fresh folder, runs
each ``$ credit ...`` line in a fresh process and compares the output line by line.
Values that change by design (record hashes, which cover the recording time) are written
``…`` in the README and match anything; a block that shows some of a long output says so
in its command's comment ("lines"), and its lines must appear in that order. A block
that only illustrates (a crafted broken ruleset) is marked ``<!-- illustration -->`` just
before it, and the test says which ones it did not run.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.credit_cli import CREDIT
from tests.paths import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(<!-- illustration -->\n)?( *)```console\n(.*?)\n *```", re.S)


def blocks() -> list[tuple[str, bool, list[str]]]:
    """(page, illustration?, lines) of every console block in the README and the guide,
    indentation removed."""
    found = []
    for page in PAGES:
        for match in BLOCK.finditer(page.read_text(encoding="utf-8")):
            indent = len(match.group(2))
            found.append((page.name, match.group(1) is not None,
                          [line[indent:] for line in match.group(3).split("\n")]))
    return found


def commands(lines: list[str]) -> list[tuple[str, list[str]]]:
    """Each ``$ `` command with the lines shown after it."""
    found: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("$ "):
            found.append((line[2:], []))
        else:
            found[-1][1].append(line)
    return found


def run(command: str, cwd: Path) -> str:
    """What ``credit ...`` prints (stdout, then stderr), in a fresh process; leading
    ``NAME=value`` words set the environment, as a shell does."""
    argv = shlex.split(command, comments=True)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "CREDIT_NO_ENTRY_POINTS": "1",
           "CREDIT_NO_CACHE": "1"}  # (the suite writes no cache in the home folder)
    while re.fullmatch(r"[A-Z_]+=.*", argv[0]):
        name, _, value = argv.pop(0).partition("=")
        env[name] = value
    assert argv[0] == "credit"
    done = subprocess.run([*CREDIT, *argv[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)
    return done.stdout + done.stderr


def matches(expected: str, actual: str) -> bool:
    """``…`` (or ``...``) stands for anything; two or more spaces for any column padding
    (a README table is narrower than the terminal's)."""
    pattern = ".*?".join(" {2,}".join(re.escape(piece) for piece in re.split(r" {2,}", part))
                         for part in re.split(r"…|\.\.\.", expected))
    return re.fullmatch(pattern, actual) is not None


def check(block: list[str], cwd: Path) -> None:
    for command, shown in commands(block):
        printed = run(command, cwd).rstrip("\n").split("\n")
        if "lines" in command.partition("#")[2]:  # a part of a long output, in order
            rest = iter(printed)
            for line in shown:
                assert any(matches(line, got) for got in rest), (command, line)
        else:
            assert len(printed) == len(shown), (command, printed)
            for line, got in zip(shown, printed, strict=True):
                assert matches(line, got), (command, line, got)


@pytest.fixture
def folder(tmp_path) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "rulesets").mkdir()
    shutil.copytree(ROOT / "rulesets" / "default", tmp_path / "rulesets" / "default")
    return tmp_path


SCENARIOS = {}  # the block's first command -> what its folder needs


def scenario(first_command: str):
    def register(function):
        SCENARIOS[first_command] = function
        return function
    return register


def first_command(lines: list[str]) -> str:
    return shlex.join(shlex.split(lines[0][2:], comments=True))


@scenario("credit decide examples/customers/bbb-distributor.json --as-of 2026-11-30")
def _decide_one(folder: Path) -> None:
    """A fresh folder: the decision is the trail's second record, after its ruleset."""


@scenario("credit decide bad.json")
def _bad_customer(folder: Path) -> None:
    (folder / "bad.json").write_text(json.dumps({
        "id": "C-1", "name": "Bad Data GmbH", "country": "Germany",
        "financials": {"revenue": "lots"}}))


@scenario("credit diff rulesets/default rulesets/candidate")
def _candidate(folder: Path) -> None:
    candidate = folder / "rulesets" / "candidate"
    shutil.copytree(folder / "rulesets" / "default", candidate)
    for file, old, new in (("ruleset.yaml", 'version: "1.0.0"', 'version: "1.1.0"'),
                           ("grading.yaml", '{range: "[1.0..1.5)", points: 50}',
                            '{range: "[1.0..1.5)", points: 60}')):
        text = (candidate / file).read_text()
        assert old in text
        (candidate / file).write_text(text.replace(old, new, 1))
    policy = (candidate / "policy.yaml").read_text()
    start = policy.index("- id: P_BBB")
    end = policy.index("payment_term_days: 45", start)
    (candidate / "policy.yaml").write_text(
        policy[:end] + "payment_term_days: 60" + policy[end + len("payment_term_days: 45"):])


@scenario("credit monitor --as-of 2026-11-30")
def _monitored_year(folder: Path) -> None:
    for command in ("credit batch examples/portfolio.csv --out results.jsonl "
                    "--as-of 2025-12-31", "credit events ingest examples/events.jsonl"):
        run(command, folder)


@scenario("credit rescore --as-of 2026-11-30")
def _monitored_year_to_rescore(folder: Path) -> None:
    for command in ("credit batch examples/portfolio.csv --out results.jsonl "
                    "--as-of 2025-12-31", "credit events ingest examples/events.jsonl",
                    "credit monitor --as-of 2026-11-30"):
        run(command, folder)


@scenario("credit events ingest examples/dunning-blocks.jsonl")
def _year_to_dun(folder: Path) -> None:
    for command in ("credit batch examples/portfolio.csv --out results.jsonl "
                    "--as-of 2025-12-31", "credit events ingest examples/events.jsonl"):
        run(command, folder)


@scenario("credit letters --as-of 2026-11-30 --out letters --ruleset rulesets/candidate")
def _letter_with_a_typo(folder: Path) -> None:
    _monitored_year_to_rescore(folder)
    candidate = folder / "rulesets" / "candidate"
    shutil.copytree(folder / "rulesets" / "default", candidate)
    letter = candidate / "letters" / "en" / "letter.html.j2"
    text = letter.read_text(encoding="utf-8")
    assert "{{ days_overdue }}" in text
    letter.write_text(text.replace("{{ days_overdue }}", "{{ days_overdu }}"),
                      encoding="utf-8")


@scenario("credit report --out report.html --to 2026-11-30")
def _reported_year(folder: Path) -> None:
    """As make demo makes it: the year decided, its events and dunning blocks ingested,
    monitored, its letters and statements written, rescored."""
    for command in ("credit batch examples/portfolio.csv --out results.jsonl "
                    "--as-of 2025-12-31", "credit events ingest examples/events.jsonl",
                    "credit events ingest examples/dunning-blocks.jsonl",
                    "credit monitor --as-of 2026-11-30",
                    "credit letters --as-of 2026-11-30 --out letters",
                    "credit statements --as-of 2026-11-30 --out statements",
                    "credit rescore --as-of 2026-11-30"):
        run(command, folder)


@scenario("credit events ingest examples/order-events.jsonl")
def _order_events(folder: Path) -> None:
    """A fresh folder: the events are the trail's first records."""


ORDER_SETUP = ("credit decide examples/customers/bbb-distributor.json --as-of 2026-11-30",
               "credit decide examples/customers/bb-construction.json --as-of 2026-11-30",
               "credit events ingest examples/order-events.jsonl")


def _order_setup(folder: Path) -> None:
    for command in ORDER_SETUP:
        run(command, folder)


for _first in ("credit check-order examples/orders/within-limit.json --as-of 2026-11-30",
               "credit limit request CUST-10004 --amount 700000 --reason 'seasonal peak' "
               "--by ana --valid-until 2026-12-31 --as-of 2026-11-30",
               "CREDIT_RATES_FILE=examples/rates.csv credit check-order "
               "examples/orders/in-dollars.json --as-of 2026-11-30",
               "credit group set G-ACME --limit 60000 --member CUST-10004 --member "
               "CUST-10005=15000 --by ana --reason 'one parent' --as-of 2026-11-30",
               "credit events ingest examples/foreign-events.jsonl"):
    scenario(_first)(_order_setup)


@scenario("credit events ingest examples/case-events.jsonl")
def _cases(folder: Path) -> None:
    """The two order customers decided on 30 September and the order events ingested."""
    for command in ("credit decide examples/customers/bbb-distributor.json --as-of 2026-09-30",
                    "credit decide examples/customers/bb-construction.json --as-of 2026-09-30",
                    "credit events ingest examples/order-events.jsonl"):
        run(command, folder)


@scenario("credit orders --blocked --as-of 2026-11-30")
def _orders_checked(folder: Path) -> None:
    for command in (*ORDER_SETUP, *(f"credit check-order examples/orders/{name}.json "
                                    "--as-of 2026-11-30" for name in (
                                        "within-limit", "over-limit", "overdue-customer"))):
        run(command, folder)


@scenario("credit dmn import examples/dmn/customer-risk.dmn --out risk.yaml --fact "
          "'Days Overdue=credit_history.max_days_overdue_12m' --fact Sector=industry.sector")
@scenario("credit dmn import examples/dmn/customer-risk.dmn --out risk.yaml")
@scenario("credit dmn import examples/dmn/credit-terms.dmn --out terms.yaml --fact "
          "Sector=industry.sector --fact Employees=operating.employees")
def _dmn_file(folder: Path) -> None:
    """A fresh folder: the examples hold the DMN file."""


@scenario("credit validate rulesets/edited")
def _edited_ruleset(folder: Path) -> None:
    """The shipped ruleset with three slips validate finds: infinity compared with, a
    mistyped dotted name in a text cell, a number quoted in a number values bin."""
    edited = folder / "rulesets" / "edited"
    shutil.copytree(folder / "rulesets" / "default", edited)
    for file, old, new in (
            ("approval.yaml", '{credit_limit: "> 1000000"}', '{credit_limit: "< inf"}'),
            ("approval.yaml", 'admission_outcome: "accept, refer"',
             'admission_outcome: "accept, industry.risk_clas"'),
            ("grading.yaml", "{values: [0], points: 80}", '{values: ["0"], points: 80}')):
        text = (edited / file).read_text()
        assert old in text
        (edited / file).write_text(text.replace(old, new, 1))


def _ruleset_with_derived(folder: Path, name: str, derived: str, facts: str) -> Path:
    """A copy of the shipped ruleset as rulesets/NAME, with ``derived`` (YAML lines) added
    to its derived facts and ``facts`` to its declared facts."""
    target = folder / "rulesets" / name
    shutil.copytree(folder / "rulesets" / "default", target)
    for file, marker, lines in (("derived.yaml", "derived:\n", derived),
                                ("facts.yaml", "facts:\n", facts)):
        text = (target / file).read_text()
        assert marker in text
        (target / file).write_text(text.replace(marker, marker + lines, 1))
    return target


def _docs_block(marker: str) -> str:
    """The YAML block right after ``<!-- marker -->`` in the ruleset language guide."""
    page = (ROOT / "docs" / "ruleset-language.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- {re.escape(marker)} -->\n```yaml\n(.*?\n)```", page, re.S)
    assert found, marker
    return found.group(1)


TEMPORAL_FACTS = ("  attributes.last_review: {type: date}\n"
                  "  attributes.review_every: {type: years_months_duration}\n")


@scenario("credit decide customer.json --ruleset rulesets/terms --as-of 2026-06-30 --trace "
          "--no-audit")
def _terms(folder: Path) -> None:
    """The guide's derived facts over dates and durations, in a copy of the shipped
    ruleset, and a customer with the dates they read."""
    _ruleset_with_derived(folder, "terms", _docs_block("rulesets/terms: derived.yaml"),
                          TEMPORAL_FACTS)
    customer = json.loads((folder / "examples/customers/bbb-distributor.json").read_text())
    customer.setdefault("attributes", {}).update(last_review="2026-05-31",
                                                 review_every="P1Y6M")
    (folder / "customer.json").write_text(json.dumps(customer))


@scenario("credit validate rulesets/bad-dates")
def _bad_dates(folder: Path) -> None:
    _ruleset_with_derived(folder, "bad-dates", (
        "  bad_term: attributes.review_every > duration('P1Y2M3D')\n"
        "  bad_instant: attributes.last_review < datetime('2026-01-31T09:30')\n"
        "  clock: today() > attributes.last_review\n"), TEMPORAL_FACTS)


@scenario("credit serve token erp-1 --role integrator --to tokens.jsonl")
def _tokens_file(folder: Path) -> None:
    """A fresh folder: the tokens file is made by the command."""


def test_every_console_block_has_a_scenario_or_is_marked_an_illustration():
    for page, illustration, lines in blocks():
        assert illustration or first_command(lines) in SCENARIOS, \
            f"{page}: the console block of '{lines[0]}' has no scenario"


RUN = [(page, lines) for page, illustration, lines in blocks() if not illustration]


@pytest.mark.parametrize(("page", "block"), RUN, ids=[f"{p}:{b[0][2:40]}" for p, b in RUN])
def test_the_example_prints_what_it_shows(page, block, folder):
    SCENARIOS[first_command(block)](folder)
    check(block, folder)


def test_the_illustrations_are_few_and_named():
    """Blocks shown but not run (each needs a crafted broken ruleset or a tampered file)."""
    firsts = sorted(lines[0] for _, illustration, lines in blocks() if illustration)
    assert firsts == ["$ credit audit verify", "$ credit lint rulesets/mine"]
