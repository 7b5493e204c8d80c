"""The collections ladder (rulesets/default/escalation.yaml): grace days, the table, the
minimum-amount and minimum-share fall-back, one step at a time, waiting days."""

from __future__ import annotations

import pytest

from engine.ruleset.escalation import next_step


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


def test_minimum_amount_fall_back(default_ruleset):
    position = {"days_overdue": 130, "balance": 100000, "last_step": "letter",
                "days_since_last_step": 30}
    at_minimum = step(default_ruleset, overdue_amount=25000, **{**position,
                                                                 "last_step": "on_site_visit"})
    assert at_minimum.step == "legal_action"
    below = step(default_ruleset, overdue_amount=24999.99, **position)
    assert below.proposed == "legal_action" and below.step == "on_site_visit"
    assert below.notes[0].startswith("legal_action needs at least 25000")


@pytest.mark.parametrize(("balance", "expected"), [(20000, "letter"), (20001, "none")])
def test_minimum_share_of_the_balance_fall_back(default_ruleset, balance, expected):
    # 1,000 overdue is exactly 5% of 20,000, the letter's minimum share; of 20,001 it is
    # less, so the account falls back to the phone call it already had: nothing new.
    result = step(default_ruleset, days_overdue=50, overdue_amount=1000, balance=balance,
                  last_step="phone_call", days_since_last_step=7)
    assert result.step == expected


def test_one_step_at_a_time_and_waiting_days(default_ruleset):
    first = step(default_ruleset, days_overdue=130)
    assert first.proposed == "legal_action" and first.step == "reminder"
    waiting = step(default_ruleset, days_overdue=130, last_step="reminder", days_since_last_step=6)
    assert waiting.step == "none" and "waiting 7 days after reminder" in waiting.notes[-1]
    assert step(default_ruleset, days_overdue=130, last_step="reminder",
                days_since_last_step=7).step == "phone_call"


def test_walk_the_whole_ladder(default_ruleset):
    last, taken = None, []
    for _ in range(6):
        result = step(default_ruleset, days_overdue=200, last_step=last, days_since_last_step=30)
        if result.step == "none":
            break
        taken.append(result.step)
        last = result.step
    assert taken == ["reminder", "phone_call", "letter", "on_site_visit", "legal_action"]


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
