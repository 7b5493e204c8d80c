"""What the audit trail stores for a decision, and how a stored one is read back.

A decision record's body is (before compression, see ``body_codec``) the canonical JSON
of::

    {"as_of":      the decision date,
     "decision":   the decision without its trace (as a results file line),
     "enriched":   values plugins contributed, each with the plugin that gave it,
     "input":      the customer document, redacted fields as salted hashes,
     "plugins":    [{"name", "version"}] of the plugins loaded,
     "trace":      [[slot, [values read], result], ...]}

A format-2 body leaves out what the record's columns say (``body_codec.ELIDED``).
The trace is stored compactly: the slot numbers mean (stage, rule id, names read), kept
once per ruleset in the ``trace_slots`` table. ``full_decision`` turns a body back into the
decision exactly as ``Decision.to_dict`` gave it.

The texts are written from their parts by ``decision_texts`` wherever it can, and built
plainly here otherwise (``_plain_body_text``): the same bytes either way.
"""

from __future__ import annotations

from hashlib import sha256
from typing import NamedTuple

from ..canonical import compact_json, date_text, decimal_text
from ..decide.decision import Decision, expand_trace
from ..decide.redaction import redact, salted_digest
from .body_codec import ELIDED_TREE, compress
from .decision_texts import record_texts
from .store import NewRecord


def decision_record(decision: Decision, salt: bytes, *, batch_id: str | None = None,
                    batch_row: int | None = None, plugins: list | None = None,
                    enriched: dict | None = None,
                    challenger: dict | None = None) -> tuple[NewRecord, str]:
    """The audit record of a decision (body in format 2, ``body_codec``), and the
    decision's summary JSON (the line a results file gets), computed together so that
    nothing is serialised twice. ``challenger`` (``challenger.challenger_part``) is
    recorded beside the decision; the decision id never depends on it."""
    unpacked, summary_json = unpacked_decision_record(
        decision, salt, batch_id=batch_id, batch_row=batch_row, plugins=plugins,
        enriched=enriched, challenger=challenger)
    return unpacked.packed(), summary_json


class UnpackedRecord(NamedTuple):
    """A decision's record before its body is compressed: the body's text and the
    record's other fields (``COLUMNS``, batch_id, batch_row). ``packed()`` gives the
    ``NewRecord``. A batch packs a chunk's records one after the other, after deciding
    them all: zstd then finds its tables (about a megabyte with the dictionary's) still
    in the processor's caches, which the deciding between two records would have emptied
    (about 9 us of CPU a record)."""

    text: bytes  # UTF-8: packing never fails
    fields: tuple

    @property
    def decision_id(self) -> str:
        return self.fields[0]

    @property
    def customer_id(self) -> str:
        return self.fields[1]

    def packed(self) -> NewRecord:
        """The record to append: its body compressed (format 2) and hashed."""
        return self.with_body(compress(self.text))

    def with_body(self, body: bytes) -> NewRecord:
        """The record to append, given its body: ``text`` compressed (``compress``, or
        ``compress_all`` with others)."""
        return _new_record(NewRecord, ("decision", body, *self.fields,
                                       sha256(body).hexdigest()))


def unpacked_decision_record(decision: Decision, salt: bytes, *, batch_id: str | None = None,
                             batch_row: int | None = None, plugins: list | None = None,
                             enriched: dict | None = None, challenger: dict | None = None
                             ) -> tuple[UnpackedRecord, str]:
    """``decision_record`` before compressing the body: the record to pack, and the
    decision's summary JSON."""
    fast = record_texts(decision, salt, plugins=plugins, enriched=enriched,
                        challenger=challenger)
    if fast is None:
        columns, text, summary_json = _plain_body_text(decision, salt, plugins=plugins,
                                                       enriched=enriched,
                                                       challenger=challenger)
        values = tuple(columns.values())
        text = text.encode("utf-8")  # (a lone surrogate fails here, in the decision's place)
    else:
        values, text, line = fast
        summary_json = line.decode("utf-8")
    return UnpackedRecord(text, (*values, batch_id, batch_row)), summary_json


def decision_body_text(decision: Decision, salt: bytes, *, plugins: list | None = None,
                       enriched: dict | None = None, challenger: dict | None = None
                       ) -> tuple[dict, str, str]:
    """The record columns of a decision, the canonical JSON its format-2 body compresses
    (the body less what the columns say), and the decision's summary JSON."""
    unpacked, summary_json = unpacked_decision_record(
        decision, salt, plugins=plugins, enriched=enriched, challenger=challenger)
    columns = dict(zip(COLUMNS, unpacked.fields[:len(COLUMNS)], strict=True))
    return columns, unpacked.text.decode("utf-8"), summary_json


