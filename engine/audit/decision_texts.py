"""A decision's record body and results line, written from their parts: the fast way of
``decision_records.decision_body_text``, which gives the same bytes.

The plain way builds the summary as data, serialises it for the results line, copies it
less what the record's header says (``body_codec.ELIDED``) and serialises that again,
checking each orjson text on its own. Here each part of the summary is written once and
both texts are joined from the parts in canonical (sorted-key) order; what is the same for
every decision of a ruleset (its identity, the engine version) is written once; and the
orjson texts are checked once, joined as the body (``canonical.differs_from_canonical``).

Whatever this does not write the fast way gives None, and the caller takes the plain way:
a customer id or grade that is not text, a score that is neither a whole
number nor an exact one, a ruleset identity with a missing value, what orjson refuses
(huge integers, lone surrogates, sets) and texts that may hold a float Python writes with
an exponent. tests/test_record_fast_path.py holds both ways to the same bytes.
"""

from __future__ import annotations

from ..canonical import (
    Exact,
    compact_json,
    date_text,
    differs_from_canonical,
    exact_number,
    orjson_text,
)
from ..decide.decision import Decision, compact_trace
from ..decide.redaction import marked, redact, salted_digest
from ..per_object import per_object
from ..ruleset.admission import OUTCOMES
from ..version import __version__

_ENGINE_VERSION = compact_json(__version__).encode("utf-8")
_OUTCOMES = tuple(compact_json(outcome).encode("utf-8") for outcome in OUTCOMES)

class _RulesetTexts:
    """What the texts of every decision of a ruleset share: the JSON of its identity (None
    when a value of it is missing: the elided body would keep the others), its record
    columns (name, version, hash), and the first steps of the paths it redacts (facts
    holding none of them need no redacting: most)."""

    __slots__ = ("columns", "identity", "redacted_roots")

    def __init__(self, ruleset) -> None:
        identity = ruleset.identity
        self.identity = compact_json(identity).encode("utf-8") if all(
            value.__class__ is str for value in identity.values()) else None
        self.columns = (ruleset.name, ruleset.version, ruleset.hash)
        self.redacted_roots = tuple(dict.fromkeys(
            path.partition(".")[0] for path in ruleset.redact))


_ruleset_texts = per_object(_RulesetTexts)


def record_texts(decision: Decision, salt: bytes, *, plugins: list | None,
                 enriched: dict | None, challenger: dict | None
                 ) -> tuple[tuple, bytes, bytes] | None:
    """The record's column values (``decision_records.COLUMNS``, the decision id first),
    the UTF-8 of the format-2 body's canonical JSON and that of the summary (the results
    line), as ``decision_body_text`` gives them; None where it must write them itself."""
    parts = _summary_parts(decision)
    if parts is None or (parts.redacting and differs_from_canonical(parts.facts)):
        return None
    try:
        facts = parts.facts
        if parts.redacting:  # the identity has markers where the input has salted hashes
            facts = orjson_text(redact(decision.facts, decision.ruleset.redact,
                                       salted_digest(salt)))
        body = b"".join((
            b'{"challenger":' + orjson_text(challenger) + b',"decision":'
            if challenger is not None else b'{"decision":', parts.elided(),
            b',"enriched":', orjson_text(enriched) if enriched else b"{}",
            b',"input":', facts,
            b',"plugins":', orjson_text(plugins) if plugins else b"[]",
            b',"trace":', orjson_text(compact_trace(decision.trace)), b"}"))
    except TypeError:  # what orjson refuses (orjson.JSONEncodeError is one)
        return None
    if differs_from_canonical(body):
        return None
    decision_id = decision.decision_id_from(parts.facts)
    as_of = date_text(decision.as_of)
    columns = (decision_id, parts.customer_id, as_of, *parts.ruleset_columns,
               OUTCOMES[decision.severity], decision.grade, parts.limit)  # (COLUMNS' order)
    return columns, body, parts.line(decision, decision_id, as_of)


def summary_line(decision: Decision) -> str | None:
    """The results line (``compact_json(decision.summary())``); None where the caller
    must write it itself."""
    parts = _summary_parts(decision)
    if parts is None or differs_from_canonical(parts.facts + parts.elided()):
        return None
    return parts.line(decision, decision.decision_id_from(parts.facts),
                      date_text(decision.as_of)).decode("utf-8")


