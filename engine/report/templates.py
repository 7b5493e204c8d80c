"""The Jinja2 environment the report's SVG charts and HTML page are written from: the
templates in ``templates/`` beside this module, autoescaped, with the report's number
formats as filters. Jinja2 is imported here only, when a report is made."""

from __future__ import annotations

from decimal import Decimal
from functools import cache


def number(value: object) -> str:
    """A whole number with thousands separators (1,191)."""
    return f"{int(value):,}"


def money(value: object) -> str:
    """An amount with thousands separators and two decimals (34,886,000.00)."""
    return f"{Decimal(str(value)):,.2f}"


def signed_money(value: object) -> str:
    """An amount with its sign, + included (+1,176,000.00; 0.00 has none)."""
    amount = Decimal(str(value))
    return ("+" if amount > 0 else "") + money(amount)


@cache
def environment():
    """The environment (made once a process)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("engine.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["number"] = number
    env.filters["money"] = money
    env.filters["signed_money"] = signed_money
    return env
