"""Replaying a recorded decision from the record alone: the ruleset content stored by its
hash, the recorded (enriched) facts and the recorded as-of date. No plugin is called and no
bureau is asked. The replay matches when the decision and its trace come out identical,
byte for byte. A monitoring action is replayed by running the monitor again, under the
stored ruleset, on its customer's records that came before it (see ``engine.monitor.run``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from .audit.decision_records import full_decision, stored_head
from .audit.queries import Filters
from .audit.store import AuditError, AuditStore
from .canonical import canonical_json, compact_json
from .decide.challenger import decide_challenger, in_split
from .decide.decision import Decision, compact_trace
from .decide.pipeline import decide
from .errors import DecisionError, ProblemsError
from .monitor.run import action_again
from .orders.order_check import KIND as ORDER_CHECK
from .orders.order_check import OrderCheck, check_order, recorded_facts
from .parallel import chunked, map_chunks
from .ruleset.compiler import CompiledRuleset, compile_ruleset
from .ruleset.source import source_from_content

MAX_DIFF_LINES = 30
CHUNK = 500  # records a worker replays at a time
PARALLEL_FROM = 5_000  # records; below this, starting workers costs more than it saves


@dataclass
class ReplayResult:
    """How one replay went: ``differences`` are readable lines, empty when it matched."""

    seq: int
    decision_id: str
    differences: list[str] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return not self.differences


class Replayer:
    """Replays records from one store, compiling each stored ruleset once."""

    def __init__(self, store: AuditStore):
        self.store = store
        self._rulesets: dict[str, CompiledRuleset] = {}

    def ruleset(self, ruleset_hash: str) -> CompiledRuleset:
        if ruleset_hash not in self._rulesets:
            content = self.store.ruleset_content(ruleset_hash)
            try:
                compiled = compile_ruleset(source_from_content(
                    content, f"stored ruleset {ruleset_hash[:12]}"))
            except ProblemsError as exc:
                raise AuditError(f"stored ruleset {ruleset_hash[:12]} no longer compiles: "
                                 f"{exc.problems[0]}") from None
            if compiled.hash != ruleset_hash:
                raise AuditError(f"stored ruleset {ruleset_hash[:12]} hashes to "
                                 f"{compiled.hash[:12]}: its content was altered")
            self._rulesets[ruleset_hash] = compiled
        return self._rulesets[ruleset_hash]

    def replay(self, row: dict) -> ReplayResult:
        """Replay one record (a row of the records table): a decision, or a monitoring
        action (run again on the records before it)."""
        if row["kind"] == "action":
            return self._replay_action(row)
        if row["kind"] == ORDER_CHECK:
            return self._replay_order_check(row)
        if row["kind"] != "decision":
            article = "an" if row["kind"][0] in "aeiou" else "a"
            raise AuditError(f"record {row['seq']} is {article} {row['kind']} record, not a "
                             "decision, an order check or an action")
        text, body = self.store.read_body(row, ordered=False)
        result = ReplayResult(row["seq"], row["decision_id"])
        ruleset = self.ruleset(row["ruleset_hash"])
        try:
            decision = decide(ruleset, body["input"], dt.date.fromisoformat(body["as_of"]))
        except DecisionError as exc:
            result.differences.append(f"the decision now fails: {exc}")
            return result
        summary = decision.summary()
        new_trace = compact_json(decision.compact_trace())
        if row["body"].__class__ is str:
            new_summary = compact_json(summary)
            same = _same_bytes(text, body, new_summary, new_trace)
        else:
            same = _same_stored(text, body, summary, row, new_trace)
            new_summary = None if same else compact_json(summary)
        if not same and (compact_json(body["decision"]) != new_summary
                         or compact_json(body["trace"]) != new_trace):
            result.differences = _differences(body, ruleset, decision, self.store)
            if not result.differences:  # same values, different bytes
                result.differences = ["the decision's JSON differs byte for byte"]
        if "challenger" in body:
            result.differences += self._challenger_differences(body)
        return result

    def replay_seqs(self, seqs: list[int]) -> list[ReplayResult]:
        """Replay the records with these sequence numbers, in order."""
        marks = ", ".join("?" * len(seqs))
        return [self.replay(row) for row in self.store.iter_rows(
            f"SELECT * FROM records WHERE seq IN ({marks}) ORDER BY seq", seqs)]

    def _replay_action(self, row: dict) -> ReplayResult:
        stored = json.loads(row["body"])
        result = ReplayResult(row["seq"], stored["key"])
        again = action_again(self.store, self.ruleset(row["ruleset_hash"]), row)
        if again is None:
            result.differences = [f"the monitor no longer takes {stored['key']}"]
        elif canonical_json(again) != row["body"]:
            _diff("", stored, again, result.differences)
            result.differences = _capped(result.differences) or [
                "the action's JSON differs byte for byte"]
        return result

    def _replay_order_check(self, row: dict) -> ReplayResult:
        """An order check run again on the facts it recorded, under its stored ruleset."""
        stored = json.loads(row["body"])
        result = ReplayResult(row["seq"], stored["order"]["id"])
        facts = recorded_facts(stored["facts"])
        seen = stored["exposure"]  # None: a rate was missing, and no exposure was counted
        if seen is not None and facts["exposure"] != Decimal(seen["total"]):
            result.differences.append("facts.exposure: recorded "
                                      f"{stored['facts']['exposure']}, the exposure snapshot "
                                      f"says {stored['exposure']['total']}")
        reasons, trace = check_order(self.ruleset(row["ruleset_hash"]), facts,
                                     stored.get("exchange"), stored.get("rates"))
        again = OrderCheck(stored["order"], dt.date.fromisoformat(stored["as_of"]), facts,
                           stored["exposure"], stored["decision"], reasons, trace,
                           release=stored["result"].get("release"),
                           exchange=stored.get("exchange"), rates=stored.get("rates", []))
        if canonical_json(again.result()) != canonical_json(stored["result"]):
            _diff("result", stored["result"], again.result(), result.differences)
        elif compact_json(compact_trace(trace)) != canonical_json(stored["trace"]):
            result.differences.append("the check's trace differs")
        result.differences = _capped(result.differences)
        return result

    def _challenger_differences(self, body: dict) -> list[str]:
        """The challenger part decided again (its stored ruleset, the recorded input and
        date) and compared; and the customer must be in the recorded share's split."""
        stored = body["challenger"]
        try:
            ruleset = self.ruleset(stored["ruleset"]["hash"])
            share = stored["share"]
            champion = body["decision"]["ruleset"]["name"]
            customer_id = body["input"].get("id", "")
            inside = in_split(champion, customer_id, share)
        except (KeyError, TypeError, AttributeError):
            return ["challenger: the recorded part is not in the recorded form"]
        lines = []
        if not inside:
            lines.append(f"challenger: customer {customer_id} is not in the {share!r} split "
                         f"of ruleset {champion}, yet a challenger result is recorded")
        new = decide_challenger(ruleset, share, body["input"],
                                dt.date.fromisoformat(body["as_of"]))
        if canonical_json(stored) != canonical_json(new):
            _diff("challenger", stored, new, lines)
            if not lines:
                lines.append("challenger: the JSON differs byte for byte")
        return lines


