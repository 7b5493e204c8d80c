"""The answers the service gives, built once for a fresh request and rebuilt from the
audit record for a read or a retried request, so that both carry the same decision."""

from __future__ import annotations

from ..audit.decision_records import full_decision
from ..audit.store import AuditStore


def decision_answer(seq: int, digest: str, ruleset_hash: str, decision: dict) -> dict:
    """The body of a decision answer: the record's number and hash, the ruleset used and
    the decision (``Decided.to_dict``)."""
    return {"seq": seq, "hash": digest, "ruleset_hash": ruleset_hash, "decision": decision}


def order_check_answer(seq: int, digest: str, ruleset_hash: str, check: dict) -> dict:
    """The body of an order check answer (``OrderCheck.to_dict`` under ``check``)."""
    return {"seq": seq, "hash": digest, "ruleset_hash": ruleset_hash, "check": check}


def stored_answer(store: AuditStore, row: dict) -> dict | None:
    """The answer a decision or order-check record gives, from the record; None for a
    record of another kind."""
    if row["kind"] == "decision":
        body = store.body(row)
        slots = store.trace_slots(row["ruleset_hash"], body["decision"]["engine_version"])
        decision = full_decision(body, slots)
        if "challenger" in body:  # shown beside the decision, as credit decide does
            decision["challenger"] = {"in_split": True, **body["challenger"]}
        return decision_answer(row["seq"], row["hash"], row["ruleset_hash"], decision)
    if row["kind"] == "order-check":
        body = store.body(row)
        check = {key: body[key] for key in ("order", "as_of", "facts", "exposure",
                                            "decision", "exchange", "rates") if key in body}
        check.update(body["result"])
        check["ruleset"] = body["ruleset"]
        return order_check_answer(row["seq"], row["hash"], row["ruleset_hash"], check)
    return None
