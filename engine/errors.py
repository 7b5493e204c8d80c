"""Errors that carry a location, so every message a user sees points at its cause."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file: 1-based line and column; line 0 means "the file as a whole"."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input, rendered as ``FILE:LINE:COL: message``."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class CreditRulesError(Exception):
    """Base class of every error the engine raises on purpose."""


class ProblemsError(CreditRulesError):
    """Raised when an input (a ruleset, a customer document) has one or more problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ExpressionError(CreditRulesError):
    """An expression that cannot be compiled. ``offset`` is the 0-based column in the text;
    ``unknown_name`` is set when the cause is a name that is not defined."""

    def __init__(self, message: str, offset: int = 0, unknown_name: str | None = None):
        self.message = message
        self.offset = offset
        self.unknown_name = unknown_name
        super().__init__(message)

    def shifted(self, by: int) -> ExpressionError:
        """The same error with its offset moved by ``by`` (for text inside other text)."""
        return ExpressionError(self.message, self.offset + by, self.unknown_name)


class DecisionError(CreditRulesError):
    """A decision that cannot be completed from its inputs (for example two rules of a
    unique table matching the same case)."""


class InputError(CreditRulesError):
    """A customer document (or row) that cannot be used: ``problems`` are
    ``(json_pointer, message)`` pairs, or a single ``("", message)`` for unreadable text."""

    def __init__(self, where: str, problems: list[tuple[str, str]]):
        self.where = where
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" if p else m for p, m in problems))

    def __reduce__(self):
        # Rebuilt from its two arguments when a worker process receives an unreadable row
        # (Exception's default pickles the message alone, which __init__ cannot take).
        return (type(self), (self.where, self.problems))

    def lines(self) -> list[str]:
        """One line per problem, each prefixed with where the document came from."""
        return [f"{self.where}: {p}: {m}" if p else f"{self.where}: {m}"
                for p, m in self.problems]
