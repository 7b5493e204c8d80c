"""The writer's word to the overrides plugin: after each commit, the audit file's new
signature and the overrides register's state at that commit, so that the deciding
threads, which look at the file on every decision, find it known instead of asking SQLite
whether the register changed (one query after nearly every group commit, on a shared
connection: about a sixth of the service's CPU a request).

This is only said when it is certain. Inside its transaction the writer reads SQLite's
``PRAGMA data_version``, which changes exactly when another connection has committed to
the file; when it changed since the state was last read (or this transaction appended an
override), the state is read again there, where it includes every commit before this one.
After the commit the file's signature is taken, then ``data_version`` read again: the
same value means no other connection committed between the state and the signature, so
the signature names a file whose register is that state. A commit by another process
(``credit override add``) changes the signature afterwards, and the next decision reads
the register as before.
"""

from __future__ import annotations

import sqlite3

from plugins import overrides


class RegisterWatch:
    """Told by the writer of the audit file at ``path`` about each transaction
    (``in_transaction``, before COMMIT) and each commit (``committed``); ``forget`` after a
    transaction that failed."""

    def __init__(self, path: str):
        self.path = path
        self._version: int | None = None  # data_version when the state was read
        self._state: tuple | None = None

    def in_transaction(self, conn: sqlite3.Connection, wrote_override: bool) -> None:
        """Inside the write transaction, after its appends."""
        try:
            version = _data_version(conn)
            if version != self._version or wrote_override or self._state is None:
                self._state = overrides.register_state(conn)
                self._version = version
        except sqlite3.Error:  # the plugin reads for itself, as without the watch
            self.forget()

    def committed(self, conn: sqlite3.Connection) -> None:
        """Right after the commit: tell the plugin, when no other connection committed."""
        if self._state is None:
            return
        signature = overrides.file_signature(self.path)
        try:
            unchanged = _data_version(conn) == self._version
        except sqlite3.Error:
            unchanged = False
        if signature is not None and unchanged:
            overrides.known_state(self.path, signature, self._state)

    def forget(self) -> None:
        """The transaction did not commit: what it read is no longer the file's."""
        self._version = self._state = None


def _data_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA data_version").fetchone()[0]
