"""Load YAML safely and remember where every value came from.

Only a small, safe subset of YAML is accepted: one document of mappings, lists and scalars,
resolved like the YAML 1.2 core schema (so ``NO``, ``yes`` and ``off`` stay text and dates stay
text). Anchors, aliases, merge keys and custom tags are rejected. Every failure is raised as a
:class:`~engine.errors.ProblemsError` whose problems point at the offending line and column.
"""

from __future__ import annotations

import math
import os
import re
from decimal import Decimal
from typing import ClassVar

import yaml
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent, StreamEndEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.errors import Location, Problem, ProblemsError
from engine.language.located import LocatedDocument, Position

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 100

_YAML_TAG = "tag:yaml.org,2002:"
STR_TAG = _YAML_TAG + "str"
NULL_TAG = _YAML_TAG + "null"
BOOL_TAG = _YAML_TAG + "bool"
INT_TAG = _YAML_TAG + "int"
FLOAT_TAG = _YAML_TAG + "float"
SEQ_TAG = _YAML_TAG + "seq"
MAP_TAG = _YAML_TAG + "map"

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_NULL_RE = re.compile(r"(?:null|Null|NULL|~|)\Z")
_BOOL_RE = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_INT_RE = re.compile(r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_FLOAT_RE = re.compile(
    r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_NON_FINITE_RE = re.compile(r"[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)\Z")


class _Fatal(Exception):
    """A problem that stops composing the document (aliases, nesting, several documents)."""

    def __init__(self, mark: yaml.Mark, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


class _CoreResolver(yaml.resolver.BaseResolver):
    """Plain scalars resolved by the YAML 1.2 core schema (not PyYAML's YAML 1.1 one)."""

    yaml_implicit_resolvers: ClassVar[dict] = {}


class _Composing:
    """Composes nodes only, refusing anchors, aliases, deep nesting and a second document.
    Mixed into a loader over the Python parser (``_Loader``) or libyaml's
    (``_FastLoader``)."""

    def compose_node(self, parent: Node | None, index: object) -> Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent) or event.anchor is not None:
            raise _Fatal(event.start_mark, "anchors and aliases are not supported")
        nested = isinstance(event, (SequenceStartEvent, MappingStartEvent))
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Fatal(
                    event.start_mark, f"nesting deeper than {MAX_DEPTH} levels is not allowed"
                )
        try:
            return super().compose_node(parent, index)
        finally:
            if nested:
                self._depth -= 1

    def compose_single(self) -> Node | None:
        """The one document of the stream (None if empty); a second document is an error."""
        self.get_event()  # StreamStartEvent
        node = None
        if not self.check_event(StreamEndEvent):
            node = self.compose_document()
        if not self.check_event(StreamEndEvent):
            raise _Fatal(
                self.peek_event().start_mark,
                "only one YAML document per file is allowed; a second one starts here",
            )
        return node


class _Loader(_Composing, _CoreResolver, yaml.SafeLoader):
    """The Python parser: the one whose messages a user sees when a file has a problem."""

    def __init__(self, text: str):
        yaml.SafeLoader.__init__(self, text)
        self._depth = 0


try:  # libyaml's parser, when PyYAML was built with it
    from yaml.cyaml import CParser as _FAST
except ImportError:  # pragma: no cover - then every file is read by the Python parser
    _FAST = None


if _FAST is not None:
    class _FastLoader(_Composing, _FAST, yaml.composer.Composer,
                      yaml.constructor.SafeConstructor, _CoreResolver, yaml.resolver.Resolver):
        """libyaml's scanner and parser under the same composing rules: several times faster
        for a file that has no problem (a file that has one is read again by ``_Loader``,
        so every message is the Python parser's)."""

        def __init__(self, text: str):
            _FAST.__init__(self, text)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._depth = 0


for _tag, _regexp in (
    (NULL_TAG, _NULL_RE),
    (BOOL_TAG, _BOOL_RE),
    (INT_TAG, _INT_RE),
    (FLOAT_TAG, _FLOAT_RE),
):
    _CoreResolver.add_implicit_resolver(_tag, _regexp, None)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML_TAG) :] if tag.startswith(_YAML_TAG) else tag


