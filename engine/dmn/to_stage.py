"""DMN decision tables into the ruleset's derived stage: one derived fact per decision,
whose ``table`` is the decision table in the ruleset's own words.

Every hit policy, several outputs (the fact's parts, read as ``FACT.OUTPUT``), input and
output value lists (``inputValues``, ``outputValues``, or a type's ``allowedValues``),
default outputs and output entries that are expressions come across; what the ruleset's
tables cannot say is refused at its element, each with its own message, and nothing is
dropped. Names: a FEEL name is a fact path when it already is one (``attributes.age``),
another decision of the file (or one of its outputs, ``Terms.Days``) when it names one,
or what ``facts`` maps it to, or (with ``under``) a field under that prefix (``Applicant
Age`` under ``attributes`` is ``attributes.applicant_age``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ..errors import Problem, ProblemsError
from .dmn_reader import DmnFile
from .feel import parse_expression, parse_unary_tests
from .model import Cell, DmnOutput, DmnTable
from .ruleset_cells import ENGINE_NAMES, write_cell, write_expression
from .terms import (
    Bool,
    Compare,
    DateLit,
    Expr,
    Name,
    Neg,
    Null,
    Num,
    Range,
    TermError,
    Tests,
    Text,
    TimeLit,
    map_names,
    map_test_names,
    names_in,
    test_names,
)

HIT_POLICY_NAMES = {"UNIQUE": "unique", "FIRST": "first", "PRIORITY": "priority",
                    "ANY": "any", "COLLECT": "collect", "RULE ORDER": "rule_order",
                    "OUTPUT ORDER": "output_order"}
RANKED = ("PRIORITY", "OUTPUT ORDER")  # the rules are ranked by the outputs' value lists
# typeRef -> the ruleset's type (FEEL's, the XML Schema names DMN 1.1 tools wrote, and
# the names Camunda and Drools use).
TYPES = {"string": "string", "number": "number", "double": "number", "decimal": "number",
         "float": "number", "integer": "integer", "int": "integer", "long": "integer",
         "boolean": "boolean", "date": "date", "money": "money", "time": "time",
         "date and time": "datetime", "dateTime": "datetime",
         "days and time duration": "duration", "dayTimeDuration": "duration",
         "years and months duration": "years_months_duration",
         "yearMonthDuration": "years_months_duration"}
# A table's outputs are values the ruleset computes with; dates, times and durations are
# read by its inputs only (see engine/language/tables.py and the output_type schema).
OUTPUT_TYPES = ("number", "integer", "money", "string", "boolean")
_FACT_PATH = re.compile(r"^[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_RULE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


@dataclass
class Imported:
    """The derived stage made from a file, and what it needs from the ruleset."""

    stage: dict
    tables: list[tuple[str, str]]  # (derived fact, hit policy)
    reads: dict[str, str | None] = field(default_factory=dict)  # fact path -> type


def snake(name: str) -> str:
    """``Applicant Risk Rating`` and ``applicantRiskRating`` as ``applicant_risk_rating``;
    accents dropped (``Âge client``: ``age_client``); a name with no Latin letter or digit
    at all (``信用等级``) as ``name_`` and the first 8 hex digits of its SHA-256, which
    stays the same and apart from any other name."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name.strip())
                    if not unicodedata.combining(c))
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", plain)
    result = re.sub(r"[^0-9A-Za-z]+", "_", spaced).strip("_").lower()
    if not result and name.strip():
        return "name_" + hashlib.sha256(name.strip().encode("utf-8")).hexdigest()[:8]
    return f"_{result}" if result[:1].isdigit() else result or "value"


def to_stage(dmn: DmnFile, facts: Mapping[str, str] | None = None,
             under: str | None = None) -> Imported:
    """The derived stage holding every table of ``dmn``. Raises ProblemsError listing
    everything the ruleset cannot take, each at its element."""
    converter = _Converter(dmn, dict(facts or {}), under)
    stage = converter.convert()
    if converter.problems:  # a type several inputs use is refused once
        raise ProblemsError(list(dict.fromkeys(converter.problems)))
    return Imported(stage, converter.summary, converter.reads)


