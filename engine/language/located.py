"""A YAML document as loaded: its plain data and where every value came from. Kept apart
from the YAML reader (``yaml_source``), so that a compiled ruleset taken from the cache,
which holds its documents, does not load the YAML library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.errors import Location


@dataclass(slots=True)
class Position:
    """Where one value (and, for a mapping entry, its key) starts; children mirror the data."""

    loc: Location
    key_loc: Location | None = None
    children: dict[str, Position] | list[Position] | None = None

    def child(self, step: str | int) -> Position | None:
        if isinstance(self.children, dict) and isinstance(step, str):
            return self.children.get(step)
        if (
            isinstance(self.children, list)
            and isinstance(step, int)
            and not isinstance(step, bool)
            and 0 <= step < len(self.children)
        ):
            return self.children[step]
        return None


@dataclass(frozen=True)
class LocatedDocument:
    """A loaded YAML document: plain data plus the position of every value in the file."""

    file: str
    data: object
    _root: Position | None = field(default=None, repr=False, compare=False)

    def _walk(self, path: Sequence[str | int]) -> tuple[Position | None, bool]:
        node = self._root
        if node is None:
            return None, not path
        for step in path:
            child = node.child(step)
            if child is None:
                return node, False
            node = child
        return node, True

    def locate(self, path: Sequence[str | int]) -> Location:
        """Where the value at ``path`` starts; the deepest existing ancestor if it is missing."""
        node, _ = self._walk(path)
        return node.loc if node is not None else Location(self.file, 1, 1)

    def locate_key(self, path: Sequence[str | int]) -> Location:
        """Where the key of the last step of ``path`` starts (falls back to :meth:`locate`)."""
        node, found = self._walk(path)
        if found and node is not None and node.key_loc is not None:
            return node.key_loc
        return self.locate(path)
