"""Champion/challenger: the split by customer id, the champion applied and output as
without a challenger, the challenger recorded beside it and replayed, located errors for a
bad reference, and ``credit audit stats --challenger`` checked by hand."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from engine.audit.store import AuditStore, NewRecord
from engine.decide.challenger import in_split, split_point
from engine.language.schema_check import json_problems
from engine.ruleset.loader import load_ruleset
from tests.audit_helpers import (
    AS_OF,
    EXAMPLE_PORTFOLIO,
    copy_db,
    decision_bodies,
    edit_body,
    full_body,
    rows,
    tamper,
)
from tests.credit_cli import invoke_credit
from tests.paths import DEFAULT_RULESET, ROOT

CHALLENGER = ROOT / "rulesets" / "challenger-example"
CUSTOMERS = ROOT / "examples" / "customers"
IN_SPLIT = CUSTOMERS / "a-wholesaler.json"  # in the default's 10% split
OUT_OF_SPLIT = CUSTOMERS / "aa-food-processor.json"


def make_champion(root: Path, line: str | None = None, share: float = 0.10) -> Path:
    """A copy of the shipped ruleset (named default) naming a copy of the example
    challenger beside it, or whatever ``line`` says."""
    champion = root / "champion"
    shutil.copytree(DEFAULT_RULESET, champion)
    if not (root / "challenger").exists():
        shutil.copytree(CHALLENGER, root / "challenger")
    with (champion / "ruleset.yaml").open("a", encoding="utf-8") as handle:
        handle.write((line or f"challenger: {{ruleset: ../challenger, share: {share}}}") + "\n")
    return champion


def expected_in_split(customer_id: str, share: float) -> bool:
    """The documented formula, written out again independently of engine.decide.challenger."""
    digest = hashlib.sha256(f"challenger:default:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 11 < share * 2 ** 53


def where(champion: Path) -> str:
    """FILE:LINE:COL: of the challenger's folder in the champion's ruleset.yaml."""
    text = (champion / "ruleset.yaml").read_text(encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1)
                if row.startswith("challenger:"))
    return f"{champion}/ruleset.yaml:{line}:23:"


def portfolio_ids() -> list[str]:
    with EXAMPLE_PORTFOLIO.open(encoding="utf-8", newline="") as handle:
        return [row["id"] for row in csv.DictReader(handle)]


def challenged(db: Path) -> dict[int, str]:
    """batch row -> the challenger part recorded beside it (as stored text)."""
    return {row["batch_row"]: json.dumps(body["challenger"], sort_keys=True)
            for row, body in decision_bodies(db) if "challenger" in body}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, credit):
    """The example portfolio decided without a challenger, with one (one worker), and
    with one again (two workers), each audited in its own file."""
    root = tmp_path_factory.mktemp("champion")
    champion = make_champion(root)
    made = {}
    for name, ruleset, workers in (("plain", DEFAULT_RULESET, 1),
                                   ("one", champion, 1), ("two", champion, 2)):
        db, out = root / f"{name}.db", root / f"{name}.jsonl"
        result = credit("batch", EXAMPLE_PORTFOLIO, "--out", out, "--ruleset", ruleset,
                        "--as-of", AS_OF, "--db", db, "--workers", workers, "--json")
        assert result.exit_code == 0, result.output
        made[name] = (db, out, json.loads(result.stdout))
    made["champion"] = champion
    return made


# --- the split -------------------------------------------------------------------------------

def test_split_is_the_documented_formula():
    for number in range(2000):
        customer = f"C-{number:06d}"
        assert 0 <= split_point("default", customer) < 1
        assert in_split("default", customer, 0.1) == expected_in_split(customer, 0.1)
    assert all(in_split("default", f"C-{n}", 1) for n in range(100))


def test_raising_the_share_only_adds_customers():
    ids = portfolio_ids()
    at_10 = {i for i in ids if in_split("default", i, 0.10)}
    at_20 = {i for i in ids if in_split("default", i, 0.20)}
    assert at_10 < at_20


def test_share_on_the_example_portfolio_is_close_to_the_stated_one(runs):
    ids = portfolio_ids()
    assert len(ids) == 1000
    expected = sum(expected_in_split(i, 0.10) for i in ids)
    # 10% of 1,000 is 100, with a standard deviation of sqrt(1000 * 0.1 * 0.9) ~ 9.5.
    assert abs(expected - 100) <= 30
    db, _, summary = runs["one"]
    recorded = challenged(db)
    assert len(recorded) == expected
    assert summary["challenger"]["decided"] == expected
    assert summary["challenger"]["failed"] == 0
    ids_by_row = dict(enumerate(ids, start=1))
    assert {ids_by_row[row] for row in recorded} == {i for i in ids
                                                      if expected_in_split(i, 0.10)}


def test_split_and_results_are_stable_across_runs_and_worker_counts(runs, tmp_path, credit):
    assert challenged(runs["one"][0]) == challenged(runs["two"][0])
    again = tmp_path / "again.db"
    result = credit("batch", EXAMPLE_PORTFOLIO, "--out", tmp_path / "again.jsonl",
                    "--ruleset", runs["champion"], "--as-of", AS_OF, "--db", again)
    assert result.exit_code == 0, result.output
    assert challenged(again) == challenged(runs["one"][0])


# --- the champion is what is applied ---------------------------------------------------------

def test_naming_a_challenger_leaves_the_champion_hash_alone(runs, default_ruleset):
    champion = load_ruleset(runs["champion"])
    assert champion.hash == default_ruleset.hash
    assert champion.challenger.ruleset.name == "challenger-example"
    assert champion.challenger.share == 0.10


def test_batch_results_and_summary_are_unchanged_by_a_challenger(runs):
    plain_out, plain_summary = runs["plain"][1], runs["plain"][2]
    for name in ("one", "two"):
        _, out, summary = runs[name]
        assert out.read_bytes() == plain_out.read_bytes()
        assert {k: v for k, v in summary.items() if k not in ("challenger", "audit", "out",
                                                              "batch_id")} == \
            {k: v for k, v in plain_summary.items() if k not in ("audit", "out", "batch_id")}
    assert "challenger" not in plain_summary


def test_audit_bodies_are_the_champions_with_the_challenger_beside(runs):
    def bodies(db):
        return {row["batch_row"]: (row["decision_id"], row["body"], body)
                for row, body in decision_bodies(db)}

    plain, with_challenger = bodies(runs["plain"][0]), bodies(runs["one"][0])
    assert plain.keys() == with_challenger.keys()
    beside = 0
    for row, (decision_id, stored, data) in with_challenger.items():
        assert decision_id == plain[row][0]
        if "challenger" in data:
            beside += 1
            del data["challenger"]
            assert data == plain[row][2]
        else:  # not in the split: the very same bytes as without a challenger
            assert stored == plain[row][1]
    assert beside == len(challenged(runs["one"][0]))


def test_decide_applies_the_champion_and_shows_the_challenger(runs, credit):
    champion = runs["champion"]
    for customer, inside in ((IN_SPLIT, True), (OUT_OF_SPLIT, False)):
        plain = credit("decide", customer, "--as-of", AS_OF, "--json", "--no-audit")
        both = credit("decide", customer, "--ruleset", champion, "--as-of", AS_OF,
                      "--json", "--no-audit")
        assert plain.exit_code == both.exit_code == 0
        data = json.loads(both.stdout)
        view = data.pop("challenger")
        assert data == json.loads(plain.stdout)
        assert view["in_split"] is inside
        assert view["ruleset"]["name"] == "challenger-example"
        assert view["share"] == 0.1
        assert ("decision" in view) is inside
        assert json_problems({**data, "challenger": view}, "decision.schema.json") == []
    text = credit("decide", IN_SPLIT, "--ruleset", champion, "--as-of", AS_OF, "--no-audit")
    line = next(x for x in text.stdout.splitlines() if x.startswith("Challenger"))
    assert "challenger-example 1.0.0" in line and "not applied" in line


def test_decide_records_the_challenger_and_its_ruleset(runs, tmp_path, credit):
    db = tmp_path / "audit.db"
    result = credit("decide", IN_SPLIT, "--ruleset", runs["champion"], "--as-of", AS_OF,
                    "--db", db)
    assert result.exit_code == 0, result.output
    record = rows(db, "SELECT * FROM records WHERE kind = 'decision'")[0]
    part = full_body(db, record["seq"])["challenger"]
    challenger = load_ruleset(CHALLENGER)
    assert part["ruleset"] == challenger.identity
    assert part["share"] == 0.1
    assert set(part["decision"]) == {"outcome", "reasons", "score", "grade", "credit_limit",
                                     "payment_term_days", "required_level"}
    with AuditStore(db, create=False) as store:
        assert store.ruleset_content(challenger.hash)["ruleset.yaml"]["name"] == \
            "challenger-example"
    assert credit("replay", "--all", "--db", db).exit_code == 0
    shown = credit("audit", "show", str(record["seq"]), "--db", db)
    assert "\nChallenger challenger-example 1.0.0 (" in shown.stdout


# --- replay ----------------------------------------------------------------------------------

def test_replay_reproduces_the_challenger_part(runs, credit):
    result = credit("replay", "--all", "--db", runs["one"][0])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1,000 replayed identically, 0 differed"


def _edit_challenger(db: Path, seq: int, change) -> None:
    tamper(db, lambda conn: edit_body(conn, seq, lambda body: change(body["challenger"])))


def test_replay_detects_a_changed_challenger_result(runs, tmp_path, credit):
    db = copy_db(runs["one"][0], tmp_path / "audit.db")
    seq, body = next((row["seq"], body) for row, body in decision_bodies(db)
                     if "challenger" in body)
    grade = body["challenger"]["decision"]["grade"]
    forged = "AAA" if grade != "AAA" else "AA"
    _edit_challenger(db, seq, lambda part: part["decision"].update(grade=forged))
    result = credit("replay", str(seq), "--db", db)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [
        f'  challenger.decision.grade: recorded "{forged}", replayed "{grade}"']


def test_replay_detects_a_challenger_result_outside_the_split(runs, tmp_path, credit):
    db = copy_db(runs["one"][0], tmp_path / "audit.db")
    seq, customer = next(
        (row["seq"], row["customer_id"]) for row, body in decision_bodies(db)
        if "challenger" in body and not in_split("default", row["customer_id"], 0.01))
    _edit_challenger(db, seq, lambda part: part.update(share=0.01))
    result = credit("replay", str(seq), "--db", db)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [
        f"  challenger: customer {customer} is not in the 0.01 split of ruleset default, "
        "yet a challenger result is recorded"]


# --- a bad reference -------------------------------------------------------------------------

def _validate_error(champion: Path) -> list[str]:
    result = invoke_credit("validate", champion)
    assert result.exit_code == 1, result.output
    return result.stderr.strip().splitlines()


def test_missing_challenger_folder_is_located(tmp_path):
    champion = make_champion(tmp_path, "challenger: {ruleset: ../nowhere, share: 0.1}")
    lines = _validate_error(champion)
    assert len(lines) == 1
    assert lines[0].startswith(f"{where(champion)} challenger: no ruleset "
                               "folder ../nowhere (looked for ")


def test_a_folder_that_is_not_a_ruleset_is_located(tmp_path):
    (tmp_path / "empty").mkdir()
    champion = make_champion(tmp_path, "challenger: {ruleset: ../empty, share: 0.1}")
    assert _validate_error(champion) == [
        f"{where(champion)} challenger: ../empty is not a ruleset folder (no "
        f"ruleset.yaml in {tmp_path / 'empty'})"]


def test_a_broken_challenger_is_located_in_both_rulesets(tmp_path):
    champion = make_champion(tmp_path)
    grading = tmp_path / "challenger" / "grading.yaml"
    grading.write_text(grading.read_text().replace("base_points: 100", "base_points: lots"))
    lines = _validate_error(champion)
    assert f"{where(champion)} challenger: the ruleset in ../challenger has 1 " \
           "problem (listed with their locations)" in lines
    assert any(line.startswith(f"{tmp_path / 'challenger'}/grading.yaml:5:16: ")
               for line in lines), lines


def test_a_challenger_cannot_name_a_challenger(tmp_path):
    champion = make_champion(tmp_path)
    with (tmp_path / "challenger" / "ruleset.yaml").open("a") as handle:
        handle.write("challenger: {ruleset: ../champion, share: 0.5}\n")
    assert _validate_error(champion) == [
        f"{where(champion)} challenger: the ruleset in ../challenger names a "
        "challenger itself; a challenger cannot have one"]
    itself = make_champion(tmp_path / "self", "challenger: {ruleset: ., share: 0.5}")
    assert "names a challenger itself" in _validate_error(itself)[0]


def test_a_challenger_in_another_currency_is_refused(tmp_path):
    champion = make_champion(tmp_path)
    manifest = tmp_path / "challenger" / "ruleset.yaml"
    manifest.write_text(manifest.read_text().replace("currency: EUR", "currency: USD"))
    assert _validate_error(champion) == [
        f"{where(champion)} challenger: the ruleset in ../challenger counts "
        "money in USD, this one in EUR; they must agree"]


@pytest.mark.parametrize("share", ["0", "1.5", "'10%'"])
def test_share_must_be_more_than_0_and_at_most_1(tmp_path, share):
    champion = make_champion(tmp_path, f"challenger: {{ruleset: ../challenger, share: {share}}}")
    lines = _validate_error(champion)
    assert len(lines) == 1
    assert lines[0].startswith(where(champion).rsplit(":", 2)[0] + ":")
    assert "/challenger/share" in lines[0]


# --- credit audit stats --challenger, by hand --------------------------------------------------

def _part(outcome, grade, limit, share=0.1, error=None):
    challenger = load_ruleset(CHALLENGER)
    part = {"ruleset": challenger.identity, "share": share}
    if error:
        part["error"] = error
    else:
        part["decision"] = {"outcome": outcome, "reasons": [], "score": 500, "grade": grade,
                            "credit_limit": limit, "payment_term_days": 30,
                            "required_level": "automatic"}
    return part


@pytest.fixture
def small_trail(tmp_path, default_ruleset):
    """Four decisions with a challenger part and one without, made by hand."""
    champion = default_ruleset
    cases = [  # champion (outcome, grade, limit), challenger part
        (("accept", "A", "100000.00"), _part("accept", "A", "100000.00")),
        (("accept", "BBB", "50000.00"), _part("accept", "BB", "30000.00")),
        (("refer", "BB", "20000.00"), _part("accept", "BB", "25000.00")),
        (("reject", "CCC", None), _part(None, None, None, error="no band")),
        (("accept", "AA", "90000.00"), None),
    ]
    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        store.store_ruleset(champion)
        store.store_ruleset(load_ruleset(CHALLENGER))
        records = []
        for number, ((outcome, grade, limit), part) in enumerate(cases, start=1):
            beside = "" if part is None else f'"challenger":{json.dumps(part)},'
            records.append(NewRecord(
                "decision", f'{{"as_of":"2026-11-30",{beside}"decision":{{}}}}',
                decision_id=f"d-{number}", customer_id=f"C-{number}", as_of="2026-11-30",
                ruleset_name=champion.name, ruleset_version=champion.version,
                ruleset_hash=champion.hash, outcome=outcome, grade=grade,
                credit_limit=limit))
        store.append(records)
    return db


def test_stats_challenger_numbers_by_hand(small_trail, credit):
    result = credit("audit", "stats", "--challenger", "--json", "--db", small_trail)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(p["decisions"], p["challenger_failed"], p["share"]) for p in data["pairs"]] == \
        [(4, 1, 0.1)]
    assert data["pairs"][0]["challenger"].startswith("challenger-example 1.0.0 (")
    # outcome: #1, #2 agree; grade: #1, #3 (BB = BB); granted limit: #1 only (#3 referred:
    # the champion grants nothing, the challenger 25,000; #4 the challenger failed).
    assert data["agreement"] == [
        {"measure": "outcome", "decisions": 4, "agree": 2, "differ": 2, "rate": 0.5},
        {"measure": "grade", "decisions": 4, "agree": 2, "differ": 2, "rate": 0.5},
        {"measure": "granted_limit", "decisions": 4, "agree": 1, "differ": 3, "rate": 0.25},
        {"measure": "all", "decisions": 4, "agree": 1, "differ": 3, "rate": 0.25}]
    zero = {"A": 0, "BBB": 0, "BB": 0, "rejected": 0, "not_decided": 0}
    assert data["migration"] == [
        {"champion": "A", **zero, "A": 1, "total": 1},
        {"champion": "BBB", **zero, "BB": 1, "total": 1},
        {"champion": "BB", **zero, "BB": 1, "total": 1},
        {"champion": "rejected", **zero, "not_decided": 1, "total": 1}]
    assert data["limits"] == [
        {"champion_grade": "A", "decisions": 1, "champion_granted": "100000.00",
         "challenger_granted": "100000.00", "difference": "0.00", "challenger_higher": 0,
         "challenger_lower": 0, "same": 1},
        {"champion_grade": "BBB", "decisions": 1, "champion_granted": "50000.00",
         "challenger_granted": "30000.00", "difference": "-20000.00",
         "challenger_higher": 0, "challenger_lower": 1, "same": 0},
        {"champion_grade": "BB", "decisions": 1, "champion_granted": "0.00",
         "challenger_granted": "25000.00", "difference": "25000.00",
         "challenger_higher": 1, "challenger_lower": 0, "same": 0},
        {"champion_grade": "rejected", "decisions": 1, "champion_granted": "0.00",
         "challenger_granted": "0.00", "difference": "0.00", "challenger_higher": 0,
         "challenger_lower": 0, "same": 1},
        {"champion_grade": "total", "decisions": 4, "champion_granted": "150000.00",
         "challenger_granted": "155000.00", "difference": "5000.00",
         "challenger_higher": 1, "challenger_lower": 1, "same": 2}]


def test_stats_challenger_csv_table_and_filters(small_trail, credit):
    csv_out = credit("audit", "stats", "--challenger", "--csv", "--show", "agreement",
                     "--db", small_trail)
    assert csv_out.exit_code == 0, csv_out.output
    assert csv_out.stdout.splitlines() == [
        "measure,decisions,agree,differ,rate", "outcome,4,2,2,0.5", "grade,4,2,2,0.5",
        "granted_limit,4,1,3,0.25", "all,4,1,3,0.25"]
    table = credit("audit", "stats", "--challenger", "--db", small_trail)
    assert table.exit_code == 0
    assert "  grade          4          2      2       50.0%" in table.stdout
    accepted = credit("audit", "stats", "--challenger", "--outcome", "accept", "--json",
                      "--db", small_trail)
    assert json.loads(accepted.stdout)["pairs"][0]["decisions"] == 2


@pytest.mark.parametrize("args", [["--challenger", "--csv"], ["--show", "limits"]])
def test_stats_challenger_usage_errors(small_trail, args, credit):
    result = credit("audit", "stats", *args, "--db", small_trail)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
