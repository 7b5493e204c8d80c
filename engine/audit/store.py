"""The audit store: one SQLite file, append-only, every record chained to the one before.

Tables (see ``MIGRATIONS``):

- ``records``: one row per decision, override, escalation, event, batch mark or ruleset
  load. ``body`` is the record's canonical JSON (format 1), or for a decision a compressed
  blob without what the columns say (format 2, ``body_codec``); the indexed columns hold
  what reviews filter on, and are covered by the record hash so they cannot be changed
  unseen.
- ``rulesets``: the canonical content of every ruleset ever used, once, keyed by its hash.
- ``trace_slots``: what the numbers in a stored trace stand for (stage, rule id, names
  read), per ruleset hash and engine version.
- ``body_dictionaries``: the dictionaries format-2 bodies are compressed against, by id,
  each attested by the chain.
- ``idempotency_keys``: the keys HTTP clients sent with requests that appended a record
  (``engine.serve``), so that a retry after a restart still gets the first answer; each is
  written in the transaction of the record it names.
- ``meta``: the file's creation time, covered by the chain: the first record's
  previous-record hash is a digest of it (``chain.genesis``). The redaction key is not
  in the file (``keys.py``).

Triggers refuse UPDATE, DELETE and INSERT OR REPLACE on every table. Appends run under
``BEGIN IMMEDIATE`` with a busy timeout, so concurrent writers queue up and the chain
stays linear; the file is in WAL mode.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from ..canonical import canonical_json, sha256_hex_text
from ..errors import CreditRulesError
from .body_codec import (
    SHIPPED,
    WRITING,
    BodyError,
    dictionary_digest,
    dictionary_id,
    register_body_json,
    shipped_dictionary,
    stored_dictionary,
)
from .chain import (
    HEADER_ORDER,
    attested_dictionary_digest,
    attested_slots_digest,
    genesis,
    header_hash,
)
from .keys import redaction_key

DEFAULT_DB = "credit-audit.db"
BUSY_TIMEOUT_MS = 60_000
RECORD_WIDTH = len(HEADER_ORDER) + 2  # a records row: the header, body and hash
# Rows one INSERT writes at most: 900 parameters, under the 999 older SQLite builds allow.
ROWS_PER_INSERT = 50
WRITER_CACHE_KIB = 16 * 1024  # SQLite's page cache for a store that writes (the default: 2 MiB)


@functools.cache
def _insert_records_sql(rows: int) -> str:
    """The INSERT of ``rows`` records, their columns in HEADER_ORDER, then body and hash.
    One statement writes many rows because SQLite copies every page a statement touches
    into its statement journal (the trigger refusing INSERT OR REPLACE and the
    expression index on event ids make it keep one): once per statement, not per row."""
    marks = f"({', '.join('?' * RECORD_WIDTH)})"
    return (f"INSERT INTO records ({', '.join((*HEADER_ORDER, 'body', 'hash'))}) "
            f"VALUES {', '.join([marks] * rows)}")



class AuditError(CreditRulesError):
    """The audit file cannot be used (not an audit database, newer schema, locked...)."""


def default_db_path() -> str:
    """$CREDIT_DB, else credit-audit.db in the working folder."""
    return os.environ.get("CREDIT_DB") or DEFAULT_DB


class NewRecord(NamedTuple):
    """A record to append; the store adds seq, recorded_at, prev_hash and hash. (A named
    tuple: one is made for every decision, three times faster than a frozen dataclass.)"""

    kind: str
    body: str  # canonical JSON
    decision_id: str | None = None
    customer_id: str | None = None
    as_of: str | None = None
    ruleset_name: str | None = None
    ruleset_version: str | None = None
    ruleset_hash: str | None = None
    outcome: str | None = None
    grade: str | None = None
    credit_limit: str | None = None
    batch_id: str | None = None
    batch_row: int | None = None
    body_sha256: str | None = None  # computed when not given


def _migration_1(conn: sqlite3.Connection) -> None:
    import sqlite_utils  # only to create a file: a one-shot command need not import it

    db = sqlite_utils.Database(conn)
    db["records"].create({
        "seq": int, "kind": str, "decision_id": str, "customer_id": str, "as_of": str,
        "recorded_at": str, "ruleset_name": str, "ruleset_version": str,
        "ruleset_hash": str, "outcome": str, "grade": str, "credit_limit": str,
        "batch_id": str, "batch_row": int, "body": str, "body_sha256": str,
        "prev_hash": str, "hash": str,
    }, pk="seq", not_null={"kind", "recorded_at", "body", "body_sha256", "prev_hash",
                           "hash"})
    # Indexes for what reviews look up most; each one costs every insert.
    for columns in (["customer_id"], ["decision_id"], ["as_of"], ["batch_id", "batch_row"]):
        db["records"].create_index(columns)
    db["rulesets"].create({"hash": str, "name": str, "version": str, "content": str,
                           "stored_at": str}, pk="hash", not_null={"content"})
    db["trace_slots"].create({"ruleset_hash": str, "engine_version": str, "slots": str},
                             pk=("ruleset_hash", "engine_version"), not_null={"slots"})
    db["meta"].create({"key": str, "value": str}, pk="key")
    for table, key in (("records", "seq = NEW.seq"), ("rulesets", "hash = NEW.hash"),
                       ("trace_slots", "ruleset_hash = "
                       "NEW.ruleset_hash AND engine_version = NEW.engine_version"),
                       ("meta", "key = NEW.key")):
        _append_only(conn, table, key)
    # A trail made before the redaction key moved out of the file also has 'salt' here.
    conn.execute("INSERT INTO meta (key, value) VALUES ('created_at', ?)", (_now(),))


def _migration_2(conn: sqlite3.Connection) -> None:
    # Account events are records of kind 'event'; ingest looks their ids up to stay
    # idempotent. (A new index only: the record header, and so every hash, is unchanged.)
    conn.execute("CREATE INDEX records_event_id ON records (json_extract(body, '$.id')) "
                 "WHERE kind = 'event'")


def _migration_3(conn: sqlite3.Connection) -> None:
    # The monitor reads each customer's events, actions and decisions in event time.
    conn.execute("CREATE INDEX records_customer_time ON records (customer_id, as_of, seq)")


def _migration_4(conn: sqlite3.Connection) -> None:
    # The overrides register is read after every batch commit: without an index that reading
    # scanned the whole trail, a cost that grew with it (121.6 ms on a 100,000-record file).
    conn.execute("CREATE INDEX records_overrides ON records (seq) WHERE kind = 'override'")


def _migration_5(conn: sqlite3.Connection) -> None:
    # Format-2 decision bodies are compressed against a dictionary; the file keeps every
    # dictionary it uses (``body_codec``), append-only like the other tables.
    conn.execute("CREATE TABLE body_dictionaries (id INTEGER PRIMARY KEY, sha256 TEXT NOT "
                 "NULL, content BLOB NOT NULL, stored_at TEXT NOT NULL)")
    _append_only(conn, "body_dictionaries", "id = NEW.id")


def _append_only(conn: sqlite3.Connection, table: str, key: str) -> None:
    """Triggers refusing UPDATE, DELETE and INSERT OR REPLACE on ``table`` (``key``: the
    condition an insert that would replace a row meets)."""
    for action in ("UPDATE", "DELETE"):
        conn.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                     f"BEGIN SELECT RAISE(ABORT, 'audit {table} are append-only'); END")
    # INSERT OR REPLACE deletes without firing delete triggers (recursive triggers are off
    # by default), so an insert must also be new.
    conn.execute(f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN "
                 f"EXISTS (SELECT 1 FROM {table} WHERE {key}) BEGIN SELECT "
                 f"RAISE(ABORT, 'audit {table} are append-only'); END")


def _migration_6(conn: sqlite3.Connection) -> None:
    # An order check reads one customer's events appended since it last looked, its latest
    # decision, limit request and holds, and the groups; the worklist reads order checks
    # and releases. Without these it scanned every record of the customer, or of the
    # trail. Partial indexes, so that each kind's inserts pay only for their own.
    for name, columns, kinds in (
            ("records_customer_events", "customer_id, seq", "'event'"),
            ("records_customer_decisions", "customer_id, as_of, seq", "'decision'"),
            ("records_customer_actions", "customer_id, as_of, seq", "'action'"),
            ("records_customer_limits", "customer_id, as_of, seq", "'limit-request'"),
            ("records_customer_lifts", "customer_id, as_of, seq", "'hold-lifted'"),
            ("records_groups", "seq", "'group'"),
            ("records_order_checks", "seq", "'order-check'"),
            ("records_order_releases", "seq", "'order-release'")):
        conn.execute(f"CREATE INDEX {name} ON records ({columns}) WHERE kind = {kinds}")


def _migration_7(conn: sqlite3.Connection) -> None:
    # The HTTP service keeps each Idempotency-Key with the record its first request
    # appended, in that record's transaction: a retry, even after a restart, gets the first
    # answer and appends nothing. Not chained: a key names a record, it says nothing new.
    conn.execute("CREATE TABLE IF NOT EXISTS idempotency_keys (principal TEXT NOT NULL, "
                 "key TEXT NOT NULL, request_sha256 TEXT NOT NULL, seq INTEGER NOT NULL, "
                 "stored_at TEXT NOT NULL, PRIMARY KEY (principal, key))")
    for action in ("UPDATE", "DELETE"):
        conn.execute(f"CREATE TRIGGER IF NOT EXISTS idempotency_keys_no_{action.lower()} "
                     f"BEFORE {action} ON idempotency_keys BEGIN SELECT RAISE(ABORT, "
                     "'audit idempotency_keys are append-only'); END")
    conn.execute("CREATE TRIGGER IF NOT EXISTS idempotency_keys_no_replace BEFORE INSERT ON "
                 "idempotency_keys WHEN EXISTS (SELECT 1 FROM idempotency_keys WHERE "
                 "principal = NEW.principal AND key = NEW.key) BEGIN SELECT RAISE(ABORT, "
                 "'audit idempotency_keys are append-only'); END")


def _migration_8(conn: sqlite3.Connection) -> None:
    # Every insert pays for every index. The one on customer_id alone repeats the start of
    # records_customer_time (customer_id, as_of, seq), which answers the same lookups.
    conn.execute("DROP INDEX IF EXISTS idx_records_customer_id")


# index + 1 = the schema version each brings
MIGRATIONS = [_migration_1, _migration_2, _migration_3, _migration_4, _migration_5,
              _migration_6, _migration_7, _migration_8]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditStore:
    """An open audit file. Use as a context manager, or call ``close()``."""

    def __init__(self, path: str | os.PathLike, *, create: bool = True):
        self.path = str(path)
        self._atomic_depth = 0  # atomic() blocks open (an inner one joins the outer)
        self._writing = False  # whether the connection is set up for writing
        if not create and not Path(self.path).exists():
            raise AuditError(f"{self.path}: no audit file here")
        try:
            self.conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                        isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise AuditError(f"{self.path}: cannot open the audit file ({exc})") from None
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0 and self.conn.execute(
                    "SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise AuditError(f"{self.path}: an SQLite file that is not an audit trail")
            if version == 0 and not create:
                raise AuditError(f"{self.path}: an empty file, not an audit trail")
            self._use_wal()
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise AuditError(f"{self.path}: not a usable audit database ({exc})") from None
        except AuditError:
            self.conn.close()
            raise
        self.bodies = register_body_json(self.conn)
        self._known_rulesets: set[str] = set()
        self._known_dictionaries: set[int] = set()
        self._salt: bytes | None = None

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the file, first folding its write-ahead log into it when no one else is
        using it, so that the file alone is the whole trail (SQLite does that only when the
        last connection closes, and a reader may keep one open: the overrides plugin
        does). Never waits: while another process reads or writes, the log stays."""
        try:
            self.conn.execute("PRAGMA busy_timeout = 0")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error:
            pass  # a read-only file, or one busy: its log is folded in later
        self.conn.close()

    def _use_wal(self) -> None:
        """Put the file in WAL mode (kept in the file, so usually already done). Changing
        the mode needs the file to itself and does not wait for the busy timeout: two
        processes opening a new file at once retry until one of them has done it."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                if self.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                    return
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    # -- schema -------------------------------------------------------------------------
    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise AuditError(f"{self.path}: written by a newer credit-rules (schema version "
                             f"{version}); upgrade to read it")
        if version == len(MIGRATIONS):
            return
        with self.atomic():
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, len(MIGRATIONS)):
                MIGRATIONS[number](self.conn)
                self.conn.execute(f"PRAGMA user_version = {number + 1}")

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """One write transaction: BEGIN IMMEDIATE (so concurrent writers queue on the busy
        timeout rather than fail half-way), COMMIT when the block ends, ROLLBACK when it
        raises (anything, even KeyboardInterrupt: nothing half-written stays). A block
        inside another joins it: what is read in the outer block (an event id not yet in
        the log) still holds when the inner one appends, whatever other writers do."""
        if self._atomic_depth:
            self._atomic_depth += 1
            try:
                yield
            finally:
                self._atomic_depth -= 1
            return
        if not self._writing:
            self._set_up_for_writing()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._cannot_write(exc) from None
        self._atomic_depth = 1
        try:
            yield
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._rollback()
            raise self._cannot_write(exc) from None
        except BaseException:
            self._rollback()
            raise
        finally:
            self._atomic_depth = 0

    def _set_up_for_writing(self) -> None:
        """The connection's settings for writing, taken before a store's first write
        transaction (SQLite reads temp_store when one begins); stores that only read keep
        SQLite's defaults."""
        # An INSERT into records keeps a statement journal (_insert_records_sql). One past
        # 64 KiB moves to a temporary file, where every later statement of the transaction
        # then writes its pages, two system calls a page; in memory it holds one
        # statement's pages at most.
        self.conn.execute("PRAGMA temp_store = MEMORY")
        # On a long trail a transaction of 1,000 decisions changes about a page of the
        # decision-id index a record (the ids are random): more pages than the default
        # 2 MiB cache holds, so SQLite wrote some to the log before the commit, and again
        # at it. 16 MiB holds them.
        self.conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
        self._writing = True

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def _cannot_write(self, exc: sqlite3.OperationalError) -> AuditError:
        """A write the file refused (read-only, disk full, locked too long) as one line."""
        text = str(exc)
        if "readonly" in text or "read-only" in text:
            text = "the file (or its folder) is read-only"
        return AuditError(f"{self.path}: cannot write to the audit file: {text}")

    @property
    def salt(self) -> bytes:
        """The redaction key, from outside this file (``engine.audit.keys``)."""
        if self._salt is None:
            self._salt = redaction_key(self.path)
        return self._salt

    # -- writing ------------------------------------------------------------------------
    def store_ruleset(self, ruleset) -> None:
        """Remember a ruleset's canonical content and trace slots (once each); the first
        time, a ``ruleset-loaded`` record says so."""
        from ..version import __version__

        key = ruleset.hash
        if key in self._known_rulesets:
            return
        content = canonical_json(ruleset.source.content)
        slots = canonical_json([list(s) for s in ruleset.slots])
        with self.atomic():
            exists = "SELECT 1 FROM {} WHERE {} = ?{}"
            if not self.conn.execute(exists.format("rulesets", "hash", ""), (key,)).fetchone():
                self.conn.execute("INSERT INTO rulesets (hash, name, version, content, "
                                  "stored_at) VALUES (?, ?, ?, ?, ?)",
                                  (key, ruleset.name, ruleset.version, content, _now()))
            new = not self.conn.execute(
                exists.format("trace_slots", "ruleset_hash", " AND engine_version = ?"),
                (key, __version__)).fetchone()
            if new:
                # The slots (what a stored trace's numbers mean) are attested by a chained
                # record, so that changing them is caught by verify like anything else.
                self.conn.execute("INSERT INTO trace_slots (ruleset_hash, engine_version, "
                                  "slots) VALUES (?, ?, ?)", (key, __version__, slots))
                # ... and so is the dictionary its decision bodies are compressed against.
                body = canonical_json({"event": "ruleset-loaded", "name": ruleset.name,
                                       "version": ruleset.version, "hash": key,
                                       "engine_version": __version__,
                                       "slots_sha256": sha256_hex_text(slots),
                                       "body_dictionary": self._keep_dictionary(WRITING)})
                self._append_locked([NewRecord("ruleset-loaded", body,
                                               ruleset_name=ruleset.name,
                                               ruleset_version=ruleset.version,
                                               ruleset_hash=key)])
        self._known_rulesets.add(key)

    def append(self, records: Iterable[NewRecord], *,
               also: Callable[[sqlite3.Connection, list[tuple[int, str]]], None] | None = None
               ) -> list[tuple[int, str]]:
        """Append records in one transaction; returns their (seq, hash). ``also(conn,
        appended)`` runs inside that transaction, for rows that must commit with the records
        or not at all (the HTTP service's idempotency keys)."""
        records = list(records)
        if not records:
            return []
        with self.atomic():
            appended = self._append_locked(records)
            if also is not None:
                also(self.conn, appended)
            return appended

    def append_numbered(self, build: Callable[[int], NewRecord]) -> tuple[int, str]:
        """Append the record ``build(seq)`` makes knowing the number it will get (for a
        body that names itself, such as a limit request's id), in one transaction, so that
        a concurrent writer cannot take that number first. Returns its (seq, hash). The
        record's body is text (a compressed one may bring its dictionary's record first)."""
        with self.atomic():
            head = self.conn.execute(
                "SELECT seq FROM records ORDER BY seq DESC LIMIT 1").fetchone()
            seq = (head[0] if head else 0) + 1
            record = build(seq)
            if record.body.__class__ is not str:
                raise AuditError("append_numbered takes a record with a text body")
            return self._append_locked([record])[0]

    def _append_locked(self, records: list[NewRecord]) -> list[tuple[int, str]]:
        self._store_dictionaries(records)
        head = self.conn.execute(
            "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = head if head else (0, genesis(self.conn))
        recorded_at = _now()  # the records of one transaction are appended at one time
        params, appended = [], []  # params: the rows' values, one after the other
        for r in records:
            seq += 1
            # In HEADER_ORDER, the order the INSERT names the columns in.
            header = {"as_of": r.as_of, "batch_id": r.batch_id, "batch_row": r.batch_row,
                      "body_sha256": r.body_sha256 or sha256_hex_text(r.body),
                      "credit_limit": r.credit_limit, "customer_id": r.customer_id,
                      "decision_id": r.decision_id, "grade": r.grade, "kind": r.kind,
                      "outcome": r.outcome, "prev_hash": prev, "recorded_at": recorded_at,
                      "ruleset_hash": r.ruleset_hash, "ruleset_name": r.ruleset_name,
                      "ruleset_version": r.ruleset_version, "seq": seq}
            digest = header_hash(header)
            params += header.values()
            params.append(r.body)
            params.append(digest)
            appended.append((seq, digest))
            prev = digest
        step = ROWS_PER_INSERT * RECORD_WIDTH
        for start in range(0, len(params), step):
            chunk = params[start:start + step]
            self.conn.execute(_insert_records_sql(len(chunk) // RECORD_WIDTH), chunk)
        return appended

    def _store_dictionaries(self, records: list[NewRecord]) -> None:
        """Keep the dictionary each compressed body names. Usually the ``ruleset-loaded``
        record before it attests it; in a trail whose rulesets were loaded before format
        2, a ``dictionary-loaded`` record does, chained before the first body needing it."""
        needed = {dictionary_id(r.body) for r in records if r.body.__class__ is bytes}
        for dict_id in needed - self._known_dictionaries:
            attested = self._keep_dictionary(dict_id)
            if attested_dictionary_digest(self.conn, dict_id) is None:
                body = canonical_json({"event": "dictionary-loaded",
                                       "body_dictionary": attested})
                self._append_locked([NewRecord("dictionary-loaded", body)])
            self._known_dictionaries.add(dict_id)

    def _keep_dictionary(self, dict_id: int) -> dict:
        """Store shipped dictionary ``dict_id`` in the file unless it is there; returns
        what a record attests of it, ``{"id", "sha256"}``."""
        if dict_id not in SHIPPED:
            raise AuditError(f"{self.path}: a body names dictionary {dict_id}, which this "
                             "engine does not ship")
        content = shipped_dictionary(dict_id)
        digest = dictionary_digest(content)
        row = self.conn.execute("SELECT sha256 FROM body_dictionaries WHERE id = ?",
                                (dict_id,)).fetchone()
        if row is None:
            self.conn.execute("INSERT INTO body_dictionaries (id, sha256, content, stored_at) "
                              "VALUES (?, ?, ?, ?)", (dict_id, digest, content, _now()))
        elif row[0] != digest:
            raise AuditError(f"{self.path}: its body dictionary {dict_id} is not the one "
                             "this engine ships under that id")
        return {"id": dict_id, "sha256": digest}

    # -- reading ------------------------------------------------------------------------
    def body(self, row: dict) -> dict:
        """The whole body of a record row (``body`` and header columns), either format."""
        return self.read_body(row)[1]

    def read_body(self, row: dict, ordered: bool = True) -> tuple[str, dict]:
        """The JSON a record row's body holds (``BodyReader.read``) and its whole body."""
        try:
            return self.bodies.read(row, ordered)
        except BodyError as exc:
            raise AuditError(f"{self.path}: record {row.get('seq')}: {exc}") from None

    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the latest record, or None for an empty trail."""
        row = self.conn.execute("SELECT seq, hash FROM records ORDER BY seq DESC "
                                "LIMIT 1").fetchone()
        return (row[0], row[1]) if row else None

    def record(self, ref: str) -> dict:
        """One record by sequence number or decision id (the latest with that id)."""
        if is_seq(ref):
            row = self.conn.execute("SELECT * FROM records WHERE seq = ?", [int(ref)])
        else:
            row = self.conn.execute("SELECT * FROM records WHERE decision_id = ? ORDER BY seq "
                                  "DESC LIMIT 1", [ref])
        found = _dicts(row)
        if not found:
            raise AuditError(f"no audit record {ref} in {self.path}")
        return found[0]

    def count_with_decision_id(self, decision_id: str) -> int:
        return self.conn.execute("SELECT count(*) FROM records WHERE decision_id = ?",
                                 (decision_id,)).fetchone()[0]

    def ruleset_content(self, ruleset_hash: str) -> dict:
        """The stored content of a ruleset, by hash."""
        row = self.conn.execute("SELECT content FROM rulesets WHERE hash = ?",
                                (ruleset_hash,)).fetchone()
        if row is None:
            raise AuditError(f"ruleset {ruleset_hash[:16]} is not stored in {self.path}")
        return json.loads(row[0])

    def dictionary(self, dict_id: int) -> bytes:
        """Body dictionary ``dict_id`` as this file keeps it, checked against the digest the
        chain attests for it."""
        try:
            content = stored_dictionary(self.conn, dict_id)
        except BodyError as exc:
            raise AuditError(f"{self.path}: {exc}") from None
        if dictionary_digest(content) != attested_dictionary_digest(self.conn, dict_id):
            raise AuditError(f"{self.path}: body dictionary {dict_id} was altered (run "
                             "'credit audit verify')")
        return content

    def trace_slots(self, ruleset_hash: str, engine_version: str) -> list[list]:
        """What the slot numbers of a stored trace mean, for that ruleset and engine,
        checked against the digest its ``ruleset-loaded`` record attests."""
        row = self.conn.execute("SELECT slots FROM trace_slots WHERE ruleset_hash = ? AND "
                                "engine_version = ?", (ruleset_hash, engine_version)).fetchone()
        if row is None:
            raise AuditError(f"no trace slots for ruleset {ruleset_hash[:16]} and engine "
                             f"{engine_version} in {self.path}")
        if attested_slots_digest(self.conn, ruleset_hash, engine_version) != \
                sha256_hex_text(row[0]):
            raise AuditError(f"the trace slots of ruleset {ruleset_hash[:16]} were altered "
                             "(run 'credit audit verify')")
        return json.loads(row[0])

    def iter_rows(self, sql: str, params: Iterable = ()) -> Iterator[dict]:
        """Rows of a read query as dicts, streamed."""
        cursor = self.conn.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(names, row, strict=True))




def is_seq(ref: str) -> bool:
    """Whether a record reference is a sequence number (ASCII digits SQLite can hold; "²"
    is a digit to Python, and twenty digits overflow)."""
    return ref.isascii() and ref.isdigit() and len(ref) <= 18


def _dicts(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
