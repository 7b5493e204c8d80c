"""What is worked out once per object a hot path meets again and again (a ruleset, its
enrichment spec, a CSV header's column types), for objects that cannot be weakly
referenced or hashed (dicts): kept by identity, with the object itself. Kept, the object
lives, so no other object can take its id while its result is held."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

KEPT = 64  # past this many objects (a process making them again and again), start over


def per_object(make: Callable[[T], R]) -> Callable[[T], R]:
    """``make(obj)``, worked out the first time ``obj`` is asked for and kept while it is
    (at most KEPT objects at a time)."""
    made: dict[int, tuple[T, R]] = {}

    def once(obj: T) -> R:
        entry = made.get(id(obj))
        if entry is None:
            if len(made) >= KEPT:
                made.clear()
            entry = made[id(obj)] = (obj, make(obj))
        return entry[1]

    once.__doc__ = make.__doc__
    once.__name__ = make.__name__
    return once
