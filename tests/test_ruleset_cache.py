"""The cache of compiled rulesets: a ruleset taken from it is the one compiling gives (the
same fields, code and decisions, byte for byte), and nothing fools it: a changed file, a
corrupt, foreign or planted entry, an unwritable folder or a file that now links outside
the ruleset each mean compiling afresh (or the error compiling gives)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.canonical import canonical_json
from engine.decide.pipeline import decide
from engine.errors import ProblemsError
from engine.ruleset import cache
from engine.ruleset.compiler import STAGE_FUNCTIONS, compile_ruleset
from engine.ruleset.loader import load_ruleset
from engine.ruleset.source import load_ruleset_source
from tests.paths import DEFAULT_RULESET, ROOT
from tests.sample_customers import strong_customer

AS_OF = dt.date(2026, 11, 30)
CHALLENGER = ROOT / "rulesets" / "challenger-example"


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    """The cache turned on, in a folder of this test's own."""
    folder = tmp_path / "cache"
    monkeypatch.delenv("CREDIT_NO_CACHE", raising=False)
    monkeypatch.setenv("CREDIT_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def ruleset(tmp_path) -> Path:
    """A copy of the shipped ruleset, free to change."""
    return Path(shutil.copytree(DEFAULT_RULESET, tmp_path / "rules"))


def entries(store: Path) -> list[Path]:
    return sorted(store.glob("*" + cache.SUFFIX))


def comparable(compiled) -> dict:
    """Every field but the functions (compared by what they decide) and the challenger."""
    return {f.name: getattr(compiled, f.name) for f in dataclasses.fields(compiled)
            if f.name not in (*STAGE_FUNCTIONS, "challenger")}


def customers() -> list[dict]:
    """Documents reaching different rules: strong, weak, on an edge, missing a field,
    non-ASCII, huge amounts, and the shipped examples."""
    docs = [strong_customer(), strong_customer(**{"financials.net_income": -4_000_000}),
            strong_customer(**{"credit_history.overdue_count_12m": 3}),
            strong_customer(**{"financials.revenue": None}),
            strong_customer(name="Ærø Støberi ÅS — 東京"),
            strong_customer(requested_amount=10**15, **{"financials.revenue": 10**17})]
    for path in sorted((ROOT / "examples" / "customers").glob("*.json")):
        docs.append(json.loads(path.read_text(encoding="utf-8")))
    return docs


def decisions(compiled) -> list[str]:
    out = []
    for doc in customers():
        try:
            out.append(canonical_json(decide(compiled, doc, AS_OF).to_dict()))
        except Exception as exc:  # the same failure either way
            out.append(f"{type(exc).__name__}: {exc}")
    return out


def test_a_second_load_comes_from_the_cache_and_equals_compiling(store, monkeypatch):
    fresh = compile_ruleset(load_ruleset_source(DEFAULT_RULESET))
    first = load_ruleset(DEFAULT_RULESET)  # compiles and stores
    assert len(entries(store)) == 1
    monkeypatch.setattr(cache, "compile_ruleset", lambda source: pytest.fail("compiled"))
    cached = load_ruleset(DEFAULT_RULESET)
    assert comparable(cached) == comparable(fresh) == comparable(first)
    assert cached.constants == fresh.constants
    assert cached.source.texts == fresh.source.texts
    assert cached.source.digests == fresh.source.digests
    assert decisions(cached) == decisions(fresh)


def test_the_command_prints_the_same_bytes_with_and_without_the_cache(store):
    def run(env: dict) -> bytes:
        return subprocess.run(
            [sys.executable, "-c", "from engine.cli.main import main; main()", "decide",
             "examples/customers/bbb-distributor.json", "--as-of", "2026-11-30", "--json",
             "--trace", "--no-audit"], cwd=ROOT, capture_output=True, check=True,
            env=env).stdout

    cached = {k: v for k, v in os.environ.items() if k != "CREDIT_NO_CACHE"}
    plain = run({**cached, "CREDIT_NO_CACHE": "1"})
    assert [run(cached), run(cached)] == [plain, plain]  # stored, then read
    assert len(entries(store)) == 1


def test_a_ruleset_from_the_cache_needs_no_yaml_library(store):
    probe = ("import sys\nfrom engine.cli.main import main\n"
             "sys.argv = ['credit', 'decide', 'examples/customers/bbb-distributor.json', "
             "'--as-of', '2026-11-30', '--no-audit']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'yaml' or "
             "m == 'engine.language.yaml_source'))\n")
    env = {k: v for k, v in os.environ.items() if k != "CREDIT_NO_CACHE"}

    def run() -> str:
        return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                              text=True, check=True, env=env).stdout.splitlines()[-1]

    assert run() != "[]"  # compiled: the files were read
    assert run() == "[]"  # from the cache


