"""``credit explain DECISION_ID --to GRADE``: what it would take, a thin layer over
``engine.explain``."""

from __future__ import annotations

import json
import sys

import click

from ..audit.store import AuditStore, default_db_path
from ..explain.explanation import ExplainUsageError, Explanation, explain_decision, moves
from ..ruleset.loader import load_ruleset
from .options import db_option


class _UsageError(click.ClickException):
    exit_code = 2


@click.command("explain")
@click.argument("ref", metavar="DECISION_ID")
@click.option("--to", "grade", required=True, metavar="GRADE",
              help="The grade to reach (a grade of the decision's ruleset).")
@click.option("--allow", "allow", multiple=True, metavar="FIELD",
              help="Consider changing a field that is not changeable by default (founded, "
                   "industry.*, indicators.*, bureau.*, financials.revenue_prior, "
                   "flags.sanctions_hit, flags.insolvency_proceedings); repeatable; a name "
                   "ending in '.' allows every field under it.")
@click.option("--ruleset", "ruleset_dir", metavar="DIR", default=None,
              help="Check that this ruleset folder is the one the decision was made under "
                   "(the recorded one is used in any case).")
@click.option("--alternatives", type=click.IntRange(0, 10), default=2, show_default=True,
              help="Other solutions to show beside the smallest.")
@click.option("--max-changes", type=click.IntRange(1, 8), default=4, show_default=True,
              help="The most inputs one solution may change.")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@db_option
def explain_command(ref: str, grade: str, allow: tuple[str, ...], ruleset_dir: str | None,
                    alternatives: int, max_changes: int, as_json: bool,
                    db_path: str | None) -> None:
    """List the smallest changes to a decided customer's inputs that reach a grade.

    The recorded decision (a decision id, or a record number) is decided again from the
    trail; each suggestion is the nearest value of each input at a bin's edge or where a
    cap or knock-out stops holding, and every suggestion shown was decided with the
    changed inputs and reached the grade. Exits 1 when the grade cannot be reached or
    the trail holds no such decision, 2 for a grade or field the ruleset does not know.

    Examples:

    \b
      credit explain d-6618271a1f3807b87d3bc13f63088415 --to A
      credit explain 2 --to AA --json
      credit explain 14 --to BBB --allow flags.sanctions_hit
    """
    ruleset = load_ruleset(ruleset_dir) if ruleset_dir else None
    with AuditStore(db_path or default_db_path(), create=False) as store:
        try:
            explanation = explain_decision(store, ref, grade, allow=allow, ruleset=ruleset,
                                           alternatives=alternatives,
                                           max_changes=max_changes)
        except ExplainUsageError as exc:
            raise _UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(explanation.to_dict(), indent=2, ensure_ascii=False))
    else:
        for line in explanation_lines(explanation):
            click.echo(line)
    if explanation.status == "unreachable":
        sys.exit(1)


def explanation_lines(e: Explanation) -> list[str]:
    """The explanation as text for people."""
    now = e.current
    lines = [f"Decision {e.decision_id} for customer {e.customer_id}, as of "
             f"{e.as_of.isoformat()}",
             f"Now        {_decided(now)}",
             f"Target     {e.target}: "
             + ("any score" if e.band == "any score" else f"a score {e.band}")
             + f", no cap below {e.target}, no knock-out"]
    if e.status == "already":
        lines.append(f"Already    {now.grade} is {e.target} or better: nothing to change")
        return lines
    for index, solution in enumerate(e.solutions):
        head = "Smallest" if index == 0 else "Or"
        for number, change in enumerate(solution.changes):
            lines.append(f"{head if number == 0 else '':<10} {_change(change)}")
        lines.append(f"{'':<10} decided: {_decided(solution.outcome)}")
    for reason in e.unreachable:
        lines.append(f"Unreachable {reason}")
    for blocker in e.blockers:
        what = "rejects" if blocker["kind"] == "knock-out" else \
            f"caps the grade at {blocker['grade']}"
        lines.append(f"Blocked by {blocker['id']} {what} ({blocker['reason']}): "
                     f"{blocker['when']}")
    fixed = [b for b in e.blockers if not b["changeable"]]
    if e.levers and not fixed:  # (with a fixed cap or knock-out in the way, none helps)
        lines.append("Levers     one input at a time, each decided (--json lists every one):")
        by_field: dict[str, list] = {}
        for lever in e.levers:
            by_field.setdefault(lever.change.field, []).append(lever)
        for levers in by_field.values():
            first = levers[0]
            best = max(levers, key=lambda lv: (lv.outcome.score, -lv.change.size))
            moved = ", ".join(f"{c} {b} -> {a}" for c, b, a, _ in moves(first, now))
            text = f"  {_change(first.change)}: {_gain(first, now)}, {first.outcome.grade}"
            if moved:
                text += f" ({moved})"
            if best is not first:
                text += (f"; up to {_gain(best, now)}, {best.outcome.grade}, at "
                         f"{best.change.relation} {_value(best.change.after)}")
            lines.append(text)
    by_characteristic: dict[str, list] = {}
    for needed in e.needed:
        by_characteristic.setdefault(needed.characteristic, []).append(needed)
    for name, items in by_characteristic.items():
        first = items[0]
        bins = ", ".join(f"+{n.points} in {n.bin}" for n in items)
        fixed = f" ({', '.join(first.not_changeable)} not changeable)" \
            if first.not_changeable else ""
        lines.append(f"Needs      {name} ({first.input}) from {_value(first.value)}: {bins}; "
                     f"no one input reaches it: it is fed by {', '.join(first.fields)}"
                     f"{fixed}")
    if e.not_changeable:
        lines.append(f"Fixed      {', '.join(e.not_changeable)} (not changeable; "
                     "--allow FIELD to include one)")
    return lines


def _decided(outcome) -> str:
    text = f"{outcome.grade} (score {outcome.score}), {outcome.outcome.upper()}"
    if outcome.reasons:
        text += f": {', '.join(outcome.reasons)}"
    return text


def _change(change) -> str:
    relation = "" if change.relation == "=" else f"{change.relation} "
    return f"{change.field} {_value(change.before)} -> {relation}{_value(change.after)}"


def _gain(lever, now) -> str:
    change = lever.outcome.score - now.score
    lifted = sorted(now.fired - lever.outcome.fired)
    text = f"{'+' if change >= 0 else ''}{change} points"
    if lifted:
        text += f", lifts {', '.join(lifted)}"
    part = sorted(lever.touches - set(lifted))
    if part:  # one part of a condition made of several: another change must end the rest
        text += f", ends a part of {', '.join(part)}"
    return text


def _value(value: object) -> str:
    if value is None:
        return "(missing)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1000 else repr(value)
    return str(value)
