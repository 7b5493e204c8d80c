"""The result of one decision, and its JSON form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from hashlib import sha256

from ..canonical import PLAIN, canonical_json, compact_json, date_text, decimal_text, to_jsonable
from ..ruleset.admission import OUTCOMES
from ..version import __version__
from .redaction import any_present, marked, redact

# The policy keys summary() writes in their own places; any other goes under "extra".
_KNOWN_POLICY = frozenset({"credit_limit", "payment_term_days", "discount_rate",
                           "discount_days", "guarantee_required", "review_interval_days",
                           "total_exposure"})


@dataclass(slots=True)
class Decision:
    """Everything a decision produced. ``to_dict`` gives the documented JSON shape."""

    ruleset: object  # CompiledRuleset (kept loose to avoid an import cycle)
    facts: dict
    as_of: dt.date
    severity: int
    admission_reasons: list
    score: int | Decimal  # exact: whole points give an int, others an Exact decimal
    band_grade: str
    grade: str
    adjustments: list
    grading_reasons: list
    policy: dict | None
    required_level: str
    trace: list
    overrides: list = field(default_factory=list)  # how each proposed override was judged

    @property
    def outcome(self) -> str:
        return OUTCOMES[self.severity]

    @property
    def customer_id(self) -> str:
        return self.facts.get("id", "")

    @property
    def credit_limit(self) -> Decimal | None:
        return None if self.policy is None else self.policy["credit_limit"]

    @property
    def facts_json(self) -> str:
        """Canonical JSON of the facts with redacted fields replaced by a fixed marker:
        what identifies the inputs (the rules never read a redacted field)."""
        return self.identity_json(self.redacting())

    def redacting(self) -> bool:
        """Whether the facts hold a field the ruleset redacts."""
        redacted = self.ruleset.redact
        if not redacted:
            return False
        facts = self.facts
        for path in redacted:  # most facts hold none: look at each path's first step first
            if path.partition(".")[0] in facts:
                return any_present(facts, redacted)
        return False

    def identity_json(self, redacting: bool) -> str:
        """``facts_json`` when whether it redacts (``redacting()``) is already known."""
        if redacting:
            return compact_json(redact(self.facts, self.ruleset.redact, marked))
        return compact_json(self.facts)

    @property
    def decision_id(self) -> str:
        """Derived from the inputs alone (ruleset hash, as-of date, enriched facts), so
        the same inputs always give the same id."""
        return self.decision_id_from(self.facts_json)

    def decision_id_from(self, facts_json: str | bytes) -> str:
        """The decision id given ``facts_json`` (computed once by callers that need both;
        text or its UTF-8): the hash of the canonical JSON {"as_of", "facts", "ruleset"}."""
        if facts_json.__class__ is not bytes:
            facts_json = facts_json.encode("utf-8")
        digest = sha256(b'{"as_of":"%s","facts":%s,"ruleset":"%s"}' % (
            date_text(self.as_of).encode("ascii"), facts_json,
            self.ruleset.hash.encode("utf-8")))
        return "d-" + digest.hexdigest()[:32]

    def to_dict(self, decision_id: str | None = None, *, trace: object = None) -> dict:
        """The decision as JSON-ready data (amounts as decimal text). ``decision_id``: the
        id when the caller has it already (its record's), which saves deriving it again;
        ``trace``: the trace already written (``trace_json.trace_json`` as an
        ``orjson.Fragment``), put in its place instead of the entries as data."""
        data = self.summary(decision_id)
        data["trace"] = [_trace_entry(entry) for entry in self.trace] if trace is None \
            else trace
        data["engine_version"] = data.pop("engine_version")  # keep the documented order
        return data

    def summary(self, decision_id: str | None = None) -> dict:
        """``to_dict`` without the trace: what a portfolio's results file holds."""
        return {
            "decision_id": decision_id or self.decision_id,
            "customer_id": self.customer_id,
            "as_of": self.as_of.isoformat(),
            "ruleset": self.ruleset.identity,
            "admission": {
                "outcome": self.outcome,
                "reasons": self.admission_reason_list(),
            },
            "grading": {
                "score": to_jsonable(self.score),
                "grade": self.grade,
                "band_grade": self.band_grade,
                "caps": self.adjustments,
                "reasons": self.grading_reasons,
            },
            "policy": self.policy_summary(),
            "approval": {"required_level": self.required_level},
            "overrides": self.overrides,
            "engine_version": __version__,
        }

    def compact_trace(self) -> list:
        """The trace as ``[slot, [values read], result]`` entries: the slot numbers the
        ruleset's ``slots`` (stage, rule id, names read), which the audit stores once."""
        return compact_trace(self.trace)

    def unwritable(self) -> str | None:
        """The first rule whose value cannot be written as JSON (a whole number past 4,300
        digits, nesting too deep), as "stage rule id"; None when every value can. Only
        asked after writing failed, so deciding pays nothing for it."""
        for (_, stage, rule_id, _), values, result in self.trace:
            try:
                canonical_json(to_jsonable([list(values), result]))
            except (ValueError, RecursionError, OverflowError):
                return f"{stage} {rule_id}"
        return None

    def admission_reason_list(self) -> list[dict]:
        """The admission reasons as the summary writes them."""
        return [{"code": c, "message": m, "stage": s} for c, m, s in self.admission_reasons]

    def policy_summary(self) -> dict | None:
        """The policy as the summary writes it (a new dict each time)."""
        if self.policy is None:
            return None
        p = self.policy
        limit = p["credit_limit"]
        return {
            "credit_limit": None if limit is None else decimal_text(limit),
            "currency": self.ruleset.currency,
            "payment_term_days": p["payment_term_days"],
            "discount": {"rate": to_jsonable(p["discount_rate"]), "days": p["discount_days"]},
            "guarantee_required": p["guarantee_required"],
            "review_interval_days": p["review_interval_days"],
            "total_exposure": to_jsonable(p.get("total_exposure")),
            "extra": {} if _KNOWN_POLICY.issuperset(p) else
            {k: to_jsonable(v) for k, v in p.items() if k not in _KNOWN_POLICY},
        }


def expand_trace(compact: list, slots: list) -> list[dict]:
    """The full trace (as ``to_dict`` gives it) from a JSON compact trace and its slots."""
    return [_trace_entry(((index, *slots[index]), values, result))
            for index, values, result in compact]


def _trace_entry(entry: tuple) -> dict:
    (_, stage, rule_id, names), values, result = entry
    item = {"stage": stage, "id": rule_id,
            "read": {n: v if v.__class__ in PLAIN else to_jsonable(v)
                     for n, v in zip(names, values, strict=True)},
            "result": result if result.__class__ in PLAIN else to_jsonable(result)}
    if None in values:
        item["missing"] = [n for n, v in zip(names, values, strict=True) if v is None]
    return item


def compact_trace(trace: list) -> list:
    """A trace of ``(slot, values read, result)`` entries (a decision's, an order check's)
    as ``[slot number, [values read], result]``, the form the audit stores. Entries are
    tuples and the values read are not copied (JSON writes tuples as lists), as this is
    done for every record."""
    return [(slot[0], values, result) for slot, values, result in trace]
