"""Validate documents against the JSON Schemas in ``schemas/`` and report located problems.

Every problem message starts with the JSON pointer of the offending value, written as in
RFC 6901 (``/stages/0/name``, with ``~`` and ``/`` in keys escaped as ``~0`` and ``~1``); the
document as a whole is written ``(root)``. A missing required property and an unexpected
property are reported at the pointer of that property itself (``/customer_id``), so every
offending field is named.

A document is first checked by a compiled yes/no check (``fast_schema.py``, jsonschema-rs);
only when it says no, or cannot say, is jsonschema asked for the messages. jsonschema and
referencing (about 55 ms to import, a quarter of a one-shot command) are imported then,
not at start.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import CreditRulesError, Problem
from engine.language.located import LocatedDocument
from engine.paths import SCHEMA_DIR

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator
    from referencing import Registry

SCHEMA_SUFFIX = ".schema.json"
ROOT_POINTER = "(root)"

_REPR_LIMIT = 80
_MESSAGE_LIMIT = 300


def _validator_class():
    """jsonschema's Draft 2020-12 validator with patterns as ECMA-262 means them."""
    from engine.language.ecma_regex import ECMAValidator

    return ECMAValidator


class SchemaError(CreditRulesError):
    """The schemas themselves are missing, unreadable, invalid or refer to nothing."""


def pointer_text(path: Iterable[str | int]) -> str:
    """The RFC 6901 JSON pointer of ``path``, or ``(root)`` for the empty path. A key's
    unprintable characters are written as escapes, so a message stays one line."""
    parts = [_printable(str(step).replace("~", "~0").replace("/", "~1")) for step in path]
    return "/" + "/".join(parts) if parts else ROOT_POINTER


