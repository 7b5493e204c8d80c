"""A field of the customer document as explaining changes it: reading and setting a
dotted path, and the numeric scale a search moves a value along (whole units for counts
and whole amounts, cents for amounts with cents, days for dates, any number for ratios).
Values are written as a JSON document carries them (int, float, text, true/false)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from ..language.expressions import BOOLEAN, DATE, INTEGER, MONEY, NUMBER

NUMERIC_TYPES = (INTEGER, MONEY, NUMBER, DATE)


def get_field(document: dict, name: str) -> object:
    """The value at a dotted path (None when absent)."""
    node: object = document
    for part in name.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def set_field(document: dict, name: str, value: object) -> dict:
    """A copy of ``document`` with the dotted path set to ``value`` (only the objects on
    the path are copied; the rest is shared)."""
    parts = name.split(".")
    top = dict(document)
    node = top
    for part in parts[:-1]:
        child = node.get(part)
        child = dict(child) if isinstance(child, dict) else {}
        node[part] = child
        node = child
    node[parts[-1]] = value
    return top


def set_fields(document: dict, changes: dict[str, object]) -> dict:
    """A copy of ``document`` with every dotted path in ``changes`` set."""
    for name, value in changes.items():
        document = set_field(document, name, value)
    return document


@dataclass(frozen=True)
class Scale:
    """How a numeric field is searched: positions are whole numbers of ``unit`` (counts,
    amounts, days) or, ``continuous``, floats; ``low``/``high`` bound its values."""

    type: str
    unit: Decimal | int = 1
    continuous: bool = False
    low: float | None = None
    high: float | None = None

    def position(self, value: object) -> float | int:
        """The search position of a document value."""
        if self.type == DATE:
            return dt.date.fromisoformat(str(value)).toordinal()
        if self.continuous:
            return float(value)
        return int((Decimal(str(value)) / Decimal(self.unit)).to_integral_value())

    def value(self, position: float | int) -> object:
        """The document value at a search position."""
        if self.type == DATE:
            return dt.date.fromordinal(int(position)).isoformat()
        if self.continuous:
            return float(position)
        amount = Decimal(int(position)) * Decimal(self.unit)
        return int(amount) if amount == amount.to_integral_value() else float(amount)

    def bounds(self) -> tuple[float | None, float | None]:
        """The lowest and highest positions (None: unbounded)."""
        if self.type == DATE:
            return dt.date(1800, 1, 1).toordinal(), dt.date(2200, 12, 31).toordinal()
        if self.continuous:
            return self.low, self.high
        unit = Decimal(self.unit)
        low = None if self.low is None else math.ceil(Decimal(str(self.low)) / unit)
        high = None if self.high is None else math.floor(Decimal(str(self.high)) / unit)
        return low, high


def scale_for(typ: str, current: object, quantum: Decimal, low: float | None,
              high: float | None) -> Scale | None:
    """The scale of a field of type ``typ`` now holding ``current`` (None: not numeric).
    An amount held whole moves in whole units; one with cents, in the ruleset's quantum."""
    if typ == INTEGER:
        return Scale(typ, 1, low=low, high=high)
    if typ == MONEY:
        whole = current is None or (isinstance(current, int | float | Decimal)
                                    and not isinstance(current, bool)
                                    and float(current).is_integer())
        return Scale(typ, 1 if whole else quantum, low=low, high=high)
    if typ == NUMBER:
        return Scale(typ, continuous=True, low=low, high=high)
    if typ == DATE:
        return Scale(typ)
    return None


def is_present_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool) and \
        math.isfinite(float(value))


def move_size(typ: str, before: object, after: object) -> float:
    """How big a change is, to prefer the smaller: the relative change of a number (of a
    date, in years), 1 for a value set where there was none, a text or true/false."""
    if before is None or typ == BOOLEAN or typ not in NUMERIC_TYPES:
        return 1.0
    if typ == DATE:
        days = abs(dt.date.fromisoformat(str(after)).toordinal() -
                   dt.date.fromisoformat(str(before)).toordinal())
        return days / 365.0
    if not is_present_number(before):
        return 1.0
    low = float(before)
    change = abs(float(after) - low)
    return change / abs(low) if low else change if change <= 1 else 1.0 + math.log10(change)
