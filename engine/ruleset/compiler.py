"""Compiling a ruleset: every stage written as one Python function, the whole module
compiled once, and the result wrapped as a ``CompiledRuleset`` the pipeline calls.

Generated source contains no text from the ruleset except as ``repr()`` literals and as
local names made from fact names, which the schemas restrict to ``[a-z_][a-z0-9_.]``
(codegen.local_name refuses anything else): every expression was parsed and checked by
``engine.language.expressions`` and rewritten from its tree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ..errors import DecisionError, Problem, ProblemsError
from ..language import temporal
from ..language.codegen import FunctionBuilder, Reporter, scope_for
from ..language.expressions import (
    BOOLEAN,
    DATE,
    EXACT,
    INTEGER,
    LIST,
    MONEY,
    NUMBER,
    STRING,
    CodeContext,
)
from ..language.runtime import HELPERS, ROUNDING_MODES
from ..language.schema_check import load_schema
from ..language.value_types import fits
from .admission import OUTCOMES, compile_admission
from .derived import compile_derived
from .escalation import POSITION_FACTS, compile_escalation
from .exposure import compile_exposure
from .grading import CompiledGrading, compile_grading
from .monitoring import MonitoringRules, compile_monitoring
from .order_check import ORDER_FACTS, compile_order_check
from .policy import POLICY_OUTPUTS, compile_approval, compile_policy
from .source import DEFAULT_GRADES, RulesetSource
from .through_grading import through_grading_source

# Names the stages make available to the stages after them.
ADMISSION_OUTPUTS = {"admission_outcome": STRING}
# The score is exact: the sum of points the ruleset wrote.
GRADING_OUTPUTS = {"score": EXACT, "band_grade": STRING, "grade": STRING}
OVERRIDE_OUTPUTS = {"overrides_applied": INTEGER}  # how many expert overrides applied
RESERVED = {"as_of", *ADMISSION_OUTPUTS, *GRADING_OUTPUTS, *OVERRIDE_OUTPUTS, "credit_limit",
            "payment_term_days", "discount_rate", "discount_days", "guarantee_required",
            "review_interval_days", "total_exposure"}

_JSON_TYPES = {NUMBER: {"number", "integer"}, INTEGER: {"integer"}, MONEY: {"number",
               "integer"}, STRING: {"string"}, BOOLEAN: {"boolean"}, DATE: {"string"},
               LIST: {"array"}, **{t: {"string"} for t in temporal.TEMPORAL - {DATE}}}


@dataclass(frozen=True)
class CompiledRuleset:
    """A ruleset ready to decide: its identity, its compiled stage functions, and what
    static tools need to know about it."""

    name: str
    version: str
    hash: str
    currency: str
    grades: tuple[str, ...]
    levels: tuple[str, ...]
    source: RulesetSource
    python_source: str
    fact_types: dict[str, str]
    derived_types: dict[str, str]
    extract: Callable
    derive: Callable
    admission: Callable
    grading: Callable
    policy: Callable
    approval: Callable
    grading_info: CompiledGrading
    escalation: Callable | None = None
    order_check: Callable | None = None  # order facts -> reasons; None without order_check.yaml
    # extract to grading in one function (see through_grading.py); None: call them one by one
    through_grading: Callable | None = None
    escalation_spec: dict = field(default_factory=dict)
    monitoring: MonitoringRules | None = None
    slots: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    # Where each rule's code ends in python_source: ((line, stage, rule id), ...) in line
    # order, and the lines where the stage functions start; see rule_at.
    rule_lines: tuple[tuple[int, str, str], ...] = field(default=(), repr=False)
    function_lines: tuple[int, ...] = field(default=(), repr=False)
    redact: tuple[str, ...] = ()
    enrichment: dict = field(default_factory=dict)
    authority: dict = field(default_factory=dict)
    exposure: tuple = ()  # ExposureCategory, in CATEGORIES order; () without exposure.yaml
    rounding: tuple = (Decimal("0.01"), "ROUND_HALF_UP")  # (quantum, decimal mode) of amounts
    manifest: dict = field(repr=False, default_factory=dict)
    challenger: object = field(default=None, repr=False, compare=False)  # a Challenger
    # The values python_source names as constants (_k0, _k1, ...), which its functions
    # find in their module namespace.
    constants: dict = field(default_factory=dict, repr=False, compare=False)
    code: object = field(default=None, repr=False, compare=False)  # python_source compiled

    @property
    def identity(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "hash": self.hash}


def compile_ruleset(source: RulesetSource) -> CompiledRuleset:
    """Compile a checked ruleset source into stage functions."""
    manifest = source.manifest.data
    grades = tuple(manifest.get("grades") or DEFAULT_GRADES)
    rounding = manifest.get("rounding", {"places": 2, "mode": "half_up"})
    ctx = CodeContext(closed_values={"grade": ("a grade", grades),
                                     "band_grade": ("a grade", grades),
                                     "admission_outcome": ("an admission outcome",
                                                           OUTCOMES),
                                     "decision_outcome": ("an admission outcome",
                                                          OUTCOMES)})
    problems: list[Problem] = []

    failed_names: set[str] = set()  # shared, so that one broken definition is one problem

    def reporter(stage: str) -> Reporter:
        rep = Reporter(failed_names=failed_names)
        reporters.append((stage, rep))
        return rep

    reporters: list[tuple[str, Reporter]] = []
    fact_types = _fact_types(source, reporter("facts"))
    enrichment = source.stages["enrichment"].data if "enrichment" in source.stages else {}
    fact_types.update(enrichment_fact_types(enrichment))
    _check_redactions(source, reporter(None))
    types = {**fact_types, "as_of": DATE}
    scope = scope_for(types, non_null=frozenset({"as_of"}))
    known_inputs = dict(types)

    derive_fb = FunctionBuilder("derive(v, trace)", ctx)
    derived_types: dict[str, str] = {}
    if "derived" in source.stages:
        derived_types = compile_derived(source.stages["derived"].data, scope, derive_fb,
                                        reporter("derived"), RESERVED)
    admission_fb = FunctionBuilder("admission(v, trace)", ctx)
    compile_admission(source.stages["admission"].data, scope, admission_fb,
                      reporter("admission"))
    grading_fb = FunctionBuilder("grading(v, trace)", ctx)
    grading_info = compile_grading(source.stages["grading"].data, grades, scope, grading_fb,
                                   reporter("grading"))
    later = dict(scope)
    later.update(scope_for({**ADMISSION_OUTPUTS, **GRADING_OUTPUTS},
                           non_null=frozenset({*ADMISSION_OUTPUTS, "band_grade", "grade"})))
    policy_fb = FunctionBuilder("policy(v, trace)", ctx)
    quantum = Decimal(1).scaleb(-int(rounding.get("places", 2)))
    rounding_code = ctx.constant((quantum, ROUNDING_MODES[rounding.get("mode", "half_up")]))
    policy_types = compile_policy(source.stages["policy"].data, later, policy_fb,
                                  reporter("policy"), rounding_code)
    approval_scope = dict(later)
    # When the policy stage is broken, approval still sees its outputs (and is checked).
    approval_scope.update(scope_for(policy_types or {**POLICY_OUTPUTS,
                                                     "total_exposure": MONEY}))
    approval_scope.update(scope_for(OVERRIDE_OUTPUTS, non_null=frozenset(OVERRIDE_OUTPUTS)))
    approval_fb = FunctionBuilder("approval(v, trace)", ctx)
    levels = compile_approval(source.stages["approval"].data, approval_scope, approval_fb,
                              reporter("approval"))
    monitoring = None
    if "monitoring" in source.stages:
        monitoring = compile_monitoring(source.stages["monitoring"].data, fact_types,
                                        "escalation" in source.stages,
                                        reporter("monitoring"))
    escalation_fb = None
    if "escalation" in source.stages:
        escalation_fb = FunctionBuilder("escalation(v, trace)", ctx)
        compile_escalation(source.stages["escalation"].data, escalation_fb,
                           reporter("escalation"))
    order_check_fb = None
    if "order_check" in source.stages:
        order_check_fb = FunctionBuilder("order_check(v, trace)", ctx)
        compile_order_check(source.stages["order_check"].data, order_check_fb,
                            reporter("order_check"))
    for stage, rep in reporters:
        problems.extend(source.problem(stage, p) for p in rep.problems)
    if problems:
        raise ProblemsError(problems)

    all_known = {**known_inputs, **derived_types}
    policy_known = {**all_known, **ADMISSION_OUTPUTS, **GRADING_OUTPUTS}
    approval_known = {**policy_known, **(policy_types or {}), **OVERRIDE_OUTPUTS}
    functions = [
        _extract_source(fact_types),
        derive_fb.source(known_inputs),
        admission_fb.source(all_known),
        grading_fb.source(all_known),
        policy_fb.source(policy_known),
        approval_fb.source(approval_known),
    ]
    if escalation_fb is not None:
        functions.append(escalation_fb.source(POSITION_FACTS))
    if order_check_fb is not None:
        functions.append(order_check_fb.source(ORDER_FACTS))
    # The facts and derived facts policy and approval read (the pipeline sets the rest).
    later = sorted({*policy_fb.reads(policy_known), *approval_fb.reads(approval_known)}
                   & all_known.keys())
    joined = through_grading_source(extract_parts(fact_types), (
        ("derive", derive_fb), ("admission", admission_fb), ("grading", grading_fb)), later)
    if joined is not None:
        functions.append(joined)
    python_source = "\n\n".join(functions)
    rule_lines, function_lines = _line_map(python_source, ctx.constants)
    return with_stage_functions(compile(python_source, code_name(manifest), "exec"), dict(
        name=manifest["name"], version=str(manifest["version"]), hash=source.hash,
        currency=manifest["currency"], grades=grades, levels=levels or (), source=source,
        python_source=python_source, fact_types=fact_types, derived_types=derived_types,
        escalation_spec=source.stages["escalation"].data if "escalation" in source.stages
        else {},
        monitoring=monitoring, grading_info=grading_info, slots=tuple(ctx.slots),
        redact=tuple(manifest.get("redact") or ()), enrichment=enrichment,
        authority=source.stages["authority"].data if "authority" in source.stages else {},
        exposure=compile_exposure(source.stages["exposure"].data)
        if "exposure" in source.stages else (),
        rounding=(quantum, ROUNDING_MODES[rounding.get("mode", "half_up")]),
        manifest=manifest, rule_lines=rule_lines, function_lines=function_lines,
        constants=dict(ctx.constants)))


# The fields of a CompiledRuleset that are functions its python_source defines.
STAGE_FUNCTIONS = ("extract", "derive", "admission", "grading", "policy", "approval",
                   "escalation", "order_check", "through_grading")


def with_stage_functions(code, fields: Mapping) -> CompiledRuleset:
    """The CompiledRuleset of ``fields`` (every field but the STAGE_FUNCTIONS) and
    ``code``, python_source compiled, run in a namespace of the runtime helpers and the
    ruleset's constants to define the stage functions."""
    namespace: dict[str, object] = dict(HELPERS)
    namespace.update(fields["constants"])
    namespace.update(_EXTRACT_HELPERS)
    exec(code, namespace)  # our own generated source; see the module docstring
    return CompiledRuleset(**fields, code=code,
                           **{name: namespace.get(name) for name in STAGE_FUNCTIONS})


