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
    options = {} if retrieve is None else {"retriever": retrieve}
    validator = jsonschema_rs.Draft202012Validator(dict(schema), validate_formats=True,
                                                   **options)

    def check(document: object) -> bool:
        try:
            return validator.is_valid(document)
        except (ValueError, TypeError, OverflowError, RecursionError):
            return False

    return check
