"""Customer documents in: JSON text or a CSV row, checked against
``schemas/customer.schema.json`` with every offending field named by its JSON pointer."""

from __future__ import annotations

import difflib
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from math import isfinite
from pathlib import Path

from ..errors import InputError
from ..language.schema_check import fast_problems, load_schema
from ..per_object import per_object
from .row_builder import Builder, row_builder

SCHEMA = "customer.schema.json"
MAX_DOCUMENT_BYTES = 1_000_000
# Larger than any amount or count a credit decision meets, small enough that arithmetic on
# it and its decimal text stay cheap and within Python's limits (4,300 digits).
MAX_INTEGER_DIGITS = 40
# Deeper than any customer document needs; every walker of a document may recurse this far.
MAX_NESTING = 32


def parse_json_document(text: str, where: str, file: str | None = None,
                        first_line: int = 1) -> dict:
    """Parse one customer document from JSON text. Rejects duplicate keys, NaN/Infinity
    and numbers too large for a float, with the line and column of the problem (in
    ``file``, where the text starts at ``first_line``; default: ``where``)."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise InputError(where, [("", f"document larger than {MAX_DOCUMENT_BYTES} bytes")])
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates,
                          parse_constant=_no_constant, parse_float=_finite_float,
                          parse_int=_whole_number)
    except json.JSONDecodeError as exc:
        line = first_line + exc.lineno - 1
        raise InputError(f"{file or where}:{line}:{exc.colno}", [("", exc.msg)]) from None
    except _BadJSON as exc:
        raise InputError(where, [("", str(exc))]) from None
    except RecursionError:
        raise InputError(where, [("", "document nested too deeply")]) from None
    if not isinstance(data, dict):
        raise InputError(where, [("", "a customer document must be a JSON object")])
    if nested_deeper_than(data, MAX_NESTING):
        raise InputError(where, [("", f"document nested deeper than {MAX_NESTING} levels")])
    if "\\u" in text and _has_surrogate(data):
        raise InputError(where, [("", "text contains an escaped surrogate (\\uD800-\\uDFFF), "
                                      "which is not a character")])
    return data


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogate(value: object) -> bool:
    """True when a string anywhere in ``value`` holds a lone surrogate (JSON allows the
    escape; UTF-8 cannot store the result)."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


