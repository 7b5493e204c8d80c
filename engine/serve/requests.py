"""Reading a request: its body within the size limit, its JSON, its as-of date; and the
error every refusal becomes (a status, one line, and the located problems).

A body that is not JSON is a 400; a document failing its schema is a 422 with the very
messages ``credit decide`` prints for a file (``request body: /pointer: message``); a body
over the limit is a 413. Nothing a client sends can make a 500.
"""

from __future__ import annotations

import datetime as dt
import re

from ..dates import parse_day
from ..enrich.customer_documents import InputError, parse_json_document

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


async def read_body(receive_stream, content_length: str | None, limit: int) -> bytes:
    """The body, read in chunks, refused (413) as soon as it passes ``limit`` bytes."""
    if content_length is not None and content_length.isdigit() and \
            int(content_length) > limit:
        raise Refusal(413, f"the body is larger than the limit of {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in receive_stream:
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"the body is larger than the limit of {limit:,} bytes")
        chunks.append(chunk)
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
    try:
        return parse_json_document(body_text(body), WHERE)
    except InputError as exc:
        raise Refusal(400, "the body is not a JSON document", exc.lines()) from None


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
