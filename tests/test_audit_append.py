"""Appending records: many rows an INSERT, the statement journal in memory, and the
record hash written with orjson (``chain.header_hash``). These tests hold the fast ways to
the plain ones: the rows and hashes a one-at-a-time, canonical append would give, the
append-only triggers still refusing, and ``header_hash`` equal to ``record_hash`` on the
values where orjson and ``header_json`` could part."""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3
import sys

import pytest

from engine.audit.chain import HEADER_FIELDS, header_hash, record_hash
from engine.audit.store import ROWS_PER_INSERT, WRITER_CACHE_KIB, AuditStore, NewRecord
from tests.audit_helpers import ALL_COLUMNS, rows

# More than two statements' worth, the last one short.
COUNT = 2 * ROWS_PER_INSERT + 7


def numbered(i: int) -> NewRecord:
    """A decision-like record whose every header column says which record it is."""
    return NewRecord("decision", f'{{"n":{i}}}', decision_id=f"d-{i}", customer_id=f"C-{i}",
                     as_of=f"2026-01-{1 + i % 28:02d}", ruleset_name=f"name-{i}",
                     ruleset_version=f"v{i}", ruleset_hash=f"h{i}", outcome=f"o{i}",
                     grade=f"g{i}", credit_limit=f"{i}.00", batch_id=f"b-{i}", batch_row=i)


@pytest.fixture
def trail(tmp_path):
    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        appended = store.append(numbered(i) for i in range(COUNT))
    return db, appended


def test_records_written_many_to_a_statement_land_in_their_own_columns(trail):
    db, appended = trail
    stored = rows(db)
    assert [(r["seq"], r["hash"]) for r in stored] == appended
    assert [r["seq"] for r in stored] == list(range(1, COUNT + 1))
    for i, row in enumerate(stored):
        record = numbered(i)
        given = {key: value for key, value in record._asdict().items() if key != "body_sha256"}
        assert {key: row[key] for key in given} == given


def assert_chained(db) -> None:
    """Each record's hash is the canonical hash of its header, and links to the one
    before. (Not verify_file: these bodies do not say what their columns say.)"""
    previous = None
    for row in rows(db):
        assert row["hash"] == record_hash(row)
        assert previous is None or row["prev_hash"] == previous
        previous = row["hash"]


def test_each_record_hash_is_the_canonical_hash_of_its_header_and_chains(trail):
    db, _ = trail
    assert_chained(db)


def test_a_record_refused_among_many_leaves_the_whole_append_out(trail):
    db, appended = trail
    records = [numbered(i) for i in range(ROWS_PER_INSERT + 3)]
    records[ROWS_PER_INSERT - 1] = records[ROWS_PER_INSERT - 1]._replace(kind=None)
    with AuditStore(db) as store:
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            store.append(records)
        assert store.head() == appended[-1]
        store.append([numbered(COUNT)])
    assert_chained(db)


def test_a_writing_store_keeps_its_statement_journal_in_memory_a_reading_one_not(trail):
    db, _ = trail
    settings = "SELECT * FROM pragma_temp_store, pragma_cache_size"
    with AuditStore(db, create=False) as store:
        store.record("1")
        assert store.conn.execute(settings).fetchone() == (0, -2000)  # SQLite's defaults
        store.append([numbered(COUNT)])
        assert store.conn.execute(settings).fetchone() == (2, -WRITER_CACHE_KIB)  # memory


def test_the_writer_still_refuses_insert_or_replace_on_an_existing_seq(trail):
    # From the writer's own connection, its statement journal in memory: a statement adding
    # a new record and replacing an old one is refused whole, the new record with it.
    db, _ = trail
    before = rows(db)
    added = dict(before[-1], seq=COUNT + 2, grade="CCC")  # after the next append
    replacing = dict(before[4], grade="CCC")
    marks = ", ".join("?" * len(ALL_COLUMNS))
    with AuditStore(db, create=False) as store:
        store.append([numbered(COUNT)])  # the store has written: its journal is in memory
        # In a transaction that then commits, so that only the statement journal can take
        # the first row back out.
        store.conn.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(sqlite3.IntegrityError, match="audit records are append-only"):
                store.conn.execute(
                    f"INSERT OR REPLACE INTO records ({', '.join(ALL_COLUMNS)}) VALUES "
                    f"({marks}), ({marks})",
                    [added[c] for c in ALL_COLUMNS] + [replacing[c] for c in ALL_COLUMNS])
        finally:
            store.conn.execute("COMMIT")
    after = rows(db)
    assert after[:COUNT] == before
    assert after[COUNT]["grade"] == "g" + str(COUNT)  # the append's, not the forged one
    assert len(after) == COUNT + 1
    assert_chained(db)


# --- header_hash against record_hash ---------------------------------------------------

EVERY_CHARACTER = "".join(chr(c) for c in range(sys.maxunicode + 1)
                          if not 0xD800 <= c <= 0xDFFF)
TEXTS = ["", '"', "\\", '\\"', 'd-"quoted"\\id', "\x00\x01\x1f\x7f", "\b\f\n\r\t", "é中😀",
         "Müller & Søn", "\u2028\u2029", "null", "-0", "1e999", EVERY_CHARACTER]
INTEGERS = [0, -1, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**63) - 1, 10**40]


def header(**values) -> dict:
    """A whole header: ``values``, the rest null, in table order (not the hash's)."""
    assert set(values) <= set(HEADER_FIELDS)
    return {key: values.get(key) for key in HEADER_FIELDS}


@pytest.mark.parametrize("text", TEXTS)
def test_header_hash_is_the_canonical_hash_for_any_text(text):
    h = header(seq=1, kind=text, decision_id=text, customer_id=text, prev_hash=text)
    assert header_hash(h) == record_hash(h)


@pytest.mark.parametrize("number", INTEGERS)
def test_header_hash_is_the_canonical_hash_for_any_integer(number):
    h = header(seq=number, kind="event", batch_row=number)
    assert header_hash(h) == record_hash(h)


def test_header_hash_of_an_all_null_header_and_of_any_key_order():
    empty = header()
    assert header_hash(empty) == record_hash(empty)
    full = header(**{key: f"{key}-é" for key in HEADER_FIELDS} | {"seq": 7, "batch_row": 0})
    assert header_hash(dict(reversed(full.items()))) == header_hash(full) == record_hash(full)


class Text(str):
    pass


@pytest.mark.parametrize("value", [1.5, float("inf"), True, b"bytes", decimal.Decimal("1"),
                                   dt.date(2026, 1, 1), Text("a subclass of str")])
def test_a_value_no_header_holds_is_refused_as_the_canonical_way_refuses_it(value):
    h = header(seq=1, kind="decision", batch_row=value)
    with pytest.raises(TypeError, match="an audit header field holds"):
        record_hash(h)
    with pytest.raises(TypeError, match="an audit header field holds"):
        header_hash(h)


def test_a_lone_surrogate_is_refused_as_the_canonical_way_refuses_it():
    h = header(seq=1, kind="\ud800")
    with pytest.raises(UnicodeEncodeError):
        record_hash(h)
    with pytest.raises(UnicodeEncodeError):
        header_hash(h)
