"""Compiled rulesets kept between processes, keyed by content, so that a one-shot command
does not read, check and compile the same files again (about 50 of the 55 ms the default
ruleset takes).

An entry is found by the SHA-256 of what a compile depends on: the engine's own code and
schemas, the folder as named (problems and the stored ruleset name files by it) and the
manifest's bytes; it lists the SHA-256 of every stage file, each compared with the file's
bytes now before anything of the entry is used. The digests are of the very bytes the
compile read (``RulesetSource.digests``), so a file changed while compiling cannot be
recorded under its new content. Entries are written whole (a temporary file renamed over
the entry) into a folder of the user's own, never inside a ruleset; one that is corrupt,
of another format, unreadable or not the user's is ignored and compiled afresh, and a
folder that cannot be written to only means no cache. An entry holds compiled code, so
the folder is trusted as Python's own ``__pycache__`` is (only its owner can write it);
the restricted unpickler keeps a damaged entry from building anything but ruleset parts.

The folder: $CREDIT_CACHE_DIR, else credit-rules under $XDG_CACHE_HOME or ~/.cache;
$CREDIT_NO_CACHE=1 turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import marshal
import os
import pickle
import tempfile
from dataclasses import fields
from pathlib import Path

from ..paths import PROJECT_ROOT, SCHEMA_DIR
from .compiler import (
    STAGE_FUNCTIONS,
    CompiledRuleset,
    compile_ruleset,
    with_stage_functions,
)
from .source import MANIFEST, RulesetSource, check_folder, load_ruleset_source

FORMAT = b"credit-rules compiled ruleset 1\n"
SUFFIX = ".ruleset"
ENGINE = Path(__file__).resolve().parent.parent
# What a compile's result depends on besides the ruleset: the language and ruleset
# packages, the engine's top-level modules, and the JSON Schemas the files are checked with;
# and the libraries that read and check the files (an upgrade rewrites their modules).
ENGINE_SOURCES = ("language/*.py", "ruleset/*.py", "*.py")
LIBRARIES = ("yaml", "jsonschema", "jsonschema_rs", "referencing")


def load_compiled(folder: str | Path) -> CompiledRuleset:
    """``compile_ruleset(load_ruleset_source(folder))``, from the cache when an entry for
    exactly these files (and this engine) is there; else compiled and stored."""
    store = cache_folder()
    if store is None:
        return compile_ruleset(load_ruleset_source(folder))
    root, label = check_folder(folder)
    prefix = _prefix(label)
    try:
        key = _key(label, hashlib.sha256((root / MANIFEST).read_bytes()).hexdigest())
    except (OSError, ValueError):  # a file that cannot be read: loading says why
        return compile_ruleset(load_ruleset_source(folder))
    cached = _read_entry(store / f"{prefix}-{key}{SUFFIX}", key, root)
    if cached is not None:
        return cached
    compiled = compile_ruleset(load_ruleset_source(folder))
    _write_entry(store, prefix, compiled)
    return compiled


def cache_folder() -> Path | None:
    """Where compiled rulesets are kept; None when the cache is off or there is no home."""
    if os.environ.get("CREDIT_NO_CACHE"):
        return None
    configured = os.environ.get("CREDIT_CACHE_DIR")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative path is to be ignored
        return Path(xdg) / "credit-rules"
    try:
        return Path.home() / ".cache" / "credit-rules"
    except RuntimeError:  # no home directory to be found
        return None


_engine_digest: str | None = None


def engine_digest() -> str:
    """SHA-256 over the engine's sources and schemas (names and bytes), where the
    libraries that read the files are and when they were written, the bytecode format and
    the cache format: a changed engine never reads an older engine's entry."""
    global _engine_digest
    if _engine_digest is None:
        digest = hashlib.sha256(FORMAT + importlib.util.MAGIC_NUMBER)
        paths = [path for pattern in ENGINE_SOURCES for path in ENGINE.glob(pattern)]
        paths += SCHEMA_DIR.glob("*.json")
        for path in sorted(paths):
            digest.update(f"\0{path.relative_to(PROJECT_ROOT).as_posix()}\0".encode())
            digest.update(path.read_bytes())
        for name in LIBRARIES:  # found, not imported
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec is not None else None
            written = os.stat(origin) if origin and os.path.exists(origin) else None
            digest.update(f"\0{name}\0{origin}\0{written and written.st_size}\0"
                          f"{written and written.st_mtime_ns}".encode())
        _engine_digest = digest.hexdigest()
    return _engine_digest


