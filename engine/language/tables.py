"""Decision tables with DMN hit policies, compiled to straight-line Python.

The table's inputs are evaluated once into locals; each rule's cells become one condition;
the hit policy decides the control flow (an ``if/elif`` chain for *first* and *priority*,
a match index for *unique* and *any*, accumulating lists for *collect* and *rule_order*).
"""

from __future__ import annotations

import ast
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
    kept,
    shown,
)
from .runtime import written
from .unary_tests import UnaryTest, compile_unary_test

HIT_POLICIES = ("unique", "first", "priority", "any", "collect", "rule_order")
SINGLE_HIT = ("unique", "first", "priority", "any")


@dataclass(frozen=True)
class TableRow:
    """One compiled rule: its id, condition (None: always) and the cells it was made of."""

    id: str
    condition: str | None
    cells: dict[str, UnaryTest]
    outputs: dict[str, str]
    output_keys: tuple[object, ...]


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
    outputs = [(o["name"], o["type"], o.get("priority")) for o in spec.get("outputs", [])]
    output_names = [o[0] for o in outputs]
    if len(set(output_names)) != len(output_names):
        rep.error((*path, "outputs"), "two outputs share a name")
    for index, (_, typ, priority) in enumerate(outputs):
        if priority is not None and (hit_policy != "priority" or typ != STRING):
            rep.error((*path, "outputs", index, "priority"),
                      "a priority list needs hit policy priority and a string output")
    if hit_policy == "priority" and not any(p for _, _, p in outputs):
        rep.error((*path, "hit_policy"), "hit policy priority needs an output with a "
                                         "priority list")
    if aggregation and any(t not in NUMERIC for _, t, _ in outputs) and aggregation != "count":
        rep.error((*path, "aggregation"), f"aggregation {aggregation} needs number outputs")
    if "default" in spec and hit_policy not in SINGLE_HIT:
        rep.error((*path, "default"), f"hit policy {hit_policy} takes no default")
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
            cells[column] = test
            reads.extend(n for n in test.reads if n not in reads)
            if test.code is not None:
                conditions.append(test.code)
        then = rule.get("then") or {}
        values = _output_cells(then, outputs, (*rule_path, "then"), scope, ctx, rep, reads)
        broken |= len(values) < len(outputs)  # a cell whose problem was reported before
        rows.append(TableRow(rule_id, " and ".join(conditions) or None, cells, values,
                             tuple(_output_key(then.get(n)) for n in output_names)))
    default = None
    if "default" in spec:
        default = _output_cells(spec["default"], outputs, (*path, "default"), scope, ctx, rep,
                                reads)
        broken |= len(default) < len(outputs)
    if len(rep.problems) > before or broken:
        return None
    kinds = _output_types(outputs, [r.outputs for r in rows] + ([default] if default else []))
    rows = [TableRow(r.id, r.condition, r.cells, _output_codes(r.outputs, kinds, ctx),
                     r.output_keys) for r in rows]
    default = None if default is None else _output_codes(default, kinds, ctx)

    for line in input_lines:
        fb.line(line)
    trace_reads = tuple(reads)
    result_locals = {name: f"_o_{ctx.temp()[2:]}_{name}" for name in output_names}
    result_types = {name: (LIST if hit_policy in ("collect", "rule_order") and not aggregation
                           else (INTEGER if aggregation == "count" else kinds[name]))
                    for name, _, _ in outputs}
    if hit_policy in SINGLE_HIT:
        ordered = rows
        if hit_policy == "priority":
            ordered = _priority_order(rows, outputs)
        _write_single_hit(fb, hit_policy, ordered, table_id, stage, trace_reads,
                          result_locals, default)
    else:
        _write_multi_hit(fb, rows, table_id, stage, trace_reads, result_locals, aggregation,
                         result_types)
    return CompiledTable(table_id, hit_policy,
                         {n: (result_locals[n], result_types[n]) for n in output_names},
                         tuple(rows), tuple(i[0] for i in inputs), tuple(i[2] for i in inputs))


