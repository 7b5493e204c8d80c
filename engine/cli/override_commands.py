"""``credit override add / list / approve / revoke``: the expert overrides register, a thin
layer over ``engine.audit.override_register``."""

from __future__ import annotations

import json

import click

from ..audit.override_register import (
    add_override,
    approve_override,
    check_role,
    list_overrides,
    revoke_override,
)
from ..audit.store import AuditStore, default_db_path
from ..ruleset.loader import load_ruleset
from .options import Amount, db_option, default_ruleset, parse_date, ruleset_option
from .output import format_rows, output_options

COLUMNS = ("id", "customer_id", "kind", "value", "by", "role", "approvals", "expires",
           "revoked", "reason")


@click.group("override")
def override() -> None:
    """Expert overrides: propose, approve, revoke, list.

    Examples:

    \b
      credit override add C-000001 --grade BB --reason visit --by ana --role credit_manager
      credit override list
    """


@override.command("add")
@click.argument("customer")
@click.option("--grade", help="Set the grade.")
@click.option("--notches", type=int, help="Move the grade: +1 one better, -1 one worse.")
@click.option("--limit", "limit", type=Amount(), metavar="AMOUNT",
              help="Set the credit limit (a decimal amount, kept exactly).")
@click.option("--limit-cap", type=Amount(), metavar="AMOUNT", help="Cap the credit limit.")
@click.option("--refer", is_flag=True, help="Refer every decision to a person.")
@click.option("--reason", required=True, help="Why (recorded with the override).")
@click.option("--by", required=True, help="Who proposes it.")
@click.option("--role", required=True, help="As which role of the authority matrix.")
@click.option("--expires", callback=parse_date, metavar="DATE", help="Last day it applies.")
@ruleset_option
@db_option
def add_command(customer, grade, notches, limit, limit_cap, refer, reason, by, role,
                expires, ruleset_dir, db_path) -> None:
    """Propose an override for CUSTOMER.

    Give exactly one of --grade, --notches, --limit, --limit-cap, --refer.

    Examples:

    \b
      credit override add C-000001 --grade BB --reason visit --by ana --role credit_manager
      credit override add C-000001 --limit 250000.00 --reason bond --by ana --role credit_manager
    """
    chosen = [(k, v) for k, v in (("grade", grade), ("notches", notches), ("limit", limit),
                                  ("limit_cap", limit_cap), ("refer", refer or None))
              if v is not None]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --grade, --notches, --limit, "
                               "--limit-cap, --refer")
    kind, value = chosen[0]
    ruleset = load_ruleset(ruleset_dir or default_ruleset())
    with AuditStore(db_path or default_db_path()) as store:
        state = add_override(store, customer, kind, True if kind == "refer" else value,
                             reason, by, role, expires, ruleset=ruleset)
    shown = "" if kind == "refer" else state["value"]
    click.echo(f"added {state['id']}: {kind} {shown} for {customer} by {by} "
               f"({role})".replace("  ", " "))


@override.command("approve")
@click.argument("override_id", metavar="ID")
@click.option("--by", required=True, help="Who approves (not the requester).")
@click.option("--role", required=True, help="As which role.")
@ruleset_option
@db_option
def approve_command(override_id, by, role, ruleset_dir, db_path) -> None:
    """Give an override its second approval.

    Examples:

    \b
      credit override approve ov-1a2b3c4d5e --by ben --role credit_committee
    """
    check_role(load_ruleset(ruleset_dir or default_ruleset()), role)
    with AuditStore(db_path or default_db_path(), create=False) as store:
        approve_override(store, override_id, by, role)
    click.echo(f"approved {override_id} by {by} ({role})")


@override.command("revoke")
@click.argument("override_id", metavar="ID")
@click.option("--by", required=True, help="Who withdraws it.")
@db_option
def revoke_command(override_id, by, db_path) -> None:
    """Withdraw an override.

    Examples:

    \b
      credit override revoke ov-1a2b3c4d5e --by ana
    """
    with AuditStore(db_path or default_db_path(), create=False) as store:
        revoke_override(store, override_id, by)
    click.echo(f"revoked {override_id}")


@override.command("list")
@click.option("--customer", help="Only this customer.")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked overrides.")
@db_option
@output_options(streams=True)
def list_command(customer, include_revoked, db_path, fmt) -> None:
    """List overrides in the order they were added.

    Examples:

    \b
      credit override list
      credit override list --customer C-000001 --json
    """
    with AuditStore(db_path or default_db_path(), create=False) as store:
        rows = list_overrides(store, customer, include_revoked)
    if fmt != "json":
        rows = [{**r, "approvals": ", ".join(f"{a['by']} ({a['role']})"
                                             for a in r["approvals"])} for r in rows]
        for line in format_rows(rows, COLUMNS, fmt):
            click.echo(line)
    else:
        click.echo(json.dumps(rows, ensure_ascii=False))
