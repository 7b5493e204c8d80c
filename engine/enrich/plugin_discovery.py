"""Finding the plugins installed as distributions: the entry points of one group, as
``importlib.metadata.entry_points(group=...)`` gives them, with a quick look first.

Importing importlib.metadata (with the email parser it reads metadata with) and letting it
read every installed distribution costs a one-shot command about 10 ms, while usually no
distribution declares the group at all. So the installed distributions' entry_points.txt
files are read first, as importlib.metadata would find them, and importlib.metadata is
asked only when one of them names the group, or when a distribution could be somewhere this
look does not reach (a zip or egg on sys.path, another finder of distributions).
"""

from __future__ import annotations

import importlib.machinery
import os
import sys


def entry_points(group: str) -> tuple:
    """The installed entry points of ``group`` (importlib.metadata's EntryPoint objects,
    in its order); () without importing importlib.metadata when none can exist."""
    if not may_declare(group):
        return ()
    import importlib.metadata

    return tuple(importlib.metadata.entry_points(group=group))


def may_declare(group: str) -> bool:
    """False only when no distribution importlib.metadata can find declares ``group``."""
    for finder in sys.meta_path:
        if finder is not importlib.machinery.PathFinder and \
                hasattr(finder, "find_distributions"):
            return True  # distributions we cannot look at ourselves
    return any(_folder_may_declare(entry, group) for entry in sys.path)


def _folder_may_declare(entry: object, group: str) -> bool:
    """Whether one sys.path entry may hold a distribution declaring ``group``.
    importlib.metadata looks at the
    folder's children named *.dist-info or *.egg-info (any case), and inside zips and
    eggs, which are left to it."""
    if not isinstance(entry, str):
        return True
    folder = entry or "."
    if folder.lower().endswith(".egg") or os.path.isfile(folder):
        return True
    try:
        children = os.listdir(folder)
    except OSError:
        return False  # importlib.metadata finds nothing in a folder it cannot list
    for child in children:
        if child.lower().endswith((".dist-info", ".egg-info")) and \
                _declares(os.path.join(folder, child, "entry_points.txt"), group):
            return True
    return False


def _declares(path: str, group: str) -> bool:
    """Whether the entry_points.txt at ``path`` has a section ``group``, read as
    importlib.metadata reads sections: a stripped line in brackets, named by what is left
    once every bracket at its ends is stripped ("[[x]]" names x too)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            text = file.read()
    except OSError:
        return False
    return any(line.startswith("[") and line.endswith("]") and line.strip("[]") == group
               for line in map(str.strip, text.splitlines()) if group in line)
