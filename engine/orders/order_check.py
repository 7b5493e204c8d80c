"""The order credit check: does a sales order pass, or is it blocked, and why.

Checking an order has two steps. Gathering (impure, from the trail): the customer's
exposure on the date (``exposure.py``), its latest credit decision (limit, grade, outcome,
review interval), its overdue items and whether the monitor holds its account; these make
the order facts (``ruleset.order_check.ORDER_FACTS``). Checking (pure): the ruleset's
``order_check.yaml`` over those facts. The record of a check holds the facts and the
exposure snapshot it saw, so replaying it needs nothing but the record and the stored
ruleset.

Amounts in other currencies (the order's, or the open items of the customer and its
group) are converted at the rates the plugins give for the day of the check; the rates are
recorded with the check (``exchange`` for the order, ``rates`` for the accounts). A
currency without a rate blocks the order with NO_EXCHANGE_RATE: what is not known is
not counted as if it were in the ruleset's currency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from ..audit.queries import latest_decision
from ..audit.store import AuditStore, NewRecord
from ..canonical import canonical_json, compact_json, to_jsonable
from ..decide.decision import compact_trace
from ..enrich.customer_documents import InputError
from ..enrich.exchange_rates import Rate, exchange_rates, known_rates
from ..enrich.plugin_manager import Plugins
from ..errors import CreditRulesError
from ..language.expressions import MONEY
from ..language.schema_check import fast_problems
from ..monitor.account import Account
from ..ruleset.compiler import CompiledRuleset
from ..ruleset.order_check import ORDER_FACTS
from .accounts import AccountBook
from .exposure import Exposure, missing_rate_message
from .groups import Group, group_currencies, group_exposure, group_of
from .holds import open_holds
from .limit_requests import effective_limit
from .releases import valid_release

SCHEMA = "order.schema.json"
KIND = "order-check"
ZERO = Decimal(0)
_LOOK_UP = object()  # order_facts' group when the caller has not looked it up


@dataclass
class OrderCheck:
    """A checked order: what it was, what the check saw, and what it said."""

    order: dict
    as_of: dt.date
    facts: dict
    exposure: dict | None  # Exposure.to_dict() before the order (None: a rate is missing)
    decision: dict | None  # {"seq", "decision_id", "as_of"} of the decision the limit is from
    reasons: list[tuple[str, str, str]]
    trace: list = field(default_factory=list)
    ruleset: CompiledRuleset | None = field(default=None, repr=False)
    release: dict | None = None  # a release of this order still holding (releases.py)
    exchange: dict | None = None  # exchange_for(), for an order in another currency
    rates: list[dict] = field(default_factory=list)  # Rate.to_dict() of the accounts'

    @property
    def outcome(self) -> str:
        """pass (no check hit), released (checks hit, a release holds) or block."""
        if not self.reasons:
            return "pass"
        return "released" if self.release is not None else "block"

    def result(self) -> dict:
        """The outcome and reasons, as the record and ``--json`` give them."""
        return {"outcome": self.outcome,
                "reasons": [{"code": code, "message": message}
                            for code, message, _ in self.reasons],
                "release": self.release}

    def to_dict(self) -> dict:
        """The check as JSON-ready data: order, facts, exposure, decision, result."""
        return {"order": self.order, "as_of": self.as_of.isoformat(),
                "facts": to_jsonable(self.facts), "exposure": self.exposure,
                "decision": self.decision, "exchange": self.exchange, **self._rates(),
                **self.result(), "ruleset": self.ruleset.identity if self.ruleset else None}

    def _rates(self) -> dict:
        """The accounts' rates, where there are any (a check all in the ruleset's
        currency records none, as before rates existed)."""
        return {"rates": self.rates} if self.rates else {}

    def record(self) -> NewRecord:
        """The audit record of this check (kind ``order-check``)."""
        ruleset = self.ruleset
        body = (canonical_json({"as_of": self.as_of.isoformat(), "decision": self.decision,
                                "exchange": self.exchange, "exposure": self.exposure,
                                "facts": to_jsonable(self.facts), **self._rates(),
                                "order": self.order, "result": self.result(),
                                "ruleset": ruleset.identity})[:-1]
                + f',"trace":{compact_json(compact_trace(self.trace))}}}')
        return NewRecord(kind=KIND, body=body, customer_id=self.order["customer_id"],
                         as_of=self.as_of.isoformat(), ruleset_name=ruleset.name,
                         ruleset_version=ruleset.version, ruleset_hash=ruleset.hash,
                         outcome=self.outcome)


def checked_order(document: object, where: str, ruleset: CompiledRuleset) -> dict:
    """``document`` when it is a valid order, else InputError naming every problem."""
    problems = fast_problems(document, SCHEMA)
    if problems:
        raise InputError(where, problems)
    return document


def recorded_facts(stored: dict) -> dict:
    """Order facts as a record holds them (amounts as decimal text) back in their types."""
    facts = {name: Decimal(stored[name]) if kind == MONEY and stored.get(name) is not None
             else stored.get(name) for name, kind in ORDER_FACTS.items()}
    facts["group_id"] = stored.get("group_id")
    return facts


def check_order(ruleset: CompiledRuleset, facts: dict, exchange: dict | None = None,
                rates: list[dict] | None = None) -> tuple[list, list]:
    """The order checks over ``facts`` (pure): the reasons of those that hit, and the
    trace. An order in another currency with no ``exchange`` rate, or open items in a
    currency whose entry in ``rates`` has none, block the order for that alone: the
    amounts in the ruleset's currency are not known."""
    if ruleset.order_check is None:
        raise CreditRulesError(f"ruleset {ruleset.name} {ruleset.version} has no order "
                               "checks (stages: order_check: in ruleset.yaml)")
    missing = []
    if exchange is not None and exchange["rate"] is None:
        missing.append(("NO_EXCHANGE_RATE", f"No {exchange['currency']} to "
                        f"{ruleset.currency} exchange rate on or before {exchange['on']}",
                        "order_check"))
    for rate in rates or ():
        if rate["rate"] is None:
            missing.append(("NO_EXCHANGE_RATE", missing_rate_message(
                rate["currency"], ruleset, dt.date.fromisoformat(rate["on"])),
                "order_check"))
    if missing:
        return missing, []
    trace: list = []
    reasons = ruleset.order_check({name: facts.get(name) for name in ORDER_FACTS},
                                  trace.append)
    return reasons, trace


