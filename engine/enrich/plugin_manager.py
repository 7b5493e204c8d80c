"""Loading plugins: the built-in ones in ``plugins/`` and every entry point in the group
``credit_rules``, all through the same ``register`` call (as datasette's DEFAULT_PLUGINS),
and calling one plugin's hook on its own, so that a failing plugin never stops another."""

from __future__ import annotations

import importlib
import operator
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from ..version import __version__
from . import hookspecs, plugin_discovery

PROJECT = "credit_rules"
BUILTIN_PLUGINS = ("plugins.industry", "plugins.bureau_files", "plugins.bureau_http",
                   "plugins.overrides", "plugins.exchange_rates")


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin: its name, version, where it came from and the hooks it has."""

    name: str
    version: str
    source: str  # "built-in" or "entry point <package>"
    hooks: tuple[str, ...]


@dataclass(frozen=True)
class LoadFailure:
    """A plugin that could not be loaded, and why (one line)."""

    name: str
    error: str


class PluginCallError(Exception):
    """A plugin's hook raised, timed out or answered in the wrong shape."""


@dataclass
class Plugins:
    """The loaded plugins."""

    manager: pluggy.PluginManager
    infos: list[PluginInfo] = field(default_factory=list)
    failures: list[LoadFailure] = field(default_factory=list)
    # Worked out once and used while what they were worked out from is unchanged (the
    # same infos; for a hook, the same implementations in pluggy): every decision asks.
    _versions: tuple[list, list[dict]] = field(default=([], []), init=False, repr=False)
    _implemented: tuple[list, frozenset] = field(default=([], frozenset()), init=False,
                                                 repr=False)
    _callers: dict[str, tuple[list, list, dict]] = field(default_factory=dict, init=False,
                                                         repr=False)

    def names(self) -> list[str]:
        return [info.name for info in self.infos]

    def versions(self) -> list[dict]:
        """[{"name", "version"}] of every loaded plugin, as the audit records them (one
        list while the plugins stay the same: do not modify it)."""
        infos, versions = self._versions
        if infos != self.infos:
            infos = list(self.infos)
            versions = [{"name": i.name, "version": i.version} for i in infos]
            self._versions = (infos, versions)
        return versions

    def implements(self, plugin: str, hook: str) -> bool:
        infos, implemented = self._implemented
        if infos != self.infos:
            infos = list(self.infos)
            implemented = frozenset((i.name, h) for i in infos for h in i.hooks)
            self._implemented = (infos, implemented)
        return (plugin, hook) in implemented

    def _hook_callers(self, hook: str) -> tuple[list[tuple[str, Any, Callable]], dict]:
        """(plugin name, function, its arguments from a call's keyword arguments) of each
        implementation of ``hook``, in pluggy's order, and the same by plugin name (the
        first of a name, as a search in that order finds it)."""
        impls = getattr(self.manager.hook, hook).get_hookimpls()
        cached = self._callers.get(hook)
        if cached is not None and cached[0] == impls:
            return cached[1], cached[2]
        callers = [(impl.plugin_name, impl.function, _arguments(impl.argnames))
                   for impl in impls]
        by_name = {}
        for caller in callers:
            by_name.setdefault(caller[0], caller)
        self._callers[hook] = (impls, callers, by_name)
        return callers, by_name

    def call_one(self, plugin: str, hook: str, timeout: float | None = None,
                 **kwargs: Any) -> Any:
        """Call ``hook`` of one plugin only. Raises PluginCallError (with a one-line
        message) when it raises or takes longer than ``timeout`` seconds."""
        caller = self._hook_callers(hook)[1].get(plugin)
        if caller is None:
            raise PluginCallError(f"plugin {plugin} does not implement {hook}")
        return _call(caller[1], caller[2](kwargs), timeout)

    def call_each(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``hook`` of every plugin that has it, each on its own: a list of
        (plugin, result or PluginCallError)."""
        results = []
        for name, function, arguments in reversed(self._hook_callers(hook)[0]):
            try:
                results.append((name, _call(function, arguments(kwargs), None)))
            except PluginCallError as exc:
                results.append((name, exc))
        return results


def _arguments(names: tuple[str, ...]) -> Callable[[dict], tuple]:
    """The function that picks a hook implementation's arguments, in its order, from the
    keyword arguments of a call (an ``itemgetter``: a call costs a third of a list
    comprehension's; a single name needs the tuple made)."""
    if len(names) == 1:
        return lambda kwargs, name=names[0]: (kwargs[name],)
    return operator.itemgetter(*names) if names else lambda kwargs: ()


def _call(function, args: tuple, timeout: float | None) -> Any:
    """Run a plugin's hook; anything it raises (even SystemExit) or a call longer than
    ``timeout`` becomes a PluginCallError. With a timeout the call runs in a thread of its
    own, so a plugin that hangs keeps only its own thread, never another plugin's turn."""
    if timeout is None:
        try:
            return function(*args)
        except (Exception, SystemExit) as exc:  # a plugin's failure is the plugin's
            raise PluginCallError(_raised(exc)) from None
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function(*args)
        except (Exception, SystemExit) as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="credit-plugin", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise PluginCallError(f"timed out after {timeout:g} s")
    if "error" in outcome:
        raise PluginCallError(_raised(outcome["error"]))
    return outcome.get("value")


def _raised(exc: BaseException) -> str:
    return f"raised {type(exc).__name__}: {_one_line(exc)}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def register(plugins: Plugins, plugin: object, name: str, version: str, source: str) -> None:
    """Register one plugin (a module or object with hook implementations)."""
    plugins.manager.register(plugin, name=name)
    hooks = tuple(sorted(caller.name for caller in
                         plugins.manager.get_hookcallers(plugin) or []))
    plugins.infos.append(PluginInfo(name, version, source, hooks))


_loaded: Plugins | None = None


def installed_plugins() -> Plugins:
    """The plugins of this process, loaded once ($CREDIT_NO_ENTRY_POINTS=1 keeps to the
    built-in ones)."""
    global _loaded
    if _loaded is None:
        _loaded = load_plugins(entry_points=not os.environ.get("CREDIT_NO_ENTRY_POINTS"))
    return _loaded


def plugin_problems(ruleset, plugins: Plugins) -> list:
    """Located problems for every plugin a ruleset's enrichment.yaml needs that is not
    installed (validate reports them; a decision treats them as failed plugins)."""
    from ..language.codegen import SpecProblem

    spec = ruleset.enrichment
    missing = []
    for plugin in spec.get("indicators") or {}:
        if not plugins.implements(plugin, "credit_rules_indicators"):
            missing.append((("indicators", plugin), plugin, "credit_rules_indicators"))
    for index, plugin in enumerate((spec.get("bureau") or {}).get("waterfall", [])):
        if not plugins.implements(plugin, "credit_rules_bureau_reports"):
            missing.append((("bureau", "waterfall", index), plugin,
                            "credit_rules_bureau_reports"))
    return [ruleset.source.problem("enrichment", SpecProblem(
        path, f"the plugin '{plugin}' is not installed (install the package that provides "
              f"it; it must implement {hook}; see 'credit plugins')", at_key=path[0] ==
        "indicators")) for path, plugin, hook in missing]


def load_plugins(entry_points: bool = True) -> Plugins:
    """The built-in plugins and (unless ``entry_points`` is False) every installed
    entry point of the group ``credit_rules``. A plugin that fails to load is listed in
    ``failures`` and does not stop the others."""
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    plugins = Plugins(manager)
    for module_name in BUILTIN_PLUGINS:
        name = module_name.rsplit(".", 1)[1]
        try:
            register(plugins, importlib.import_module(module_name), name, __version__,
                     "built-in")
        except Exception as exc:
            plugins.failures.append(LoadFailure(name, f"{type(exc).__name__}: "
                                                      f"{_one_line(exc)}"))
    if entry_points:
        for point in plugin_discovery.entry_points(PROJECT):
            version = point.dist.version if point.dist else "unknown"
            package = point.dist.name if point.dist else point.value
            try:
                if point.name in plugins.names():
                    raise ValueError(f"a plugin named {point.name} is already loaded")
                register(plugins, point.load(), point.name, version,
                         f"entry point {package}")
            except Exception as exc:
                plugins.failures.append(LoadFailure(point.name, f"{type(exc).__name__}: "
                                                                f"{_one_line(exc)}"))
    return plugins
