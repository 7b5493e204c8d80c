"""Finding plugins installed as distributions: the quick look at entry_points.txt files
gives exactly what importlib.metadata gives, never misses a distribution it would find,
and spares a command importlib.metadata when nothing declares the group."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from engine.enrich import plugin_discovery
from engine.enrich.plugin_discovery import entry_points, may_declare
from tests.paths import ROOT

GROUP = "credit_rules"


def install(site: Path, folder: str, entry_points_txt: str | None) -> Path:
    """A distribution's metadata folder (dist-info or egg-info) in ``site``."""
    info = site / folder
    info.mkdir(parents=True)
    name, _, version = folder.rpartition(".")[0].partition("-")
    (info / ("PKG-INFO" if folder.lower().endswith(".egg-info") else "METADATA")).write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version or '1.0'}\n")
    if entry_points_txt is not None:
        (info / "entry_points.txt").write_text(entry_points_txt)
    return info


def as_metadata_gives() -> list[tuple]:
    return [(p.name, p.value, p.group, p.dist.name, p.dist.version)
            for p in importlib.metadata.entry_points(group=GROUP)]


def as_we_give() -> list[tuple]:
    return [(p.name, p.value, p.group, p.dist.name, p.dist.version)
            for p in entry_points(GROUP)]


@pytest.mark.parametrize("text", [
    "[credit_rules]\nrating = rating_plugin\n",
    "[console_scripts]\nx = y:z\n\n  [credit_rules]  \nrating = rating_plugin\n",
    "[[credit_rules]]\nrating = rating_plugin\n",
    "[credit_rules]\r\nrating = rating_plugin:Plugin\r\n",
])
def test_a_declaring_distribution_gives_what_importlib_metadata_gives(tmp_path, monkeypatch,
                                                                       text):
    install(tmp_path, "rating_desk-2.1.0.dist-info", text)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert may_declare(GROUP)
    assert as_we_give() == as_metadata_gives()
    assert [p[0] for p in as_we_give()] == ["rating"]


@pytest.mark.parametrize("text", [
    None, "", "[console_scripts]\ncredit_rules = credit_rules.cli:main\n",
    "[credit_rules_extra]\nrating = rating_plugin\n", "# [credit_rules]\n",
    "[credit_rules\nrating = rating_plugin\n",
])
def test_a_distribution_not_declaring_the_group_is_not_looked_up(tmp_path, monkeypatch,
                                                                  text):
    install(tmp_path, "other-1.0.dist-info", text)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert as_metadata_gives() == []
    assert not plugin_discovery._folder_may_declare(str(tmp_path), GROUP)


def test_an_egg_info_folder_in_any_case_is_looked_at(tmp_path, monkeypatch):
    install(tmp_path, "Rating_Desk-2.1.0.EGG-INFO", "[credit_rules]\nrating = m\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert may_declare(GROUP)
    assert as_we_give() == as_metadata_gives() != []


def test_the_first_of_two_copies_on_the_path_wins_as_in_importlib_metadata(tmp_path,
                                                                           monkeypatch):
    install(tmp_path / "new", "rating_desk-3.0.dist-info", "[credit_rules]\nrating = new\n")
    install(tmp_path / "old", "rating_desk-2.0.dist-info", "[credit_rules]\nrating = old\n")
    monkeypatch.syspath_prepend(str(tmp_path / "old"))
    monkeypatch.syspath_prepend(str(tmp_path / "new"))
    assert as_we_give() == as_metadata_gives()
    assert [(p[1], p[4]) for p in as_we_give()] == [("new", "3.0")]


def test_a_zip_on_the_path_is_left_to_importlib_metadata(tmp_path, monkeypatch):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("rating_desk-1.0.dist-info/METADATA",
                        "Metadata-Version: 2.1\nName: rating_desk\nVersion: 1.0\n")
        zipped.writestr("rating_desk-1.0.dist-info/entry_points.txt",
                        "[credit_rules]\nrating = m\n")
    monkeypatch.syspath_prepend(str(archive))
    assert may_declare(GROUP)
    assert as_we_give() == as_metadata_gives() != []


def test_an_egg_on_the_path_is_left_to_importlib_metadata(tmp_path, monkeypatch):
    egg = tmp_path / "rating_desk-1.0-py3.11.egg"
    install(egg, "EGG-INFO", "[credit_rules]\nrating = m\n")
    monkeypatch.syspath_prepend(str(egg))
    assert plugin_discovery._folder_may_declare(str(egg), GROUP)
    assert as_we_give() == as_metadata_gives()


def test_another_finder_of_distributions_is_left_to_importlib_metadata(monkeypatch):
    class Finder:
        @staticmethod
        def find_distributions(context=None):
            return iter(())

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert may_declare(GROUP)


def test_missing_unlistable_and_odd_path_entries_hold_nothing(tmp_path):
    assert not plugin_discovery._folder_may_declare(str(tmp_path / "missing"), GROUP)
    assert plugin_discovery._folder_may_declare(None, GROUP)  # not ours to judge


def test_this_environment_gives_what_importlib_metadata_gives():
    assert as_we_give() == as_metadata_gives()


def test_a_decision_does_not_import_importlib_metadata():
    probe = ("import sys\nfrom engine.cli.main import main\n"
             "sys.argv = ['credit', 'decide', 'examples/customers/bbb-distributor.json', "
             "'--as-of', '2026-11-30', '--no-audit']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print('importlib.metadata' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, check=True, env={"PATH": "/usr/bin:/bin",
                                                      "PYTHONPATH": str(ROOT)})
    assert done.stdout.splitlines()[-1] == "False"
