"""Writing dunning letters and account statements as files, each recorded in the audit
trail.

Every document is rendered first (a template error stops the run before any file is
written), then written as one file in the output folder, then recorded: one audit record
per document (kind ``letter`` or ``statement``) naming the customer, its day, the step,
the language, the templates and their SHA-256, the file's name, the SHA-256 of its bytes
and the amounts it claims, so that an auditor can prove which letter was sent. A document
has a key (a letter: the collections step it answers; a statement: the customer, its day
and period): one already recorded is not recorded again, nor rendered again while its
file holds the recorded bytes; a missing or altered file is rendered again from the
template its record names and written only when its bytes are the recorded ones. One that
now renders other bytes (a template or the log changed since) is reported and its file
left alone. All of it happens in one write transaction, so two runs at once cannot record
a document twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ..audit.store import AuditStore, NewRecord
from ..canonical import canonical_json
from ..errors import CreditRulesError
from ..monitor.run import log_rates
from ..ruleset.compiler import CompiledRuleset
from .documents import Document, letters_due, statement_key, statements_due
from .templates import Chosen, LetterTemplateError, LetterTemplates, long_date

WRITTEN, RECORDED_BEFORE, DIFFERS = "written", "recorded before", "differs"
NO_TEMPLATE = "no template"  # (and a step's own: "blocked", "nothing due", see documents)


class DunningError(CreditRulesError):
    """Documents that cannot be written where asked."""


@dataclass
class Written:
    """What became of one document: its status (written, recorded before, differs, no
    template, blocked, nothing due), file, digest, language, template and the record's
    number."""

    kind: str
    customer_id: str
    day: dt.date
    document: str
    status: str
    file: str | None = None
    sha256: str | None = None
    language: str | None = None
    template: str | None = None
    note: str | None = None
    fallback: str | None = None  # written in another language than the customer's: why
    seq: int | None = None
    total: str | None = None  # a letter's total due, a statement's balance
    data: bytes | None = field(default=None, repr=False)  # bytes rebuilt for a missing file

    def to_dict(self) -> dict:
        return {"date": self.day.isoformat(), "customer_id": self.customer_id,
                "kind": self.kind, "document": self.document, "status": self.status,
                "language": self.language, "total": self.total, "file": self.file,
                "sha256": self.sha256, "template": self.template, "note": self.note,
                "seq": self.seq}


@dataclass
class WriteReport:
    """Every document considered, in order, and where they went."""

    as_of: dt.date
    out: Path
    documents: list[Written] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(item.status == status for item in self.documents)

    @property
    def differing(self) -> list[Written]:
        return [item for item in self.documents if item.status == DIFFERS]


def write_letters(store: AuditStore, ruleset: CompiledRuleset, ruleset_folder: str | Path,
                  as_of: dt.date, out: str | Path, *, label: str | None = None
                  ) -> WriteReport:
    """Write and record a letter for every collections step taken on or before ``as_of``
    that has none yet, from the templates of ``ruleset_folder`` (``label``: how messages
    name it). A step without a template in any language gets no letter; a customer or
    invoices under a dunning block that day are left out."""
    templates = LetterTemplates(ruleset_folder, label)
    with store.atomic():
        return _write(store, ruleset, templates, letters_due(store, ruleset, as_of),
                      as_of, out)


def write_statements(store: AuditStore, ruleset: CompiledRuleset,
                     ruleset_folder: str | Path, as_of: dt.date, out: str | Path, *,
                     since: dt.date | None = None, label: str | None = None) -> WriteReport:
    """Write and record the account statement on ``as_of`` of every customer with open
    items, unapplied cash or payments since ``since`` (default: the first day of
    ``as_of``'s month)."""
    templates = LetterTemplates(ruleset_folder, label)
    since = since or as_of.replace(day=1)
    if since > as_of:
        raise DunningError(f"the period starts ({since.isoformat()}) after the statement "
                           f"date ({as_of.isoformat()})")
    rates = log_rates(store, ruleset, as_of)
    with store.atomic():
        return _write(store, ruleset, templates,
                      statements_due(store, ruleset, as_of, since, rates), as_of, out)


def _write(store: AuditStore, ruleset: CompiledRuleset, templates: LetterTemplates,
           documents: list[Document], as_of: dt.date, out: str | Path) -> WriteReport:
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise DunningError(f"{out}: not a folder")
    report = WriteReport(as_of, folder)
    recorded = _recorded(store)
    to_write: list[tuple[Written, bytes]] = []
    new: list[tuple[Written, Document, Chosen, bytes]] = []
    for document in documents:
        before = recorded.get(document.key)
        if before is not None:
            item = _recorded_before(document, before, folder, templates, ruleset)
            report.documents.append(item)
            if item.status == RECORDED_BEFORE and item.data is not None:
                to_write.append((item, item.data))
            continue
        status, note = document.skipped or (WRITTEN, None)
        item = Written(document.kind, document.customer.id, document.day, document.document,
                       status, note=note)
        report.documents.append(item)
        if document.skipped:
            continue
        chosen = templates.choose(document.document, document.customer.language)
        if chosen is None:
            item.status, item.note = NO_TEMPLATE, (
                f"no template for {document.document} in {templates.label}")
            continue
        data = templates.render(chosen, _values(document, chosen, ruleset))
        item.language, item.template = chosen.language, chosen.name
        item.note = item.fallback = chosen.fallback
        item.file = _file_name(document, chosen)
        item.sha256 = hashlib.sha256(data).hexdigest()
        item.total = document.amounts.get("total_due", document.amounts.get("balance"))
        new.append((item, document, chosen, data))
        to_write.append((item, data))
    for item, data in to_write:
        _write_file(folder, item.file, data)
    records = [(item, _record(document, chosen, item, data, templates, ruleset))
               for item, document, chosen, data in new]
    if records:
        store.store_ruleset(ruleset)
        for (item, _), (seq, _) in zip(records, store.append(r for _, r in records),
                                       strict=True):
            item.seq = seq
    return report


def _recorded_before(document: Document, before: dict, folder: Path,
                     templates: LetterTemplates, ruleset: CompiledRuleset) -> Written:
    """A document recorded before: left alone when its file holds the recorded bytes; else
    rendered again from the template its record names and written (``data``) only when
    that gives the recorded bytes, reported as differing when not."""
    body = before["body"]
    item = Written(document.kind, document.customer.id, document.day, document.document,
                   RECORDED_BEFORE, file=body["file"], sha256=body["sha256"],
                   language=body.get("language"), template=body.get("template"),
                   fallback=body.get("fallback"), note=body.get("fallback"),
                   seq=before["seq"],
                   total=(body.get("amounts") or {}).get(
                       "total_due", (body.get("amounts") or {}).get("balance")))
    path = folder / item.file
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == item.sha256:
        return item
    recorded = f"record {item.seq} (sha256 {item.sha256[:12]})"
    if document.skipped:
        item.status, item.note = DIFFERS, (
            f"its file is missing or changed and cannot be rebuilt for {recorded}: the "
            f"step is now {document.skipped[0]} ({document.skipped[1]})")
        return item
    chosen = Chosen(body["template"], body["language"], body.get("fallback"))
    try:
        data = templates.render(chosen, _values(document, chosen, ruleset))
    except LetterTemplateError as exc:
        item.status, item.note = DIFFERS, (
            f"its file is missing or changed and cannot be rebuilt for {recorded}: {exc}")
        return item
    if hashlib.sha256(data).hexdigest() != item.sha256:
        item.status, item.note = DIFFERS, (
            f"renders other bytes than {recorded}: a template or the log changed since; "
            "the file is left as it was")
        return item
    item.data = data
    return item


def _write_file(folder: Path, name: str, data: bytes) -> None:
    """Write one document's file (the folder made when missing); one line naming the
    folder when it cannot be."""
    path = folder / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
    except OSError as exc:
        raise DunningError(f"{folder}: cannot write {name} there: "
                           f"{exc.strerror or type(exc).__name__}") from None


def _recorded(store: AuditStore) -> dict[str, dict]:
    """Key -> {seq, body} of every letter and statement recorded (a statement under the
    key of its day and period, as ``statement_key`` makes it)."""
    found = {}
    for row in store.iter_rows(
            "SELECT seq, body FROM records WHERE kind IN ('letter', 'statement') ORDER BY seq"):
        body = json.loads(row["body"])
        key = body["key"]
        if body["kind"] == "statement" and (body.get("amounts") or {}).get("payments_since"):
            key = statement_key(body["customer_id"], dt.date.fromisoformat(body["as_of"]),
                                dt.date.fromisoformat(body["amounts"]["payments_since"]))
        found[key] = {"seq": row["seq"], "body": body}
    return found


def _values(document: Document, chosen: Chosen, ruleset: CompiledRuleset) -> dict:
    """What a template reads: the document (its kind, date, reference, language), the
    customer, the ruleset, and the document's own values."""
    return {**document.values, "customer": document.customer.values(),
            "document": {"kind": document.kind, "name": document.document,
                         "date": document.day, "language": chosen.language,
                         "date_text": long_date(document.day, chosen.language),
                         "reference": _reference(document)},
            "ruleset": {"name": (document.ruleset or ruleset.identity)["name"],
                        "version": (document.ruleset or ruleset.identity)["version"]}}


def _reference(document: Document) -> str:
    """The reference a letter carries: customer, day and document."""
    return f"{document.customer.id}/{document.day.strftime('%Y%m%d')}/{document.document}"


def _file_name(document: Document, chosen: Chosen) -> str:
    """DAY-CUSTOMER-DOCUMENT.EXT, the customer id quoted (it may hold / and :); a statement
    of another period than the month's names its first day (``-statement-from-DAY``)."""
    period = document.values.get("since") if document.kind == "statement" else None
    tail = f"-from-{period.isoformat()}" if period and period != document.day.replace(
        day=1) else ""
    return f"{document.day.isoformat()}-{file_id(document.customer.id)}-" \
           f"{document.document}{tail}{chosen.suffix}"


def file_id(customer_id: str) -> str:
    """The customer id as a file name holds it: URL-quoted, and, when it has a lower-case
    letter, followed by ``~`` and 8 hex digits of its SHA-256, so that ids differing only
    in case (c-1, C-1) never name the same file on a case-insensitive filesystem (ids in
    upper case, as the shipped examples', keep their plain names)."""
    quoted = quote(customer_id, safe="")
    if quoted == quoted.upper():
        return quoted
    return f"{quoted}~{hashlib.sha256(customer_id.encode('utf-8')).hexdigest()[:8]}"


def _record(document: Document, chosen: Chosen, item: Written, data: bytes,
            templates: LetterTemplates, ruleset: CompiledRuleset) -> NewRecord:
    identity = document.ruleset or ruleset.identity  # a letter's: the step's ruleset
    body = {"kind": document.kind, "key": document.key, "customer_id": document.customer.id,
            "as_of": document.day.isoformat(), "document": document.document,
            "language": chosen.language, "asked_language": document.customer.language,
            "template": chosen.name, "templates": templates.digests(chosen),
            "file": item.file, "sha256": item.sha256, "bytes": len(data),
            "amounts": document.amounts, **document.source,
            "ruleset": identity}
    if chosen.fallback:
        body["fallback"] = chosen.fallback
    return NewRecord(document.kind, canonical_json(body), customer_id=document.customer.id,
                     as_of=document.day.isoformat(),
                     outcome=document.document if document.kind == "letter" else None,
                     ruleset_name=identity["name"], ruleset_version=identity["version"],
                     ruleset_hash=identity["hash"])
