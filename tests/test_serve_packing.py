"""The service's writer packs (compresses) a group's decision records together
(writer._pack, body_codec.compress_all): every stored body and body_sha256 must be the
record packed on its own, byte for byte, whatever the group and the text."""

from __future__ import annotations

import datetime as dt
import random

from engine.audit.body_codec import compress, compress_all
from engine.audit.events import event_record
from engine.enrich.plugin_manager import installed_plugins
from engine.ruleset.loader import load_ruleset
from engine.serve.writer import GroupWriter
from engine.service import decide_document
from tests.audit_helpers import rows
from tests.paths import DEFAULT_RULESET
from tests.sample_customers import strong_customer

AS_OF = dt.date(2025, 12, 31)
SALT = b"packing"


def _texts() -> list[bytes]:
    base = b"".join(b'{"grade":"B","limit":"%d","name":"M\xc3\xbcller"}' % n
                    for n in range(20_000))
    noise = random.Random(7).randbytes(70_000)
    return [b"", b"{}", "Łódź Müller & Søn ✓ 😀".encode() * 40, base[:130],
            base[:131_072], base[:131_073], base, noise]


def test_compress_all_gives_each_text_compressed_on_its_own():
    texts = _texts()
    assert compress_all(texts) == [compress(text) for text in texts]
    assert compress_all(texts[2:3]) == [compress(texts[2])]
    assert compress_all([]) == []


def _unpacked_records() -> list:
    ruleset = load_ruleset(DEFAULT_RULESET)
    plugins = installed_plugins()
    customers = [
        strong_customer(id="S-1"),
        strong_customer(id="S-2", name="Łódź Müller & Søn ✓"),  # non-ASCII
        strong_customer(id="S-3", requested_amount=10 ** 15),  # on the schema's maximum
        {k: v for k, v in strong_customer(id="S-4").items() if k != "financials"},
    ]
    return [decide_document(ruleset, customer, AS_OF, plugins).record(SALT, packed=False)[0]
            for customer in customers]


def test_the_writer_stores_unpacked_records_as_packed_on_their_own(tmp_path):
    records = _unpacked_records()
    event = event_record({"id": "E-1", "customer_id": "S-1", "type": "payment_received",
                          "occurred_at": "2025-12-01", "invoice_id": "I-1", "amount": 1})
    db = tmp_path / "a.db"
    writer = GroupWriter(str(db))
    writer.start()
    try:  # one request alone, then several in one group with a record already packed
        futures = [writer.submit([records[0]])]
        futures[0].result(timeout=60)
        futures += [writer.submit(records[1:3]), writer.submit([event]),
                    writer.submit([records[3]])]
        for future in futures:
            future.result(timeout=60)
    finally:
        writer.stop()
    stored = {row["decision_id"]: (row["body"], row["body_sha256"]) for row in rows(
        db, "SELECT decision_id, body, body_sha256 FROM records WHERE kind = 'decision'")}
    assert len(stored) == len(records)
    for record in records:
        packed = record.packed()
        assert stored[record.decision_id] == (packed.body, packed.body_sha256)
    assert len(rows(db, "SELECT seq FROM records WHERE kind = 'event'")) == 1
