"""The collections ladder (rulesets/default/escalation.yaml): grace days, the table and
its strategies by grade, the minimum-amount and minimum-share fall-back, the climb to the
step that fits (never past the required letter) and, with climb: one_step, one step at a
time; waiting days."""

from __future__ import annotations

import pytest

from engine.ruleset.escalation import next_step
from engine.ruleset.loader import load_ruleset
from tests.audit_helpers import copy_ruleset


@pytest.fixture(scope="module")
def one_step_ruleset(tmp_path_factory):
    """The shipped ruleset with its ladder climbed one step at a time (climb: one_step)."""
    folder = copy_ruleset(tmp_path_factory.mktemp("one_step"))
    path = folder / "escalation.yaml"
    text = path.read_text(encoding="utf-8")
    assert "climb: fitting" in text
    path.write_text(text.replace("climb: fitting", "climb: one_step"), encoding="utf-8")
    return load_ruleset(folder)


def step(ruleset, **position):
    position.setdefault("balance", 100000)
    position.setdefault("overdue_amount", 60000)
    return next_step(ruleset, position)


@pytest.mark.parametrize(("days", "expected"), [(0, "none"), (5, "none"), (6, "reminder")])
def test_grace_days_edge(default_ruleset, days, expected):
    assert step(default_ruleset, days_overdue=days).step == expected


@pytest.mark.parametrize(("days", "last", "proposed"), [
    (20, None, "reminder"), (21, "reminder", "phone_call"), (45, "phone_call", "phone_call"),
    (46, "phone_call", "letter"), (91, "letter", "on_site_visit"),
    (121, "on_site_visit", "legal_action")])
def test_the_table_at_its_edges(default_ruleset, days, last, proposed):
    result = step(default_ruleset, days_overdue=days, last_step=last, days_since_last_step=60)
    assert result.proposed == proposed
    assert result.step == (proposed if proposed != last else "none")


def test_weak_grade_and_broken_promise_escalate_sooner(default_ruleset):
    assert step(default_ruleset, days_overdue=61, grade="CCC").proposed == "on_site_visit"
    assert step(default_ruleset, days_overdue=61, grade="A").proposed == "letter"
    assert step(default_ruleset, days_overdue=16, promise_broken=True).proposed == "letter"
    assert step(default_ruleset, days_overdue=16, promise_broken=False).proposed == "reminder"


@pytest.mark.parametrize(("days", "grade", "proposed"), [
    (90, "B", "on_site_visit"), (91, "B", "legal_action"), (91, "BB", "on_site_visit"),
    (30, "BB", "phone_call"), (31, "BB", "letter"), (31, "BBB", "phone_call"),
    (60, "AA", "phone_call"), (61, "AA", "letter"), (50, "AAA", "phone_call"),
    (50, "A", "letter")])
def test_strategies_differ_by_grade(default_ruleset, days, grade, proposed):
    # B and CCC go to legal action after 90 days, BB and weaker get the letter after 30,
    # AAA and AA a phone call rather than a letter up to 60 days.
    assert step(default_ruleset, days_overdue=days, grade=grade).proposed == proposed


def test_minimum_amount_fall_back(default_ruleset):
    position = {"days_overdue": 130, "balance": 50000, "last_step": "letter",
                "days_since_last_step": 30}
    at_minimum = step(default_ruleset, overdue_amount=5000, **{**position,
                                                               "last_step": "on_site_visit"})
    assert at_minimum.step == "legal_action"
    below = step(default_ruleset, overdue_amount=4999.99, **position)
    assert below.proposed == "legal_action" and below.step == "none"
    assert below.notes[0].startswith("legal_action needs at least 5000")


def test_legal_action_reads_the_overdue_amount_not_its_share(default_ruleset):
    # 5,000 overdue of a 10,000,000 balance (0.05%) is still worth a claim.
    result = step(default_ruleset, days_overdue=130, overdue_amount=5000, balance=10_000_000,
                  last_step="on_site_visit", days_since_last_step=30)
    assert result.step == "legal_action"


@pytest.mark.parametrize(("balance", "expected"), [(20000, "letter"), (20001, "none")])
def test_minimum_share_of_the_balance_fall_back(default_ruleset, balance, expected):
    # 1,000 overdue is exactly 5% of 20,000, the letter's minimum share; of 20,001 it is
    # less, so the account falls back to the phone call it already had: nothing new.
    result = step(default_ruleset, days_overdue=50, overdue_amount=1000, balance=balance,
                  last_step="phone_call", days_since_last_step=7)
    assert result.step == expected


def test_the_fitting_step_but_never_past_the_required_letter(default_ruleset):
    first = step(default_ruleset, days_overdue=130)
    assert (first.proposed, first.step) == ("legal_action", "letter")
    assert first.notes == ["letter is required before legal_action"]
    waiting = step(default_ruleset, days_overdue=143, last_step="letter",
                   days_since_last_step=13)
    assert waiting.step == "none" and "waiting 14 days after letter" in waiting.notes[-1]
    after = step(default_ruleset, days_overdue=144, last_step="letter", days_since_last_step=14)
    assert after.step == "legal_action" and after.notes == []
    # Below the letter the account goes straight to the step that fits.
    assert step(default_ruleset, days_overdue=25).step == "phone_call"


def test_one_step_at_a_time_and_waiting_days(one_step_ruleset):
    first = step(one_step_ruleset, days_overdue=130)
    assert first.proposed == "legal_action" and first.step == "reminder"
    waiting = step(one_step_ruleset, days_overdue=130, last_step="reminder",
                   days_since_last_step=6)
    assert waiting.step == "none" and "waiting 7 days after reminder" in waiting.notes[-1]
    assert step(one_step_ruleset, days_overdue=130, last_step="reminder",
                days_since_last_step=7).step == "phone_call"


@pytest.mark.parametrize(("fixture", "expected"), [
    ("one_step_ruleset", ["reminder", "phone_call", "letter", "on_site_visit", "legal_action"]),
    ("default_ruleset", ["letter", "legal_action"])])
def test_walk_the_whole_ladder(request, fixture, expected):
    ruleset = request.getfixturevalue(fixture)
    last, taken = None, []
    for _ in range(6):
        result = step(ruleset, days_overdue=200, last_step=last, days_since_last_step=30)
        if result.step == "none":
            break
        taken.append(result.step)
        last = result.step
    assert taken == expected


def test_nothing_overdue_is_no_step(default_ruleset):
    assert step(default_ruleset, days_overdue=None, overdue_amount=0).step == "none"


@pytest.mark.parametrize(("last", "expected"), [("phone_call", "none"), ("reminder", "none"),
                                                 (None, "reminder")])
def test_the_ladder_is_not_climbed_down(default_ruleset, last, expected):
    # 19 days overdue proposes a reminder; after a phone call (a stronger step) nothing is
    # sent, however long ago the call was.
    result = step(default_ruleset, days_overdue=19, last_step=last, days_since_last_step=60)
    assert (result.proposed, result.step) == ("reminder", expected)
    if last == "phone_call":
        assert result.notes == ["phone_call was already taken, a stronger step than reminder"]