def code_name(manifest: Mapping) -> str:
    """The file name tracebacks give a compiled ruleset's code (rule_at finds it by it)."""
    return f"<ruleset {manifest['name']} {manifest['version']}>"


_TRACE_CALL = re.compile(r"\btrace\(\((_k\d+),")


def _line_map(python_source: str, constants: Mapping
              ) -> tuple[tuple[tuple[int, str, str], ...], tuple[int, ...]]:
    """Where things are in the generated source, read in one pass: (line, stage, rule id)
    of every line that records a rule in the trace (the rule's code comes just before its
    trace line), and the line of every function's ``def``."""
    rules, functions = [], []
    for number, line in enumerate(python_source.split("\n"), 1):
        if line.startswith("def "):
            functions.append(number)
        match = _TRACE_CALL.search(line)
        slot = constants.get(match.group(1)) if match else None
        if isinstance(slot, tuple) and len(slot) == 4:
            rules.append((number, slot[1], slot[2]))
    return tuple(rules), tuple(functions)


def rule_at(ruleset: CompiledRuleset, exc: BaseException) -> str | None:
    """Which rule of ``ruleset`` was being computed when ``exc`` was raised in its code
    ("derived big_number"), or its stage when no rule can be told; None when the
    exception did not pass through the ruleset's code."""
    filename, line, function = code_name(ruleset.manifest), None, None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line, function = tb.tb_lineno, tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    if line is None:
        return None
    end = next((start for start in ruleset.function_lines if start > line), None)
    for number, stage, rule_id in ruleset.rule_lines:
        if number >= line and (end is None or number < end):
            return f"{stage} {rule_id}"
    return function


