"""Compiling ``monitoring.yaml`` to durable_rules rulesets (their JSON form), with located
errors for what durable_rules cannot express. Pure Python: checking a ruleset never needs
durable_rules itself, so ``credit validate`` works where it does not import.

A rule's ``match`` is a list of patterns that must hold together. ``{as: NAME, signal:
KIND, when: CONDITION}`` binds a signal; ``{none: KIND, when: CONDITION}`` holds when no
such signal exists. Conditions use the expression language, restricted to what a Rete
condition can be: a field of this signal compared (``== != < <= > >=``) with a literal, a
field of a signal bound earlier (``first.day``), or sums, differences, products and
products of those that start with a field reference (``first.day + 180``); another
field of the same signal may stand as a value (``exposure_after > credit_limit``)
(no division: durable_rules divides whole numbers as whole numbers); a field a later
pattern reads must be present for a signal to match; joined by
``and`` / ``or``; ``is_missing(field)`` and ``not is_missing(field)``. durable_rules
evaluates a negated pattern correctly only after the positive ones, so negations are
placed last.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ExpressionError
from ..language.codegen import Reporter
from ..language.expressions import INTEGER, NUMBER, NUMERIC, STRING, parse
from .monitoring_signals import COMMON, SIGNALS, VALUES, fields_of

DEFAULT_REMEMBER_DAYS = 400
DEFAULT_SECURITY_REVIEW_DAYS = 30
SENTINEL_DAYS = 1_000_000_000  # see _with_sentinels
_COMPARE = {ast.Eq: "$eq", ast.NotEq: "$neq", ast.Lt: "$lt", ast.LtE: "$lte",
            ast.Gt: "$gt", ast.GtE: "$gte"}
_FLIPPED = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE,
            ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}
# No division: durable_rules divides whole numbers as whole numbers (5 / 2 is 2) and stops
# the process on a division by zero; a product says the same thing safely.
_ARITHMETIC = {ast.Add: "$add", ast.Sub: "$sub", ast.Mult: "$mul"}
_LITERALS = {"true": True, "True": True, "false": False, "False": False}


@dataclass(frozen=True)
class MonitoringRule:
    """One compiled rule: its durable_rules condition, what it does, and which bound
    signal identifies a firing."""

    id: str
    description: str
    condition: dict  # {"all": [...]} in durable_rules' JSON form, without "run"
    actions: tuple[str, ...]
    once_per: str
    bound: tuple[str, ...]  # names of the positive patterns, in order


@dataclass(frozen=True)
class MonitoringRules:
    """The compiled monitoring stage."""

    rules: tuple[MonitoringRule, ...]
    remember_days: int
    regrade_facts: dict[str, str]  # customer fact -> account measure
    signals: frozenset[str]  # the kinds some rule matches; no other is worth asserting
    security_review_days: int = DEFAULT_SECURITY_REVIEW_DAYS  # see security_expiring

    def definition(self) -> dict:
        """The durable_rules ruleset definition (rule id -> condition), without actions."""
        return {rule.id: dict(rule.condition) for rule in self.rules}


def compile_monitoring(spec: Mapping, fact_types: Mapping[str, str], has_escalation: bool,
                       rep: Reporter) -> MonitoringRules | None:
    """Check and compile ``monitoring.yaml``; problems go to ``rep``. ``has_escalation``
    says whether the ruleset has the escalation table an ``escalate`` action needs."""
    rules = []
    seen: set[str] = set()
    rule_ids = tuple(rule["id"] for rule in spec["rules"])
    for index, rule_spec in enumerate(spec["rules"]):
        path = ("rules", index)
        if rule_spec["id"] in seen:
            rep.error((*path, "id"), f"rule id '{rule_spec['id']}' is used twice")
            continue
        seen.add(rule_spec["id"])
        rule = _compile_rule(rule_spec, path, rep, rule_ids)
        if rule is not None and "escalate" in rule.actions and not has_escalation:
            rep.error((*path, "actions"), "escalate needs the ruleset's escalation.yaml "
                      "(stages: escalation:)")
        elif rule is not None:
            rules.append(rule)
    facts = dict((spec.get("regrade") or {}).get("facts") or {})
    for fact in facts:
        if fact not in fact_types:
            rep.error(("regrade", "facts", fact), f"'{fact}' is not a fact declared in "
                      "facts.yaml", at_key=True)
    regrading = [index for index, rule in enumerate(spec["rules"])
                 if "regrade" in rule["actions"]]
    if regrading and not facts:
        rep.error(("rules", regrading[0], "actions"), "this rule re-grades but the file has "
                  "no regrade: facts: section saying what the account changes")
    if rep.problems:
        return None
    used = frozenset(pattern.get("signal") or pattern["none"]
                     for rule in spec["rules"] for pattern in rule["match"])
    return MonitoringRules(tuple(rules), spec.get("remember_days", DEFAULT_REMEMBER_DAYS),
                           facts, used, spec.get("security_review_days",
                                                 DEFAULT_SECURITY_REVIEW_DAYS))


def _compile_rule(spec: Mapping, path: tuple, rep: Reporter, rule_ids: tuple[str, ...]
                  ) -> MonitoringRule | None:
    bound: dict[str, str] = {}  # name -> signal kind
    positives: dict[str, list[dict]] = {}  # name -> its terms
    negatives: list[dict] = []
    referenced: set[tuple[str, str]] = set()  # (bound name, field) read by a later pattern
    failed = False
    for index, pattern in enumerate(spec["match"]):
        where = (*path, "match", index)
        negated = "none" in pattern
        kind = pattern["none"] if negated else pattern["signal"]
        if kind not in SIGNALS:
            rep.error((*where, "none" if negated else "signal"),
                      f"unknown signal '{kind}'; the signals are {', '.join(SIGNALS)}")
            failed = True
            continue
        terms: list[dict] = [{"signal": kind}]
        if "when" in pattern:
            try:
                translator = _Condition(kind, bound, rule_ids)
                condition = translator.translate(pattern["when"])
                terms.extend(condition.get("$and", [condition]))
                referenced |= translator.referenced
                terms += _present(translator.joined)
            except ExpressionError as exc:
                rep.error((*where, "when"), exc.message, exc.offset)
                failed = True
                continue
        if negated:
            if bound:  # a work-around for a durable_rules bug: see _with_sentinels
                terms = _with_sentinels(terms, set(bound), next(iter(bound)))
            negatives.append({negated_name(index): _conjunction(terms)})
            continue
        name = pattern["as"]
        if name in bound:
            rep.error((*where, "as"), f"'{name}' is bound twice in this rule")
            failed = True
            continue
        bound[name] = kind
        positives[name] = terms
    if failed:
        return None
    for name, field in sorted(referenced):  # a field another pattern reads
        positives[name] += _present([field])
    if not positives:
        rep.error((*path, "match"), "a rule needs at least one pattern with 'as' "
                  "(one that matches a signal, not only 'none')")
        return None
    once_per = spec.get("once_per", list(bound)[-1])
    if once_per not in bound:
        rep.error((*path, "once_per"), f"'{once_per}' is not bound by this rule's match "
                  f"({', '.join(bound)})")
        return None
    first = next(iter(positives))
    condition = {"all": [{name: _conjunction(_with_sentinels(terms, set(bound) - {name}, first))}
                         for name, terms in positives.items()] + negatives}
    return MonitoringRule(spec["id"], spec.get("description", ""), condition,
                          tuple(spec["actions"]), once_per, tuple(bound))


def negated_name(position: int) -> str:
    """The name a negated pattern (the ``position``-th of its rule's match) has in the
    compiled condition (``$not`` is how durable_rules marks a negation)."""
    return f"none_{position}$not"


def _present(fields: list[str]) -> list[dict]:
    """Conditions that a signal has these fields. durable_rules stops with an error when a
    field compared across signals is missing, where the language says a comparison with
    null is false: such a signal does not match."""
    return [{"$ex": {name: 1}} for name in dict.fromkeys(fields) if name not in COMMON]


def _conjunction(terms: list[dict]) -> dict:
    return terms[0] if len(terms) == 1 else {"$and": terms}


def _with_sentinels(terms: list[dict], names: set[str], first: str) -> list[dict]:
    """durable_rules 2.0.28 reads past the end of a list of join conditions when the last
    one of an ``$and`` is false, and crashes depending on what lies there (events.c,
    reduceExpressionSequence). Each such list that joins with another signal therefore
    ends with a condition that is always true, comparing this signal's day with the first
    bound signal's."""
    return _sentinel_inside({"$and": terms}, names, first)["$and"]


def _sentinel_inside(node: dict, names: set[str], first: str) -> dict:
    if "$and" in node and _joins(node, names):  # an 'or' never joins (refused)
        return {"$and": [_sentinel_inside(item, names, first) for item in node["$and"]]
                + [_always_true(first)]}
    return node


def _always_true(first: str) -> dict:
    return {"$gte": {"day": {"$sub": {"$l": {first: "day"}, "$r": SENTINEL_DAYS}}}}


def _joins(node: object, names: set[str]) -> bool:
    """Whether a condition reads a field of another bound signal."""
    if isinstance(node, dict):
        if len(node) == 1 and next(iter(node)) in names and isinstance(
                next(iter(node.values())), str):
            return True
        return any(_joins(value, names) for value in node.values())
    if isinstance(node, list):
        return any(_joins(item, names) for item in node)
    return False


class _Condition:
    """Translates one ``when`` text into a durable_rules condition, checking names and
    types against the signal catalogue."""

    def __init__(self, kind: str, bound: Mapping[str, str], rule_ids: tuple[str, ...]):
        self.kind = kind
        self.fields = fields_of(kind)
        self.bound = bound
        self.values = {**VALUES, ("fired", "rule"): rule_ids}
        self.referenced: set[tuple[str, str]] = set()  # (bound name, field) read
        self.joined: list[str] = []  # this signal's fields compared with a bound signal's

    def translate(self, text: str) -> dict:
        self.text = text.strip()
        lead = len(text) - len(text.lstrip())
        try:
            return self.visit(parse(self.text).body)
        except ExpressionError as exc:
            raise exc.shifted(lead) from None

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        lines = self.text.split("\n")
        offset = sum(len(line) + 1 for line in lines[:node.lineno - 1]) + node.col_offset
        return ExpressionError(message, offset)

    def visit(self, node: ast.AST) -> dict:
        if isinstance(node, ast.BoolOp):
            op = "$and" if isinstance(node.op, ast.And) else "$or"
            joins = len(self.joined)
            terms = [self.visit(value) for value in node.values]
            if op == "$or" and len(self.joined) > joins:
                raise self.fail(node, "durable_rules evaluates an 'or' that reads another "
                                "signal's fields wrongly; write a rule for each side")
            return {op: terms}
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call) and _is_call(node, "is_missing"):
            return {"$nex": {self.field(node.args[0]): 1}}
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and \
                isinstance(node.operand, ast.Call) and _is_call(node.operand, "is_missing"):
            return {"$ex": {self.field(node.operand.args[0]): 1}}
        raise self.fail(node, "a monitoring condition is comparisons of this signal's "
                        "fields joined by and / or (durable_rules cannot run "
                        f"{_describe(node)} here)")

    def compare(self, node: ast.Compare) -> dict:
        if len(node.ops) != 1:
            raise self.fail(node, "write one comparison at a time, joined by and "
                            "(durable_rules cannot chain them)")
        op, left, right = type(node.ops[0]), node.left, node.comparators[0]
        if op not in _COMPARE:
            word = {ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
            raise self.fail(node, f"durable_rules cannot compare with "
                            f"'{word.get(op, op.__name__)}'; use == != < <= > >=")
        if not isinstance(left, ast.Name) or left.id in _LITERALS or left.id == "null":
            if isinstance(right, ast.Name) and right.id not in _LITERALS:
                left, right, op = right, left, _FLIPPED[op]
            else:
                raise self.fail(node, "one side of a comparison must be a field of this "
                                f"{self.kind} signal (durable_rules compares a field with "
                                "a value)")
        name = self.field(left)
        if (isinstance(right, ast.Constant) and right.value is None) or \
                (isinstance(right, ast.Name) and right.id in ("null", "None")):
            if op not in (ast.Eq, ast.NotEq):
                raise self.fail(right, "null can only be compared with == or !=")
            return {"$nex" if op is ast.Eq else "$ex": {name: 1}}
        value, typ = self.value(right)
        self.check_types(node, name, typ, right)
        if _joins(value, set(self.bound)):
            self.joined.append(name)
        if op is ast.Eq:
            return {name: value}
        return {_COMPARE[op]: {name: value}}

    def check_types(self, node: ast.AST, name: str, typ: str, right: ast.AST) -> None:
        mine = self.fields[name]
        if (mine in NUMERIC) != (typ in NUMERIC) or (mine not in NUMERIC and mine != typ):
            raise self.fail(node, f"'{name}' is {_a(mine)}, compared with {_a(typ)}")
        allowed = self.values.get((self.kind, name))
        if allowed and isinstance(right, ast.Constant) and right.value not in allowed:
            raise self.fail(right, f"'{right.value}' is not a {self.kind} {name}; the "
                            f"{name}s are {', '.join(allowed)}")

    def field(self, node: ast.AST) -> str:
        if not isinstance(node, ast.Name):
            raise self.fail(node, f"expected a field of this {self.kind} signal")
        if node.id not in self.fields:
            hint = f" ({node.id}.field refers to a bound signal)" if node.id in self.bound \
                else ""
            raise self.fail(node, f"{self.kind} has no field '{node.id}'{hint}; its fields "
                            f"are {', '.join(self.fields)}")
        return node.id

    def value(self, node: ast.AST) -> tuple[object, str]:
        """A value for the right side: (durable_rules form, type)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, bool | int | float | str):
            return node.value, _literal_type(node.value)
        if isinstance(node, ast.Name) and node.id in _LITERALS:
            return _LITERALS[node.id], "boolean"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
                isinstance(node.operand, ast.Constant) and \
                _literal_type(node.operand.value) in NUMERIC:
            return -node.operand.value, _literal_type(node.operand.value)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            signal = self.bound.get(node.value.id)
            if signal is None:
                raise self.fail(node, f"'{node.value.id}' is not bound by an earlier "
                                "pattern of this rule (patterns with 'as' come first)")
            fields = fields_of(signal)
            if node.attr not in fields:
                raise self.fail(node, f"{signal} has no field '{node.attr}'; its fields "
                                f"are {', '.join(fields)}")
            self.referenced.add((node.value.id, node.attr))
            return {node.value.id: node.attr}, fields[node.attr]
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            left, left_type = self.value(node.left)
            if not isinstance(left, dict):
                raise self.fail(node, "start the arithmetic with a field of a bound signal "
                                "(first.day + 180, not 180 + first.day)")
            right, right_type = self.value(node.right)
            if left_type not in NUMERIC or right_type not in NUMERIC:
                raise self.fail(node, "arithmetic needs numbers on both sides")
            typ = INTEGER if left_type == right_type == INTEGER else NUMBER
            return {_ARITHMETIC[type(node.op)]: {"$l": left, "$r": right}}, typ
        if isinstance(node, ast.Name):
            return {"$m": self.field(node)}, self.fields[node.id]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            raise self.fail(node, "durable_rules cannot divide safely (whole numbers divide "
                            "as whole numbers, and a division by zero stops it); compare "
                            "with a product instead: a * 2 >= b, not a >= b / 2")
        raise self.fail(node, f"durable_rules cannot compute {_describe(node)} in a "
                        "condition")


def _literal_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    return STRING if isinstance(value, str) else INTEGER if isinstance(value, int) else NUMBER


def _is_call(node: ast.Call, name: str) -> bool:
    return isinstance(node.func, ast.Name) and node.func.id == name and \
        len(node.args) == 1 and not node.keywords


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return f"{node.func.id}()"
    return {ast.IfExp: "'x if c else y'", ast.List: "a list", ast.UnaryOp: "'not' or '-'",
            ast.Name: "a bare name", ast.Constant: "a bare value",
            ast.Subscript: "an index"}.get(type(node), f"'{ast.unparse(node)}'")


def _a(typ: str) -> str:
    return ("an " if typ[0] in "aeiou" else "a ") + typ
