"""The service reads a request's JSON body with orjson when that certainly gives the
document the CLI's reader gives (engine.serve.requests.json_document), else the CLI's way.
Whatever the body, the answer must be the CLI reader's: the same document, values of the
same types in the same order, or the same refusal with the same located problems."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.enrich.customer_documents import (
    MAX_DOCUMENT_BYTES,
    MAX_NESTING,
    InputError,
    parse_json_document,
)
from engine.serve.requests import WHERE, Refusal, _plain_document, body_text, json_document
from tests.same_values import json_values, same
from tests.sample_customers import strong_customer


def the_clis(body: bytes):
    """What the CLI's reader makes of a body: the document, or its problem lines."""
    try:
        return parse_json_document(body_text(body), WHERE)
    except InputError as exc:
        return exc.lines()
    except Refusal as exc:  # not UTF-8
        return exc.problems


def the_services(body: bytes):
    try:
        return json_document(body)
    except Refusal as exc:
        return exc.problems


def assert_read_alike(body: bytes) -> None:
    assert same(the_services(body), the_clis(body)), body[:200]


def nested(depth: int, inner: str = "1") -> str:
    text = inner
    for level in range(depth):
        text = f'{{"k": {text}}}' if level % 2 else f"[{text}]"
    return '{"a": ' + text + "}"


EDGES = [
    '{"id": "C-1", "a": {"b": [1, 2.5, -0, -0.0, true, false, null, "x"]}}',
    '{"a": 1, "a": 2}', '{"a": 1, "a": 1}', '{"o": {"x": [], "x": {}}}',
    '[{"a": 1}, {"a": 1, "a": 1}]', '{"l": [{"d": 1, "d": 2}]}',
    '{"url": "https://example.com:8080/x"}', '{"time": "12:30", "a": 1, "a": 2}',
    '{"a:b": 1}', '{"a": "\\u003a", "b": 1, "b": 2}', '{"a": "caf\\u00e9"}',
    '{"a": "\\ud800"}', '{"a": "\\udc00\\ud800"}', '{"a": "\\"quoted\\" \\\\ \\/ \\n\\t"}',
    '{"n": 123456789012345678}', '{"n": -123456789012345678}', '{"n": 1234567890123456789}',
    '{"n": 9223372036854775808}', '{"n": -9223372036854775809}', '{"n": 18446744073709551616}',
    '{"n": ' + "9" * 40 + "}", '{"n": ' + "9" * 41 + "}", '{"n": -' + "9" * 41 + "}",
    '{"s": "' + "9" * 41 + '"}', '{"f": 1e400}', '{"f": -1e400}', '{"f": 1e-400}',
    '{"f": 5e-324}', '{"f": 1.7976931348623157e308}', '{"f": 2.2250738585072014e-308}',
    '{"f": 0.1}', '{"f": 1E5}', '{"f": 1.5e+3}', '{"f": 100000000000000000000.5}',
    '{"f": NaN}', '{"f": Infinity}', '{"f": -Infinity}', '{"f": 01}', '{"f": 1.}',
    '{"f": .5}', '{"f": +1}', '{"a": 1,}', '{"a": 1} x', '{"a": 1}{"b": 2}', "[]", "[1]",
    '"text"', "1", "null", "", "   ", '{}', ' \t\r\n{"a" : 1 }\n ', '{"a"\n:\n1}',
    '{"a": "\x01"}', '{"a": "tab\there"}', '{"é": "東京 😀"}', "\ufeff{}", '{"a": [1, 2}',
    nested(MAX_NESTING - 2), nested(MAX_NESTING - 1), nested(MAX_NESTING),
    nested(MAX_NESTING + 1), nested(2000),
]


@pytest.mark.parametrize("text", EDGES)
def test_the_edges_are_read_as_the_cli_reads_them(text):
    assert_read_alike(text.encode("utf-8"))


@pytest.mark.parametrize("body", [b'{"a": "\xff"}', b'\xff\xfe{\x00}\x00', b'{"a": "\xed\xa0\x80"}',
                                  b'\xef\xbb\xbf{"a": 1}', b'{"a": 1}\x00'])
def test_bytes_that_are_not_utf8_or_carry_a_bom_are_read_as_the_cli_reads_them(body):
    assert_read_alike(body)


def test_a_body_past_the_documents_limit_is_read_the_clis_way():
    body = b'{"a": "' + b"x" * MAX_DOCUMENT_BYTES + b'"}'
    assert _plain_document(body) is None
    assert_read_alike(body)


def test_customer_documents_take_the_fast_way_and_give_the_same_document():
    customer = strong_customer(id="C-Ø-東京", name="Société \"Générale\" \\ 東京")
    for body in (json.dumps(customer).encode(), json.dumps(customer, ensure_ascii=False,
                                                           indent=2).encode("utf-8"),
                 json.dumps(customer, separators=(",", ":"), ensure_ascii=False).encode()):
        assert_read_alike(body)
    assert _plain_document(json.dumps(customer, ensure_ascii=False).encode()) is not None


def test_floats_read_to_the_same_double():
    draw = random.Random(15)
    texts = [repr(draw.uniform(-1e6, 1e6)) for _ in range(2000)]
    texts += [format(draw.random(), f".{draw.randint(1, 17)}f") + f"e{draw.randint(-340, 308)}"
              for _ in range(2000)]  # (up to 18 digits in a run: more are read the CLI's way)
    texts += [f"{draw.getrandbits(50)}.{draw.getrandbits(50)}" for _ in range(500)]
    body = ('{"f": [' + ", ".join(texts) + "]}").encode()
    assert _plain_document(body) is not None
    assert_read_alike(body)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=3), json_values, max_size=5), st.integers(0, 3))
def test_any_object_with_or_without_a_repeated_key_reads_as_the_cli_reads_it(document, repeat):
    text = json.dumps(document, ensure_ascii=repeat % 2 == 0)
    if document and repeat:  # the first member again, at the end: a duplicate key
        key = next(iter(document))
        text = text[:-1] + f", {json.dumps(key)}: {json.dumps(document[key])}}}"
    assert_read_alike(text.encode("utf-8"))


@pytest.mark.parametrize("changes", [
    {"$schema": "https://example.com/schemas/customer.schema.json"},
    {"id": "erp:C-1", "name": "Hall 2: east"}, {"name": ":::"}, {"name": "a:" * 300},
])
def test_a_document_with_colons_in_its_texts_takes_the_fast_way(changes):
    body = json.dumps(strong_customer(**changes), ensure_ascii=False).encode()
    assert _plain_document(body) is not None
    assert_read_alike(body)


@pytest.mark.parametrize("text", [
    '{"a": "x", "a": "1:2:3"}', '{"a": "1:2:3", "a": "x"}', '{"a": {"b": 1}, "a": "b:c"}',
    '{"a": ":", "a": "::", "b": 1}', '{"o": {"k": "v", "k": "v:w"}, "x": ":"}',
])
def test_a_key_given_twice_is_read_the_clis_way_whatever_colons_its_values_hold(text):
    assert _plain_document(text.encode()) is None
    assert_read_alike(text.encode())


def test_many_brackets_nesting_little_take_the_fast_way_and_deep_ones_do_not():
    wide = json.dumps({"l": [{"a": [1]} for _ in range(MAX_NESTING)]}).encode()
    assert _plain_document(wide) is not None
    assert_read_alike(wide)
    for depth in (MAX_NESTING - 2, MAX_NESTING - 1, MAX_NESTING, MAX_NESTING + 1):
        body = nested(depth).encode()
        assert (_plain_document(body) is None) == (depth >= MAX_NESTING), depth
        assert_read_alike(body)
