"""The order-time commands: ``credit exposure CUSTOMER`` (a customer's credit exposure by
category), ``credit check-order ORDER.json`` (does a sales order pass), ``credit orders
--blocked`` (the worklist) and ``credit order release / reject``."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import click

from ..audit.store import AuditStore, default_db_path
from ..enrich.customer_documents import parse_json_document, read_document_text
from ..orders.exposure import customer_exposure
from ..orders.groups import define_group, group_members
from ..orders.holds import lift_hold
from ..orders.limit_requests import answer_request, request_limit
from ..orders.order_check import check_order_document, checked_order
from ..orders.releases import blocked_orders, reject_order, release_order
from ..ruleset.loader import load_ruleset
from .options import (
    Amount,
    as_of_option,
    db_option,
    default_ruleset,
    no_audit_option,
    parse_date,
    ruleset_option,
)
from .output import format_rows, output_options

COLUMNS = ("category", "amount", "weight", "counted", "items")
OUTCOMES = {"pass": "PASSED", "block": "BLOCKED", "released": "RELEASED (the checks blocked it)"}
CSV_COLUMNS = ("customer_id", "as_of", "currency", "category", "amount", "weight",
               "horizon_days", "counted", "items")


@click.command("exposure")
@click.argument("customer_id", metavar="CUSTOMER")
@click.option("--as-of", "as_of", metavar="DATE", callback=parse_date,
              help="The day to tell the exposure on, YYYY-MM-DD (default: today); events "
                   "after it do not count.")
@ruleset_option
@db_option
@output_options
def exposure_command(customer_id: str, as_of, ruleset_dir, db_path, fmt: str) -> None:
    """A customer's credit exposure by category, from the event log.

    Open orders due within the ruleset's horizon, deliveries not yet invoiced, invoices
    not yet posted, open receivables and special liabilities, each counted with the
    weight the ruleset's exposure.yaml gives it.

    Examples:

    \b
      credit exposure C-000014 --as-of 2026-11-30
      credit exposure C-000014 --json
    """
    as_of = as_of or dt.date.today()
    exposure, _, ruleset = _on_trail(ruleset_dir, db_path, lambda store, ruleset:
                                     customer_exposure(store, ruleset, customer_id, as_of))
    data = exposure.to_dict()
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    lines = data["categories"]
    if fmt == "csv":
        head = {k: data[k] for k in ("customer_id", "as_of", "currency")}
        rows = [{**head, **line} for line in lines]
        rows.append({**head, "category": "total", "counted": data["total"]})
        for text in format_rows(rows, CSV_COLUMNS, "csv"):
            click.echo(text)
        return
    click.echo(f"Exposure of {exposure.customer_id} as of {as_of.isoformat()}, in "
               f"{exposure.currency} (ruleset {ruleset.name} {ruleset.version})")
    rows = [{**line, "category": _label(line), "amount": _money(line["amount"]),
             "counted": _money(line["counted"])} for line in lines]
    rows.append({"category": "total", "counted": _money(data["total"])})
    for text in format_rows(rows, COLUMNS, "table"):
        click.echo(text)
    if exposure.rates:
        click.echo(f"Converted at {_rates_text(data['rates'])}")


def _rates_text(rates: list[dict]) -> str:
    """``USD 0.92 (exchange_rates, 2026-11-28)``, ... as the rates were recorded."""
    return ", ".join(f"{rate['currency']} {rate['rate'] or 'no rate'}"
                     + (f" ({rate['plugin']}, {rate['on']})" if rate["plugin"] else
                        f" (none on or before {rate['on']})") for rate in rates)


def _on_trail(ruleset_dir: str | None, db_path: str | None, act):
    """``act(store, ruleset)`` on the existing audit file with the ruleset (their
    defaults when not given); returns what it returned, the file's path and the ruleset."""
    ruleset = load_ruleset(ruleset_dir or default_ruleset())
    path = db_path or default_db_path()
    with AuditStore(path, create=False) as store:
        return act(store, ruleset), path, ruleset


def _label(line: dict) -> str:
    name = line["category"].replace("_", " ")
    days = line["horizon_days"]
    return f"{name} (due within {days} days)" if days is not None else name


