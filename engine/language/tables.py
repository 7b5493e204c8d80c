"""Decision tables with DMN hit policies, compiled to straight-line Python.

The table's inputs are evaluated once into locals; each rule's cells become one condition;
the hit policy decides the control flow (an ``if/elif`` chain for *first* and *priority*,
a match index for *unique* and *any*, accumulating lists for *collect*, *rule_order* and
*output_order*). *priority* and *output_order* rank the rules by their outputs' value
lists when compiling (the cells they rank are constants), so both become plain rule order
over the ranked rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .codegen import FunctionBuilder, Path, Reporter
from .expressions import (
    BOOLEAN,
    EXACT,
    INTEGER,
    LIST,
    MONEY,
    NULL,
    NUMBER,
    NUMERIC,
    STRING,
    CodeContext,
    Symbol,
    as_decimal,
    kept,
    shown,
)
from .runtime import written
from .temporal import TEMPORAL
from .unary_tests import Interval, UnaryTest, compile_unary_test

HIT_POLICIES = ("unique", "first", "priority", "any", "collect", "rule_order", "output_order")
SINGLE_HIT = ("unique", "first", "priority", "any")
MULTI_HIT = ("collect", "rule_order", "output_order")
RANKED = ("priority", "output_order")  # the rules are tried in the order of their outputs


@dataclass(frozen=True)
class OutputColumn:
    """An output as the table declares it. ``allowed`` is its value list (DMN's output
    values: the values it may take, most important first), from ``values`` or from the
    older ``priority``; ``list_key`` says which."""

    name: str
    type: str
    allowed: tuple | None = None
    list_key: str | None = None


@dataclass(frozen=True)
class InputValues:
    """An input's list of allowed values (DMN's input values): texts or true/false as
    values, numbers, dates, times and durations as intervals (a value v as [v..v])."""

    values: frozenset | None
    intervals: tuple[Interval, ...] | None
    shown: str

    def outside(self, test: UnaryTest) -> str | None:
        """The first constant of a cell that is not among the allowed values, as text."""
        if self.values is not None:
            wrong = sorted(str(v) for v in test.values or () if v not in self.values)
            return f"'{wrong[0]}'" if wrong else None
        if test.negated:
            return None
        for value in sorted(test.values or (), key=str):
            if not any(i.contains(value) for i in self.intervals):
                return f"'{_shown_number(value)}'"
        for interval in test.intervals or ():
            if not any(_overlap(interval, allowed) for allowed in self.intervals):
                alone = len(test.intervals) == 1 and not test.values
                return f"'{test.text.strip() if alone else interval}'"
        return None


def input_values(items: list, typ: str, path: Path, rep: Reporter) -> InputValues | None:
    """An input's ``values`` read for its type: texts for a text input, true/false for a
    boolean one, numbers and intervals ("[0..1]") for a number one, and values and
    intervals of its type for a date, time or duration ("2026-01-31", "[P0D..P30D]")."""
    listed = ", ".join(_shown_value(v).strip("'") for v in items)
    if typ in (STRING, BOOLEAN):
        wrong = next((i for i, v in enumerate(items) if not _of_type(v, typ)), None)
        if wrong is not None:
            rep.error((*path, wrong), f"{_shown_value(items[wrong])} is not "
                      f"{_a_value_of(typ)}, the type of this input")
            return None
        return InputValues(frozenset(items), None, listed)
    if typ in TEMPORAL:
        return _temporal_values(items, typ, listed, path, rep)
    if typ not in NUMERIC:
        rep.error(path, f"a list of values is for text, number, true/false, date, time "
                        f"and duration inputs, not {shown(typ)}")
        return None
    intervals = []
    for index, item in enumerate(items):
        if _of_type(item, NUMBER):
            intervals.append(Interval(item, True, item, True))
            continue
        test = None
        if isinstance(item, str) and _INTERVAL_START.match(item):
            test = rep.guard((*path, index), lambda i=item: compile_unary_test(
                i, "_value", typ, {}, CodeContext()))
        if test is None or test.negated or test.values or not test.intervals or \
                len(test.intervals) != 1:
            if test is not None or not _INTERVAL_START.match(str(item)):
                rep.error((*path, index), f"{_shown_value(item)} is not a number or an "
                          "interval such as [0..1]")
            return None
        intervals.append(test.intervals[0])
    return InputValues(None, tuple(intervals), listed)


def _temporal_values(items: list, typ: str, listed: str, path: Path, rep: Reporter
                     ) -> InputValues | None:
    """The values of a date, time or duration input, each a value of its type as a cell
    writes it (``2026-01-31``, ``P30D``) or an interval of them (``[P0D..P30D]``)."""
    intervals = []
    for index, item in enumerate(items):
        test = rep.guard((*path, index), lambda i=item: compile_unary_test(
            i, "_value", typ, {}, CodeContext())) if isinstance(item, str) else None
        if test is not None and not test.negated and test.intervals and not test.values \
                and len(test.intervals) == 1 and _INTERVAL_START.match(item):
            intervals.append(test.intervals[0])
        elif test is not None and not test.negated and test.values and not \
                test.intervals and len(test.values) == 1:
            value = next(iter(test.values))
            intervals.append(Interval(value, True, value, True))
        else:
            if test is not None or not isinstance(item, str):
                rep.error((*path, index), f"{_shown_value(item)} is not a {shown(typ)} or "
                          "an interval of them, such as [P0D..P30D] or [2026-01-01..)")
            return None
    return InputValues(None, tuple(intervals), listed)


def _overlap(a: Interval, b: Interval) -> bool:
    """Whether two intervals share a value."""
    def below(high, high_closed, low, low_closed) -> bool:  # an end strictly before a start
        if high is None or low is None:
            return False
        return high < low or (high == low and not (high_closed and low_closed))

    return not (below(a.high, a.high_closed, b.low, b.low_closed) or
                below(b.high, b.high_closed, a.low, a.low_closed))


def _shown_number(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def table_outputs(spec: Mapping) -> list[OutputColumn]:
    """The outputs of a table spec, with their value lists."""
    columns = []
    for output in spec.get("outputs", []):
        key = "values" if "values" in output else "priority" if "priority" in output else None
        columns.append(OutputColumn(output["name"], output["type"],
                                    None if key is None else tuple(output[key]), key))
    return columns


@dataclass(frozen=True)
class TableRow:
    """One compiled rule: its id, condition (None: always) and the cells it was made of."""

    id: str
    condition: str | None
    cells: dict[str, UnaryTest]
    outputs: dict[str, str]
    output_keys: tuple[object, ...]
    rank: tuple[int, ...] = ()  # ranked tables: positions of its outputs in their lists


@dataclass(frozen=True)
class CompiledTable:
    """What a table gives to the code after it: output name -> (local, type)."""

    id: str
    hit_policy: str
    outputs: dict[str, tuple[str, str]]
    rows: tuple[TableRow, ...]
    input_names: tuple[str, ...]
    input_types: tuple[str, ...]


def compile_table(spec: Mapping, path: Path, table_id: str, stage: str,
                  scope: Mapping[str, Symbol], fb: FunctionBuilder, rep: Reporter
                  ) -> CompiledTable | None:
    """Write code computing the table's outputs into ``fb``. Returns None when the table
    has problems (each reported to ``rep``)."""
    before = len(rep.problems)
    ctx = fb.ctx
    hit_policy = spec.get("hit_policy", "unique")
    aggregation = spec.get("aggregation")
    if aggregation and hit_policy != "collect":
        rep.error((*path, "aggregation"), "aggregation is only for hit policy collect")
    # Inputs: each evaluated once into a local.
    inputs: list[tuple[str, str, str, bool, tuple[str, ...]]] = []
    allowed_inputs: dict[str, InputValues] = {}
    failed_inputs: set[str] = set()
    input_lines = []
    for index, column in enumerate(spec.get("inputs", [])):
        name = column["name"]
        if any(name == known[0] for known in inputs):
            rep.error((*path, "inputs", index, "name"), f"input '{name}' appears twice")
            continue
        compiled = rep.expression((*path, "inputs", index, "expr" if "expr" in column else
                                   "name"), column.get("expr", name), scope, ctx)
        if compiled is None:
            failed_inputs.add(name)
            continue
        local = ctx.temp()
        input_lines.append(f"{local} = {compiled.code}")
        inputs.append((name, local, compiled.type, compiled.nullable, compiled.reads))
        if "values" in column:
            allowed = input_values(list(column["values"]), compiled.type,
                                   (*path, "inputs", index, "values"), rep)
            if allowed is not None:
                allowed_inputs[name] = allowed
    outputs = table_outputs(spec)
    output_names = [o.name for o in outputs]
    if len(set(output_names)) != len(output_names):
        rep.error((*path, "outputs"), "two outputs share a name")
    for index, (column, raw) in enumerate(zip(outputs, spec.get("outputs", []), strict=True)):
        _check_value_list(column, raw, (*path, "outputs", index), rep)
    ranked = [o for o in outputs if o.allowed is not None] if hit_policy in RANKED else []
    if hit_policy in RANKED and not ranked:
        rep.error((*path, "hit_policy"), f"hit policy {hit_policy} needs an output with a "
                                         "list of values (values: [...], most important "
                                         "first) to rank the rules by")
    if aggregation and any(o.type not in NUMERIC for o in outputs) and aggregation != "count":
        rep.error((*path, "aggregation"), f"aggregation {aggregation} needs number outputs")
    if "default" in spec and aggregation == "count":
        rep.error((*path, "default"), "a count over no matching rule is 0: aggregation "
                                      "count takes no default")
    reads: list[str] = []
    for *_, input_reads in inputs:
        reads.extend(n for n in input_reads if n not in reads)
    input_by_name = {i[0]: i for i in inputs}

    rows: list[TableRow] = []
    broken = False
    seen_ids: set[str] = set()
    for r_index, rule in enumerate(spec.get("rules", [])):
        rule_path = (*path, "rules", r_index)
        rule_id = str(rule["id"])
        if rule_id in seen_ids:
            rep.error((*rule_path, "id"), f"rule id '{rule_id}' is used twice in this table")
        seen_ids.add(rule_id)
        cells, conditions = {}, []
        when = rule.get("when") or {}
        # Input order, not the mapping's key order (which the ruleset hash ignores).
        order = {name: index for index, name in enumerate(input_by_name)}
        for column, cell in sorted(when.items(), key=lambda kv: (order.get(kv[0], len(order)),
                                                                 kv[0])):
            if column in failed_inputs:
                continue
            if column not in input_by_name:
                rep.error((*rule_path, "when", column), f"'{column}' is not an input of this "
                          "table (inputs: " + ", ".join(input_by_name) + ")", at_key=True)
                continue
            _, local, typ, nullable, _ = input_by_name[column]
            test = rep.guard((*rule_path, "when", column), lambda c=cell, lo=local, t=typ,
                             n=nullable: compile_unary_test(c, lo, t, scope, ctx,
                                                            input_nullable=n))
            if test is None:
                continue
            unknown = _outside_closed_list(column, test, ctx)
            if unknown:
                rep.error((*rule_path, "when", column), unknown)
                continue
            allowed = allowed_inputs.get(column)
            outside = allowed.outside(test) if allowed is not None else None
            if outside:
                rep.error((*rule_path, "when", column), f"{outside} is not one of the values "
                          f"of input '{column}' ({allowed.shown})")
                continue
            cells[column] = test
            reads.extend(n for n in test.reads if n not in reads)
            if test.code is not None:
                conditions.append(test.code)
        then = rule.get("then") or {}
        values = _output_cells(then, outputs, (*rule_path, "then"), scope, ctx, rep, reads,
                               ranked, f"{table_id}/{rule_id}")
        broken |= len(values) < len(outputs)  # a cell whose problem was reported before
        rows.append(TableRow(rule_id, " and ".join(conditions) or None, cells, values,
                             tuple(_output_key(then.get(n)) for n in output_names),
                             _rank(then, ranked)))
    default = None
    if "default" in spec:
        default = _output_cells(spec["default"], outputs, (*path, "default"), scope, ctx, rep,
                                reads, (), f"{table_id}/default")
        broken |= len(default) < len(outputs)
    if len(rep.problems) > before or broken:
        return None
    kinds = _output_types(outputs, [r.outputs for r in rows] + ([default] if default else []))
    rows = [TableRow(r.id, r.condition, r.cells, _output_codes(r.outputs, kinds, ctx),
                     r.output_keys, r.rank) for r in rows]
    default = None if default is None else _output_codes(default, kinds, ctx)

    for line in input_lines:
        fb.line(line)
    trace_reads = tuple(reads)
    result_locals = {name: f"_o_{ctx.temp()[2:]}_{name}" for name in output_names}
    result_types = {name: (LIST if hit_policy in MULTI_HIT and not aggregation
                           else (INTEGER if aggregation == "count" else kinds[name]))
                    for name in output_names}
    ordered = _ranked_order(rows) if hit_policy in RANKED else rows
    if hit_policy in SINGLE_HIT:
        _write_single_hit(fb, hit_policy, ordered, table_id, stage, trace_reads,
                          result_locals, default)
    else:
        _write_multi_hit(fb, ordered, table_id, stage, trace_reads, result_locals,
                         aggregation, result_types, default)
    return CompiledTable(table_id, hit_policy,
                         {n: (result_locals[n], result_types[n]) for n in output_names},
                         tuple(rows), tuple(i[0] for i in inputs), tuple(i[2] for i in inputs))


def _output_cells(cells: Mapping, outputs: list[OutputColumn], path: Path, scope,
                  ctx: CodeContext, rep: Reporter, reads: list[str],
                  ranked: list[OutputColumn] | tuple, rule_id: str
                  ) -> dict[str, tuple[str, str]]:
    """(code, type) of each output cell of a rule (or of the default). A constant cell of
    an output with a value list must be one of its values."""
    known = {o.name: o.type for o in outputs}
    for name in cells:
        if name not in known:
            rep.error((*path, name), f"'{name}' is not an output of this table (outputs: "
                      + ", ".join(known) + ")", at_key=True)
    result = {}
    for column in outputs:
        name, typ = column.name, column.type
        if name not in cells:
            result[name] = ("None", NULL)
            continue
        cell = cells[name]
        cell_path = (*path, name)
        if isinstance(cell, Mapping):  # {expr: ...}: an expression, in a column of any type
            code = _expression_cell(column, cell["expr"], (*cell_path, "expr"), scope, ctx,
                                    rep, reads, ranked, rule_id)
            if code is not None:
                result[name] = code
            continue
        outside = _outside_value_list(column, cell)
        if outside:
            rep.error(cell_path, outside)
            continue
        if typ == STRING:
            if not isinstance(cell, str) and cell is not None:
                rep.error(cell_path, f"'{name}' holds text; write the value as text")
                continue
            result[name] = (repr(cell), STRING)
            continue
        if cell is None:
            result[name] = ("None", NULL)
            continue
        if typ == BOOLEAN and isinstance(cell, bool):
            result[name] = (repr(cell), BOOLEAN)
            continue
        if isinstance(cell, bool):
            rep.error(cell_path, f"true/false in the {typ} output '{name}'")
            continue
        if isinstance(cell, int | float) and typ in NUMERIC:
            if typ == INTEGER and not isinstance(cell, int):
                rep.error(cell_path, f"'{name}' takes whole numbers")
                continue
            if typ == MONEY:
                result[name] = (ctx.constant(Decimal(repr(cell))), MONEY)
            elif isinstance(cell, int):
                result[name] = (repr(cell), INTEGER)
            else:  # a number the ruleset wrote is exact
                result[name] = (ctx.constant(written(cell)), EXACT)
            continue
        if typ in NUMERIC and isinstance(cell, str) and _WORD.fullmatch(cell.strip()) and \
                cell.strip() not in scope:
            # A word where a number belongs ("sixty" days): not an unknown field to an analyst.
            what = "a number of days" if name.endswith("_days") else "a number"
            rep.error(cell_path, f"'{name}' takes {what}, not the word '{cell.strip()}'; "
                      "write it in digits, or an expression over the facts")
            continue
        code = _expression_cell(column, cell, cell_path, scope, ctx, rep, reads, ranked,
                                rule_id)
        if code is not None:
            result[name] = code
    return result


def _expression_cell(column: OutputColumn, text: object, path: Path, scope, ctx: CodeContext,
                     rep: Reporter, reads: list[str], ranked, rule_id: str
                     ) -> tuple[str, str] | None:
    """(code, type) of an output cell that is an expression; a value it computes outside
    the output's value list is a decision error."""
    name, typ = column.name, column.type
    if column in ranked:
        rep.error(path, f"'{name}' ranks the rules of this table: write one of its values, "
                  "not an expression")
        return None
    compiled = rep.expression(path, text, scope, ctx)
    if compiled is None:
        return None
    if not _fits(compiled.type, typ):
        rep.error(path, f"'{name}' takes {shown(typ)} values, this expression gives "
                  f"{shown(compiled.type)}" + (" (use round())" if typ == INTEGER else ""))
        return None
    reads.extend(n for n in compiled.reads if n not in reads)
    code = compiled.code
    if typ == MONEY and not code.startswith("_k"):
        code = as_decimal(code, ctx)  # money inputs may be plain numbers
    if column.allowed is not None:
        allowed = ctx.constant(column.allowed)
        code = f"_listed({code}, {allowed}, {ctx.constant((rule_id, name))})"
    return code, MONEY if typ == MONEY else compiled.type


