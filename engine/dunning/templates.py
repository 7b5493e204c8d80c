"""The templates dunning letters and account statements are written from: Jinja2 files in
the ruleset's ``letters/`` folder, one per document and language
(``letters/LANGUAGE/NAME.html.j2``, NAME a step of the escalation ladder or ``statement``),
which analysts edit as they edit the rules.

Templates are user input, so they run in Jinja2's immutable sandbox: they read the values
they are given and call the filters below, and nothing reaches Python's internals (an
attribute starting with ``_``, a method that changes a value) or a file outside the
``letters/`` folder. A template whose name ends in ``.html.j2`` (or ``.htm.j2``,
``.xml.j2``) is autoescaped: a customer's name cannot write markup into a letter. A value a
template names that it was not given is an error, never an empty string. Every error is one
line naming the template's file and line.

A language without a template for a document falls back to its primary language
(``zh-CN`` to ``zh``), then to English; the writer notes the fallback. Rendering is pure:
the same template and values give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import traceback
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import jinja2
import jinja2.meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import CreditRulesError, Location, Problem

FOLDER = "letters"
FALLBACK_LANGUAGE = "en"
EXTENSIONS = (".html.j2", ".htm.j2", ".xml.j2", ".txt.j2")
ESCAPED = ("html.j2", "htm.j2", "xml.j2")
CENT = Decimal("0.01")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


class LetterTemplateError(CreditRulesError):
    """A letter template that cannot be read or rendered, located at its file and line."""


@dataclass(frozen=True)
class Chosen:
    """The template a document is written from: its name under ``letters/``, the language
    it is in, and the note of a fallback (None when the asked language had one)."""

    name: str
    language: str
    fallback: str | None = None

    @property
    def suffix(self) -> str:
        """The extension of the file it writes (``.html`` for ``x.html.j2``)."""
        return "." + self.name.rsplit("/", 1)[-1].split(".")[-2]


def money(value: object) -> str:
    """An amount with thousands separators and two decimals, rounded half up as the
    engine rounds money (1,234.50; 0.125 -> 0.13)."""
    return f"{Decimal(str(value)).quantize(CENT, ROUND_HALF_UP):,.2f}"


def percent(value: object) -> str:
    """A rate as a percentage with up to two decimals, rounded half up (0.1015 -> 10.15%,
    0.10125 -> 10.13%)."""
    exact = (Decimal(str(value)) * 100).quantize(CENT, ROUND_HALF_UP)
    text = f"{exact:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def long_date(value: dt.date | str, language: str = FALLBACK_LANGUAGE) -> str:
    """A date written out: 30 November 2026 in English, 2026年11月30日 in Chinese, the ISO
    form in any other language."""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    primary = language.split("-")[0]
    if primary == "en":
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    if primary == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.isoformat()


class _InsideLoader(jinja2.FileSystemLoader):
    """A file loader that refuses a template whose file, links followed, is outside the
    folder (Jinja2 already refuses ``..`` in a name)."""

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        root = Path(self.searchpath[0]).resolve()
        if not Path(filename).resolve().is_relative_to(root):
            raise jinja2.TemplateNotFound(f"{template} (links outside the {FOLDER} folder)")
        return source, filename, uptodate


class LetterTemplates:
    """The letter templates of one ruleset folder (``label``: how messages name it)."""

    def __init__(self, ruleset_folder: str | Path, label: str | None = None):
        self.root = Path(ruleset_folder) / FOLDER
        self.label = f"{str(label or ruleset_folder).rstrip('/')}/{FOLDER}"
        if not self.root.is_dir():
            raise LetterTemplateError(f"{self.label}: no letter templates (a folder "
                                      f"{FOLDER}/ with {FALLBACK_LANGUAGE}/NAME.html.j2 "
                                      "in the ruleset)")
        self.env = ImmutableSandboxedEnvironment(
            loader=_InsideLoader(str(self.root)),
            autoescape=jinja2.select_autoescape(enabled_extensions=ESCAPED,
                                                default_for_string=False, default=False),
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
            keep_trailing_newline=True, auto_reload=False)
        self.env.filters.update(money=money, percent=percent, long_date=long_date)

    def choose(self, document: str, language: str) -> Chosen | None:
        """The template for ``document`` in ``language``, or in the fallback languages
        (with a note); None when not even English has one."""
        asked = language or FALLBACK_LANGUAGE
        candidates = [asked]
        if "-" in asked:
            candidates.append(asked.split("-")[0])
        if FALLBACK_LANGUAGE not in candidates:
            candidates.append(FALLBACK_LANGUAGE)
        for candidate in candidates:
            for extension in EXTENSIONS:
                name = f"{candidate}/{document}{extension}"
                if (self.root / name).is_file():
                    note = None if candidate == asked else (
                        f"no {asked} template for {document}: written in {candidate}")
                    return Chosen(name, candidate, note)
        return None

    def render(self, chosen: Chosen, values: dict) -> bytes:
        """The document's bytes (UTF-8), or LetterTemplateError located at the line."""
        try:
            template = self.env.get_template(chosen.name)
            text = template.render(values)
        except jinja2.TemplateSyntaxError as exc:
            raise LetterTemplateError(
                f"{self._where(exc.filename, chosen.name)}:{exc.lineno}: {exc.message}"
            ) from None
        except Exception as exc:  # a template is user input: whatever it does, one line
            raise LetterTemplateError(f"{self._located(exc, chosen.name)}: "
                                      f"{_message(exc)}") from None
        return text.encode("utf-8")

    def digests(self, chosen: Chosen) -> dict[str, str]:
        """The SHA-256 of the template and of every template it extends or includes by
        name, by name under ``letters/``: what an auditor needs to tie a letter to the
        templates it was written from."""
        found: dict[str, str] = {}
        waiting = [chosen.name]
        while waiting:
            name = waiting.pop()
            if name in found:
                continue
            try:
                source = self.env.loader.get_source(self.env, name)[0]
                parsed = self.env.parse(source)
            except jinja2.TemplateSyntaxError as exc:
                raise LetterTemplateError(
                    f"{self._where(exc.filename, name)}:{exc.lineno}: {exc.message}") from None
            except jinja2.TemplateNotFound as exc:
                raise LetterTemplateError(f"{self.label}/{chosen.name}: {_message(exc)}"
                                          ) from None
            found[name] = hashlib.sha256(source.encode("utf-8")).hexdigest()
            waiting.extend(ref for ref in jinja2.meta.find_referenced_templates(parsed)
                           if ref is not None)
        return dict(sorted(found.items()))

    def _where(self, filename: str | None, name: str) -> str:
        """How a message names a template file: under the ruleset folder's label."""
        if filename:
            path = Path(filename).resolve()
            if path.is_relative_to(self.root.resolve()):
                return f"{self.label}/{path.relative_to(self.root.resolve()).as_posix()}"
        return f"{self.label}/{name}"

    def _located(self, exc: BaseException, name: str) -> str:
        """FILE:LINE of the template line that raised (Jinja2 puts the template's lines in
        the traceback); the template alone when none is found."""
        root = str(self.root.resolve())
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename and str(Path(frame.filename).resolve()).startswith(root):
                return f"{self._where(frame.filename, name)}:{frame.lineno}"
        return self._where(None, name)


