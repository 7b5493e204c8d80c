"""Admission: knock-out and referral checks with reason codes; the worst outcome wins."""

from __future__ import annotations

from collections.abc import Mapping

from ..language.codegen import FunctionBuilder, Reporter
from ..language.expressions import Symbol
from .checks import compile_checks

STAGE = "admission"
OUTCOMES = ("accept", "refer", "reject")  # index = severity


def compile_admission(spec: Mapping, scope: Mapping[str, Symbol], fb: FunctionBuilder,
                      rep: Reporter) -> tuple[str, ...]:
    """Write the admission checks into ``fb``: the function returns ``(severity,
    reasons)`` where reasons are ``(code, message, stage)`` tuples. Returns the check ids."""
    fb.line("severity = 0")
    fb.line("reasons = []")
    ids = compile_checks(spec, scope, fb, rep, STAGE, outcome=lambda check: check["outcome"],
                         on_hit=lambda check: [
                             f"if severity < {OUTCOMES.index(check['outcome'])}: "
                             f"severity = {OUTCOMES.index(check['outcome'])}"])
    fb.line("return severity, reasons")
    return ids
