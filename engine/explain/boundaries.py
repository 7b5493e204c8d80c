"""The nearest value of one numeric field at which a condition starts to hold: steps
doubling away from the current value in each direction until it holds, then halving the
last step down to one unit (a count, a cent or a whole amount, a day), or for a ratio to
the shortest decimal that still holds."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from itertools import count

from .fields import Scale

MAX_DOUBLINGS = 64
CONTINUOUS_START = 2.0 ** -30  # a ratio's first step, relative to its size (or to 1)


def nearest(scale: Scale, start: float | int, holds: Callable[[float | int], bool]
            ) -> list[tuple[float | int, int]]:
    """For each direction (+1 up, -1 down) in which the condition comes to hold, the
    position nearest ``start`` where it does, with the direction; nearest first."""
    low, high = scale.bounds()
    found = []
    for direction in (1, -1):
        position = _first_holding(scale, start, direction, low, high, holds)
        if position is not None:
            found.append((position, direction))
    found.sort(key=lambda p: abs(p[0] - start))
    return found


def _first_holding(scale: Scale, start, direction: int, low, high, holds):
    previous = start
    size = max(abs(float(start)), 1.0) * CONTINUOUS_START if scale.continuous else 1
    for _ in range(MAX_DOUBLINGS):
        position = start + direction * size
        at_bound = False
        if high is not None and position > high:
            position, at_bound = high, True
        if low is not None and position < low:
            position, at_bound = low, True
        if (position - previous) * direction <= 0:
            return None  # the bound is behind: nothing further this way
        if holds(position):
            return _halve(scale, previous, position, holds)
        if at_bound:
            return None
        previous = position
        size *= 2
    return None


def _halve(scale: Scale, failing, holding, holds):
    """Narrow (failing, holding] to the holding position nearest the failing one: on a
    whole-number scale until the two are neighbours, on a continuous one for at most 200
    halvings (or until they are neighbouring doubles), then to its shortest number."""
    continuous = scale.continuous
    for _ in range(200) if continuous else count():
        middle = (failing + holding) / 2 if continuous else (failing + holding) // 2
        if middle in (failing, holding):  # neighbours: nothing lies between them
            break
        if holds(middle):
            holding = middle
        else:
            failing = middle
    return _shortest(failing, holding, holds) if continuous else holding


def _shortest(failing: float, holding: float, holds) -> float:
    """The number with the fewest significant digits at or just beyond ``holding`` (moved
    at most a thousandth of the change further) that still holds."""
    direction = 1 if holding > failing else -1
    allowed = abs(holding - failing) + abs(holding) * 1e-3
    exact = Decimal(repr(holding))
    magnitude = exact.adjusted() if exact else 0
    for digits in range(1, 17):
        quantum = Decimal(1).scaleb(magnitude - digits + 1)
        rounded = exact.quantize(quantum, rounding=ROUND_CEILING if direction > 0
                                 else ROUND_FLOOR)
        candidate = float(rounded)
        if abs(candidate - holding) <= allowed and holds(candidate):
            return candidate
    return holding