def template_problems(ruleset_folder: str | Path, label: str | None = None) -> list[Problem]:
    """A syntax error in any template of the ruleset's ``letters/`` folder, located at its
    line (column 1: Jinja2 gives none), and a template linking outside the folder (which
    the letters refuse); no problem when the ruleset has no such folder."""
    root = Path(ruleset_folder) / FOLDER
    if not root.is_dir():
        return []
    templates = LetterTemplates(ruleset_folder, label)
    problems = []
    inside = root.resolve()
    for path in sorted(p for p in root.rglob("*.j2") if p.is_file()):
        name = path.relative_to(root).as_posix()
        if not path.resolve().is_relative_to(inside):  # as the renderer refuses it
            problems.append(Problem(Location(f"{templates.label}/{name}"),
                                    f"links outside the {FOLDER} folder: letters refuse it"))
            continue
        try:
            templates.env.parse(path.read_text(encoding="utf-8"), name, str(path))
        except jinja2.TemplateSyntaxError as exc:
            problems.append(Problem(Location(f"{templates.label}/{name}", exc.lineno or 0, 1),
                                    exc.message or "syntax error"))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(Location(f"{templates.label}/{name}"), str(exc)))
    return problems


def _message(exc: BaseException) -> str:
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"no template {exc.name} in the {FOLDER} folder"
    if isinstance(exc, jinja2.TemplateError):
        return exc.message or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"