def _fact_types(source: RulesetSource, rep: Reporter) -> dict[str, str]:
    """Declared facts and their types, each checked against the customer schema."""
    declared = source.stages["facts"].data.get("facts") or {}
    customer = load_schema("customer.schema.json")
    types = {}
    for name, spec in declared.items():
        typ = spec["type"]
        if name in RESERVED:
            rep.error(("facts", name), f"'{name}' is a name the engine sets; choose another",
                      at_key=True)
            continue
        found = _schema_type(customer, name.split("."))
        if found is None or (found != "any" and not (_JSON_TYPES[typ] & found)):
            rep.failed_names.add(name)
        if found is None:
            rep.error(("facts", name), f"'{name}' is not a field of the customer document "
                      "(schemas/customer.schema.json); custom facts go under attributes.",
                      at_key=True)
            continue
        if found != "any" and not (_JSON_TYPES[typ] & found):
            rep.error(("facts", name, "type"), f"'{name}' is {' or '.join(sorted(found))} "
                      f"in the customer document, not {typ}")
            continue
        types[name] = typ
    return types


def enrichment_fact_types(enrichment: Mapping) -> dict[str, str]:
    """The facts enrichment adds: ``indicators.PLUGIN.NAME`` and ``bureau.NAME`` (plus
    ``bureau.source``, the connector whose report was used)."""
    types = {}
    for plugin, spec in (enrichment.get("indicators") or {}).items():
        for name, value in spec["values"].items():
            types[f"indicators.{plugin}.{name}"] = value["type"]
    bureau = enrichment.get("bureau")
    if bureau:
        types.update({f"bureau.{n}": v["type"] for n, v in bureau["values"].items()})
        types["bureau.source"] = STRING
    return types


