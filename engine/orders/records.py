"""The audit record of what a person does at order time (a release, a limit request or its
answer, a group's definition, a hold lifted): the body names the ruleset it was done under,
and the header repeats its customer, day and outcome."""

from __future__ import annotations

from ..audit.store import NewRecord
from ..canonical import canonical_json
from ..ruleset.compiler import CompiledRuleset


def act_record(kind: str, body: dict, ruleset: CompiledRuleset, *,
               outcome: str | None = None) -> NewRecord:
    """The record of ``body`` (which has ``as_of`` and, for a customer's act,
    ``customer_id``) done under ``ruleset``; ``outcome`` is the header's outcome column."""
    body = {**body, "ruleset": ruleset.identity}
    return NewRecord(kind, canonical_json(body), customer_id=body.get("customer_id"),
                     as_of=body["as_of"], outcome=outcome, ruleset_name=ruleset.name,
                     ruleset_version=ruleset.version, ruleset_hash=ruleset.hash)