def _check_value_list(column: OutputColumn, raw: Mapping, path: Path, rep: Reporter) -> None:
    """An output's value list holds values of the output's type, given once."""
    if "values" in raw and "priority" in raw:
        rep.error((*path, "priority"), f"'{column.name}' has both values and priority; "
                  "priority is the older name of values: keep one")
        return
    if column.allowed is None:
        return
    for index, value in enumerate(column.allowed):
        if not _of_type(value, column.type):
            rep.error((*path, column.list_key, index), f"{_shown_value(value)} is not "
                      f"{_a_value_of(column.type)}, the type of '{column.name}'")


def _of_type(value: object, typ: str) -> bool:
    if typ == STRING:
        return isinstance(value, str)
    if typ == BOOLEAN:
        return isinstance(value, bool)
    if typ == INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(value)


def _a_value_of(typ: str) -> str:
    return {STRING: "a text", BOOLEAN: "true or false", INTEGER: "a whole number",
            MONEY: "an amount"}.get(typ, "a number")


def _shown_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f"'{value}'" if isinstance(value, str) else repr(value)


def list_position(value: object, allowed: tuple) -> int | None:
    """Where ``value`` is in a value list (a number by its value, true/false only as
    themselves, a text as written), or None."""
    for index, item in enumerate(allowed):
        if isinstance(item, bool) or isinstance(value, bool):
            if item is value:
                return index
        elif item == value and isinstance(item, str) == isinstance(value, str):
            return index
    return None


