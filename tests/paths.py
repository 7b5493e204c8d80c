"""Where the tests find things: the checkout and the shipped ruleset."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout
DEFAULT_RULESET = ROOT / "rulesets" / "default"  # the ruleset shipped with the engine