def _output_cells(cells: Mapping, outputs, path: Path, scope, ctx: CodeContext,
                  rep: Reporter, reads: list[str]) -> dict[str, tuple[str, str]]:
    """(code, type) of each output cell of a rule (or of the default)."""
    known = {name: typ for name, typ, _ in outputs}
    for name in cells:
        if name not in known:
            rep.error((*path, name), f"'{name}' is not an output of this table (outputs: "
                      + ", ".join(known) + ")", at_key=True)
    result = {}
    for name, typ, priority in outputs:
        if name not in cells:
            result[name] = ("None", NULL)
            continue
        cell = cells[name]
        cell_path = (*path, name)
        if typ == STRING:
            if not isinstance(cell, str) and cell is not None:
                rep.error(cell_path, f"'{name}' holds text; write the value as text")
                continue
            if priority is not None and cell not in priority:
                rep.error(cell_path, f"'{cell}' is not in the priority list of '{name}'")
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
        compiled = rep.expression(cell_path, cell, scope, ctx)
        if compiled is None:
            continue
        if not _fits(compiled.type, typ):
            rep.error(cell_path, f"'{name}' takes {typ} values, this expression gives "
                      f"{shown(compiled.type)}" + (" (use round())" if typ == INTEGER else ""))
            continue
        reads.extend(n for n in compiled.reads if n not in reads)
        code = compiled.code
        if typ == MONEY and not code.startswith("_k"):
            code = f"_money({code})"  # money inputs may be plain numbers
        result[name] = (code, MONEY if typ == MONEY else compiled.type)
    return result


def _output_types(outputs, rows: list[Mapping[str, tuple[str, str]]]) -> dict[str, str]:
    """The type each output has: a number output is exact when every cell is (numbers the
    ruleset wrote, sums of them, whole numbers), else a float (a cell computes a ratio or
    reads a number fact); other outputs have the type declared."""
    kinds = {}
    for name, typ, _ in outputs:
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


def _output_key(cell: object) -> object:
    """What hit policy *any* compares: a number by its value (5 agrees with 5.0), anything
    else by its text."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return float(cell)
    return cell if isinstance(cell, bool) or cell is None else str(cell)


def _fits(actual: str, wanted: str) -> bool:
    if actual in (wanted, NULL):
        return True
    if wanted == NUMBER:
        return actual in (INTEGER, MONEY, EXACT)
    return wanted == MONEY and actual in (NUMBER, INTEGER, EXACT)


def evaluation_order(table: CompiledTable, spec: Mapping) -> list[TableRow]:
    """The rules of a single-hit table in the order they are tried (priority tables:
    sorted by the priority of their outputs, as compiled)."""
    if table.hit_policy != "priority":
        return list(table.rows)
    outputs = [(o["name"], o["type"], o.get("priority")) for o in spec.get("outputs", [])]
    return _priority_order(table.rows, outputs)


def _priority_order(rows, outputs) -> list[TableRow]:
    """Rules sorted by the priority of their outputs (stable), so that *priority* becomes
    *first* over the sorted rules."""
    ranked = [(name, priority) for name, _, priority in outputs if priority]

    def key(row: TableRow):
        ranks = []
        for name, priority in ranked:
            value = row.outputs[name]
            text = None if value == "None" else ast.literal_eval(value)
            ranks.append(priority.index(text) if text in priority else len(priority))
        return tuple(ranks)

    return sorted(rows, key=key)


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
                     result_types) -> None:
    lists = {name: f"{local}_all" for name, local in result_locals.items()}
    for local in lists.values():
        fb.line(f"{local} = []")
    for row in rows:
        fb.line(f"if {row.condition or 'True'}:")
        with fb.indented():
            for name, local in lists.items():
                fb.line(f"{local}.append({row.outputs[name]})")
            fb.trace(stage, f"{table_id}/{row.id}", reads,
                     "{" + ", ".join(f"{n!r}: {lists[n]}[-1]" for n in lists) + "}")
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
