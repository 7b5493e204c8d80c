"""Policy (what a grade gets: limit, term, discount, guarantee, review interval) and
approval routing (who must sign off), both decision tables."""

from __future__ import annotations

from collections.abc import Mapping

from ..language.codegen import FunctionBuilder, Reporter
from ..language.expressions import BOOLEAN, INTEGER, MONEY, NUMBER, STRING, Symbol
from ..language.tables import compile_table

POLICY_OUTPUTS = {"credit_limit": MONEY, "payment_term_days": INTEGER,
                  "discount_rate": NUMBER, "discount_days": INTEGER,
                  "guarantee_required": BOOLEAN, "review_interval_days": INTEGER}
LIMIT_UNDETERMINED = ("LIMIT_UNDETERMINED",
                      "The policy could not compute a credit limit from the facts given",
                      "policy")


def exposure_rule(spec: Mapping) -> tuple | None:
    """What the exposure check does when the exposure is above the limit:
    ``(severity, (code, message, stage))``, or None when the policy has no check."""
    check = spec.get("exposure_check")
    if not check:
        return None
    return (2 if check.get("outcome") == "reject" else 1,
            (check["reason"], check.get("message", check["reason"]), "policy"))


def compile_policy(spec: Mapping, scope: Mapping[str, Symbol], fb: FunctionBuilder,
                   rep: Reporter, rounding: str) -> dict[str, str] | None:
    """Write the policy stage: the function returns ``(outputs, referral)`` where
    ``referral`` is ``(severity, (code, message, stage))`` or None. Returns name -> type of
    the outputs later stages may read."""
    table_spec = spec["table"]
    declared = {o["name"]: o["type"] for o in table_spec.get("outputs", [])}
    missing = [f"'{n}' ({t})" for n, t in POLICY_OUTPUTS.items() if declared.get(n) != t]
    if missing:
        rep.error(("table", "outputs"), "the policy table needs the outputs "
                  + ", ".join(missing))
        return None
    table = compile_table(table_spec, ("table",), table_spec.get("id", "policy"), "policy",
                          scope, fb, rep)
    if table is None:
        return None
    limit_local = table.outputs["credit_limit"][0]
    fb.line(f"if {limit_local} is not None:")
    with fb.indented():
        fb.line(f"if {limit_local} < 0:")
        with fb.indented():
            fb.trace("policy", "credit_limit_not_negative", (), f"{{'was': {limit_local}}}")
            fb.line(f"{limit_local} = _ZERO")
        fb.line(f"{limit_local} = _round_money({limit_local}, {rounding})")
    fb.line("outputs = {" + ", ".join(f"{n!r}: {local}" for n, (local, _) in
                                       table.outputs.items()) + "}")
    types = {n: t for n, (_, t) in table.outputs.items()}
    fb.line("referral = None")
    fb.line(f"if {limit_local} is None:")
    with fb.indented():
        fb.line(f"referral = (1, {fb.ctx.constant(LIMIT_UNDETERMINED)})")
    check = spec.get("exposure_check")
    fb.line("outputs['total_exposure'] = None")
    if check:
        compiled = rep.expression(("exposure_check", "exposure"), check["exposure"], scope,
                                  fb.ctx, expect=MONEY)
        if compiled is None:
            return None
        exposure = fb.ctx.temp()
        fb.line(f"{exposure} = {compiled.code}")
        fb.line(f"{exposure} = None if {exposure} is None else _round_money({exposure}, "
                f"{rounding})")
        fb.line(f"outputs['total_exposure'] = {exposure}")
        fb.line(f"if {exposure} is not None and {limit_local} is not None and "
                f"{exposure} > {limit_local}:")
        with fb.indented():
            fb.line(f"referral = {fb.ctx.constant(exposure_rule(spec))}")
            reads = (*compiled.reads,)
            fb.trace("policy", "exposure_check", reads,
                     f"{{'exposure': {exposure}, 'credit_limit': {limit_local}}}")
    types["total_exposure"] = MONEY
    fb.line("return outputs, referral")
    return types


def compile_approval(spec: Mapping, scope: Mapping[str, Symbol], fb: FunctionBuilder,
                     rep: Reporter) -> tuple[str, ...] | None:
    """Write the approval stage: the function returns the required authority level.
    Returns the levels, lowest first."""
    levels = tuple(spec["levels"])
    table_spec = spec["table"]
    outputs = {o["name"]: o["type"] for o in table_spec.get("outputs", [])}
    if outputs.get("required_level") != STRING:
        rep.error(("table", "outputs"), "the approval table needs a string output "
                                        "'required_level'")
        return None
    output = next(o for o in table_spec["outputs"] if o["name"] == "required_level")
    key = "values" if "values" in output else "priority"
    priority = output.get(key)
    for index, value in enumerate(priority or []):
        if value not in levels:
            rep.error(("table", "outputs", table_spec["outputs"].index(output), key,
                       index), f"'{value}' is not one of the levels ({', '.join(levels)})")
    for index, rule in enumerate(table_spec.get("rules", [])):
        level = (rule.get("then") or {}).get("required_level")
        if isinstance(level, Mapping):
            rep.error(("table", "rules", index, "then", "required_level", "expr"),
                      "'required_level' names a level: write the level, not an expression")
            continue
        # A value missing from the output's list is reported by the table itself.
        if level is not None and level not in levels and (priority is None or
                                                          level in priority):
            rep.error(("table", "rules", index, "then", "required_level"),
                      f"'{level}' is not one of the levels ({', '.join(levels)})")
    default = (table_spec.get("default") or {}).get("required_level")
    if isinstance(default, Mapping):
        rep.error(("table", "default", "required_level", "expr"),
                  "'required_level' names a level: write the level, not an expression")
    elif default is not None and default not in levels:
        rep.error(("table", "default", "required_level"), f"'{default}' is not a level")
    table = compile_table(table_spec, ("table",), table_spec.get("id", "approval"),
                          "approval", scope, fb, rep)
    if table is None:
        return None
    level = table.outputs["required_level"][0]
    fb.line(f"if {level} is None:")  # no rule matched: the highest authority decides
    with fb.indented():
        fb.line(f"{level} = {levels[-1]!r}")
        fb.trace("approval", "highest_level_by_default", (), f"{{'required_level': {level}}}")
    fb.line(f"return {level}")
    return levels
