"""Static checks of decision tables (derived facts, policy, approval, escalation): rules
that can never fire, rules that overlap where the hit policy allows one answer, and
inputs for which no rule matches when the table has no default.

Each table is compiled again into a scratch function so that its cells are read exactly
as a decision reads them (``unary_tests``); the checks then work on the pieces of each
input's values (``input_space``). A cell that is not made of constants (``> 0.1 *
revenue``, ``? > equity``) is never taken as proof: a rule with one is not called
shadowed or overlapping, and it is assumed to fill any gap it might fill.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from ..language.codegen import FunctionBuilder, Reporter, scope_for
from ..language.expressions import DATE, MONEY, CodeContext
from ..language.tables import (
    SINGLE_HIT,
    CompiledTable,
    TableRow,
    compile_table,
    evaluation_order,
    input_values,
)
from ..language.yaml_source import LocatedDocument
from ..ruleset.admission import OUTCOMES
from ..ruleset.compiler import (
    ADMISSION_OUTPUTS,
    GRADING_OUTPUTS,
    OVERRIDE_OUTPUTS,
    CompiledRuleset,
)
from ..ruleset.escalation import NONE, POSITION_FACTS
from .findings import ERROR, WARNING, Finding
from .input_space import NON_NULL, Domain, Piece, describe, domain_of, matches, pieces

MAX_COMBINATIONS = 200_000  # beyond this many pieces of a table's inputs, no gap check
MAX_SHOWN = 3


@dataclass(frozen=True)
class Table:
    """A compiled table with where it is written and the domain of each input."""

    stage: str
    doc: LocatedDocument
    path: tuple
    spec: Mapping
    compiled: CompiledTable
    domains: tuple[Domain, ...]

    def rule_path(self, row: TableRow) -> tuple:
        index = next(i for i, r in enumerate(self.compiled.rows) if r is row)
        return (*self.path, "rules", index)


def ruleset_tables(ruleset: CompiledRuleset) -> list[Table]:
    """Every decision table of the ruleset, compiled again with its inputs' domains."""
    stages = ruleset.source.stages
    facts = stages["facts"].data.get("facts") or {}
    policy_outputs = {o["name"]: o["type"] for o in
                      stages["policy"].data["table"].get("outputs", [])}
    types = {**ruleset.fact_types, **ruleset.derived_types, "as_of": DATE,
             **ADMISSION_OUTPUTS, **GRADING_OUTPUTS, **policy_outputs,
             "total_exposure": MONEY, **OVERRIDE_OUTPUTS}
    scope = scope_for(types, non_null=frozenset(NON_NULL))
    known = {"grade": ruleset.grades, "band_grade": ruleset.grades,
             "admission_outcome": OUTCOMES}
    found: list[tuple[str, tuple, Mapping, str, dict, Mapping]] = []
    if "derived" in stages:
        for name, entry in (stages["derived"].data.get("derived") or {}).items():
            if isinstance(entry, Mapping) and "table" in entry:
                found.append(("derived", ("derived", name, "table"), entry["table"],
                              entry["table"].get("id", name), scope, known))
    for stage in ("policy", "approval"):
        spec = stages[stage].data["table"]
        found.append((stage, ("table",), spec, spec.get("id", stage), scope, known))
    if "escalation" in stages:
        spec = stages["escalation"].data["table"]
        steps = tuple(s["name"] for s in stages["escalation"].data["steps"])
        found.append(("escalation", ("table",), spec, spec.get("id", "escalation"),
                      scope_for(POSITION_FACTS), {"grade": ruleset.grades,
                                                  "last_step": (*steps, NONE)}))
    tables = []
    for stage, path, spec, table_id, table_scope, table_known in found:
        fb = FunctionBuilder("table(v, trace)", CodeContext())
        compiled = compile_table(spec, path, table_id, stage, table_scope, fb, Reporter())
        if compiled is None:  # cannot happen for a ruleset that compiled
            continue
        domains = []
        for column, name, typ in zip(spec.get("inputs", []), compiled.input_names,
                                     compiled.input_types, strict=True):
            read = column.get("expr", name).strip()
            domain = domain_of(read if read.replace(".", "_").isidentifier() else None,
                               typ, facts, known=table_known,
                               # an account's position may lack any of its values
                               non_null=() if stage == "escalation" else NON_NULL)
            domains.append(_within_values(domain, column, path))
        tables.append(Table(stage, stages[stage], path, spec, compiled, tuple(domains)))
    return tables


