"""The engine's rooms import downwards only, never in a cycle (tests/import_layers.py), and
the checker does fail when they do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.import_layers import LAYERS, read_imports, violations

ROOT = Path(__file__).resolve().parent.parent


def test_the_engine_imports_downwards_only_and_without_cycles():
    assert violations(ROOT) == []


def test_every_engine_module_is_in_a_layer():
    modules, _ = read_imports(ROOT)
    rooms = [room for layer in LAYERS for room in layer]
    loose = [m for m in modules if m != "engine"
             and not any(m == r or m.startswith(r + ".") for r in rooms)]
    assert loose == []


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    """A throwaway engine package: ``files`` maps paths under engine/ to their source."""
    for name in ("", "language", "ruleset", "decide", "cli", "monitor", "batch_dir"):
        folder = tmp_path / "engine" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text('"""A room."""\n')
    for name, source in files.items():
        (tmp_path / "engine" / name).write_text(source)
    return tmp_path


def test_an_upward_import_fails(tmp_path):
    root = tree(tmp_path, {"language/expressions.py": "from ..ruleset.compiler import X\n",
                           "ruleset/compiler.py": "X = 1\n"})
    assert violations(root) == [
        "engine.language.expressions (line 1) imports engine.ruleset.compiler, a higher "
        "layer (engine.ruleset is above engine.language)"]


def test_an_import_across_rooms_of_one_layer_fails(tmp_path):
    root = tree(tmp_path, {"batch.py": "import engine.monitor.run\n",
                           "monitor/run.py": "X = 1\n"})
    assert violations(root) == [
        "engine.batch (line 1) imports engine.monitor.run, another room of its own layer"]


def test_a_cycle_inside_a_room_fails_even_through_a_late_import(tmp_path):
    root = tree(tmp_path, {
        "ruleset/compiler.py": "def load():\n    from .challenger import load_challenger\n",
        "ruleset/challenger.py": "from .compiler import load\n"})
    assert violations(root) == [
        "import cycle: engine.ruleset.challenger -> engine.ruleset.compiler -> "
        "engine.ruleset.challenger"]


@pytest.mark.parametrize(("path", "source", "expected"), [
    ("decide/pipeline.py", "import click\n",
     "engine.decide.pipeline (line 1) imports click, which only engine.cli may import"),
    ("ruleset/monitoring.py", "from durable.lang import ruleset\n",
     "engine.ruleset.monitoring (line 1) imports durable, which only "
     "engine.monitor.rete_session may import"),
])
def test_click_and_durable_rules_stay_in_their_rooms(tmp_path, path, source, expected):
    assert violations(tree(tmp_path, {path: source})) == [expected]


def test_an_import_for_annotations_only_does_not_count(tmp_path):
    root = tree(tmp_path, {
        "language/expressions.py": ("from typing import TYPE_CHECKING\n"
                                    "if TYPE_CHECKING:\n"
                                    "    from ..ruleset.compiler import X\n"),
        "ruleset/compiler.py": "X = 1\n"})
    assert violations(root) == []


def test_cli_may_import_every_layer_below_it(tmp_path):
    root = tree(tmp_path, {"cli/main.py": ("import click\nfrom ..decide.pipeline import d\n"
                                           "from ..language.expressions import e\n"),
                           "decide/pipeline.py": "d = 1\n",
                           "language/expressions.py": "e = 1\n"})
    assert violations(root) == []
