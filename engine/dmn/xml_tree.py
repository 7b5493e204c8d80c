"""Reading XML safely into elements that know their line and column.

The stdlib's expat parser is used directly: it reports where each element starts, and it
is told to refuse any document type declaration before reading it, so no entity is ever
declared, expanded or fetched (no external entities, no "billion laughs"). DMN files never
need a DTD.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from ..errors import Location, Problem, ProblemsError

MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 200


@dataclass
class Element:
    """One element: its namespace and local name, attributes (by local name when they
    have no namespace), the text directly inside it, its children and where it starts."""

    namespace: str
    tag: str
    attributes: dict[str, str]
    location: Location
    children: list[Element] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def all(self, tag: str) -> list[Element]:
        """The children with local name ``tag`` in this element's namespace."""
        return [c for c in self.children if c.tag == tag and c.namespace == self.namespace]

    def first(self, tag: str) -> Element | None:
        found = self.all(tag)
        return found[0] if found else None

    def child_text(self, tag: str) -> str | None:
        """The text of the ``<text>`` inside the child ``tag`` (None: no such child)."""
        child = self.first(tag)
        if child is None:
            return None
        text = child.first("text")
        return "" if text is None else text.text


class _Refused(Exception):
    def __init__(self, message: str, location: Location | None = None):
        super().__init__(message)
        self.message = message
        self.location = location


def _where(data: bytes, marker: bytes, name: str) -> Location | None:
    """Where ``marker`` first starts in ``data`` (expat reports a declaration's end)."""
    at = data.find(marker)
    if at < 0:
        return None
    return Location(name, data.count(b"\n", 0, at) + 1, at - data.rfind(b"\n", 0, at))


def read_xml(path: str | Path, display: str | None = None) -> Element:
    """The root element of the XML file at ``path``; ProblemsError (one located line) for
    a file that cannot be read, is not well-formed, or declares a DTD or entities."""
    name = display if display is not None else str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ProblemsError([Problem(Location(name), "file not found")]) from None
    except IsADirectoryError:
        raise ProblemsError([Problem(Location(name), "is a directory, not a file")]) from None
    except OSError as err:
        raise ProblemsError([Problem(Location(name), f"cannot read file: "
                                                     f"{err.strerror or err}")]) from None
    if len(data) > MAX_BYTES:
        raise ProblemsError([Problem(Location(name), f"the file is larger than "
                                                     f"{MAX_BYTES // 1024 // 1024} MB")])
    if not data.strip():
        raise ProblemsError([Problem(Location(name), "the file is empty")])
    return parse_xml(data, name)


def parse_xml(data: bytes, name: str) -> Element:
    """The root element of the XML document ``data`` (see ``read_xml``)."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Element] = []
    roots: list[Element] = []

    def here() -> Location:
        return Location(name, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    def refuse_doctype(*_args) -> None:
        raise _Refused("a DTD (<!DOCTYPE ...>) is not allowed in a DMN file",
                       _where(data, b"<!DOCTYPE", name))

    def refuse_entity(*_args) -> None:
        raise _Refused("entity declarations are not allowed in a DMN file")

    def start(tag: str, attributes: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            raise _Refused(f"elements are nested more than {MAX_DEPTH} deep")
        namespace, _, local = tag.rpartition(" ")
        element = Element(namespace, local, attributes, here())
        if stack:
            stack[-1].children.append(element)
        else:
            roots.append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def characters(text: str) -> None:
        if stack:
            stack[-1].text_parts.append(text)

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_entity
    parser.UnparsedEntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = lambda *_args: refuse_entity()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except _Refused as refused:
        raise ProblemsError([Problem(refused.location or here(), refused.message)]) from None
    except expat.ExpatError as err:
        where = Location(name, err.lineno, err.offset + 1)
        raise ProblemsError([Problem(where, "not well-formed XML: "
                                            + expat.ErrorString(err.code))]) from None
    return roots[0]
