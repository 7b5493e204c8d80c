"""What explaining reads from a compiled ruleset: which declared facts each rule reads
(through derived facts), the scorecard's characteristics as functions of a customer's
values with their compiled bins, and the caps and knock-outs no score can lift."""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ..errors import CreditRulesError
from ..language.codegen import FunctionBuilder, scope_for
from ..language.expressions import DATE, CodeContext, compile_expression, parse
from ..language.runtime import HELPERS
from ..ruleset.compiler import CompiledRuleset
from ..ruleset.grading import Bin

# What evaluating rules on hostile or extreme values may raise (as the pipeline catches).
FAILURES = (CreditRulesError, ArithmeticError, ValueError, TypeError, AttributeError,
            RecursionError, OverflowError)


@dataclass(frozen=True)
class Characteristic:
    """A scorecard characteristic: its input as a function of the values, its compiled
    bins, and the declared facts that feed it (``through``: the derived facts between)."""

    id: str
    input_text: str
    value: Callable[[dict], object]
    bins: tuple[Bin, ...]
    facts: tuple[str, ...]
    through: tuple[str, ...]

    @property
    def direct(self) -> str | None:
        """The declared fact the input is, when it is one fact as it stands."""
        text = self.input_text.strip()
        return text if self.facts == (text,) else None

    def bin_of(self, value: object) -> Bin | None:
        """The bin a value falls in, as the compiled grading picks it (None: no bin)."""
        tested = [b for b in self.bins if b.kind in ("range", "values")]
        missing = next((b for b in self.bins if b.kind == "missing"), None)
        other = next((b for b in self.bins if b.kind == "else"), None)
        if value is None:
            return missing or other
        for candidate in tested:
            if in_bin(candidate, value):
                return candidate
        return other


def in_bin(bin_: Bin, value: object) -> bool:
    """Whether a (present) value lies in a range or values bin."""
    test = bin_.test
    if test is None:
        return False
    if test.intervals:
        try:
            return any(interval.contains(value) for interval in test.intervals)
        except TypeError:
            return False
    return value in (test.values or ())


@dataclass(frozen=True)
class Condition:
    """A condition of a rule (or one of its parts), as a function of the values."""

    text: str
    holds: Callable[[dict], object]
    facts: tuple[str, ...]


@dataclass(frozen=True)
class Blocker:
    """A cap (``at_most`` a grade) or a knock-out (an admission check that rejects): what
    no score lifts; or a floor (``at_least`` a grade), which lifts a grade whatever the
    score. ``atoms`` are the parts its condition is made of with and/or/not."""

    id: str
    kind: str  # "cap", "knock-out" or "floor"
    reason: str
    grade: str | None
    condition: Condition
    atoms: tuple[Condition, ...]

    @property
    def facts(self) -> tuple[str, ...]:
        return self.condition.facts


class Model:
    """The rules of a compiled ruleset as explaining reasons over them."""

    def __init__(self, ruleset: CompiledRuleset):
        self.ruleset = ruleset
        self.types = {**ruleset.fact_types, **ruleset.derived_types, "as_of": DATE}
        self._derived_reads: dict[str, set[str]] = {}
        for stage, rule_id, names in (slot[-3:] for slot in ruleset.slots):
            if stage == "derived":
                self._derived_reads.setdefault(rule_id.split("/")[0], set()).update(names)
        self.characteristics = self._characteristics()
        self.blockers = self._blockers()
        self.floors = tuple(self._blocker(item, "floor", item["at_least"]) for item in
                            self.ruleset.source.stages["grading"].data.get("adjustments")
                            or () if "at_least" in item)

    def values(self, facts: dict, as_of: dt.date) -> dict | None:
        """The values the rules read (declared and derived facts) for a customer
        document; None when the rules cannot compute them."""
        try:
            values = self.ruleset.extract(facts, as_of)
            self.ruleset.derive(values, _ignore)
        except FAILURES:
            return None
        return values

    def declared(self, names: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(declared facts, derived facts) that ``names`` read, through derived facts."""
        facts: set[str] = set()
        derived: list[str] = []
        pending = list(names)
        while pending:
            name = pending.pop()
            if name in self._derived_reads:
                if name not in derived:
                    derived.append(name)
                    pending.extend(self._derived_reads[name])
            elif name in self.ruleset.fact_types:
                facts.add(name)
        return tuple(sorted(facts)), tuple(derived)

    def function(self, text: object) -> tuple[Callable[[dict], object], tuple[str, ...]]:
        """An expression of the ruleset's language as a function of the values, compiled
        as the ruleset's own code is, and the names it reads."""
        ctx = CodeContext()
        scope = scope_for(self.types, non_null=frozenset({"as_of"}))
        compiled = compile_expression(text, scope, ctx)
        builder = FunctionBuilder("value(v)", ctx)
        builder.line(f"return {compiled.code}")
        namespace: dict[str, object] = dict(HELPERS)
        namespace.update(ctx.constants)
        # Our own generated source, from a checked expression (as the compiler's).
        exec(compile(builder.source(self.types), "<explain>", "exec"), namespace)
        function = namespace["value"]

        def safe(values: dict) -> object:
            try:
                return function(values)
            except FAILURES:
                return None
        return safe, compiled.reads

    def condition(self, text: object) -> Condition:
        holds, reads = self.function(text)
        return Condition(str(text), holds, self.declared(reads)[0])

    def _characteristics(self) -> tuple[Characteristic, ...]:
        info = self.ruleset.grading_info
        specs = self.ruleset.source.stages["grading"].data["scorecard"]["characteristics"]
        found = []
        for compiled in info.characteristics if info else ():
            spec = specs[compiled.index]
            value, reads = self.function(spec["input"])
            facts, through = self.declared(reads)
            found.append(Characteristic(compiled.id, str(spec["input"]), value,
                                        compiled.bins, facts, through))
        return tuple(found)

    def _blockers(self) -> tuple[Blocker, ...]:
        found = []
        grading = self.ruleset.source.stages["grading"].data
        for item in grading.get("adjustments") or ():
            if "at_most" in item:
                found.append(self._blocker(item, "cap", item["at_most"]))
        admission = self.ruleset.source.stages["admission"].data
        for check in admission.get("checks") or ():
            if check.get("outcome") == "reject":
                found.append(self._blocker(check, "knock-out", None))
        return tuple(found)

    def _blocker(self, item: Mapping, kind: str, grade: str | None) -> Blocker:
        condition = self.condition(item["when"])
        atoms = []
        for part in _atoms(str(item["when"])):
            try:
                atoms.append(self.condition(part))
            except CreditRulesError:
                continue  # a part that is no expression alone (never for and/or/not)
        return Blocker(item["id"], kind, item["reason"], grade, condition, tuple(atoms))


def _atoms(text: str) -> list[str]:
    """The parts a condition is made of with and, or and not, as expression texts."""
    found: list[str] = []
    stack = [parse(text.strip()).body]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BoolOp):
            stack.extend(reversed(node.values))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            stack.append(node.operand)
        else:
            found.append(ast.unparse(node))
    return found


def _ignore(entry: object) -> None:
    """A trace sink for computing values only."""
