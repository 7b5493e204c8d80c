"""The hash chain of the audit trail: how a record's hash is made, and how a whole trail
is verified.

A record's hash is the SHA-256 of the canonical JSON of its header: every indexed column
(sequence number, kind, ids, dates, ruleset, outcome, grade, limit, batch), the SHA-256 of
its body, and the previous record's hash. Changing, removing, inserting or reordering a
record therefore breaks the chain at that record; cutting the trail short is caught by
comparing with a head (sequence number and hash) noted elsewhere.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring

import orjson

from ..canonical import canonical_json, sha256_hex_text
from .body_codec import ELIDED, FORMAT_2, dictionary_digest

FORMAT_2_MARK = bytes([FORMAT_2])
GENESIS = "0" * 64  # the first record's previous hash in a trail whose meta is not covered


def genesis(conn: sqlite3.Connection) -> str:
    """What the first record of this trail chains to: a digest of its ``meta`` table, so
    that changing meta breaks the chain like changing a record does. A trail made before
    the redaction key left the file (its meta holds 'salt') chains to GENESIS instead."""
    meta = dict(conn.execute("SELECT key, value FROM meta ORDER BY key"))
    if "salt" in meta:
        return GENESIS
    text = "credit-rules trail meta " + canonical_json(meta)
    return sha256_hex_text(text)
# The columns a record hash covers, in table order; hashed in sorted (canonical) order.
HEADER_FIELDS = ("seq", "kind", "decision_id", "customer_id", "as_of", "recorded_at",
                 "ruleset_name", "ruleset_version", "ruleset_hash", "outcome", "grade",
                 "credit_limit", "batch_id", "batch_row", "body_sha256", "prev_hash")
HEADER_ORDER = tuple(sorted(HEADER_FIELDS))  # as a record hash reads them, and append writes them


def header_json(header: dict) -> str:
    """The canonical JSON of a record header (sorted keys, no spaces); the same text
    ``canonical_json`` gives, written directly because verify does it a million times."""
    return _header_json([header[key] for key in HEADER_ORDER])


_TEMPLATE = "{" + ",".join(f'"{key}":%s' for key in HEADER_ORDER) + "}"


def _header_json(values: list) -> str:
    """``header_json`` for the header's values in ``HEADER_ORDER`` order."""
    texts = []
    for value in values:
        cls = value.__class__
        if cls is str:
            texts.append(encode_basestring(value))
        elif value is None:
            texts.append("null")
        elif cls is int:
            texts.append(str(value))
        else:
            raise TypeError(f"an audit header field holds {cls.__name__}")
    return _TEMPLATE % tuple(texts)


def record_hash(header: dict) -> str:
    """The hash a record with this header must carry."""
    return sha256_hex_text(header_json(header))


# The classes of header value orjson writes exactly as _header_json does (see header_hash).
_ORJSON_CANONICAL = frozenset((str, int, type(None)))


def header_hash(header: dict) -> str:
    """``record_hash`` of a header holding exactly the header's fields (how append makes
    a record's hash), in half the time: for text, integers and null, orjson writes
    the very text ``header_json`` writes (the same escapes: tests/test_audit_append.py and
    tests/test_audit_verify_fast.py). Any other value, an integer beyond 64 bits or a lone
    surrogate, goes the canonical way, which refuses it as it always did."""
    if _ORJSON_CANONICAL.issuperset(map(type, header.values())):
        try:
            return hashlib.sha256(orjson.dumps(header, option=orjson.OPT_SORT_KEYS)
                                  ).hexdigest()
        except orjson.JSONEncodeError:
            pass
    return record_hash(header)


@dataclass
class VerifyReport:
    """The outcome of walking the chain: how many records were checked, and the first
    one that failed, with why."""

    checked: int
    failed_seq: int | None = None
    reason: str | None = None
    head: tuple[int, str] | None = None
    failed_ruleset: str | None = None
    failed_dictionary: int | None = None  # a body dictionary that was changed
    warnings: tuple[str, ...] = ()  # what is not wrong, but not as protected as it should be

    @property
    def ok(self) -> bool:
        return self.failed_seq is None and self.failed_ruleset is None and \
            self.failed_dictionary is None




