"""The settings the built-in plugins take from the environment (``$CREDIT_DB``,
``$CREDIT_INDUSTRY_TABLE``, ...): read on every call, or once for a stretch of work that
fixes them (``fixed_settings``, which a batch opens for each chunk of rows).

``os.environ.get`` runs four Python functions (the mapping's ``get``, the look-up, the
encoding of the name, the decoding of the value): amid a batch's work about 1.7 µs a
call, and the plugins of the default ruleset ask twice a decision. Only the process itself
can change its environment, and nothing does while a batch decides a chunk; everywhere
else (the HTTP service, a test that sets a variable between two calls) a change is seen by
the next call, as before. The fixing holds in the thread that opened it only (a plugin
called with a timeout runs in a thread of its own, and reads as before).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator

# name -> value (None: not set) while settings are fixed in this context; None otherwise
_fixed: contextvars.ContextVar[dict[str, str | None] | None] = contextvars.ContextVar(
    "credit_rules_fixed_settings", default=None)


def setting(name: str) -> str | None:
    """The environment variable ``name`` (None when it is not set); while settings are
    fixed, as it was when first asked for."""
    fixed = _fixed.get()
    if fixed is None:
        return os.environ.get(name)
    try:
        return fixed[name]
    except KeyError:
        value = fixed[name] = os.environ.get(name)
        return value


@contextlib.contextmanager
def fixed_settings() -> Iterator[None]:
    """Read each setting at most once while the block runs (in this thread); a change
    made meanwhile is seen after it."""
    token = _fixed.set({})
    try:
        yield
    finally:
        _fixed.reset(token)