def order_facts(store: AuditStore, ruleset: CompiledRuleset, order: dict, as_of: dt.date,
                accounts: AccountBook | None = None, exchange: dict | None = None,
                rates: dict[str, Rate] | None = None, group: Group | None = _LOOK_UP
                ) -> tuple[dict, Exposure, dict | None]:
    """What the trail says of the order's customer on ``as_of``: the order facts, the
    exposure before the order, and the decision the limit comes from (None: none).
    ``accounts`` keeps folded accounts between checks (one is made for this check when
    not given); ``exchange`` (``exchange_for``) converts an order in another currency,
    ``rates`` (by currency) the open items in other currencies (a missing one raises
    MissingRate); ``group`` is the customer's (``groups.group_of``; looked up when not
    given)."""
    customer_id = order["customer_id"]
    accounts = accounts or AccountBook(store)
    if group is _LOOK_UP:
        group = group_of(store, customer_id, as_of)
    account, exposure, position = accounts.standing(customer_id, as_of, ruleset, rates)
    amount = _in_ruleset_currency(order, exchange, ruleset)
    counted = None if amount is None else \
        _order_counted(order, amount, exposure, as_of, ruleset)
    latest = latest_decision(store, customer_id, as_of)
    effective = effective_limit(store, customer_id, latest, as_of)
    limit = effective.amount
    after = None if counted is None else exposure.total + counted
    facts = {"order_amount": amount, "order_counted": counted, "exposure": exposure.total,
             "exposure_after": after, "credit_limit": limit,
             "available": None if limit is None else limit - exposure.total,
             "over_limit_by": None if limit is None or after is None else
             max(after - limit, ZERO).quantize(ruleset.rounding[0]),
             "days_overdue": position["days_overdue"],
             "overdue_amount": position["overdue_amount"],
             "grade": None, "decision_outcome": None, "days_since_decision": None,
             "review_due": False, "on_hold": bool(open_holds(store, customer_id, as_of)),
             "payment_term_days": None, "limit_expired": effective.expired,
             **_group_facts(customer_id, group, accounts, as_of, ruleset, counted, rates),
             **_cover_facts(account, after, limit, as_of, ruleset, rates)}
    reference = None
    if latest is not None:
        policy = accounts.policy(latest)
        decided_on = dt.date.fromisoformat(latest["as_of"])
        interval = policy.get("review_interval_days")
        facts.update(grade=latest["grade"], decision_outcome=latest["outcome"],
                     days_since_decision=(as_of - decided_on).days,
                     review_due=interval is not None
                     and as_of > decided_on + dt.timedelta(days=interval),
                     payment_term_days=policy.get("payment_term_days"))
        reference = {"seq": latest["seq"], "decision_id": latest["decision_id"],
                     "as_of": latest["as_of"]}
        if effective.source is not None and effective.source["kind"] == "limit request":
            reference["limit_request"] = effective.source
    return facts, exposure, reference


def _cover_facts(account: Account, after: Decimal | None, limit: Decimal | None,
                 as_of: dt.date, ruleset: CompiledRuleset, rates: dict[str, Rate] | None
                 ) -> dict:
    """What the customer's security covers of the exposure with the order, that exposure
    net of it, and the secured part of the limit (None where the amount is not known)."""
    factors = known_rates(rates or {})
    quantum, rounding = ruleset.rounding
    covered = None if after is None else \
        account.cover(after, as_of, factors).quantize(quantum, rounding=rounding)
    return {"cover": covered,
            "exposure_net_of_cover": None if after is None else after - covered,
            "secured_limit": None if limit is None else
            account.cover(limit, as_of, factors).quantize(quantum, rounding=rounding)}