def test_the_same_files_in_two_folders_are_two_entries_each_naming_its_folder(store, tmp_path):
    for name in ("one", "two"):
        shutil.copytree(DEFAULT_RULESET, tmp_path / name)
        load_ruleset(tmp_path / name)
    assert len(entries(store)) == 2
    for name in ("one", "two"):
        cached = load_ruleset(tmp_path / name)
        assert cached.source.label == str(tmp_path / name)
        assert cached.source.manifest.file == f"{tmp_path / name}/ruleset.yaml"


def test_a_changed_stage_file_is_compiled_afresh(store, ruleset, monkeypatch):
    before = load_ruleset(ruleset)
    path = ruleset / "policy.yaml"
    text = path.read_text(encoding="utf-8")
    stat = path.stat()
    changed = text.replace("equity * 0.15", "equity * 0.16", 1)
    assert len(changed) == len(text) and changed != text
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same time
    after = load_ruleset(ruleset)
    assert after.hash != before.hash
    assert comparable(after) == comparable(compile_ruleset(load_ruleset_source(ruleset)))
    assert len(entries(store)) == 1  # the folder's older entry is gone


def test_a_changed_manifest_is_compiled_afresh(store, ruleset):
    before = load_ruleset(ruleset)
    manifest = ruleset / "ruleset.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert f'version: "{before.version}"' in text
    manifest.write_text(text.replace(f'version: "{before.version}"', 'version: "9.9.9"'),
                        encoding="utf-8")
    assert load_ruleset(ruleset).version == "9.9.9"


def test_a_change_to_the_engine_is_never_read_from_an_older_entry(store, monkeypatch):
    load_ruleset(DEFAULT_RULESET)
    monkeypatch.setattr(cache, "_engine_digest", "0" * 64)  # as if a module had changed
    compiled = []
    real = cache.compile_ruleset
    monkeypatch.setattr(cache, "compile_ruleset", lambda s: compiled.append(1) or real(s))
    load_ruleset(DEFAULT_RULESET)
    assert compiled == [1]


