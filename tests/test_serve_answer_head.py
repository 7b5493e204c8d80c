"""A decision's (and every answer naming its ruleset's) head is written straight
(engine.serve.app.RulesetAnswer): held to Starlette's ``Response`` with the same header,
for an empty body, non-ASCII text and a body past 64 KiB."""

from __future__ import annotations

import asyncio

import pytest
from starlette.responses import Response

from engine.serve.app import RULESET_HEADER, RulesetAnswer


@pytest.mark.parametrize("body", [b"", b'{"seq":1}', "{\"name\":\"Müller\"}".encode(),
                                  b"x" * 70_000])
def test_a_ruleset_answer_has_the_head_and_body_of_starlettes_response(body):
    digest = "d88b2a63" * 8
    plain = Response(body, headers={RULESET_HEADER: digest}, media_type="application/json")
    answer = RulesetAnswer(body, digest)
    assert (answer.status_code, answer.raw_headers, answer.body, answer.background) == \
        (plain.status_code, plain.raw_headers, plain.body, plain.background)
    assert answer.headers[RULESET_HEADER] == digest

    def sent(response) -> list[dict]:
        messages: list[dict] = []

        async def send(message):
            messages.append(message)

        asyncio.run(response({"type": "http"}, None, send))
        return messages

    assert sent(answer) == sent(plain)
