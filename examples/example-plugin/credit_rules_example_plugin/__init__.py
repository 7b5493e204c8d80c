"""An example credit-rules plugin, installed like any third-party one (an entry point in
the group ``credit_rules``): a toy probability-of-default model as an indicator, a command,
and a listener for recorded decisions.

A ruleset uses the indicator by declaring it in its enrichment.yaml::

    indicators:
      pd_model:
        on_failure: refer
        values:
          probability_of_default: {type: number}

and reading ``indicators.pd_model.probability_of_default`` in any expression.
"""

from __future__ import annotations

import math

import click
import pluggy

hookimpl = pluggy.HookimplMarker("credit_rules")
RECORDED: list[dict] = []  # what credit_rules_decision_recorded was told (for tests)


@hookimpl
def credit_rules_indicators(customer, wanted):
    """A logistic score over leverage and arrears: a stand-in for a statistical model."""
    financials = customer.get("financials") or {}
    history = customer.get("credit_history") or {}
    assets, liabilities = financials.get("total_assets"), financials.get("total_liabilities")
    if not assets or liabilities is None:
        return {name: None for name in wanted}
    leverage = liabilities / assets
    days = history.get("max_days_overdue_12m") or 0
    score = -4.0 + 3.0 * leverage + 0.02 * days
    return {"probability_of_default": round(1 / (1 + math.exp(-score)), 6)}


@hookimpl
def credit_rules_decision_recorded(record, decision):
    RECORDED.append({"seq": record["seq"], "grade": decision["grading"]["grade"]})


@hookimpl
def credit_rules_register_commands(cli):
    @cli.command("pd-model")
    def pd_model():
        """Say which model this plugin provides."""
        click.echo("pd_model: logistic stand-in, version 1.2.0")
