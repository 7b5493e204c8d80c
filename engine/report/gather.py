"""What the report shows, read from the audit trail as plain data (dicts, lists, ints,
Decimals and strings): pure over the store, no HTML, no printing.

The period is a range of decision dates (``as_of``; both ends included). Decisions,
monitor actions and order checks count when their date is inside it; accounts are folded
from every event up to its last day. Where a section speaks of "latest" it means each
customer's latest decision in the period, in date and then trail order.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from ..audit.chain import verify_file
from ..audit.events import customer_events
from ..audit.queries import grade_scale, latest_decision, ruleset_currency
from ..audit.store import AuditError, AuditStore
from ..monitor.account import MissingRate, fold, in_home
from ..orders.order_check import KIND as ORDER_CHECK
from ..orders.releases import KIND as ORDER_RELEASE
from ..quality.coverage import measure_coverage
from ..replay import Replayer

OUTCOMES = ("accept", "refer", "reject")
# Days past due of an open invoice: (label, first day, last day; None: open-ended).
AGE_BUCKETS = (("not yet due", None, 0), ("1-30 days", 1, 30), ("31-60 days", 31, 60),
               ("61-90 days", 61, 90), ("over 90 days", 91, None))
# Open receivables as a share of the credit limit, in percent: (label, above, up to).
UTILISATION_BUCKETS = (("up to 50%", None, 50), ("50-80%", 50, 80), ("80-100%", 80, 100),
                       ("over 100%", 100, None))
NO_LIMIT = "no limit"
TOP_UTILISED = 10
ZERO = Decimal(0)


class ReportError(AuditError):
    """The trail cannot give a report for what was asked (an empty period...)."""


@dataclass
class _Reached:
    """What a recorded decision or monitor action reached, in the form rule coverage
    counts (``coverage.measure_coverage`` reads these three fields)."""

    trace: list = field(default_factory=list)
    band_grade: str | None = None
    fired: set[str] = field(default_factory=set)


def gather(store: AuditStore, since: dt.date | None = None,
           until: dt.date | None = None) -> dict:
    """Everything the report shows for decisions dated ``since``..``until`` (default: the
    first and last dates in the trail). Raises ReportError when the period is backwards
    or the trail holds no decision in it."""
    first, last = _dates(store)
    if first is None:
        raise ReportError(f"{store.path}: the trail holds no dated record to report on")
    if since is not None and until is None and since > last:
        raise ReportError(f"no record from {since} on: the trail's last date is {last}")
    if until is not None and since is None and until < first:
        raise ReportError(f"no record up to {until}: the trail's first date is {first}")
    since, until = since or first, until or last
    if since > until:
        raise ReportError(f"the period is backwards: from {since} to {until}")
    period = [since.isoformat(), until.isoformat()]
    decisions = _decisions(store, period)
    if not decisions["count"]:
        raise ReportError(f"{store.path}: no decision from {since} to {until}")
    replayer = Replayer(store)
    return {
        "trail": _trail(store),
        "period": {"from": period[0], "to": period[1]},
        **decisions,
        "coverage": _coverage(store, replayer, period),
        "actions": _actions(store, period),
        "accounts": _accounts(store, until, decisions["currency"]),
        "orders": _orders(store, period),
    }


def _dates(store: AuditStore) -> tuple[dt.date | None, dt.date | None]:
    row = next(store.iter_rows("SELECT min(as_of) AS first, max(as_of) AS last FROM records "
                               "WHERE as_of IS NOT NULL"))
    if row["first"] is None:
        return None, None
    return dt.date.fromisoformat(row["first"]), dt.date.fromisoformat(row["last"])


def _trail(store: AuditStore) -> dict:
    """The trail's head and the verify result the report was drawn from: the head verify
    reached (a record appended meanwhile is not claimed as verified)."""
    report = verify_file(str(store.path))
    head = report.head or store.head()
    return {"path": str(store.path), "records": head[0] if head else 0,
            "head": f"{head[0]}:{head[1]}" if head else None,
            "verified": report.ok, "checked": report.checked,
            "failed_seq": report.failed_seq or None,
            "failure": None if report.ok else _failure(report)}


def _failure(report) -> str:
    if report.failed_seq is not None:
        return f"FAILED at record {report.failed_seq}: {report.reason}"
    if report.failed_ruleset is not None:
        return f"FAILED: stored ruleset {report.failed_ruleset[:12]} was altered"
    return f"FAILED: body dictionary {report.failed_dictionary} was altered"


def _decision_rows(store: AuditStore, period: list[str]) -> Iterator[dict]:
    return store.iter_rows("SELECT * FROM records WHERE kind = 'decision' AND as_of >= ? AND "
                           "as_of <= ? ORDER BY as_of, seq", period)


def _decisions(store: AuditStore, period: list[str]) -> dict:
    """Grades, limits, admission, migration and overrides of the period's decisions."""
    first: dict[str, dict] = {}
    latest: dict[str, dict] = {}
    outcomes: Counter = Counter()
    reasons: dict[tuple[str, str], dict] = {}
    overrides: Counter = Counter()
    count = 0
    for row in _decision_rows(store, period):
        count += 1
        body = store.body(row)
        decision = body["decision"]
        brief = {"customer_id": row["customer_id"], "grade": row["grade"],
                 "outcome": row["outcome"], "credit_limit": row["credit_limit"],
                 "ruleset_hash": row["ruleset_hash"], "seq": row["seq"]}
        first.setdefault(row["customer_id"], brief)
        latest[row["customer_id"]] = brief
        outcomes[row["outcome"]] += 1
        for reason in decision["admission"]["reasons"]:
            entry = reasons.setdefault((reason["code"], reason["stage"]), {
                "code": reason["code"], "stage": reason["stage"],
                "message": reason["message"], "decisions": 0,
                **{outcome: 0 for outcome in OUTCOMES}})
            entry["decisions"] += 1
            entry[row["outcome"]] = entry.get(row["outcome"], 0) + 1
        grades = grade_scale(store, row["ruleset_hash"])
        for override in decision.get("overrides") or ():
            overrides[(override.get("role") or "?", _direction(override, decision["grading"],
                                                             grades),
                       bool(override.get("applied")))] += 1
    scale = _scale(store, (b["ruleset_hash"] for b in latest.values()))
    # The rulesets' own currency (a rejected customer's decision has no policy to say it).
    currencies = {ruleset_currency(store, h) for h in {b["ruleset_hash"] for b in
                                                       latest.values()}} - {None}
    return {
        "count": count, "customers": len(latest), "grade_scale": list(scale),
        "currency": min(currencies) if len(currencies) == 1 else None,
        "grades": _grade_counts(latest.values(), scale),
        "limits": _limits(latest.values(), scale),
        "admission": {"outcomes": [{"outcome": o, "decisions": outcomes.get(o, 0)}
                                   for o in (*OUTCOMES, *sorted(set(outcomes) -
                                                                set(OUTCOMES)))],
                      "reasons": sorted(reasons.values(),
                                        key=lambda r: (-r["decisions"], r["code"]))},
        "migration": _migration(first, latest, scale),
        "overrides": [{"role": role, "direction": direction, "applied": applied,
                       "decisions": n}
                      for (role, direction, applied), n in sorted(overrides.items())],
    }


