"""Built-in plugin ``overrides``: the expert overrides register kept in the audit trail
(``credit override add / approve / revoke``), offered to every decision of the customer.

Whether an override is applied is the ruleset's decision (authority.yaml): this plugin
only reads the register. Without an audit file there are no overrides. The register is
read whole and kept until the audit file changes (its size or modification time, or its
write-ahead log's), so a batch reads it once per commit, not once per customer, and no
connection stays open between calls.
"""

from __future__ import annotations

import os
from collections import defaultdict

from engine.audit.override_register import list_overrides
from engine.audit.store import AuditStore, default_db_path
from engine.enrich.hookspecs import hookimpl

FIELDS = ("id", "kind", "value", "reason", "by", "role", "expires", "approvals")
_cache: dict[str, tuple[tuple, dict[str, list[dict]]]] = {}


def _signature(path: str) -> tuple | None:
    stamps = []
    for name in (path, path + "-wal"):
        try:
            info = os.stat(name)
        except FileNotFoundError:
            stamps.append(None)
            continue
        stamps.append((info.st_size, info.st_mtime_ns))
    return None if stamps[0] is None else tuple(stamps)


def _register(path: str) -> dict[str, list[dict]]:
    """Active overrides by customer id, as the audit file at ``path`` holds them now."""
    signature = _signature(path)
    if signature is None:
        return {}
    cached = _cache.get(path)
    if cached is not None and cached[0] == signature:
        return cached[1]
    by_customer: dict[str, list[dict]] = defaultdict(list)
    with AuditStore(path, create=False) as store:
        for state in list_overrides(store):
            by_customer[state["customer_id"]].append({k: state[k] for k in FIELDS})
    _cache[path] = (signature, dict(by_customer))
    return _cache[path][1]


@hookimpl
def credit_rules_expert_judgments(customer: dict) -> list[dict]:
    """The customer's overrides that are not revoked."""
    customer_id = customer.get("id")
    if not customer_id:
        return []
    return list(_register(default_db_path()).get(customer_id, ()))
