"""Built-in plugin ``overrides``: the expert overrides register kept in the audit trail
(``credit override add / approve / revoke``), offered to every decision of the customer.

Whether an override is applied is the ruleset's decision (authority.yaml): this plugin
only reads the register. Without an audit file there are no overrides. The register is
read whole and kept until it changes. While the audit file is untouched (its identity,
size and modification time, and its write-ahead log's; while the log is there, the log's
alone, which every commit writes: one ``stat`` a decision) nothing is read; when it changed,
one indexed query tells whether any override record came with the change (the register
is those records, append-only, so their highest number and the file's creation time name
its state). So a batch or the HTTP service, which append decisions all the time, read the
register again only when an override was added, approved or revoked.

A process that writes the file itself (the HTTP service's one writer) can spare its
deciding threads that query: after each of its commits it tells the plugin the file's new
signature and the register's state at that commit (``known_state``), when SQLite's
``data_version`` shows that no other connection committed in between.

That query runs on one read-only connection kept open to the last file asked about:
opening a connection costs about 250 µs of CPU, which the HTTP service paid after every
commit, on most of its decisions. It is reopened when the file at the path is another
one (its device and inode; an open file's inode cannot be reused), and never used in a
process other than the one that opened it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import defaultdict

from engine.audit.override_register import list_overrides
from engine.audit.store import DEFAULT_DB, AuditStore
from engine.enrich.hookspecs import hookimpl
from engine.enrich.settings import setting

FIELDS = ("id", "kind", "value", "reason", "by", "role", "expires", "approvals")
# path -> (file signature, register state, active overrides by customer)
_cache: dict[str, tuple[tuple, tuple | None, dict[str, list[dict]]]] = {}
# (process id, path, file identity, connection) of the connection that reads the state
_reader: tuple[int, str, tuple, sqlite3.Connection] | None = None
_reader_lock = threading.Lock()


# one statement, so both values come from one snapshot of the file
STATE_SQL = ("SELECT (SELECT value FROM meta WHERE key = 'created_at'), "
             "(SELECT max(seq) FROM records WHERE kind = 'override')")


def register_state(conn: sqlite3.Connection) -> tuple:
    """The register's state as ``conn`` sees the file: (its creation time, the highest
    override record number). Within a write transaction it includes what that
    transaction appended."""
    return tuple(conn.execute(STATE_SQL).fetchall()[0])


def known_state(path: str, signature: tuple, state: tuple) -> None:
    """Tell the plugin that the audit file at ``path``, when it had ``signature``
    (``file_signature``), held the register in ``state`` (``register_state``): for a
    process that has just committed to the file and knows that no other connection
    committed since it read ``state``. When the register kept is of that state, the
    signature becomes its own, so a decision that finds the file so reads nothing."""
    cached = _cache.get(path)
    if cached is not None and cached[1] is not None and cached[1] == state:
        _cache[path] = (signature, state, cached[2])


def file_signature(path: str) -> tuple | None:
    """What tells the plugin that the audit file at ``path`` changed: (device, inode,
    size, modification time) of the file and of its write-ahead log (None without one);
    None without an audit file, whose log is then not looked at (a command without one
    asks on every decision)."""
    main = _file_stamp(path)
    return None if main is None else (main, _log_stamp(path))


def _file_stamp(path: str) -> tuple | None:
    try:
        return _stamp(os.stat(path))
    except FileNotFoundError:
        return None


def _log_stamp(path: str) -> tuple | None:
    try:
        return _stamp(os.stat(path + "-wal"))
    except FileNotFoundError:
        return None


def _stamp(info: os.stat_result) -> tuple:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _state(path: str, identity: tuple) -> tuple | None:
    """(the file's creation time, the highest override record number): what names the
    register's state; None when it cannot be read this way (then it is read whole).
    ``identity`` is the file's (device, inode) as the signature saw it."""
    global _reader
    with _reader_lock:
        reader = _reader
        if reader is None or reader[:3] != (os.getpid(), path, identity):
            _drop_reader()
            try:
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                       check_same_thread=False)
            except sqlite3.Error:
                return None
            if _file_identity(path) != identity:  # replaced while it was being opened
                conn.close()
                return None
            _reader = reader = (os.getpid(), path, identity, conn)
        try:
            return register_state(reader[3])
        except sqlite3.Error:
            _drop_reader()
            return None


def close_reader() -> None:
    """Close the connection kept to read the register's state (it is opened again when
    needed). For a process that is done with the file and will remove its write-ahead
    log and shared-memory files, which must never go while a connection holds them."""
    with _reader_lock:
        _drop_reader()


def _drop_reader() -> None:
    """Forget the kept connection, closing it if this process opened it (a forked child's
    copy is its parent's to close). Called with ``_reader_lock`` held."""
    global _reader
    if _reader is not None and _reader[0] == os.getpid():
        _reader[3].close()
    _reader = None


def _file_identity(path: str) -> tuple | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _register(path: str) -> dict[str, list[dict]]:
    """Active overrides by customer id, as the audit file at ``path`` holds them now."""
    cached = _cache.get(path)
    if cached is None:
        if not os.access(path, os.F_OK):  # no audit file, as on every decision of a
            return {}                      # command without one: half a failing stat
        signature = file_signature(path)
    else:
        # While the file has its write-ahead log, the log alone tells whether anything
        # committed since the last look: every commit to a file in WAL mode, from any
        # connection, writes the log (it grows, or, begun again after a checkpoint, is
        # written anew, or is truncated); a checkpoint writes the file itself but
        # changes no record. So one stat a decision. (A file put in place of this one
        # while its log stays is not seen: SQLite would read it with the other's log.)
        log = _log_stamp(path)
        if log is not None and log == cached[0][-1]:
            return cached[2]
        main = _file_stamp(path)
        signature = None if main is None else (main, log)
    if signature is None:
        return {}
    if cached is not None and cached[0] == signature:
        return cached[2]
    state = _state(path, signature[0][:2])
    if cached is not None and state is not None and cached[1] == state:
        _cache[path] = (signature, state, cached[2])  # the file changed, the register not
        return cached[2]
    by_customer: dict[str, list[dict]] = defaultdict(list)
    with AuditStore(path, create=False) as store:
        for override in list_overrides(store):
            by_customer[override["customer_id"]].append({k: override[k] for k in FIELDS})
    _cache[path] = (signature, state, dict(by_customer))
    return _cache[path][2]


@hookimpl
def credit_rules_expert_judgments(customer: dict) -> list[dict]:
    """The customer's overrides that are not revoked."""
    customer_id = customer.get("id")
    if not customer_id:
        return []
    # the audit file as default_db_path() names it, read through the settings
    return list(_register(setting("CREDIT_DB") or DEFAULT_DB).get(customer_id, ()))
