"""The service reads a request's headers and body straight from the ASGI scope and
messages (engine.serve.requests.header, read_body), not through Starlette's ``Headers`` and
``request.stream()``: held here to what those give on the edges (a header missing, given
twice, in another case, with non-ASCII bytes; a body in chunks, empty chunks, no body, a
client gone, a body exactly at the limit and one byte past it)."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import ClientDisconnect, Request

from engine.serve.requests import Refusal, header, read_body

HEADERS = [(b"host", b"x"), (b"authorization", b"Bearer crt_abc"), (b"x-twice", b"first"),
           (b"x-twice", b"second"), (b"x-latin", "café ÿ".encode("latin-1")),
           (b"x-empty", b""), (b"content-length", b"12")]


def request(headers=HEADERS, messages=()) -> Request:
    pending = list(messages)

    async def receive():
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers,
                    "query_string": b""}, receive)


@pytest.mark.parametrize("name", ["authorization", "x-twice", "x-latin", "x-empty",
                                  "content-length", "idempotency-key", "host", "Host"])
def test_a_header_is_what_starlettes_headers_give(name):
    found = header(request(), name.lower().encode("latin-1"))
    assert found == request().headers.get(name)


def test_a_request_without_headers_has_none():
    assert header(request(headers=[]), b"authorization") is None


def chunks(*parts: bytes, type_between: str | None = None) -> list[dict]:
    messages = []
    for index, part in enumerate(parts):
        if type_between and index:
            messages.append({"type": type_between})
        messages.append({"type": "http.request", "body": part,
                         "more_body": index < len(parts) - 1})
    return messages


async def streamed(messages: list[dict]) -> bytes:
    return b"".join([chunk async for chunk in request(messages=messages).stream()])


@pytest.mark.parametrize("messages", [
    chunks(b'{"id": "C-1"}'),
    chunks(b'{"id": ', b"", b'"C-1"}'),
    chunks(b""),
    [{"type": "http.request"}],  # no body key: an empty body
    chunks("{\"name\": \"Müller\"}".encode(), b" "),
    chunks(b"[1,", b"2]", type_between="http.unknown"),  # what is neither is passed over
])
def test_a_body_is_what_starlettes_stream_gives(messages):
    read = asyncio.run(read_body(request(headers=[], messages=messages), 1000))
    assert read == asyncio.run(streamed(messages))


def test_a_client_gone_before_the_end_raises_client_disconnect_as_the_stream_does():
    messages = [{"type": "http.request", "body": b"{", "more_body": True}]
    with pytest.raises(ClientDisconnect):
        asyncio.run(streamed(list(messages)))
    with pytest.raises(ClientDisconnect):
        asyncio.run(read_body(request(headers=[], messages=list(messages)), 1000))


def test_a_body_exactly_at_the_limit_is_read_and_one_byte_more_is_refused():
    assert asyncio.run(read_body(request(headers=[], messages=chunks(b"a" * 6, b"b" * 4)),
                                 10)) == b"aaaaaabbbb"
    with pytest.raises(Refusal) as refused:
        asyncio.run(read_body(request(headers=[], messages=chunks(b"a" * 6, b"b" * 5)), 10))
    assert refused.value.status == 413


@pytest.mark.parametrize(("length", "refused"), [("12", True), ("11", False),
                                                 ("x", False), (" 12", False)])
def test_a_content_length_past_the_limit_is_refused_before_reading(length, refused):
    headers = [(b"content-length", length.encode())]
    reading = read_body(request(headers=headers, messages=chunks(b"{}")), 11)
    if refused:
        with pytest.raises(Refusal):
            asyncio.run(reading)
    else:
        assert asyncio.run(reading) == b"{}"