def _money(text: str) -> str:
    whole, _, cents = text.partition(".")
    return f"{int(whole):,}" + (f".{cents}" if cents else "")


@click.command("check-order")
@click.argument("order_file", metavar="ORDER.json")
@ruleset_option
@as_of_option
@db_option
@no_audit_option
@click.option("--json", "as_json", is_flag=True, help="Print the check as JSON.")
def check_order_command(order_file: str, ruleset_dir, as_of, db_path, no_audit: bool,
                        as_json: bool) -> None:
    """Check a sales order: passed, or blocked with the reasons.

    ORDER.json is a file, or - for standard input. The ruleset's order_check.yaml
    decides, over the customer's exposure with the order, its credit limit (from its
    latest decision), overdue items, review date and holds, as the audit file says on
    the as-of date. The check, with what it saw, is written to the audit trail unless
    --no-audit is given. A blocked order still exits 0: it is an answer, not an error.

    Examples:

    \b
      credit check-order examples/orders/within-limit.json --as-of 2026-11-30
      credit check-order order.json --json --no-audit
    """
    where = "<stdin>" if order_file == "-" else order_file
    ruleset = load_ruleset(ruleset_dir or default_ruleset())
    order = checked_order(parse_json_document(read_document_text(order_file), where), where,
                          ruleset)
    as_of = as_of or dt.date.today()
    path = db_path or default_db_path()
    with AuditStore(path, create=False) as store:
        check, appended = check_order_document(store, ruleset, order, as_of,
                                               record=not no_audit)
    note = "not audited (--no-audit)" if appended is None else \
        f"audited as record {appended[0]} in {path}"
    if as_json:
        click.echo(json.dumps(check.to_dict(), indent=2, ensure_ascii=False))
        click.echo(f"credit: {note}", err=True)
        return
    facts, currency = check.facts, ruleset.currency
    exchange = check.exchange
    amount = "unknown" if facts["order_amount"] is None else \
        f"{_money(format(facts['order_amount'], 'f'))} {currency}"
    if exchange is not None:
        rate = f"at {exchange['rate']} ({exchange['plugin']})" if exchange["rate"] else \
            "(no rate)"
        amount = f"{Decimal(exchange['amount']):,.2f} {exchange['currency']} = {amount} {rate}"
    click.echo(f"Order      {order['id']} of {order['customer_id']}: {amount}, as of "
               f"{as_of.isoformat()}")
    click.echo(f"Outcome    {OUTCOMES[check.outcome]}")
    for index, (code, message, _) in enumerate(check.reasons):
        click.echo(f"{'Reasons' if index == 0 else '':<11}{code}: {message}")
    limit = facts["credit_limit"]
    after = facts["exposure_after"]
    if facts["exposure"] is None:
        line = "Exposure   unknown: a rate is missing"
    else:
        line = (f"Exposure   {_money(format(facts['exposure'], 'f'))} {currency}, with this "
                f"order {'unknown' if after is None else _money(format(after, 'f'))}")
    if limit is not None:
        line += f"; credit limit {_money(format(limit, 'f'))}"
        if facts["over_limit_by"]:
            line += f" (over by {_money(format(facts['over_limit_by'], 'f'))})"
    click.echo(line)
    if check.rates:
        click.echo(f"Rates      {_rates_text(check.rates)}")
    if facts.get("cover"):  # security held: what it covers (shown only where there is some)
        line = (f"Cover      {_money(format(facts['cover'], 'f'))} of the exposure with this "
                f"order (net {_money(format(facts['exposure_net_of_cover'], 'f'))})")
        if facts.get("secured_limit") is not None:
            line += f"; secured limit {_money(format(facts['secured_limit'], 'f'))}"
        click.echo(line)
    if facts.get("group_id") is not None:
        group_after = facts["group_exposure_after"]
        share = facts["group_share"]
        click.echo(f"Group      {facts['group_id']}: {_money(format(facts['group_exposure'], 'f'))}"
                   f", with this order "
                   f"{'unknown' if group_after is None else _money(format(group_after, 'f'))}"
                   f"; group limit {_money(format(facts['group_limit'], 'f'))}"
                   + ("" if share is None else f", this customer's share "
                      f"{_money(format(share, 'f'))}"))
    if check.release is not None:
        release = check.release
        click.echo(f"Release    by {release['by']} ({release['role']}) on {release['as_of']}, "
                   f"valid until {release['valid_until']}: {release['reason']}")
    if check.decision is not None:
        click.echo(f"Decision   {check.decision['decision_id']} of {check.decision['as_of']} "
                   f"(record {check.decision['seq']}), grade {facts['grade']}")
        request = check.decision.get("limit_request")
        if request is not None:
            click.echo(f"Limit      {request['id']}, approved {request['as_of']}, valid until "
                       f"{request['valid_until']}")
    click.echo(f"Audit      {note}")


