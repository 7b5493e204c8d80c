"""The one module that talks to durable_rules (the Rete engine that runs monitoring rules).

durable_rules' ``Host`` starts threads that dispatch actions and timers in the background;
here they are never started, so every action runs inside the ``assert`` or ``retract``
call that caused it, on the calling thread, and nothing can fire later. Actions only note
the firing (rule id and the matched signals): the monitor decides what to do with it,
so no exception of ours is swallowed inside durable_rules. "No rule matched" is a normal
outcome; any other error durable_rules raises becomes one readable RuleEngineError. Each
customer's state is deleted when the monitor is done with it.

durable-rules 2.0.28 does not import on Python 3.13 or later; ``MonitorUnavailable`` then
says so in one line and every other command keeps working.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from ..errors import CreditRulesError
from ..ruleset.monitoring import MonitoringRules

Firing = tuple[str, dict]  # (rule id, {bound name: signal})


class MonitorUnavailable(CreditRulesError):
    """durable_rules cannot be imported here."""


class RuleEngineError(CreditRulesError):
    """durable_rules refused a signal (a state it cannot handle)."""


def _engine():
    try:
        from durable import engine
    except ImportError:  # not installed (3.13+), or its C extension will not load
        version = ".".join(map(str, sys.version_info[:2]))
        raise MonitorUnavailable(
            f"credit monitor needs durable-rules, which does not import on Python {version}; "
            "it runs on Python 3.11 and 3.12, and every other command works here") from None
    return engine


class ReteSession:
    """One compiled monitoring ruleset loaded into a durable_rules host of its own."""

    def __init__(self, name: str, rules: MonitoringRules):
        engine = _engine()
        self._not_handled = engine.MessageNotHandledException
        self._firings: list[Firing] = []
        self._name = name
        definition = {rule.id: {**rule.condition, "run": self._collector(rule.id)}
                      for rule in rules.rules}
        definition[_OPEN] = {"all": [{"opened": {"signal": _OPEN}}], "run": _ignore}
        self._host = _quiet_host(engine)()
        self._host.set_rulesets({name: definition})

    def _collector(self, rule_id: str) -> Callable:
        firings = self._firings

        def collect(c) -> None:  # one parameter: durable_rules runs it synchronously
            firings.append((rule_id, {name: dict(signal) for name, signal in c._m.items()}))
        return collect

    def begin(self, sid: str) -> None:
        """Start a customer's state. durable_rules 2.0.28 crashes (SIGSEGV) when deleting a
        state in which no rule ever fired, so a rule of our own fires first, always."""
        self._host.assert_fact(self._name, {"sid": sid, "id": _OPEN, "signal": _OPEN})

    def assert_signal(self, signal: dict) -> list[Firing]:
        """Add a signal to its customer's state; the firings it caused, in firing order."""
        self._call(self._host.assert_fact, signal, "take")
        return self._take()

    def retract_signal(self, signal: dict) -> list[Firing]:
        """Remove a signal asserted before (the same content)."""
        self._call(self._host.retract_fact, signal, "let go of")
        return self._take()

    def _call(self, method: Callable, signal: dict, verb: str) -> None:
        try:
            method(self._name, signal)
        except self._not_handled:
            pass  # no rule matched: a normal outcome
        except Exception as exc:  # its own exception types, or a plain error code
            raise RuleEngineError(f"durable_rules would not {verb} signal {signal['id']} of "
                                  f"customer {signal['sid']}: {exc}") from None

    def forget(self, sid: str) -> None:
        """Delete everything durable_rules holds for one customer."""
        self._host.delete_state(self._name, sid)

    def _take(self) -> list[Firing]:
        taken = list(self._firings)
        self._firings.clear()
        return taken


_OPEN = "_opened"  # not a rule id or signal a ruleset can name (those start with a letter)


def _ignore(c) -> None:
    """The action of the opening rule: nothing to note."""


_HOSTS: dict[int, type] = {}


def _quiet_host(engine) -> type:
    """A ``Host`` whose background dispatch and timer threads never start."""
    if id(engine) not in _HOSTS:
        class QuietHost(engine.Host):
            def _run(self) -> None:
                """No background threads: actions run inside the call that caused them."""
        _HOSTS[id(engine)] = QuietHost
    return _HOSTS[id(engine)]