def _check_redactions(source: RulesetSource, rep: Reporter) -> None:
    """Each redacted path is a field of the customer document that no rule reads (a
    declared fact at, above or below it would make replay impossible)."""
    customer = load_schema("customer.schema.json")
    declared = (source.stages["facts"].data.get("facts") or {}).keys()
    for index, path in enumerate(source.manifest.data.get("redact") or []):
        where = ("redact", index)
        if _schema_type(customer, path.split(".")) is None:
            rep.error(where, f"'{path}' is not a field of the customer document")
            continue
        for fact in declared:
            if fact == path or fact.startswith(path + ".") or path.startswith(fact + "."):
                rep.error(where, f"'{path}' is redacted in the audit trail but the rules read "
                          f"'{fact}' (facts.yaml): replay would be impossible")


def _schema_type(schema: Mapping, parts: list[str]) -> set[str] | str | None:
    """JSON types the customer schema allows at a dotted path; "any" for free-form data."""
    node = schema
    for index, part in enumerate(parts):
        properties = node.get("properties")
        if properties is None or part not in properties:
            extra = node.get("additionalProperties")
            if isinstance(extra, Mapping) and index == len(parts) - 1:
                return "any"
            return None
        node = properties[part]
    if "enum" in node:
        return {"string"} if all(isinstance(v, str) for v in node["enum"]) else {"number"}
    kind = node.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if kind else "any"


