"""How a record's body is stored: the two formats, and turning either back into JSON.

- **Format 1** (every record before format 2, and every record that is not a decision): the
  body is TEXT, the record's canonical JSON. ``body_sha256`` is the SHA-256 of its UTF-8.
- **Format 2** (decisions): the body is a BLOB, one format byte ``0x02`` and a Zstandard
  frame compressed against a dictionary. The frame holds the canonical JSON of the
  decision body *less what the record's header already says* (``ELIDED``: the decision and
  customer ids, the as-of date, outcome, grade, limit and ruleset), so each of those is
  stored once, in the header the record hash covers. ``body_sha256`` is the SHA-256 of the
  stored bytes, so verify never decompresses. The frame names its dictionary by id; the
  file keeps each dictionary it uses in ``body_dictionaries``, attested by a chained
  ``dictionary-loaded`` record, so a trail is read with its own dictionaries, never with
  whatever the engine ships today.

``stored_text`` gives the JSON a body holds (for SQL, registered as ``body_json``);
``full_body`` gives the whole body back as the format-1 text would have parsed.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import threading
from importlib import resources

import zstandard

from ..canonical import parse_json
from ..errors import CreditRulesError

FORMAT_2 = 2
_MARK = bytes([FORMAT_2])
LEVEL = 3  # zstd level: 7 us and ~460 bytes a decision here; level 6 saves 6% for 4x the time

# The header columns a format-2 decision body leaves out, and where the body had them.
ELIDED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("as_of", ("as_of",)),
    ("as_of", ("decision", "as_of")),
    ("customer_id", ("decision", "customer_id")),
    ("decision_id", ("decision", "decision_id")),
    ("outcome", ("decision", "admission", "outcome")),
    ("grade", ("decision", "grading", "grade")),
    ("credit_limit", ("decision", "policy", "credit_limit")),
    ("ruleset_name", ("decision", "ruleset", "name")),
    ("ruleset_version", ("decision", "ruleset", "version")),
    ("ruleset_hash", ("decision", "ruleset", "hash")),
)

# The dictionaries this engine ships, by zstd dictionary id, with their SHA-256: a
# dictionary is never changed under its id (a test checks the files against this).
SHIPPED = {1: ("decision-bodies-1.zdict",
               "04a9f2e3df36cddb0824a22b99f051857deb37672364313f495a8e161650913f")}
WRITING = 1  # the dictionary new decision bodies are compressed against


class BodyError(CreditRulesError):
    """A stored body that cannot be read back (an unknown format, a missing dictionary)."""


@functools.cache
def shipped_dictionary(dict_id: int) -> bytes:
    """The content of a dictionary this engine ships."""
    name, _ = SHIPPED[dict_id]
    return resources.files(__package__).joinpath(name).read_bytes()


_per_thread = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    """This thread's compressor: a ZstdCompressor must not be used by two threads at once
    (the HTTP service builds records on several), so each thread makes its own, once."""
    compressor = getattr(_per_thread, "compressor", None)
    if compressor is None:
        data = zstandard.ZstdCompressionDict(shipped_dictionary(WRITING),
                                             dict_type=zstandard.DICT_TYPE_FULLDICT)
        compressor = _per_thread.compressor = zstandard.ZstdCompressor(
            level=LEVEL, dict_data=data, write_checksum=False, write_content_size=True,
            write_dict_id=True)
    return compressor


def compress(text: str | bytes) -> bytes:
    """A format-2 body holding ``text`` (the elided canonical JSON, or its UTF-8)."""
    data = text if text.__class__ is bytes else text.encode("utf-8")
    return _MARK + _compressor().compress(data)


def compress_all(texts: list[bytes]) -> list[bytes]:
    """``compress`` of each of ``texts`` (UTF-8), byte for byte, in one call into zstd:
    the interpreter lock is let go once for them all, not once a body (the HTTP service's
    writer packs a group's records so, while its deciding threads wait for the lock). The
    call makes a compression context, about 9 us, so one text is compressed the plain
    way."""
    if len(texts) <= 1:
        return [compress(text) for text in texts]
    frames = _group_compressor().multi_compress_to_buffer(texts, threads=0)
    return [_MARK + frames[index].tobytes() for index in range(len(texts))]


def _group_compressor() -> zstandard.ZstdCompressor:
    """This thread's compressor for ``compress_all``: its dictionary precomputed, since
    each call refers to it from a new context (loading it would cost 50 us a call); the
    frames are those of ``_compressor`` (tests/test_serve_packing.py holds them to it)."""
    compressor = getattr(_per_thread, "group_compressor", None)
    if compressor is None:
        data = zstandard.ZstdCompressionDict(shipped_dictionary(WRITING),
                                             dict_type=zstandard.DICT_TYPE_FULLDICT)
        data.precompute_compress(level=LEVEL)
        compressor = _per_thread.group_compressor = zstandard.ZstdCompressor(
            level=LEVEL, dict_data=data, write_checksum=False, write_content_size=True,
            write_dict_id=True)
    return compressor


def dictionary_id(body: bytes) -> int:
    """The id of the dictionary a format-2 body was compressed against."""
    try:
        return zstandard.get_frame_parameters(body[1:]).dict_id
    except zstandard.ZstdError as exc:
        raise BodyError(f"a compressed body is not a Zstandard frame ({exc})") from None


def _tree(pairs) -> dict:
    """ELIDED as nested dicts: key -> column name, or key -> subtree."""
    tree: dict = {}
    for column, path in pairs:
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = column
    return tree


ELIDED_TREE = _tree(ELIDED)


def elide(head: dict, header: dict) -> dict:
    """``head`` (the body's as_of, challenger and decision parts) without what ``header``
    (record columns) already says: a value is left out only where it equals its column."""
    return _elided(head, ELIDED_TREE, header)


def _elided(data: dict, tree: dict, header: dict) -> dict:
    """``data`` less the leaves of ``tree`` equal to their column, copying each dict that
    changes once (a dict left empty goes too); ``data`` itself when nothing changes."""
    out = None
    for key, sub in tree.items():
        if key not in data:
            continue
        value = data[key]
        if sub.__class__ is str:
            column = header.get(sub)
            if column is None or value != column:
                continue
            inner = None
        elif value.__class__ is dict:
            inner = _elided(value, sub, header)
            if inner is value:
                continue
        else:
            continue
        if out is None:
            out = dict(data)
        if inner:
            out[key] = inner
        else:
            del out[key]
    return data if out is None else out


def expand(body: dict, header: dict, ordered: bool = True) -> dict:
    """A format-2 body with the header's values put back where ``elide`` took them: the
    body the format-1 text would have parsed to (keys in canonical order if ``ordered``)."""
    touched = []
    for column, path in ELIDED:
        value = header.get(column)
        if value is None:
            continue
        node = body
        for key in path[:-1]:
            if key not in node:
                node[key] = {}
            node = node[key]
            if not isinstance(node, dict):
                break
        else:
            node[path[-1]] = value
            touched.append(path)
    return _sorted(body) if touched and ordered else body


def _sorted(data: dict, tree: dict = ELIDED_TREE) -> dict:
    """Dicts along the elided paths (``tree``) in sorted key order (others keep the order
    json.loads gave them, which for canonical text is already sorted)."""
    result = dict(sorted(data.items()))
    for key, sub in tree.items():
        if sub.__class__ is dict and isinstance(result.get(key), dict):
            result[key] = _sorted(result[key], sub)
    return result


class BodyReader:
    """Reads the bodies of one audit file, with that file's own dictionaries."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn
        self._decompressors: dict[int, zstandard.ZstdDecompressor] = {}
        try:  # loaded now, so that body_json never queries from inside a query
            for (dict_id,) in conn.execute("SELECT id FROM body_dictionaries").fetchall():
                self._decompressor(dict_id)
        except (sqlite3.OperationalError, BodyError):
            pass  # no such table before format 2; a bad dictionary fails the body needing it

    def text(self, body: str | bytes) -> str:
        """The JSON a stored body holds (for format 2, without the header's values)."""
        if body.__class__ is str:
            return body
        if body[:1] != _MARK:
            raise BodyError("a stored body is in a format this engine does not know (its "
                            f"first byte is {body[:1].hex() or 'missing'})")
        decompressor = self._decompressor(dictionary_id(body))
        try:
            return decompressor.decompress(body[1:]).decode("utf-8")
        except (zstandard.ZstdError, UnicodeDecodeError) as exc:
            raise BodyError(f"a compressed body cannot be read ({exc})") from None

    def full(self, row: dict) -> dict:
        """The whole body of a record row (its ``body`` and header columns)."""
        return self.read(row)[1]

    def read(self, row: dict, ordered: bool = True) -> tuple[str, dict]:
        """The JSON a record row's body holds, and the whole body it stands for (its keys
        in canonical order unless not ``ordered``, which saves sorting for comparing)."""
        body = row["body"]
        text = self.text(body)
        parsed = parse_json(text)
        if body.__class__ is str:
            return text, parsed
        return text, expand(parsed, row, ordered)

    def _decompressor(self, dict_id: int) -> zstandard.ZstdDecompressor:
        if dict_id not in self._decompressors:
            content = stored_dictionary(self._conn, dict_id)
            try:
                data = zstandard.ZstdCompressionDict(content,
                                                     dict_type=zstandard.DICT_TYPE_FULLDICT)
                self._decompressors[dict_id] = zstandard.ZstdDecompressor(dict_data=data)
            except zstandard.ZstdError as exc:
                raise BodyError(f"dictionary {dict_id} in the audit file cannot be used "
                                f"({exc})") from None
        return self._decompressors[dict_id]


def stored_dictionary(conn: sqlite3.Connection, dict_id: int) -> bytes:
    """Dictionary ``dict_id`` as this file keeps it."""
    try:
        row = conn.execute("SELECT content FROM body_dictionaries WHERE id = ?",
                           (dict_id,)).fetchone()
    except sqlite3.OperationalError:
        row = None
    if row is None:
        raise BodyError(f"body dictionary {dict_id} is not in the audit file")
    if not isinstance(row[0], bytes):
        raise BodyError(f"dictionary {dict_id} in the audit file is not a dictionary")
    return row[0]


def register_body_json(conn: sqlite3.Connection) -> BodyReader:
    """Give ``conn`` the SQL function ``body_json(body)``: the JSON a stored body holds, so
    that ``json_extract(body_json(body), ...)`` reads either format. Returns its reader."""
    reader = BodyReader(conn)

    def body_json(body):
        try:
            return reader.text(body)
        except BodyError:
            return None  # a query reads what it can; verify says what is wrong

    conn.create_function("body_json", 1, body_json, deterministic=True)
    return reader


def dictionary_digest(content: bytes) -> str:
    """The SHA-256 a ``dictionary-loaded`` record attests for a dictionary."""
    return hashlib.sha256(content).hexdigest()
