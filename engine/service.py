"""The flows every front end shares (the CLI, batch, the monitor, and later the HTTP
service): enrich -> decide -> challenger -> record -> append -> notify, written once.

The decision itself stays pure (``engine.decide``); what is impure (plugins, the audit
file) is done here, in one order, so that each front end only reads its input and shows
the result. Nothing here prints: plugin warnings are returned as lines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from .audit.decision_records import UnpackedRecord, unpacked_decision_record
from .audit.decision_texts import summary_line
from .audit.store import AuditStore, NewRecord
from .canonical import canonical_json, compact_json
from .decide.challenger import challenger_part, challenger_view
from .decide.decision import Decision
from .decide.pipeline import decide
from .enrich.enrichment import Enriched, enrich
from .enrich.plugin_manager import PluginCallError, Plugins
from .errors import DecisionError
from .ruleset.compiler import CompiledRuleset

RECORDED_HOOK = "credit_rules_decision_recorded"


@dataclass
class Decided:
    """One customer decided: the champion's decision, the challenger's part recorded
    beside it (None when the customer is not in a challenger's split), and what
    enrichment contributed."""

    decision: Decision
    challenger: dict | None
    enriched: dict = field(default_factory=dict)  # name -> {"value", "plugin"}
    plugins: list[dict] = field(default_factory=list)  # [{"name", "version"}]

    def to_dict(self, *, written: NewRecord | None = None, trace: object = None) -> dict:
        """The decision as ``credit decide --json`` shows it, with the challenger's view.
        ``written``: its record (``record``), which proved every value writable and
        holds its id; with it, ``trace`` may be the trace already written
        (``Decision.to_dict``)."""
        with _writing(self.decision):
            data = self.decision.to_dict(written.decision_id if written else None,
                                         trace=trace if written else None)
            if not written:
                canonical_json(data["trace"])  # what cannot be written fails here, named
        view = challenger_view(self.decision.ruleset, self.challenger)
        if view is not None:
            data["challenger"] = view
        return data

    def record(self, salt: bytes, *, batch_id: str | None = None,
               batch_row: int | None = None, packed: bool = True
               ) -> tuple[NewRecord | UnpackedRecord, str]:
        """The audit record of this decision and its summary JSON (a results file line);
        not ``packed``, the record before its body is compressed (``UnpackedRecord``).
        Raises DecisionError naming the rule when a value cannot be written."""
        try:  # (not _writing: a generator's context costs a microsecond a record)
            record, line = unpacked_decision_record(
                self.decision, salt, batch_id=batch_id, batch_row=batch_row,
                plugins=self.plugins, enriched=self.enriched, challenger=self.challenger)
        except (ValueError, RecursionError, OverflowError) as exc:
            raise _unwritable(self.decision, exc) from None
        return (record.packed() if packed else record), line

    def results_line(self, salt: bytes | None, *, with_trace: bool = False,
                     batch_id: str | None = None, batch_row: int | None = None,
                     packed: bool = True) -> tuple[NewRecord | UnpackedRecord | None, str]:
        """The audit record (None when ``salt`` is None: not audited; see ``record`` for
        ``packed``) and the line a results file gets: the summary, or the whole decision
        ``with_trace``."""
        record = None
        if salt is not None:
            record, line = self.record(salt, batch_id=batch_id, batch_row=batch_row,
                                       packed=packed)
            if not with_trace:
                return record, line
        if not with_trace:  # (not _writing, as in record)
            try:
                return None, (summary_line(self.decision)
                              or compact_json(self.decision.summary()))
            except (ValueError, RecursionError, OverflowError) as exc:
                raise _unwritable(self.decision, exc) from None
        with _writing(self.decision):
            line = compact_json(self.decision.to_dict(record.decision_id if record else None))
        return record, line


@contextlib.contextmanager
def _writing(decision: Decision) -> Iterator[None]:
    """Writing a decision: a value JSON cannot hold is the decision's failure, named by the
    rule that made it, never an error that stops a batch."""
    try:
        yield
    except (ValueError, RecursionError, OverflowError) as exc:
        raise _unwritable(decision, exc) from None


def _unwritable(decision: Decision, exc: Exception) -> DecisionError:
    """The error of a decision whose values JSON cannot hold (``exc``), naming the rule."""
    where = decision.unwritable()
    reason = "a whole number past 4,300 digits" if "digits" in str(exc) else \
        f"{type(exc).__name__}"
    return DecisionError(f"{where + ': ' if where else ''}its value cannot be written "
                         f"({reason})")


@dataclass
class Recorded:
    """A decision appended to the audit trail: where, and what plugins said on hearing it."""

    decided: Decided
    seq: int | None = None  # None: not audited
    hash: str | None = None
    warnings: list[str] = field(default_factory=list)


def decide_facts(ruleset: CompiledRuleset, facts: dict, as_of: dt.date, *,
                 enriched: dict | None = None, plugins: list[dict] | None = None) -> Decided:
    """Decide on facts already enriched (pure): the champion, then its challenger when
    the customer is in the split. Raises DecisionError when the rules cannot decide."""
    decision = decide(ruleset, facts, as_of)
    return Decided(decision, challenger_part(ruleset, facts, as_of), enriched or {},
                   plugins or [])


def decide_document(ruleset: CompiledRuleset, document: dict, as_of: dt.date,
                    plugins: Plugins) -> Decided:
    """Enrich a checked customer document through the plugins, then decide on it."""
    enrichment: Enriched = enrich(ruleset, document, as_of, plugins)
    return decide_facts(ruleset, enrichment.facts, as_of, enriched=enrichment.enriched,
                        plugins=enrichment.plugins)


def store_rulesets(store: AuditStore, ruleset: CompiledRuleset) -> None:
    """Keep the content of every ruleset a run may decide with (the champion, and the
    challenger it names) in the audit file, so each decision can be replayed."""
    store.store_ruleset(ruleset)
    if ruleset.challenger is not None:
        store.store_ruleset(ruleset.challenger.ruleset)


def decide_and_record(ruleset: CompiledRuleset, document: dict, as_of: dt.date, *,
                      plugins: Plugins, store: AuditStore | None) -> Recorded:
    """Enrich, decide, and (when ``store`` is given) append the decision to the audit
    trail and tell the plugins that listen; without a store nothing is written."""
    decided = decide_document(ruleset, document, as_of, plugins)
    if store is None:
        return Recorded(decided)
    store_rulesets(store, ruleset)
    record, _ = decided.record(store.salt)
    seq, digest = store.append([record])[0]
    warnings = notify_recorded(plugins, [(seq, digest, record, decided.decision.summary())])
    return Recorded(decided, seq, digest, warnings)


def listening(plugins: Plugins) -> bool:
    """Whether any plugin wants to hear about recorded decisions."""
    return bool(getattr(plugins.manager.hook, RECORDED_HOOK).get_hookimpls())


def notify_recorded(plugins: Plugins, recorded: list[tuple]) -> list[str]:
    """Tell plugins about audited decisions ``[(seq, hash, record, decision)]``; returns
    one warning line per plugin that failed (the decisions stand)."""
    warnings = []
    for seq, digest, record, data in recorded:
        info = {"seq": seq, "hash": digest, "decision_id": record.decision_id,
                "customer_id": record.customer_id}
        for plugin, result in plugins.call_each(RECORDED_HOOK, record=info, decision=data):
            if isinstance(result, PluginCallError):
                warnings.append(f"plugin {plugin} (decision recorded) {result}")
    return warnings
