"""Train the Zstandard dictionary that format-2 decision bodies are compressed against.

Decides generated customers (examples/generate_portfolio.py, fixed seed) with both shipped
rulesets on two dates through the installed plugins, takes the text each format-2 body
compresses (``decision_body_text``) and trains a dictionary on it. A dictionary's id never
changes meaning: write a new one under a new id (``--id``), add it to
``engine.audit.body_codec.SHIPPED`` with the SHA-256 this prints, and point ``WRITING`` at
it; trails keep the dictionaries they were written with, so old ones stay readable.

    python bench/train_body_dictionary.py --id 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import statistics
import sys
from pathlib import Path

import zstandard

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "examples")]

from generate_portfolio import customers

from engine.audit.decision_records import decision_body_text
from engine.enrich.plugin_manager import installed_plugins
from engine.ruleset.loader import load_ruleset
from engine.service import decide_document

SIZE = 32 * 1024  # bytes; 16 KB gave 7% larger bodies, 64 KB 1% smaller
SALT = b"dictionary training"


def samples(count: int) -> list[bytes]:
    """Body texts of ``count`` customers for each ruleset and date."""
    plugins = installed_plugins()
    texts = []
    for name in ("default", "challenger-example"):
        ruleset = load_ruleset(ROOT / "rulesets" / name)
        for as_of in (dt.date(2025, 12, 31), dt.date(2026, 11, 30)):
            for document in customers(count=count, as_of=as_of):
                decided = decide_document(ruleset, document, as_of, plugins)
                _, text, _ = decision_body_text(decided.decision, SALT,
                                                plugins=decided.plugins,
                                                enriched=decided.enriched,
                                                challenger=decided.challenger)
                texts.append(text.encode("utf-8"))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--id", type=int, required=True, help="the new dictionary's id")
    parser.add_argument("--count", type=int, default=1500)
    args = parser.parse_args()
    texts = samples(args.count)
    trained = zstandard.train_dictionary(SIZE, texts[::2], dict_id=args.id, threads=0)
    content = trained.as_bytes()
    out = ROOT / "engine" / "audit" / f"decision-bodies-{args.id}.zdict"
    out.write_bytes(content)
    compressor = zstandard.ZstdCompressor(level=3, dict_data=trained)
    held_out = texts[1::2]
    print(f"{out.relative_to(ROOT)}: {len(content):,} bytes, sha256 "
          f"{hashlib.sha256(content).hexdigest()}")
    print(f"held-out bodies: {statistics.mean(map(len, held_out)):,.0f} bytes of JSON -> "
          f"{statistics.mean(len(compressor.compress(t)) for t in held_out):,.0f} compressed")


if __name__ == "__main__":
    main()
