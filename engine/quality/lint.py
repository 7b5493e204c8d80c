"""``credit lint``: the static checks a careful analyst would make by hand, each a
located finding (an error or a warning, with a code).

Tables (``lint_tables``): rules that can never fire, rules that overlap under hit policy
unique (or give different answers under any), inputs no rule matches in a table with no
default. Grading (``lint_grading``): values no bin takes, grades no score reaches.
Policy (``lint_policy``): a worse grade getting more. Approval (``lint_approval``): a
limit signed off at a level whose role may not set it. Monitoring (``lint_monitoring``):
windows longer than signals are remembered, rules that act on a signal from before a hold.
Facts (here): declared but never read. A ruleset ``credit validate`` refuses (including
an expression reading a fact that is not declared) gives validate's problems as errors,
and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import ProblemsError
from ..ruleset.compiler import CompiledRuleset, enrichment_fact_types
from ..ruleset.loader import load_ruleset
from .findings import ERROR, WARNING, Finding
from .lint_approval import approval_findings
from .lint_grading import grading_findings
from .lint_monitoring import monitoring_findings
from .lint_policy import policy_findings
from .lint_tables import table_findings

UNDECLARED = "unknown field '"  # how the expression compiler names an undeclared fact


def lint_ruleset(folder: str | Path) -> list[Finding]:
    """Every finding for the ruleset in ``folder``, in file order."""
    try:
        ruleset = load_ruleset(folder)
    except ProblemsError as exc:
        return [Finding(p.location, ERROR, "fact-undeclared" if UNDECLARED in p.message
                        else "invalid", p.message) for p in exc.problems]
    return lint_compiled(ruleset)


def lint_compiled(ruleset: CompiledRuleset) -> list[Finding]:
    """Every finding for a ruleset that compiled, in file order."""
    findings = table_findings(ruleset) + grading_findings(ruleset) + \
        policy_findings(ruleset) + approval_findings(ruleset) + unused_facts(ruleset) + \
        monitoring_findings(ruleset)
    return sorted(findings)


def unused_facts(ruleset: CompiledRuleset) -> list[Finding]:
    """Facts declared (facts.yaml, enrichment.yaml) and derived facts that no rule reads."""
    read: set[str] = set()
    for _, _, names in ruleset.slots:
        read.update(names)
    stages = ruleset.source.stages
    findings = []
    for name in stages["facts"].data.get("facts") or {}:
        if name not in read:
            findings.append(Finding(stages["facts"].locate_key(("facts", name)), WARNING,
                                    "fact-unused", f"fact '{name}' is declared but no rule "
                                    "reads it"))
    if "enrichment" in stages:
        doc = stages["enrichment"]
        for name in enrichment_fact_types(doc.data):
            parts = name.split(".")
            if name in read or name == "bureau.source":
                continue
            path = ("indicators", parts[1], "values", parts[2]) if parts[0] == "indicators" \
                else ("bureau", "values", parts[1])
            findings.append(Finding(doc.locate_key(path), WARNING, "fact-unused",
                                    f"'{name}' is declared for a plugin to add but no rule "
                                    "reads it"))
    if "derived" in stages:
        doc = stages["derived"]
        for name, entry in (doc.data.get("derived") or {}).items():
            # A several-output table is read through its parts (terms.days).
            parts = {f"{name}.{o['name']}" for o in entry["table"]["outputs"]} if \
                isinstance(entry, Mapping) and "table" in entry else set()
            if name not in read and not parts & read:
                findings.append(Finding(doc.locate_key(("derived", name)), WARNING,
                                        "derived-unused", f"derived fact '{name}' is computed "
                                        "but no rule reads it"))
    return findings
