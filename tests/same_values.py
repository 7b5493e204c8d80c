"""Comparing parsed JSON values strictly: what two readers give must be the same values
of the same types, with keys in the same order."""

from __future__ import annotations

import math


def same(a, b) -> bool:
    """Equal values of the same types all the way down (1 == 1.0 is not enough), keys in
    the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b
