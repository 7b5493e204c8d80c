"""credit-rules: a rule engine for customer (trade) credit management.

The names in ``__all__`` are the Python API integrators may use; the modules behind them
are private and may move. Each name is imported on first use, so ``import engine`` costs
almost nothing and a command loads only what it needs::

    import datetime as dt
    import engine

    ruleset = engine.load_ruleset("rulesets/default")
    customer = engine.check_customer(document, "customer.json")
    decided = engine.decide_document(ruleset, customer, dt.date(2026, 11, 30),
                                     engine.installed_plugins())
    decided.decision.grade  # 'BBB'

"""

from __future__ import annotations

import importlib

from .version import __version__

# name -> the module that defines it ("module:attribute" where the name differs). The
# subpackages ``engine.decide`` and ``engine.enrich`` are rooms, not functions: the API's
# functions for them are ``decide_facts`` and ``enrich_customer``.
_EXPORTS = {
    # rulesets
    "load_ruleset": "engine.ruleset.loader",
    "CompiledRuleset": "engine.ruleset.compiler",
    # customer documents and portfolios
    "check_customer": "engine.enrich.customer_documents",
    "parse_json_document": "engine.enrich.customer_documents",
    "read_rows": "engine.enrich.portfolio",
    # enrichment and plugins
    "enrich_customer": "engine.enrich.enrichment:enrich",
    "Enriched": "engine.enrich.enrichment",
    "installed_plugins": "engine.enrich.plugin_manager",
    "hookimpl": "engine.enrich.hookspecs",
    # deciding (``decide_facts`` is the pure decision, with the challenger beside it) and
    # recording: the flows every front end shares
    "Decision": "engine.decide.decision",
    "decide_document": "engine.service",
    "decide_facts": "engine.service",
    "decide_and_record": "engine.service",
    "Decided": "engine.service",
    "Recorded": "engine.service",
    # the audit trail
    "AuditStore": "engine.audit.store",
    "verify_file": "engine.audit.chain",
    "Filters": "engine.audit.queries",
    "Replayer": "engine.replay",
    # what it would take to reach a grade
    "explain_decision": "engine.explain.explanation",
    # credit at order time
    "customer_exposure": "engine.orders.exposure",
    "checked_order": "engine.orders.order_check",
    "check_order_document": "engine.orders.order_check",
    "AccountBook": "engine.orders.accounts",
    "release_order": "engine.orders.releases",
    "request_limit": "engine.orders.limit_requests",
    "answer_request": "engine.orders.limit_requests",
    # front ends
    "run_spark_batch": "engine.spark.spark_job",
    "verify_parquet": "engine.spark.parquet_verify",
    "run_batch": "engine.batch",
    "run_monitor": "engine.monitor.run",
    "rescore": "engine.monitor.rescore",
    "write_letters": "engine.dunning.writing",
    "write_statements": "engine.dunning.writing",
    "list_cases": "engine.monitor.case_list",
    # quality tools
    "lint_ruleset": "engine.quality.lint",
    "simulate_portfolio": "engine.quality.simulate",
    "simulate_audit": "engine.quality.simulate",
    "write_report": "engine.report.page",
    # errors
    "CreditRulesError": "engine.errors",
    "ProblemsError": "engine.errors",
    "DecisionError": "engine.errors",
    "InputError": "engine.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> object:
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    module, _, attribute = where.partition(":")
    value = getattr(importlib.import_module(module), attribute or name)
    globals()[name] = value  # the next lookup does not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
