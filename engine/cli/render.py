"""Readable text for people: a decision, a batch summary. The JSON forms live with the
objects themselves; this module only formats."""

from __future__ import annotations

import os
from decimal import Decimal

import click


def money(text: str | None, currency: str = "") -> str:
    """'1800000.00' -> '1,800,000.00 EUR'."""
    if text is None:
        return "none"
    amount = Decimal(text)
    return f"{amount:,.2f}" + (f" {currency}" if currency else "")


def decision_text(data: dict, *, with_trace: bool = False) -> str:
    """A decision (as ``Decision.to_dict`` gives it) as a few readable lines."""
    ruleset = data["ruleset"]
    admission, grading, policy = data["admission"], data["grading"], data["policy"]
    lines = [
        f"Decision {data['decision_id']} for customer {data['customer_id']}, "
        f"as of {data['as_of']}",
        f"Ruleset    {ruleset['name']} {ruleset['version']} ({ruleset['hash'][:12]})",
        f"Admission  {admission['outcome'].upper()}",
    ]
    for reason in admission["reasons"]:
        lines.append(f"  - {reason['code']}: {reason['message']} ({reason['stage']})")
    band = "" if grading["band_grade"] == grading["grade"] else \
        f", band {grading['band_grade']}"
    lines.append(f"Grade      {grading['grade']} (score {grading['score']}{band})")
    for cap in grading["caps"]:
        verb = "at most" if cap["kind"] == "cap" else "at least"
        effect = "applied" if cap["applied"] else "no effect"
        lines.append(f"  - {cap['id']}: {verb} {cap['grade']} ({cap['reason']}, {effect})")
    if grading["reasons"]:
        lines.append(f"  reasons: {', '.join(grading['reasons'])}")
    if policy is None:
        lines.append("Policy     none (rejected)")
    else:
        discount = policy["discount"]
        terms = f"{policy['payment_term_days']} days" if policy["payment_term_days"] \
            else "cash in advance"
        cash = (f"{discount['rate'] * 100:g}% within {discount['days']} days"
                if discount["rate"] else "no cash discount")
        lines += [
            f"Policy     limit {money(policy['credit_limit'], policy['currency'])}",
            f"           payment term {terms}; {cash}",
            f"           guarantee "
            f"{'required' if policy['guarantee_required'] else 'not required'};"
            f" review every {policy['review_interval_days']} days",
        ]
        for key, value in policy.get("extra", {}).items():
            lines.append(f"           {key}: {value}")
    lines.append(f"Approval   {data['approval']['required_level']}")
    if data.get("challenger"):
        lines.append(challenger_line(data["challenger"], policy["currency"] if policy
                                     else ""))
    if with_trace:
        lines.append("Trace")
        for entry in data["trace"]:
            read = ", ".join(f"{k}={_short(v)}" for k, v in entry["read"].items())
            lines.append(f"  {entry['stage']:<9} {entry['id']:<32} -> "
                         f"{_short(entry['result'])}" + (f"   [{read}]" if read else ""))
    else:
        lines.append(f"Trace      {len(data['trace'])} entries (--trace to list, --json for all)")
    return "\n".join(lines)


def challenger_line(view: dict, currency: str) -> str:
    """The challenger beside a decision (``challenger.challenger_view``), in one line."""
    ruleset = view["ruleset"]
    name = f"{ruleset['name']} {ruleset['version']} ({ruleset['hash'][:12]})"
    share = f"{view['share'] * 100:g}%"
    if not view.get("in_split", True):
        return f"Challenger {name}: customer not in its {share} split"
    if "error" in view:
        return f"Challenger {name}: could not decide ({view['error']})"
    decided = view["decision"]
    limit = f", limit {money(decided['credit_limit'], currency)}" \
        if decided["credit_limit"] is not None else ""
    return (f"Challenger {name}: {decided['outcome'].upper()}, {decided['grade']}{limit} "
            f"(recorded, not applied; {share} split)")


def _short(value: object) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def summary_text(summary: dict, grades: tuple[str, ...]) -> str:
    """A batch summary as readable lines."""
    currency = summary["currency"]
    lines = [f"Decided {counted(summary['decided'], 'customer')}"
             + (f"; {counted(summary['failed'], 'row')} failed" if summary["failed"] else "")]
    outcomes = summary["by_outcome"]
    lines.append("Admission  " + "  ".join(f"{o} {outcomes.get(o, 0):,}"
                                           for o in ("accept", "refer", "reject")))
    by_grade = summary["by_grade"]
    lines.append("Grades     " + "  ".join(f"{g} {by_grade.get(g, 0):,}" for g in grades))
    lines.append(f"Limits     accepted {money(summary['limit_accepted'], currency)}; "
                 f"awaiting referral {money(summary['limit_referred'], currency)}")
    challenger = summary.get("challenger")
    if challenger:
        ruleset = challenger["ruleset"]
        lines.append(f"Challenger {ruleset['name']} {ruleset['version']} "
                     f"({ruleset['hash'][:12]}) also decided {challenger['decided']:,} "
                     f"customers ({challenger['share'] * 100:g}% split), recorded beside "
                     "the champion's decisions"
                     + (f"; {challenger['failed']:,} it could not decide"
                        if challenger["failed"] else ""))
    return "\n".join(lines)


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``1 customer``, ``2 customers``, ``1,000 rows``: a count and its noun, agreeing."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


COLOURS = {"ok": "green", "failed": "red", "error": "red", "warning": "yellow"}


def painted(text: str, meaning: str) -> str:
    """``text`` in the colour of its meaning (ok green, failed and error red, warning
    yellow), unless $NO_COLOR is set; click leaves colour out by itself when the output
    is not a terminal (a pipe, a file)."""
    if os.environ.get("NO_COLOR"):
        return text
    return click.style(text, fg=COLOURS[meaning], bold=(meaning != "ok") or None)
