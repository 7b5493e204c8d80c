"""What a ruleset change would do, as one self-contained HTML page in the report's look:
the grade migration matrix as a heatmap, the granted limits by grade under both rulesets
and their change, the admission outcomes that change, and the customers that move most.
Written from ``Simulation.to_dict()`` (``engine.quality.simulation_report``)."""

from __future__ import annotations

import os
from decimal import Decimal

from markupsafe import Markup

from ..quality.simulation_report import NOT_DECIDED, Simulation
from .charts import Bar, change_bars, heatmap
from .templates import environment, signed_money
from .writing import write_page


def write_simulation_report(simulation: Simulation, out: str | os.PathLike) -> dict:
    """Write the page of ``simulation`` to the file ``out``; returns the data it shows."""
    data = simulation.to_dict()
    write_page(out, simulation_html(data))
    return data


def simulation_html(data: dict) -> str:
    """The page for ``data`` (``Simulation.to_dict()``)."""
    migration = [row for row in data["migration"] if row["old_grade"] != "total"]
    categories = [row["old_grade"] for row in migration]
    limits = [row for row in data["limits"] if row["grade"] != "total"]
    charts = {
        "migration": heatmap("Grade migration: baseline to candidate", categories,
                             [[row[c] for c in categories] for row in migration],
                             rows_are="baseline", columns_are="candidate grade",
                             neutral=frozenset({NOT_DECIDED})),
        "limits": change_bars(f"Change in granted limits by grade ({data['currency']})", [
            Bar(row["grade"], float(Decimal(row["change"])), signed_money(row["change"]))
            for row in limits]),
    }
    return environment().get_template("simulation.html.j2").render(
        data=data, charts={name: Markup(svg) for name, svg in charts.items()},
        migration=migration, categories=categories, limits=limits,
        totals=next(row for row in data["limits"] if row["grade"] == "total"))
