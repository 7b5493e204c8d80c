"""A fast yes/no check for the subset of JSON Schema the customer and event schemas use.

jsonschema takes about 240 µs per customer document, more than a whole decision; this
checker answers "valid?" in a few microseconds. It must agree with jsonschema
(tests/test_fast_schema.py holds it to that on mutated documents and events), and it only
ever says yes or no: when it says no, jsonschema is asked for the messages. A schema that
uses a keyword not listed here gets a checker that always says no, so jsonschema decides
every case.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping

from .ecma_regex import compile_pattern

Check = Callable[[object], bool]

_IGNORED = {"$schema", "$id", "title", "description", "examples", "default", "$comment"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


class _Unsupported(Exception):
    pass


def compile_checker(schema: Mapping) -> Check:
    """A predicate that is True only for instances valid under ``schema``."""
    try:
        return _compile(schema)
    except _Unsupported:
        return lambda instance: False


def _compile(schema: object) -> Check:
    if schema is True:
        return lambda instance: True
    if schema is False:
        return lambda instance: False
    if not isinstance(schema, Mapping):
        raise _Unsupported
    checks: list[Check] = []
    for keyword, value in schema.items():
        if keyword in _IGNORED:
            continue
        builder = _BUILDERS.get(keyword)
        if builder is None:
            raise _Unsupported(keyword)
        check = builder(value, schema)
        if check is not None:
            checks.append(check)
    return _conjunction(checks)


def _conjunction(checks: list[Check]) -> Check:
    """A check that passes when every one of ``checks`` does (unrolled when short)."""
    if not checks:
        return lambda instance: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda instance: first(instance) and second(instance)
    checks_tuple = tuple(checks)

    def check_all(instance):
        for check in checks_tuple:
            if not check(instance):
                return False
        return True
    return check_all


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


_TYPES: dict[str, Check] = {
    "object": lambda x: x.__class__ is dict,  # a subclass goes to jsonschema
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": _is_number,
    "integer": lambda x: (isinstance(x, int) and not isinstance(x, bool)) or (
        isinstance(x, float) and x.is_integer()),
}


def _type(value, schema) -> Check:
    names = [value] if isinstance(value, str) else list(value)
    if any(n not in _TYPES for n in names):
        raise _Unsupported
    tests = [_TYPES[n] for n in names]
    if len(tests) == 1:
        return tests[0]
    return lambda x: any(t(x) for t in tests)


def _properties(value, schema) -> Check:
    compiled = {name: _compile(sub) for name, sub in value.items()}

    def check(x):
        if x.__class__ is not dict:
            return True
        for name, item in x.items():
            sub = compiled.get(name)
            if sub is not None and not sub(item):
                return False
        return True
    return check


def _additional(value, schema) -> Check:
    known = set(schema.get("properties", {}))
    if "patternProperties" in schema:
        raise _Unsupported
    sub = _compile(value)

    if value is False:
        return lambda x: x.__class__ is not dict or known.issuperset(x)

    def check(x):
        if x.__class__ is not dict:
            return True
        for k, item in x.items():
            if k not in known and not sub(item):
                return False
        return True
    return check


def _required(value, schema) -> Check:
    names = list(value)
    return lambda x: not isinstance(x, dict) or all(n in x for n in names)


def _property_names(value, schema) -> Check:
    sub = _compile(value)
    return lambda x: not isinstance(x, dict) or all(sub(k) for k in x)


def _items(value, schema) -> Check:
    sub = _compile(value)
    return lambda x: not isinstance(x, list) or all(sub(i) for i in x)


def _enum(value, schema) -> Check:
    options = list(value)
    if any(isinstance(o, bool | int | float | dict | list) for o in options):
        raise _Unsupported  # JSON Schema equality (1 == 1.0, True != 1) is subtle
    return lambda x: isinstance(x, str) and x in options


def _bound(op: str):
    def build(value, schema) -> Check:
        if op == "min":
            return lambda x: not _is_number(x) or x >= value
        if op == "max":
            return lambda x: not _is_number(x) or x <= value
        if op == "exclusive_min":
            return lambda x: not _is_number(x) or x > value
        return lambda x: not _is_number(x) or x < value
    return build


def _length(op: str):
    def build(value, schema) -> Check:
        if op == "min":
            return lambda x: not isinstance(x, str) or len(x) >= value
        return lambda x: not isinstance(x, str) or len(x) <= value
    return build


def _pattern(value, schema) -> Check:
    regex = compile_pattern(value)  # ECMA-262: "$" is the end of the text
    return lambda x: not isinstance(x, str) or regex.search(x) is not None


def _const(value, schema) -> Check:
    if not isinstance(value, str):
        raise _Unsupported  # JSON equality of numbers and booleans is subtle
    return lambda x: isinstance(x, str) and x == value


def _all_of(value, schema) -> Check:
    return _conjunction([_compile(sub) for sub in value])


def _if(value, schema) -> Check:
    condition = _compile(value)
    then = _compile(schema.get("then", True))
    otherwise = _compile(schema.get("else", True))
    return lambda x: then(x) if condition(x) else otherwise(x)


def _handled_by_if(value, schema) -> None:
    if "if" not in schema:
        raise _Unsupported  # then/else without if: jsonschema ignores them; so do we not
    return None


def _format(value, schema) -> Check:
    if value != "date":
        raise _Unsupported

    def check(x):
        if not isinstance(x, str):
            return True
        if not _DATE.match(x):
            return False
        try:
            dt.date.fromisoformat(x)
        except ValueError:
            return False
        return True
    return check


_BUILDERS = {
    "type": _type, "properties": _properties, "additionalProperties": _additional,
    "required": _required, "propertyNames": _property_names, "items": _items,
    "enum": _enum, "minimum": _bound("min"), "maximum": _bound("max"),
    "exclusiveMinimum": _bound("exclusive_min"), "exclusiveMaximum": _bound("exclusive_max"),
    "minLength": _length("min"), "maxLength": _length("max"), "pattern": _pattern,
    "format": _format, "const": _const, "allOf": _all_of, "if": _if,
    "then": _handled_by_if, "else": _handled_by_if,
}