def _extract_source(fact_types: Mapping[str, str]) -> str:
    """``extract(doc, as_of)``: the values dict of every declared fact, typed. Nested
    objects are looked up once each; the dict is built in one display."""
    lines, entries = extract_parts(fact_types)
    lines = ["def extract(doc, as_of):", *lines]
    lines.append("    return {" + ",\n            ".join(f"{name!r}: {code}"
                                                    for name, code in entries) + "}")
    return "\n".join(lines) + "\n"


def extract_parts(fact_types: Mapping[str, str]) -> tuple[list[str], list[tuple[str, str]]]:
    """What ``extract`` is made of: the lines that look up its values (in a function
    of ``doc`` and ``as_of``), and the code of each value, ``(name, code)`` in the order
    the values are computed.

    A missing fact (None) and a value of the plain class its type expects skip the
    helpers: ``_typed``, ``_money`` and ``_date`` give such a value back unchanged (or
    read a date's text, as ``_date`` does), so calling them would only cost time. Any
    other value goes through the helper, which converts it or raises as it did. Every
    helper that may raise is called where it always was (an amount attribute's check
    before the values, the rest among them, in name order), so that a document with
    several bad values fails on the same one."""
    lines: list[str] = []
    entries = [("as_of", "as_of")]
    groups: dict[tuple[str, ...], str] = {(): "doc"}
    for name in sorted(fact_types):
        typ = fact_types[name]
        parts = tuple(name.split("."))
        for depth in range(1, len(parts)):
            prefix = parts[:depth]
            if prefix not in groups:
                local = "g_" + "__".join(prefix)
                parent = groups[prefix[:-1]]
                lines.append(f"    {local} = {parent}.get({prefix[-1]!r})")
                lines.append(f"    if {local}.__class__ is not dict: {local} = _EMPTY")
                groups[prefix] = local
        raw = f"{groups[parts[:-1]]}.get({parts[-1]!r})"
        free = parts[0] == "attributes"  # free-form: check the type at decision time
        if typ in temporal.TEMPORAL - {DATE}:  # ISO text, read and checked (attributes too)
            entries.append((name, f"_temporal({raw}, {typ!r}, {name!r})"))
            continue
        if not free and typ not in (MONEY, DATE):
            entries.append((name, raw))  # taken as the document has it
            continue
        local = "m_" + "__".join(parts)
        lines.append(f"    {local} = {raw}")
        checked = local
        if free:
            plain = _PLAIN_CLASS.get(typ)
            fits = f"{local} is None" + (f" or {local}.__class__ is {plain}" if plain else "")
            if typ == MONEY:
                lines.append(f"    if not ({fits}): {local} = _typed({local}, {typ!r}, "
                             f"{name!r})")
            else:
                checked = f"_typed({local}, {typ!r}, {name!r})"
                entries.append((name, f"{local} if {fits} else {checked}" if typ != DATE
                                else f"None if {local} is None else _date({checked})"))
                continue
        if typ == MONEY:
            # Amounts stay exact: a whole amount stays an int (cheap to divide and compare,
            # and exact), any other becomes a Decimal of the number as written.
            entries.append((name, f"{local} if {local} is None or {local}.__class__ is "
                            f"int else _money({local})"))
        else:
            entries.append((name, f"None if {local} is None else _fromisoformat({local}) "
                            f"if {local}.__class__ is str else _date({local})"))
    return lines, entries


# The class whose values always fit a declared type (value_types.fits): such a value of a
# free-form attribute needs no check. A bool is not an int here (its class is bool).
_PLAIN_CLASS = {MONEY: "int", NUMBER: "int", INTEGER: "int", STRING: "str",
                BOOLEAN: "bool"}


def _date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _typed(value, typ: str, name: str):
    """A free-form attribute's value, checked against the type the ruleset declares."""
    if not fits(value, typ):
        raise DecisionError(f"{name}: {str(value)[:40]!r} is not a {typ}")
    return value


def _temporal(value, typ: str, name: str):
    """A time, datetime or duration fact read from its ISO 8601 text."""
    try:
        return temporal.read(value, typ, name)
    except ValueError as exc:
        raise DecisionError(str(exc)) from None


_EXTRACT_HELPERS = {"_EMPTY": {}, "_date": _date, "_fromisoformat": dt.date.fromisoformat,
                    "_typed": _typed, "_temporal": _temporal}