def _scale(store: AuditStore, hashes: Iterable[str]) -> tuple[str, ...]:
    """The grades of the rulesets the decisions were made under, best first."""
    order: dict[str, int] = {}
    for ruleset_hash in sorted(set(hashes)):
        for grade in grade_scale(store, ruleset_hash):
            order.setdefault(grade, len(order))
    return tuple(order)


def _direction(override: dict, grading: dict, grades: tuple[str, ...]) -> str:
    """Which way an override moves the decision: upgrade or downgrade (a grade against the
    model's grade after caps and floors), limit set, limit cap, or refer."""
    kind, value = override.get("kind"), override.get("value")
    if kind == "notches" and isinstance(value, int):
        return "upgrade" if value > 0 else "downgrade" if value < 0 else "no change"
    if kind == "grade" and value in grades:
        model = grading["band_grade"]
        for adjustment in grading.get("caps") or ():
            if adjustment.get("applied"):
                model = adjustment["grade"]
        if model not in grades:
            return "grade set"
        moved = grades.index(model) - grades.index(value)
        return "upgrade" if moved > 0 else "downgrade" if moved < 0 else "no change"
    return {"limit": "limit set", "limit_cap": "limit cap", "refer": "refer"}.get(
        kind, str(kind))


def _grade_counts(latest: Iterable[dict], scale: tuple[str, ...]) -> list[dict]:
    counts = Counter(b["grade"] for b in latest)
    return [{"grade": grade, "customers": counts.get(grade, 0)} for grade in scale] + \
        [{"grade": grade or "none", "customers": n}
         for grade, n in sorted(counts.items(), key=lambda p: str(p[0]))
         if grade not in scale]


