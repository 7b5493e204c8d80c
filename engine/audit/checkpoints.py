"""Signed checkpoints: a statement, signed with an Ed25519 key kept outside the audit file,
that the trail had ``size`` records ending in ``head`` with Merkle root ``root`` at a time.

The hash chain shows that nothing was changed *inside* a trail; a consistent rewrite of
the whole chain still verifies. A checkpoint held by someone else (or only its public key)
pins what the trail was: a later trail must still hold the same record ``size`` with the
same hash, and the same first ``size`` records (the root), or verify fails. The root also
lets ``engine.audit.proofs`` prove one record's presence without the file.

A statement is a JSON object; the signature covers the canonical JSON of every other
field, prefixed with ``credit-rules checkpoint``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import sqlite3
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ..canonical import canonical_json
from ..errors import CreditRulesError
from .merkle import leaf_hash, tree_root

FORMAT = "credit-rules checkpoint 1"
_CONTEXT = b"credit-rules checkpoint\n"
FIELDS = ("format", "size", "head", "root", "signed_at", "key_id")


class CheckpointError(CreditRulesError):
    """A key, statement or proof that cannot be used, or a check that failed."""


# -- keys -----------------------------------------------------------------------------------

def generate_key(path: str | os.PathLike) -> tuple[Path, Path]:
    """Write a new private key to ``path`` (PEM, mode 0600) and its public key beside it
    (``path.pub``); refuses to overwrite either. Returns both paths."""
    private_path, public_path = Path(path), Path(f"{path}.pub")
    for existing in (private_path, public_path):
        if existing.exists():
            raise CheckpointError(f"{existing}: already exists; not overwriting a key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(private_pem)
        public_path.write_bytes(public_pem)
    except OSError as exc:
        raise CheckpointError(f"{exc.filename or path}: cannot write the key "
                              f"({exc.strerror or exc})") from None
    return private_path, public_path


def load_private_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """The Ed25519 private key in a PEM file; one-line errors."""
    key = _load(path, lambda data: serialization.load_pem_private_key(data, password=None))
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(path: str | os.PathLike) -> Ed25519PublicKey:
    """The Ed25519 public key in a PEM file; one-line errors."""
    key = _load(path, serialization.load_pem_public_key)
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path}: not an Ed25519 public key")
    return key


def _load(path, parse):
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the key ({exc.strerror or exc})") \
            from None
    try:
        return parse(data)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: not a PEM key ({' '.join(str(exc).split())})") \
            from None


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name for a public key: the start of the SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# -- statements -----------------------------------------------------------------------------

def record_hashes(conn: sqlite3.Connection, size: int | None = None) -> list[str]:
    """The chained hashes of the first ``size`` records (all when None), in order."""
    sql = "SELECT hash FROM records ORDER BY seq"
    params: tuple = ()
    if size is not None:
        sql = "SELECT hash FROM records WHERE seq <= ? ORDER BY seq"
        params = (size,)
    return [digest for (digest,) in conn.execute(sql, params)]


def merkle_root(hashes: list[str]) -> str:
    """The Merkle root (hex) over records with these chained hashes."""
    return tree_root([leaf_hash(digest) for digest in hashes]).hex()


def sign_head(db_path: str | os.PathLike, key: Ed25519PrivateKey,
              now: dt.datetime | None = None) -> dict:
    """A signed statement of the trail's size, head and root as it is now."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        hashes = record_hashes(conn)
    finally:
        conn.close()
    if not hashes:
        raise CheckpointError(f"{db_path}: the audit trail is empty; nothing to sign")
    signed_at = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    statement = {"format": FORMAT, "size": len(hashes), "head": hashes[-1],
                 "root": merkle_root(hashes), "signed_at": signed_at,
                 "key_id": key_id(key.public_key())}
    signature = key.sign(_CONTEXT + canonical_json(statement).encode("utf-8"))
    return {**statement, "signature": base64.b64encode(signature).decode("ascii")}


def load_statement(path: str | os.PathLike) -> dict:
    """A statement from a JSON file, its shape checked (not yet its signature)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the statement "
                              f"({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: not a JSON statement ({exc})") from None
    return checked_statement(data, str(path))


def checked_statement(data: object, where: str) -> dict:
    """``data`` when it has a statement's fields and types; else CheckpointError."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{where}: not a credit-rules checkpoint statement")
    missing = [name for name in (*FIELDS, "signature") if name not in data]
    if missing:
        raise CheckpointError(f"{where}: the statement lacks {', '.join(missing)}")
    if not isinstance(data["size"], int) or isinstance(data["size"], bool) or \
            data["size"] < 1 or not all(_is_hex64(data[k]) for k in ("head", "root")):
        raise CheckpointError(f"{where}: the statement's size, head or root is malformed")
    return data


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and \
        all(c in "0123456789abcdef" for c in value)


def check_signature(statement: dict, public_key: Ed25519PublicKey) -> None:
    """Raise CheckpointError unless ``public_key`` signed exactly this statement."""
    if statement.get("key_id") != key_id(public_key):
        raise CheckpointError(f"the statement was signed with key {statement.get('key_id')}, "
                              f"not this public key ({key_id(public_key)})")
    try:
        signature = base64.b64decode(statement["signature"], validate=True)
    except (ValueError, TypeError):
        raise CheckpointError("the statement's signature is not base64") from None
    message = {k: statement[k] for k in FIELDS}
    try:
        public_key.verify(signature, _CONTEXT + canonical_json(message).encode("utf-8"))
    except InvalidSignature:
        raise CheckpointError("the statement's signature does not match it (the "
                              "statement was changed, or signed by another key)") from None


def extends(conn: sqlite3.Connection, statement: dict) -> str | None:
    """Why the trail does not extend the signed head (None when it does): record ``size``
    must carry ``head``, and the first ``size`` records must give ``root``."""
    size = statement["size"]
    hashes = record_hashes(conn, size)
    if len(hashes) < size:
        return (f"the trail was cut short: the signed head is record {size}, the trail has "
                f"{len(hashes)} records")
    if hashes[-1] != statement["head"]:
        return f"record {size} is not the signed head (its hash differs: the trail was rewritten)"
    if merkle_root(hashes) != statement["root"]:
        return (f"the first {size} records are not the ones signed (their Merkle root "
                "differs: the trail was rewritten)")
    return None


def write_json(path: str | os.PathLike, document: dict) -> Path:
    """Write a statement or proof as a JSON file (refusing a missing folder in one line)."""
    target = Path(path)
    try:
        target.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n",
                          encoding="utf-8")
    except OSError as exc:
        raise CheckpointError(f"{target}: cannot write ({exc.strerror or exc})") from None
    return target


def checkpoint(db_path: str | os.PathLike, key: Ed25519PrivateKey) -> Path:
    """Sign the trail's head with ``key`` and keep the statement beside the audit file as
    ``AUDIT_FILE.checkpoint-SIZE.json``; returns its path."""
    statement = sign_head(db_path, key)
    return write_json(f"{db_path}.checkpoint-{statement['size']}.json", statement)
