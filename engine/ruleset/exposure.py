"""The exposure stage (``exposure.yaml``): which categories of what a customer owes and has
ordered count against its credit limit, and by what weight."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

# In the order an order's amount moves through them, then what stands beside.
CATEGORIES = ("open_orders", "deliveries_not_invoiced", "invoices_not_posted",
              "open_receivables", "special_liabilities")


@dataclass(frozen=True)
class ExposureCategory:
    """One category: its name, the share of its amount that counts, and for open orders
    how many days ahead an order's delivery date may lie to count."""

    name: str
    weight: Decimal
    horizon_days: int | None = None
    description: str = ""


def compile_exposure(spec: Mapping) -> tuple[ExposureCategory, ...]:
    """The categories of a schema-checked ``exposure.yaml``, in CATEGORIES order; weights
    exact (a YAML 0.1 is the decimal 0.1, never a binary fraction)."""
    categories = spec["categories"]
    return tuple(ExposureCategory(name, Decimal(str(categories[name]["weight"])),
                                  categories[name].get("horizon_days"),
                                  categories[name].get("description", "").strip())
                 for name in CATEGORIES)
