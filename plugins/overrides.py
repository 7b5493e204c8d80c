"""Built-in plugin ``overrides``: the expert overrides register kept in the audit trail
(``credit override add / approve / revoke``), offered to every decision of the customer.

Whether an override is applied is the ruleset's decision (authority.yaml): this plugin
only reads the register. Without an audit file there are no overrides.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.audit import AuditStore, default_db_path
from engine.hookspecs import hookimpl
from engine.override_register import list_overrides

_stores: dict[str, AuditStore] = {}
# An SQLite connection must not cross a fork: a batch worker opens its own.
os.register_at_fork(after_in_child=_stores.clear)

FIELDS = ("id", "kind", "value", "reason", "by", "role", "expires", "approvals")


@hookimpl
def credit_rules_expert_judgments(customer: dict) -> list[dict]:
    """The customer's overrides that are not revoked."""
    path = default_db_path()
    if not customer.get("id") or not Path(path).exists():
        return []
    store = _stores.get(path)
    if store is None:
        store = _stores[path] = AuditStore(path, create=False)
    return [{k: state[k] for k in FIELDS}
            for state in list_overrides(store, customer["id"])]
