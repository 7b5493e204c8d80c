"""Built-in plugin ``bureau_files``: credit bureau reports read from files, for offline use
and tests.

``$CREDIT_BUREAU_FILES`` names either a folder holding one ``<customer id>.json`` report
per customer, or a CSV file with a ``customer_id`` column and one column per report field.
Without it (or without a report for the customer) the plugin has no report, and the
ruleset's waterfall asks the next bureau.
"""

from __future__ import annotations

import csv
import functools
import json
from pathlib import Path

from engine.enrich.hookspecs import hookimpl
from engine.enrich.settings import setting


def source() -> Path | None:
    value = setting("CREDIT_BUREAU_FILES")
    return Path(value) if value else None


@functools.lru_cache(maxsize=4)
def _csv_reports(path: str, mtime: float) -> dict[str, dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["customer_id"]: {k: _cell(v) for k, v in row.items()
                                     if k != "customer_id"}
                for row in csv.DictReader(handle)}


def _cell(text: str | None):
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


@hookimpl
def credit_rules_bureau_reports(customer: dict) -> dict | None:
    """The stored report for this customer, or None."""
    where = source()
    customer_id = customer.get("id", "")
    if where is None or not customer_id or "/" in customer_id or customer_id.startswith("."):
        return None
    if where.is_dir():
        path = where / f"{customer_id}.json"
        if not path.is_file():
            return None
        report = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(report, dict):
            raise ValueError(f"{path}: a report must be a JSON object")
        return report
    return _csv_reports(str(where), where.stat().st_mtime).get(customer_id)
