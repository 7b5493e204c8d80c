"""Every test gets its own audit file, so no test writes credit-audit.db in the checkout."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def audit_file(tmp_path, monkeypatch):
    """The audit file commands write to unless a test says otherwise ($CREDIT_DB)."""
    path = tmp_path / "audit.db"
    monkeypatch.setenv("CREDIT_DB", str(path))
    return path
