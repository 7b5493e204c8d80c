"""A list of checks (``checks:`` with id, condition, reason and message), as admission and
the order check have it: each check whose condition holds adds its reason."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..language.codegen import FunctionBuilder, Reporter
from ..language.expressions import BOOLEAN, Symbol


def compile_checks(spec: Mapping, scope: Mapping[str, Symbol], fb: FunctionBuilder,
                   rep: Reporter, stage: str, outcome: Callable[[Mapping], str],
                   on_hit: Callable[[Mapping], list[str]] = lambda check: []
                   ) -> tuple[str, ...]:
    """Write ``spec["checks"]`` into ``fb``: each check whose condition holds appends its
    ``(code, message, stage)`` to ``reasons`` (which the caller's code defines), runs the
    lines ``on_hit(check)`` gives, and is traced with ``outcome(check)``. Returns the
    check ids."""
    ids: list[str] = []
    for index, check in enumerate(spec.get("checks", [])):
        path = ("checks", index)
        if check["id"] in ids:
            rep.error((*path, "id"), f"check id '{check['id']}' is used twice")
        ids.append(check["id"])
        compiled = rep.expression((*path, "when"), check["when"], scope, fb.ctx, expect=BOOLEAN)
        if compiled is None:
            continue
        reason = (check["reason"], check.get("message", check["reason"]), stage)
        fb.line(f"if {compiled.code}:")
        with fb.indented():
            fb.line(f"reasons.append({fb.ctx.constant(reason)})")
            for line in on_hit(check):
                fb.line(line)
            fb.trace(stage, check["id"], compiled.reads, repr(outcome(check)))
    return tuple(ids)
