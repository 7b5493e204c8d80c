"""Reading the audit trail for review: filtered listings, exports, statistics, and the
customers due for review."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from ..ruleset.source import DEFAULT_GRADES, MANIFEST
from .chain import HEADER_FIELDS
from .store import AuditStore

LIST_COLUMNS = ("seq", "recorded_at", "kind", "customer_id", "decision_id", "as_of",
                "ruleset", "outcome", "grade", "credit_limit")
# "body" is the record's body as JSON; "body_stored" the bytes a compressed (format-2) body
# is stored as, in base64, which its body_sha256 covers (null for a format-1 body, whose
# canonical JSON the body_sha256 covers).
EXPORT_COLUMNS = (*HEADER_FIELDS, "hash", "body", "body_stored")


@dataclass(frozen=True)
class Filters:
    """What a review may narrow the trail to. Dates compare with the decision date (the
    recording date for records without one); ``ruleset`` is a name, name@version, or the
    start of a hash."""

    customer: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    grade: str | None = None
    outcome: str | None = None
    kind: str | None = None
    ruleset: str | None = None
    limit: int | None = None

    def where(self) -> tuple[str, list]:
        """The SQL condition and its parameters."""
        clauses, params = [], []
        day = "coalesce(as_of, substr(recorded_at, 1, 10))"
        for column, value in (("customer_id", self.customer), ("grade", self.grade),
                              ("outcome", self.outcome), ("kind", self.kind)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.since is not None:
            clauses.append(f"{day} >= ?")
            params.append(self.since.isoformat())
        if self.until is not None:
            clauses.append(f"{day} <= ?")
            params.append(self.until.isoformat())
        if self.ruleset:
            if "@" in self.ruleset:
                name, version = self.ruleset.split("@", 1)
                clauses.append("ruleset_name = ? AND ruleset_version = ?")
                params += [name, version]
            else:
                clauses.append("(ruleset_name = ? OR ruleset_hash LIKE ?)")
                params += [self.ruleset, self.ruleset + "%"]
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_records(store: AuditStore, filters: Filters) -> Iterator[dict]:
    """Records matching ``filters``, newest first, as rows of LIST_COLUMNS."""
    where, params = filters.where()
    limit = f" LIMIT {int(filters.limit)}" if filters.limit else ""
    sql = ("SELECT seq, recorded_at, kind, customer_id, decision_id, as_of, "
           "ruleset_name || ' ' || ruleset_version AS ruleset, outcome, grade, credit_limit "
           f"FROM records{where} ORDER BY seq DESC{limit}")
    return store.iter_rows(sql, params)


def export_records(store: AuditStore, filters: Filters) -> Iterator[dict]:
    """Whole records matching ``filters``, oldest first, as ``exported`` gives them."""
    where, params = filters.where()
    limit = f" LIMIT {int(filters.limit)}" if filters.limit else ""
    sql = (f"SELECT {', '.join((*HEADER_FIELDS, 'hash', 'body'))} FROM records{where} "
           f"ORDER BY seq{limit}")
    return (exported(store, row) for row in store.iter_rows(sql, params))


def exported(store: AuditStore, row: dict) -> dict:
    """A record row as export and ``audit show --json`` give it (``EXPORT_COLUMNS``): the
    body as JSON, and a compressed body's stored bytes too, so that a reader can
    recompute every hash."""
    stored = row["body"]
    record = {name: row[name] for name in (*HEADER_FIELDS, "hash")}
    record["body"] = store.body(row)
    record["body_stored"] = None if stored.__class__ is str else \
        base64.b64encode(stored).decode("ascii")
    return record


def stats(store: AuditStore, filters: Filters) -> dict[str, list[dict]]:
    """Counts of decisions by grade (in the rulesets' order, AAA first), by outcome, by
    ruleset version and by day."""
    where, params = Filters(**{**filters.__dict__, "kind": "decision", "limit": None}).where()
    groups = {"grade": "grade", "outcome": "outcome",
              "ruleset": "ruleset_name || ' ' || ruleset_version", "day": "as_of"}
    result = {}
    for name, expression in groups.items():
        sql = (f"SELECT {expression} AS {name}, count(*) AS decisions FROM records{where} "
               f"GROUP BY 1 ORDER BY 1")
        result[name] = list(store.iter_rows(sql, params))
    order = {}
    for row in store.iter_rows(f"SELECT DISTINCT ruleset_hash FROM records{where}", params):
        for grade in grade_scale(store, row["ruleset_hash"]):
            order.setdefault(grade, len(order))
    result["grade"].sort(key=lambda r: (r["grade"] is None, order.get(r["grade"], len(order)),
                                        r["grade"] or ""))
    return result


def latest_decision(store: AuditStore, customer_id: str, as_of: dt.date) -> dict | None:
    """The customer's latest decision record on or before ``as_of`` (None: none)."""
    return next(store.iter_rows(
        "SELECT * FROM records WHERE customer_id = ? AND kind = 'decision' AND as_of <= ? "
        "ORDER BY as_of DESC, seq DESC LIMIT 1", [customer_id, as_of.isoformat()]), None)


def grade_scale(store: AuditStore, ruleset_hash: str | None) -> tuple[str, ...]:
    """The grades of a stored ruleset, best first (the default scale when it names none)."""
    manifest = store.ruleset_content(ruleset_hash).get(MANIFEST) or {} if ruleset_hash \
        else {}
    return tuple(manifest.get("grades") or DEFAULT_GRADES)


def ruleset_currency(store: AuditStore, ruleset_hash: str | None) -> str | None:
    """The currency of a stored ruleset's amounts (None when there is no such ruleset)."""
    if not ruleset_hash:
        return None
    return (store.ruleset_content(ruleset_hash).get(MANIFEST) or {}).get("currency")


def review_due(store: AuditStore, as_of: dt.date) -> Iterator[dict]:
    """Customers whose latest decision is older than the review interval its grade
    prescribes, most overdue first. Rejected customers (no policy) are not listed."""
    sql = ("SELECT r.seq, r.customer_id, r.as_of, r.grade, r.outcome, r.decision_id, "
           "json_extract(body_json(r.body), '$.decision.policy.review_interval_days') AS interval "
           "FROM records r JOIN (SELECT customer_id, max(seq) AS seq FROM records WHERE "
           "kind = 'decision' GROUP BY customer_id) latest ON r.seq = latest.seq")
    due = []
    for row in store.iter_rows(sql):
        if row["interval"] is None or row["as_of"] is None:
            continue
        due_date = dt.date.fromisoformat(row["as_of"]) + dt.timedelta(days=row["interval"])
        if due_date <= as_of:
            due.append({"customer_id": row["customer_id"], "last_decision": row["as_of"],
                        "grade": row["grade"], "outcome": row["outcome"],
                        "review_interval_days": row["interval"],
                        "due": due_date.isoformat(), "days_overdue": (as_of - due_date).days,
                        "decision_id": row["decision_id"], "seq": row["seq"]})
    due.sort(key=lambda r: (-r["days_overdue"], r["customer_id"]))
    return iter(due)
