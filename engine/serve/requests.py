"""Reading a request: its body within the size limit, its JSON, its as-of date; and the
error every refusal becomes (a status, one line, and the located problems).

A body that is not JSON is a 400; a document failing its schema is a 422 with the very
messages ``credit decide`` prints for a file (``request body: /pointer: message``); a body
over the limit is a 413. Nothing a client sends can make a 500.
"""

from __future__ import annotations

import datetime as dt
import re

import orjson
from starlette.requests import ClientDisconnect, Request

from ..canonical import has_long_number
from ..dates import parse_day
from ..enrich.customer_documents import (
    MAX_DOCUMENT_BYTES,
    MAX_NESTING,
    InputError,
    parse_json_document,
)

DEFAULT_MAX_BODY = 1_000_000
WHERE = "request body"


class Refusal(Exception):
    """A request the service answers with an error: ``status``, a one-line ``error`` and
    ``problems`` (located lines)."""

    def __init__(self, status: int, error: str, problems: list[str] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(error)
        self.status = status
        self.error = error
        self.problems = problems or []
        self.headers = headers or {}

    def to_dict(self) -> dict:
        """The JSON body of the error response."""
        return {"error": self.error, "problems": self.problems}


def header(request: Request, name: bytes) -> str | None:
    """A request header's value as ``request.headers.get`` gives it (the first of that
    name), read straight from the ASGI scope, whose header names are lower case: Starlette
    builds a ``Headers`` for the request and searches it through ``Mapping.get``."""
    for key, value in request.scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read in chunks, refused (413) as soon as it passes ``limit`` bytes (or
    when its Content-Length says it will). Read from the ASGI messages as
    ``request.stream()`` reads them, without an asynchronous generator in between; a client
    gone raises ClientDisconnect, as there."""
    content_length = header(request, b"content-length")
    if content_length is not None and content_length.isdigit() and \
            int(content_length) > limit:
        raise Refusal(413, f"the body is larger than the limit of {limit:,} bytes")
    receive = request.receive
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            continue
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"the body is larger than the limit of {limit:,} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def body_text(body: bytes) -> str:
    """The body as text (UTF-8, a byte-order mark dropped); 400 when it is not UTF-8."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refusal(400, "the body is not JSON", [f"{WHERE}: not valid UTF-8 text"]) \
            from None


def json_document(body: bytes) -> dict:
    """The body as one JSON object, read as the CLI reads a document file (duplicate
    keys, NaN and oversized numbers refused, with line and column); 400 otherwise."""
    document = _plain_document(body)
    if document is not None:
        return document
    try:
        return parse_json_document(body_text(body), WHERE)
    except InputError as exc:
        raise Refusal(400, "the body is not a JSON document", exc.lines()) from None


# The CLI's reader (parse_json_document) calls back into Python for every object and
# number to refuse duplicate keys and numbers too large: 26 us a generated customer, where
# orjson reads the body in 4. orjson's document is taken when it is certainly the one the
# CLI's reader gives, else the body is read the CLI's way (which also words the errors):
# - no escape \u (so no escaped surrogate, and a colon in the text is a colon);
# - no run of 19 digits (orjson reads a whole number past 64 bits as a float; 18 digits
#   are far within the CLI's 40); infinity, NaN, a byte-order mark, bad UTF-8 and control
#   characters orjson refuses itself;
# - as many colons in the body as in orjson's own text of the document: a colon is a
#   member's, or one in a text, which orjson writes back as it is; a duplicate key (orjson
#   keeps the last) takes at least its member's colon away;
# - nesting within MAX_NESTING (certain with fewer brackets than that in the body, else
#   looked for), a JSON object, within MAX_DOCUMENT_BYTES.
def _plain_document(body: bytes) -> dict | None:
    """The body's JSON object as orjson reads it, when that is certainly what the CLI's
    reader gives; None otherwise."""
    if len(body) > MAX_DOCUMENT_BYTES or b"\\u" in body or has_long_number(body):
        return None
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if document.__class__ is not dict:
        return None
    if body.count(b"{") + body.count(b"[") > MAX_NESTING and _nests_too_deep(document):
        return None
    try:
        if orjson.dumps(document).count(b":") != body.count(b":"):
            return None
    except orjson.JSONEncodeError:
        return None
    return document


def _nests_too_deep(document: dict) -> bool:
    """Whether arrays and objects in ``document`` nest MAX_NESTING levels or more."""
    stack = [(document, 0)]
    while stack:
        item, depth = stack.pop()
        if depth >= MAX_NESTING:
            return True
        for child in item.values() if item.__class__ is dict else item:
            if child.__class__ is dict or child.__class__ is list:
                stack.append((child, depth + 1))
    return False


def schema_refusal(exc: InputError, what: str) -> Refusal:
    """A 422 naming every offending field, as the CLI names them."""
    return Refusal(422, f"the {what} does not match its schema", exc.lines())


_DAY_CHARACTERS = re.compile(rb"[0-9-]+")


def as_of_param(request) -> str | None:
    """A request's ``as_of`` query parameter, as ``request.query_params.get("as_of")``
    gives it, read straight from the query string when that is ``as_of=`` and a date's
    characters alone: the whole query string parsed into a multi-dict costs 6 us."""
    query = request.scope["query_string"]
    if query.startswith(b"as_of=") and _DAY_CHARACTERS.fullmatch(query, 6):
        return query[6:].decode("ascii")
    return request.query_params.get("as_of")


def as_of_date(value: str | None) -> dt.date:
    """The ``as_of`` query parameter (YYYY-MM-DD), default today; 400 when not a date."""
    if value is None or value == "":
        return dt.date.today()
    try:
        return parse_day(value)
    except ValueError as exc:
        raise Refusal(400, "bad as_of", [f"as_of: {exc}"]) from None
