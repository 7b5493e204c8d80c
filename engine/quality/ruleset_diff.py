"""What changed between two versions of a ruleset, rule by rule and row by row, in
sentences an analyst reads ("policy: table row P_BBB: credit_limit 50000 → 60000").

Items are matched by what identifies them, not by position: table rows, admission checks,
characteristics, caps and floors by their id, scorecard bins by their range (or values),
bands by their grade, facts and derived facts by their name, roles and collection steps by
their name. Where the order of items decides the outcome (a first-hit table, the bins of
a characteristic, the authority roles, the collections ladder) a change of order is
reported as "moved". This is not a text diff: comments and layout never show up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..language.yaml_source import LocatedDocument
from ..ruleset.source import STAGES, RulesetSource

ARROW = "→"
ORDERED_HIT_POLICIES = frozenset({"first", "rule_order"})
MANIFEST_LABELS = {"name": "name", "version": "version", "owner": "owner",
                   "description": "description", "effective_date": "effective date",
                   "currency": "currency"}


@dataclass(frozen=True)
class Change:
    """One difference: the stage it is in (``manifest`` for ruleset.yaml), what kind
    (added, removed, changed, moved), the sentence, and where it is (the new file, or
    the old one for something removed)."""

    stage: str
    kind: str
    text: str
    where: str = ""

    def to_dict(self) -> dict:
        return {"stage": self.stage, "kind": self.kind, "text": self.text,
                "where": self.where}


@dataclass
class RulesetDiff:
    """Every change from ``old`` to ``new``, in stage order."""

    old: dict
    new: dict
    changes: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"old": self.old, "new": self.new, "differences": len(self.changes),
                "changes": [c.to_dict() for c in self.changes]}


def diff_rulesets(old: RulesetSource, new: RulesetSource) -> RulesetDiff:
    """Compare two ruleset sources (as ``load_ruleset_source`` reads them)."""
    result = RulesetDiff(_identity(old), _identity(new))
    _Stage(result.changes, "manifest", old.manifest, new.manifest).manifest()
    for stage in STAGES:
        old_doc, new_doc = old.stages.get(stage), new.stages.get(stage)
        if old_doc is None and new_doc is None:
            continue
        differ = _Stage(result.changes, stage, old_doc, new_doc)
        if old_doc is None:
            differ.added((), "stage", new.files[stage])
        elif new_doc is None:
            differ.removed((), "stage", old.files[stage])
        elif old.files[stage] != new.files[stage]:
            differ.changed((), f"stage file {old.files[stage]} {ARROW} {new.files[stage]}")
        known = getattr(differ, stage, None) if stage in _KNOWN_STAGES else None
        if known is not None:
            known()
        else:  # a stage this module has no words of its own for
            differ.generic(differ.old, differ.new, (), "")
    if not result.changes and old.hash != new.hash:  # nothing a rule decides, but say so
        result.changes.append(Change(
            "manifest", "changed", "manifest: the rulesets differ only in the order of items "
            "whose order does not matter or in how values are written (hash "
            f"{old.hash[:12]} {ARROW} {new.hash[:12]})", new.manifest.file))
    return result


def _identity(source: RulesetSource) -> dict:
    data = source.manifest.data
    return {"folder": source.label, "name": data.get("name"),
            "version": str(data.get("version")), "hash": source.hash}


def show(value: object) -> str:
    """A value as an analyst reads it: YAML-like, lists in brackets."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def same(a: object, b: object) -> bool:
    """Equal as the ruleset hash sees it: 1, 1.0 and true are three different values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _moved(old_keys: Sequence, new_keys: Sequence) -> set:
    """Keys (present in both) whose relative order changed: those outside a longest
    common ordering of the two sequences."""
    common = set(old_keys) & set(new_keys)
    position = {k: i for i, k in enumerate(k for k in new_keys if k in common)}
    sequence = [position[k] for k in old_keys if k in common]
    # longest increasing subsequence, remembering predecessors
    tails: list[int] = []
    tail_at: list[int] = []
    previous = [-1] * len(sequence)
    for index, value in enumerate(sequence):
        low, high = 0, len(tails)
        while low < high:
            middle = (low + high) // 2
            if tails[middle] < value:
                low = middle + 1
            else:
                high = middle
        if low:
            previous[index] = tail_at[low - 1]
        if low == len(tails):
            tails.append(value)
            tail_at.append(index)
        else:
            tails[low] = value
            tail_at[low] = index
    kept = set()
    index = tail_at[-1] if tail_at else -1
    while index >= 0:
        kept.add(sequence[index])
        index = previous[index]
    by_position = {v: k for k, v in position.items()}
    return {by_position[p] for p in sequence if p not in kept}


def _keyed(items: object, key: Callable[[dict], object]) -> dict:
    """Items of a list by key -> (index, item); a repeated key gets a ``#n`` suffix."""
    found: dict = {}
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        name = key(item)
        if name in found:
            count = 2
            while (name, count) in found:
                count += 1
            name = (name, count)
        found[name] = (index, item)
    return found