def _printable(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


class SchemaStore:
    """The ``*.schema.json`` files of one directory, their registry and compiled validators."""

    def __init__(self, directory: str | Path, *, check_metaschema: bool = True):
        self.directory = Path(directory)
        # The shipped schemas are checked against the metaschema by the tests, not at every
        # start (a third of a one-shot command's time); schemas from elsewhere always are.
        self.check_metaschema = check_metaschema
        self._schemas: dict[str, dict] | None = None
        self._uris: list[tuple[str, dict]] = []  # (uri, schema) for the registry
        self._registry: Registry | None = None
        self._validators: dict[str, Validator] = {}
        self._checkers: dict[str, Callable[[object], bool] | None] = {}

    def _load_all(self) -> dict[str, dict]:
        if self._schemas is not None:
            return self._schemas
        if not self.directory.is_dir():
            raise SchemaError(f"schema directory not found: {self.directory}")
        schemas: dict[str, dict] = {}
        owners: dict[str, Path] = {}
        for path in sorted(self.directory.glob("*" + SCHEMA_SUFFIX)):
            schema = _read_schema(path, self.check_metaschema)
            uris = [path.name]
            if "$id" in schema:
                if not isinstance(schema["$id"], str):
                    raise SchemaError(f"{path}: $id must be a string")
                uris.append(schema["$id"])
            for uri in uris:
                if uri in owners:
                    raise SchemaError(f"{path}: $id {uri!r} is already used by {owners[uri]}")
                owners[uri] = path
                self._uris.append((uri, schema))
            schemas[path.name] = schema
        self._schemas = schemas
        return schemas

    def _the_registry(self) -> Registry:
        """Every schema by file name and ``$id``, for jsonschema to resolve ``$ref``s."""
        if self._registry is None:
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012

            self._load_all()
            self._registry = Registry().with_resources(
                (uri, Resource.from_contents(schema, default_specification=DRAFT202012))
                for uri, schema in self._uris).crawl()
        return self._registry

    def _name_of(self, name: str) -> str:
        schemas = self._load_all()
        if name in schemas:
            return name
        for file_name, schema in schemas.items():
            if schema.get("$id") == name:
                return file_name
        raise SchemaError(f"schema {name!r} not found in {self.directory}")

    def load_schema(self, name: str) -> dict:
        """The parsed schema (by file name or ``$id``); shared, so do not modify it."""
        return self._load_all()[self._name_of(name)]

    def validator(self, name: str) -> Validator:
        """The compiled Draft 2020-12 validator of schema ``name`` (cached)."""
        name = self._name_of(name)
        if name not in self._validators:
            validator = _validator_class()
            self._validators[name] = validator(
                self._load_all()[name],
                registry=self._the_registry(),
                format_checker=validator.FORMAT_CHECKER,
            )
        return self._validators[name]

    def _errors(self, data: object, name: str, file: str) -> list[ValidationError]:
        import referencing.exceptions

        try:
            return list(self.validator(name).iter_errors(data))
        except referencing.exceptions.Unresolvable as err:
            raise SchemaError(f"schema {name!r} (checking {file}): cannot resolve {err}") from None

    def fast_valid(self, data: object, name: str) -> bool:
        """Whether ``data`` is valid by the compiled yes/no check (fast_schema.py); False
        also when that check cannot say, and then jsonschema decides."""
        name = self._name_of(name)
        if name not in self._checkers:
            from .fast_schema import compile_checker

            try:
                self._checkers[name] = compile_checker(self._load_all()[name],
                                                       self.load_schema)
            except Exception:  # an optional fast path: when it cannot be built, jsonschema decides
                self._checkers[name] = None
        checker = self._checkers[name]
        return checker is not None and checker(data)

    def schema_problems(self, doc: LocatedDocument, schema_name: str) -> list[Problem]:
        """Every way ``doc`` breaks the schema, located in its file and sorted by position."""
        if self.fast_valid(doc.data, schema_name):
            return []
        problems: set[Problem] = set()
        for error in self._errors(doc.data, schema_name, doc.file):
            for issue in _issues(error):
                where = doc.locate_key(issue.path) if issue.at_key else doc.locate(issue.path)
                problems.add(Problem(where, f"{pointer_text(issue.path)}: {issue.message}"))
        return sorted(problems)

    def json_problems(self, data: object, schema_name: str, file: str) -> list[tuple[str, str]]:
        """Every way ``data`` breaks the schema as (JSON pointer, message), sorted by pointer."""
        issues = {
            (issue.path, issue.message)
            for error in self._errors(data, schema_name, file)
            for issue in _issues(error)
        }
        ordered = sorted(issues, key=lambda item: (_path_key(item[0]), item[1]))
        return [(pointer_text(path), message) for path, message in ordered]


def _read_schema(path: Path, check_metaschema: bool = True) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SchemaError(f"{path}: cannot read schema: {err}") from None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as err:
        raise SchemaError(f"{path}:{err.lineno}:{err.colno}: invalid JSON: {err.msg}") from None
    if not isinstance(schema, dict):
        raise SchemaError(f"{path}: a schema must be a JSON object")
    if not check_metaschema:
        return schema
    import jsonschema

    try:
        _validator_class().check_schema(schema)
    except jsonschema.SchemaError as err:
        where = pointer_text(err.absolute_path)
        raise SchemaError(f"{path}: not a valid JSON Schema at {where}: {err.message}") from None
    return schema


def _path_key(path: Sequence[str | int]) -> tuple[tuple[int, int, str], ...]:
    return tuple((1, 0, step) if isinstance(step, str) else (0, step, "") for step in path)


# --- turning jsonschema errors into short, readable issues ------------------------------------

_TYPE_NAMES = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


@dataclass(frozen=True)
class _Issue:
    path: tuple[str | int, ...]
    message: str
    at_key: bool = False  # locate the key of the last path step rather than its value


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {_short(value)}"
    if isinstance(value, str):
        return f"the text {_short(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return _short(value)


def _expected(types: Iterable[str]) -> str:
    names = list(dict.fromkeys(_TYPE_NAMES.get(kind, kind) for kind in types))
    return " or ".join(names)


def _as_list(value: object) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def _limit(message: str) -> str:
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 3] + "..."