WORKLIST = ("order_id", "customer_id", "amount", "status", "reasons", "over_limit_by",
            "checked", "valid_until", "check_seq")


@click.command("orders")
@click.option("--blocked", is_flag=True, default=True,
              help="List the orders blocked and waiting (the default, and the only listing "
                   "so far).")
@click.option("--as-of", "as_of", metavar="DATE", callback=parse_date,
              help="The day of the worklist, YYYY-MM-DD (default: today).")
@db_option
@output_options(streams=True)
def orders_command(blocked: bool, as_of, db_path, fmt: str) -> None:
    """The worklist of blocked orders: blocked, awaiting a second release, or expired.

    An order is on it when its latest check blocked it and no release holds: blocked,
    released by one person and awaiting the second above the threshold, or released
    and not shipped in time (check it again).

    Examples:

    \b
      credit orders --blocked --as-of 2026-11-30
      credit orders --csv > blocked.csv
    """
    as_of = as_of or dt.date.today()
    with AuditStore(db_path or default_db_path(), create=False) as store:
        rows = [state.row() for state in blocked_orders(store, as_of)]
    for line in format_rows(rows, WORKLIST, fmt):
        click.echo(line)


@click.group("order")
def order_group() -> None:
    """Release or reject an order the order credit check blocked.

    Examples:

    \b
      credit order release SO-102 --reason "paid in advance" --by ana --role credit_manager
      credit order reject SO-201 --reason "arrears" --by ana --role credit_analyst
    """


def _answer_options(command):
    for option in reversed((
            click.argument("order_id", metavar="ORDER_ID"),
            click.option("--reason", required=True, help="Why (recorded)."),
            click.option("--by", "by", required=True, metavar="NAME", help="Who."),
            click.option("--role", required=True,
                         help="Their role in the ruleset's authority.yaml."),
            click.option("--as-of", "as_of", metavar="DATE", callback=parse_date,
                         help="The day, YYYY-MM-DD (default: today)."),
            ruleset_option, db_option)):
        command = option(command)
    return command


@order_group.command("release")
@_answer_options
def release_command(order_id: str, reason: str, by: str, role: str, as_of, ruleset_dir,
                    db_path) -> None:
    """Release a blocked order, as the ruleset's authority.yaml allows.

    Each role may release orders up to its max_release; above the threshold a second
    person, not the first, must release it too. A release holds for valid_days; an
    order checked again within them passes as released.

    Examples:

    \b
      credit order release SO-102 --reason "paid in advance" --by ana --role credit_manager
    """
    (status, seq), path, _ = _on_trail(ruleset_dir, db_path, lambda store, ruleset:
                                       release_order(store, ruleset, order_id, by=by,
                                                     role=role, reason=reason,
                                                     as_of=as_of or dt.date.today()))
    click.echo(f"{order_id}: {status} by {by} ({role}); audited as record {seq} in {path}")


@order_group.command("reject")
@_answer_options
def reject_command(order_id: str, reason: str, by: str, role: str, as_of, ruleset_dir,
                   db_path) -> None:
    """Reject a blocked order, with the reason.

    Examples:

    \b
      credit order reject SO-201 --reason "arrears" --by ana --role credit_analyst
    """
    seq, path, _ = _on_trail(ruleset_dir, db_path, lambda store, ruleset:
                             reject_order(store, ruleset, order_id, by=by, role=role,
                                          reason=reason, as_of=as_of or dt.date.today()))
    click.echo(f"{order_id}: rejected by {by} ({role}); audited as record {seq} in {path}")