def _bin_key(item: dict) -> str:
    if "range" in item:
        return "".join(str(item["range"]).split())
    if "values" in item:
        return "values " + show(item["values"])
    return "missing" if item.get("missing") else "else"


def _bin_label(item: dict) -> str:
    if "range" in item:
        return f"bin {str(item['range']).strip()}"
    if "values" in item:
        return f"bin values {show(item['values'])}"
    return "bin missing" if item.get("missing") else "bin else"


class _Stage:
    """Collects the changes of one stage; ``old``/``new`` are its located documents."""

    def __init__(self, out: list[Change], stage: str, old: LocatedDocument | None,
                 new: LocatedDocument | None):
        self.out = out
        self.stage = stage
        self.old_doc = old
        self.new_doc = new
        self.old = old.data if old is not None else {}
        self.new = new.data if new is not None else {}

    # -- recording ----------------------------------------------------------------------
    def _where(self, path: Sequence, side: str) -> str:
        doc = self.new_doc if side == "new" else self.old_doc
        if doc is None:
            doc = self.old_doc or self.new_doc
        return str(doc.locate(tuple(path))) if doc is not None else ""

    def added(self, path: Sequence, subject: str, note: object = None) -> None:
        text = f"{self.stage}: {subject} added" + (f" ({note})" if note else "")
        self.out.append(Change(self.stage, "added", text, self._where(path, "new")))

    def removed(self, path: Sequence, subject: str, note: object = None) -> None:
        text = f"{self.stage}: {subject} removed" + (f" ({note})" if note else "")
        self.out.append(Change(self.stage, "removed", text, self._where(path, "old")))

    def changed(self, path: Sequence, detail: str, subject: str | Sequence = "") -> None:
        prefix = f"{subject}: " if subject else ""
        self.out.append(Change(self.stage, "changed", f"{self.stage}: {prefix}{detail}",
                               self._where(path, "new")))

    def moved(self, path: Sequence, subject: str, old_index: int, new_index: int) -> None:
        text = (f"{self.stage}: {subject} moved from position {old_index + 1} to "
                f"{new_index + 1}")
        self.out.append(Change(self.stage, "moved", text, self._where(path, "new")))

    def fields(self, old: dict, new: dict, path: Sequence, subject: str,
               skip: frozenset = frozenset(), labels: dict | None = None) -> None:
        """One sentence per field whose value differs between two mappings."""
        old = old if isinstance(old, dict) else {}
        new = new if isinstance(new, dict) else {}
        for name in [*new, *(k for k in old if k not in new)]:
            if name in skip or same(old.get(name, _ABSENT), new.get(name, _ABSENT)):
                continue
            label = (labels or {}).get(name, name)
            if name not in old:
                detail = f"{label} added: {show(new[name])}"
            elif name not in new:
                detail = f"{label} removed (was {show(old[name])})"
            else:
                detail = f"{label} {show(old[name])} {ARROW} {show(new[name])}"
                if isinstance(old[name], str) and isinstance(new[name], str) and \
                        old[name].split() == new[name].split():
                    detail += " (spacing only: the same rule)"
            self.changed((*path, name), detail, subject)

    def items(self, old_list: object, new_list: object, key: Callable[[dict], object],
              path: tuple, label: Callable[[object, dict], str], *, ordered: bool,
              describe: Callable[[dict], str | None],
              compare: Callable[[str, dict, dict, tuple], None]) -> None:
        """Match two lists of mappings by ``key``: added, removed, moved (when ``ordered``)
        and, for each pair, ``compare(subject, old, new, new_path)``."""
        olds, news = _keyed(old_list, key), _keyed(new_list, key)
        moved = _moved(list(olds), list(news)) if ordered else set()
        for name, (index, item) in news.items():
            subject = label(name, item)
            item_path = (*path, index)
            if name not in olds:
                where = f"at position {index + 1}" if ordered else None
                note = "; ".join(n for n in (describe(item), where) if n)
                self.added(item_path, subject, note)
                continue
            old_index, old_item = olds[name]
            if name in moved:
                self.moved(item_path, subject, old_index, index)
            compare(subject, old_item, item, item_path)
        for name, (index, item) in olds.items():
            if name not in news:
                self.removed((*path, index), label(name, item), describe(item))

    # -- stages -------------------------------------------------------------------------
    def manifest(self) -> None:
        old, new = self.old, self.new
        self.fields(old, new, (), "", skip=frozenset({"rounding", "grades", "stages",
                                                      "redact", "$schema"}),
                    labels=MANIFEST_LABELS)
        self.fields(old.get("rounding") or {}, new.get("rounding") or {}, ("rounding",),
                    "rounding")
        old_grades, new_grades = old.get("grades"), new.get("grades")
        if not same(old_grades, new_grades):
            self.changed(("grades",), f"grades {show(old_grades or 'default')} {ARROW} "
                                      f"{show(new_grades or 'default')}")
        old_redact, new_redact = old.get("redact") or [], new.get("redact") or []
        for path in new_redact:
            if path not in old_redact:
                self.added(("redact",), f"redacted field {path}")
        for path in old_redact:
            if path not in new_redact:
                self.removed(("redact",), f"redacted field {path}")

    def facts(self) -> None:
        old, new = self.old.get("facts") or {}, self.new.get("facts") or {}
        for name, spec in new.items():
            if name not in old:
                self.added(("facts", name), name, spec.get("type"))
            else:
                self.fields(old[name], spec, ("facts", name), name)
        for name, spec in old.items():
            if name not in new:
                self.removed(("facts", name), name, spec.get("type"))

    def enrichment(self) -> None:
        old, new = self.old.get("indicators") or {}, self.new.get("indicators") or {}
        for plugin, spec in new.items():
            subject = f"indicator plugin {plugin}"
            path = ("indicators", plugin)
            if plugin not in old:
                self.added(path, subject, "values " + ", ".join(spec.get("values") or {}))
                continue
            self.fields(old[plugin], spec, path, subject, skip=frozenset({"values"}))
            self._values(old[plugin].get("values"), spec.get("values"), (*path, "values"),
                         subject)
        for plugin in old:
            if plugin not in new:
                self.removed(("indicators", plugin), f"indicator plugin {plugin}")
        old_bureau, new_bureau = self.old.get("bureau"), self.new.get("bureau")
        if old_bureau and not new_bureau:
            self.removed(("bureau",), "bureau reports")
        elif new_bureau and not old_bureau:
            self.added(("bureau",), "bureau reports",
                       "waterfall " + ", ".join(new_bureau.get("waterfall") or []))
        elif new_bureau:
            self.fields(old_bureau, new_bureau, ("bureau",), "bureau",
                        skip=frozenset({"values"}))
            self._values(old_bureau.get("values"), new_bureau.get("values"),
                         ("bureau", "values"), "bureau")

    def _values(self, old: dict | None, new: dict | None, path: tuple, subject: str) -> None:
        old, new = old or {}, new or {}
        for name, spec in new.items():
            if name not in old:
                self.added((*path, name), f"{subject}: value {name}", spec.get("type"))
            else:
                self.fields(old[name], spec, (*path, name), f"{subject}: value {name}")
        for name, spec in old.items():
            if name not in new:
                self.removed((*path, name), f"{subject}: value {name}", spec.get("type"))

    def derived(self) -> None:
        old, new = self.old.get("derived") or {}, self.new.get("derived") or {}

        def spec_of(value: object) -> dict:
            return value if isinstance(value, dict) else {"expr": value}

        for name, value in new.items():
            spec, path = spec_of(value), ("derived", name)
            if name not in old:
                self.added(path, name, spec.get("expr", "a decision table"))
                continue
            before = spec_of(old[name])
            if "expr" in spec and "expr" in before:
                if not same(before["expr"], spec["expr"]):
                    self.changed((*path, "expr") if isinstance(value, dict) else path,
                                 f"expression {show(before['expr'])} {ARROW} "
                                 f"{show(spec['expr'])}", name)
            elif "expr" in spec:
                self.changed(path, f"now the expression {show(spec['expr'])} (was a "
                                   "decision table)", name)
            elif "expr" in before:
                self.changed(path, f"now a decision table (was the expression "
                                   f"{show(before['expr'])})", name)
            else:
                self.table(before["table"], spec["table"], (*path, "table"), f"{name}: ")
            self.fields(before, spec, path, name, skip=frozenset({"expr", "table"}))
        for name, value in old.items():
            if name not in new:
                spec = spec_of(value)
                self.removed(("derived", name), name,
                             spec.get("expr", "a decision table"))

    def admission(self) -> None:
        def describe(check: dict) -> str:
            return f"{check.get('outcome')} {check.get('reason')} when {show(check.get('when'))}"

        self.items(self.old.get("checks"), self.new.get("checks"), lambda c: c.get("id"),
                   ("checks",), lambda name, _: f"rule {name}", ordered=False,
                   describe=describe,
                   compare=lambda subject, o, n, path: self.fields(o, n, path, subject))

    def grading(self) -> None:
        old_card, new_card = self.old.get("scorecard") or {}, self.new.get("scorecard") or {}
        self.fields(old_card, new_card, ("scorecard",), "scorecard",
                    skip=frozenset({"characteristics"}),
                    labels={"base_points": "base points", "reason_count": "reason count"})
        self.items(old_card.get("characteristics"), new_card.get("characteristics"),
                   lambda c: c.get("id"), ("scorecard", "characteristics"),
                   lambda name, _: f"scorecard characteristic {name}", ordered=False,
                   describe=lambda c: f"input {show(c.get('input'))}",
                   compare=self._characteristic)
        self.items(self.old.get("bands"), self.new.get("bands"), lambda b: b.get("grade"),
                   ("bands",), lambda name, _: f"band {name}", ordered=False,
                   describe=lambda b: f"score {show(b.get('score'))}",
                   compare=lambda subject, o, n, path: self.fields(o, n, path, subject))

        def adjustment(name: object, item: dict) -> str:
            return f"{'floor' if 'at_least' in item else 'cap'} {name}"

        def describe(item: dict) -> str:
            bound = (f"at least {item['at_least']}" if "at_least" in item
                     else f"at most {item.get('at_most')}")
            return f"{bound} when {show(item.get('when'))}"

        self.items(self.old.get("adjustments"), self.new.get("adjustments"),
                   lambda a: a.get("id"), ("adjustments",), adjustment, ordered=False,
                   describe=describe,
                   compare=lambda subject, o, n, path: self.fields(o, n, path, subject,
                                                                   labels=_BOUNDS))

    def _characteristic(self, subject: str, old: dict, new: dict, path: tuple) -> None:
        self.fields(old, new, path, subject, skip=frozenset({"bins"}))
        olds, news = _keyed(old.get("bins"), _bin_key), _keyed(new.get("bins"), _bin_key)
        moved = _moved(list(olds), list(news))
        for key, (index, item) in news.items():
            label = _bin_label(item)
            bin_path = (*path, "bins", index)
            if key not in olds:
                self.added(bin_path, f"{subject}: {label}", f"points {show(item['points'])}")
                continue
            old_index, before = olds[key]
            if key in moved:
                self.moved(bin_path, f"{subject}: {label}", old_index, index)
            for name in [*item, *(k for k in before if k not in item)]:
                if name in ("range", "values", "missing", "else"):
                    continue
                if not same(before.get(name, _ABSENT), item.get(name, _ABSENT)):
                    self.changed((*bin_path, name), f"{label} {name} "
                                 f"{_maybe(before, name)} {ARROW} {_maybe(item, name)}",
                                 subject)
        for key, (index, item) in olds.items():
            if key not in news:
                self.removed((*path, "bins", index), f"{subject}: {_bin_label(item)}",
                             f"points {show(item['points'])}")

    def policy(self) -> None:
        self.table(self.old.get("table") or {}, self.new.get("table") or {}, ("table",))
        self.fields(self.old.get("exposure_check") or {}, self.new.get("exposure_check")
                    or {}, ("exposure_check",), "exposure check")

    def approval(self) -> None:
        old_levels, new_levels = self.old.get("levels"), self.new.get("levels")
        if not same(old_levels, new_levels):
            self.changed(("levels",), f"levels {show(old_levels)} {ARROW} {show(new_levels)}")
        self.table(self.old.get("table") or {}, self.new.get("table") or {}, ("table",))

    def authority(self) -> None:
        self.items(self.old.get("roles"), self.new.get("roles"), lambda r: r.get("name"),
                   ("roles",), lambda name, _: f"role {name}", ordered=True,
                   describe=lambda r: ", ".join(f"{k} {show(v)}" for k, v in r.items()
                                                if k not in ("name", "description")),
                   compare=lambda subject, o, n, path: self.fields(o, n, path, subject))
        self.fields(self.old.get("second_approval") or {}, self.new.get("second_approval")
                    or {}, ("second_approval",), "second approval")

    def escalation(self) -> None:
        self.fields(self.old, self.new, (), "", skip=frozenset({"steps", "table", "$schema"}))
        self.items(self.old.get("steps"), self.new.get("steps"), lambda s: s.get("name"),
                   ("steps",), lambda name, _: f"step {name}", ordered=True,
                   describe=lambda s: ", ".join(f"{k} {show(v)}" for k, v in s.items()
                                                if k not in ("name", "description")),
                   compare=lambda subject, o, n, path: self.fields(o, n, path, subject))
        self.table(self.old.get("table") or {}, self.new.get("table") or {}, ("table",))

    def monitoring(self) -> None:
        self.fields(self.old, self.new, (), "", skip=frozenset({"rules", "regrade",
                                                                "$schema"}))
        self.fields((self.old.get("regrade") or {}).get("facts") or {},
                    (self.new.get("regrade") or {}).get("facts") or {},
                    ("regrade", "facts"), "re-grade fact")
        self.items(self.old.get("rules"), self.new.get("rules"), lambda r: r.get("id"),
                   ("rules",), lambda name, _: f"rule {name}", ordered=False,
                   describe=lambda r: r.get("description"), compare=self._monitoring_rule)

    def _monitoring_rule(self, subject: str, old: dict, new: dict, path: tuple) -> None:
        self.fields(old, new, path, subject, skip=frozenset({"match"}))
        self.items(old.get("match"), new.get("match"),
                   lambda p: p.get("as") or f"none {p.get('none')}", (*path, "match"),
                   lambda name, _: f"{subject} pattern {name}", ordered=False,
                   describe=lambda p: (p.get("signal") or p.get("none")) +
                   (f" when {p['when']}" if "when" in p else ""),
                   compare=lambda sub, o, n, where: self.fields(o, n, where, sub))

    def generic(self, old: object, new: object, path: tuple, subject: str) -> None:
        """Any structure: mappings key by key, lists of items with an id (or name) matched
        by it (order counts), decision tables as tables, anything else as a value."""
        if isinstance(old, dict) and isinstance(new, dict):
            if "rules" in new and "hit_policy" in new and "rules" in old:
                self.table(old, new, path, f"{subject}: " if subject else "")
                return
            for name in [*new, *(k for k in old if k not in new)]:
                if name == "$schema":
                    continue
                before, after = old.get(name, _ABSENT), new.get(name, _ABSENT)
                if same(before, after):
                    continue
                inner = f"{subject} {name}".strip()
                if isinstance(before, dict | list) and isinstance(after, dict | list):
                    self.generic(before, after, (*path, name), inner)
                else:
                    self.fields({} if before is _ABSENT else {name: before},
                                {} if after is _ABSENT else {name: after}, path, subject)
            return
        if isinstance(old, list) and isinstance(new, list) and _identified(old) and \
                _identified(new):
            def key(item: dict) -> object:
                return item.get("id", item.get("name"))

            self.items(old, new, key, path, lambda name, _: f"{subject} {name}".strip(),
                       ordered=True, describe=lambda _: None,
                       compare=lambda s, o, n, p: self.generic(o, n, p, s))
            return
        if not same(old, new):
            self.changed(path, f"{show(old)} {ARROW} {show(new)}", subject)

    # -- decision tables ----------------------------------------------------------------
    def table(self, old: dict, new: dict, path: tuple, prefix: str = "") -> None:
        """Rows matched by id; cells compared column by column."""
        subject = f"{prefix}table"
        self.fields(old, new, path, subject,
                    skip=frozenset({"inputs", "outputs", "rules", "default"}),
                    labels={"hit_policy": "hit policy"})
        self.items(old.get("inputs"), new.get("inputs"), lambda c: c.get("name"),
                   (*path, "inputs"), lambda name, _: f"{subject} input {name}",
                   ordered=False, describe=lambda c: c.get("expr"),
                   compare=lambda s, o, n, p: self.fields(o, n, p, s))
        self.items(old.get("outputs"), new.get("outputs"), lambda c: c.get("name"),
                   (*path, "outputs"), lambda name, _: f"{subject} output {name}",
                   ordered=False, describe=lambda c: c.get("type"),
                   compare=lambda s, o, n, p: self.fields(o, n, p, s))
        ordered = new.get("hit_policy") in ORDERED_HIT_POLICIES
        self.items(old.get("rules"), new.get("rules"), lambda r: r.get("id"),
                   (*path, "rules"), lambda name, _: f"{subject} row {name}",
                   ordered=ordered, describe=_describe_row, compare=self._row)
        old_default, new_default = old.get("default"), new.get("default")
        if old_default is not None or new_default is not None:
            if old_default is None:
                self.added((*path, "default"), f"{subject} default", _cells(new_default))
            elif new_default is None:
                self.removed((*path, "default"), f"{subject} default", _cells(old_default))
            else:
                self.fields(old_default, new_default, (*path, "default"), f"{subject} default")

    def _row(self, subject: str, old: dict, new: dict, path: tuple) -> None:
        old_when, new_when = old.get("when") or {}, new.get("when") or {}
        for name in [*new_when, *(k for k in old_when if k not in new_when)]:
            before, after = old_when.get(name, "-"), new_when.get(name, "-")
            if not same(before, after):
                self.changed((*path, "when", name), f"when {name} {_cell(before)} {ARROW} "
                                                    f"{_cell(after)}", subject)
        self.fields(old.get("then") or {}, new.get("then") or {}, (*path, "then"), subject)
        self.fields(old, new, path, subject, skip=frozenset({"id", "when", "then"}))


_ABSENT = object()
_KNOWN_STAGES = frozenset({"facts", "enrichment", "derived", "admission", "grading", "policy",
                           "approval", "authority", "escalation", "monitoring"})


def _identified(items: list) -> bool:
    return bool(items) and all(isinstance(i, dict) and ("id" in i or "name" in i)
                               for i in items)
_BOUNDS = {"at_most": "at most", "at_least": "at least"}


def _maybe(item: dict, name: str) -> str:
    return show(item[name]) if name in item else "none"


def _cell(value: object) -> str:
    """A 'when' cell, quoted: unary tests hold commas and spaces."""
    return f'"{show(value)}"'


def _cells(cells: object) -> str:
    if not isinstance(cells, dict):
        return show(cells)
    return ", ".join(f"{k} {show(v)}" for k, v in cells.items())


def _describe_row(row: dict) -> str:
    when = ", ".join(f"{k} {_cell(v)}" for k, v in (row.get("when") or {}).items())
    then = _cells(row.get("then") or {})
    return f"when {when or 'always'} then {then}"
