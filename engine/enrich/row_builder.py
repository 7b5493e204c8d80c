"""The function that turns a CSV row's cells into its customer document, written once per
header as straight-line Python (a batch reads millions of rows under one header).

A loop over the header's columns pays, for every cell, the step of the loop, unpacking
that column's plan and testing where its value goes: about 5 µs of the 11 a generated
customer's row (36 columns) cost, against 3 µs for the function written here, which does
only the work of each column, in the header's order:
skip an empty cell, convert a number, boolean or untyped cell, put the value under its
parent objects (made at the first value placed in them). It gives what the plain path
(``document_from_row`` on a mapping) gives, key order included; tests/test_csv_in_and_out.py
holds the two to that.

The number cells of a row are read together, by one ``orjson.loads`` of their texts
joined as a JSON array, when the converters of their columns read every JSON number the
way JSON does (``json_numbers``): one call in C instead of a Python converter and a
``float()`` or ``int()`` a cell (23 number cells of a generated customer: about 2 µs
less). That reading is used only when it is certainly the converters': the array holds
exactly one number a cell (a cell with a comma, a bracket, a quote or ``true`` does not
qualify), all of them within ±2**53 (where a whole number reads the same as an int or a
float), and whole numbers where a column takes only those. Any other row is read cell by
cell, by the converters. The bound is checked by ``math.hypot`` of the numbers below
2**52 (one call in C, a quarter of ``min`` and ``max``): it is at least the largest of
their magnitudes, to within a unit in the last place, and a number of 2**53 or more is
at least 2**53 as a float.

Column names reach the source only as ``repr`` literals, which read back as the same
text whatever the name holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import orjson

# (last key, parent keys, converter or None for text, JSON pointer) per column
Column = tuple[str, tuple[str, ...], Callable[[str], object] | None, str]
Builder = Callable[[Sequence[str]], tuple[dict, list]]
EXACT = 2 ** 53  # every whole number up to this is a float too, exactly


def row_builder(plan: Sequence[Column],
                json_numbers: Mapping[Callable, bool] | None = None) -> Builder:
    """A function from a row's cells (exactly one per column of ``plan``, in its order) to
    ``(document, problems)``: problems are ``(JSON pointer, message)`` of the cells that
    could not be converted, in the header's order (the document is incomplete then).
    ``json_numbers``: the converters that read a JSON number text as JSON does, each
    with whether it takes only whole numbers (see above)."""
    json_numbers = json_numbers or {}
    converters: dict[Callable, str] = {}
    unpack = ("    " + ", ".join(f"c{i}" for i in range(len(plan))) + ", = cells") if plan \
        else "    pass"
    lines = ["def plain(cells):", unpack]
    lines += _indented(_body(plan, converters, {}), 4)
    numbered = {index: f"n{count}" for count, index in enumerate(
        index for index, column in enumerate(plan) if column[2] in json_numbers)}
    if not numbered:
        lines.append("build = plain")
    else:
        whole = [numbered[index] for index in numbered if json_numbers[plan[index][2]]]
        joined = ",".join(f"{{c{index} or 0}}" for index in numbered)
        lines += ["def build(cells):", unpack,
                  f"    text = f'[{joined}]'",
                  "    if 'u' not in text:  # no true, false or null among them",
                  "        try:",
                  "            numbers = loads(text)",
                  f"            fast = len(numbers) == {len(numbered)} and "
                  f"hypot(*numbers) < {float(EXACT // 2)!r}",
                  "        except (ValueError, TypeError, OverflowError):  # not numbers",
                  "            fast = False",
                  "        if fast:",
                  "            " + ", ".join(numbered.values()) + ", = numbers"]
        indent = 12
        if whole:
            lines.append("            if " + " and ".join(f"{n}.__class__ is int"
                                                         for n in whole) + ":")
            indent = 16
        lines += _indented(_body(plan, converters, numbered), indent)
        lines.append("    return plain(cells)")
    namespace = {"loads": orjson.loads, "hypot": math.hypot,
                 **{name: convert for convert, name in converters.items()}}
    exec(compile("\n".join(lines), "<csv row builder>", "exec"), namespace)  # our source
    return namespace["build"]


def _body(plan: Sequence[Column], converters: dict[Callable, str],
          numbered: Mapping[int, str]) -> list[str]:
    """The lines that make the document of cells ``c0``, ``c1``, ... and return it with
    its problems; a column in ``numbered`` takes its value from the name given there."""
    lines = ["doc = {}", "problems = []"]
    placed = None  # the parents the lines below are putting values into, as ``target``
    for index, (key, parents, convert, pointer) in enumerate(plan):
        cell = f"c{index}"
        lines.append(f"if {cell}:")
        if parents:
            if parents != placed:
                lines[-1:-1] = ["target = None"]
                placed = parents
            lines += ["    if target is None:",
                      "        target = doc" + "".join(
                          f".setdefault({part!r}, {{}})" for part in parents)]
            slot = f"target[{key!r}]"
        else:
            slot = f"doc[{key!r}]"
        if convert is None:
            lines.append(f"    {slot} = {cell}")
        elif index in numbered:
            lines.append(f"    {slot} = {numbered[index]}")
        else:
            name = converters.setdefault(convert, f"convert{len(converters)}")
            lines += ["    try:",
                      f"        {slot} = {name}({cell})",
                      "    except ValueError as exc:",
                      f"        problems.append(({pointer!r}, str(exc)))"]
    lines.append("return doc, problems")
    return lines


def _indented(lines: list[str], indent: int) -> list[str]:
    return [" " * indent + line for line in lines]