class _Converter:
    def __init__(self, dmn: DmnFile, facts: dict[str, str], under: str | None):
        self.dmn = dmn
        self.facts = {" ".join(k.split()): v for k, v in facts.items()}
        self.under = under
        self.problems: list[Problem] = []
        self.summary: list[tuple[str, str]] = []
        self.reads: dict[str, str | None] = {}
        self.keys: dict[int, str] = {}
        self.decisions: dict[str, str] = {}  # a name other decisions use -> derived fact
        self.parts: dict[str, list[str]] = {}  # a several-output decision -> its parts

    def problem(self, where, message: str) -> None:
        self.problems.append(Problem(where, message))

    def convert(self) -> dict:
        for index, table in enumerate(self.dmn.tables):
            key = snake(table.decision_name or table.decision_id or f"decision_{index + 1}")
            if key in self.keys.values():
                self.problem(table.location, f"decision '{table.decision_name}' has the same "
                             f"name as another decision once written as a fact ('{key}')")
            self.keys[index] = key
            aliases = [" ".join(a.split()) for a in (table.decision_name, key) if a]
            for alias in aliases:
                self.decisions[alias] = key
            if len(table.outputs) == 1 and table.outputs[0].name:
                self.decisions.setdefault(table.outputs[0].name, key)
            elif len(table.outputs) > 1:  # its parts: Terms.Days, terms.days
                names = output_names(table, key)
                self.parts[key] = [f"{key}.{name}" for name in names]
                for output, name in zip(table.outputs, names, strict=True):
                    if output.name:  # as Camunda reads a required decision's outputs
                        self.decisions.setdefault(output.name, f"{key}.{name}")
                    for alias in aliases:
                        for said in (output.name, output.label, name):
                            if said:
                                self.decisions[f"{alias}.{' '.join(said.split())}"] = \
                                    f"{key}.{name}"
        derived = {}
        for index, table in enumerate(self.dmn.tables):
            entry = self.table(table, self.keys[index])
            if entry is not None:
                derived[self.keys[index]] = entry
        return {"derived": derived}

    def resolve(self, name: str) -> str:
        """The ruleset's name for a FEEL name (TermError when there is none)."""
        name = " ".join(name.split())
        if name in self.facts:
            return self.facts[name]
        if name in self.decisions:
            found = self.decisions[name]
            if found in self.parts:
                parts = ", ".join(p.rsplit(".", 1)[1] for p in self.parts[found])
                raise TermError(f"'{name}' has several outputs ({parts}): read one of them, "
                                f"as '{name}.{self.parts[found][0].rsplit('.', 1)[1]}'")
            return found
        if _FACT_PATH.match(name) and (self.under is None or "." in name):
            return name
        if self.under is not None:
            if name.startswith(self.under + "."):
                return name
            return f"{self.under}.{snake(name)}"
        raise TermError(f"'{name}' is not a fact path: map it with --fact "
                        f"'{name}=attributes.{snake(name)}' (or any fact), or read such "
                        "names under attributes with --facts-under attributes")

    def type_of(self, type_ref: str | None, where, what: str
                ) -> tuple[str | None, Cell | None]:
        """The ruleset's type for a typeRef, and the allowed values its item definition
        gives (the nearest, when definitions build on each other); (None, None) when there
        is no typeRef or it is refused."""
        if type_ref is None or not type_ref.strip():
            return None, None
        name = type_ref.strip()
        seen = set()
        allowed = None
        while name not in TYPES:
            local = name.split(":", 1)[1] if name.startswith("feel:") else name
            if local in TYPES:
                name = local
                break
            definition = self.dmn.item_definitions.get(name)
            if definition is None or name in seen:
                self.problem(where, f"{what}: the type '{type_ref}' is not supported "
                             "(number, integer, string, boolean, date, time, date and time, "
                             "days and time duration, years and months duration)")
                return None, None
            seen.add(name)
            if definition.structured or definition.type_ref is None:
                self.problem(definition.location, f"type '{name}': structured types and "
                             "collections are not supported")
                return None, None
            if allowed is None and definition.allowed is not None and \
                    definition.allowed.text:
                allowed = definition.allowed
            name = definition.type_ref
        return TYPES[name], allowed

    def cell_problem(self, cell: Cell, context: str, error: TermError) -> None:
        shown = cell.text if len(cell.text) <= 60 else cell.text[:57] + "..."
        quoted = "" if cell.element == "inputExpression" else f" (the cell reads '{shown}')"
        self.problem(cell.location, f"<{cell.element}> {context}: {error}{quoted}")

    def table(self, table: DmnTable, key: str) -> dict | None:
        before = len(self.problems)
        what = f"decision '{table.decision_name or key}'"
        hit_policy = HIT_POLICY_NAMES[table.hit_policy]
        if table.aggregation and table.hit_policy != "COLLECT":
            self.problem(table.table_location, f"{what}: an aggregation needs hit policy "
                         "COLLECT")
        if not table.outputs:
            self.problem(table.table_location, f"{what}: the table has no <output>")
            return None
        names = output_names(table, key)
        for index, name in enumerate(names):
            if name in names[:index]:
                self.problem(table.outputs[index].location, f"{what}: two outputs are both "
                             f"'{name}' once written as names")
        outputs = [self.output_spec(output, name, index, table, what)
                   for index, (output, name) in enumerate(zip(table.outputs, names,
                                                              strict=True))]
        if table.hit_policy in RANKED and not any("values" in o for o, _ in outputs):
            self.problem(table.outputs[0].location, f"{what}: hit policy {table.hit_policy} "
                         "needs <outputValues> on an output (or a typeRef with allowed "
                         "values): its values in priority order")
        inputs = self.inputs(table, what)
        spec: dict = {}
        if table.decision_id and _RULE_ID.match(table.decision_id):
            spec["id"] = table.decision_id
        spec["hit_policy"] = hit_policy
        if table.aggregation:
            spec["aggregation"] = table.aggregation.lower()
        spec["inputs"] = [column for column, _ in inputs]
        spec["outputs"] = [column for column, _ in outputs]
        spec["rules"] = self.rules(table, what, inputs, outputs)
        default = {}
        for output, (column, typ) in zip(table.outputs, outputs, strict=True):
            if output.default is None or not output.default.text:
                continue
            if table.aggregation == "COUNT":
                self.problem(output.default.location, f"{what}: a COUNT table takes no "
                             "default output: a count over no matching rule is 0")
                continue
            value = self.output_value(output.default, f"{what}, the default", typ)
            if value is not None:
                default[column["name"]] = value
        if default:
            spec["default"] = default
        if len(self.problems) > before:
            return None
        self.summary.append((key, spec["hit_policy"]))
        entry: dict = {}
        if table.description:
            entry["description"] = table.description
        entry["table"] = spec
        return entry

    def output_spec(self, output: DmnOutput, name: str, index: int, table: DmnTable,
                    what: str) -> tuple[dict, str | None]:
        """An output column as the stage writes it, and its type (None: refused)."""
        typ, allowed = self.type_of(output.type_ref, output.location, f"{what}, output "
                                    f"'{output.name or output.label}'")
        if typ is None and not output.type_ref:
            typ = self.inferred_type(table, index)
            if typ is None:
                self.problem(output.location, f"{what}: the output has no typeRef and its "
                             "cells do not show one type; give it typeRef=\"number\", "
                             "\"string\" or \"boolean\"")
        if typ is not None and typ not in OUTPUT_TYPES:
            self.problem(output.location, f"{what}: a {typ} output is not supported "
                         f"({', '.join(OUTPUT_TYPES)}): the ruleset's tables read dates, "
                         "times and durations but do not give them")
            typ = None
        spec: dict = {"name": name, "type": typ or "string"}
        if output.label and output.label not in (output.name, name):
            spec["description"] = output.label
        values_cell = output.values if output.values is not None and output.values.text \
            else allowed
        if values_cell is not None:
            values = self.value_list(values_cell, f"{what}, output '{name}'", inputs=False)
            if values is not None:
                spec["values"] = values
        return spec, typ

    def inferred_type(self, table: DmnTable, index: int) -> str | None:
        kinds = set()
        for rule in table.rules:
            for cell in rule.outputs[index:index + 1]:
                try:
                    value = parse_expression(_feel(cell)) if cell.text else Null()
                except TermError:
                    return None
                kinds.add("string" if isinstance(value, Text) else "boolean" if isinstance(
                    value, Bool) else "number" if isinstance(value, Num | Neg) else
                    None if isinstance(value, Null) else "expression")
        kinds.discard(None)
        return kinds.pop() if len(kinds) == 1 and "expression" not in kinds else None

    def value_list(self, cell: Cell, what: str, inputs: bool) -> list | None:
        """A value list (``inputValues``, ``outputValues``, a type's ``allowedValues``) as
        the stage writes it: texts, numbers, true/false and, for an input, intervals
        (``[0..500]``; ``>= 0`` as ``[0..)``). None for ``-`` (any value) or when refused."""
        try:
            tests = parse_unary_tests(_feel(cell))
        except TermError as error:
            self.cell_problem(cell, what, error)
            return None
        if tests.is_any:
            return None
        if tests.negated:
            self.cell_problem(cell, what, TermError("a value list written as not(...) is not "
                                                    "supported: list the values it allows"))
            return None
        values = []
        for item in tests.items:
            value = _listed_value(item, inputs)
            if value is None:
                kinds = "texts, numbers, true/false, dates, times, durations and " \
                    "intervals of them" if inputs else "texts, numbers and true/false"
                self.cell_problem(cell, what, TermError(
                    f"a value list holds {kinds}, each written as itself (not names or "
                    "expressions)"))
                return None
            values.append(value)
        return values

    def inputs(self, table: DmnTable, what: str) -> list[tuple[dict, str | None]]:
        found: list[tuple[dict, str | None]] = []
        names = set()
        for index, column in enumerate(table.inputs):
            where = f"{what}, input {index + 1}" + (f" '{column.label}'" if column.label
                                                     else "")
            typ, allowed = self.type_of(column.type_ref, column.expression.location, where)
            try:
                expr = map_names(parse_expression(_feel(column.expression)), self.resolve)
            except TermError as error:
                self.cell_problem(column.expression, where, error)
                found.append(({"name": f"input_{index + 1}"}, None))
                continue
            # The column's own name, as the export writes it in the input's id.
            own = (column.id or "").removeprefix(f"{table.decision_id}.")
            named = table.decision_id and (column.id or "").startswith(
                f"{table.decision_id}.") and _FACT_PATH.match(own)
            if isinstance(expr, Name) and not (named and own != expr.path):
                spec = {"name": expr.path}
                self.note_reads([expr.path], typ)
            else:
                spec = {"name": own if named else snake(column.label or f"input_{index + 1}"),
                        "expr": write_expression(expr)}
                self.note_reads(names_in(expr), typ if isinstance(expr, Name) else None)
            if spec["name"] in names:
                self.problem(column.location, f"{where}: another input reads "
                             f"'{spec['name']}' too")
            names.add(spec["name"])
            if column.label and column.label != spec["name"]:
                spec["description"] = column.label
            values_cell = column.values if column.values is not None and \
                column.values.text else allowed
            if values_cell is not None:
                values = self.value_list(values_cell, where, inputs=True)
                if values is not None:
                    spec["values"] = values
            found.append((spec, typ))
        return found

    def note_reads(self, paths: list[str], typ: str | None) -> None:
        """Note the facts read (not another decision, nor a name the engine gives, such
        as as_of: neither is declared in facts.yaml)."""
        for path in paths:
            if path in ENGINE_NAMES:
                continue
            if path not in self.decisions.values() and self.reads.get(path) is None:
                self.reads[path] = typ

    def rules(self, table: DmnTable, what: str, inputs, outputs) -> list[dict]:
        rules, ids = [], set()
        ranked = table.hit_policy in RANKED
        for number, rule in enumerate(table.rules, start=1):
            rule_id = rule.id or ""
            if table.decision_id and rule_id.startswith(table.decision_id + "."):
                rule_id = rule_id[len(table.decision_id) + 1:]  # as export qualifies it
            if not _RULE_ID.match(rule_id) or rule_id in ids:
                rule_id = f"R{number}"
            ids.add(rule_id)
            context = f"of rule {number} ({rule_id}) of {what}"
            if len(rule.inputs) != len(inputs) or len(rule.outputs) != len(table.outputs):
                self.problem(rule.location, f"rule {number} ({rule_id}) of {what} has "
                             f"{len(rule.inputs)} input entries and {len(rule.outputs)} "
                             f"output entries for {len(inputs)} inputs and "
                             f"{len(table.outputs)} outputs")
                continue
            spec: dict = {"id": rule_id}
            description = self.description(rule, table)
            if description:
                spec["description"] = description
            when = {}
            for (column, _), cell in zip(inputs, rule.inputs, strict=True):
                try:
                    tests = map_test_names(parse_unary_tests(_feel(cell)), self.resolve)
                except TermError as error:
                    self.cell_problem(cell, f"{context}, input '{column['name']}'", error)
                    continue
                self.note_reads(test_names(tests), None)
                text = write_cell(tests)
                if text is not None:
                    when[column["name"]] = text
            if when:
                spec["when"] = when
            then = {}
            for (column, typ), cell in zip(outputs, rule.outputs, strict=True):
                where = context if len(outputs) == 1 else \
                    f"{context}, output '{column['name']}'"
                value = self.output_value(cell, where, typ,
                                          ranks=ranked and "values" in column)
                if value is not None:
                    then[column["name"]] = value
            if then:
                spec["then"] = then
            rules.append(spec)
        return rules

    @staticmethod
    def description(rule, table: DmnTable) -> str | None:
        parts = [rule.description] if rule.description else []
        named = len([a for a in rule.annotations if a]) > 1
        for index, text in enumerate(rule.annotations):
            if text:
                label = table.annotation_names[index] if index < len(
                    table.annotation_names) else ""
                parts.append(f"{label}: {text}" if named and label else text)
        return "; ".join(parts) or None

    def output_value(self, cell: Cell, context: str, out_type: str | None,
                     ranks: bool = False):
        """A rule's (or the default's) output as the stage writes it; None when empty. An
        expression in a text output is written ``{expr: ...}``; the cells of an output
        that ranks the rules (``ranks``) must be values."""
        if not cell.text:
            return None
        try:
            expr = map_names(parse_expression(_feel(cell)), self.resolve)
        except TermError as error:
            self.cell_problem(cell, context, error)
            return None
        if isinstance(expr, Null):
            return None
        literal = isinstance(expr, Num | Bool | Text) or (isinstance(expr, Neg) and
                                                          isinstance(expr.operand, Num))
        if ranks and not literal:
            self.cell_problem(cell, context, TermError(
                "this output's values rank the rules: its cells must be values, not "
                "expressions"))
            return None
        if out_type == "string":
            if isinstance(expr, Text):
                return expr.value
            if literal:
                self.cell_problem(cell, context, TermError(
                    "a number or true/false in a text output: give the output the type it "
                    "holds, or write the text in quotes"))
                return None
            self.note_reads(names_in(expr), None)
            return {"expr": write_expression(expr)}
        if isinstance(expr, Text):
            self.cell_problem(cell, context, TermError(f"a text in a {out_type} output"))
            return None
        self.note_reads(names_in(expr), None)
        if out_type == "boolean":
            return expr.value if isinstance(expr, Bool) else write_expression(expr)
        if isinstance(expr, Bool):
            self.cell_problem(cell, context, TermError(f"true/false in a {out_type} output"))
            return None
        number = _number(expr)
        return number if number is not None else write_expression(expr)


