"""Enrichment: the impure step before the pure decision. Plugins add indicator values and
a credit bureau report to the customer's facts; everything they contribute, and every
plugin that failed, is written into the enriched facts, which the decision reads and the
audit trail records, so that a replay needs no plugin at all.

The enriched document adds to the customer document:

- ``indicators.PLUGIN.NAME``: each indicator a plugin gave (declared in enrichment.yaml);
- ``bureau``: the report used, with ``source`` naming the connector that gave it;
- ``enrichment_failures``: ``[{"source", "kind", "error"}]`` for each plugin that raised,
  timed out, answered in the wrong shape, or (for the bureau) had no usable report.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from ..decide.redaction import MARKER, value_at
from ..language.value_types import CHECKS, fits
from ..per_object import per_object
from ..ruleset.compiler import CompiledRuleset
from .plugin_manager import PluginCallError, Plugins

INDICATORS_HOOK = "credit_rules_indicators"
BUREAU_HOOK = "credit_rules_bureau_reports"
JUDGMENTS_HOOK = "credit_rules_expert_judgments"
ENRICHED_KEYS = frozenset({"indicators", "bureau", "enrichment_failures", "overrides"})


@dataclass
class Enriched:
    """The facts to decide on, and what the audit records about where they came from."""

    facts: dict
    enriched: dict = field(default_factory=dict)  # name -> {"value", "plugin"}
    plugins: list[dict] = field(default_factory=list)  # [{"name", "version"}]

    @property
    def failures(self) -> list[dict]:
        return self.facts.get("enrichment_failures", [])


def enrich(ruleset: CompiledRuleset, customer: dict, as_of: dt.date,
           plugins: Plugins) -> Enriched:
    """Ask the plugins the ruleset lists; never raises for a plugin's failure."""
    spec = ruleset.enrichment
    # What enrichment adds can only come from enrichment, never from the input itself.
    facts = dict(customer)
    if not facts.keys().isdisjoint(ENRICHED_KEYS):  # looks up the four, not every key
        for key in ENRICHED_KEYS.intersection(facts):
            del facts[key]
    result = Enriched(facts, {}, plugins.versions())
    failures: list[dict] = []
    for plugin, declared, timeout, keys, checks in _indicator_plan(spec):
        try:
            if not plugins.implements(plugin, INDICATORS_HOOK):
                raise PluginCallError("is not installed (no loaded plugin of that name "
                                      f"implements {INDICATORS_HOOK})")
            answer = plugins.call_one(plugin, INDICATORS_HOOK, timeout, customer=customer,
                                      as_of=as_of, wanted=list(declared))
            values = _checked(answer, checks)
        except PluginCallError as exc:
            failures.append({"source": plugin, "kind": "indicators", "error": str(exc)})
            continue
        facts.setdefault("indicators", {})[plugin] = values
        enriched = result.enriched
        for key, value in zip(keys, values.values(), strict=True):
            enriched[key] = {"value": value, "plugin": plugin}
    bureau = spec.get("bureau")
    if bureau:
        _bureau(bureau, customer, as_of, plugins, result, failures)
    _judgments(customer, as_of, plugins, result, failures)
    if failures:
        result.facts["enrichment_failures"] = without_redacted(failures, customer,
                                                               ruleset.redact)
    return result


@per_object
def _indicator_plan(spec: dict) -> list[tuple]:
    """(plugin, declared values, timeout, each value's key in ``Enriched.enriched``, the
    checks of ``_checked``) of each indicator plugin ``spec`` (a ruleset's
    enrichment.yaml) lists, worked out once."""
    return [(plugin, indicator["values"], indicator.get("timeout_seconds"),
             tuple(f"indicators.{plugin}.{name}" for name in indicator["values"]),
             _value_checks(indicator["values"]))
            for plugin, indicator in (spec.get("indicators") or {}).items()]


def without_redacted(failures: list[dict], customer: dict,
                     redact: tuple[str, ...]) -> list[dict]:
    """The failures with every value of a redacted field taken out of their messages, in
    the forms a plugin may have put it there (as is, URL-quoted, JSON-escaped): a
    connector's error names its URL, and the URL may hold the customer's name."""
    forms = sorted({form for path in redact for value in _values_at(customer, path)
                    for form in _forms(value)}, key=len, reverse=True)
    if not forms:
        return failures
    scrubbed = []
    for failure in failures:
        error = failure.get("error")
        if isinstance(error, str):
            for form in forms:
                error = error.replace(form, MARKER)
            failure = {**failure, "error": error}
        scrubbed.append(failure)
    return scrubbed