def _group_facts(customer_id: str, group: Group | None, accounts: AccountBook,
                 as_of: dt.date, ruleset: CompiledRuleset, counted: Decimal | None,
                 rates: dict[str, Rate] | None) -> dict:
    """The group facts of the order's customer (all None outside a group)."""
    if group is None:
        return {"group_id": None, "group_limit": None, "group_exposure": None,
                "group_exposure_after": None, "group_share": None}
    total = group_exposure(group, accounts, as_of, ruleset, rates)
    return {"group_id": group.id, "group_limit": group.limit, "group_exposure": total,
            "group_exposure_after": None if counted is None else total + counted,
            "group_share": group.members.get(customer_id)}


def held_currencies(ruleset: CompiledRuleset, customer_id: str, group: Group | None,
                    as_of: dt.date, accounts: AccountBook) -> set[str]:
    """The other currencies than the ruleset's that the open items of the customer, and
    of the members of its group, are in: the rates its exposure needs."""
    currencies = accounts.account(customer_id, as_of, ruleset.currency).currencies()
    return currencies | group_currencies(group, accounts, as_of, ruleset)


def exchange_for(order: dict, ruleset: CompiledRuleset, rates: dict[str, Rate]
                 ) -> dict | None:
    """For an order in another currency than the ruleset's, its conversion as the check
    records it: the currency, the order's own amount, the rate (None: no plugin has one),
    the day and the plugin (``rates`` from ``exchange_rates``). None for an order in
    the ruleset's currency."""
    currency = order.get("currency", ruleset.currency)
    if currency == ruleset.currency:
        return None
    rate = rates[currency]
    return {"currency": currency, "amount": format(Decimal(str(order["amount"])), "f"),
            "rate": None if rate.rate is None else format(rate.rate, "f"),
            "on": rate.on.isoformat(), "plugin": rate.plugin}


def _in_ruleset_currency(order: dict, exchange: dict | None,
                         ruleset: CompiledRuleset) -> Decimal | None:
    """The order's amount in the ruleset's currency, rounded as it rounds amounts (after
    multiplying by the exact rate); None without a rate."""
    if exchange is None:
        return Decimal(str(order["amount"])).quantize(*ruleset.rounding)
    if exchange["rate"] is None:
        return None
    return (Decimal(exchange["amount"]) * Decimal(exchange["rate"])).quantize(
        *ruleset.rounding)


def _order_counted(order: dict, amount: Decimal, exposure: Exposure, as_of: dt.date,
                   ruleset: CompiledRuleset) -> Decimal:
    """What the order adds to the exposure: its amount at the open-orders weight, or
    nothing when its delivery lies beyond the horizon."""
    category = next(line.category for line in exposure.lines
                    if line.category.name == "open_orders")
    delivery = order.get("delivery_date")
    if delivery and dt.date.fromisoformat(delivery) > \
            as_of + dt.timedelta(days=category.horizon_days or 0):
        return ZERO.quantize(ruleset.rounding[0])
    return (amount * category.weight).quantize(*ruleset.rounding)


def check_order_document(store: AuditStore, ruleset: CompiledRuleset, order: dict,
                         as_of: dt.date, *, record: bool = True,
                         accounts: AccountBook | None = None,
                         plugins: Plugins | None = None
                         ) -> tuple[OrderCheck, tuple[int, str] | None]:
    """Check a valid order (``checked_order``) against the trail on ``as_of``; append the
    check to the trail unless not ``record``. Returns the check and its (seq, hash).
    Pass the same ``accounts`` to many checks to fold each account once; ``plugins``
    (default: the installed ones) give exchange rates."""
    accounts = accounts or AccountBook(store)
    group = group_of(store, order["customer_id"], as_of)
    held = held_currencies(ruleset, order["customer_id"], group, as_of, accounts)
    rates = exchange_rates(held | {order.get("currency", ruleset.currency)},
                           ruleset.currency, as_of, plugins)
    exchange = exchange_for(order, ruleset, rates)
    held_rates = {currency: rates[currency] for currency in sorted(held)}
    if any(rate.rate is None for rate in held_rates.values()):
        # The exposure cannot be counted: nothing but the missing rates is checked.
        facts, exposure, decision = dict.fromkeys([*ORDER_FACTS, "group_id"]), None, None
        facts["order_amount"] = _in_ruleset_currency(order, exchange, ruleset)
    else:
        facts, exposure, decision = order_facts(store, ruleset, order, as_of, accounts,
                                                exchange, held_rates, group)
        exposure = exposure.to_dict()
    account_rates = [rate.to_dict() for rate in held_rates.values()]
    reasons, trace = check_order(ruleset, facts, exchange, account_rates)
    # A release is for an order whose amounts were known (not one blocked for a rate).
    release = valid_release(store, order["id"], facts["order_amount"], as_of) \
        if reasons and facts["order_amount"] is not None and exposure is not None else None
    check = OrderCheck(order, as_of, facts, exposure, decision, reasons, trace,
                       ruleset, release, exchange, account_rates)
    if not record:
        return check, None
    store.store_ruleset(ruleset)
    return check, store.append([check.record()])[0]
