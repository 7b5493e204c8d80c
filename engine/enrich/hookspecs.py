"""The hooks a credit-rules plugin may implement (pluggy project ``credit_rules``).

A plugin is a module or object with functions named like the specs below, marked with
``@hookimpl``; a package exposes it through an entry point in the group ``credit_rules``.
Every hook is called with keyword arguments; a plugin may accept only those it needs.
Each plugin is called on its own: one that raises, times out or answers in the wrong shape
is recorded as failed and never stops the others. docs/plugins.md documents every hook with
an example; a test keeps that page complete.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # only plugins that add commands need click, and the CLI gives it
    import click

hookspec = pluggy.HookspecMarker("credit_rules")
hookimpl = pluggy.HookimplMarker("credit_rules")


@hookspec
def credit_rules_indicators(customer: dict, as_of: dt.date,
                            wanted: list[str]) -> dict[str, Any] | None:
    """Compute indicator values an expression cannot (reference data, a model's
    probability of default, an analyst's rating).

    Called once per decision, during enrichment (before the pure decision), for each
    plugin that a ruleset's ``enrichment.yaml`` lists under ``indicators``, with the names
    it declares for that plugin in ``wanted``. Return a mapping of those names to values
    (null when unknown); names not asked for are ignored. Every result is used (not only
    the first); each value is recorded with the plugin that gave it, in the trace's input
    and in the audit trail.
    """


@hookspec
def credit_rules_bureau_reports(customer: dict, as_of: dt.date) -> dict[str, Any] | None:
    """Fetch a third-party credit report for a customer.

    Called during enrichment for each bureau plugin the ruleset lists under ``bureau``,
    in the ruleset's order (a waterfall): the first plugin that returns a report wins and
    the rest are not asked. Return a mapping with the report fields the ruleset declares
    (for example ``score``, ``rating``, ``payment_index``, ``report_date``), or None when
    the bureau has no report for this customer.
    """


@hookspec
def credit_rules_expert_judgments(customer: dict, as_of: dt.date) -> list[dict] | None:
    """Propose expert overrides to a decision.

    Called once per decision during enrichment, for every plugin that has it; all results
    are used, in plugin order. Return a list of overrides, each a mapping with ``id``,
    ``kind`` (``notches``, ``grade``, ``limit``, ``limit_cap`` or ``refer``), ``value``,
    ``by`` (who proposes it), ``role`` (as which role of the ruleset's authority matrix),
    ``reason``, and optionally ``expires`` (YYYY-MM-DD) and ``approvals`` (``[{"by",
    "role"}]``). Whether each is applied is the ruleset's decision (authority, expiry,
    second approval); the decision lists them all with why.
    """


@hookspec
def credit_rules_exchange_rate(from_currency: str, to_currency: str,
                               on: dt.date) -> str | None:
    """Give an exchange rate: what one unit of ``from_currency`` is worth in
    ``to_currency`` on the day ``on`` (ISO 4217 codes), as decimal text (e.g. "0.9215"),
    or None when the plugin has no rate for that pair and day.

    Called when an order, or an open item of an account, is in another currency than the
    ruleset's (by the order check, ``credit exposure`` and the monitor); plugins are asked
    in order and the first rate given is used, recorded with what it was used for (rate,
    day, plugin). Without a rate an order is blocked with the reason NO_EXCHANGE_RATE,
    and the exposure and the monitor refuse to count: a missing rate is never taken as 1.
    """


@hookspec
def credit_rules_decision_recorded(record: dict, decision: dict) -> None:
    """Be told after a decision is written to the audit trail (to notify, to export).

    Called for every plugin, after the record is committed; ``record`` holds the record's
    ``seq``, ``hash``, ``decision_id`` and ``customer_id``; ``decision`` is the decision
    without its trace (as a batch results line holds it; ``credit audit show SEQ`` has the
    trace). The return value is ignored; an exception is reported as a warning and does not
    undo the decision.
    """


@hookspec
def credit_rules_register_commands(cli: click.Group) -> None:
    """Add subcommands to ``credit`` (as sqlite-utils and datasette plugins do).

    Called once when the ``credit`` command starts, for every plugin. Use ``@cli.command()``
    to add commands; their errors follow the same one-line rule as built-in ones.
    """
