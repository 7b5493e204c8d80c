"""``Idempotency-Key``: a retried request gets the first answer instead of a second record.

A key belongs to the token that sent it (two clients may use the same key). The key, a
digest of the request (method, path, query and body) and the sequence number of the
record its first request appended are kept in the audit file's ``idempotency_keys``
table, written in the same transaction as the record: either both are kept or neither,
and a restart forgets nothing. The answer to a retry is rebuilt from that record, so the
table holds no decision data. The same key with a different request is refused (409).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from dataclasses import dataclass

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Claim:
    """A request's key, to be kept with the record it appends."""

    principal: str
    key: str
    request_sha256: str


@dataclass(frozen=True)
class Kept:
    """A key already kept: the digest of its first request and that request's record."""

    request_sha256: str
    seq: int


def key_problem(key: str) -> str | None:
    """What is wrong with an Idempotency-Key header value; None when it is usable."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters"
    if not key.isascii() or not key.isprintable():
        return "Idempotency-Key must be printable ASCII"
    return None


def request_digest(method: str, path: str, query: str, body: bytes) -> str:
    """SHA-256 of what makes two requests the same request."""
    digest = hashlib.sha256(f"{method} {path}?{query}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def kept(conn: sqlite3.Connection, principal: str, key: str) -> Kept | None:
    """The key as the audit file keeps it, or None."""
    row = conn.execute("SELECT request_sha256, seq FROM idempotency_keys WHERE principal = ? "
                       "AND key = ?", (principal, key)).fetchone()
    return Kept(row[0], row[1]) if row else None


def keep(conn: sqlite3.Connection, claim: Claim, seq: int) -> None:
    """Keep ``claim`` for record ``seq`` (inside the transaction that appends it)."""
    conn.execute("INSERT INTO idempotency_keys (principal, key, request_sha256, seq, "
                 "stored_at) VALUES (?, ?, ?, ?, ?)",
                 (claim.principal, claim.key, claim.request_sha256, seq,
                  dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
