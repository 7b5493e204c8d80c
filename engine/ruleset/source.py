"""Reading a ruleset folder: the manifest, its stage files, JSON Schema checks, and the
ruleset's content hash. Compiling it is ``compiler.py``'s job (beside this module)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..canonical import sha256_hex
from ..errors import Location, Problem, ProblemsError
from ..language.codegen import SpecProblem
from ..language.located import LocatedDocument
from ..language.schema_check import schema_problems

MANIFEST = "ruleset.yaml"
# Manifest keys that configure how the ruleset is run, not what it decides: left out of the
# content (so of the hash, the decision ids and the stored copy). A challenger is recorded
# in each decision that ran it instead (see ``engine.ruleset.challenger``).
RUN_KEYS = frozenset({"challenger"})
STAGES = ("facts", "enrichment", "derived", "admission", "grading", "policy", "approval",
          "authority", "escalation", "monitoring", "exposure", "order_check")
STAGE_SCHEMAS = {stage: f"{stage}.schema.json" for stage in STAGES}
DEFAULT_GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")


@dataclass(frozen=True)
class RulesetSource:
    """A ruleset as read: the manifest and each stage's document, before compiling."""

    label: str
    manifest: LocatedDocument
    stages: dict[str, LocatedDocument]
    files: dict[str, str]  # stage -> file name relative to the ruleset folder
    texts: dict[str, list[str]] = field(default_factory=dict, compare=False)
    # SHA-256 of each file's bytes as read, by path relative to the folder (the manifest
    # too); empty for a ruleset rebuilt from stored content. The compiled-ruleset cache's
    # key: what was compiled is exactly these bytes.
    digests: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def content(self) -> dict[str, object]:
        """Every file's parsed content by relative file name: what the hash covers and what
        the audit stores. Run settings (``RUN_KEYS``: the challenger) are not content."""
        manifest = self.manifest.data
        if RUN_KEYS & manifest.keys():
            manifest = {k: v for k, v in manifest.items() if k not in RUN_KEYS}
        content = {MANIFEST: manifest}
        for stage, doc in self.stages.items():
            content[self.files[stage]] = doc.data
        return content

    @property
    def hash(self) -> str:
        return sha256_hex(self.content)

    def problem(self, stage: str | None, spec_problem: SpecProblem) -> Problem:
        """A located Problem for something found while compiling ``stage`` (None: the
        manifest). An expression's offset is added to the column where the text starts."""
        doc = self.manifest if stage is None else self.stages[stage]
        locate = doc.locate_key if spec_problem.at_key else doc.locate
        location = locate(spec_problem.path)
        if spec_problem.offset and location.line > 0:
            lines = self.texts.get(doc.file)
            column = location.column
            if lines and location.line <= len(lines):
                line = lines[location.line - 1]
                if column - 1 < len(line) and line[column - 1] in "\"'":
                    column += 1  # the text starts after the opening quote
            location = Location(location.file, location.line, column + spec_problem.offset)
        return Problem(location, spec_problem.message)


def check_folder(folder: str | Path) -> tuple[Path, str]:
    """The folder and how messages name it, when it holds a ruleset; else ProblemsError,
    the same one line for every command that is given a ruleset folder."""
    root = Path(folder)
    label = str(folder).rstrip("/") or "."
    if not root.is_dir():
        raise ProblemsError([Problem(Location(label), "not a ruleset folder (no such "
                                     "directory)" if not root.exists() else "not a directory")])
    if not (root / MANIFEST).is_file():
        raise ProblemsError([Problem(Location(label), f"not a ruleset folder (no {MANIFEST} "
                                                      "in it)")])
    return root, label


