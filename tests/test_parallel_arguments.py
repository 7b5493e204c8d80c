"""A worker is sent its work's arguments once for the whole run, not with every chunk: what
is worked out once per object (a CSV header's row builder, keyed by the header's column
types) is then worked out once a worker, where an argument unpickled with every chunk was
a new object each time and the work was done again every chunk."""

from __future__ import annotations

import os

from engine.parallel import map_chunks

_kept: list[dict] = []  # in a worker: so that no later object can take a copy's id


def where_seen(_state: None, chunk: list[int], settings: dict
               ) -> list[tuple[int, int, int, str]]:
    _kept.append(settings)
    return [(number, os.getpid(), id(settings), settings["label"]) for number in chunk]


def no_setup() -> None:
    """A worker initializer that does nothing."""


def test_each_worker_has_one_copy_of_the_arguments_for_every_chunk():
    chunks = iter([[number, number + 1] for number in range(0, 24, 2)])
    results = [item for done in map_chunks(chunks, where_seen, ({"label": "run 1"},),
                                           workers=2, initializer=no_setup, initargs=())
               for item in done]
    assert [number for number, *_ in results] == list(range(24))  # in input order
    assert {label for *_, label in results} == {"run 1"}
    copies: dict[int, set[int]] = {}
    for _, pid, identity, _ in results:
        copies.setdefault(pid, set()).add(identity)
    assert copies and all(len(identities) == 1 for identities in copies.values())


def test_a_new_run_sends_its_own_arguments():
    def labels(label: str) -> set[str]:
        chunks = iter([[1], [2], [3], [4]])
        return {item[3] for done in map_chunks(chunks, where_seen, ({"label": label},),
                                               workers=2, initializer=no_setup,
                                               initargs=())
                for item in done}

    assert labels("first") == {"first"}
    assert labels("second") == {"second"}
