"""Account cases: a ruleset's test cases that run an account's events through its
monitoring rules (``account:`` instead of ``given:``) and compare the actions taken.

The events go straight to the monitor, as the event log would give them (in date order,
then written order), with no audit file: the same code as ``credit monitor`` decides what
fires and what is done. A ``standing`` gives the decision in force (grade, credit limit
and the customer's segment); a re-grade has no recorded decision to start from in a case
and says so.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from ..language.schema_check import fast_problems
from ..monitor.customer_monitor import CustomerMonitor
from ..monitor.rete_session import ReteSession
from ..ruleset.compiler import CompiledRuleset

ACCOUNT_EXPECTATIONS = frozenset({"actions", "steps"})
CUSTOMER = "CASE"
EVENT_SCHEMA = "event.schema.json"


def account_events(account: Mapping) -> list[dict]:
    """The case's events with an id and the customer filled in where left out."""
    return [{"id": f"E{index + 1}", "customer_id": CUSTOMER, **event}
            for index, event in enumerate(account["events"])]


def account_case_problems(item: Mapping) -> list[str]:
    """What is wrong with an account case (beyond the tests schema)."""
    problems = []
    if {"given", "enriched", "position", "as_of"} & set(item):
        problems.append("an account case gives its events and run_date only (no given, "
                        "enriched, position or as_of)")
    wrong = sorted(set(item.get("expect") or {}) - ACCOUNT_EXPECTATIONS)
    if wrong:
        problems.append("an account case expects only actions and steps, not "
                        + ", ".join(wrong))
    for index, event in enumerate(account_events(item["account"])):
        problems += [f"account.events[{index}]{pointer}: {message}"
                     for pointer, message in fast_problems(event, EVENT_SCHEMA)]
    return problems


def run_account_case(ruleset: CompiledRuleset, account: Mapping
                     ) -> tuple[dict[str, list[str]], set[str]]:
    """Run the case's events through ``ruleset``'s monitoring rules: what a case can
    expect (``actions``, ``steps``) and the ids of the rules that fired. Raises
    MonitorUnavailable where durable_rules cannot import."""
    session = ReteSession(f"case-{ruleset.hash[:16]}", ruleset.monitoring)
    run_date = dt.date.fromisoformat(account["run_date"])
    monitor = CustomerMonitor(ruleset, session, CUSTOMER, run_date,
                              load_body=lambda seq: {"input": None}, salt=b"case")
    outcome = monitor.run(_rows(account, run_date))
    actual = {
        "actions": [f"{a.body['date']} {a.body['rule']} {a.body['action']}"
                    for a in outcome.actions],
        "steps": [a.body["details"]["step"] for a in outcome.actions
                  if a.body["action"] == "escalate"],
    }
    return actual, {firing.split(":", 1)[0] for firing in monitor.fired}


def _rows(account: Mapping, run_date: dt.date) -> list[dict]:
    """The records the monitor reads: the standing decision, then the events up to the
    run date in date order (written order within a day)."""
    events = sorted(enumerate(account_events(account)),
                    key=lambda pair: (pair[1]["occurred_at"], pair[0]))
    rows = [{"kind": "event", "seq": index + 1, "as_of": event["occurred_at"],
             "body": json.dumps(event)} for index, event in events
            if event["occurred_at"] <= run_date.isoformat()]
    standing = account.get("standing")
    if standing:
        first = min((row["as_of"] for row in rows), default=run_date.isoformat())
        as_of = standing.get("as_of") or (dt.date.fromisoformat(first) -
                                          dt.timedelta(days=1)).isoformat()
        limit = standing.get("credit_limit")
        rows.insert(0, {"kind": "decision", "seq": 0, "as_of": as_of,
                        "grade": standing["grade"], "decision_id": "case",
                        "credit_limit": None if limit is None else str(limit),
                        "segment": standing.get("segment")})
        rows.sort(key=lambda row: (row["as_of"], row["seq"]))
    return rows
