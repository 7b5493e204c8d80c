"""The Python API page and the code-organisation page say what the code is."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

import engine
from tests.paths import ROOT

API_PAGE = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def listed_names() -> list[str]:
    """The names in the first column of the API page's table."""
    return re.findall(r"^\| `([A-Za-z_]+)[(`]", API_PAGE, flags=re.M)


def test_the_api_page_lists_exactly_the_public_names():
    assert sorted(listed_names()) == sorted(engine.__all__)


@pytest.mark.parametrize("name", engine.__all__)
def test_every_public_name_imports(name):
    assert getattr(engine, name) is not None
    namespace: dict = {}
    exec(f"from engine import {name}", namespace)
    assert namespace[name] is getattr(engine, name)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'decide_everything'"):
        engine.decide_everything  # noqa: B018


def test_importing_engine_loads_no_room():
    code = ("import sys, engine; print(sorted(m for m in sys.modules "
            "if m.startswith('engine.')))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip()
    assert loaded == "['engine.version']"


def test_the_api_page_example_prints_what_the_page_says():
    blocks = re.findall(r"```(\w*)\n(.*?)```", API_PAGE, flags=re.S)
    code = next(body for lang, body in blocks if lang == "python")
    shown = next(body for lang, body in blocks if lang == "")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                            "CREDIT_NO_ENTRY_POINTS": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown


def rooms() -> list[str]:
    """The subpackages and top-level modules of engine/."""
    folder = ROOT / "engine"
    return sorted([p.name + "/" for p in folder.iterdir() if (p / "__init__.py").exists()]
                  + [p.name for p in folder.glob("*.py")])


@pytest.mark.parametrize("room", rooms())
def test_every_room_is_on_the_organisation_page(room):
    assert room in ARCHITECTURE


@pytest.mark.parametrize("package", [p for p in rooms() if p.endswith("/")])
def test_every_subpackage_says_what_belongs_there(package):
    source = (ROOT / "engine" / package / "__init__.py").read_text(encoding="utf-8")
    assert len(ast.get_docstring(ast.parse(source)) or "") > 60
