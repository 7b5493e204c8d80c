"""Stored JSON is read with orjson for speed (engine.canonical.parse_json); whatever the
text, the value must be the one the json module gives, including where orjson alone would
differ (integers beyond 64 bits) or refuse (NaN, infinities, lone surrogates)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from engine.canonical import canonical_json, parse_json
from tests.same_values import json_values, same


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_value_reads_back_as_json_reads_it(value):
    for text in (canonical_json(value), json.dumps(value), json.dumps(value, indent=1)):
        assert same(parse_json(text), json.loads(text))
        assert same(parse_json(text.encode("utf-8")), json.loads(text))


@pytest.mark.parametrize("text", [
    "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "123456789012345678901234567890", '{"limit": 100000000000000000000}',
    '["1234567890123456789012", 5]',  # a long run in a string: read by json, same value
    "NaN", "[Infinity, -Infinity]", "1e400", '"\\ud800"', '{"a": 1, "a": 2}', "-0",
    "0.1", "5e-324", '"caf\\u00e9"'])
def test_the_edges_read_as_json_reads_them(text):
    assert same(parse_json(text), json.loads(text))


def test_bad_json_fails_as_json_fails():
    with pytest.raises(json.JSONDecodeError):
        parse_json('{"a": ')
