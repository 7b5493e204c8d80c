"""Redacting personal data: the fields a ruleset lists under ``redact`` are never stored in
clear in the audit trail, only as a salted hash (HMAC-SHA-256), so that two records of the
same value can still be matched by someone who holds the salt."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

from ..canonical import canonical_json

MARKER = "[redacted]"


def redact(doc: dict, paths: Sequence[str], replace: Callable[[object], object]) -> dict:
    """A copy of ``doc`` with the value at each dotted path replaced by ``replace(value)``;
    only the objects on those paths are copied, and missing paths are left alone."""
    if not paths:
        return doc
    result = dict(doc)
    for path in paths:
        *parents, last = path.split(".")
        target, ok = result, True
        for part in parents:
            child = target.get(part)
            if not isinstance(child, dict):
                ok = False
                break
            child = dict(child)
            target[part] = child
            target = child
        if ok and last in target:
            target[last] = replace(target[last])
    return result


MISSING = object()


def value_at(doc: dict, path: str) -> object:
    """The value at a dotted path in ``doc``, or ``MISSING`` when a step of it is absent."""
    target: object = doc
    for part in path.split("."):
        if not isinstance(target, dict) or part not in target:
            return MISSING
        target = target[part]
    return target


def any_present(doc: dict, paths: Sequence[str]) -> bool:
    """True when at least one of the dotted paths holds a value in ``doc``."""
    return any(value_at(doc, path) is not MISSING for path in paths)


def scrubbed(messages: list[str], redacted: Sequence[str]) -> list[str]:
    """Row error messages fit for the audit trail: a message about a redacted field (which
    may quote its value) says only which field was not valid."""
    pointers = [("/" + path.replace(".", "/")) for path in redacted]
    kept = []
    for message in messages:
        hit = next((p for p in pointers if f"{p}:" in message or f"{p}/" in message), None)
        kept.append(message if hit is None else
                    f"{message.split(hit, 1)[0]}{hit}: not valid (a redacted field)")
    return kept


def salted_digest(salt: bytes) -> Callable[[object], str]:
    """A replacement function: the HMAC-SHA-256 of the value's canonical JSON under
    ``salt``, written as ``hmac-sha256:<hex>``."""
    def digest(value: object) -> str:
        mac = hmac.new(salt, canonical_json(value).encode("utf-8"), hashlib.sha256)
        return "hmac-sha256:" + mac.hexdigest()
    return digest


def marked(value: object) -> str:
    """The replacement used for a decision's identity: the same for every value."""
    return MARKER