def _differences(body: dict, ruleset: CompiledRuleset, decision: Decision,
                 store: AuditStore) -> list[str]:
    try:
        slots = store.trace_slots(ruleset.hash, body["decision"]["engine_version"])
    except AuditError:
        slots = [list(s) for s in ruleset.slots]
    old = json.loads(canonical_json(full_decision(body, slots)))
    new = json.loads(canonical_json(decision.to_dict()))
    lines: list[str] = []
    _diff("", old, new, lines)
    return _capped(lines)


def _capped(lines: list[str]) -> list[str]:
    """At most MAX_DIFF_LINES differences, and how many more there are."""
    return lines[:MAX_DIFF_LINES] + ([f"... and {len(lines) - MAX_DIFF_LINES} more"]
                                     if len(lines) > MAX_DIFF_LINES else [])


def _diff(path: str, old: object, new: object, lines: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _diff(f"{path}.{key}" if path else key, old.get(key, "<absent>"),
                  new.get(key, "<absent>"), lines)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff(f"{path}[{index}]", a, b, lines)
    elif old != new:
        lines.append(f"{path}: recorded {_short(old)}, replayed {_short(new)}")


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _same_bytes(text: str, body: dict, summary_json: str, trace_json: str) -> bool:
    """Whether the stored body holds exactly this summary and trace where the engine
    writes them (the body is canonical JSON: as_of, [challenger], decision, ..., trace
    last), compared as text, without encoding the stored values again. False says only
    "compare the values" (a body written another way may still hold the same ones)."""
    head = f'{{"as_of":"{body["as_of"]}",'
    if "challenger" in body:
        head += f'"challenger":{canonical_json(body["challenger"])},'
    return text.startswith(f'{head}"decision":{summary_json},') and \
        text.endswith(f'"trace":{trace_json}}}')


def _same_stored(text: str, body: dict, summary: dict, row: dict, trace_json: str) -> bool:
    """``_same_bytes`` for a format-2 body: whether its stored JSON is what this summary
    and trace would be stored as under the record's header."""
    head = stored_head(body["as_of"], summary, body.get("challenger"), row)
    return text.startswith(head + ',"enriched":') and \
        text.endswith(f'"trace":{trace_json}}}')


def replay_records(db_path: str, filters: Filters, *, workers: int = 1
                   ) -> Iterator[ReplayResult]:
    """Replay every decision and monitoring action matching ``filters``, in record order,
    in ``workers`` processes for a long trail (each with its own connection and compiled
    rulesets)."""
    kinds = ("decision", "action", ORDER_CHECK) if filters.kind is None else (filters.kind,)
    where, params = filters.where()
    limit = f" LIMIT {int(filters.limit)}" if filters.limit else ""
    with AuditStore(db_path, create=False) as store:
        seqs = [row["seq"] for row in store.iter_rows(
            f"SELECT seq, kind FROM records{where} ORDER BY seq{limit}", params)
            if row["kind"] in kinds]
        chunks = chunked(iter(seqs), CHUNK)
        if workers <= 1 or len(seqs) < PARALLEL_FROM:
            replayer = Replayer(store)
            for chunk in chunks:
                yield from replayer.replay_seqs(chunk)
            return
    for results in map_chunks(chunks, Replayer.replay_seqs, (), workers=workers,
                              initializer=_worker_replayer, initargs=(db_path,)):
        yield from results


def _worker_replayer(db_path: str) -> Replayer:
    """A worker's replayer, on a connection of its own to the audit file."""
    return Replayer(AuditStore(db_path, create=False))
