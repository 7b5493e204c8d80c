"""JSON values for property tests of the project's JSON readers, and comparing what two
readers give strictly: the same values of the same types, keys in the same order."""

from __future__ import annotations

import math

from hypothesis import strategies as st


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


# Any JSON value: text, whole and fractional numbers, booleans, null, nested lists and objects.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)