def _outside_value_list(column: OutputColumn, cell: object) -> str | None:
    """What is wrong when a constant cell is not one of its output's values (an
    expression is checked when it is computed)."""
    if column.allowed is None or cell is None or not _of_type(cell, column.type) or \
            list_position(cell, column.allowed) is not None:
        return None
    if column.list_key == "priority":
        return f"'{cell}' is not in the priority list of '{column.name}'"
    listed = ", ".join(_shown_value(v).strip("'") for v in column.allowed)
    return f"{_shown_value(cell)} is not one of the values of '{column.name}' ({listed})"


def _rank(then: Mapping, ranked: list[OutputColumn]) -> tuple[int, ...]:
    """A rule's place in a ranked table: the position of each ranked output's value in
    its list (a missing value last)."""
    ranks = []
    for column in ranked:
        position = list_position(then.get(column.name), column.allowed)
        ranks.append(len(column.allowed) if position is None else position)
    return tuple(ranks)


def _output_types(outputs, rows: list[Mapping[str, tuple[str, str]]]) -> dict[str, str]:
    """The type each output has: a number output is exact when every cell is (numbers the
    ruleset wrote, sums of them, whole numbers), else a float (a cell computes a ratio or
    reads a number fact); other outputs have the type declared."""
    kinds = {}
    for name, typ in ((o.name, o.type) for o in outputs):
        cell_types = {row[name][1] for row in rows} - {NULL}
        kinds[name] = EXACT if typ == NUMBER and cell_types <= {EXACT, INTEGER} else typ
    return kinds


