"""verify_range writes each record's header with orjson (a record costs half as much as
with _header_json); these tests hold that fast way to the canonical one on the values
where the two could part (escapes, every code point, the integers SQLite holds, null,
values of a type no header holds), and check that a changed record is still found at the
record and for the reason the canonical way gives. verify checks a trail in an SQL function
first (the fast walk) and reads rows one by one only from the first record it refuses:
the last tests hold the fast walk to the first changed record and to verify's progress."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import sys

import orjson
import pytest

from engine.audit import chain
from engine.audit.chain import HEADER_ORDER, _header_json, genesis, verify_file
from engine.audit.decision_records import decision_record
from engine.audit.store import AuditStore, NewRecord
from engine.canonical import canonical_json
from engine.decide.pipeline import decide
from engine.ruleset.loader import load_ruleset
from tests.audit_helpers import format_1_trail, rechain_from, rows, tamper
from tests.paths import DEFAULT_RULESET, ROOT

# Every code point a Python string read from SQLite can hold (no lone surrogates).
EVERY_CHARACTER = "".join(chr(c) for c in range(sys.maxunicode + 1)
                          if not 0xD800 <= c <= 0xDFFF)
EDGE_TEXTS = ["", '"', "\\", '\\"', "a\"b", "\x00\x01\x1f\x7f", "\b\f\n\r\t", "é中😀",
              "\u2028\u2029", "null", "-0", "1e999", EVERY_CHARACTER]
EDGE_INTEGERS = [0, -1, 2**63 - 1, -(2**63)]


def header_with(**values) -> list:
    """A header's values in HEADER_ORDER order: ``values``, the rest null."""
    return [values.get(key) for key in HEADER_ORDER]


@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_orjson_writes_the_canonical_header_for_any_text(text):
    values = header_with(kind=text, customer_id=text, seq=1)
    assert orjson.dumps(dict(zip(HEADER_ORDER, values, strict=True))) == \
        _header_json(values).encode("utf-8")


@pytest.mark.parametrize("number", EDGE_INTEGERS)
def test_orjson_writes_the_canonical_header_for_any_integer_sqlite_holds(number):
    values = header_with(kind="event", seq=number, batch_row=number)
    assert orjson.dumps(dict(zip(HEADER_ORDER, values, strict=True))) == \
        _header_json(values).encode("utf-8")


def test_orjson_writes_an_infinite_float_as_null_which_is_why_floats_go_the_slow_way():
    # The premise of the float test in verify_range: without it, a null column changed to
    # infinity would hash the same.
    assert orjson.dumps(float("inf")) == orjson.dumps(None) == b"null"
    with pytest.raises(TypeError, match="holds float"):
        _header_json(header_with(batch_row=float("inf")))


@pytest.fixture
def edge_trail(tmp_path):
    """Batch marks whose header columns hold each edge text and integer (a batch's body
    names its batch id; the ruleset columns and row number are the header's alone). The
    batch id leaves NUL out: SQLite's json_extract does not give a text holding one back
    whole, so verify would say the header and body differ."""
    db = tmp_path / "audit.db"
    records = []
    for i, text in enumerate(EDGE_TEXTS):
        number = EDGE_INTEGERS[i % len(EDGE_INTEGERS)]
        batch_id = text.replace("\x00", "")
        records.append(NewRecord("batch", canonical_json({"batch_id": batch_id}),
                                 batch_id=batch_id, ruleset_name=text,
                                 ruleset_version=text[:1], batch_row=number))
    with AuditStore(db) as store:
        store.append(records)
    return db


def test_a_trail_whose_headers_hold_edge_values_verifies(edge_trail):
    report = verify_file(str(edge_trail))
    assert report.ok, report.reason
    assert report.checked == len(EDGE_TEXTS)
    assert report.head == (len(EDGE_TEXTS), rows(edge_trail)[-1]["hash"])


def test_each_edge_header_hashes_the_same_the_fast_way(edge_trail):
    for row in rows(edge_trail):
        fast = orjson.dumps({key: row[key] for key in HEADER_ORDER})
        assert hashlib.sha256(fast).hexdigest() == row["hash"]


def change(db, sql: str, params=()) -> None:
    tamper(db, lambda conn: conn.execute(sql, params))


def failure(db) -> tuple[int | None, str | None]:
    report = verify_file(str(db))
    return report.failed_seq, report.reason


@pytest.mark.parametrize("infinity", ["9e999", "-9e999"])
def test_a_null_column_made_infinite_is_a_wrong_type_not_a_null(edge_trail, infinity):
    seq = len(EDGE_TEXTS) + 1
    with AuditStore(edge_trail) as store:
        store.append([NewRecord("batch", '{"batch_id":"B"}', batch_id="B")])
    change(edge_trail, f"UPDATE records SET batch_row = {infinity} WHERE seq = ?", (seq,))
    assert failure(edge_trail) == (seq, "a field has the wrong type (an audit header field "
                                        "holds float)")