def _limits(latest: Iterable[dict], scale: tuple[str, ...]) -> list[dict]:
    """Per grade: the credit limits of accepted customers (granted) and of referred ones
    (awaiting a person)."""
    rows = {grade: {"grade": grade, "accepted": 0, "granted": ZERO, "referred": 0,
                    "awaiting": ZERO} for grade in scale}
    for brief in latest:
        if brief["grade"] not in rows or brief["credit_limit"] is None:
            continue
        row = rows[brief["grade"]]
        if brief["outcome"] == "accept":
            row["accepted"] += 1
            row["granted"] += Decimal(brief["credit_limit"])
        elif brief["outcome"] == "refer":
            row["referred"] += 1
            row["awaiting"] += Decimal(brief["credit_limit"])
    return list(rows.values())


def _migration(first: dict[str, dict], latest: dict[str, dict],
               scale: tuple[str, ...]) -> dict:
    """Customers by first grade (rows) and latest grade (columns) in the period; a
    customer with one decision stays on the diagonal."""
    cells: Counter = Counter()
    for customer_id, brief in latest.items():
        cells[(first[customer_id]["grade"], brief["grade"])] += 1
    rank = {grade: index for index, grade in enumerate(scale)}
    up = sum(n for (a, b), n in cells.items() if a in rank and b in rank and rank[b] < rank[a])
    down = sum(n for (a, b), n in cells.items()
               if a in rank and b in rank and rank[b] > rank[a])
    return {"grades": list(scale),
            "cells": [[cells.get((a, b), 0) for b in scale] for a in scale],
            "upgraded": up, "downgraded": down, "unchanged": sum(
                n for (a, b), n in cells.items() if a == b)}


def _coverage(store: AuditStore, replayer: Replayer, period: list[str]) -> list[dict]:
    """Rule coverage per ruleset over the period's decisions and monitor actions: which
    rules, table rows, bins and bands they reached, and which none did. The decisions are
    read again, one at a time, so that memory does not grow with the trail."""
    found = []
    for (ruleset_hash,) in store.conn.execute(
            "SELECT DISTINCT ruleset_hash FROM records WHERE kind = 'decision' AND "
            "as_of >= ? AND as_of <= ? ORDER BY 1", period).fetchall():
        ruleset = replayer.ruleset(ruleset_hash)
        coverage = measure_coverage(ruleset, _reached(store, ruleset_hash, period))
        found.append({"ruleset": f"{ruleset.name} {ruleset.version}",
                      "hash": ruleset_hash, **coverage.to_dict()})
    return found


def _reached(store: AuditStore, ruleset_hash: str, period: list[str]) -> Iterator[_Reached]:
    """What each decision under the ruleset reached (its trace with the slots' meaning,
    its band), then the monitoring rule of each monitor action under it."""
    slots: dict[str, list] = {}
    for row in store.iter_rows("SELECT * FROM records WHERE kind = 'decision' AND "
                               "ruleset_hash = ? AND as_of >= ? AND as_of <= ? ORDER BY seq",
                               [ruleset_hash, *period]):
        body = store.body(row)
        engine_version = body["decision"]["engine_version"]
        if engine_version not in slots:
            slots[engine_version] = store.trace_slots(ruleset_hash, engine_version)
        meaning = slots[engine_version]
        yield _Reached([((index, *meaning[index]), values, result)
                        for index, values, result in body["trace"]],
                       body["decision"]["grading"]["band_grade"])
    for row in store.iter_rows(
            "SELECT json_extract(body, '$.rule') AS rule FROM records WHERE kind = 'action' "
            "AND ruleset_hash = ? AND as_of >= ? AND as_of <= ?", [ruleset_hash, *period]):
        if row["rule"]:
            yield _Reached(fired={row["rule"]})


def _actions(store: AuditStore, period: list[str]) -> list[dict]:
    """The monitor's actions in the period, by action."""
    return list(store.iter_rows(
        "SELECT outcome AS action, count(*) AS actions, count(DISTINCT customer_id) AS "
        "customers FROM records WHERE kind = 'action' AND as_of >= ? AND as_of <= ? "
        "GROUP BY 1 ORDER BY 2 DESC, 1", period))