def _output_codes(cells: Mapping[str, tuple[str, str]], kinds: Mapping[str, str],
                  ctx: CodeContext) -> dict[str, str]:
    """The code of each output cell as the output's type keeps it: an exact number as
    Exact, or as the float nearest to it in an output of floats."""
    codes = {}
    for name, (code, typ) in cells.items():
        if typ == EXACT and kinds[name] == NUMBER:
            code = repr(float(ctx.constants[code])) if code in ctx.constants else \
                f"_float({code})"
        elif kinds[name] == EXACT:
            code = kept(code, typ)
        codes[name] = code
    return codes


_WORD = re.compile(r"[A-Za-z]+")
_INTERVAL_START = re.compile(r"\s*[\[\(\]]")


def _output_key(cell: object) -> object:
    """What hit policy *any* compares: a number by its value (5 agrees with 5.0), anything
    else by its text (an expression by the text of it)."""
    if isinstance(cell, Mapping):
        return str(cell.get("expr"))
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return float(cell)
    return cell if isinstance(cell, bool) or cell is None else str(cell)


def _fits(actual: str, wanted: str) -> bool:
    if actual in (wanted, NULL):
        return True
    if wanted == NUMBER:
        return actual in (INTEGER, MONEY, EXACT)
    return wanted == MONEY and actual in (NUMBER, INTEGER, EXACT)


