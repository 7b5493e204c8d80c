"""Customers' accounts folded from the event log, kept between order checks and brought up
to date with only the events appended since (and the decisions' policies, read once).

Folding a customer with a thousand open items from its events takes milliseconds; an
order check should take far less. An ``AccountBook`` keeps each account it folded with
the last event record it applied, and on the next check reads only the records after it.
It gives exactly what folding from scratch gives: when an event appended since happened
before one already applied (an event ingested late), or the check is for a day before
the latest event, it folds that customer again from the start.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

from ..audit.events import customer_events
from ..audit.store import AuditStore
from ..enrich.exchange_rates import Rate, known_rates
from ..monitor.account import Account, fold
from ..ruleset.compiler import CompiledRuleset
from .exposure import Exposure, exposure_of


@dataclass
class _Kept:
    account: Account
    last_seq: int  # the highest event record number applied
    last_day: dt.date  # the latest day an applied event happened on


class AccountBook:
    """Accounts of one audit file's customers, folded once and kept up to date."""

    def __init__(self, store: AuditStore):
        self.store = store
        self._kept: dict[str, _Kept] = {}
        self._policies: dict[int, dict] = {}
        # customer -> (state: last event applied, day, ruleset hash, rates; the exposure
        # and the position then)
        self._standings: dict[str, tuple[tuple, Exposure, dict]] = {}

    def exposure(self, customer_id: str, as_of: dt.date, ruleset: CompiledRuleset,
                 rates: Mapping[str, Rate] | None = None) -> tuple[Account, Exposure]:
        """The customer's account on ``as_of`` and its exposure by the ruleset's
        categories (``standing``)."""
        account, exposure, _ = self.standing(customer_id, as_of, ruleset, rates)
        return account, exposure

    def standing(self, customer_id: str, as_of: dt.date, ruleset: CompiledRuleset,
                 rates: Mapping[str, Rate] | None = None
                 ) -> tuple[Account, Exposure, dict]:
        """The customer's account on ``as_of``, its exposure by the ruleset's categories
        and its position (``Account.position``: what is overdue, since when), ``rates``
        converting other currencies; the two are computed once for each state of the
        account, date, ruleset and rates. Raises MissingRate as ``exposure_of``."""
        account = self.account(customer_id, as_of, ruleset.currency)
        state = self._state(customer_id, account, as_of, ruleset, rates)
        cached = self._standings.get(customer_id)
        if state is not None and cached is not None and cached[0] == state:
            return account, cached[1], cached[2]
        exposure = exposure_of(account, as_of, ruleset, rates)
        position = account.position(as_of, rates=known_rates(rates or {}))
        if state is not None:  # one per customer: the latest state, day and ruleset asked
            self._standings[customer_id] = (state, exposure, position)
        return account, exposure, position

    def _state(self, customer_id: str, account: Account, as_of: dt.date,
               ruleset: CompiledRuleset, rates: Mapping[str, Rate] | None) -> tuple | None:
        """What a reading of the kept account depends on; None for an account folded for
        a day before its latest event (not kept, so nothing is cached for it)."""
        kept = self._kept.get(customer_id)
        if kept is None or kept.account is not account:
            return None
        return (kept.last_seq, as_of, ruleset.hash,
                tuple(sorted((rates or {}).items())) if account.currencies() else ())

    def policy(self, decision_row: dict) -> dict:
        """The policy part of a decision record (read once per record: records never
        change)."""
        seq = decision_row["seq"]
        if seq not in self._policies:
            body = self.store.body(decision_row)
            self._policies[seq] = body["decision"].get("policy") or {}
        return self._policies[seq]

    def account(self, customer_id: str, as_of: dt.date, currency: str | None = None
                ) -> Account:
        """The customer's account after every event on or before ``as_of``; ``currency``
        is the ruleset's (see ``Account``)."""
        kept = self._kept.get(customer_id)
        if kept is not None and kept.account.currency != currency:
            kept = None  # kept for a ruleset in another currency: fold again
        if kept is not None:
            newer = sorted(self._events_after(customer_id, kept.last_seq),
                           key=lambda item: (item[1], item[0]))
            if newer and newer[0][1] < kept.last_day:
                kept = None  # an event ingested late changed the past: fold again
            else:
                for _, day, event in newer:
                    kept.account.apply(event)
                    kept.last_day = day
                kept.last_seq = max([kept.last_seq, *(seq for seq, _, _ in newer)])
        if kept is None:
            kept = self._fold(customer_id, currency)
        if as_of < kept.last_day:  # a day before the latest event: fold up to it
            return fold(customer_id, customer_events(self.store, customer_id,
                                                     as_of.isoformat()), as_of, currency)
        return kept.account

    def _fold(self, customer_id: str, currency: str | None) -> _Kept:
        """Fold every event of the customer (in event time, then log order) and keep it."""
        everything = sorted(self._events_after(customer_id, 0),
                            key=lambda item: (item[1], item[0]))
        account = Account(customer_id, currency)
        for _, _, event in everything:
            account.apply(event)
        kept = _Kept(account, max((seq for seq, _, _ in everything), default=0),
                     everything[-1][1] if everything else dt.date.min)
        self._kept[customer_id] = kept
        return kept

    def _events_after(self, customer_id: str, seq: int):
        """(seq, day, event) of the customer's event records after ``seq``, in log order."""
        for row in self.store.iter_rows(
                "SELECT seq, as_of, body FROM records WHERE customer_id = ? AND kind = "
                "'event' AND seq > ? ORDER BY seq", [customer_id, seq]):
            yield row["seq"], dt.date.fromisoformat(row["as_of"]), json.loads(row["body"])