def _accounts(store: AuditStore, as_of: dt.date,
              currency: str | None) -> dict:
    """Ageing of open invoices and use of credit limits, from every customer's events up
    to ``as_of`` (amounts in the ruleset's currency; items in another one are counted
    apart, not converted)."""
    day = as_of.isoformat()
    ageing = {label: {"bucket": label, "invoices": 0, "amount": ZERO}
              for label, _, _ in AGE_BUCKETS}
    utilisation = {label: {"bucket": label, "customers": 0}
                   for label in (*(b[0] for b in UTILISATION_BUCKETS), NO_LIMIT)}
    foreign: Counter = Counter()
    used = []
    customers = [row["customer_id"] for row in store.iter_rows(
        "SELECT DISTINCT customer_id FROM records WHERE kind = 'event' AND as_of <= ? "
        "ORDER BY customer_id", [day])]
    for customer_id in customers:
        account = fold(customer_id, customer_events(store, customer_id, day), as_of,
                       currency)
        owed = ZERO
        for invoice in account.invoices.values():
            if invoice.open_amount <= 0:
                continue
            try:
                amount = in_home(invoice.open_amount, invoice.currency, {})
            except MissingRate:
                foreign[invoice.currency] += 1
                continue
            bucket = ageing[_age_bucket((as_of - invoice.due_date).days)]
            bucket["invoices"] += 1
            bucket["amount"] += amount
            owed += amount
        balance = max(owed - account.unapplied, ZERO)
        decision = latest_decision(store, customer_id, as_of)
        limit = Decimal(decision["credit_limit"]) if decision and \
            decision["credit_limit"] is not None else None
        if not limit:
            utilisation[NO_LIMIT]["customers"] += 1
            continue
        percent = balance * 100 / limit
        utilisation[_utilisation_bucket(percent)]["customers"] += 1
        used.append({"customer_id": customer_id, "grade": decision["grade"],
                     "balance": balance, "credit_limit": limit,
                     "percent": percent.quantize(Decimal("0.1"))})
    used.sort(key=lambda u: (-u["percent"], u["customer_id"]))
    return {"as_of": day, "customers": len(customers), "currency": currency,
            "ageing": list(ageing.values()), "utilisation": list(utilisation.values()),
            "most_used": used[:TOP_UTILISED],
            "not_converted": [{"currency": c, "invoices": n}
                              for c, n in sorted(foreign.items())]}


def _age_bucket(days: int) -> str:
    for label, low, high in AGE_BUCKETS:
        if (low is None or days >= low) and (high is None or days <= high):
            return label
    raise AssertionError(days)  # the buckets cover every whole number


def _utilisation_bucket(percent: Decimal) -> str:
    for label, above, upto in UTILISATION_BUCKETS:
        if (above is None or percent > above) and (upto is None or percent <= upto):
            return label
    raise AssertionError(percent)


def _orders(store: AuditStore, period: list[str]) -> dict:
    """Order checks in the period (passed, blocked, passed on a release) and the release
    records (released, requested, rejected) that answered blocked ones."""
    checks = []
    reasons: Counter = Counter()
    for row in store.iter_rows(
            f"SELECT seq, as_of, customer_id, outcome, body FROM records WHERE kind = "
            f"'{ORDER_CHECK}' AND as_of >= ? AND as_of <= ? ORDER BY seq", period):
        body = store.body(row)
        codes = [r["code"] for r in body["result"]["reasons"]]
        reasons.update(codes)
        checks.append({"seq": row["seq"], "as_of": row["as_of"],
                       "order_id": body["order"]["id"], "customer_id": row["customer_id"],
                       "amount": body["facts"].get("order_amount"),
                       "outcome": row["outcome"], "reasons": codes})
    releases = [{"seq": row["seq"], "as_of": row["as_of"], **{
        name: store.body(row).get(name) for name in ("event", "order_id", "customer_id",
                                                     "amount", "by", "role", "check_seq")}}
        for row in store.iter_rows(
            f"SELECT * FROM records WHERE kind = '{ORDER_RELEASE}' AND as_of >= ? AND "
            "as_of <= ? ORDER BY seq", period)]
    outcomes = Counter(check["outcome"] for check in checks)
    return {"checks": checks, "releases": releases,
            "outcomes": [{"outcome": o, "checks": outcomes.get(o, 0)}
                         for o in ("pass", "block", "released")],
            "reasons": [{"code": code, "checks": n}
                        for code, n in sorted(reasons.items(), key=lambda p: (-p[1], p[0]))]}