@click.group("limit")
def limit_group() -> None:
    """Ask for a credit limit, and approve or reject the request.

    Examples:

    \b
      credit limit request CUST-10004 --amount 700000 --reason "seasonal peak" --by ana
      credit limit approve LR-17 --by ben --role credit_manager --reason "budget seen"
    """


@limit_group.command("request")
@click.argument("customer_id", metavar="CUSTOMER")
@click.option("--amount", required=True, type=Amount(), help="The limit asked for.")
@click.option("--reason", required=True, help="Why (recorded).")
@click.option("--by", "by", required=True, metavar="NAME", help="Who asks.")
@click.option("--valid-until", "valid_until", metavar="DATE", callback=parse_date,
              help="Until when the limit would hold (default: a year after the as-of date).")
@click.option("--as-of", "as_of", metavar="DATE", callback=parse_date,
              help="The day, YYYY-MM-DD (default: today).")
@ruleset_option
@db_option
def limit_request_command(customer_id: str, amount: str, reason: str, by: str,
                          valid_until, as_of, ruleset_dir, db_path) -> None:
    """Ask for a credit limit: the approval table says who must sign it.

    The limit takes effect only once approved, and holds until its validity date.

    Examples:

    \b
      credit limit request CUST-10004 --amount 700000 --reason "seasonal peak" --by ana
    """
    as_of = as_of or dt.date.today()
    valid_until = valid_until or as_of + dt.timedelta(days=365)
    (request_id, level, seq), path, ruleset = _on_trail(
        ruleset_dir, db_path, lambda store, ruleset: request_limit(
            store, ruleset, customer_id, amount=amount, reason=reason, by=by,
            valid_until=valid_until, as_of=as_of))
    click.echo(f"{request_id}: a limit of {Decimal(amount):,.2f} {ruleset.currency} for "
               f"{customer_id}, to be signed by {level}; audited as record {seq} in {path}")


def _limit_answer(approve: bool):
    def command(request_id: str, by: str, role: str, reason: str, as_of, ruleset_dir,
                db_path) -> None:
        seq, path, _ = _on_trail(ruleset_dir, db_path, lambda store, ruleset: answer_request(
            store, ruleset, request_id, approve=approve, by=by, role=role, reason=reason,
            as_of=as_of or dt.date.today()))
        click.echo(f"{request_id}: {'approved' if approve else 'rejected'} by {by} "
                   f"({role}); audited as record {seq} in {path}")

    for option in reversed((
            click.argument("request_id", metavar="REQUEST_ID"),
            click.option("--by", "by", required=True, metavar="NAME", help="Who."),
            click.option("--role", required=True,
                         help="Their role in the ruleset's authority.yaml."),
            click.option("--reason", required=True, help="Why (recorded)."),
            click.option("--as-of", "as_of", metavar="DATE", callback=parse_date,
                         help="The day, YYYY-MM-DD (default: today)."),
            ruleset_option, db_option)):
        command = option(command)
    return command


limit_group.command("approve", help="""Approve a limit request, as authority.yaml allows.

Another person than the one who asked, at the level the request needs or above, within
their role's max_limit.

Examples:

\b
  credit limit approve LR-17 --by ben --role credit_manager --reason "budget seen"
""")(_limit_answer(approve=True))
limit_group.command("reject", help="""Reject a limit request, with the reason.

Examples:

\b
  credit limit reject LR-17 --by ben --role credit_manager --reason "no budget"
""")(_limit_answer(approve=False))


@click.group("group")
def group_group() -> None:
    """Customer groups: a parent's limit over the sum of its members' exposures.

    Examples:

    \b
      credit group set G-ACME --limit 800000 --member CUST-10004 --member CUST-10005=200000
      credit group show G-ACME --as-of 2026-11-30
    """


def _member(text: str) -> tuple[str, str | None]:
    customer, _, share = text.partition("=")
    if not customer:
        raise click.BadParameter(f"{text!r}: give CUSTOMER or CUSTOMER=SHARE",
                                 param_hint="--member")
    return customer, Amount().convert(share, None, None) if share else None


