"""The scope the expression tests compile in, and turning a compiled expression into a
function of every local, as the ruleset compiler does."""

from __future__ import annotations

from engine.language.expressions import CodeContext, Symbol
from engine.language.runtime import HELPERS

SCOPE = {
    "n": Symbol("number", "n"), "i": Symbol("integer", "i"), "m": Symbol("money", "m"),
    "s": Symbol("string", "s"), "b": Symbol("boolean", "b"), "d": Symbol("date", "d"),
    "l": Symbol("list", "l"), "financials.revenue": Symbol("money", "fin_rev"),
    "k": Symbol("integer", "k", nullable=False),
    "x": Symbol("exact", "x"),  # an exact number: a score, a number the ruleset wrote
    # dates and times (engine.language.temporal)
    "tm": Symbol("time", "tm"), "ts": Symbol("datetime", "ts"),
    "du": Symbol("duration", "du"), "ym": Symbol("years_months_duration", "ym"),
}
LOCALS = [symbol.code for symbol in SCOPE.values()]
GENERATED = "<generated expression>"


def as_function(code: str, ctx: CodeContext):
    """``_f(every local)`` returning the value of the expression compiled to ``code``."""
    source = f"def _f({', '.join(LOCALS)}):\n    return {code}\n"
    namespace = {**HELPERS, **ctx.constants}
    exec(compile(source, GENERATED, "exec"), namespace)
    return namespace["_f"]