class _SummaryParts:
    """The texts of a decision's identity facts (redacted fields marked, ``redacting``;
    without any, the input too) and of its summary's parts, less the header's values:
    ``admission`` is ``{"reasons":...}``; the grading is ``grading_head``, (the grade,)
    ``grading_tail``; ``line_policy`` is ``policy`` with the credit limit the body leaves
    out. Only the line's texts are not orjson's. For the record's columns: ``customer_id``,
    ``limit`` (the credit limit's text, or None) and ``ruleset_columns``."""

    __slots__ = ("admission", "approval", "customer", "customer_id", "facts", "grade",
                 "grading_head", "grading_tail", "limit", "line_policy", "overrides",
                 "policy", "redacting", "ruleset", "ruleset_columns")

    def elided(self) -> bytes:
        """The summary's JSON less what a record's header says."""
        return b"".join((
            b'{"admission":', self.admission, b',"approval":', self.approval,
            b',"engine_version":', _ENGINE_VERSION,
            b',"grading":', self.grading_head, b",", self.grading_tail,
            b',"overrides":', self.overrides, b',"policy":', self.policy, b"}"))

    def line(self, decision: Decision, decision_id: str, as_of: str) -> bytes:
        """The summary's JSON: the results line (``as_of``: the decision date's text)."""
        return b"".join((
            b'{"admission":{"outcome":', _OUTCOMES[decision.severity], b",",
            self.admission[1:], b',"approval":', self.approval,
            b',"as_of":"', as_of.encode("ascii"),
            b'","customer_id":', self.customer,
            b',"decision_id":"', decision_id.encode("ascii"),
            b'","engine_version":', _ENGINE_VERSION,
            b',"grading":', self.grading_head, b',"grade":', self.grade, b",",
            self.grading_tail, b',"overrides":', self.overrides,
            b',"policy":', self.line_policy, b',"ruleset":', self.ruleset, b"}"))


def _summary_parts(decision: Decision) -> _SummaryParts | None:
    """The parts of ``decision``'s texts, or None where the plain way must write them:
    whatever a header column might not leave out (a customer id or grade that is not
    text, a ruleset identity with a missing value), a score neither whole nor exact, and
    what orjson refuses. The caller checks the orjson texts."""
    shared = _ruleset_texts(decision.ruleset)
    customer_id = decision.customer_id
    grade = decision.grade
    score = _score_text(decision.score)
    if (shared.identity is None or customer_id.__class__ is not str
            or grade.__class__ is not str or score is None):
        return None
    parts = _SummaryParts()
    parts.ruleset = shared.identity
    parts.ruleset_columns = shared.columns
    parts.customer_id = customer_id
    facts = decision.facts
    parts.redacting = False
    for root in shared.redacted_roots:  # (Decision.redacting, without a path walked)
        if root in facts:
            parts.redacting = decision.redacting()
            break
    try:
        parts.facts = orjson_text(facts if not parts.redacting else
                                  redact(facts, decision.ruleset.redact, marked))
        parts.customer, parts.grade = orjson_text(customer_id), orjson_text(grade)
        parts.admission = (b'{"reasons":' + orjson_text(decision.admission_reason_list())
                           + b"}" if decision.admission_reasons else b'{"reasons":[]}')
        parts.approval = b'{"required_level":' + orjson_text(decision.required_level) + b"}"
        caps = decision.adjustments
        parts.grading_head = (b'{"band_grade":' + orjson_text(decision.band_grade)
                              + b',"caps":' + (orjson_text(caps) if caps else b"[]"))
        parts.grading_tail = (b'"reasons":' + orjson_text(decision.grading_reasons)
                              + b',"score":' + score + b"}")
        overrides = decision.overrides
        parts.overrides = orjson_text(overrides) if overrides else b"[]"
        policy = decision.policy_summary()
        parts.limit = None if policy is None else policy["credit_limit"]
        if policy is None:
            parts.policy = parts.line_policy = b"null"
        elif parts.limit is None:  # kept in the body: no column holds it
            parts.policy = parts.line_policy = orjson_text(policy)
        else:  # "credit_limit" sorts first of the policy's keys
            limit = orjson_text(policy.pop("credit_limit"))
            parts.policy = orjson_text(policy)
            parts.line_policy = b'{"credit_limit":' + limit + b"," + parts.policy[1:]
    except TypeError:  # (orjson.JSONEncodeError is one)
        return None
    return parts


def _score_text(score) -> bytes | None:
    """The score's JSON as ``to_jsonable`` and the json module write it: a whole number's
    digits, an exact number's double (null past what a double holds); None otherwise."""
    cls = score.__class__
    if cls is int:
        return str(score).encode("ascii")
    if cls is Exact:
        number = exact_number(score)
        return b"null" if number is None else repr(number).encode("ascii")
    return None
