"""No ruleset, however broken, crashes the compiler: every outcome is a compiled ruleset or
located problems. Mutates the shipped ruleset at random places with random values."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import shutil

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.decide.pipeline import decide
from engine.errors import DecisionError, ProblemsError
from engine.ruleset.loader import load_ruleset
from tests.paths import DEFAULT_RULESET
from tests.sample_customers import paths, strong_customer

STAGES = ["ruleset.yaml", "facts.yaml", "derived.yaml", "admission.yaml", "grading.yaml",
          "policy.yaml", "approval.yaml"]
LOCATED = re.compile(r"^\S+\.yaml(:\d+:\d+)?: .+")

junk = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "-", ">= 80", "[60..80)", "(..0)", "AAA, AA", "not(AAA)", "? > 1",
                     "a +", "__import__('os')", "grade", "score > 500", "x.y.z", "[1..0]",
                     "min(1)", "unknown_fact > 1", "financials.revenue * 'x'"]),
    st.lists(st.integers(0, 5), max_size=3),
    st.dictionaries(st.sampled_from(["id", "when", "then", "expr", "x"]), st.text(max_size=5),
                    max_size=2),
)




def replace(node, path, value):
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = replace(node[path[0]], path[1:], value)
    return copy


@pytest.mark.slow
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_ruleset_compiles_or_reports_located_problems(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("rules")
    shutil.copytree(DEFAULT_RULESET, folder, dirs_exist_ok=True)
    name = data.draw(st.sampled_from(STAGES))
    document = yaml.safe_load((DEFAULT_RULESET / name).read_text())
    document = json.loads(json.dumps(document, default=str))
    all_paths = list(paths(document))
    path = data.draw(st.sampled_from(all_paths))
    mutated = replace(document, path, data.draw(junk))
    (folder / name).write_text(json.dumps(mutated, indent=1))
    try:
        ruleset = load_ruleset(folder)
    except ProblemsError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert LOCATED.match(str(problem)), str(problem)
        return
    with contextlib.suppress(DecisionError):  # a decision may fail; it may not crash
        decide(ruleset, strong_customer(), dt.date(2026, 11, 30)).to_dict()