class _BadJSON(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise _BadJSON(f"duplicate key '{key}'")
        result[key] = value
    return result


def _no_constant(name: str) -> float:
    raise _BadJSON(f"{name} is not a number JSON allows")


def _whole_number(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _BadJSON(f"number {text[:20]}... has more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def nested_deeper_than(value: object, limit: int) -> bool:
    """Whether arrays and objects in ``value`` nest more than ``limit`` levels (found
    without recursion)."""
    # Only arrays and objects go on the stack: a document is mostly numbers and text.
    stack = [(value, 0)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth >= limit:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _BadJSON(f"number {text[:30]} is too large")
    return value


def customer_problems(doc: object) -> list[tuple[str, str]]:
    """Every schema violation of ``doc`` as (JSON pointer, message); empty when valid.
    A fast compiled check answers the common (valid) case; jsonschema explains failures."""
    return fast_problems(doc, SCHEMA)


def check_customer(doc: object, where: str) -> dict:
    """``doc`` when it is a valid customer document, else InputError naming every field."""
    problems = customer_problems(doc)
    if problems:
        raise InputError(where, problems)
    return doc  # type: ignore[return-value]


# --- CSV rows -----------------------------------------------------------------------------

def column_types(columns: Iterable[str]) -> dict[str, str]:
    """JSON type of each CSV column (a dotted path); raises InputError for a column the
    customer document has no field for."""
    schema = load_schema(SCHEMA)
    types, unknown = {}, []
    for column in columns:
        node: Mapping | None = schema
        parts = column.split(".")
        for index, part in enumerate(parts):
            props = node.get("properties", {}) if node else {}
            if part in props:
                node = props[part]
            elif index == len(parts) - 1 and isinstance(node.get("additionalProperties"),
                                                          Mapping):
                node = {"type": "any"}
            else:
                node = None
                break
        if node is None or column == "$schema":
            unknown.append(column)
            continue
        kind = node.get("type", "string" if "enum" in node else "any")
        types[column] = kind if isinstance(kind, str) else "any"
    if unknown:
        known = known_columns(schema)
        raise InputError("header", [("", "unknown column " + ", ".join(
            f"'{column}'" + _suggestion(column, known) for column in unknown))])
    # A column that names an object and another naming one of its fields would each set
    # the same part of the document, one as a value and one as a mapping.
    for column in types:
        parts = column.split(".")
        for end in range(1, len(parts)):
            whole = ".".join(parts[:end])
            if whole in types:
                raise InputError("header", [("", f"column '{column}' is a field of column "
                                             f"'{whole}': give one or the other")])
    return types


def known_columns(schema: Mapping, prefix: str = "") -> list[str]:
    """Every dotted path a CSV column may name (the customer schema's fields)."""
    found = []
    for name, node in (schema.get("properties") or {}).items():
        if name == "$schema":
            continue
        path = f"{prefix}{name}"
        if isinstance(node, Mapping) and node.get("properties"):
            found.extend(known_columns(node, path + "."))
        else:
            found.append(path)
    return found


def _suggestion(column: str, known: list[str]) -> str:
    close = difflib.get_close_matches(column, known, n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def document_from_row(row: Mapping[str, str | None] | list[str], types: Mapping[str, str],
                      where: str) -> dict:
    """A nested customer document from a CSV row: its cells in the header's order (as
    ``read_rows`` gives them), or a mapping keyed by dotted paths. Empty cells are missing
    values; numbers and booleans are read by the column's type."""
    if isinstance(row, list):
        if len(row) != len(types):
            raise InputError(where, [("", f"{len(row)} cells where the header has "
                                          f"{len(types)} columns")])
        doc, problems = _row_plan(types)[1](row)
        if problems:
            raise InputError(where, problems)
        return doc
    columns = _row_plan(types)[0]
    doc: dict = {}
    problems = []
    for column, raw in row.items():
        if column is None:
            problems.append(("", "more cells than columns"))
            continue
        if not raw:  # an empty cell (or one a short row lacks): a missing value
            continue
        parts, convert = columns[column]
        try:
            value = convert(raw)
        except ValueError as exc:
            problems.append(("/" + column.replace(".", "/"), str(exc)))
            continue
        if len(parts) == 1:
            doc[parts[0]] = value
            continue
        target = doc
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    if problems:
        raise InputError(where, problems)
    return doc


@per_object
def _row_plan(types: Mapping[str, str]) -> tuple[dict, Builder]:
    """Each column's path and converter, worked out once per header (a batch reads
    millions of rows under one): by column name, and the function that makes a row of
    cells in the header's order its document (see row_builder.py)."""
    by_column, in_order = {}, []
    for column, kind in types.items():
        parts = tuple(column.split("."))
        convert = _CONVERTERS.get(kind)
        by_column[column] = (parts, convert or _as_text)
        in_order.append((parts[-1], parts[:-1], convert, "/" + column.replace(".", "/")))
    return by_column, row_builder(in_order, _JSON_NUMBERS)


def _as_integer(raw: str) -> int:
    text = raw.strip()
    if len(text.lstrip("+-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"'{raw[:20]}...' has more than {MAX_INTEGER_DIGITS} digits")
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"'{raw[:40]}' is not a whole number") from None


def _as_number(raw: str) -> int | float:
    if raw.isdigit() and len(raw) <= 15 and raw.isascii():
        return int(raw)  # what the float path gives a whole number this short, only sooner
    text = raw.strip()
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"'{raw[:40]}' is not a number") from None
    if not isfinite(value):
        raise ValueError(f"'{raw[:40]}' is not a finite number")
    whole = value.is_integer() and "." not in text and "e" not in text.lower()
    return int(value) if whole and len(text) <= MAX_INTEGER_DIGITS else value


def _as_boolean(raw: str) -> bool:
    if raw == "true" or raw == "false":  # as written by most tools: the lines below, sooner
        return raw == "true"
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError(f"'{raw[:40]}' is not true or false")


def _as_any(raw: str) -> object:
    text = raw.strip()
    if len(text) > MAX_INTEGER_DIGITS:
        return raw
    for parse in (int, float):
        try:
            value = parse(text)
        except ValueError:
            continue
        if isinstance(value, int) or math.isfinite(value):
            return value
    return {"true": True, "false": False}.get(text.lower(), raw)


def _as_text(raw: str) -> str:
    return raw


_CONVERTERS = {"integer": _as_integer, "number": _as_number, "boolean": _as_boolean,
               "any": _as_any}
# The converters that read a JSON number's text as JSON does, within ±2**53 (see
# row_builder.py), and whether they take only whole numbers: a number cell is a float
# when written with a point or an exponent, else an int (exact below 2**53); an integer
# cell is int() of the text. JSON's whitespace is whitespace to them too.
_JSON_NUMBERS = {_as_number: False, _as_integer: True}


def read_document_text(name: str) -> str:
    """The text of a customer document file (``-``: standard input), decoded as UTF-8 (a
    byte-order mark is dropped). Raises InputError naming the file."""
    if name == "-":
        data = sys.stdin.buffer.read()
        where = "<stdin>"
    else:
        path = Path(name)
        if path.is_dir():
            raise InputError(name, [("", "is a directory, not a customer document")])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(name, [("", exc.strerror or "cannot read the file")]) from None
        where = name
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(where, [("", "not valid UTF-8 text")]) from None


def customer_id_problem(customer_id: object) -> str | None:
    """What is wrong with a customer id given on its own (an override's), by the same
    rule as a customer document's ``id``; None when it is fine."""
    problems = fast_problems({"id": customer_id}, SCHEMA)  # the id is all it requires
    return next((message for pointer, message in problems if pointer == "/id"), None)
