"""``credit dmn export``: a stage's decision tables written as a DMN file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..language.yaml_source import load_yaml_file
from .dmn_writer import dmn_text
from .from_stage import stage_tables


@dataclass(frozen=True)
class Exported:
    text: str  # the DMN XML
    decisions: tuple[tuple[str, str], ...]  # (decision name, hit policy)
    formulas: tuple[str, ...]  # derived facts left out: formulas, not tables


def export_stage(path: str | Path, display: str | None = None) -> Exported:
    """The DMN document for the tables of the stage file at ``path``. Raises
    ProblemsError, located in the YAML, for a cell DMN cannot hold as the importer reads
    it, or when the file has no table."""
    doc = load_yaml_file(path, display)
    found = stage_tables(doc)
    return Exported(dmn_text(found.tables, Path(path).stem),
                    tuple((t.decision_name or "", t.hit_policy) for t in found.tables),
                    tuple(found.formulas))