def evaluation_order(table: CompiledTable, spec: Mapping | None = None) -> list[TableRow]:
    """The rules of a table in the order they are tried (*priority* and *output_order*:
    sorted by the positions of their outputs in the value lists, as compiled)."""
    return _ranked_order(table.rows) if table.hit_policy in RANKED else list(table.rows)


def _ranked_order(rows) -> list[TableRow]:
    """Rules sorted by their rank (stable: rule order among equals), so that *priority*
    becomes *first*, and *output_order* *rule_order*, over the sorted rules."""
    return sorted(rows, key=lambda row: row.rank)


def _assign(fb: FunctionBuilder, row_outputs: Mapping[str, str], result_locals) -> None:
    for name, local in result_locals.items():
        fb.line(f"{local} = {row_outputs[name]}")


def _result_dict(result_locals) -> str:
    return "{" + ", ".join(f"{n!r}: {local}" for n, local in result_locals.items()) + "}"


def _write_single_hit(fb, hit_policy, rows, table_id, stage, reads, result_locals,
                      default) -> None:
    result = _result_dict(result_locals)
    fallback = default or {name: "None" for name in result_locals}
    if hit_policy in ("first", "priority"):
        keyword = "if"
        for row in rows:
            fb.line(f"{keyword} {row.condition or 'True'}:")
            with fb.indented():
                _assign(fb, row.outputs, result_locals)
                fb.trace(stage, f"{table_id}/{row.id}", reads, result)
            keyword = "elif"
        if not rows:
            fb.line("if False:")
            with fb.indented():
                fb.line("pass")
        fb.line("else:")
        with fb.indented():
            _assign(fb, fallback, result_locals)
            fb.trace(stage, f"{table_id}/{'default' if default else 'no_match'}", reads,
                     result)
        return
    # unique / any: find the first match, then check the others.
    ctx = fb.ctx
    match = ctx.temp()
    ids = ctx.constant(tuple(r.id for r in rows))
    keys = ctx.constant(tuple(r.output_keys for r in rows))
    fb.line(f"{match} = -1")
    for index, row in enumerate(rows):
        fb.line(f"if {row.condition or 'True'}:")
        with fb.indented():
            if index:
                if hit_policy == "unique":
                    fb.line(f"if {match} >= 0: _conflict({table_id!r}, 'unique', "
                            f"{ids}[{match}], {row.id!r})")
                else:
                    fb.line(f"if {match} >= 0 and {keys}[{match}] != {keys}[{index}]: "
                            f"_conflict({table_id!r}, 'any', {ids}[{match}], {row.id!r})")
                fb.line(f"if {match} < 0: {match} = {index}")
            else:
                fb.line(f"{match} = 0")
    keyword = "if"
    for index, row in enumerate(rows):
        fb.line(f"{keyword} {match} == {index}:")
        with fb.indented():
            _assign(fb, row.outputs, result_locals)
            fb.trace(stage, f"{table_id}/{row.id}", reads, result)
        keyword = "elif"
    fb.line("else:" if rows else "if True:")
    with fb.indented():
        _assign(fb, fallback, result_locals)
        fb.trace(stage, f"{table_id}/{'default' if default else 'no_match'}", reads, result)


