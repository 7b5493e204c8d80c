"""Built-in plugin ``industry``: industry growth, concentration and risk class, looked up
by the customer's industry code in a reference table shipped as data.

The table is ``plugins/data/industry_reference.csv`` (columns code, sector, growth,
concentration, risk_class); set ``$CREDIT_INDUSTRY_TABLE`` to use your own. A code is
looked up as given, then by ever shorter prefixes ("C25.62" -> "C25.6" -> "C25" -> "C"),
so a table may hold sections, divisions or classes.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from engine.enrich.hookspecs import hookimpl
from engine.enrich.settings import setting

DEFAULT_TABLE = Path(__file__).resolve().parent / "data" / "industry_reference.csv"
NUMBERS = ("growth", "concentration")
_DEFAULT_PATH = str(DEFAULT_TABLE)


def table_path() -> str:
    return setting("CREDIT_INDUSTRY_TABLE") or _DEFAULT_PATH


@functools.lru_cache(maxsize=4)
def _load(path: str) -> dict[str, dict]:
    """The table at ``path``, read once per process (a decision must not see it change
    halfway through a batch)."""
    rows = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            code = (row.get("code") or "").strip().upper()
            if not code:
                raise ValueError(f"{path}:{line}: a row without a code")
            entry = {"sector": row.get("sector") or None,
                     "risk_class": row.get("risk_class") or None}
            for name in NUMBERS:
                text = (row.get(name) or "").strip()
                try:
                    entry[name] = float(text) if text else None
                except ValueError:
                    raise ValueError(f"{path}:{line}: {name} '{text}' is not a number") \
                        from None
            rows[code] = entry
    return rows


def lookup(code: str | None) -> dict | None:
    """The reference row for an industry code (or its nearest parent), or None."""
    if not code:
        return None
    table = _load(table_path())
    key = code.strip().upper()
    while key:
        if key in table:
            return table[key]
        key = key[:-1].rstrip(".")
    return None


@hookimpl
def credit_rules_indicators(customer: dict, wanted: list[str]) -> dict:
    """Growth, concentration, risk class (and sector) of the customer's industry."""
    row = lookup((customer.get("industry") or {}).get("code"))
    if row is None:
        return dict.fromkeys(wanted)
    return {name: row.get(name) for name in wanted}