# A NewRecord is made for every decision: as a tuple of its fields in order (kind, body,
# COLUMNS, batch_id, batch_row, body_sha256; a test checks the order), since a named
# tuple's keywords cost 1.5 us.
COLUMNS = ("decision_id", "customer_id", "as_of", "ruleset_name", "ruleset_version",
           "ruleset_hash", "outcome", "grade", "credit_limit")
_new_record = tuple.__new__


def _column_values(decision: Decision, decision_id: str) -> tuple:
    """The values of a decision's record columns (its header), in ``COLUMNS`` order."""
    ruleset = decision.ruleset
    limit = decision.credit_limit
    return (decision_id, decision.customer_id, date_text(decision.as_of), ruleset.name,
            ruleset.version, ruleset.hash, decision.outcome, decision.grade,
            None if limit is None else decimal_text(limit))


def _columns(decision: Decision, decision_id: str) -> dict:
    """The record columns of a decision, by name."""
    return dict(zip(COLUMNS, _column_values(decision, decision_id), strict=True))


def _plain_body_text(decision: Decision, salt: bytes, *, plugins: list | None,
                     enriched: dict | None, challenger: dict | None) -> tuple[dict, str, str]:
    """``decision_body_text`` for any decision (what ``decision_texts`` leaves: values
    orjson refuses, tiny floats, ...), the summary built as data and serialised with
    ``compact_json``."""
    ruleset = decision.ruleset
    redacting = decision.redacting()
    identity_facts = decision.identity_json(redacting)
    decision_id = decision.decision_id_from(identity_facts)
    summary = decision.summary(decision_id)
    summary_json = compact_json(summary)
    if redacting:
        input_json = compact_json(redact(decision.facts, ruleset.redact,
                                           salted_digest(salt)))
    else:
        input_json = identity_facts  # nothing to redact: the identity text is the input
    columns = _columns(decision, decision_id)
    text = (stored_head(summary["as_of"], summary, challenger, columns)
            + f',"enriched":{compact_json(enriched or {})},"input":{input_json},'
            f'"plugins":{compact_json(plugins or [])},'
            f'"trace":{compact_json(decision.compact_trace())}}}')
    return columns, text, summary_json


def stored_head(as_of: str, summary: dict, challenger: dict | None, columns: dict) -> str:
    """The start of a format-2 body's JSON, up to its enriched part: the as-of date, the
    challenger's part and the decision summary, less what the record's ``columns`` say."""
    head = {"decision": _elided_summary(summary, columns)}
    column = columns.get("as_of")
    if column is None or as_of != column:
        head["as_of"] = as_of
    if challenger is not None:
        head["challenger"] = challenger
    return compact_json(head)[:-1]


# body_codec.elide walks ELIDED for any body; this does the same for a decision summary,
# whose elided keys are at most two deep, without its recursion, as it runs for every
# record. tests/test_record_fast_path.py checks that both leave out the same.
_SUMMARY_TREE = ELIDED_TREE["decision"]
_SUMMARY_LEAVES = tuple((key, column) for key, column in _SUMMARY_TREE.items()
                        if column.__class__ is str)
_SUMMARY_PARTS = tuple((key, tuple(sub.items())) for key, sub in _SUMMARY_TREE.items()
                       if sub.__class__ is dict)


def _elided_summary(summary: dict, columns: dict) -> dict:
    """``elide({"decision": summary}, columns)["decision"]`` for a decision's summary (one
    that ``elide`` would not leave empty, as none is)."""
    out = summary.copy()
    for key, column in _SUMMARY_LEAVES:
        value = columns.get(column)
        if value is not None and key in out and out[key] == value:
            del out[key]
    for key, leaves in _SUMMARY_PARTS:
        part = out.get(key)
        if part.__class__ is not dict:
            continue
        kept = None
        for leaf, column in leaves:
            value = columns.get(column)
            if value is not None and leaf in part and part[leaf] == value:
                if kept is None:
                    kept = part.copy()
                del kept[leaf]
        if kept:
            out[key] = kept
        elif kept is not None:
            del out[key]
    return out


def full_decision(body: dict, slots: list) -> dict:
    """The decision a stored body records, with its full trace, in ``to_dict`` form."""
    data = dict(body["decision"])
    engine_version = data.pop("engine_version")
    data["trace"] = expand_trace(body["trace"], slots)
    data["engine_version"] = engine_version
    return data
