"""A fast yes/no check of a document against a JSON Schema, by jsonschema-rs (Rust).

jsonschema (Python) takes about 240 µs per customer document, more than a whole decision;
jsonschema-rs answers "valid?" in about 3 µs. It only ever says yes or no: when it says no,
jsonschema is asked for the messages (their located, readable form is ours), so both must
agree, and tests/test_fast_schema.py holds them to that on mutated documents and events.
Formats (``date``) are checked, as our jsonschema validator does, and patterns follow
ECMA-262 (``$`` is the end of the text) in both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jsonschema_rs

Check = Callable[[object], bool]


def compile_checker(schema: Mapping,
                    retrieve: Callable[[str], Mapping] | None = None) -> Check:
    """A function that tells whether a document is valid against ``schema``. Anything the
    Rust side cannot take (a value of a type JSON has not) is answered "no", so that
    jsonschema decides it. ``retrieve`` gives the schema another one refers to, by URI."""
    options = {} if retrieve is None else {
        "retriever": lambda uri: whole_limits(retrieve(uri))}
    validator = jsonschema_rs.Draft202012Validator(whole_limits(schema),
                                                   validate_formats=True, **options)

    def check(document: object) -> bool:
        try:
            return validator.is_valid(document)
        except (ValueError, TypeError, OverflowError, RecursionError):
            return False

    return check


# jsonschema-rs compares a number with a float bound (``"maximum": 1e15``) about ten times
# slower than with an integer bound (about 0.2 us a bound here, most of a customer
# document's check); a whole float up to 2**53 is that integer exactly, so the Rust side
# is given the integer. jsonschema, which writes the messages, keeps the schema as written.
_LIMITS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_VALUES = frozenset({"const", "enum", "default", "examples"})  # data, not schemas
_EXACT = 2 ** 53


def whole_limits(schema: object) -> object:
    """A copy of ``schema`` with each whole-number float bound written as the integer it
    equals (the same schema, which jsonschema-rs checks faster)."""
    if isinstance(schema, Mapping):
        return {key: _whole(value) if key in _LIMITS else
                value if key in _VALUES else whole_limits(value)
                for key, value in schema.items()}
    if isinstance(schema, list):
        return [whole_limits(item) for item in schema]
    return schema


def _whole(bound: object) -> object:
    if isinstance(bound, float) and bound.is_integer() and abs(bound) <= _EXACT:
        return int(bound)
    return bound
