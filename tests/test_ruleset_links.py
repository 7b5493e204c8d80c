"""A stage file or folder that links outside the ruleset folder is refused, as a '../'
path is; links that stay inside, or a link to the whole folder, are fine."""

from __future__ import annotations

from pathlib import Path

from tests.audit_helpers import copy_ruleset
from tests.credit_cli import invoke_credit


def validate(folder: Path):
    """``credit validate FOLDER``."""
    return invoke_credit("validate", folder)


def moved_behind_link(folder: Path, name: str, elsewhere: Path) -> None:
    """Move ``folder/name`` to ``elsewhere`` and leave a symbolic link to it in its place."""
    (folder / name).rename(elsewhere)
    (folder / name).symlink_to(elsewhere)


def test_a_stage_file_linking_outside_is_refused(tmp_path):
    folder = copy_ruleset(tmp_path)
    moved_behind_link(folder, "policy.yaml", tmp_path / "elsewhere.yaml")
    result = validate(folder)
    assert result.exit_code == 1
    assert result.stderr == (f"{folder}/ruleset.yaml:19:11: policy: policy.yaml links "
                             "outside the ruleset folder; the file must be inside it\n")


def test_a_folder_linking_outside_is_refused(tmp_path):
    folder = copy_ruleset(tmp_path)
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
    folder = copy_ruleset(tmp_path)
    moved_behind_link(folder, "ruleset.yaml", tmp_path / "manifest.yaml")
    result = validate(folder)
    assert result.exit_code == 1
    assert result.stderr == f"{folder}/ruleset.yaml: links outside the ruleset folder\n"


def test_links_that_stay_inside_and_a_linked_ruleset_folder_are_fine(tmp_path):
    folder = copy_ruleset(tmp_path)
    (folder / "parts").mkdir()
    moved_behind_link(folder, "policy.yaml", folder / "parts" / "policy.yaml")
    assert validate(folder).exit_code == 0
    link = tmp_path / "current"
    link.symlink_to(folder, target_is_directory=True)
    assert validate(link).exit_code == 0
