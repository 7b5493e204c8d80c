"""credit simulate: every customer decided under a baseline and a candidate ruleset, the
tables checked by hand on a small portfolio, from a portfolio file and from the audit."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from engine.audit.queries import Filters
from engine.quality import simulate as simulate_module
from engine.quality.simulate import facts_for, load_pair, simulate_audit, simulate_portfolio
from tests.credit_cli import invoke_credit
from tests.paths import DEFAULT_RULESET
from tests.sample_customers import strong_customer

AS_OF = "2026-11-30"

# id -> (the customer, and by hand: baseline and candidate outcome, grade, limit)
CUSTOMERS = {
    "C1": strong_customer(),                                           # AAA -> AAA
    "C2": strong_customer(country="FR"),                               # AAA -> rejected
    "C3": strong_customer(**{"operating.market_share": 0.005}),        # AAA -> BB (cap)
    "C4": strong_customer(**{"flags.sanctions_hit": True}),            # rejected, both
    "C5": strong_customer(**{"credit_history.months_known": 3}),       # A (thin history)
    "C6": strong_customer(requested_amount=5000000),                   # AAA, referred
    "C7": strong_customer(**{"financials.net_income": -100000,         # AA, limit lower
                             "credit_history.overdue_count_12m": 4,
                             "credit_history.max_days_overdue_12m": 45,
                             "attributes.monthly_purchases": 400000}),
}


def edit(path: Path, before: str, after: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(before) == 1, before
    path.write_text(text.replace(before, after), encoding="utf-8")


@pytest.fixture
def rulesets(tmp_path) -> tuple[Path, Path]:
    """The default ruleset, and a candidate that rejects French customers, caps a tiny
    market share at BB and gives AA a tenth of its net worth instead of 12%."""
    baseline, candidate = tmp_path / "baseline", tmp_path / "candidate"
    shutil.copytree(DEFAULT_RULESET, baseline)
    shutil.copytree(DEFAULT_RULESET, candidate)
    edit(candidate / "ruleset.yaml", 'version: "1.0.0"', 'version: "1.1.0"')
    edit(candidate / "facts.yaml", "facts:\n", "facts:\n  country: {type: string}\n")
    with (candidate / "admission.yaml").open("a", encoding="utf-8") as out:
        out.write("  - id: KO_COUNTRY\n    when: country == \"FR\"\n    outcome: reject\n"
                  "    reason: COUNTRY_EXCLUDED\n")
    with (candidate / "grading.yaml").open("a", encoding="utf-8") as out:
        out.write("  - id: CAP_TINY_SHARE\n    when: operating.market_share < 0.01\n"
                  "    at_most: BB\n    reason: TINY_MARKET_SHARE\n")
    edit(candidate / "policy.yaml", "financials.equity * 0.12", "financials.equity * 0.10")
    return baseline, candidate


@pytest.fixture
def portfolio(tmp_path) -> Path:
    path = tmp_path / "portfolio.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for customer_id, doc in CUSTOMERS.items():
            out.write(json.dumps({**doc, "id": customer_id}) + "\n")
    return path


def invoke(*args):
    """``credit simulate ARGS``."""
    return invoke_credit("simulate", *args)


EXPECTED_MIGRATION = [  # rows: baseline grade; columns: candidate grade
    {"old_grade": "AAA", "AAA": 2, "AA": 0, "A": 0, "BBB": 0, "BB": 1, "B": 0, "CCC": 0,
     "rejected": 1, "total": 4},
    {"old_grade": "AA", "AAA": 0, "AA": 1, "A": 0, "BBB": 0, "BB": 0, "B": 0, "CCC": 0,
     "rejected": 0, "total": 1},
    {"old_grade": "A", "AAA": 0, "AA": 0, "A": 1, "BBB": 0, "BB": 0, "B": 0, "CCC": 0,
     "rejected": 0, "total": 1},
    *({"old_grade": g, "AAA": 0, "AA": 0, "A": 0, "BBB": 0, "BB": 0, "B": 0, "CCC": 0,
       "rejected": 0, "total": 0} for g in ("BBB", "BB", "B", "CCC")),
    {"old_grade": "rejected", "AAA": 0, "AA": 0, "A": 0, "BBB": 0, "BB": 0, "B": 0, "CCC": 0,
     "rejected": 1, "total": 1},
    {"old_grade": "total", "AAA": 2, "AA": 1, "A": 1, "BBB": 0, "BB": 1, "B": 0, "CCC": 0,
     "rejected": 2, "total": 7},
]


def _limit_row(grade, old_n, old, new_n, new, change):
    return {"grade": grade, "old_accepted": old_n, "old_granted": old,
            "new_accepted": new_n, "new_granted": new, "change": change}


# Limits by hand: the strong customer needs 50,000 asked + 20,000 owed = 70,000, below every
# grade's share of its 5,000,000 net worth; C6 asks 5,000,000 (AAA: 15% = 750,000, referred);
# C7 buys 400,000 a month, AA needs 400,000 x 75 / 30 = 1,000,000: 12% of net worth = 600,000
# in the baseline, 10% = 500,000 in the candidate.
EXPECTED_LIMITS = [
    _limit_row("AAA", 3, "210000.00", 1, "70000.00", "-140000.00"),  # C1, C2, C3 -> C1
    _limit_row("AA", 1, "600000.00", 1, "500000.00", "-100000.00"),  # C7
    _limit_row("A", 1, "70000.00", 1, "70000.00", "0.00"),           # C5
    _limit_row("BBB", 0, "0.00", 0, "0.00", "0.00"),
    _limit_row("BB", 0, "0.00", 1, "70000.00", "+70000.00"),         # C3
    _limit_row("B", 0, "0.00", 0, "0.00", "0.00"),
    _limit_row("CCC", 0, "0.00", 0, "0.00", "0.00"),
    _limit_row("total", 5, "880000.00", 4, "710000.00", "-170000.00"),
]


def _mover(customer_id, row, old_grade, new_grade, notches, new_outcome, new, change):
    return {"customer_id": customer_id, "row": row, "old_grade": old_grade,
            "new_grade": new_grade, "notches": notches, "old_outcome": "accept",
            "new_outcome": new_outcome, "old_granted": {"C2": "70000.00",
                                                        "C3": "70000.00",
                                                        "C7": "600000.00"}[customer_id],
            "new_granted": new, "limit_change": change}


EXPECTED_MOVERS = [  # by notches, then by the change in the granted limit
    _mover("C2", 2, "AAA", "rejected", -7, "reject", "0.00", "-70000.00"),
    _mover("C3", 3, "AAA", "BB", -4, "accept", "70000.00", "0.00"),
    _mover("C7", 7, "AA", "AA", 0, "accept", "500000.00", "-100000.00"),
]


def test_a_small_portfolio_checked_by_hand(rulesets, portfolio):
    baseline, candidate = rulesets
    simulation = simulate_portfolio(portfolio, baseline, candidate, dt.date(2026, 11, 30))
    assert simulation.rows("migration") == EXPECTED_MIGRATION
    assert simulation.rows("outcomes") == [
        {"old_outcome": "accept", "new_outcome": "reject", "customers": 1}]
    assert simulation.rows("limits") == EXPECTED_LIMITS
    assert simulation.rows("movers") == EXPECTED_MOVERS
    summary = simulation.summary()
    assert summary["customers"] == 7 and summary["unreadable"] == 0
    assert (summary["unchanged"], summary["upgraded"], summary["downgraded"]) == (5, 0, 2)
    assert summary["outcome_changed"] == 1
    assert summary["granted"] == {"old": "880000.00", "new": "710000.00",
                                  "change": "-170000.00"}
    assert summary["referred"] == {"old": "750000.00", "new": "750000.00"}  # C6


def test_top_keeps_the_customers_that_move_most(rulesets, portfolio):
    simulation = simulate_portfolio(portfolio, *rulesets, dt.date(2026, 11, 30), top=2)
    assert [m["customer_id"] for m in simulation.rows("movers")] == ["C2", "C3"]


def test_workers_give_the_same_report(rulesets, portfolio):
    one = simulate_portfolio(portfolio, *rulesets, dt.date(2026, 11, 30))
    two = simulate_portfolio(portfolio, *rulesets, dt.date(2026, 11, 30), workers=2)
    assert json.dumps(one.to_dict()) == json.dumps(two.to_dict())


def test_each_customer_is_enriched_once(rulesets, portfolio, monkeypatch):
    calls = []
    real = simulate_module.enrich

    def counting(*args, **kwargs):
        calls.append(args[1]["id"])
        return real(*args, **kwargs)

    monkeypatch.setattr(simulate_module, "enrich", counting)
    simulate_portfolio(portfolio, *rulesets, dt.date(2026, 11, 30))
    assert calls == list(CUSTOMERS)


def test_a_failure_of_a_plugin_only_one_side_asks_for_is_not_the_others(rulesets):
    baseline, candidate = rulesets
    with (candidate / "enrichment.yaml").open("a", encoding="utf-8") as out:
        out.write("  scoring:\n    on_failure: refer\n    values:\n"
                  "      pd: {type: number}\n")
    pair = load_pair(baseline, candidate)
    assert set(pair.enrichment.enrichment["indicators"]) == {"industry", "scoring"}
    facts = {"id": "X", "enrichment_failures": [
        {"source": "scoring", "kind": "indicators", "error": "down"},
        {"source": "overrides", "kind": "overrides", "error": "unreadable"}]}
    assert facts_for(pair.candidate, facts) is facts
    assert facts_for(pair.baseline, facts)["enrichment_failures"] == [
        {"source": "overrides", "kind": "overrides", "error": "unreadable"}]


# --- from the audit trail ---------------------------------------------------------------

def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _batch(portfolio: Path, ruleset: Path, tmp_path) -> None:
    result = invoke_credit("batch", portfolio, "--out", tmp_path / "results.jsonl",
                           "--as-of", AS_OF, "--ruleset", ruleset)
    assert result.exit_code == 0, result.output + result.stderr


def test_from_the_audit_without_writing_to_it(rulesets, portfolio, tmp_path, audit_file):
    baseline, candidate = rulesets
    _batch(portfolio, baseline, tmp_path)
    _batch(portfolio, baseline, tmp_path)  # decided twice: the latest record counts once
    before = _sha(audit_file)
    result = invoke("--baseline", baseline, "--candidate", candidate, "--from-audit",
                    "--json")
    assert result.exit_code == 0, result.output + result.stderr
    assert _sha(audit_file) == before
    data = json.loads(result.stdout)
    assert data["source"] == f"audit {audit_file}"
    assert data["migration"] == EXPECTED_MIGRATION
    assert data["limits"] == EXPECTED_LIMITS
    assert [(m["customer_id"], m["notches"]) for m in data["movers"]] == [
        ("C2", -7), ("C3", -4), ("C7", 0)]
    assert all(isinstance(m["seq"], int) for m in data["movers"])


def test_from_the_audit_with_filters(rulesets, portfolio, tmp_path, audit_file):
    baseline, candidate = rulesets
    _batch(portfolio, baseline, tmp_path)
    one = simulate_audit(audit_file, baseline, candidate, Filters(customer="C3"))
    assert one.customers == 1 and one.rows("movers")[0]["new_grade"] == "BB"
    none = simulate_audit(audit_file, baseline, candidate,
                          Filters(since=dt.date(2026, 12, 1)))
    assert none.customers == 0
    by_ruleset = simulate_audit(audit_file, baseline, candidate,
                                Filters(ruleset="default@1.0.0"), workers=2)
    assert by_ruleset.customers == 7
    assert by_ruleset.rows("migration") == EXPECTED_MIGRATION


def test_a_candidate_that_reads_a_redacted_field_is_refused(rulesets, portfolio, tmp_path):
    baseline, candidate = rulesets
    _batch(portfolio, baseline, tmp_path)
    edit(candidate / "ruleset.yaml", "redact: [contact.name, contact.email, contact.phone]",
         "redact: [contact.name, contact.phone]")
    edit(candidate / "facts.yaml", "facts:\n", "facts:\n  contact.email: {type: string}\n")
    result = invoke("--baseline", baseline, "--candidate", candidate, "--from-audit")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "reads contact.email" in result.stderr and "salted hash" in result.stderr


def test_from_an_audit_file_that_is_not_there(rulesets, tmp_path):
    result = invoke("--baseline", rulesets[0], "--candidate", rulesets[1], "--from-audit",
                    "--db", tmp_path / "none.db")
    assert result.exit_code == 1
    assert result.stderr == f"credit: error: {tmp_path / 'none.db'}: no audit file here\n"
    assert not (tmp_path / "none.db").exists()


# --- the command: output formats, bad data, usage ---------------------------------------

def test_text_report(rulesets, portfolio):
    result = invoke(portfolio, "--baseline", rulesets[0], "--candidate", rulesets[1],
                    "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Customers  7 from portfolio" in out
    assert "Grades     5 unchanged, 0 better, 2 worse" in out
    for title in ("Grade migration", "Admission outcomes that change",
                  "Granted limits by grade", "Customers that move the most (top 20)"):
        assert title in out


def test_json_of_one_table(rulesets, portfolio):
    result = invoke(portfolio, "--baseline", rulesets[0], "--candidate", rulesets[1],
                    "--as-of", AS_OF, "--json", "--show", "movers")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == EXPECTED_MOVERS


def test_csv_of_each_table(rulesets, portfolio):
    tables = {}
    for table in ("migration", "outcomes", "limits", "movers"):
        result = invoke(portfolio, "--baseline", rulesets[0], "--candidate", rulesets[1],
                        "--as-of", AS_OF, "--csv", "--show", table)
        assert result.exit_code == 0, result.stderr
        tables[table] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tables["migration"][0] == {k: str(v) for k, v in EXPECTED_MIGRATION[0].items()}
    assert tables["outcomes"] == [{"old_outcome": "accept", "new_outcome": "reject",
                                   "customers": "1"}]
    assert tables["limits"][-1]["change"] == "-170000.00"
    assert sum(Decimal(r["limit_change"]) for r in tables["movers"]) == Decimal("-170000")


def test_a_bad_row_is_reported_and_the_rest_simulated(rulesets, portfolio):
    with portfolio.open("a", encoding="utf-8") as out:
        out.write('{"id": "BAD", "country": "Germany"}\n')
    result = invoke(portfolio, "--baseline", rulesets[0], "--candidate", rulesets[1],
                    "--as-of", AS_OF, "--json")
    assert result.exit_code == 1
    assert f"{portfolio}:8: /country" in result.stderr
    data = json.loads(result.stdout)
    assert data["summary"]["customers"] == 7 and data["summary"]["unreadable"] == 1


def test_a_customer_the_candidate_cannot_decide(rulesets, portfolio):
    baseline, candidate = rulesets
    # two rows of a unique table match for AAA: a decision error, under the candidate only
    edit(candidate / "policy.yaml", "      when: {grade: AA}\n",
         "      when: {grade: \"AAA, AA\"}\n")
    simulation = simulate_portfolio(portfolio, baseline, candidate, dt.date(2026, 11, 30))
    migration = {row["old_grade"]: row for row in simulation.rows("migration")}
    # C1 and C6 (AAA, not rejected); C2 is rejected first, so it gets no policy
    assert migration["AAA"]["not_decided"] == 2
    assert migration["AAA"]["rejected"] == 1
    assert simulation.summary()["not_decided"] == {"old": 0, "new": 2}


@pytest.mark.parametrize("args", [
    ["--baseline", "B", "--candidate", "C"],                                  # no input
    ["P", "--baseline", "B", "--candidate", "C", "--from-audit"],             # both
    ["P", "--baseline", "B", "--candidate", "C", "--since", "2026-01-01"],    # filter
    ["--baseline", "B", "--candidate", "C", "--from-audit", "--as-of", AS_OF],
    ["P", "--baseline", "B", "--candidate", "C", "--csv"],                    # which table?
    ["P", "--baseline", "B"],                                                 # no candidate
    ["P", "--baseline", "B", "--candidate", "C", "--show", "nonsense"],
    ["P", "--baseline", "B", "--candidate", "C", "--top", "-1"],
])
def test_usage_errors(args, rulesets, portfolio):
    named = {"B": rulesets[0], "C": rulesets[1], "P": portfolio}
    result = invoke(*[named.get(a, a) for a in args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("credit: error: ")
    assert result.stderr.count("\n") == 1


def test_a_portfolio_simulation_reads_expert_overrides_from_the_db_given(
        rulesets, portfolio, tmp_path, monkeypatch, credit):
    register = tmp_path / "register.db"
    monkeypatch.setenv("CREDIT_DB", str(tmp_path / "elsewhere.db"))
    added = credit("override", "add", "C1", "--limit", "500000", "--reason", "order",
                   "--by", "bob", "--role", "credit_manager", "--db", register)
    override_id = added.stdout.split()[1].rstrip(":")
    assert credit("override", "approve", override_id, "--by", "dora", "--role",
                  "credit_committee", "--db", register).exit_code == 0

    def granted(db: Path) -> str:
        result = invoke("--baseline", rulesets[0], "--candidate", rulesets[1], portfolio,
                        "--as-of", AS_OF, "--db", db, "--json")
        rows = json.loads(result.stdout)["limits"]
        return next(row["old_granted"] for row in rows if row["grade"] == "AAA")

    assert granted(register) != granted(tmp_path / "empty.db")


def test_a_missing_ruleset_folder_is_bad_data(rulesets, portfolio):
    result = invoke(portfolio, "--baseline", "nowhere", "--candidate", rulesets[1])
    assert result.exit_code == 1
    assert result.stderr == "nowhere: not a ruleset folder (no such directory)\n"
