"""The ruleset a running service decides with, and its reload.

The ruleset is loaded and compiled at start. A reload loads and compiles the new one
first, off to the side; only when that succeeds is it put in place, by replacing one
reference (atomic: a request reads ``current`` once and decides wholly under the ruleset
it got). When it fails the old ruleset stays, and the reload says why.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ..errors import CreditRulesError, ProblemsError
from ..ruleset.compiler import CompiledRuleset
from ..ruleset.loader import load_ruleset


@dataclass(frozen=True)
class Reloaded:
    """What a reload did: ``ok`` (the new ruleset is in use), the ruleset in use after
    it, whether it differs from the one before, and the problems when it failed."""

    ok: bool
    ruleset: CompiledRuleset
    changed: bool = False
    problems: list[str] = field(default_factory=list)


class RulesetHolder:
    """The ruleset in use (``current``), loaded from ``folder``."""

    def __init__(self, folder: str):
        self.folder = folder
        self.current: CompiledRuleset = load_ruleset(folder)
        self._lock = threading.Lock()  # one reload at a time

    def reload(self) -> Reloaded:
        """Load and compile the folder again; swap it in when it is valid, else keep the
        ruleset in use and return the problems (each located in its file)."""
        with self._lock:
            old = self.current
            try:
                new = load_ruleset(self.folder)
            except ProblemsError as exc:
                return Reloaded(False, old, problems=[str(p) for p in exc.problems])
            except CreditRulesError as exc:
                return Reloaded(False, old, problems=[str(exc)])
            except OSError as exc:
                return Reloaded(False, old, problems=[f"{self.folder}: {exc.strerror or exc}"])
            self.current = new
            return Reloaded(True, new, changed=new.hash != old.hash)
