"""Where a trace entry was written: the slot of ``(slot, values read, result)``."""

from __future__ import annotations


class TraceSlot(int):
    """The slot of a trace entry: its number in the ruleset's ``slots``, with what the
    number stands for, ``meaning``: (stage, rule id, names read). It is an int so that the
    trace is already the audit's compact form (``[slot number, [values read], result]``):
    orjson and the json module write an int subclass as its number, so a record writes the
    trace as it is instead of first copying every entry without its meaning."""

    def __new__(cls, index: int, stage: str, rule_id: str, names: tuple[str, ...]):
        slot = super().__new__(cls, index)
        slot.meaning = (stage, rule_id, names)  # one attribute: loops over a trace unpack it
        return slot

    def __getnewargs__(self) -> tuple:  # (pickled in the compiled-ruleset cache)
        return int(self), *self.meaning

    @property
    def stage(self) -> str:
        return self.meaning[0]

    @property
    def rule_id(self) -> str:
        return self.meaning[1]