def load_ruleset_source(folder: str | Path) -> RulesetSource:
    """Read and schema-check a ruleset folder. Raises ProblemsError listing every problem
    of every file (YAML syntax and schema violations)."""
    root, label = check_folder(folder)
    manifest_path = root / MANIFEST
    if not _inside(root, manifest_path):
        raise ProblemsError([Problem(Location(f"{label}/{MANIFEST}"),
                                     "links outside the ruleset folder")])
    texts: dict[str, list[str]] = {}
    digests: dict[str, str] = {}
    manifest = _load(manifest_path, f"{label}/{MANIFEST}", texts, digests, MANIFEST)

    def open_stage(stage: str, relative: str, used: dict[str, str]) -> LocatedDocument:
        where = manifest.locate(("stages", stage))
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts:
            raise ProblemsError([Problem(where, f"{stage}: the file must be inside the "
                                                "ruleset folder")])
        if str(pure) in used.values() or str(pure) == MANIFEST:
            raise ProblemsError([Problem(where, f"{stage}: {relative} is already used by "
                                                "another stage")])
        if not (root / pure).is_file():
            raise ProblemsError([Problem(where, f"{stage}: no file {relative} in the "
                                                "ruleset folder")])
        if not _inside(root, root / pure):
            raise ProblemsError([Problem(where, f"{stage}: {relative} links outside the "
                                                "ruleset folder; the file must be inside it")])
        return _load(root / pure, f"{label}/{pure}", texts, digests, str(pure))

    return _assemble(label, manifest, open_stage, texts, digests)


def _inside(root: Path, path: Path) -> bool:
    """Whether ``path``, with every link followed, is inside ``root`` (itself resolved, so
    a ruleset folder reached through a link is fine)."""
    return path.resolve().is_relative_to(root.resolve())


def _assemble(label: str, manifest: LocatedDocument, open_stage, texts: dict,
              digests: dict | None = None) -> RulesetSource:
    """Check the manifest, open and check each stage file it names (``open_stage(stage,
    relative path, files so far)``), collecting every problem before raising."""
    problems = schema_problems(manifest, "ruleset.schema.json")
    if problems:
        raise ProblemsError(problems)
    stages: dict[str, LocatedDocument] = {}
    files: dict[str, str] = {}
    for stage in STAGES:
        relative = manifest.data["stages"].get(stage)
        if relative is None:
            continue
        try:
            doc = open_stage(stage, relative, files)
        except ProblemsError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(schema_problems(doc, STAGE_SCHEMAS[stage]))
        stages[stage] = doc
        files[stage] = str(PurePosixPath(relative))
    if problems:
        raise ProblemsError(problems)
    return RulesetSource(label, manifest, stages, files, texts, digests or {})


def _load(path: Path, display: str, texts: dict[str, list[str]], digests: dict[str, str],
          relative: str) -> LocatedDocument:
    """Parse one file of the folder, read once: its lines go to ``texts`` (they refine
    columns), the SHA-256 of its bytes to ``digests``."""
    # The YAML reader is imported where a ruleset is read: one taken from the cache of
    # compiled rulesets needs no YAML library.
    from ..language.yaml_source import load_yaml_bytes, read_yaml_bytes

    raw = read_yaml_bytes(path, display)
    doc = load_yaml_bytes(raw, display)  # raises for bytes that are not UTF-8 text
    digests[relative] = hashlib.sha256(raw).hexdigest()
    # the lines as a text file reads them: universal newlines, a BOM kept
    texts[display] = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if doc.data is None:
        raise ProblemsError([Problem(Location(display), "the file is empty")])
    if not isinstance(doc.data, dict):
        raise ProblemsError([Problem(doc.locate(()), "the file must hold a mapping "
                                                     "(key: value lines) at its top")])
    return doc


def source_from_content(content: Mapping[str, object], label: str) -> RulesetSource:
    """Rebuild a ruleset from stored content (as ``RulesetSource.content`` gives it), for
    replaying a decision on the exact rules it was made with."""
    from ..language.yaml_source import load_yaml_text

    def document(name: str) -> LocatedDocument:
        if name not in content:
            raise ProblemsError([Problem(Location(f"{label}/{name}"),
                                         "missing from the stored ruleset")])
        return load_yaml_text(json.dumps(content[name], indent=1), f"{label}/{name}")

    def open_stage(stage: str, relative: str, used: dict[str, str]) -> LocatedDocument:
        return document(str(PurePosixPath(relative)))

    return _assemble(label, document(MANIFEST), open_stage, {})
