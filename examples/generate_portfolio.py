"""Generate a synthetic portfolio of business customers for demos, simulations and benchmarks.

Every customer gets a hidden "quality" (a standard normal draw). It drives the financial
ratios, the payment behaviour with us, the legal events and the early-warning signs, so the
indicators agree with each other the way they do for real counterparties: a strong company
is liquid, profitable, moderately leveraged and pays on time; a weak one is the opposite.
Industries come from a small table of sectors with NACE-like codes, growth, concentration
and a risk class. A few percent of customers have no usable statement, a stale one, a young
business or a parent guarantee; sanctions hits and insolvency proceedings are rare.

Against rulesets/default (as of 2026-11-30) the portfolio spans every grade from AAA to
CCC, roughly bell-shaped around BBB/BB, and every admission outcome (accept, refer, reject).

The output is a CSV whose columns are the dotted paths of the customer document
(schemas/customer.schema.json; an empty cell is a missing value, booleans are true/false),
or with ``--format jsonl`` one customer document per line. Rows are written one at a time,
so a million customers take no more memory than ten. The same seed gives the same bytes.

    python examples/generate_portfolio.py > p.csv               # 1,000 rows, seed 2026
    python examples/generate_portfolio.py --out examples/portfolio.csv   # the shipped one
    python examples/generate_portfolio.py --count 1000000 --out /tmp/big.csv
    python examples/generate_portfolio.py --format jsonl --out /tmp/portfolio.jsonl
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import random
import sys
from collections.abc import Iterator

DEFAULT_SEED = 2026
DEFAULT_COUNT = 1000
DEFAULT_OUT = "-"  # standard output: the shipped portfolio is never overwritten by accident
DEFAULT_AS_OF = "2026-11-30"

# Every field of schemas/customer.schema.json but `attributes` and `$schema`, in its order.
COLUMNS = (
    "id", "name", "country", "legal_form", "founded", "business_line", "requested_amount",
    "exposure.current", "exposure.overdue",
    "financials.period_end", "financials.revenue", "financials.revenue_prior",
    "financials.cost_of_goods_sold", "financials.net_income", "financials.current_assets",
    "financials.inventory", "financials.current_liabilities", "financials.total_assets",
    "financials.total_liabilities", "financials.equity",
    "operating.market_share", "operating.employees",
    "credit_history.months_known", "credit_history.overdue_count_12m",
    "credit_history.overdue_amount", "credit_history.max_days_overdue_12m",
    "credit_history.on_time_payment_ratio",
    "industry.code", "industry.sector", "industry.growth", "industry.concentration",
    "industry.risk_class",
    "flags.insolvency_proceedings", "flags.sanctions_hit", "flags.legal_events_24m",
    "flags.parent_guarantee",
)

# code, sector, industry growth, concentration (CR4), risk class, weight in the portfolio,
# gross margin, inventory turnover (COGS / inventory; None: no inventory to speak of),
# asset turnover (revenue / total assets), a name word.
SECTORS = (
    ("C25.6", "metal products", 0.024, 0.18, "low", 12, 0.30, 5.5, 1.3, "Metalworks"),
    ("C28.4", "machinery", 0.031, 0.38, "low", 10, 0.34, 3.5, 1.1, "Machinery"),
    ("C20.1", "chemicals", 0.012, 0.62, "medium", 6, 0.32, 6.0, 0.9, "Chemicals"),
    ("C10.8", "food processing", 0.018, 0.44, "low", 8, 0.27, 11.0, 1.6, "Foods"),
    ("C22.2", "plastics", -0.006, 0.27, "medium", 7, 0.29, 6.5, 1.2, "Plastics"),
    ("C29.3", "automotive parts", -0.034, 0.76, "high", 7, 0.22, 8.0, 1.3, "Autoparts"),
    ("C31.0", "furniture", -0.021, 0.24, "high", 5, 0.36, 4.5, 1.4, "Furniture"),
    ("F41.2", "construction", 0.004, 0.11, "high", 10, 0.18, None, 1.5, "Construction"),
    ("G46.7", "wholesale", 0.015, 0.21, "medium", 14, 0.16, 7.5, 2.2, "Trading"),
    ("G47.1", "retail", -0.028, 0.48, "very_high", 7, 0.28, 6.0, 2.0, "Retail"),
    ("H49.4", "road freight", 0.009, 0.09, "high", 6, 0.15, None, 1.7, "Logistics"),
    ("J62.0", "it services", 0.058, 0.41, "medium", 8, 0.45, None, 1.8, "Systems"),
)
_SECTOR_WEIGHTS = [s[5] for s in SECTORS]

# country, weight, legal forms
COUNTRIES = (
    ("DE", 30, ("GmbH", "GmbH", "GmbH & Co. KG", "AG")),
    ("AT", 8, ("GmbH", "GmbH", "AG")),
    ("FR", 12, ("SAS", "SARL", "SA")),
    ("NL", 9, ("B.V.", "B.V.", "N.V.")),
    ("BE", 5, ("BV", "NV")),
    ("IT", 10, ("S.r.l.", "S.r.l.", "S.p.A.")),
    ("ES", 7, ("S.L.", "S.L.", "S.A.")),
    ("PL", 7, ("sp. z o.o.", "sp. z o.o.", "S.A.")),
    ("CZ", 4, ("s.r.o.", "a.s.")),
    ("DK", 3, ("ApS", "A/S")),
    ("SE", 3, ("AB",)),
    ("CH", 2, ("AG", "GmbH")),
)
_COUNTRY_WEIGHTS = [c[1] for c in COUNTRIES]

BUSINESS_LINES = ("components", "components", "raw materials", "spare parts",
                  "tooling", "services")

_NAME_FIRST = (
    "Adler", "Alpen", "Baltic", "Berger", "Blau", "Brenner", "Castell", "Delta", "Donau",
    "Eder", "Elbe", "Falk", "Fischer", "Franken", "Gallo", "Garcia", "Hansen", "Harz",
    "Helios", "Horn", "Iber", "Jansen", "Keller", "Kraus", "Lindqvist", "Loire", "Lorenz",
    "Main", "Marino", "Mertens", "Meyer", "Nord", "Novak", "Oder", "Orion", "Peeters",
    "Polaris", "Rhein", "Ricci", "Rossi", "Saale", "Schmid", "Sommer", "Stern", "Sud",
    "Tauber", "Vogel", "Wagner", "Weser", "Winter", "Wolf", "Zeller",
)
_NAME_LINK = ("", "", "", " & Sohn", " & Partner", " Brothers", " Group", " Works")


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's method; fine for the small means used here)."""
    lam = min(lam, 30.0)
    limit = math.exp(-lam)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _clamp(x: float, low: float, high: float) -> float:
    return low if x < low else high if x > high else x


