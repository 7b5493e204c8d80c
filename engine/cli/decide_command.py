"""``credit decide``: one customer, decided (and audited) in one process."""

from __future__ import annotations

import datetime as dt
import json

import click

from ..audit.store import AuditStore, default_db_path
from ..enrich.customer_documents import check_customer, parse_json_document, read_document_text
from ..enrich.plugin_manager import installed_plugins
from ..ruleset.loader import load_ruleset
from ..service import decide_and_record
from .options import (
    as_of_option,
    db_option,
    default_ruleset,
    no_audit_option,
    ruleset_option,
    use_audit_file,
)
from .render import decision_text


@click.command("decide")
@click.argument("customer", metavar="CUSTOMER.json")
@ruleset_option
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@click.option("--trace", "with_trace", is_flag=True, help="List every rule that fired.")
@db_option
@no_audit_option
def decide_command(customer: str, ruleset_dir: str | None, as_of: dt.date | None,
                   as_json: bool, with_trace: bool, db_path: str | None,
                   no_audit: bool) -> None:
    """Decide one customer document (a JSON file, or - for standard input).

    The decision is written to the audit trail unless --no-audit is given. When the
    ruleset names a challenger and the customer is in its split, the challenger decides
    too; its result is shown (not applied) and recorded beside the decision.

    Examples:

    \b
      credit decide examples/customers/bbb-distributor.json --as-of 2026-11-30
      cat customer.json | credit decide - --json --no-audit
    """
    where = "<stdin>" if customer == "-" else customer
    doc = check_customer(parse_json_document(read_document_text(customer), where), where)
    compiled = load_ruleset(ruleset_dir or default_ruleset())
    as_of = as_of or dt.date.today()
    use_audit_file(db_path)
    path = db_path or default_db_path()
    store = None if no_audit else AuditStore(path)
    try:
        recorded = decide_and_record(compiled, doc, as_of, plugins=installed_plugins(),
                                     store=store)
    finally:
        if store is not None:
            store.close()
    for warning in recorded.warnings:
        click.echo(f"credit: warning: {warning}", err=True)
    note = "not audited (--no-audit)" if no_audit else \
        f"audited as record {recorded.seq} in {path}"
    data = recorded.decided.to_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        click.echo(f"credit: {note}", err=True)
    else:
        click.echo(decision_text(data, with_trace=with_trace))
        click.echo(f"Audit      {note}")