def _within_values(domain: Domain, column: Mapping, path: tuple) -> Domain:
    """An input's domain narrowed to the table's list of values for it, when it has one
    (the list is a promise about the input: lint checks gaps and overlaps within it)."""
    if "values" not in column:
        return domain
    allowed = input_values(list(column["values"]), domain.type, path, Reporter())
    if allowed is None:  # cannot happen for a ruleset that compiled
        return domain
    if allowed.values is not None:
        return replace(domain, values=tuple(column["values"]), named=())
    return replace(domain, allowed=allowed.intervals)


def table_findings(ruleset: CompiledRuleset) -> list[Finding]:
    """Every finding about the ruleset's decision tables."""
    findings: list[Finding] = []
    for table in ruleset_tables(ruleset):
        columns = [pieces(domain, [row.cells.get(name) for row in table.compiled.rows])
                   for name, domain in zip(table.compiled.input_names, table.domains,
                                           strict=True)]
        findings += _never_matching(table, columns)
        policy = table.compiled.hit_policy
        if policy in ("unique", "any"):
            findings += _overlaps(table, columns)
        if policy in ("first", "priority"):
            findings += _shadowed(table, columns)
        if policy in SINGLE_HIT and "default" not in table.spec:
            findings += _gaps(table, columns)
    return findings


def _cells(table: Table, row: TableRow):
    return [row.cells.get(name) for name in table.compiled.input_names]


def _never_matching(table: Table, columns: list[list[Piece]]) -> Iterator[Finding]:
    """A rule with a cell that no possible value of its input matches."""
    for row in table.compiled.rows:
        for name, cell, column in zip(table.compiled.input_names, _cells(table, row), columns,
                                      strict=True):
            if cell is not None and all(matches(cell, piece) is False for piece in column):
                yield Finding(table.doc.locate((*table.rule_path(row), "when", name)), ERROR,
                              "row-never-matches", f"rule {row.id} can never fire: no value "
                              f"of {name} matches '{cell.text}'")
                break


def _overlaps(table: Table, columns: list[list[Piece]]) -> Iterator[Finding]:
    """Two rules that both match some input, where hit policy unique allows one (and
    hit policy any one answer)."""
    rows = table.compiled.rows
    policy = table.compiled.hit_policy
    for later_index, later in enumerate(rows):
        for earlier in rows[:later_index]:
            if policy == "any" and earlier.output_keys == later.output_keys:
                continue
            common = _common_pieces(_cells(table, earlier), _cells(table, later), columns)
            if common is None:
                continue
            where = _describe_point(table, columns, common, (earlier, later))
            detail = "both match" if policy == "unique" else "both match with different " \
                                                             "outputs"
            yield Finding(table.doc.locate(table.rule_path(later)), ERROR, "rows-overlap",
                          f"rules {earlier.id} and {later.id} {detail} under hit policy "
                          f"{policy}" + (f" when {where}" if where else "")
                          + ": a decision reaching them fails")


def _common_pieces(first: list, second: list, columns: list[list[Piece]]
                   ) -> list[int] | None:
    """For each column a piece both cells match, or None when no input matches both
    (or a cell is not constant)."""
    chosen = []
    for a, b, column in zip(first, second, columns, strict=True):
        index = next((i for i, piece in enumerate(column)
                      if matches(a, piece) is True and matches(b, piece) is True), None)
        if index is None:
            return None
        chosen.append(index)
    return chosen


def _describe_point(table: Table, columns: list[list[Piece]], chosen: Sequence[int],
                    rows: Sequence[TableRow]) -> str:
    """The inputs at ``chosen``, naming only the columns the rows test."""
    parts = []
    for index, (name, column) in enumerate(zip(table.compiled.input_names, columns,
                                               strict=True)):
        if any(row.cells.get(name) is not None and not row.cells[name].is_any
               for row in rows):
            parts.append(f"{name} is {column[chosen[index]].label}")
    return " and ".join(parts)