@group_group.command("set")
@click.argument("group_id", metavar="GROUP_ID")
@click.option("--limit", required=True, type=Amount(), help="The group's credit limit.")
@click.option("--member", "members", required=True, multiple=True, metavar="CUSTOMER[=SHARE]",
              help="A member, and its share of the group's limit if the limit is split.")
@click.option("--by", "by", required=True, metavar="NAME", help="Who.")
@click.option("--reason", required=True, help="Why (recorded).")
@click.option("--as-of", "as_of", metavar="DATE", callback=parse_date,
              help="From which day, YYYY-MM-DD (default: today).")
@ruleset_option
@db_option
def group_set_command(group_id: str, limit: str, members: tuple[str, ...], by: str,
                      reason: str, as_of, ruleset_dir, db_path) -> None:
    """Define a group (or define it anew): its limit and members, each with its share.

    Examples:

    \b
      credit group set G-ACME --limit 800000 --member CUST-10004 --member CUST-10005=200000
    """
    shares = dict(_member(text) for text in members)
    seq, path, ruleset = _on_trail(ruleset_dir, db_path, lambda store, ruleset: define_group(
        store, ruleset, group_id, limit=limit, members=shares, by=by, reason=reason,
        as_of=as_of or dt.date.today()))
    click.echo(f"{group_id}: limit {Decimal(limit):,.2f} {ruleset.currency} over "
               f"{len(shares)} members; audited as record {seq} in {path}")


@group_group.command("show")
@click.argument("group_id", metavar="GROUP_ID")
@click.option("--as-of", "as_of", metavar="DATE", callback=parse_date,
              help="The day, YYYY-MM-DD (default: today).")
@ruleset_option
@db_option
@output_options
def group_show_command(group_id: str, as_of, ruleset_dir, db_path, fmt: str) -> None:
    """A group's members, their exposures and shares, against the group's limit.

    Examples:

    \b
      credit group show G-ACME --as-of 2026-11-30
    """
    as_of = as_of or dt.date.today()
    (rows, group), _, ruleset = _on_trail(ruleset_dir, db_path, lambda store, ruleset:
                                          group_members(store, ruleset, group_id, as_of))
    if fmt == "table":
        total = sum((Decimal(row["exposure"]) for row in rows), Decimal(0))
        click.echo(f"Group {group.id} as of {as_of.isoformat()}: limit "
                   f"{group.limit:,.2f} {ruleset.currency}, exposure {total:,.2f}")
    for line in format_rows(rows, ("customer_id", "exposure", "share"), fmt):
        click.echo(line)


@click.group("hold")
def hold_group() -> None:
    """Lift a credit hold the monitor took, with the reason.

    Examples:

    \b
      credit hold lift CUST-10004 --reason "plan approved" --by ben --role credit_manager
    """


@hold_group.command("lift")
@click.argument("customer_id", metavar="CUSTOMER")
@click.option("--rule", metavar="RULE_ID",
              help="Only the holds this monitoring rule took (default: every open hold).")
@click.option("--reason", required=True, help="Why (recorded).")
@click.option("--by", "by", required=True, metavar="NAME", help="Who.")
@click.option("--role", required=True, help="Their role in the ruleset's authority.yaml.")
@click.option("--as-of", "as_of", metavar="DATE", callback=parse_date,
              help="The day, YYYY-MM-DD (default: today).")
@ruleset_option
@db_option
def hold_lift_command(customer_id: str, rule: str | None, reason: str, by: str, role: str,
                      as_of, ruleset_dir, db_path) -> None:
    """Lift a customer's credit holds by hand, as authority.yaml allows.

    The monitor lifts them from that day on, and order checks no longer see them.

    Examples:

    \b
      credit hold lift CUST-10004 --rule M_INSOLVENCY_FILING --reason "plan approved" \
          --by ben --role credit_manager
    """
    (rules, seq), path, _ = _on_trail(ruleset_dir, db_path, lambda store, ruleset: lift_hold(
        store, ruleset, customer_id, by=by, role=role, reason=reason,
        as_of=as_of or dt.date.today(), rule=rule))
    click.echo(f"{customer_id}: lifted the holds of {', '.join(rules)} by {by} ({role}); "
               f"audited as record {seq} in {path}")
