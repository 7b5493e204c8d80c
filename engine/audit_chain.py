"""The hash chain of the audit trail: how a record's hash is made, and how a whole trail
is verified.

A record's hash is the SHA-256 of the canonical JSON of its header: every indexed column
(sequence number, kind, ids, dates, ruleset, outcome, grade, limit, batch), the SHA-256 of
its body, and the previous record's hash. Changing, removing, inserting or reordering a
record therefore breaks the chain at that record; cutting the trail short is caught by
comparing with a head (sequence number and hash) noted elsewhere.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from json.encoder import encode_basestring

GENESIS = "0" * 64
_HEADER_KEYS = ("as_of", "batch_id", "batch_row", "body_sha256", "credit_limit",
                "customer_id", "decision_id", "grade", "kind", "outcome", "prev_hash",
                "recorded_at", "ruleset_hash", "ruleset_name", "ruleset_version", "seq")


def header_json(header: dict) -> str:
    """The canonical JSON of a record header (sorted keys, no spaces); the same text
    ``canonical_json`` gives, written directly because verify does it a million times."""
    parts = []
    for key in _HEADER_KEYS:
        value = header[key]
        if value is None:
            text = "null"
        elif isinstance(value, str):
            text = encode_basestring(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
        else:
            raise TypeError(f"audit header field {key} holds {type(value).__name__}")
        parts.append(f'"{key}":{text}')
    return "{" + ",".join(parts) + "}"


def record_hash(header: dict) -> str:
    """The hash a record with this header must carry."""
    return hashlib.sha256(header_json(header).encode("utf-8")).hexdigest()


@dataclass
class VerifyReport:
    """The outcome of walking the chain: how many records were checked, and the first
    one that failed, with why."""

    checked: int
    failed_seq: int | None = None
    reason: str | None = None
    head: tuple[int, str] | None = None
    failed_ruleset: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed_seq is None and self.failed_ruleset is None


_COLUMNS = ("seq", "kind", "decision_id", "customer_id", "as_of", "recorded_at",
            "ruleset_name", "ruleset_version", "ruleset_hash", "outcome", "grade",
            "credit_limit", "batch_id", "batch_row", "body_sha256", "prev_hash")


def verify_chain(conn: sqlite3.Connection, expected_head: tuple[int, str] | None = None
                 ) -> VerifyReport:
    """Walk every record in sequence order and check the chain, then the stored rulesets,
    then (if given) that the trail still reaches ``expected_head``."""
    sql = f"SELECT {', '.join(_COLUMNS)}, body, hash FROM records ORDER BY seq"
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    sha256 = hashlib.sha256
    for row in conn.execute(sql):
        header = dict(zip(_COLUMNS, row, strict=False))
        seq, body, digest = row[0], row[-2], row[-1]
        if seq != expected_seq:
            missing = f"record {expected_seq} is missing" if seq > expected_seq else \
                f"record {seq} appears twice"
            return VerifyReport(checked, expected_seq, f"{missing}: record {seq} follows "
                                f"record {expected_seq - 1} (records were removed or "
                                "renumbered)")
        if header["prev_hash"] != prev_hash:
            return VerifyReport(checked, seq, "its previous-record hash does not match "
                                f"record {seq - 1} (records were removed, inserted or "
                                "reordered before it)")
        if not isinstance(body, str) or \
                sha256(body.encode("utf-8")).hexdigest() != header["body_sha256"]:
            return VerifyReport(checked, seq, "its body was changed (the body's SHA-256 "
                                "does not match)")
        try:
            actual = record_hash(header)
        except TypeError as exc:
            return VerifyReport(checked, seq, f"a field has the wrong type ({exc})")
        if actual != digest:
            return VerifyReport(checked, seq, "its fields were changed (the record hash "
                                "does not match)")
        prev_hash = digest
        expected_seq += 1
        checked += 1
    head = (expected_seq - 1, prev_hash) if checked else None
    for ruleset_hash, content in conn.execute("SELECT hash, content FROM rulesets"):
        if sha256(content.encode("utf-8")).hexdigest() != ruleset_hash:
            return VerifyReport(checked, None, "its stored content was changed (its SHA-256 "
                                "no longer matches)", head, failed_ruleset=ruleset_hash)
    if expected_head is not None:
        seq, digest = expected_head
        if head is None or seq > head[0]:
            last = head[0] if head else 0
            return VerifyReport(checked, seq, f"the trail was cut short: record {seq} (the "
                                f"noted head) is gone, the last record is {last}", head)
        row = conn.execute("SELECT hash FROM records WHERE seq = ?", (seq,)).fetchone()
        if row[0] != digest:
            return VerifyReport(checked, seq, "it is not the noted head (its hash differs: "
                                "the trail was rewritten)", head)
    return VerifyReport(checked, head=head)