def _write_multi_hit(fb, rows, table_id, stage, reads, result_locals, aggregation,
                     result_types, default) -> None:
    lists = {name: f"{local}_all" for name, local in result_locals.items()}
    for local in lists.values():
        fb.line(f"{local} = []")

    def gather(condition: str, values: dict, trace_id: str, index: int) -> None:
        fb.line(f"if {condition}:")
        with fb.indented():
            for name, local in lists.items():
                fb.line(f"{local}.append({values[name]})")
            fb.trace(stage, f"{table_id}/{trace_id}", reads,
                     "{" + ", ".join(f"{n!r}: {lists[n]}[{index}]" for n in lists) + "}")

    for row in rows:
        gather(row.condition or "True", row.outputs, row.id, -1)
    if default is not None:
        # No rule matched: the default is the value gathered (aggregated, it is the result).
        gather(f"not {next(iter(lists.values()))}", default, "default", 0)
    for name, local in result_locals.items():
        values = lists[name]
        if aggregation is None:
            fb.line(f"{local} = {values}")
        elif aggregation == "count":
            fb.line(f"{local} = len({values})")
        else:
            total = f"_aggregate({aggregation!r}, {values})"
            fb.line(f"{local} = {kept(total, result_types[name])}")


def _outside_closed_list(column: str, test, ctx: CodeContext) -> str | None:
    """What is wrong when a cell of a closed-list column names a value outside the list."""
    closed = ctx.closed_values.get(column)
    if closed is None or not test.values:
        return None
    what, allowed = closed
    wrong = sorted(str(v) for v in test.values if v not in allowed)
    if not wrong:
        return None
    return (f"'{wrong[0]}' is not {what} (one of {', '.join(allowed)})")
