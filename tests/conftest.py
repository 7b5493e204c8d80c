"""Fixtures every test can ask for: the ``credit`` command run in process and the shipped
ruleset compiled once; and every test gets its own audit file, so no test writes
credit-audit.db in the checkout."""

from __future__ import annotations

import os
import shutil

import pytest

from engine.ruleset.compiler import CompiledRuleset
from engine.ruleset.loader import load_ruleset
from tests.credit_cli import invoke_credit
from tests.paths import DEFAULT_RULESET, ROOT

# No compiled-ruleset cache for the suite, here or in the processes it starts: a test that
# changes the engine's behaviour with monkeypatch is not seen by its key, and thousands of
# throwaway rulesets would fill it. tests/test_ruleset_cache.py turns it on in a tmp folder.
os.environ["CREDIT_NO_CACHE"] = "1"


@pytest.fixture(autouse=True)
def audit_file(tmp_path, monkeypatch):
    """The audit file commands write to unless a test says otherwise ($CREDIT_DB)."""
    path = tmp_path / "audit.db"
    monkeypatch.setenv("CREDIT_DB", str(path))
    return path


@pytest.fixture(scope="session")
def credit():
    """Runs ``credit ARGS`` in process: ``credit("validate", folder)`` gives the click
    result (tests.credit_cli.invoke_credit). Session-scoped, as it holds no state: module
    fixtures and hypothesis tests can use it too."""
    return invoke_credit


@pytest.fixture(scope="session")
def default_ruleset() -> CompiledRuleset:
    """The shipped ruleset (rulesets/default), compiled once for the whole session."""
    return load_ruleset(DEFAULT_RULESET)


@pytest.fixture(scope="session")
def rulesets(tmp_path_factory) -> dict[str, CompiledRuleset]:
    """The shipped ruleset ("plain"), and a copy naming the example challenger for every
    customer ("challenged")."""
    root = tmp_path_factory.mktemp("rulesets")
    champion = root / "champion"
    shutil.copytree(DEFAULT_RULESET, champion)
    shutil.copytree(ROOT / "rulesets" / "challenger-example", root / "challenger")
    with (champion / "ruleset.yaml").open("a", encoding="utf-8") as handle:
        handle.write("challenger: {ruleset: ../challenger, share: 1.0}\n")
    return {"plain": load_ruleset(DEFAULT_RULESET), "challenged": load_ruleset(champion)}
