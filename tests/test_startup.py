"""One-shot commands load only what they use: 'credit --version' imports no command and
no JSON Schema library; the shipped schemas are checked here rather than at every start;
YAML is read by libyaml when a file has no problem, with the very result (and, for a file
with a problem, the very message) the Python parser gives."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.errors import ProblemsError
from engine.language import yaml_source
from tests.paths import ROOT

PROBE = """
import sys
from engine.cli.main import main
sys.argv = ["credit", *{args!r}]
try:
    main()
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.startswith(("engine.", "jsonschema", "durable",
                                                     "sqlite_utils", "pluggy",
                                                     "referencing", "http.", "ssl",
                                                     "urllib.request"))))
"""


def loaded_by(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=list(args))], cwd=ROOT,
                          capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                               "CREDIT_NO_CACHE": "1"})
    return eval(done.stdout.strip().splitlines()[-1])  # our own probe's list of names


def test_version_loads_no_command_and_no_heavy_library():
    loaded = loaded_by("--version")
    assert not [m for m in loaded if m.startswith(("engine.cli.", "jsonschema", "durable",
                                                   "sqlite_utils", "pluggy"))
                and m != "engine.cli.main"]


def test_a_command_loads_its_own_module_only():
    loaded = loaded_by("validate", str(ROOT / "rulesets" / "default"))
    commands = sorted(m for m in loaded if m.startswith("engine.cli.") and
                      m not in ("engine.cli.main", "engine.cli.options", "engine.cli.output",
                                "engine.cli.render", "engine.cli.progress",
                                "engine.cli.plugin_commands"))
    assert commands == ["engine.cli.ruleset_commands"]
    assert "durable" not in loaded


def test_a_valid_document_is_decided_without_jsonschema():
    """The compiled yes/no checks pass the ruleset's files and the customer: jsonschema
    (and referencing) are only for the messages of what they refuse."""
    loaded = loaded_by("decide", str(ROOT / "examples" / "customers" / "bbb-distributor.json"),
                       "--as-of", "2026-11-30", "--no-audit")
    assert "engine.decide.pipeline" in loaded and "jsonschema_rs" in loaded
    assert not [m for m in loaded if m.split(".")[0] in ("jsonschema", "referencing")]


def test_a_decision_without_a_bureau_set_up_loads_no_http_stack():
    loaded = loaded_by("decide", str(ROOT / "examples" / "customers" / "bbb-distributor.json"),
                       "--as-of", "2026-11-30", "--no-audit")
    assert not [m for m in loaded if m.startswith(("http.", "ssl", "urllib.request"))]


def test_an_invalid_document_still_gets_located_messages_from_jsonschema(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "C-1", "name": "X", "country": "Germany", '
                   '"financials": {"revenue": "lots"}}', encoding="utf-8")
    loaded = loaded_by("decide", str(bad), "--no-audit")
    assert "jsonschema" in loaded and "referencing" in loaded


YAML_FILES = sorted([*ROOT.glob("rulesets/**/*.yaml"), *ROOT.glob("tests/rulesets/**/*.yaml")])


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_libyaml_reads_every_file_as_the_python_parser_does(path):
    text = path.read_text(encoding="utf-8")
    fast = yaml_source._compose_fast(text)
    loader = yaml_source._Loader(text)
    try:
        slow = loader.compose_single()
    except (yaml_source._Fatal, yaml_source.yaml.YAMLError):
        assert fast is yaml_source._SLOW  # a file with a problem is the Python parser's
        return
    finally:
        loader.dispose()
    if slow is None:
        assert fast is None
        return
    built = [yaml_source._Builder(str(path)) for _ in range(2)]
    assert built[0].build(fast) == built[1].build(slow)
    assert built[0].problems == built[1].problems


@pytest.mark.parametrize("text", ["a: 1\n  b: 2\n", "a: &x 1\nb: *x\n", "a: 1\n---\nb: 2\n",
                                  "a: [1, 2\n", "\t- x\n", "a: " + "[" * 300 + "]" * 300])
def test_a_file_with_a_problem_gets_the_python_parsers_message(text, monkeypatch):
    with pytest.raises(ProblemsError) as fast:
        yaml_source.load_yaml_text(text, "f.yaml")
    monkeypatch.setattr(yaml_source, "_compose_fast", lambda _text: yaml_source._SLOW)
    with pytest.raises(ProblemsError) as slow:
        yaml_source.load_yaml_text(text, "f.yaml")
    assert [str(p) for p in fast.value.problems] == [str(p) for p in slow.value.problems]
