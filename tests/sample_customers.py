"""Customer documents for tests, built in code so each test can vary one field."""

from __future__ import annotations

import copy

_STRONG = {
    "id": "T-STRONG",
    "name": "Strong Tools GmbH",
    "country": "DE",
    "founded": "2001-03-01",
    "requested_amount": 50000,
    "exposure": {"current": 20000, "overdue": 0},
    "financials": {
        "period_end": "2025-12-31", "revenue": 12000000, "revenue_prior": 11000000,
        "cost_of_goods_sold": 8000000, "net_income": 900000, "current_assets": 4000000,
        "inventory": 1200000, "current_liabilities": 2000000, "total_assets": 9000000,
        "total_liabilities": 4000000, "equity": 5000000,
    },
    "operating": {"market_share": 0.08},
    "credit_history": {"months_known": 48, "overdue_count_12m": 0, "overdue_amount": 0,
                       "max_days_overdue_12m": 5, "on_time_payment_ratio": 0.97},
    "industry": {"code": "C25", "sector": "manufacturing", "growth": 0.03,
                 "concentration": 0.3, "risk_class": "low"},
    "flags": {"insolvency_proceedings": False, "sanctions_hit": False,
              "legal_events_24m": 0, "parent_guarantee": False},
}


def paths(node, prefix=()):
    """Every path to a value inside a JSON-like document (keys, and indexes of lists)."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


def strong_customer(**changes: object) -> dict:
    """A customer the default ruleset grades AAA and accepts; ``changes`` set dotted
    paths, e.g. ``strong_customer(**{"flags.sanctions_hit": True})``; None removes."""
    doc = copy.deepcopy(_STRONG)
    for path, value in changes.items():
        target = doc
        *parents, last = path.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return doc
