"""Inclusion proofs: that one record is in the trail under a signed head, checkable by an
outsider with only the proof file and the signer's public key.

A proof holds the signed statement (``engine.audit.checkpoints``), the record (its header
fields, body (a compressed body as the base64 of its stored bytes) and chained hash) and
its Merkle audit path (``engine.audit.merkle``), which is ``log2(size)`` hashes long
however long the trail. Checking it: the statement's
signature; the body's SHA-256 against the header; the header against the record's hash;
and the path from that record's leaf up to the signed root.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .chain import HEADER_FIELDS, record_hash
from .checkpoints import (
    CheckpointError,
    check_signature,
    checked_statement,
    extends,
    record_hashes,
)
from .merkle import inclusion_path, leaf_hash, root_from_path
from .store import is_seq

FORMAT = "credit-rules inclusion proof 1"


def prove(db_path: str | os.PathLike, ref: str, statement: dict) -> dict:
    """The proof that the record ``ref`` (a sequence number or a decision id) is in the
    trail under ``statement``. Raises CheckpointError when the trail no longer extends the
    statement or the record came after it."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        why = extends(conn, statement)
        if why:
            raise CheckpointError(f"the trail does not extend the signed head: {why}")
        row = _record(conn, ref)
        size = statement["size"]
        if row["seq"] > size:
            raise CheckpointError(f"record {row['seq']} came after the signed head (record "
                                  f"{size}): sign a newer head to prove it")
        leaves = [leaf_hash(digest) for digest in record_hashes(conn, size)]
    finally:
        conn.close()
    record = {name: row[name] for name in (*HEADER_FIELDS, "hash")}
    if row["body"].__class__ is bytes:  # a compressed body: its bytes, which the hash covers
        record["body_stored"] = base64.b64encode(row["body"]).decode("ascii")
    else:
        record["body"] = row["body"]
    return {"format": FORMAT, "statement": statement, "index": row["seq"] - 1,
            "record": record,
            "path": [node.hex() for node in inclusion_path(leaves, row["seq"] - 1)]}


def _record(conn: sqlite3.Connection, ref: str) -> sqlite3.Row:
    if is_seq(ref):
        row = conn.execute("SELECT * FROM records WHERE seq = ?", (int(ref),)).fetchone()
    else:
        row = conn.execute("SELECT * FROM records WHERE decision_id = ? AND kind = "
                           "'decision' ORDER BY seq LIMIT 1", (ref,)).fetchone()
    if row is None:
        raise CheckpointError(f"no record {ref} in the trail")
    return row


def load_proof(path: str | os.PathLike) -> dict:
    """A proof from its JSON file (shape not yet checked)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the proof ({exc.strerror or exc})") \
            from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: not a JSON proof ({exc})") from None


def check_proof(proof: object, public_key: Ed25519PublicKey) -> dict:
    """The proven record when ``proof`` shows it is in the trail under a head signed by
    ``public_key``; else CheckpointError saying which check failed."""
    if not isinstance(proof, dict) or proof.get("format") != FORMAT:
        raise CheckpointError("not a credit-rules inclusion proof")
    statement = checked_statement(proof.get("statement"), "the proof's statement")
    check_signature(statement, public_key)
    record, index, path = proof.get("record"), proof.get("index"), proof.get("path")
    if not isinstance(record, dict) or not isinstance(index, int) or \
            not isinstance(path, list) or not all(isinstance(p, str) for p in path):
        raise CheckpointError("the proof's record, index or path is malformed")
    try:
        header = {name: record[name] for name in HEADER_FIELDS}
        digest = record["hash"]
        body = base64.b64decode(record["body_stored"], validate=True) \
            if "body_stored" in record else record["body"]
        nodes = [bytes.fromhex(node) for node in path]
    except (KeyError, ValueError, TypeError, binascii.Error) as exc:
        raise CheckpointError(f"the proof's record or path is malformed ({exc})") from None
    if header["seq"] != index + 1:
        raise CheckpointError("the record's number is not the one the proof is for")
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, bytes) or \
            hashlib.sha256(body).hexdigest() != header["body_sha256"]:
        raise CheckpointError("the record's body is not the one its header names")
    try:
        computed = record_hash(header)
    except TypeError as exc:
        raise CheckpointError(f"the record's header is malformed ({exc})") from None
    if computed != digest:
        raise CheckpointError("the record's header does not give its hash")
    root = root_from_path(leaf_hash(digest), index, statement["size"], nodes)
    if root is None or root.hex() != statement["root"]:
        raise CheckpointError("the record is not in the signed trail (its path does not "
                              "lead to the signed root)")
    return record