def test_an_upgraded_library_changes_the_engine_digest(tmp_path, monkeypatch):
    library = tmp_path / "reader_lib"
    library.mkdir()
    (library / "__init__.py").write_text("VERSION = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cache, "LIBRARIES", (*cache.LIBRARIES, "reader_lib"))
    monkeypatch.setattr(cache, "_engine_digest", None)
    before = cache.engine_digest()
    (library / "__init__.py").write_text("VERSION = 22\n")  # as an upgrade writes it
    monkeypatch.setattr(cache, "_engine_digest", None)
    assert cache.engine_digest() != before
    assert "reader_lib" not in sys.modules  # looked for, not imported


@pytest.mark.parametrize("damage", [
    lambda data: data[:-1] + bytes([data[-1] ^ 1]),  # one bit of the payload
    lambda data: data[: len(data) // 2],  # cut short
    lambda data: b"",
    lambda data: b"not a cache entry at all\n" + data,
    lambda data: data.replace(cache.FORMAT, b"credit-rules compiled ruleset 0\n"),
    lambda data: os.urandom(len(data)),
])
def test_a_corrupt_or_foreign_entry_is_ignored_and_replaced(store, damage, monkeypatch):
    fresh = load_ruleset(DEFAULT_RULESET)
    [entry] = entries(store)
    entry.write_bytes(damage(entry.read_bytes()))
    again = load_ruleset(DEFAULT_RULESET)
    assert comparable(again) == comparable(fresh)
    assert decisions(again)[:2] == decisions(fresh)[:2]
    monkeypatch.setattr(cache, "compile_ruleset", lambda source: pytest.fail("compiled"))
    assert comparable(load_ruleset(DEFAULT_RULESET)) == comparable(fresh)  # rewritten whole


def test_a_planted_entry_that_would_run_code_is_refused(store, tmp_path):
    load_ruleset(DEFAULT_RULESET)
    [entry] = entries(store)
    data = entry.read_bytes()
    body = data[len(cache.FORMAT):].partition(b"\n")[2]
    header, _, _ = body.partition(b"\n")
    marker = tmp_path / "ran"

    class Planted:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    body = header + b"\n" + pickle.dumps(Planted())
    entry.write_bytes(cache.FORMAT + cache.hashlib.sha256(body).hexdigest().encode() + b"\n"
                      + body)
    assert load_ruleset(DEFAULT_RULESET).name == "default"
    assert not marker.exists()


def test_an_entry_of_another_user_is_ignored(store, monkeypatch):
    load_ruleset(DEFAULT_RULESET)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(entries(store)[0]).st_uid + 1)
    compiled = []
    real = cache.compile_ruleset
    monkeypatch.setattr(cache, "compile_ruleset", lambda s: compiled.append(1) or real(s))
    load_ruleset(DEFAULT_RULESET)
    assert compiled == [1]


def test_an_unwritable_cache_folder_still_loads(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.delenv("CREDIT_NO_CACHE", raising=False)
    monkeypatch.setenv("CREDIT_CACHE_DIR", str(blocker / "cache"))  # cannot be made
    for _ in range(2):
        assert load_ruleset(DEFAULT_RULESET).name == "default"
    assert blocker.read_text() == ""


def test_a_ruleset_that_cannot_be_stored_still_loads(store, monkeypatch):
    def refuse(*args, **kwargs):
        raise pickle.PicklingError("a value of a kind no entry can hold")
    monkeypatch.setattr(cache.pickle, "dumps", refuse)
    assert load_ruleset(DEFAULT_RULESET).name == "default"
    assert entries(store) == [] and not list(store.glob(".tmp-*"))


def test_the_cache_can_be_turned_off(store, monkeypatch):
    monkeypatch.setenv("CREDIT_NO_CACHE", "1")
    load_ruleset(DEFAULT_RULESET)
    assert not store.exists()


def test_the_cache_folder_defaults_to_the_xdg_one(monkeypatch, tmp_path):
    monkeypatch.delenv("CREDIT_NO_CACHE", raising=False)
    monkeypatch.delenv("CREDIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_folder() == tmp_path / "credit-rules"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_folder() == tmp_path / "home" / ".cache" / "credit-rules"


def test_a_ruleset_with_problems_is_not_stored(store, ruleset):
    (ruleset / "policy.yaml").write_text("tables: [\n", encoding="utf-8")
    with pytest.raises(ProblemsError):
        load_ruleset(ruleset)
    assert entries(store) == []


def test_a_stage_file_now_linking_outside_gives_the_error_compiling_gives(store, ruleset,
                                                                         tmp_path):
    load_ruleset(ruleset)
    outside = tmp_path / "outside.yaml"
    shutil.move(ruleset / "policy.yaml", outside)
    (ruleset / "policy.yaml").symlink_to(outside)  # the very same bytes
    with pytest.raises(ProblemsError) as cached:
        load_ruleset(ruleset)
    with pytest.raises(ProblemsError) as compiled:
        compile_ruleset(load_ruleset_source(ruleset))
    assert [str(p) for p in cached.value.problems] == [str(p) for p in compiled.value.problems]
    assert "links outside the ruleset folder" in str(cached.value.problems[0])


def test_a_challenger_is_cached_and_checked_as_compiled(store, tmp_path, monkeypatch):
    champion = Path(shutil.copytree(DEFAULT_RULESET, tmp_path / "champion"))
    shutil.copytree(CHALLENGER, tmp_path / "challenger")
    with (champion / "ruleset.yaml").open("a", encoding="utf-8") as handle:
        handle.write("challenger: {ruleset: ../challenger, share: 0.1}\n")
    first = load_ruleset(champion)
    assert len(entries(store)) == 2
    monkeypatch.setattr(cache, "compile_ruleset", lambda source: pytest.fail("compiled"))
    cached = load_ruleset(champion)
    assert comparable(cached.challenger.ruleset) == comparable(first.challenger.ruleset)
    assert cached.challenger.share == 0.1
    assert decisions(cached.challenger.ruleset) == decisions(first.challenger.ruleset)
