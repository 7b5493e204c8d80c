"""The report as one self-contained HTML page: the data ``gather`` read, its charts as
inline SVG, inline CSS and a few lines of inline script to sort tables. No network: no
external script, style sheet, font or image, so the file opens from an e-mail attachment.
The page depends only on the data, never on the clock: the same trail and period give
the same bytes."""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from decimal import Decimal

from markupsafe import Markup

from ..audit.store import AuditStore
from .charts import Bar, bars, heatmap
from .gather import gather
from .templates import environment, money, number
from .writing import write_page

OUTCOME_COLOURS = {"accept": "#3f8f4f", "refer": "#d39b2a", "reject": "#b8423a",
                   "pass": "#3f8f4f", "block": "#b8423a", "released": "#d39b2a"}
AGE_COLOURS = ("#3f8f4f", "#9bb54a", "#d39b2a", "#d9752f", "#b8423a")


def write_report(store: AuditStore, out: str | os.PathLike, since: dt.date | None = None,
                 until: dt.date | None = None) -> dict:
    """Write the report of the decisions dated ``since``..``until`` (default: the whole
    trail) to the file ``out``; returns the data it shows (``gather.gather``). A trail
    that fails verification is still reported, with the failure at the top: the caller
    decides what it means (``data["trail"]["verified"]``)."""
    data = gather(store, since, until)
    write_page(out, report_html(data))
    return data


def report_html(data: dict) -> str:
    """The page for ``data`` (``gather.gather``)."""
    currency = data["currency"] or ""
    accounts = data["accounts"]
    charts = {
        "grades": bars("Customers by grade (latest decision)", [
            Bar(r["grade"], r["customers"], number(r["customers"])) for r in data["grades"]]),
        "limits": bars(f"Credit limits granted by grade ({currency})", [
            Bar(r["grade"], float(r["granted"]), money(r["granted"]))
            for r in data["limits"]]),
        "outcomes": bars("Admission outcomes (decisions)", [
            Bar(r["outcome"], r["decisions"], number(r["decisions"]),
                OUTCOME_COLOURS.get(r["outcome"], "#777777"))
            for r in data["admission"]["outcomes"]]),
        "migration": Markup(heatmap(
            "Grade migration: first to latest decision in the period",
            data["migration"]["grades"], data["migration"]["cells"],
            rows_are="first", columns_are="latest grade")),
        "actions": bars("Monitor actions", [
            Bar(r["action"], r["actions"], number(r["actions"])) for r in data["actions"]]),
        "ageing": bars(f"Open invoices by days past due ({accounts['currency'] or ''})", [
            Bar(r["bucket"], float(r["amount"]), money(r["amount"]), colour)
            for r, colour in zip(accounts["ageing"], AGE_COLOURS, strict=True)]),
        "utilisation": bars("Customers by use of their credit limit", [
            Bar(r["bucket"], r["customers"], number(r["customers"]))
            for r in accounts["utilisation"]]),
        "orders": bars("Order checks", [
            Bar(r["outcome"], r["checks"], number(r["checks"]),
                OUTCOME_COLOURS[r["outcome"]]) for r in data["orders"]["outcomes"]]),
    }
    return environment().get_template("page.html.j2").render(
        data=data, charts={name: Markup(svg) for name, svg in charts.items()},
        overrides=_overrides(data["overrides"]), shares=_shares(data))


def _overrides(rows: list[dict]) -> list[dict]:
    """Overrides by role and direction, applied and not applied side by side."""
    table: dict[tuple[str, str], dict] = defaultdict(lambda: {"applied": 0, "refused": 0})
    for row in rows:
        entry = table[(row["role"], row["direction"])]
        entry["applied" if row["applied"] else "refused"] += row["decisions"]
    return [{"role": role, "direction": direction, **counts}
            for (role, direction), counts in sorted(table.items())]


def _shares(data: dict) -> dict:
    """Percent shares the tables show beside counts."""
    customers = data["customers"] or 1
    decisions = data["count"] or 1
    return {"grades": {r["grade"]: _percent(r["customers"], customers) for r in data["grades"]},
            "outcomes": {r["outcome"]: _percent(r["decisions"], decisions)
                         for r in data["admission"]["outcomes"]}}


def _percent(part: int, whole: int) -> str:
    return f"{Decimal(100 * part) / whole:.1f}%"
