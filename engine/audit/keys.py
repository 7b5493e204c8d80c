"""The redaction key: what redacted fields are hashed with (HMAC-SHA-256). It never lives
in the audit file, so that someone holding the file cannot recover a redacted value by
guessing (with the key beside the values, a phone number fell to about 176,000 guesses a
second).

Where it comes from, first found wins:

1. ``$CREDIT_AUDIT_SALT``: the key itself, set by whoever runs the engine;
2. ``$CREDIT_AUDIT_KEY_FILE``: a file holding it;
3. ``AUDIT_FILE.key`` beside the audit file.

A key file that does not exist yet is created with a new random key, readable by its
owner only (mode 0600). Keep it apart from copies of the audit file you hand out.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ..errors import CreditRulesError

KEY_BYTES = 32


def key_file_for(audit_path: str | os.PathLike) -> Path:
    """Where the key of the audit file at ``audit_path`` is kept."""
    named = os.environ.get("CREDIT_AUDIT_KEY_FILE")
    return Path(named) if named else Path(f"{audit_path}.key")


def redaction_key(audit_path: str | os.PathLike) -> bytes:
    """The redaction key for the audit file at ``audit_path`` (see the module docstring);
    creates the key file when there is none. Raises CreditRulesError naming the key file
    when it cannot be read or written."""
    given = os.environ.get("CREDIT_AUDIT_SALT")
    if given:
        return given.encode("utf-8")
    path = key_file_for(audit_path)
    try:
        return _read(path)
    except FileNotFoundError:
        return _create(path)


def _read(path: Path) -> bytes:
    """The key in the key file at ``path``; FileNotFoundError when there is none, and
    CreditRulesError when it cannot be read or is too short to be a key."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise CreditRulesError(f"{path}: cannot read the redaction key ({exc})") from None
    if len(text) < 2 * KEY_BYTES:
        raise CreditRulesError(f"{path}: a redaction key has at least {2 * KEY_BYTES} "
                               "characters")
    return text.encode("utf-8")


def _create(path: Path) -> bytes:
    """A new key in ``path``, written whole before the name appears (a temporary file
    linked into place), so that a process starting at the same moment either makes the
    file or reads a complete one."""
    key = secrets.token_hex(KEY_BYTES)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process made it first: use theirs
            return _read(path)
    except OSError as exc:
        raise CreditRulesError(f"{path}: cannot create the redaction key "
                               f"({exc.strerror or exc})") from None
    finally:
        temporary.unlink(missing_ok=True)
    return key.encode("utf-8")
