"""Customer groups: customers under one parent, with a group credit limit over the sum of
their exposures, and the limit split across members where a share is given.

A group is defined by an audit record (kind ``group``): its id, its limit, its members and
each one's share of the limit (none: the member draws on the whole). The latest record of
a group on or before a day defines it then; a customer belongs to the group whose latest
definition names it. The order check reads a group's limit, its exposure (the sum of its
members' exposures by the ruleset's categories) and the member's share.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..audit.store import AuditStore
from ..enrich.exchange_rates import Rate, exchange_rates
from ..errors import CreditRulesError
from ..monitor.account import MissingRate
from ..ruleset.compiler import CompiledRuleset
from .accounts import AccountBook
from .exposure import missing_rate_message
from .records import act_record

KIND = "group"


class GroupError(CreditRulesError):
    """A group that cannot be defined as asked (and why)."""


@dataclass(frozen=True)
class Group:
    """A group as its latest definition on a day says it."""

    id: str
    limit: Decimal
    members: dict[str, Decimal | None]  # customer id -> share of the limit (None: all)
    seq: int

    def to_dict(self) -> dict:
        return {"id": self.id, "limit": format(self.limit, "f"), "seq": self.seq,
                "members": {k: None if v is None else format(v, "f")
                            for k, v in self.members.items()}}


def define_group(store: AuditStore, ruleset: CompiledRuleset, group_id: str, *,
                 limit: str, members: dict[str, str | None], by: str, reason: str,
                 as_of: dt.date) -> int:
    """Record a group's definition (replacing an earlier one from ``as_of``); returns the
    record's number."""
    if not members:
        raise GroupError(f"group {group_id} needs at least one member")
    quantum = ruleset.rounding[0]
    total = Decimal(limit).quantize(quantum)
    shares = {member: None if share is None else Decimal(share).quantize(quantum)
              for member, share in members.items()}
    split = sum((s for s in shares.values() if s is not None), Decimal(0))
    if split > total:
        raise GroupError(f"the shares of group {group_id} add up to {split:,.2f}, above its "
                         f"limit of {total:,.2f}")
    for member in shares:
        other = group_of(store, member, as_of)
        if other is not None and other.id != group_id:
            raise GroupError(f"customer {member} is in group {other.id} already")
    body = {"event": "defined", "id": group_id, "limit": format(total, "f"),
            "members": {k: None if v is None else format(v, "f") for k, v in shares.items()},
            "by": by, "reason": reason, "as_of": as_of.isoformat()}
    return store.append([act_record(KIND, body, ruleset)])[0][0]


def group_of(store: AuditStore, customer_id: str, as_of: dt.date) -> Group | None:
    """The group a customer belongs to on ``as_of`` (None: none)."""
    return next((g for g in _groups(store, as_of) if customer_id in g.members), None)


def _groups(store: AuditStore, as_of: dt.date) -> list[Group]:
    """Every group as its latest definition on or before ``as_of`` says it."""
    latest: dict[str, tuple[int, dict]] = {}
    for row in store.iter_rows(
            f"SELECT seq, body FROM records WHERE kind = '{KIND}' AND as_of <= ? "
            "ORDER BY seq", [as_of.isoformat()]):
        body = json.loads(row["body"])
        latest[body["id"]] = (row["seq"], body)
    return [Group(body["id"], Decimal(body["limit"]),
                  {k: None if v is None else Decimal(v) for k, v in body["members"].items()},
                  seq) for seq, body in latest.values()]


def group_exposure(group: Group, accounts: AccountBook, as_of: dt.date,
                   ruleset: CompiledRuleset, rates: Mapping[str, Rate] | None = None
                   ) -> Decimal:
    """The sum of the members' exposures on ``as_of`` (``member_exposures``)."""
    return sum(member_exposures(group, accounts, as_of, ruleset, rates).values(),
               Decimal(0))


def member_exposures(group: Group, accounts: AccountBook, as_of: dt.date,
                     ruleset: CompiledRuleset, rates: Mapping[str, Rate] | None = None
                     ) -> dict[str, Decimal]:
    """Each member's exposure on ``as_of``, as the account book keeps it (``rates``
    convert other currencies; raises MissingRate as ``exposure_of``)."""
    return {member: accounts.exposure(member, as_of, ruleset, rates)[1].total
            for member in group.members}


def group_currencies(group: Group | None, accounts: AccountBook, as_of: dt.date,
                     ruleset: CompiledRuleset) -> set[str]:
    """The other currencies the members' open items are in."""
    if group is None:
        return set()
    return set().union(*(accounts.account(member, as_of, ruleset.currency).currencies()
                         for member in group.members))


def group_members(store: AuditStore, ruleset: CompiledRuleset, group_id: str,
                  as_of: dt.date) -> tuple[list[dict], Group]:
    """Each member of a group with its exposure and share on ``as_of``, and the group."""
    group = next((g for g in _groups(store, as_of) if g.id == group_id), None)
    if group is None:
        raise GroupError(f"no group {group_id} on {as_of.isoformat()}")
    accounts = AccountBook(store)
    rates = exchange_rates(group_currencies(group, accounts, as_of, ruleset),
                           ruleset.currency, as_of)
    try:
        exposures = member_exposures(group, accounts, as_of, ruleset, rates)
    except MissingRate as exc:
        raise GroupError(missing_rate_message(exc.currency, ruleset, as_of)) from None
    rows = [{"customer_id": member, "exposure": format(exposures[member], "f"),
             "share": None if share is None else format(share, "f")}
            for member, share in group.members.items()]
    return rows, group
