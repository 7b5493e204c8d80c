"""Security for a customer's credit: collateral, guarantees in our favour and credit
insurance, as ``security_received`` and ``security_released`` events tell them (the same
id received again replaces the security: a new amount, a new expiry, an insurer's new
limit). They arrive as account events rather than a register file because they change in
time (an insurer cuts its limit, a guarantee runs out) and a decision or an order check
must be replayable on what was known on its day: the event log is dated, chained and
already read for every check.

What security **covers** of an amount (an exposure, or a credit limit) on a day: first
the value of the collateral and of the guarantees (at most the amount), then, for credit
insurance, its insured percentage of the lower of the insurer's cover limit for the
customer and the loss left once they are realised: recoveries come off the loss before
the insured percentage applies, as an insurer settles a claim. With collateral of
10,000, insurance of 500,000 at 90% and an exposure of 120,000, the cover is 10,000 +
90% of 110,000 = 109,000 (not 10,000 + 90% of 120,000). Several insurances (rare) pay
in the order they were received, each on the loss the ones before left. A security
covers through its ``expires_on`` day and no longer. Amounts in another currency
than the ruleset's count at the reader's rates, as every other item of the account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

HUNDRED = Decimal(100)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Security:
    """One security as its latest ``security_received`` event gives it."""

    id: str
    kind: str  # collateral, guarantee, credit_insurance
    amount: Decimal  # value; for credit insurance the insurer's cover limit
    currency: str | None  # None: the ruleset's currency
    expires_on: dt.date  # the last day it covers
    received_on: dt.date
    event_id: str
    insured_percent: Decimal | None = None  # credit insurance only
    provider: str | None = None

    def covers_on(self, day: dt.date) -> bool:
        return self.received_on <= day <= self.expires_on

    def days_left(self, day: dt.date) -> int:
        """Days from ``day`` to its expiry (0 on the day itself, negative after)."""
        return (self.expires_on - day).days


Home = Callable[[Decimal, str | None], Decimal]  # an amount in the ruleset's currency


def cover(securities: Iterable[Security], amount: Decimal, day: dt.date,
          home: Home) -> Decimal:
    """What the securities valid on ``day`` cover of ``amount`` (in the ruleset's
    currency, which ``home`` converts each security's amount to; see the module),
    unrounded."""
    if amount <= 0:
        return ZERO
    valid = [security for security in securities if security.covers_on(day)]
    recovered = min(sum((home(s.amount, s.currency) for s in valid
                         if s.kind != "credit_insurance"), ZERO), amount)
    loss = amount - recovered
    for security in valid:
        if security.kind == "credit_insurance" and loss > 0:
            loss -= min(home(security.amount, security.currency), loss) * \
                security.insured_percent / HUNDRED
    return amount - loss


def secured_value(securities: Iterable[Security], day: dt.date, home: Home) -> Decimal:
    """The most the securities valid on ``day`` could pay: collateral and guarantees at
    their value, credit insurance its insured share of its cover limit."""
    total = ZERO
    for security in securities:
        if security.covers_on(day):
            value = home(security.amount, security.currency)
            if security.kind == "credit_insurance":
                value = value * security.insured_percent / HUNDRED
            total += value
    return total
