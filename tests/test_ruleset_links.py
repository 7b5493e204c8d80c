"""A stage file or folder that links outside the ruleset folder is refused, as a '../'
path is; links that stay inside, or a link to the whole folder, are fine."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.credit_cli import invoke_credit
from tests.paths import DEFAULT_RULESET


def validate(folder: Path):
    """``credit validate FOLDER``."""
    return invoke_credit("validate", folder)


def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "ruleset"
    shutil.copytree(DEFAULT_RULESET, folder)
    return folder


def test_a_stage_file_linking_outside_is_refused(tmp_path):
    folder = copy(tmp_path)
    (folder / "policy.yaml").rename(tmp_path / "elsewhere.yaml")
    (folder / "policy.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    result = validate(folder)
    assert result.exit_code == 1
    assert result.stderr == (f"{folder}/ruleset.yaml:19:11: policy: policy.yaml links "
                             "outside the ruleset folder; the file must be inside it\n")


def test_a_folder_linking_outside_is_refused(tmp_path):
    folder = copy(tmp_path)
    (tmp_path / "shared").mkdir()
    (folder / "grading.yaml").rename(tmp_path / "shared" / "grading.yaml")
    (folder / "shared").symlink_to(tmp_path / "shared", target_is_directory=True)
    manifest = folder / "ruleset.yaml"
    manifest.write_text(manifest.read_text().replace("grading: grading.yaml",
                                                     "grading: shared/grading.yaml"))
    result = validate(folder)
    assert result.exit_code == 1
    assert "grading: shared/grading.yaml links outside the ruleset folder" in result.stderr


def test_a_manifest_linking_outside_is_refused(tmp_path):
    folder = copy(tmp_path)
    (folder / "ruleset.yaml").rename(tmp_path / "manifest.yaml")
    (folder / "ruleset.yaml").symlink_to(tmp_path / "manifest.yaml")
    result = validate(folder)
    assert result.exit_code == 1
    assert result.stderr == f"{folder}/ruleset.yaml: links outside the ruleset folder\n"


def test_links_that_stay_inside_and_a_linked_ruleset_folder_are_fine(tmp_path):
    folder = copy(tmp_path)
    (folder / "parts").mkdir()
    (folder / "policy.yaml").rename(folder / "parts" / "policy.yaml")
    (folder / "policy.yaml").symlink_to(folder / "parts" / "policy.yaml")
    assert validate(folder).exit_code == 0
    link = tmp_path / "current"
    link.symlink_to(folder, target_is_directory=True)
    assert validate(link).exit_code == 0