def test_a_header_column_made_a_blob_is_a_wrong_type(edge_trail):
    change(edge_trail, "UPDATE records SET ruleset_name = CAST(ruleset_name AS BLOB) "
                       "WHERE seq = 3")
    assert failure(edge_trail) == (3, "a field has the wrong type (an audit header field "
                                      "holds bytes)")


# sqlite3 reports the argument it could not decode for the fast walk's SQL function as an
# unraisable exception (printed only with callback tracebacks on, as under pytest); the
# query then fails, and the walk row by row names the record.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("column", ["ruleset_name", "hash"])
def test_a_text_column_that_is_not_utf8_is_a_finding_not_a_crash(edge_trail, column):
    change(edge_trail, f"UPDATE records SET {column} = CAST(x'ff41' AS TEXT) WHERE seq = 3")
    seq, reason = failure(edge_trail)
    assert seq == 3
    assert reason == ("a field has the wrong type (an audit header field holds bytes)"
                      if column == "ruleset_name" else
                      "its fields were changed (the record hash does not match)")


@pytest.mark.parametrize(("seq", "forged"), [
    (5, 'a\\"b'),  # the text 'a"b' as JSON writes it: the header would read the same
    (5, "a\\u0022b"),
    (4, "\\\\"),
    (6, "\\u0000\\u0001\\u001f\x7f"),
])
def test_a_header_text_changed_to_its_own_escaped_form_is_found(edge_trail, seq, forged):
    change(edge_trail, "UPDATE records SET ruleset_name = ? WHERE seq = ?", (forged, seq))
    assert failure(edge_trail) == (seq, "its fields were changed (the record hash does not "
                                        "match)")


def test_a_changed_body_is_found_at_its_record(edge_trail):
    change(edge_trail, "UPDATE records SET body = ? WHERE seq = 2", ('{"batch_id":"\\\\"}',))
    assert failure(edge_trail) == (2, "its body was changed (the body's SHA-256 does not "
                                      "match)")


def test_a_changed_link_is_found_at_its_record(edge_trail):
    change(edge_trail, "UPDATE records SET prev_hash = ? WHERE seq = 7", ("0" * 64,))
    assert failure(edge_trail) == (7, "its previous-record hash does not match record 6 "
                                      "(records were removed, inserted or reordered before "
                                      "it)")


def test_two_records_swapped_are_found_at_the_first(edge_trail):
    def swap(conn):
        conn.execute("UPDATE records SET seq = -1 WHERE seq = 4")
        conn.execute("UPDATE records SET seq = 4 WHERE seq = 5")
        conn.execute("UPDATE records SET seq = 5 WHERE seq = -1")
    tamper(edge_trail, swap)
    assert failure(edge_trail) == (4, "its previous-record hash does not match record 3 "
                                      "(records were removed, inserted or reordered before "
                                      "it)")


def test_a_header_the_body_contradicts_is_named_after_the_whole_chain_holds(edge_trail):
    # The chain walk and the header-against-body check are one pass now: a contradiction
    # is told only when no record fails the chain, as when they were two.
    tamper(edge_trail, lambda conn: rechain_from(
        conn, 3, lambda row: row.update(batch_id="forged")))
    assert failure(edge_trail) == (3, "its batch_id column is not what its body says (the "
                                      "header was changed and the chain recomputed)")
    change(edge_trail, "UPDATE records SET prev_hash = ? WHERE seq = 9", ("0" * 64,))
    assert failure(edge_trail)[0] == 9


def test_an_override_body_that_is_not_json_is_named_not_a_query_error(tmp_path):
    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        store.append([
            NewRecord("override", '{"event":"added","id":"O-1"}', customer_id="C-1"),
            NewRecord("override", '{"event":"approved","id":"O-1"}', customer_id="C-1")])
    tamper(db, lambda conn: rechain_from(conn, 1, lambda row: row.update(body="not JSON {")))
    assert failure(db) == (1, "its body is not JSON (the record was rewritten and the chain "
                              "recomputed)")


def test_a_trail_written_before_format_2_still_verifies(tmp_path):
    db = format_1_trail(tmp_path / "trail.db")
    report = verify_file(str(db))
    last = rows(db)[-1]
    assert report.ok, report.reason
    assert (report.checked, report.head) == (last["seq"], (last["seq"], last["hash"]))
    conn = sqlite3.connect(db)
    try:
        first = conn.execute("SELECT prev_hash FROM records WHERE seq = 1").fetchone()[0]
        assert first == genesis(conn)
    finally:
        conn.close()