PARALLEL_FROM = 200_000  # records; below this one process is quicker than starting more
RANGE = 100_000  # records a worker checks at a time (so that progress can be told)


def verify_file(path: str, expected_head: tuple[int, str] | None = None,
                workers: int | None = None, statement: dict | None = None,
                on_progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Verify the audit file at ``path``: the chain in ``workers`` processes (default: one
    per core for long trails, each walking ranges of RANGE records), then rulesets and the
    noted head; with a signed ``statement`` (its signature checked by the caller), that
    the trail still holds its first ``size`` records (``checkpoints.extends``).
    ``on_progress`` hears how many records are checked so far."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        first, last = _seq_range(conn)
        if first < 1:
            return _before_first(first)
        workers = workers or (os.cpu_count() or 1 if last >= PARALLEL_FROM else 1)
        if workers <= 1 or last < 2 * workers:
            report = verify_range(conn, 1, last, on_progress)
        else:
            step = min(RANGE, -(-last // workers))
            ranges = [(path, lo, min(lo + step - 1, last)) for lo in range(1, last + 1, step)]
            parts = []
            # Imported here: process pools cost a one-shot command 50 ms to import.
            from concurrent.futures import ProcessPoolExecutor

            from ..parallel import worker_context

            with ProcessPoolExecutor(max_workers=workers, mp_context=worker_context()) as pool:
                for part in pool.map(_verify_range_in_file, *zip(*ranges, strict=True)):
                    parts.append(part)
                    if on_progress:
                        on_progress(sum(p.checked for p in parts))
            report = _combine(parts)
        report = _finish(conn, report, expected_head)
        if report.ok and statement is not None:
            from .checkpoints import extends  # signatures: imported when a head is signed

            why = extends(conn, statement)
            if why:
                report = VerifyReport(report.checked, statement["size"], why, report.head)
        return dataclasses.replace(report, warnings=_warnings(conn))
    finally:
        conn.close()


APPEND_ONLY_TABLES = ("records", "rulesets", "trace_slots", "meta", "body_dictionaries",
                      "idempotency_keys")


def _warnings(conn: sqlite3.Connection) -> tuple[str, ...]:
    """What verify should say even when the chain holds."""
    found = []
    triggers = {name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    tables = {name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = sorted({f"{table}_no_{action}" for table in APPEND_ONLY_TABLES if table in tables
                      for action in ("update", "delete", "replace")} - triggers)
    if missing:
        found.append(f"the append-only triggers are missing ({', '.join(missing)}): "
                     "something removed them, and the file no longer refuses changes")
    if conn.execute("SELECT 1 FROM meta WHERE key = 'salt'").fetchone():
        found.append("this trail keeps its old redaction salt in its meta table, which the "
                     "chain does not cover (made before the key moved out of the file): "
                     "hand out copies without it")
    return tuple(found)


def _seq_range(conn: sqlite3.Connection) -> tuple[int, int]:
    low, high = conn.execute("SELECT min(seq), max(seq) FROM records").fetchone()
    return (1, 0) if low is None else (low, high)


def _before_first(seq: int) -> VerifyReport:
    return VerifyReport(0, seq, f"record {seq} should not exist: sequence numbers start at "
                        "1 (a record was put before the first)")


def _verify_range_in_file(path: str, first: int, last: int) -> VerifyReport:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return verify_range(conn, first, last)
    finally:
        conn.close()


def _combine(parts: list[VerifyReport]) -> VerifyReport:
    """One report from the reports of consecutive ranges: the first failure wins."""
    checked = 0
    for part in parts:
        if not part.ok:
            return VerifyReport(checked + part.checked, part.failed_seq, part.reason)
        checked += part.checked
    return VerifyReport(checked, head=parts[-1].head if parts else None)


def verify_range(conn: sqlite3.Connection, first: int, last: int,
                 on_progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Check records ``first``..``last``: consecutive numbers, each linked to the one
    before (for ``first``, to the stored record before it), bodies and fields unchanged,
    header columns what the bodies say."""
    if first > last:
        return VerifyReport(0)
    prev_hash = genesis(conn)
    if first > 1:
        row = conn.execute("SELECT hash FROM records WHERE seq = ?", (first - 1,)).fetchone()
        if row is None:
            return VerifyReport(0, first - 1, f"record {first - 1} is missing (records were "
                                "removed or renumbered)")
        prev_hash = row[0]
    start, prev_hash = _walk_while_intact(conn, first, last, prev_hash, on_progress)
    if start > last:
        return VerifyReport(last - first + 1, head=(last, prev_hash))
    return _walk_row_by_row(conn, first, start, last, prev_hash, on_progress)


def _walk_while_intact(conn: sqlite3.Connection, first: int, last: int, prev_hash: str,
                       on_progress: Callable[[int], None] | None) -> tuple[int, str]:
    """Walk records ``first``.. while each passes every check of ``_walk_row_by_row`` and
    its header columns agree with its body: the first record not vouched for (``last + 1``
    when all are) and the hash of the record before it. It names no failure: the walk row
    by row does, from that record on.

    The checks run in an SQL function that SQLite calls on each record in turn, in a query
    that stops at the first record the function refuses. A function gets its arguments
    without the interpreter lock being let go and taken back around each one, as Python
    3.11's sqlite3 does around each column of a result row: a record costs about a quarter
    less this way (6.6 -> 4.8 us of CPU for a decision)."""
    sha256, dumps, fast_types = hashlib.sha256, orjson.dumps, _ORJSON_CANONICAL
    expected_seq: int | None = first
    stopped_at: int | None = None
    raised: BaseException | None = None
    report_at = first + 9_999 if on_progress is not None else None

    def stop() -> int:
        nonlocal expected_seq, stopped_at
        if stopped_at is None:
            stopped_at = expected_seq
        expected_seq = None  # no later record is vouched for, whatever order SQLite calls in
        return 1

    def refuses(as_of, batch_id, batch_row, body_sha256, credit_limit, customer_id,
                decision_id, grade, kind, outcome, prev_hash_column, recorded_at, ruleset_hash,
                ruleset_name, ruleset_version, seq, digest, body, wrong_column) -> int:
        nonlocal expected_seq, prev_hash, report_at, raised
        try:
            if seq != expected_seq or prev_hash_column != prev_hash or \
                    wrong_column is not None:
                return stop()
            cls = body.__class__
            if cls is str:
                body = body.encode()
            elif cls is not bytes or body[:1] != FORMAT_2_MARK or kind != "decision":
                return stop()
            if sha256(body).hexdigest() != body_sha256:
                return stop()
            # The header's canonical JSON: for text, integers and null, orjson writes the
            # very text _header_json writes (tests/test_audit_verify_fast.py); any other
            # value (a float, which orjson writes, an infinite one as null; bytes) is left
            # to the walk row by row. The dict is written out in HEADER_ORDER order (a dict
            # display is built in one step, twice as fast as from zip(HEADER_ORDER, row)).
            header = {
                "as_of": as_of, "batch_id": batch_id, "batch_row": batch_row,
                "body_sha256": body_sha256, "credit_limit": credit_limit,
                "customer_id": customer_id, "decision_id": decision_id, "grade": grade,
                "kind": kind, "outcome": outcome, "prev_hash": prev_hash_column,
                "recorded_at": recorded_at, "ruleset_hash": ruleset_hash,
                "ruleset_name": ruleset_name, "ruleset_version": ruleset_version, "seq": seq}
            if not fast_types.issuperset(map(type, header.values())) or \
                    sha256(dumps(header)).hexdigest() != digest:
                return stop()
            prev_hash = digest
            expected_seq += 1
            if seq == report_at:
                on_progress(seq - first + 1)
                report_at += 10_000
            return 0
        except BaseException as exc:  # a Ctrl-C, or on_progress's error: raised below
            raised = exc
            return stop()

    conn.create_function("credit_rules_refuses", 19, refuses)
    try:
        cursor = conn.execute("SELECT seq FROM records WHERE seq >= ? AND seq <= ? AND "
                              f"credit_rules_refuses({_RECORD_COLUMNS}) ORDER BY seq LIMIT 1",
                              (first, last))
        cursor.fetchone()
        cursor.close()
    except sqlite3.Error:
        stop()  # a value SQLite cannot hand over, say: the walk row by row names it
    finally:
        conn.create_function("credit_rules_refuses", 19, None)  # lets go of the closure
    if raised is not None:
        raise raised
    if stopped_at is None:
        stopped_at = expected_seq
    return stopped_at, prev_hash


def _walk_row_by_row(conn: sqlite3.Connection, first: int, start: int, last: int,
                     prev_hash: str, on_progress: Callable[[int], None] | None
                     ) -> VerifyReport:
    """The chain walk of records ``start``..``last`` of the range ``first``..``last``
    (``prev_hash`` is the hash of record ``start - 1``), reading each record as a row and
    naming the first that fails."""
    keys, width = HEADER_ORDER, len(HEADER_ORDER)
    seq_index, prev_index = width - 1, HEADER_ORDER.index("prev_hash")
    body_sha_index, kind_index = HEADER_ORDER.index("body_sha256"), HEADER_ORDER.index("kind")
    sha256 = hashlib.sha256
    # Progress is told every 10,000 records of the range, as if the walk began at first.
    report_at = start + (first + 9_999 - start) % 10_000 if on_progress is not None else None
    expected_seq, contradicted = start, None
    conn.text_factory = _text_or_bytes  # a changed trail may hold text that is not UTF-8
    for row in conn.execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE seq >= ? AND "
                            "seq <= ? ORDER BY seq", (start, last)):
        seq, digest, body = row[seq_index], row[width], row[width + 1]
        if seq != expected_seq:
            return VerifyReport(expected_seq - first, expected_seq,
                                f"record {expected_seq} is missing: record {seq} follows "
                                f"record {expected_seq - 1} (records were removed or "
                                "renumbered)")
        if row[prev_index] != prev_hash:
            if seq == 1:
                return VerifyReport(seq - first, seq, "its previous-record hash does not "
                                    "match the trail's meta table (meta was changed, or "
                                    "records were put before it)")
            return VerifyReport(seq - first, seq, "its previous-record hash does not match "
                                f"record {seq - 1} (records were removed, inserted or "
                                "reordered before it)")
        cls = body.__class__
        if cls is str:
            body = body.encode()
        elif cls is not bytes or body[:1] != FORMAT_2_MARK or row[kind_index] != "decision":
            return VerifyReport(seq - first, seq, "its body is in no format credit-rules "
                                "writes for its kind")
        if sha256(body).hexdigest() != row[body_sha_index]:
            return VerifyReport(seq - first, seq, "its body was changed (the body's SHA-256 "
                                "does not match)")
        try:  # (header_hash names a value of the wrong type)
            actual = header_hash(dict(zip(keys, row[:width], strict=True)))
        except TypeError as exc:
            return VerifyReport(seq - first, seq, f"a field has the wrong type ({exc})")
        if actual != digest:
            return VerifyReport(seq - first, seq, "its fields were changed (the record "
                                "hash does not match)")
        if row[width + 2] is not None and contradicted is None:
            contradicted = seq, row[width + 2]
        prev_hash = digest
        expected_seq += 1
        if seq == report_at:
            on_progress(seq - first + 1)
            report_at += 10_000
    if expected_seq <= last:
        return VerifyReport(expected_seq - first, expected_seq, f"record {expected_seq} is "
                            "missing (records were removed)")
    if contradicted is not None:
        seq, column = contradicted
        if column == "body":
            return VerifyReport(seq - first, seq, "its body is not JSON (the record was "
                                "rewritten and the chain recomputed)")
        return VerifyReport(seq - first, seq, f"its {column} column is not what its body says "
                            "(the header was changed and the chain recomputed)")
    return VerifyReport(expected_seq - first, head=(last, prev_hash))


def _text_or_bytes(data: bytes) -> str | bytes:
    """A text value as Python's sqlite3 reads it, or, when it is not UTF-8 (written by
    something other than credit-rules), its bytes, which the walk refuses as a field of the
    wrong type instead of stopping on sqlite3's decoding error."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data


# Where the body says what each header column of a record kind holds (a JSON path; an
# override's customer is the one its 'added' event names). A listed column a kind's body
# says nothing of must be empty: audit list and stats read these columns, not the bodies.
# (An override whose body is not JSON is passed over, not read: that would stop the query.)
_OVERRIDE_CUSTOMER = ("(SELECT a.customer_id FROM records a WHERE a.kind = 'override' AND "
                      "CASE WHEN json_valid(a.body) THEN "
                      "json_extract(a.body, '$.event') = 'added' AND "
                      "json_extract(a.body, '$.id') = json_extract(records.body, '$.id') "
                      "END ORDER BY a.seq LIMIT 1)")
# A format-2 decision body leaves these out (``body_codec.ELIDED``): its header alone says
# them, so there is nothing to compare.
_RULESET = {"ruleset_name": "$.ruleset.name", "ruleset_version": "$.ruleset.version",
            "ruleset_hash": "$.ruleset.hash"}  # the order-time records name their ruleset
HEADER_SOURCES: dict[str, dict[str, str]] = {
    "decision": {column: "$." + ".".join(path) for column, path in ELIDED
                 if path != ("decision", "as_of")},
    "action": {"customer_id": "$.customer_id", "as_of": "$.date", "outcome": "$.action"},
    "event": {"customer_id": "$.customer_id", "as_of": "$.occurred_at"},
    "override": {"customer_id": _OVERRIDE_CUSTOMER},
    "row-failed": {"customer_id": "$.customer_id", "batch_id": "$.batch_id",
                   "batch_row": "$.row"},
    "batch": {"batch_id": "$.batch_id", "as_of": "$.as_of"},
    # The anchor of a Spark run's partitioned audit (engine.spark): its manifest's SHA-256.
    "spark-run": {"batch_id": "$.batch_id", "as_of": "$.as_of", **_RULESET},
    "monitor-run": {"as_of": "$.as_of"},
    "ruleset-loaded": {"ruleset_name": "$.name", "ruleset_version": "$.version",
                       "ruleset_hash": "$.hash"},
    "dictionary-loaded": {},
    "order-check": {"customer_id": "$.order.customer_id", "as_of": "$.as_of",
                    "outcome": "$.result.outcome", **_RULESET},
    "group": {"as_of": "$.as_of", **_RULESET},
    **{kind: {"customer_id": "$.customer_id", "as_of": "$.as_of", "outcome": "$.event",
              **_RULESET} for kind in ("hold-lifted", "limit-request", "order-release")},
    # A dunning letter or an account statement written (engine.dunning): its file's SHA-256.
    "letter": {"customer_id": "$.customer_id", "as_of": "$.as_of", "outcome": "$.document",
               **_RULESET},
    "statement": {"customer_id": "$.customer_id", "as_of": "$.as_of", **_RULESET},
}
LISTED_COLUMNS = ("customer_id", "decision_id", "as_of", "outcome", "grade", "credit_limit")


def _wrong_column_sql() -> str:
    """An expression naming the first header column of a record that is not what its body
    says ('body' for a text body that is not JSON, 'kind' for a kind credit-rules does not
    write), NULL when every one agrees. The kind is compared once, then only its own
    columns (a flat CASE tried every kind's columns on every record: three times slower
    over a trail of events). A body that is not text is left alone: a format-2 decision
    body holds none of its header's values, and any other is a failure of the chain walk,
    which verify_range names first; no JSON function reads one, so none can stop the
    query."""
    kinds = []
    for kind, sources in HEADER_SOURCES.items():
        cases = []
        for column in (*sources, *(c for c in LISTED_COLUMNS if c not in sources)):
            source = sources.get(column)
            if source is None:
                test = f"{column} IS NOT NULL"
            elif source.startswith("$"):
                test = f"{column} IS NOT json_extract(body, '{source}')"
            else:
                test = f"{column} IS NOT {source}"
            cases.append(f"WHEN {test} THEN '{column}'")
        kinds.append(f"WHEN '{kind}' THEN CASE {' '.join(cases)} END")
    return (f"CASE WHEN typeof(body) != 'text' THEN NULL WHEN NOT json_valid(body) THEN "
            f"'body' ELSE CASE kind {' '.join(kinds)} ELSE 'kind' END END")


_WRONG_COLUMN = _wrong_column_sql()
# What the chain walk reads of a record, in one pass (a second pass over the bodies read the
# whole file twice): the header columns in HEADER_ORDER order (seq last), the record hash,
# the body, and the first header column the body contradicts.
_RECORD_COLUMNS = f"{', '.join(HEADER_ORDER)}, hash, body, {_WRONG_COLUMN}"


def _finish(conn: sqlite3.Connection, report: VerifyReport,
            expected_head: tuple[int, str] | None) -> VerifyReport:
    """After the chain: the stored rulesets, then the noted head."""
    if not report.ok:
        return report
    head, checked = report.head, report.checked
    for ruleset_hash, content in conn.execute("SELECT hash, content FROM rulesets"):
        if sha256_hex_text(content) != ruleset_hash:
            return VerifyReport(checked, None, "its stored content was changed (its SHA-256 "
                                "no longer matches)", head, failed_ruleset=ruleset_hash)
    for ruleset_hash, engine, slots in conn.execute(
            "SELECT ruleset_hash, engine_version, slots FROM trace_slots"):
        attested = attested_slots_digest(conn, ruleset_hash, engine)
        if sha256_hex_text(slots) != attested:
            return VerifyReport(checked, None, f"its trace slots for engine {engine} were "
                                "changed (they no longer match the digest its ruleset-loaded "
                                "record attests)", head, failed_ruleset=ruleset_hash)
    for dict_id, digest, content in _dictionaries(conn):
        if dictionary_digest(content) != digest or digest != attested_dictionary_digest(
                conn, dict_id):
            return VerifyReport(checked, None, "it was changed (it no longer matches the "
                                "digest the trail attests for it)", head,
                                failed_dictionary=dict_id)
    if expected_head is not None:
        seq, digest = expected_head
        if head is None or seq > head[0]:
            last = head[0] if head else 0
            return VerifyReport(checked, seq, f"the trail was cut short: record {seq} (the "
                                f"noted head) is gone, the last record is {last}", head)
        row = conn.execute("SELECT hash FROM records WHERE seq = ?", (seq,)).fetchone()
        if row[0] != digest:
            return VerifyReport(checked, seq, "it is not the noted head (its hash differs: "
                                "the trail was rewritten)", head)
    return report


def attested_slots_digest(conn: sqlite3.Connection, ruleset_hash: str,
                          engine_version: str) -> str | None:
    """The SHA-256 of the trace slots that the chain's ruleset-loaded record attests."""
    row = conn.execute(
        "SELECT json_extract(body, '$.slots_sha256') FROM records WHERE kind = "
        "'ruleset-loaded' AND ruleset_hash = ? AND json_extract(body, '$.engine_version') = ? "
        "ORDER BY seq LIMIT 1", (ruleset_hash, engine_version)).fetchone()
    return row[0] if row else None


def _dictionaries(conn: sqlite3.Connection) -> list[tuple[int, str, bytes]]:
    """The body dictionaries the file keeps (none in a file from before format 2)."""
    try:
        return conn.execute("SELECT id, sha256, content FROM body_dictionaries").fetchall()
    except sqlite3.OperationalError:
        return []


def attested_dictionary_digest(conn: sqlite3.Connection, dict_id: int) -> str | None:
    """The SHA-256 of body dictionary ``dict_id`` that the chain attests: the first
    ruleset-loaded (or, in a trail older than format 2, dictionary-loaded) record naming
    it."""
    row = conn.execute(
        "SELECT json_extract(body, '$.body_dictionary.sha256') FROM records WHERE kind IN "
        "('ruleset-loaded', 'dictionary-loaded') AND json_extract(body, "
        "'$.body_dictionary.id') = ? ORDER BY seq LIMIT 1", (dict_id,)).fetchone()
    return row[0] if row else None