def _prefix(label: str) -> str:
    """What an entry's name starts with: the folder as named (one entry is kept for each)."""
    return hashlib.sha256(label.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _key(label: str, manifest_digest: str) -> str:
    """What an entry must have been compiled from: this engine, the folder as named and
    the manifest's bytes (which name the stage files, listed with theirs in the entry)."""
    return hashlib.sha256(b"\0".join([engine_digest().encode(), manifest_digest.encode(),
                                      label.encode("utf-8", "surrogateescape")])).hexdigest()


def _write_entry(store: Path, prefix: str, compiled: CompiledRuleset) -> None:
    """Store ``compiled`` (written whole, then renamed into place) and drop the folder's
    older entries; any failure leaves the cache as it was."""
    source: RulesetSource = compiled.source
    if MANIFEST not in source.digests:
        return  # not read from files
    state = {f.name: getattr(compiled, f.name) for f in fields(compiled)
             if f.name not in STAGE_FUNCTIONS and f.name not in ("challenger", "code")}
    temporary = None
    try:
        key = _key(source.label, source.digests[MANIFEST])
        header = json.dumps({"key": key, "files": {name: digest for name, digest
                                                   in source.digests.items()
                                                   if name != MANIFEST}}).encode()
        payload = pickle.dumps((marshal.dumps(compiled.code), state),
                               protocol=pickle.HIGHEST_PROTOCOL)
        body = header + b"\n" + payload
        store.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=store, prefix=".tmp-", suffix=SUFFIX)
        with os.fdopen(handle, "wb") as out:
            out.write(FORMAT + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
        os.replace(temporary, store / f"{prefix}-{key}{SUFFIX}")
        temporary = None
        for older in store.glob(f"{prefix}-*{SUFFIX}"):
            if older.name != f"{prefix}-{key}{SUFFIX}":
                with contextlib.suppress(OSError):
                    older.unlink()
    except Exception:  # a ruleset that cannot be stored (or written) is only not cached
        pass
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _read_entry(path: Path, key: str, root: Path) -> CompiledRuleset | None:
    """The compiled ruleset in the entry at ``path``, when it is whole, ours, for ``key``
    and every stage file it lists has the bytes it was compiled from; else None."""
    try:
        with open(path, "rb") as entry:
            if hasattr(os, "getuid") and os.fstat(entry.fileno()).st_uid != os.getuid():
                return None
            data = entry.read()
        if not data.startswith(FORMAT):
            return None
        checksum, _, body = data[len(FORMAT):].partition(b"\n")
        if hashlib.sha256(body).hexdigest().encode() != checksum:
            return None
        header_line, _, payload = body.partition(b"\n")
        header = json.loads(header_line)
        if header.get("key") != key or not _files_unchanged(root, header.get("files")):
            return None
        code, state = _EntryUnpickler(io.BytesIO(payload)).load()
        return with_stage_functions(marshal.loads(code), state)
    except Exception:  # a damaged or foreign entry is no entry: compile afresh
        return None


def _files_unchanged(root: Path, files: object) -> bool:
    """Whether the manifest and each listed stage file is a file inside ``root`` (as
    loading checks), each stage file's bytes having the listed SHA-256."""
    if not isinstance(files, dict):
        return False
    inside = root.resolve()
    if not (root / MANIFEST).resolve().is_relative_to(inside):
        return False
    for name, digest in files.items():
        path = root / name
        if not path.is_file() or not path.resolve().is_relative_to(inside):
            return False  # loading it afresh reports the problem
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            return False
    return True


_STANDARD_CLASSES = frozenset({
    ("decimal", "Decimal"), ("datetime", "date"), ("datetime", "datetime"),
    ("datetime", "time"), ("datetime", "timedelta"), ("datetime", "timezone")})
_ENGINE_ROOMS = ("engine.language.", "engine.ruleset.", "engine.errors.", "engine.canonical.")


class _EntryUnpickler(pickle.Unpickler):
    """Builds only the classes a compiled ruleset is made of (the language's, the
    ruleset's, the engine's errors and exact numbers, Decimal and the date types); any
    other name in an entry makes it unreadable."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _STANDARD_CLASSES and not (module + ".").startswith(
                _ENGINE_ROOMS):
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a ruleset")
        found = super().find_class(module, name)
        if not isinstance(found, type):
            raise pickle.UnpicklingError(f"{module}.{name} is not a class")
        return found