def _values_at(document: dict, path: str) -> list[object]:
    value = value_at(document, path)
    return [value] if isinstance(value, str | int | float) and not isinstance(value, bool) \
        else []


def _forms(value: object) -> set[str]:
    text = str(value)
    if len(text) < 2:  # too short to find without taking other text with it
        return set()
    return {text, urllib.parse.quote(text, safe=""), urllib.parse.quote(text),
            urllib.parse.quote_plus(text), json.dumps(text)[1:-1]} - {""}


def _bureau(spec: dict, customer: dict, as_of: dt.date, plugins: Plugins,
            result: Enriched, failures: list[dict]) -> None:
    """Ask each connector in turn; the first usable report wins."""
    tried = []
    for connector in spec["waterfall"]:
        try:
            if not plugins.implements(connector, BUREAU_HOOK):
                raise PluginCallError(f"is not installed (no loaded plugin of that name "
                                      f"implements {BUREAU_HOOK})")
            answer = plugins.call_one(connector, BUREAU_HOOK, spec.get("timeout_seconds"),
                                      customer=customer, as_of=as_of)
            if answer is None:
                tried.append(f"{connector} (no report)")
                continue
            values = checked_values(answer, spec["values"])
            if spec.get("max_age_days") is not None:
                age = _age_days(values.get("report_date"), as_of)
                if age is None:
                    tried.append(f"{connector} (report without a readable report_date)")
                    continue
                if age > spec["max_age_days"]:
                    tried.append(f"{connector} (report {age} days old)")
                    continue
        except PluginCallError as exc:
            failures.append({"source": connector, "kind": "bureau", "error": str(exc)})
            tried.append(f"{connector} (failed: {exc})")
            continue
        result.facts["bureau"] = {**values, "source": connector}
        for name, value in values.items():
            result.enriched[f"bureau.{name}"] = {"value": value, "plugin": connector}
        return
    failures.append({"source": "bureau", "kind": "bureau",
                     "error": "no usable report: " + ", ".join(tried)})


def _judgments(customer: dict, as_of: dt.date, plugins: Plugins, result: Enriched,
               failures: list[dict]) -> None:
    """Every plugin's proposed overrides, each tagged with the plugin that gave it."""
    proposed = []
    for plugin, answer in plugins.call_each(JUDGMENTS_HOOK, customer=customer, as_of=as_of):
        if isinstance(answer, PluginCallError):
            failures.append({"source": plugin, "kind": "overrides", "error": str(answer)})
            continue
        if answer is None or (type(answer) is list and not answer):  # nothing proposed
            continue
        if not isinstance(answer, list) or not all(isinstance(o, dict) for o in answer):
            failures.append({"source": plugin, "kind": "overrides",
                             "error": "answered with something other than a list of "
                                      "mappings"})
            continue
        proposed.extend({**o, "source": plugin} for o in answer)
    if proposed:
        result.facts["overrides"] = proposed
        result.enriched["overrides"] = {"value": proposed,
                                        "plugin": ", ".join(sorted({o["source"]
                                                                    for o in proposed}))}


def _age_days(report_date: object, as_of: dt.date) -> int | None:
    """Days since the report's date; None when it has no date that can be read."""
    if report_date is None or not fits(report_date, "date"):
        return None
    return (as_of - dt.date.fromisoformat(report_date)).days


def checked_values(answer: object, declared: dict) -> dict:
    """The declared values from a plugin's answer, each of its declared type (null when
    absent). Raises PluginCallError naming the first value of the wrong shape."""
    return _checked(answer, _value_checks(declared))


# The class of the values that always fit a declared type, which spares the type's check.
_ALWAYS_FITS = {"string": str, "number": int, "money": int, "integer": int,
                "boolean": bool}


def _value_checks(declared: dict) -> tuple[tuple[str, str, type | None, Callable], ...]:
    """(name, type, class always fitting it, its check) of each declared value."""
    return tuple((name, spec["type"], _ALWAYS_FITS.get(spec["type"]), CHECKS[spec["type"]])
                 for name, spec in declared.items())


def _checked(answer: object, checks: tuple) -> dict:
    """``checked_values`` with the declared values' checks made (``_value_checks``)."""
    if not isinstance(answer, dict):
        raise PluginCallError(f"answered with {type(answer).__name__}, not a mapping")
    values = {}
    for name, typ, always, check in checks:
        value = answer.get(name)
        if value is not None and value.__class__ is not always and not check(value):
            raise PluginCallError(f"gave {name} = {str(value)[:40]!r}, not a {typ}")
        values[name] = value
    return values
