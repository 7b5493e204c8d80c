"""credit explain: the smallest changes to a recorded customer's inputs that reach a grade.

Every trail here is a real SQLite file written by ``credit decide`` or ``credit batch``;
every suggestion is checked by deciding the changed customer again, here, with the
pipeline itself."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from engine.audit.store import AuditStore
from engine.decide.pipeline import decide
from engine.explain.boundaries import nearest
from engine.explain.explanation import explain_decision, moves
from engine.explain.fields import get_field, scale_for, set_fields
from engine.language.schema_check import json_problems
from engine.replay import Replayer
from engine.ruleset.loader import load_ruleset
from tests.paths import DEFAULT_RULESET, ROOT

AS_OF = "2026-11-30"
CUSTOMERS = ROOT / "examples" / "customers"


def decided_into(credit, db: Path, document: Path, *extra: object) -> str:
    """Decide one customer document into ``db``; its decision id."""
    result = credit("decide", document, "--as-of", AS_OF, "--db", db, "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["decision_id"]


def write_customer(folder: Path, name: str, changes: dict) -> Path:
    """The BBB distributor with some fields changed, written as a customer document."""
    document = json.loads((CUSTOMERS / "bbb-distributor.json").read_text())
    document.pop("$schema")
    path = folder / f"{name}.json"
    path.write_text(json.dumps(set_fields(document, changes)))
    return path


def changed_ruleset(folder: Path, change) -> Path:
    """A copy of the shipped ruleset whose grading.yaml ``change`` edits (a dict)."""
    target = folder / "candidate"
    shutil.copytree(DEFAULT_RULESET, target)
    grading = yaml.safe_load((target / "grading.yaml").read_text())
    change(grading)
    (target / "grading.yaml").write_text(yaml.safe_dump(grading, sort_keys=False))
    return target


@pytest.fixture(scope="module")
def trail(tmp_path_factory, credit) -> dict:
    """The example customers decided into one audit file: name -> decision id."""
    folder = tmp_path_factory.mktemp("explain")
    db = folder / "audit.db"
    ids = {path.stem: decided_into(credit, db, path) for path in sorted(
        CUSTOMERS.glob("*.json"))}
    return {"db": db, "ids": ids, "folder": folder}


def explained(trail: dict, name: str, grade: str, **options):
    with AuditStore(trail["db"], create=False) as store:
        return explain_decision(store, trail["ids"][name], grade, **options)


_COMPILED: dict = {}  # stored rulesets, compiled once by hash


def decided_with(trail_db: Path, decision_id: str, changes) -> object:
    """The recorded customer decided again, here, with the changes applied."""
    with AuditStore(trail_db, create=False) as store:
        row = store.record(decision_id)
        body = store.body(row)
        if row["ruleset_hash"] not in _COMPILED:
            _COMPILED[row["ruleset_hash"]] = Replayer(store).ruleset(row["ruleset_hash"])
    ruleset = _COMPILED[row["ruleset_hash"]]
    facts = set_fields(body["input"], {c.field: c.after for c in changes})
    return decide(ruleset, facts, dt.date.fromisoformat(body["as_of"]))


# -- the scorecard --------------------------------------------------------------------

def test_a_bbb_customer_reaches_a_by_the_nearest_bin_edge(trail):
    explanation = explained(trail, "bbb-distributor", "A")
    assert explanation.status == "reachable"
    assert (explanation.current.grade, explanation.current.score) == ("BBB", 690)
    smallest = explanation.solutions[0]
    assert [(c.field, c.before, c.after, c.relation) for c in smallest.changes] == [
        ("credit_history.on_time_payment_ratio", 0.93, 0.95, ">=")]  # the bin [0.95..)
    assert (smallest.outcome.grade, smallest.outcome.score) == ("A", 715)


def test_a_lever_through_a_derived_fact_is_the_exact_edge(trail):
    """overdue_amount / revenue < 0.001 with revenue 9,800,000: 9,799 is in the better
    bin and 9,800 (on the edge) is not."""
    explanation = explained(trail, "bbb-distributor", "A")
    lever = next(lv for lv in explanation.levers
                 if lv.change.field == "credit_history.overdue_amount")
    assert (lever.change.after, lever.change.relation) == (9799, "<=")
    assert lever.outcome.points["overdue_amount_share"] == ("(..0.001)", 50)
    on_edge = decided_with(trail["db"], explanation.decision_id,
                           [lever.change.__class__(lever.change.field, 12800, 9800, "<=", 0)])
    assert on_edge.score == 690  # still [0.001..0.01)
    liabilities = next(lv for lv in explanation.levers
                       if lv.change.field == "financials.total_liabilities")
    assert liabilities.change.after == 3539999  # debt_ratio < 0.6 of 5,900,000 assets
    assert moves(liabilities, explanation.current) == [
        ("debt_ratio", "[0.6..0.8)", "[0.4..0.6)", 30)]


def test_every_suggestion_reaches_the_grade_when_decided(trail):
    explanation = explained(trail, "b-retailer", "BBB")
    assert explanation.solutions
    for solution in explanation.solutions:
        decision = decided_with(trail["db"], explanation.decision_id, solution.changes)
        assert decision.grade in ("AAA", "AA", "A", "BBB"), solution
        assert decision.outcome != "reject"
        assert decision.grade == solution.outcome.grade


# -- caps and knock-outs --------------------------------------------------------------

def test_a_cap_on_arrears_is_lifted_by_the_arrears_not_by_points(trail):
    explanation = explained(trail, "ccc-cap-severe-arrears", "A")
    assert {b["id"] for b in explanation.blockers} == {"CAP_SEVERE_ARREARS",
                                                      "CAP_DEFAULT_ARREARS"}
    assert [(c.field, c.after, c.relation) for c in explanation.solutions[0].changes] == [
        ("credit_history.max_days_overdue_12m", 90, "<=")]  # > 90 caps at B
    assert explanation.solutions[0].outcome.grade == "AA"


def test_a_cap_made_of_or_needs_each_part_ended_by_its_own_input(tmp_path, credit):
    """CAP_OVER_LEVERAGED: debt_ratio > 1 or financials.equity < 0. Neither input alone
    lifts it; the smallest solution ends both parts."""
    customer = write_customer(tmp_path, "leveraged", {"financials.total_liabilities": 6000000,
                                                      "financials.equity": -100000})
    db = tmp_path / "audit.db"
    decision_id = decided_into(credit, db, customer)
    with AuditStore(db, create=False) as store:
        explanation = explain_decision(store, decision_id, "BBB")
    assert explanation.current.grade == "CCC"
    assert [b["id"] for b in explanation.blockers] == ["CAP_OVER_LEVERAGED"]
    smallest = explanation.solutions[0]
    assert {(c.field, c.after, c.relation) for c in smallest.changes} == {
        ("financials.equity", 0, ">="),
        ("financials.total_liabilities", 5900000, "<=")}  # debt_ratio 1: not above 1
    assert smallest.outcome.grade == "BBB"
    equity = next(lv for lv in explanation.levers if lv.change.field == "financials.equity")
    assert equity.outcome.grade == "CCC" and "CAP_OVER_LEVERAGED" in equity.touches
    shown = next(lv for lv in explanation.to_dict()["levers"]
                 if lv["change"]["field"] == "financials.equity")
    assert (shown["lifts"], shown["ends_part_of"]) == ([], ["CAP_OVER_LEVERAGED"])
    assert json_problems(explanation.to_dict(), "explanation.schema.json") == []


def test_a_parent_guarantee_floor_is_a_route_of_its_own(tmp_path, credit):
    """A weak scorecard (B) with a guarantee from a BBB parent (floor BB); a guarantor
    graded A would lift it to BBB (FLOOR_GUARANTOR_A): one input, where the scorecard
    needs a larger move."""
    customer = write_customer(tmp_path, "guaranteed", {
        "financials.current_assets": 2000000, "financials.net_income": -10000,
        "financials.total_liabilities": 5000000, "financials.revenue_prior": 11000000,
        "operating.market_share": 0.005, "flags.parent_guarantee": True,
        "attributes.guarantor_grade": "BBB", "attributes.guarantee_amount": 200000})
    db = tmp_path / "audit.db"
    decision_id = decided_into(credit, db, customer)
    with AuditStore(db, create=False) as store:
        explanation = explain_decision(store, decision_id, "BBB")
    assert (explanation.current.band_grade, explanation.current.grade) == ("B", "BB")
    smallest = explanation.solutions[0]
    assert [(c.field, c.before, c.after) for c in smallest.changes] == [
        ("attributes.guarantor_grade", "BBB", "A")]
    assert smallest.outcome.grade == "BBB"
    assert decided_with(db, decision_id, smallest.changes).grade == "BBB"


def test_a_guarantee_not_given_is_three_inputs_given_together(trail):
    explanation = explained(trail, "ccc-haulier", "BB", max_changes=3, alternatives=100)
    guarantee = next(s for s in explanation.solutions
                     if any(c.field == "flags.parent_guarantee" for c in s.changes))
    assert [(c.field, c.after, c.relation) for c in guarantee.changes] == [
        ("flags.parent_guarantee", True, "="), ("attributes.guarantor_grade", "BBB", "="),
        ("attributes.guarantee_amount", 56000, ">=")]  # credit asked: 56,000
    assert guarantee.outcome.grade == "BB"


def test_a_sanctions_knock_out_is_unreachable_and_says_why(trail):
    explanation = explained(trail, "reject-sanctions", "BBB")
    assert explanation.status == "unreachable"
    assert explanation.solutions == []
    assert explanation.unreachable == [
        "KO_SANCTIONS rejects (SANCTIONS_HIT): it depends on flags.sanctions_hit, which is "
        "not changeable (--allow flags.sanctions_hit to consider changing it)"]
    assert not any(lever.change.field == "flags.sanctions_hit"
                   for lever in explanation.levers)


def test_allowing_the_sanctions_flag_lifts_the_knock_out(trail):
    explanation = explained(trail, "reject-sanctions", "BBB", allow=["flags.sanctions_hit"])
    assert explanation.status == "reachable"
    change = explanation.solutions[0].changes[0]
    assert (change.field, change.before, change.after) == ("flags.sanctions_hit", True, False)
    assert explanation.solutions[0].outcome.outcome != "reject"


def test_a_young_business_cap_reads_the_founding_date_which_is_fixed(trail):
    explanation = explained(trail, "refer-young-business", "A")
    assert explanation.status == "unreachable"
    assert explanation.unreachable[0].startswith("CAP_YOUNG_BUSINESS caps the grade at BBB")
    assert "founded" in explanation.not_changeable
    allowed = explained(trail, "refer-young-business", "A", allow=["founded"])
    assert allowed.status == "reachable"
    founded = next(c for s in allowed.solutions for c in s.changes if c.field == "founded")
    years = (dt.date.fromisoformat(AS_OF) - dt.date.fromisoformat(founded.after)).days / 365.25
    assert 3 <= years < 3.01  # the day the business turns three, not earlier
    assert founded.relation == "<="


def test_an_unreachable_target_within_the_changes_allowed(trail):
    explanation = explained(trail, "ccc-haulier", "AAA", max_changes=2)
    assert explanation.status == "unreachable"
    assert explanation.solutions == []
    assert explanation.unreachable and ("at most" in explanation.unreachable[0]
                                        or "no set of up to 2" in explanation.unreachable[0])


def test_an_expert_override_is_judged_again_on_the_changed_customer(tmp_path, credit):
    """An analyst's override to BB (one notch below the model's BBB) is in the recorded
    input; with the inputs changed the model gives A, two notches above BB, beyond the
    analyst's authority, so the override no longer applies: the suggestion is what the
    pipeline decides, overrides judged included."""
    db = tmp_path / "audit.db"
    added = credit("override", "add", "CUST-10004", "--grade", "BB", "--reason", "site visit",
                   "--by", "ana", "--role", "credit_analyst", "--db", db)
    assert added.exit_code == 0, added.output
    decision_id = decided_into(credit, db, CUSTOMERS / "bbb-distributor.json")
    with AuditStore(db, create=False) as store:
        explanation = explain_decision(store, decision_id, "BBB")
    assert (explanation.current.grade, explanation.current.score) == ("BB", 690)
    smallest = explanation.solutions[0]
    decision = decided_with(db, decision_id, smallest.changes)
    assert decision.grade == smallest.outcome.grade == "A"
    assert decision.overrides[0]["applied"] is False


# -- a target at or below the current grade ---------------------------------------------

@pytest.mark.parametrize("grade", ["BBB", "B", "CCC"])
def test_a_target_at_or_below_the_current_grade_needs_nothing(trail, grade):
    explanation = explained(trail, "bbb-distributor", grade)
    assert explanation.status == "already"
    assert explanation.solutions == [] and explanation.levers == []


def test_a_rejected_customer_is_not_already_at_its_grade(trail):
    explanation = explained(trail, "reject-sanctions", "CCC")
    assert explanation.current.grade == "BBB"
    assert explanation.status == "unreachable"  # a knock-out is in the way of any grade


# -- a table: a derived fact from a decision table feeds a cap ---------------------------

def test_a_cap_on_a_table_derived_fact_is_lifted_through_the_tables_inputs(tmp_path, credit):
    def cap_on_warnings(grading):
        grading["adjustments"].append({
            "id": "CAP_WARNINGS", "when": "warning_signals >= 2", "at_most": "BB",
            "reason": "WARNING_SIGNALS", "message": "Two early-warning signals"})
    ruleset = changed_ruleset(tmp_path, cap_on_warnings)
    customer = write_customer(tmp_path, "warned", {"flags.legal_events_24m": 1,
                                                   "exposure.overdue": 20000})
    db = tmp_path / "audit.db"
    decision_id = decided_into(credit, db, customer, "--ruleset", ruleset)
    with AuditStore(db, create=False) as store:
        explanation = explain_decision(store, decision_id, "BBB")
    assert explanation.current.grade == "BB"
    assert [b["id"] for b in explanation.blockers] == ["CAP_WARNINGS"]
    assert explanation.status == "reachable"
    smallest = explanation.solutions[0]
    assert len(smallest.changes) == 1
    change = smallest.changes[0]
    # W_OVERDUE_SHARE (overdue / exposure >= 0.25) goes below 18,500 of 74,000, a
    # smaller move than no legal event (W_LEGAL) or more exposure
    assert (change.field, change.before, change.after, change.relation) == (
        "exposure.overdue", 20000, 18499, "<=")
    assert smallest.outcome.grade == "BBB"
    assert decided_with(db, decision_id, smallest.changes).grade == "BBB"


def test_exact_decimal_points_give_an_exact_score_to_explain(tmp_path, credit):
    def half_points(grading):
        grading["scorecard"]["base_points"] = 89.5
    ruleset = changed_ruleset(tmp_path, half_points)
    db = tmp_path / "audit.db"
    decision_id = decided_into(credit, db, CUSTOMERS / "bbb-distributor.json",
                               "--ruleset", ruleset)
    with AuditStore(db, create=False) as store:
        explanation = explain_decision(store, decision_id, "A")
    assert str(explanation.current.score) == "679.5"
    assert explanation.status == "reachable"
    smallest = explanation.solutions[0]
    assert str(smallest.outcome.score) == "704.5"  # +25
    assert json_problems(explanation.to_dict(), "explanation.schema.json") == []
    assert explanation.to_dict()["current"]["score"] == 679.5


# -- the example portfolio: every suggestion, decided, reaches the target ----------------

@pytest.fixture(scope="module")
def portfolio_trail(tmp_path_factory, credit) -> Path:
    folder = tmp_path_factory.mktemp("portfolio")
    rows = list(csv.reader((ROOT / "examples" / "portfolio.csv").open()))
    sample = folder / "sample.csv"
    with sample.open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[0], *rows[1:400:16]])  # 25 customers
    db = folder / "audit.db"
    result = credit("batch", sample, "--out", folder / "results.jsonl", "--as-of",
                    "2025-12-31", "--db", db)
    assert result.exit_code == 0, result.output
    return db


def test_every_suggestion_for_the_portfolio_sample_reaches_its_target(portfolio_trail):
    grades = load_ruleset(DEFAULT_RULESET).grades
    checked = 0
    with AuditStore(portfolio_trail, create=False) as store:
        rows = list(store.iter_rows("SELECT decision_id, grade, outcome FROM records "
                                    "WHERE kind = 'decision' ORDER BY seq"))
        assert len(rows) == 25
        for row in rows:
            rank = grades.index(row["grade"])
            for target in {grades[max(rank - 1, 0)], grades[max(rank - 2, 0)]}:
                explanation = explain_decision(store, row["decision_id"], target)
                if explanation.status == "already":
                    assert rank <= grades.index(target) and row["outcome"] != "reject"
                    continue
                for solution in explanation.solutions:
                    decision = decided_with(portfolio_trail, row["decision_id"],
                                            solution.changes)
                    assert grades.index(decision.grade) <= grades.index(target), solution
                    assert decision.outcome != "reject"
                    checked += 1
                for lever in explanation.levers:  # what a lever says it does, it does
                    decision = decided_with(portfolio_trail, row["decision_id"],
                                            [lever.change])
                    assert (decision.grade, decision.score) == (lever.outcome.grade,
                                                                lever.outcome.score)
                assert json_problems(explanation.to_dict(), "explanation.schema.json") == []
    assert checked >= 20


# -- the command ------------------------------------------------------------------------

def test_the_command_shows_the_smallest_change(trail, credit):
    result = credit("explain", trail["ids"]["bbb-distributor"], "--to", "A",
                    "--db", trail["db"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == "Now        BBB (score 690), ACCEPT"
    assert lines[3] == "Smallest   credit_history.on_time_payment_ratio 0.93 -> >= 0.95"
    assert lines[4] == "           decided: A (score 715), ACCEPT"


def test_the_command_json_matches_its_schema(trail, credit):
    for name, grade in (("bbb-distributor", "AA"), ("reject-sanctions", "A"),
                        ("aaa-manufacturer", "AA")):
        result = credit("explain", trail["ids"][name], "--to", grade, "--db", trail["db"],
                        "--json")
        data = json.loads(result.stdout)
        assert json_problems(data, "explanation.schema.json") == []
        assert result.exit_code == (1 if data["status"] == "unreachable" else 0)


def test_an_unreachable_target_exits_1(trail, credit):
    result = credit("explain", trail["ids"]["reject-sanctions"], "--to", "BBB",
                    "--db", trail["db"])
    assert result.exit_code == 1
    assert "Unreachable KO_SANCTIONS rejects (SANCTIONS_HIT)" in result.stdout


def test_a_record_number_names_the_decision_too(trail, credit):
    with AuditStore(trail["db"], create=False) as store:
        seq = store.record(trail["ids"]["bbb-distributor"])["seq"]
    result = credit("explain", seq, "--to", "A", "--db", trail["db"], "--json")
    assert json.loads(result.stdout)["decision_id"] == trail["ids"]["bbb-distributor"]


@pytest.mark.parametrize(("args", "message"), [
    (["d-00000000000000000000000000000000", "--to", "A"],
     "credit: error: no audit record d-00000000000000000000000000000000 in "),
    (["1", "--to", "A"], "credit: error: record 1 is a ruleset-loaded record, not a decision"),
])
def test_a_decision_the_trail_does_not_hold_is_bad_data_as_for_audit_show(trail, credit,
                                                                          args, message):
    result = credit("explain", *args, "--db", trail["db"])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert credit("audit", "show", args[0], "--db", trail["db"]).exit_code == \
        (1 if args[0].startswith("d-") else 0)


@pytest.mark.parametrize(("args", "message"), [
    (["{bbb}", "--to", "AAAA"],
     "credit: error: unknown grade 'AAAA': the ruleset's grades are AAA, AA, A, BBB, BB, "
     "B, CCC"),
    (["{bbb}", "--to", "A", "--allow", "flags.nothing"],
     "credit: error: --allow flags.nothing: the ruleset reads no such field"),
])
def test_usage_errors_are_one_line_and_exit_2(trail, credit, args, message):
    args = [a.replace("{bbb}", trail["ids"]["bbb-distributor"]) for a in args]
    result = credit("explain", *args, "--db", trail["db"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def test_a_ruleset_other_than_the_records_is_refused(trail, credit, tmp_path):
    other = changed_ruleset(tmp_path, lambda g: g["scorecard"].update(base_points=101))
    result = credit("explain", trail["ids"]["bbb-distributor"], "--to", "A",
                    "--db", trail["db"], "--ruleset", other)
    assert result.exit_code == 2
    assert f"is not the one decision {trail['ids']['bbb-distributor']} was made under" \
        in result.stderr
    assert result.stderr.rstrip().endswith("leave out --ruleset to use the recorded one")
    assert result.stderr.count("\n") == 1
    same = credit("explain", trail["ids"]["bbb-distributor"], "--to", "A",
                  "--db", trail["db"], "--ruleset", DEFAULT_RULESET)
    assert same.exit_code == 0, same.output


def test_a_missing_audit_file_is_one_line(credit, tmp_path):
    result = credit("explain", "2", "--to", "A", "--db", tmp_path / "none.db")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("credit: error: ")


def test_fields_are_read_and_set_without_touching_the_original():
    document = {"a": {"b": 1}, "c": 2}
    changed = set_fields(document, {"a.b": 5, "x.y": 3})
    assert document == {"a": {"b": 1}, "c": 2}
    assert get_field(changed, "a.b") == 5 and get_field(changed, "x.y") == 3
    assert get_field(changed, "a.missing.deeper") is None


# -- the search along one field ----------------------------------------------------------

def _found(typ, current, holds, low=None, high=None):
    scale = scale_for(typ, current, Decimal("0.01"), low, high)
    return [(scale.value(position), direction) for position, direction in
            nearest(scale, scale.position(current), lambda p: holds(scale.value(p)))]


def test_a_count_stops_on_the_edge_in_each_direction_it_holds():
    assert _found("integer", 3, lambda x: x <= 0 or x >= 6, low=0) == [(6, 1), (0, -1)]
    assert _found("integer", 3, lambda x: x > 100) == [(101, 1)]


def test_an_amount_with_cents_moves_by_the_cent_and_a_whole_one_by_units():
    assert _found("money", 100.5, lambda x: x >= 123.45) == [(123.45, 1)]
    assert _found("money", 100, lambda x: x >= 123.45) == [(124, 1)]


def test_a_ratio_stops_at_the_shortest_decimal_that_holds():
    assert _found("number", 0.71, lambda x: x >= 0.85) == [(0.85, 1)]
    assert _found("number", 0.71, lambda x: x * 3 > 2.5, high=1) == [(0.834, 1)]


def test_nothing_is_found_beyond_a_bound():
    assert _found("number", 0.5, lambda x: x > 1, low=0, high=1) == []
    assert _found("integer", 5, lambda x: x < 0, low=0) == []


def test_a_date_moves_by_days():
    assert _found("date", "2024-06-01", lambda d: d <= "2023-11-30") == [("2023-11-30", -1)]
