"""Derived facts: named expressions (or decision tables) over the declared facts, evaluated
in dependency order before the stages. A table with one output is a fact of the table's
name; a table with several outputs is a structured fact: each output is read as
``NAME.OUTPUT`` (``terms.days``, ``terms.discount``)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..language.codegen import FunctionBuilder, Reporter, local_name
from ..language.expressions import Symbol, kept
from ..language.tables import compile_table

STAGE = "derived"
_WORD = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*)(?![\w])")
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", re.S)


def dependency_order(derived: Mapping[str, object], rep: Reporter) -> list[str]:
    """Names of derived facts in an order where each comes after those it reads; a cycle
    is reported at every fact on it."""
    names = set(derived)
    needs = {name: _mentions(spec) & names - {name} for name, spec in derived.items()}
    itself = [name for name, spec in derived.items() if name in _mentions(spec)]
    for name in itself:
        rep.error(("derived", name), f"derived fact '{name}' reads itself", at_key=True)
    order: list[str] = []
    done: set[str] = set(itself)  # reported: what reads one is not held back by it
    pending = [name for name in derived if name not in itself]
    while pending:
        # Sorted, so that the order (and the trace) does not depend on how the YAML
        # mapping was written: the ruleset's hash ignores key order.
        ready = sorted(n for n in pending if needs[n] <= done)
        if not ready:
            for name in pending:
                cycle = _cycle_from(name, needs, set(pending))
                rep.error(("derived", name), "derived facts depend on each other in a "
                          "cycle: " + " -> ".join(cycle), at_key=True)
            break
        order.extend(ready)
        done.update(ready)
        pending = [n for n in pending if n not in done]
    return order


def _cycle_from(start: str, needs: Mapping[str, set], pending: set) -> list[str]:
    path, current = [start], start
    while True:
        nxt = sorted(needs[current] & pending)[0]
        if nxt in path:
            return [*path[path.index(nxt):], nxt]
        path.append(nxt)
        current = nxt


def _mentions(spec: object) -> set[str]:
    """Every bare word in the strings of a derived fact's spec that may name a fact it
    reads (a safe over-estimate). A table's column names, output types and priority lists
    and its text outputs are not reads: a table whose output has the fact's own name does
    not read itself."""
    if isinstance(spec, Mapping) and isinstance(spec.get("table"), Mapping):
        return _table_mentions(spec["table"])
    found: set[str] = set()
    if isinstance(spec, str):
        found.update(_WORD.findall(_QUOTED.sub(" ", spec)))
    elif isinstance(spec, Mapping):
        for key, value in spec.items():
            if key not in ("description", "id", "type", "hit_policy", "aggregation"):
                found |= _mentions(value)
    elif isinstance(spec, list):
        for item in spec:
            found |= _mentions(item)
    return found


def _table_mentions(table: Mapping) -> set[str]:
    """What a table may read: its inputs' expressions (an input without ``expr`` reads
    its name), its input cells and the expressions in its number and boolean outputs."""
    found: set[str] = set()
    for column in _list(table.get("inputs")):
        if isinstance(column, Mapping):
            found |= _mentions(column.get("expr", column.get("name")))
    text_outputs = {o.get("name") for o in _list(table.get("outputs"))
                    if isinstance(o, Mapping) and o.get("type") == "string"}
    cells = [rule.get("when") for rule in _list(table.get("rules")) if isinstance(rule, Mapping)]
    outputs = [rule.get("then") for rule in _list(table.get("rules"))
               if isinstance(rule, Mapping)] + [table.get("default")]
    for when in cells:
        if isinstance(when, Mapping):
            found |= _mentions(list(when.values()))
    for then in outputs:
        if isinstance(then, Mapping):
            # A text output's cell is text, unless it is written {expr: ...}.
            found |= _mentions([v for k, v in then.items()
                                if k not in text_outputs or isinstance(v, Mapping)])
    return found


def _structured(name: str, outputs: Mapping[str, tuple[str, str]], path: tuple,
                scope: dict[str, Symbol], reserved: set[str], fb: FunctionBuilder,
                rep: Reporter) -> dict[str, str]:
    """Store each output of a several-output table as the fact ``name.output``; returns
    their types."""
    types = {}
    for output, (local, typ) in outputs.items():
        part = f"{name}.{output}"
        if part in reserved or part in scope:
            rep.error((*path, "table", "outputs"), f"'{part}' is already a fact or a stage "
                      "output; choose another name for the fact or the output")
            continue
        fb.line(f"{local_name(part)} = {local}")
        fb.store(part)
        scope[part] = Symbol(typ, local_name(part))
        types[part] = typ
    return types


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def compile_derived(spec: Mapping, scope: dict[str, Symbol], fb: FunctionBuilder,
                    rep: Reporter, reserved: set[str]) -> dict[str, str]:
    """Write the derived facts into ``fb`` (each stored into ``v`` and traced) and add them
    to ``scope``. Returns name -> type for the facts that compiled."""
    derived = spec.get("derived") or {}
    types: dict[str, str] = {}
    for name in derived:
        if name in reserved or name in scope:
            rep.error(("derived", name), f"'{name}' is already a fact or a stage output; "
                      "choose another name", at_key=True)
    order = dependency_order(derived, rep)
    rep.failed_names.update(set(derived) - set(order))  # on a cycle
    for name in order:
        rep.failed_names.add(name)  # until it compiles
        entry = derived[name]
        if name in reserved or name in scope:
            continue
        path = ("derived", name)
        if isinstance(entry, Mapping) and "table" in entry:
            # Until they compile, the parts of a several-output table are broken names too.
            rep.failed_names.update(f"{name}.{o.get('name')}" for o in
                                    entry["table"].get("outputs", []))
            table = compile_table(entry["table"], (*path, "table"), entry["table"].get(
                "id", name), STAGE, scope, fb, rep)
            if table is None:
                continue
            if len(table.outputs) > 1:
                parts = _structured(name, table.outputs, path, scope, reserved, fb, rep)
                types.update(parts)
                rep.failed_names.difference_update(parts)
                if len(parts) == len(table.outputs):
                    rep.failed_names.discard(name)
                continue
            (local, typ), = table.outputs.values()
            fb.line(f"{local_name(name)} = {local}")
        else:
            text = entry["expr"] if isinstance(entry, Mapping) else entry
            expr_path = (*path, "expr") if isinstance(entry, Mapping) else path
            compiled = rep.expression(expr_path, text, scope, fb.ctx)
            if compiled is None:
                continue
            typ = compiled.type if compiled.type != "null" else "number"
            fb.line(f"{local_name(name)} = {kept(compiled.code, typ)}")
            fb.trace(STAGE, name, compiled.reads, local_name(name))
        fb.store(name)
        scope[name] = Symbol(typ, local_name(name))
        types[name] = typ
        rep.failed_names.discard(name)
    return types