def _issues(error: ValidationError) -> list[_Issue]:
    path = tuple(error.absolute_path)
    kind, value, instance = error.validator, error.validator_value, error.instance

    if kind in ("oneOf", "anyOf") and error.context:
        alternatives = error.context
        if all(e.validator == "type" and not e.relative_path for e in alternatives):
            types = [t for e in alternatives for t in _as_list(e.validator_value)]
            return [_Issue(path, f"expected {_expected(types)}, got {_describe(instance)}")]
        from jsonschema.exceptions import best_match

        best = best_match([error])  # descends into the alternatives, preferring the deepest
        if best is not None and best is not error:
            return _issues(best)
        reasons = "; or ".join(dict.fromkeys(_generic(e) for e in alternatives))
        return [_Issue(path, _limit(f"matches none of the allowed forms ({reasons})"))]
    if kind == "oneOf":
        return [_Issue(path, "matches more than one of the allowed forms; it must match one")]
    if kind == "required" and isinstance(instance, dict):
        missing = [
            name
            for name in _as_list(value)
            if name not in instance and error.message == f"{name!r} is a required property"
        ]
        if missing:
            return [_Issue((*path, missing[0]), "required property is missing")]
    if kind == "additionalProperties" and value is False and isinstance(instance, dict):
        return [
            _Issue((*path, key), message, at_key=True)
            for key, message in _unexpected(instance, error.schema)
        ]
    if kind == "type":
        return [_Issue(path, f"expected {_expected(_as_list(value))}, got {_describe(instance)}")]
    if kind == "enum":
        choices = ", ".join(_short(choice) for choice in _as_list(value)[:12])
        if len(_as_list(value)) > 12:
            choices += ", ..."
        return [_Issue(path, f"must be one of {choices}; got {_short(instance)}")]
    if kind == "const":
        return [_Issue(path, f"must be {_short(value)}; got {_short(instance)}")]
    if kind == "format":
        hint = {"date": " (expected YYYY-MM-DD)", "date-time": " (expected ISO 8601)"}
        return [_Issue(path, f"{_short(instance)} is not a valid {value}{hint.get(value, '')}")]
    return [_Issue(path, _generic(error))]


def _unexpected(instance: dict, schema: object) -> list[tuple[str, str]]:
    from engine.language.ecma_regex import matches

    schema = schema if isinstance(schema, dict) else {}
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    allowed = ", ".join(list(properties)[:15]) + (", ..." if len(properties) > 15 else "")
    if patterns:
        allowed += ("; or " if allowed else "") + "names matching " + ", ".join(patterns)
    suffix = f" (allowed: {allowed})" if allowed else ""
    extras = [
        key
        for key in instance
        if key not in properties and not any(matches(p, key) for p in patterns)
    ]
    return [(key, _limit(f"unexpected property {_short(key)}{suffix}")) for key in extras]


def _generic(error: ValidationError) -> str:
    message = error.message
    full = repr(error.instance)
    if len(full) > _REPR_LIMIT:
        message = message.replace(full, _short(error.instance))
    return _limit(message)


# --- module-level functions over the project's schemas/ directory ------------------------------

_stores: dict[Path, SchemaStore] = {}


def _store() -> SchemaStore:
    directory = Path(SCHEMA_DIR)
    if directory not in _stores:
        _stores[directory] = SchemaStore(directory, check_metaschema=False)
    return _stores[directory]


def load_schema(name: str) -> dict:
    """The parsed schema ``name`` (e.g. ``"customer.schema.json"``) from SCHEMA_DIR; cached."""
    return _store().load_schema(name)


def schema_problems(doc: LocatedDocument, schema_name: str) -> list[Problem]:
    """Every way the YAML ``doc`` breaks schema ``schema_name``, located and sorted."""
    return _store().schema_problems(doc, schema_name)


def json_problems(data: object, schema_name: str, file: str = "<data>") -> list[tuple[str, str]]:
    """Every way JSON ``data`` breaks ``schema_name`` as (pointer, message), sorted by pointer.

    ``file`` is only used to name the document if the schema itself turns out to be broken.
    """
    return _store().json_problems(data, schema_name, file)


_fast_checkers: dict[str, object] = {}


def fast_problems(data: object, schema_name: str, file: str = "<data>"
                  ) -> list[tuple[str, str]]:
    """``json_problems``, answered first by a compiled check (fast_schema.py) that only
    says yes or no: the common, valid case costs microseconds, not jsonschema's time."""
    checker = _fast_checkers.get(schema_name)
    if checker is None:
        from .fast_schema import compile_checker

        checker = _fast_checkers[schema_name] = compile_checker(load_schema(schema_name))
    if checker(data):
        return []
    return json_problems(data, schema_name, file)
