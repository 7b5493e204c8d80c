"""Writing a page: to a file beside the target first, then renamed over it, so that a
failure half-way (a full disk) never leaves half a page, nor half of what was there."""

from __future__ import annotations

import os
from pathlib import Path


def write_page(out: str | os.PathLike, html: str) -> None:
    """Write ``html`` to ``out`` whole, or leave ``out`` as it was."""
    target = Path(out)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_text(html, encoding="utf-8")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