def output_names(table: DmnTable, key: str) -> list[str]:
    """The ruleset's names of a table's outputs (from their names, else labels)."""
    return [snake(o.name or o.label or (key if len(table.outputs) == 1 else
                                        f"output_{n}")) for n, o in enumerate(table.outputs, 1)]


def _listed_value(item, inputs: bool):
    """One value of a value list as the stage writes it (None: not a value): a date,
    time or duration of an input's list as its ISO text, an interval of them as a cell
    writes it."""
    if isinstance(item, Compare) and item.op == "==":
        if isinstance(item.value, Text | Bool):
            return item.value.value
        if inputs and isinstance(item.value, DateLit | TimeLit):
            return item.value.text
        number = _number(item.value)
        return number if isinstance(number, int | float) else None
    if not inputs:
        return None
    if isinstance(item, Compare) and item.op in ("<", "<=", ">", ">="):
        below = item.op in ("<", "<=")
        item = Range(None if below else item.value, item.op == ">=",
                     item.value if below else None, item.op == "<=")
    if isinstance(item, Range) and (all(end is None or _number(end) is not None
                                        for end in (item.low, item.high)) or
                                    all(end is None or isinstance(end, DateLit | TimeLit)
                                        for end in (item.low, item.high))):
        return write_cell(Tests((item,)))
    return None


def _feel(cell: Cell) -> str:
    """The cell's text, when it is FEEL (the default; also what Camunda calls "feel")."""
    language = (cell.language or "").strip()
    if language and language.lower() != "feel" and not re.search(
            r"/spec/DMN/\d+/FEEL/?$", language, re.I):
        raise TermError(f"the expression language '{language}' is not supported (FEEL only)")
    return cell.text


def _number(expr: Expr) -> int | float | str | None:
    """A number literal as YAML writes it: an int, a float that keeps every digit, or
    else the digits as an expression text (kept exact)."""
    sign = ""
    if isinstance(expr, Neg) and isinstance(expr.operand, Num):
        sign, expr = "-", expr.operand
    if not isinstance(expr, Num):
        return None
    text = sign + expr.text
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    value = float(text)
    return value if Decimal(repr(value)) == Decimal(text) else text