def _shadowed(table: Table, columns: list[list[Piece]]) -> Iterator[Finding]:
    """A rule every input of which an earlier rule (in evaluation order) takes first."""
    ordered = evaluation_order(table.compiled, table.spec)
    for position, row in enumerate(ordered):
        if not position:
            continue
        own = [[i for i, piece in enumerate(column) if matches(cell, piece) is not False]
               for cell, column in zip(_cells(table, row), columns, strict=True)]
        if any(not choice for choice in own) or _size(own) > MAX_COMBINATIONS:
            continue  # never matching at all is reported on its own
        earlier = [(r, _cells(table, r)) for r in ordered[:position]]
        takers: list[str] = []
        for point in itertools.product(*own):
            taker = next((r for r, cells in earlier if all(
                matches(cell, columns[c][p]) is True
                for c, (cell, p) in enumerate(zip(cells, point, strict=True)))), None)
            if taker is None:
                break
            if taker.id not in takers:
                takers.append(taker.id)
        else:
            takers.sort(key=[r.id for r in ordered].index)
            by = "rule " + takers[0] if len(takers) == 1 else "rules " + ", ".join(takers)
            order = ", tried before it in priority order" if \
                table.compiled.hit_policy == "priority" else ""
            yield Finding(table.doc.locate(table.rule_path(row)), ERROR, "row-shadowed",
                          f"rule {row.id} can never fire: every input it matches is taken "
                          f"first by {by}{order} (hit policy {table.compiled.hit_policy})")


def _gaps(table: Table, columns: list[list[Piece]]) -> Iterator[Finding]:
    """Inputs (present, not missing) that no rule matches, in a table with no default."""
    present = [[i for i, piece in enumerate(column) if not piece.missing] for column in
               columns]
    if any(not choice for choice in present):
        return
    if _size(present) > MAX_COMBINATIONS:
        yield Finding(table.doc.locate_key((*table.path, "rules")), WARNING, "table-unchecked",
                      f"table {table.compiled.id}: its inputs make {_size(present):,} "
                      f"combinations, more than the {MAX_COMBINATIONS:,} lint checks for "
                      "gaps: give it a default, or check it with test cases")
        return
    rows = [_cells(table, row) for row in table.compiled.rows]
    unmatched = [point for point in itertools.product(*present) if not any(
        all(matches(cell, columns[c][p]) is not False
            for c, (cell, p) in enumerate(zip(cells, point, strict=True))) for cells in rows)]
    if not unmatched:
        return
    regions = _merge(unmatched, len(columns))
    texts = []
    for region in regions[:MAX_SHOWN]:
        parts = [f"{name} is {describe(columns[c], region[c])}"
                 for c, name in enumerate(table.compiled.input_names)
                 if set(region[c]) != set(present[c])]
        texts.append(" and ".join(parts) or "any input")
    more = f" (and {len(regions) - MAX_SHOWN} more)" if len(regions) > MAX_SHOWN else ""
    table_id = table.compiled.id
    yield Finding(table.doc.locate_key((*table.path, "rules")), WARNING, "table-gap",
                  f"table {table_id}: no rule matches when " + "; or when ".join(texts)
                  + more + " (the table has no default, so its outputs are missing)")


def _merge(points: list[tuple[int, ...]], width: int) -> list[tuple[tuple[int, ...], ...]]:
    """Points of a grid joined into regions: points that differ in one column only
    become one region with several pieces in that column."""
    regions = [tuple((p,) for p in point) for point in points]
    for column in range(width):
        grouped: dict[tuple, list[int]] = {}
        for region in regions:
            key = region[:column] + region[column + 1:]
            grouped.setdefault(key, []).extend(region[column])
        regions = [(*key[:column], tuple(sorted(set(chosen))), *key[column:])
                   for key, chosen in grouped.items()]
    return regions


def _size(choices: list[list[int]]) -> int:
    size = 1
    for choice in choices:
        size *= len(choice)
    return size