class _Builder:
    """Turns a node tree into plain Python values, collecting problems as it goes."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def loc(self, node: Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def problem(self, node: Node, message: str) -> None:
        self.problems.append(Problem(self.loc(node), message))

    def unsupported(self, node: Node) -> None:
        self.problem(
            node,
            f"unsupported tag {_short_tag(node.tag)}: only text, numbers, true/false, null, "
            "lists and mappings are allowed",
        )

    def build(self, node: Node) -> tuple[object, Position]:
        if isinstance(node, SequenceNode):
            return self.sequence(node)
        if isinstance(node, MappingNode):
            return self.mapping(node)
        return self.scalar(node), Position(self.loc(node))

    def sequence(self, node: SequenceNode) -> tuple[list, Position]:
        if node.tag != SEQ_TAG:
            self.unsupported(node)
        items: list = []
        children: list[Position] = []
        for item in node.value:
            value, pos = self.build(item)
            items.append(value)
            children.append(pos)
        return items, Position(self.loc(node), children=children)

    def mapping(self, node: MappingNode) -> tuple[dict, Position]:
        if node.tag != MAP_TAG:
            self.unsupported(node)
        result: dict[str, object] = {}
        children: dict[str, Position] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node)
            value, pos = self.build(value_node)
            if key is None:
                continue
            if key in children:
                first = children[key].key_loc
                first_line = first.line if first is not None else "?"
                self.problem(key_node, f"duplicate key {key!r} (first at line {first_line})")
                continue
            pos.key_loc = self.loc(key_node)
            result[key] = value
            children[key] = pos
        return result, Position(self.loc(node), children=children)

    def key(self, node: Node) -> str | None:
        if not isinstance(node, ScalarNode):
            self.problem(node, "mapping keys must be text (a key cannot be a list or mapping)")
            return None
        if node.tag in (NULL_TAG, BOOL_TAG, INT_TAG, FLOAT_TAG):
            self.problem(node, f'mapping keys must be text (quote it: "{node.value}")')
            return None
        if node.tag != STR_TAG:
            self.unsupported(node)
            return None
        if node.value == "<<":
            self.problem(node, "merge keys ('<<') are not supported")
            return None
        if _SURROGATE.search(node.value):
            self.problem(node, "key contains an escaped surrogate, which is not a character")
            return None
        return node.value

    def scalar(self, node: ScalarNode) -> object:
        tag, text = node.tag, node.value
        if _SURROGATE.search(text):
            # Only an escape like "\ud800" can make one; such text cannot be stored as UTF-8.
            self.problem(node, "text contains an escaped surrogate (\\uD800-\\uDFFF), "
                               "which is not a character")
            return ""
        if tag == STR_TAG:
            return text
        if tag == NULL_TAG and _NULL_RE.match(text):
            return None
        if tag == BOOL_TAG and _BOOL_RE.match(text):
            return text.lower() == "true"
        if tag == INT_TAG and _INT_RE.match(text):
            return self.integer(node)
        if tag == FLOAT_TAG and _FLOAT_RE.match(text):
            return self.real(node)
        if tag in (NULL_TAG, BOOL_TAG, INT_TAG, FLOAT_TAG):
            self.problem(node, f"{text!r} is not a valid {_short_tag(tag)} value")
        else:
            self.unsupported(node)
        return text

    def integer(self, node: ScalarNode) -> object:
        text = node.value
        try:
            if text.startswith("0x"):
                return int(text[2:], 16)
            if text.startswith("0o"):
                return int(text[2:], 8)
            return int(text, 10)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            self.problem(node, "number has too many digits")
            return text

    def real(self, node: ScalarNode) -> object:
        text = node.value
        if _NON_FINITE_RE.match(text):
            self.problem(node, "infinite and not-a-number values (.inf, .nan) are not allowed")
            return text
        value = float(text)
        if not math.isfinite(value):
            self.problem(node, "number is too large")
            return text
        if Decimal(text) != Decimal(repr(value)):  # a ruleset's numbers are read as written
            self.problem(node, "number too small to hold (it would be 0)" if value == 0 else
                         f"number with more digits than are kept (it would be read as "
                         f"{value!r})")
            return text
        return value


def _offset_location(file: str, text: str, offset: int) -> Location:
    line_start = text.rfind("\n", 0, offset) + 1
    return Location(file, text.count("\n", 0, offset) + 1, offset - line_start + 1)


def _mark_location(file: str, mark: yaml.Mark | None) -> Location:
    if mark is None:
        return Location(file)
    return Location(file, mark.line + 1, mark.column + 1)


# What the YAML parser's words mean to someone editing a ruleset: (start of its problem,
# the plain message); the parser's own words follow in parentheses.
_PLAIN = (
    ("expected <block end>", "the indentation does not line up: this line is indented "
                             "more or less than the lines of its block"),
    ("mapping values are not allowed here", "a ':' where a value was expected: put text "
                                            "that holds ': ' in quotes"),
    ("found character '\\t'", "a tab: indent with spaces"),
    ("could not find expected ':'", "a line without 'key: value' inside a mapping "
                                    "(a missing ':' or a quote not closed?)"),
)


def _syntax_problem(file: str, err: yaml.MarkedYAMLError) -> Problem:
    mark = err.problem_mark if err.problem_mark is not None else err.context_mark
    message = (err.problem or err.context or "invalid YAML").strip()
    if err.problem and err.context:
        context = err.context.strip()
        if err.context_mark is not None:
            context += f" that starts at line {err.context_mark.line + 1}"
        message = f"{message} ({context})"
    plain = next((text for start, text in _PLAIN if message.startswith(start)), None)
    if plain is not None:
        message = f"{plain} (YAML: {message})"
    return Problem(_mark_location(file, mark), message)


def _too_large(file: str) -> ProblemsError:
    return ProblemsError([Problem(Location(file), "file is larger than the 5 MB limit")])


_SLOW = object()  # "read it with the Python parser"


def _compose_fast(text: str) -> Node | object | None:
    """The document's node by libyaml, or _SLOW when libyaml is missing or the text has any
    problem (which the Python parser then reports in its own words)."""
    if _FAST is None:
        return _SLOW
    try:
        loader = _FastLoader(text)
        try:
            return loader.compose_single()
        finally:
            loader.dispose()
    except (_Fatal, yaml.YAMLError, ValueError, RecursionError, MemoryError):
        return _SLOW


def load_yaml_text(text: str, file: str) -> LocatedDocument:
    """Parse one YAML document from ``text``; ``file`` names it in problem messages.

    Raises ProblemsError (and nothing else) for any text that is not acceptable.
    """
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _too_large(file)
    node = _compose_fast(text)
    try:
        if node is _SLOW:
            loader = _Loader(text)
            try:
                node = loader.compose_single()
            finally:
                loader.dispose()
    except _Fatal as err:
        raise ProblemsError([Problem(_mark_location(file, err.mark), err.message)]) from None
    except yaml.MarkedYAMLError as err:
        raise ProblemsError([_syntax_problem(file, err)]) from None
    except yaml.reader.ReaderError as err:
        where = _offset_location(file, text, err.position)
        message = f"special characters are not allowed (found U+{err.character:04X})"
        raise ProblemsError([Problem(where, message)]) from None
    except yaml.YAMLError as err:  # not expected for str input; keep the promise anyway
        raise ProblemsError([Problem(Location(file), f"invalid YAML: {err}")]) from None
    if node is None:
        return LocatedDocument(file, None, Position(Location(file, 1, 1)))
    builder = _Builder(file)
    data, root = builder.build(node)
    if builder.problems:
        raise ProblemsError(builder.problems)
    return LocatedDocument(file, data, root)


def read_yaml_bytes(path: str | os.PathLike, file: str) -> bytes:
    """The bytes of a YAML file (ProblemsError naming it ``file`` when it cannot be read or
    is too large), for ``load_yaml_bytes``."""

    def fail(message: str) -> ProblemsError:
        return ProblemsError([Problem(Location(file), message)])

    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise fail("file not found") from None
    except IsADirectoryError:
        raise fail("is a directory, not a file") from None
    except PermissionError:
        raise fail("permission denied") from None
    except OSError as err:
        raise fail(f"cannot read file: {err.strerror or err}") from None
    except ValueError as err:  # e.g. a NUL character in the path
        raise fail(f"invalid file name: {err}") from None
    if len(raw) > MAX_BYTES:
        raise _too_large(file)
    return raw


def load_yaml_file(path: str | os.PathLike, display_name: str | None = None) -> LocatedDocument:
    """Read and parse a UTF-8 YAML file; problems name it ``display_name`` (default: path)."""
    file = display_name if display_name is not None else os.fsdecode(path)
    return load_yaml_bytes(read_yaml_bytes(path, file), file)


def load_yaml_bytes(raw: bytes, file: str) -> LocatedDocument:
    """Parse one YAML document from UTF-8 ``raw`` bytes (a leading BOM is dropped); ``file``
    names it in problem messages."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        line_start = raw.rfind(b"\n", 0, err.start) + 1
        column = len(raw[line_start : err.start].decode("utf-8", "replace")) + 1
        message = f"not valid UTF-8 text (first bad byte at line {line}, column {column})"
        raise ProblemsError([Problem(Location(file), message)]) from None
    return load_yaml_text(text.removeprefix("\ufeff"), file)
