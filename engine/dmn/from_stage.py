"""A ruleset stage's decision tables as ``DmnTable`` models, to be written as DMN.

The tables of a derived stage (one decision per derived fact that is a table) or the
``table`` of any other stage (policy, approval, escalation...). A derived fact that is a
formula is not a table: it is named in what the export reports, not written. A cell
DMN cannot say the way the importer reads it back is refused at its place in the YAML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Location, Problem, ProblemsError
from ..language.yaml_source import LocatedDocument
from . import feel
from .model import Cell, DmnInput, DmnOutput, DmnRule, DmnTable
from .ruleset_cells import read_cell, read_expression
from .terms import (
    Compare,
    DateLit,
    Neg,
    Num,
    Range,
    TermError,
    TimeLit,
    names_in,
    test_names,
)

HIT_POLICIES = {"unique": "UNIQUE", "first": "FIRST", "priority": "PRIORITY", "any": "ANY",
                "collect": "COLLECT", "rule_order": "RULE ORDER", "output_order": "OUTPUT ORDER"}


@dataclass
class StageTables:
    tables: list[DmnTable]
    formulas: list[str] = field(default_factory=list)  # derived facts that are not tables


# What XML 1.0 allows in a document: tab, newline, carriage return and the characters from
# U+0020 up, less the surrogates and U+FFFE/U+FFFF.
_NOT_IN_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def stage_tables(doc: LocatedDocument) -> StageTables:
    """The tables of the stage ``doc``. Raises ProblemsError (located in the YAML) when a
    cell cannot be written, or when the stage has no table."""
    data = doc.data if isinstance(doc.data, Mapping) else {}
    found: list[tuple[str, Mapping, tuple]] = []
    formulas = []
    derived = data.get("derived")
    if isinstance(derived, Mapping):
        for key, entry in derived.items():
            if isinstance(entry, Mapping) and isinstance(entry.get("table"), Mapping):
                found.append((key, entry, ("derived", key)))
            else:
                formulas.append(key)
    elif isinstance(data.get("table"), Mapping):
        stem = re.sub(r"[^0-9A-Za-z_]+", "_", Path(doc.file).stem).strip("_") or "table"
        found.append((data["table"].get("id") or stem, {"table": data["table"]}, ()))
    if not found:
        raise ProblemsError([Problem(Location(doc.file), "no decision tables in this file "
                                     "(a derived stage's tables, or a stage's 'table')")])
    known = set(derived) if isinstance(derived, Mapping) else set()
    parts = {}  # a part of a several-output table (terms.days) -> its fact (terms)
    for key, entry, _ in found:
        outputs = entry["table"].get("outputs") or []
        if isinstance(derived, Mapping) and len(outputs) > 1:
            parts.update({f"{key}.{o.get('name')}": key for o in outputs})
    writer = _Writer(doc, known, parts)
    for _, entry, path in found:
        writer.refuse_what_xml_cannot_hold(entry, path)
    tables = [writer.table(key, entry, path) for key, entry, path in found]
    if writer.problems:
        raise ProblemsError(writer.problems)
    ids = {t.decision_name: t.decision_id for t in tables}
    for table in tables:
        table.required = sorted({ids[n] for n in table.required if n in ids} -
                                {table.decision_id})
    return StageTables(tables, formulas)


class _Writer:
    def __init__(self, doc: LocatedDocument, known: set[str], parts: dict[str, str]):
        self.doc = doc
        self.known = known
        self.parts = parts
        self.problems: list[Problem] = []

    def refuse(self, path: tuple, error: TermError) -> None:
        self.problems.append(Problem(self.doc.locate(path), f"cannot be written as DMN: "
                                                            f"{error}"))

    def refuse_what_xml_cannot_hold(self, value: object, path: tuple) -> None:
        """Refuse a text (or key) holding a character XML 1.0 cannot hold (most control
        characters): the file written would be one no parser reads, this one included."""
        if isinstance(value, Mapping):
            for key, item in value.items():
                self.refuse_what_xml_cannot_hold(key, (*path, key))
                self.refuse_what_xml_cannot_hold(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.refuse_what_xml_cannot_hold(item, (*path, index))
        elif isinstance(value, str) and (found := _NOT_IN_XML.search(value)):
            self.refuse(path, TermError(f"U+{ord(found.group()):04X} is a character XML "
                                        "cannot hold"))

    def table(self, key: str, entry: Mapping, path: tuple) -> DmnTable:
        spec = entry["table"]
        path = (*path, "table")
        reads: list[str] = []
        decision_id = str(spec.get("id") or key)
        table = DmnTable(decision_id=decision_id, decision_name=key,
                         hit_policy=HIT_POLICIES.get(spec.get("hit_policy"), "UNIQUE"),
                         aggregation=(spec.get("aggregation") or "").upper() or None,
                         description=entry.get("description"))
        for index, column in enumerate(spec.get("inputs") or []):
            name = column.get("name", "")
            text = name
            if "expr" in column:
                try:
                    expr = read_expression(str(column["expr"]))
                    text = feel.write_expression(expr)
                    reads += names_in(expr)
                except TermError as error:
                    self.refuse((*path, "inputs", index, "expr"), error)
            else:
                reads.append(name)
            values = None
            if isinstance(column.get("values"), list):
                values = self.value_list((*path, "inputs", index, "values"),
                                         column["values"], intervals=True)
            table.inputs.append(DmnInput(Cell(text), label=column.get("description"),
                                         name=name if "expr" in column else None,
                                         values=values))
        outputs = spec.get("outputs") or []
        for index, column in enumerate(outputs):
            key = "values" if "values" in column else "priority"
            values = None
            if isinstance(column.get(key), list):
                values = self.value_list((*path, "outputs", index, key), column[key],
                                         intervals=False)
            default = None
            if isinstance(spec.get("default"), Mapping) and column["name"] in spec["default"]:
                default = Cell(self.output((*path, "default", column["name"]),
                                           spec["default"][column["name"]], column, reads))
            table.outputs.append(DmnOutput(name=column.get("name"),
                                           label=column.get("description"),
                                           type_ref=column.get("type"), values=values,
                                           default=default))
        columns = [c.get("name") for c in spec.get("inputs") or []]
        for index, rule in enumerate(spec.get("rules") or []):
            rule_path = (*path, "rules", index)
            when = rule.get("when") or {}
            for column in when:
                if column not in columns:
                    self.refuse((*rule_path, "when", column), TermError(
                        f"'{column}' is not an input of this table"))
            cells = []
            for column in columns:
                try:
                    tests = read_cell(when.get(column), self.known)
                    reads += test_names(tests)
                    cells.append(Cell(feel.write_unary_tests(tests)))
                except TermError as error:
                    self.refuse((*rule_path, "when", column), error)
            then = rule.get("then") or {}
            outs = [Cell(self.output((*rule_path, "then", c["name"]), then.get(c["name"]), c,
                                     reads)) for c in outputs]
            description = rule.get("description")
            table.rules.append(DmnRule(id=str(rule.get("id")), inputs=cells, outputs=outs,
                                       annotations=[description] if description else []))
        if any(rule.annotations for rule in table.rules):
            table.annotation_names = ["description"]
            for rule in table.rules:
                rule.annotations = rule.annotations or [""]
        table.required = [self.parts.get(n, n) for n in reads
                          if self.parts.get(n, n) in self.known and self.parts.get(n, n) != key]
        return table

    def value_list(self, path: tuple, values: list, intervals: bool) -> Cell | None:
        """FEEL text of an input's or output's value list: texts quoted, numbers, true/false,
        and (``intervals``, an input's) the items that read as intervals of numbers, or as
        dates, times, durations or intervals of them, when every text item does
        (``"[0..500]"`` is an interval, ``P30D`` a duration, ``retail`` a text)."""
        ranges: dict[str, str] = {}
        if intervals:
            for index, value in enumerate(values):
                if isinstance(value, str):
                    try:
                        written = _interval(value) or _temporal(value)
                    except TermError as error:
                        self.refuse((*path, index), error)
                        continue
                    if written is None:
                        ranges = {}
                        break
                    ranges[value] = written
        parts = []
        for index, value in enumerate(values):
            if isinstance(value, bool):
                parts.append("true" if value else "false")
            elif isinstance(value, int | float):
                try:
                    parts.append(feel.plain_number(repr(value)))
                except TermError as error:
                    self.refuse((*path, index), error)
            elif isinstance(value, str):
                parts.append(ranges.get(value) or feel.quoted(value))
            else:
                self.refuse((*path, index), TermError("a value list holds texts, numbers "
                                                      "and true/false"))
        return Cell(", ".join(parts)) if parts else None

    def output(self, path: tuple, value: object, column: Mapping, reads: list[str]) -> str:
        """FEEL text of an output cell (empty: null)."""
        typ = column.get("type")
        if value is None:
            return ""
        if isinstance(value, Mapping):  # {expr: ...}, an expression in any output
            try:
                expr = read_expression(str(value.get("expr")))
            except TermError as error:
                self.refuse((*path, "expr"), error)
                return ""
            reads += names_in(expr)
            return feel.write_expression(expr)
        try:
            if typ == "string":
                if not isinstance(value, str):
                    raise TermError(f"'{column['name']}' holds text")
                return feel.quoted(value)
            if isinstance(value, bool):
                if typ != "boolean":
                    raise TermError(f"true/false in the {typ} output '{column['name']}'")
                return "true" if value else "false"
            if isinstance(value, int | float):
                return feel.plain_number(repr(value))
            expr = read_expression(str(value))
            reads += names_in(expr)
            return feel.write_expression(expr)
        except TermError as error:
            self.refuse(path, error)
            return ""


def _temporal(text: str) -> str | None:
    """FEEL text of a value-list item that is a date, time or duration (``2026-01-31``,
    ``P30D``) or an interval of them, or None."""
    try:
        tests = read_cell(text, ())
    except TermError:
        return None
    if tests.negated or len(tests.items) != 1:
        return None
    item = tests.items[0]
    if isinstance(item, Compare) and item.op == "==" and isinstance(item.value,
                                                                    DateLit | TimeLit):
        return feel.write_expression(item.value)
    ends = [end for end in (getattr(item, "low", None), getattr(item, "high", None))
            if end is not None]
    if isinstance(item, Range) and ends and all(isinstance(e, DateLit | TimeLit)
                                                for e in ends):
        return feel.write_unary_tests(tests)
    return None


def _interval(text: str) -> str | None:
    """FEEL text of a value-list item that is an interval of numbers, or None."""
    if not text.strip().startswith(("[", "(", "]")):
        return None
    try:
        tests = read_cell(text, ())
    except TermError:
        return None
    if tests.negated or len(tests.items) != 1 or not isinstance(tests.items[0], Range):
        return None
    item = tests.items[0]
    if item.low is None and item.high is None:
        raise TermError("an interval with no ends allows every number: leave the values out")
    if any(end is not None and not isinstance(end, Num | Neg) for end in (item.low,
                                                                          item.high)):
        return None
    return feel.write_unary_tests(tests)
