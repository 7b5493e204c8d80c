"""per_object: a result worked out once per object, by identity, the object kept alive
while its result is (so that no new object takes its id)."""

from __future__ import annotations

import weakref

from engine.per_object import KEPT, per_object


def counting():
    calls = []

    @per_object
    def size(obj: dict) -> int:
        """How many keys."""
        calls.append(obj)
        return len(obj)

    return size, calls


def test_worked_out_once_per_object():
    size, calls = counting()
    first = {"a": 1}
    assert size(first) == 1 and size(first) == 1
    assert len(calls) == 1
    assert size({"a": 1}) == 1  # an equal object is another object
    assert len(calls) == 2
    assert size.__doc__ == "How many keys."


class Spec:
    """An object that can be weakly referenced, to see how long it lives."""


def test_an_object_lives_while_its_result_is_kept_so_its_id_is_not_reused():
    made = per_object(lambda obj: id(obj))
    spec = Spec()
    alive = weakref.ref(spec)
    assert made(spec) == id(spec)
    del spec
    assert alive() is not None  # kept: no new object can take its id
    for _ in range(KEPT):  # the cache starts over: then it goes
        made(Spec())
    assert alive() is None


def test_at_most_kept_objects_are_held():
    size, calls = counting()
    objects = [{"n": n} for n in range(KEPT + 1)]
    for obj in objects:
        size(obj)
    size(objects[0])  # held until KEPT were held, then started over
    assert len(calls) == KEPT + 2
