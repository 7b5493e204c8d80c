"""A batch packs (compresses) a chunk's records after deciding the whole chunk
(decision_records.UnpackedRecord): each record must be the one made and packed on its
own, byte for byte, and a decision whose values cannot be written must stay that row's
error, never fail the chunk when it is packed."""

from __future__ import annotations

import datetime as dt
import json

from engine.audit.decision_records import decision_record
from engine.batch import RowSettings, decide_rows
from engine.enrich.customer_documents import column_types, document_from_row
from engine.enrich.plugin_manager import installed_plugins
from engine.ruleset.loader import load_ruleset
from engine.service import decide_document
from tests.paths import DEFAULT_RULESET
from tests.sample_customers import strong_customer

AS_OF = dt.date(2025, 12, 31)
SALT = b"packing"


def _cells(customer: dict, prefix: str = "") -> dict[str, str]:
    """A customer as CSV cells by dotted column (empty: missing)."""
    cells = {}
    for key, value in customer.items():
        if isinstance(value, dict):
            cells.update(_cells(value, f"{prefix}{key}."))
        else:
            cells[prefix + key] = json.dumps(value) if not isinstance(value, str) else value
    return cells


CUSTOMERS = [
    strong_customer(id="P-1"),
    strong_customer(id="P-2", name="Łódź Müller & Søn ✓"),  # non-ASCII
    strong_customer(id="P-3", name="bad \ud800 text"),  # a lone surrogate: unwritable
    {**strong_customer(id="P-4"), "founded": "not a date"},  # an input error
    strong_customer(id="P-5", requested_amount=10 ** 15),  # on the schema's maximum
    {k: v for k, v in strong_customer(id="P-6").items() if k != "financials"},  # missing
]
HEADER = list(_cells(CUSTOMERS[0]))
TYPES = column_types(HEADER)


def _rows() -> list[tuple[int, object]]:
    return [(number, [_cells(customer).get(column, "") for column in HEADER])
            for number, customer in enumerate(CUSTOMERS, start=1)]


def _settings(salt: bytes | None) -> RowSettings:
    return RowSettings(AS_OF, TYPES, "p.csv", salt, "batch-1", False)


def test_a_chunks_records_are_the_records_packed_one_at_a_time():
    ruleset = load_ruleset(DEFAULT_RULESET)
    results = decide_rows(ruleset, _rows(), _settings(SALT))
    plugins = installed_plugins()
    kinds = [result[0] for result in results]
    assert kinds == ["ok", "ok", "error", "error", "ok", "ok"]
    for result in results:
        if result[0] != "ok":
            continue
        number, line, record = result[1], result[2], result[6]
        document = document_from_row(dict(_rows())[number], TYPES, "p.csv")
        decided = decide_document(ruleset, document, AS_OF, plugins)
        alone, alone_line = decision_record(
            decided.decision, SALT, batch_id="batch-1", batch_row=number,
            plugins=decided.plugins, enriched=decided.enriched,
            challenger=decided.challenger)
        assert record == alone and tuple(record) == tuple(alone)
        assert record.__class__ is alone.__class__
        assert line == alone_line


def test_an_unwritable_decision_is_its_rows_error_and_the_rest_are_packed():
    ruleset = load_ruleset(DEFAULT_RULESET)
    results = decide_rows(ruleset, _rows(), _settings(SALT))
    by_row = {result[1]: result for result in results}
    assert by_row[3][0] == "error"
    assert "its value cannot be written" in " ".join(by_row[3][3])
    assert by_row[4][0] == "error"
    for number in (1, 2, 5, 6):
        assert by_row[number][0] == "ok"
        assert by_row[number][6].body[:1] == b"\x02"  # a format-2 body: packed


def test_without_an_audit_there_is_no_record_to_pack():
    ruleset = load_ruleset(DEFAULT_RULESET)
    audited = decide_rows(ruleset, _rows(), _settings(SALT))
    plain = decide_rows(ruleset, _rows(), _settings(None))
    assert [r[0] for r in plain] == [r[0] for r in audited]
    for bare, with_record in zip(plain, audited, strict=True):
        if bare[0] == "ok":
            assert bare[6] is None
            assert bare[:6] == with_record[:6] and bare[7] == with_record[7]
