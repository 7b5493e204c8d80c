"""Bearer tokens and roles: a file of hashed tokens, one JSON object a line::

    {"name": "erp-1", "roles": ["integrator"], "sha256": "<sha256 of the token, hex>"}

The file never holds a token, only its SHA-256, so a copy of it lets no one in. Roles:
``integrator`` decides, checks orders and sends events; ``auditor`` reads decisions and the
trail's head; ``admin`` reloads the ruleset. Blank lines and ``#`` comments are allowed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..errors import CreditRulesError

ROLES = ("integrator", "auditor", "admin")
TOKEN_PREFIX = "crt_"


class TokenFileError(CreditRulesError):
    """The tokens file cannot be read or has a bad line (the message names the line)."""


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: the token's name and its roles."""

    name: str
    roles: frozenset[str]


def token_digest(token: str) -> str:
    """The SHA-256 (hex) a tokens file keeps for ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(name: str, roles: list[str]) -> tuple[str, str]:
    """A fresh random token and the tokens-file line that admits it with ``roles``."""
    _check_entry(name, roles, "token")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    line = json.dumps({"name": name, "roles": sorted(set(roles)),
                       "sha256": token_digest(token)}, sort_keys=True)
    return token, line


def _check_entry(name: object, roles: object, where: str) -> None:
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise TokenFileError(f"{where}: a token needs a name (printable text)")
    if not isinstance(roles, list) or not roles:
        raise TokenFileError(f"{where}: token {name!r} needs a list of roles")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise TokenFileError(f"{where}: token {name!r}: unknown role {unknown[0]!r} "
                             f"(roles: {', '.join(ROLES)})")


class Tokens:
    """The tokens a service accepts, looked up by their SHA-256."""

    def __init__(self, entries: dict[str, Principal]):
        self._by_digest = dict(entries)

    def __len__(self) -> int:
        return len(self._by_digest)

    @classmethod
    def read(cls, path: str | Path) -> Tokens:
        """The tokens of a tokens file; TokenFileError names the file and line of a problem."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenFileError(f"{path}: cannot read the tokens file "
                                 f"({getattr(exc, 'strerror', None) or exc})") from None
        entries: dict[str, Principal] = {}
        names: set[str] = set()
        for number, line in enumerate(text.splitlines(), 1):
            where = f"{path}:{number}"
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TokenFileError(f"{where}: not a JSON object ({exc.msg})") from None
            if not isinstance(entry, dict):
                raise TokenFileError(f"{where}: not a JSON object")
            name, roles, digest = entry.get("name"), entry.get("roles"), entry.get("sha256")
            _check_entry(name, roles, where)
            if not isinstance(digest, str) or len(digest) != 64 or \
                    any(c not in "0123456789abcdef" for c in digest):
                raise TokenFileError(f"{where}: token {name!r}: sha256 must be 64 lowercase "
                                     "hex digits (made by 'credit serve token')")
            if name in names or digest in entries:
                raise TokenFileError(f"{where}: token {name!r} is listed twice")
            names.add(name)
            entries[digest] = Principal(name, frozenset(roles))
        if not entries:
            raise TokenFileError(f"{path}: no tokens in the file: no one could call the "
                                 "service (make one with 'credit serve token')")
        return cls(entries)

    def who(self, authorization: str | None) -> Principal | None:
        """The principal a ``Authorization: Bearer TOKEN`` header names; None when there
        is no such header or the token is unknown."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self._by_digest.get(token_digest(token.strip()))
