"""A progress bar on stderr for long commands (only on a terminal)."""

from __future__ import annotations

import time

import click


class Progress:
    """A progress bar on stderr, redrawn at most a few times a second."""

    def __init__(self, total: int | None):
        self.total = total
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        if self.total:
            share = min(done / self.total, 1.0)
            bar = "#" * int(share * 30)
            text = f"[{bar:<30}] {share:4.0%} {done:,} rows, {rate:,.0f}/s"
        else:
            text = f"{done:,} rows, {rate:,.0f}/s"
        click.echo("\r" + text, err=True, nl=False)

    def clear(self) -> None:
        click.echo("\r\033[K", err=True, nl=False)

    def finish(self) -> None:
        self.clear()
