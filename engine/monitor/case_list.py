"""The disputes and promises of accounts on a date, as ``credit cases`` and the monitor's
worklist show them: open cases, and those closed (resolved, withdrawn, refused, kept,
broken or replaced) in the ``CLOSED_KEPT_DAYS`` before the date. Read from the event log
alone, so the listing on a date is the same whenever it is asked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from ..audit.events import customer_events
from ..audit.store import AuditStore
from ..ruleset.compiler import CompiledRuleset
from .account import Account, fold
from .cases import CLOSED_KEPT_DAYS, money_text

CASE_COLUMNS = ("customer_id", "case_id", "kind", "invoice_id", "amount", "currency",
                "date", "owner", "status", "closed_on", "detail")
OPEN_STATUSES = ("open", "open (a part broken)")


def account_cases(account: Account, as_of: dt.date, open_only: bool = False) -> list[dict]:
    """The account's cases on ``as_of`` (see the module), disputes first, each in the
    order it was opened or made; ``open_only``: the open ones alone."""
    since = as_of - dt.timedelta(days=CLOSED_KEPT_DAYS)
    rows = []
    for dispute in account.cases.disputes.values():
        if dispute.open or (not open_only and dispute.closed_on > since):
            invoice = account.invoices.get(dispute.invoice_id)
            rows.append(dispute.to_dict(invoice.open_amount if invoice else None))
    for promise in account.cases.promises.values():
        row = promise.to_dict(as_of)
        closed = dt.date.fromisoformat(row["closed_on"]) if row["closed_on"] else \
            promise.last_date
        if row["status"] in OPEN_STATUSES or (not open_only and closed > since):
            rows.append(row)
    for row in rows:
        row["customer_id"] = account.customer_id
        row["currency"] = row["currency"] or account.currency
    return rows


def list_cases(store: AuditStore, ruleset: CompiledRuleset, as_of: dt.date,
               customer_id: str | None = None) -> list[dict]:
    """Every customer's cases on ``as_of`` from the event log (one customer's with
    ``customer_id``), by customer."""
    query = "SELECT DISTINCT customer_id FROM records WHERE kind = 'event' AND as_of <= ?"
    arguments: list = [as_of.isoformat()]
    if customer_id is not None:
        query += " AND customer_id = ?"
        arguments.append(customer_id)
    rows: list[dict] = []
    for row in store.iter_rows(query + " ORDER BY customer_id", arguments):
        account = fold(row["customer_id"], customer_events(store, row["customer_id"],
                                                           as_of.isoformat()),
                       as_of, ruleset.currency)
        rows.extend(account_cases(account, as_of))
    return rows


def worklist_cases(rows: list[Mapping]) -> str:
    """Open cases in a few words each, for the worklist's table."""
    return "; ".join(
        f"{row['case_id']} {row['kind'].replace('_', ' ')} "
        f"{money_text(Decimal(row['amount'])) if row['amount'] else ''} "
        f"{'since' if row['kind'] == 'dispute' else 'by'} {row['date']} "
        f"{row['owner'] or 'no owner'} {row['status']}" for row in rows)
