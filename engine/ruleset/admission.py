"""Admission: knock-out and referral checks with reason codes; the worst outcome wins."""

from __future__ import annotations

from collections.abc import Mapping

from ..language.codegen import FunctionBuilder, Reporter
from ..language.expressions import BOOLEAN, Symbol

STAGE = "admission"
OUTCOMES = ("accept", "refer", "reject")  # index = severity


def compile_admission(spec: Mapping, scope: Mapping[str, Symbol], fb: FunctionBuilder,
                      rep: Reporter) -> tuple[str, ...]:
    """Write the admission checks into ``fb``: the function returns ``(severity,
    reasons)`` where reasons are ``(code, message, stage)`` tuples. Returns the check ids."""
    fb.line("severity = 0")
    fb.line("reasons = []")
    ids: list[str] = []
    for index, check in enumerate(spec.get("checks", [])):
        path = ("checks", index)
        if check["id"] in ids:
            rep.error((*path, "id"), f"check id '{check['id']}' is used twice")
        ids.append(check["id"])
        compiled = rep.expression((*path, "when"), check["when"], scope, fb.ctx, expect=BOOLEAN)
        if compiled is None:
            continue
        severity = OUTCOMES.index(check["outcome"])
        reason = (check["reason"], check.get("message", check["reason"]), STAGE)
        fb.line(f"if {compiled.code}:")
        with fb.indented():
            fb.line(f"reasons.append({fb.ctx.constant(reason)})")
            fb.line(f"if severity < {severity}: severity = {severity}")
            fb.trace(STAGE, check["id"], compiled.reads, repr(check["outcome"]))
    fb.line("return severity, reasons")
    return tuple(ids)
