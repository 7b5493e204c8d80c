"""Writing the Python source of a compiled ruleset: indented lines, local names for facts,
and collecting located problems while a stage is compiled."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import ExpressionError
from .expressions import CodeContext, Compiled, Symbol, compile_expression

Path = tuple[str | int, ...]


def local_name(name: str) -> str:
    """The Python local that holds fact ``name`` inside a generated function."""
    local = "v_" + name.replace(".", "__")
    if not local.isidentifier() or not local.isascii():
        raise ValueError(f"{name!r} cannot name a fact")  # the schemas never let one through
    return local


def scope_for(types: Mapping[str, str], non_null: frozenset[str] = frozenset()
              ) -> dict[str, Symbol]:
    """Symbols for names of the given types, each read from its local variable."""
    return {name: Symbol(typ, local_name(name), name not in non_null)
            for name, typ in types.items()}


@dataclass
class SpecProblem:
    """A problem found while compiling one stage file: a path inside the document, and
    for expressions the offset of the error inside the text."""

    path: Path
    message: str
    offset: int = 0
    at_key: bool = False


@dataclass
class Reporter:
    """Collects the problems of one stage file; compilation goes on after each.
    ``failed_names`` (shared by the stages) are names whose own definition was already
    reported as broken: an expression that reads one is not reported again."""

    problems: list[SpecProblem] = field(default_factory=list)
    failed_names: set[str] = field(default_factory=set)

    def error(self, path: Path, message: str, offset: int = 0, at_key: bool = False) -> None:
        self.problems.append(SpecProblem(tuple(path), message, offset, at_key))

    def expression(self, path: Path, text: object, scope: Mapping[str, Symbol],
                   ctx: CodeContext, expect: str | None = None) -> Compiled | None:
        """Compile an expression, reporting (and returning None) when it is bad."""
        try:
            return compile_expression(text, scope, ctx, expect=expect)
        except ExpressionError as exc:
            self.expression_error(path, exc)
            return None

    def expression_error(self, path: Path, exc: ExpressionError) -> None:
        """Report ``exc`` unless it only repeats a problem already reported."""
        if exc.unknown_name is None or exc.unknown_name not in self.failed_names:
            self.error(path, exc.message, exc.offset)

    def guard(self, path: Path, action: Callable[[], object]) -> object | None:
        """Run ``action``; an ExpressionError it raises becomes a problem at ``path``."""
        try:
            return action()
        except ExpressionError as exc:
            self.expression_error(path, exc)
            return None


class FunctionBuilder:
    """Lines of one generated function. Locals for the facts it reads are loaded from the
    values dict ``v`` at its top, only for the names its body actually uses."""

    def __init__(self, signature: str, ctx: CodeContext):
        self.signature = signature
        self.ctx = ctx
        self.body: list[str] = []
        self.stores: set[int] = set()  # the lines of body that store a local into ``v``
        self._indent = 1

    def line(self, text: str) -> None:
        self.body.append("    " * self._indent + text)

    def store(self, name: str) -> None:
        """Store fact ``name``'s local into the values dict ``v`` for the later stages."""
        self.stores.add(len(self.body))
        self.line(f"v[{name!r}] = {local_name(name)}")

    @contextmanager
    def indented(self) -> Iterator[None]:
        self._indent += 1
        try:
            yield
        finally:
            self._indent -= 1

    def trace(self, stage: str, rule_id: str, reads: tuple[str, ...], result: str) -> None:
        """Append a trace entry ``((slot index, stage, rule id, names read), values read,
        result)``; the first part is a constant, so an entry costs two small tuples."""
        slot = self.ctx.slot(stage, rule_id, tuple(reads))
        values = "(" + "".join(f"{local_name(n)}, " for n in reads) + ")"
        self.line(f"trace(({slot}, {values}, {result}))")

    def reads(self, known: Mapping[str, object]) -> list[str]:
        """The names of ``known`` the body uses, which the function loads from ``v``."""
        used = set(re.findall(r"\bv_[A-Za-z0-9_]+\b", "\n".join(self.body)))
        return [n for n in sorted(known) if local_name(n) in used]

    def source(self, known: Mapping[str, object]) -> str:
        """The function's source; ``known`` are the names that may be loaded from ``v``."""
        loads = [f"    {local_name(n)} = v[{n!r}]" for n in self.reads(known)]
        body = loads + (self.body or ["    pass"])
        return f"def {self.signature}:\n" + "\n".join(body) + "\n"