def _euros(x: float) -> int:
    return round(x)


def _cents(x: float) -> float:
    return round(x, 2)


def customers(seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT,
              as_of: dt.date = dt.date(2026, 11, 30)) -> Iterator[dict]:
    """Yield ``count`` customer documents, one at a time, for decisions made ``as_of``."""
    rng = random.Random(seed)
    for n in range(1, count + 1):
        yield _customer(rng, n, as_of)


def _customer(rng: random.Random, n: int, as_of: dt.date) -> dict:
    g = rng.gauss
    q = g(-0.5, 0.7)  # the latent quality: positive is better
    code, sector, ind_growth, concentration, risk, _, gross, turns, asset_turn, word = (
        rng.choices(SECTORS, weights=_SECTOR_WEIGHTS)[0])
    country, _, forms = rng.choices(COUNTRIES, weights=_COUNTRY_WEIGHTS)[0]
    legal_form = rng.choice(forms)
    name = f"{rng.choice(_NAME_FIRST)}{rng.choice(_NAME_LINK)} {word} {legal_form}"

    # -- age: most are established, some are young --------------------------------------
    r = rng.random()
    if r < 0.05:
        age_days = rng.randint(90, 730)  # under two years: referred
    elif r < 0.09:
        age_days = rng.randint(731, 1095)  # two to three years: grade capped at BBB
    else:
        age_days = int(365.25 * min(120.0, 3.0 + rng.expovariate(1 / 18)))
    founded = as_of - dt.timedelta(days=age_days)
    young = age_days <= 1095

    # -- size and financial statement ----------------------------------------------------
    revenue = math.exp(g(15.0, 1.0) + 0.2 * q - (0.9 if young else 0.0))
    revenue = _clamp(revenue, 150_000, 900_000_000)
    growth = ind_growth + 0.035 + 0.06 * q + g(0, 0.09) + (0.25 if young else 0.0)
    growth = _clamp(growth, -0.6, 2.5)
    revenue_prior = revenue / (1 + growth)
    cogs = revenue * _clamp(1 - gross + g(0, 0.03), 0.3, 0.95)
    margin = _clamp(0.028 + 0.025 * q + g(0, 0.022), -0.4, 0.35)
    net_income = revenue * margin
    total_assets = revenue / (asset_turn * math.exp(g(0, 0.25)))
    debt_ratio = 1.2 / (1 + math.exp(-(-0.1 - 0.65 * q + g(0, 0.45))))
    total_liabilities = total_assets * debt_ratio
    current_liabilities = total_liabilities * _clamp(0.55 + g(0, 0.12), 0.25, 0.95)
    current_ratio = math.exp(0.25 + 0.24 * q + g(0, 0.22))
    current_assets = min(current_liabilities * current_ratio, total_assets * 0.95)
    if turns is None:
        inventory = current_assets * _clamp(g(0.03, 0.02), 0.0, 0.2)
        inventory = None if rng.random() < 0.5 else inventory
    else:
        turnover = turns * math.exp(-0.3 + 0.2 * q + g(0, 0.35))
        inventory = min(cogs / turnover, current_assets * 0.8)

    fin: dict = {}
    r = rng.random()
    if r < 0.035 or (young and r < 0.25):
        fin = {}  # no usable statement
    else:
        if r < 0.07:
            period_end = dt.date(as_of.year - 2, 12, 31)  # stale
        elif r < 0.30:
            period_end = dt.date(as_of.year, 6, 30) if as_of.month > 9 else dt.date(
                as_of.year - 1, 12, 31)
        else:
            period_end = dt.date(as_of.year - 1, 12, 31)
        fin = {
            "period_end": period_end.isoformat(),
            "revenue": _euros(revenue),
            "revenue_prior": None if age_days < 730 else _euros(revenue_prior),
            "cost_of_goods_sold": _euros(cogs),
            "net_income": _euros(net_income),
            "current_assets": _euros(current_assets),
            "inventory": None if inventory is None else _euros(inventory),
            "current_liabilities": _euros(current_liabilities),
            "total_assets": _euros(total_assets),
            "total_liabilities": _euros(total_liabilities),
            "equity": _euros(total_assets) - _euros(total_liabilities),
        }
        if rng.random() < 0.03:  # abbreviated accounts: no income statement detail
            fin["cost_of_goods_sold"] = fin["inventory"] = None

    market_share = None
    if rng.random() < 0.9:
        market_share = round(_clamp(math.exp(-4.3 + 0.4 * q + 0.45 * math.log(revenue / 4e6)
                                             + g(0, 0.6)), 0.0002, 0.6), 4)
    employees = max(1, int(revenue / math.exp(g(12.0, 0.35))))

    # -- our own history with the customer -----------------------------------------------
    prospect = rng.random() < (0.35 if young else 0.12)
    history: dict
    overdue_count = 0
    max_days = 0
    if prospect:
        history = {"months_known": 0}
        exposure_current = 0.0
        exposure_overdue = 0.0
    else:
        months_known = min(max(1, age_days // 30), rng.randint(2, 180))
        overdue_count = _poisson(rng, math.exp(0.5 - 0.9 * q + g(0, 0.35)))
        if overdue_count:
            max_days = 1 + int(math.exp(2.8 - 0.7 * q + g(0, 0.55)))
            max_days = min(max_days, 3650)
        invoices = rng.randint(24, 150)  # invoices in the last twelve months
        late = overdue_count * rng.uniform(0.8, 1.6)
        on_time = _clamp(1 - late / invoices - max(0.0, g(0, 0.02)), 0.25, 1.0)
        overdue_amount = 0.0
        if overdue_count:
            overdue_amount = revenue * math.exp(-6.6 - 0.7 * q + g(0, 0.8))
        history = {
            "months_known": months_known,
            "overdue_count_12m": overdue_count,
            "overdue_amount": _euros(overdue_amount),
            "max_days_overdue_12m": max_days,
            "on_time_payment_ratio": round(on_time, 3),
        }
        exposure_current = revenue * math.exp(g(-5.3, 0.5))
        share = 0.0
        if overdue_count:
            share = _clamp(0.06 - 0.10 * q + g(0, 0.08), 0.0, 1.0)
        if max_days > 90:
            share = max(share, rng.uniform(0.2, 0.8))
        exposure_overdue = exposure_current * share
        if rng.random() < 0.04:  # a data feed that does not carry the statistics
            history = {"months_known": months_known}
    requested = round(revenue * math.exp(g(-5.2, 0.6)), -3)

    # -- legal and other flags -----------------------------------------------------------
    legal_events = _poisson(rng, math.exp(-2.7 - 0.9 * q))
    insolvency = rng.random() < 0.04 / (1 + math.exp(1.4 * q))
    sanctions = rng.random() < 0.004
    parent_guarantee = rng.random() < 0.06

    doc: dict = {
        "id": f"C-{n:06d}",
        "name": name,
        "country": country,
        "legal_form": legal_form,
        "founded": founded.isoformat(),
        "business_line": rng.choice(BUSINESS_LINES),
        "requested_amount": int(requested),
        "exposure": {"current": _cents(exposure_current), "overdue": _cents(exposure_overdue)},
        "financials": fin,
        "operating": {"market_share": market_share, "employees": employees},
        "credit_history": history,
        "industry": {"code": code, "sector": sector,
                     "growth": round(ind_growth, 3), "concentration": concentration,
                     "risk_class": risk},
        "flags": {"insolvency_proceedings": insolvency, "sanctions_hit": sanctions,
                  "legal_events_24m": legal_events, "parent_guarantee": parent_guarantee},
    }
    return _prune(doc)


def _prune(doc: dict) -> dict:
    """Drop missing values (None) and the groups left empty."""
    out = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            value = _prune(value)
            if value:
                out[key] = value
        elif value is not None:
            out[key] = value
    return out


def _cell(value: object) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def flatten(doc: dict) -> list[str]:
    """The CSV cells of one customer document, in COLUMNS order."""
    row = []
    for column in COLUMNS:
        value: object = doc
        for part in column.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        row.append(_cell(value))
    return row


def write(docs: Iterator[dict], out, fmt: str) -> int:
    """Write the documents to the open text file ``out``, one row at a time."""
    written = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for doc in docs:
            writer.writerow(flatten(doc))
            written += 1
    else:
        for doc in docs:
            out.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
            written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate a synthetic, seeded portfolio of business customers.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT,
                        help=f"number of customers (default {DEFAULT_COUNT})")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help="output file (default: - , standard output)")
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv",
                        help="csv (dotted-path columns) or jsonl (one document a line)")
    parser.add_argument("--as-of", default=DEFAULT_AS_OF,
                        help=f"decision date the ages and statements are relative to "
                             f"(default {DEFAULT_AS_OF})")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must not be negative")
    try:
        as_of = dt.date.fromisoformat(args.as_of)
    except ValueError:
        parser.error(f"--as-of: '{args.as_of}' is not a date (YYYY-MM-DD)")
    docs = customers(args.seed, args.count, as_of)
    if args.out == "-":
        write(docs, sys.stdout, args.format)
    else:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            write(docs, out, args.format)
    return 0


if __name__ == "__main__":
    sys.exit(main())
