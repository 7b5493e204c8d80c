"""Loading a ruleset folder: read, check and compile it (or take it from the cache of
compiled rulesets), with the challenger it names."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .cache import load_compiled
from .challenger import load_challenger
from .compiler import CompiledRuleset


def load_ruleset(folder: str | Path) -> CompiledRuleset:
    """Read, check and compile the ruleset in ``folder``; ProblemsError lists every
    problem found, each located in its file. A challenger the manifest names is loaded
    and checked too (``challenger.load_challenger``)."""
    compiled = load_compiled(folder)
    if "challenger" not in compiled.manifest:
        return compiled
    return dataclasses.replace(compiled, challenger=load_challenger(compiled, folder))
