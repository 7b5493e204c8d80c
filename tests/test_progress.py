"""Progress on a terminal only: drawn on stderr for people, never in a pipe or with
--json, and cleared before an error line and at the end."""

from __future__ import annotations

import io
import os
import subprocess

from engine.cli.progress import Progress, progress
from tests.credit_cli import CREDIT
from tests.paths import ROOT


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_known_total_draws_a_bar_and_leaves_nothing_behind():
    screen = Terminal()
    meter = Progress("deciding", 100, shown=True, stream=screen)
    meter.update(50)
    meter.clear()  # before an error line
    meter.update(100)
    meter.finish()
    text = screen.getvalue()
    assert "deciding" in text and "50/100" in text
    assert text.endswith("\r\033[K")


def test_an_unknown_total_is_a_running_count():
    screen = Terminal()
    meter = Progress("monitoring customers", None, shown=True, stream=screen)
    meter.last -= 1  # as if the last redraw was a second ago
    meter.update(1234)
    meter.finish()
    assert "\rmonitoring customers: 1,234 (" in screen.getvalue()


def test_nothing_when_not_shown():
    screen = Terminal()
    meter = Progress("deciding", 100, shown=False, stream=screen)
    meter.update(10)
    meter.clear()
    meter.finish()
    assert screen.getvalue() == ""


def test_json_output_never_gets_progress():
    assert progress("deciding", 10, "json", wanted=True).shown is False
    assert progress("deciding", 10, "table", wanted=True).shown is True
    assert progress("deciding", 10, "table", wanted=False).shown is False


def test_a_batch_on_a_real_terminal_shows_progress_and_clears_it(tmp_path):
    """stderr on a pseudo-terminal, as a person running credit batch would see it."""
    primary, secondary = os.openpty()
    done = subprocess.run(
        [*CREDIT, "batch", str(ROOT / "examples" / "portfolio.csv"), "--out",
         str(tmp_path / "r.jsonl"), "--as-of", "2025-12-31", "--no-audit"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=secondary, text=True, timeout=300)
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(primary)
    assert done.returncode == 0
    text = seen.decode()
    assert "deciding" in text
    assert text.endswith("\r\033[K")
    assert done.stdout.startswith("Decided 1,000 customers")  # stdout untouched
    assert "deciding" not in done.stdout


def test_verify_tells_its_progress_in_one_process_and_in_several(tmp_path, monkeypatch):
    from engine.audit import chain
    from engine.audit.store import AuditStore, NewRecord

    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        store.append(NewRecord("event", f'{{"customer_id":"C","id":"E-{i}"}}',
                               customer_id="C") for i in range(20_001))
    heard: list[int] = []
    assert chain.verify_file(str(db), workers=1, on_progress=heard.append).ok
    assert heard == [10_000, 20_000]
    monkeypatch.setattr(chain, "RANGE", 7_000)
    heard.clear()
    assert chain.verify_file(str(db), workers=2, on_progress=heard.append).ok
    assert heard == [7_000, 14_000, 20_001]
