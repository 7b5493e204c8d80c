"""Regular expressions as JSON Schema means them (ECMA-262), run on Python's ``re``.

The one difference that matters for our schemas: in ECMA-262, ``$`` matches only at the end
of the text, while Python's ``$`` also matches before a final newline, so ``"C-1\\n"``
would pass ``^[A-Z]+-[0-9]+$``. Patterns are translated once (``$`` outside a character
class becomes ``\\Z``) and cached.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError


def to_python(pattern: str) -> str:
    """The Python regular expression that matches what ``pattern`` matches in ECMA-262."""
    out = []
    in_class = escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            out.append(r"\Z")
            continue
        out.append(char)
    return "".join(out)


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern:
    """``pattern`` (ECMA-262) compiled for ``re``; use ``.search`` as JSON Schema does."""
    return re.compile(to_python(pattern))


def matches(pattern: str, text: str) -> bool:
    """Whether ``text`` matches ``pattern`` anywhere, as JSON Schema's ``pattern`` means it."""
    return compile_pattern(pattern).search(text) is not None


# --- jsonschema keywords that read patterns, with ECMA-262 meaning ---------------------------

def _pattern(validator, pattern: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not matches(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, patterns: dict, instance: Any,
                        schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if matches(pattern, key):
                yield from validator.descend(value, subschema, path=key,
                                             schema_path=pattern)


def additional_keys(instance: dict, schema: dict) -> list[str]:
    """The keys of ``instance`` neither ``properties`` nor ``patternProperties`` cover."""
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    return [key for key in instance if key not in properties
            and not any(matches(p, key) for p in patterns)]


def _additional_properties(validator, allowed: Any, instance: Any,
                           schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    extras = additional_keys(instance, schema)
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        listed = ", ".join(repr(each) for each in sorted(extras, key=str))
        yield ValidationError(f"Additional properties are not allowed ({listed} "
                              f"{'was' if len(extras) == 1 else 'were'} unexpected)")


ECMAValidator = validators.extend(Draft202012Validator, {
    "pattern": _pattern, "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties})