def test_every_record_an_intact_trail_holds_is_vouched_for_by_the_fast_walk(
        edge_trail, tmp_path, monkeypatch):
    # The fast walk writes the header's dict out key by key: were a key out of
    # HEADER_ORDER's order, or a value under the wrong key, it would vouch for no record and
    # the walk row by row would check them all (still right, only slower). No record of
    # these trails may reach that walk, nor _header_json.
    decisions = tmp_path / "decisions.db"
    ruleset = load_ruleset(DEFAULT_RULESET)
    with AuditStore(decisions) as store:
        store.store_ruleset(ruleset)
        for path in sorted((ROOT / "examples" / "customers").glob("*.json")):
            facts = json.loads(path.read_text(encoding="utf-8"))
            decision = decide(ruleset, facts, dt.date(2026, 11, 30))
            store.append([decision_record(decision, store.salt)[0]])

    def slow_way(*args):
        raise AssertionError(f"a record went the slow way: {args}")

    monkeypatch.setattr(chain, "_header_json", slow_way)
    monkeypatch.setattr(chain, "_walk_row_by_row", slow_way)
    for trail in (edge_trail, decisions, format_1_trail(tmp_path / "format-1.db")):
        report = verify_file(str(trail))
        assert report.ok, report.reason
        assert report.checked == len(rows(trail))


def intact_until(db) -> tuple[int, str]:
    """What the fast walk vouches for over the whole trail."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        last = conn.execute("SELECT max(seq) FROM records").fetchone()[0]
        return chain._walk_while_intact(conn, 1, last, genesis(conn), None)
    finally:
        conn.close()


def hash_of(db, seq: int) -> str:
    return rows(db, "SELECT * FROM records WHERE seq = ?", (seq,))[0]["hash"]


def null_made_infinite(conn, seq: int) -> None:
    """Record ``seq``'s row number made null (the chain recomputed), then infinite: orjson
    writes infinity as null, so only the type of the value tells."""
    rechain_from(conn, seq, lambda row: row.update(batch_row=None))
    conn.execute("UPDATE records SET batch_row = 9e999 WHERE seq = ?", (seq,))


@pytest.mark.parametrize(("seq", "action"), [
    (2, lambda conn: conn.execute("UPDATE records SET body = ? WHERE seq = 2",
                                  ('{"batch_id":"\\\\"}',))),
    (7, lambda conn: conn.execute("UPDATE records SET prev_hash = ? WHERE seq = 7",
                                  ("0" * 64,))),
    (4, lambda conn: null_made_infinite(conn, 4)),
    (3, lambda conn: conn.execute("UPDATE records SET ruleset_name = "
                                  "CAST(ruleset_name AS BLOB) WHERE seq = 3")),
    (5, lambda conn: conn.execute("UPDATE records SET seq = 99 WHERE seq = 5")),
    (3, lambda conn: rechain_from(conn, 3, lambda row: row.update(batch_id="forged"))),
    (len(EDGE_TEXTS), lambda conn: conn.execute("DELETE FROM records WHERE seq = ?",
                                                (len(EDGE_TEXTS),))),
])
def test_the_fast_walk_vouches_for_the_records_before_the_first_changed_one(
        edge_trail, seq, action):
    assert intact_until(edge_trail) == (len(EDGE_TEXTS) + 1, hash_of(edge_trail,
                                                                     len(EDGE_TEXTS)))
    tamper(edge_trail, action)
    assert intact_until(edge_trail) == (seq, hash_of(edge_trail, seq - 1))


@pytest.fixture(scope="module")
def long_trail(tmp_path_factory):
    """20,001 events: long enough for verify to tell its progress twice."""
    db = tmp_path_factory.mktemp("long") / "audit.db"
    with AuditStore(db) as store:
        store.append(NewRecord("event", f'{{"customer_id":"C","id":"E-{i}"}}',
                               customer_id="C") for i in range(20_001))
    return db


def test_progress_is_told_once_when_the_walk_row_by_row_takes_over(long_trail, tmp_path):
    # A header the body contradicts (the chain recomputed) stops the fast walk at record
    # 15,000; the walk row by row goes on from there to the end, as the chain may still
    # break after it, and tells 20,000 only.
    db = shutil.copyfile(long_trail, tmp_path / "audit.db")
    tamper(db, lambda conn: rechain_from(conn, 15_000,
                                         lambda row: row.update(customer_id="forged")))
    heard: list[int] = []
    report = verify_file(str(db), workers=1, on_progress=heard.append)
    assert (report.failed_seq, report.checked) == (15_000, 14_999)
    assert report.reason == ("its customer_id column is not what its body says (the header "
                             "was changed and the chain recomputed)")
    assert heard == [10_000, 20_000]


class Interrupted(BaseException):
    """As a Ctrl-C is: not an Exception."""


def test_an_error_of_the_progress_callback_is_raised_not_swallowed_by_sqlite(long_trail):
    # The fast walk's checks run inside an SQL function, where sqlite3 would turn an
    # exception into a failed query: the walk keeps it and raises it after the query.
    def interrupt(count):
        raise Interrupted(count)

    with pytest.raises(Interrupted, match="10000"):
        verify_file(str(long_trail), workers=1, on_progress=interrupt)
