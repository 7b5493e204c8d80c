"""Progress of a long command on stderr: click's progress bar when the total is known, a
running count when it is not. Shown only on a terminal and only with the readable output
(never in a pipe, never with --json, --csv or --nl), redrawn a few times a second, and
cleared before an error line and at the end, so no trace of it stays behind."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import click


class Progress:
    """``update(done)`` as work goes; ``clear()`` before writing an error line;
    ``finish()`` at the end. Does nothing when not ``shown``."""

    def __init__(self, label: str, total: int | None, *, shown: bool,
                 stream: TextIO | None = None):
        self.label = label
        self.stream = stream or sys.stderr
        self.shown = shown
        self.start = self.last = time.monotonic()
        self.done = 0
        self.bar = None
        if shown and total:
            self.bar = click.progressbar(length=total, label=label, file=self.stream,
                                         show_eta=True, show_pos=True, width=24)
            self.bar.render_progress()

    def update(self, done: int) -> None:
        if not self.shown:
            return
        now = time.monotonic()
        if self.bar is not None:
            self.bar.update(max(0, min(done, self.bar.length) - self.bar.pos))
        elif now - self.last >= 0.2:
            self.last = now
            rate = done / max(now - self.start, 1e-9)
            self.stream.write(f"\r{self.label}: {done:,} ({rate:,.0f}/s)")
            self.stream.flush()
        self.done = done

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def finish(self) -> None:
        self.clear()


def progress(label: str, total: int | None, fmt: str = "table",
             wanted: bool | None = None) -> Progress:
    """A Progress shown when stderr is a terminal and the output is for people
    (``wanted`` overrides the terminal test: --progress / --no-progress)."""
    on_terminal = sys.stderr.isatty() if wanted is None else wanted
    return Progress(label, total, shown=on_terminal and fmt == "table")
