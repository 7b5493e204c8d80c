"""The report's charts as inline SVG, written from templates (``templates/*.svg.j2``):
horizontal bars for counts and amounts, and a heatmap for grade migration. The geometry
is computed here, the markup is in the templates; nothing is fetched from anywhere."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .templates import environment

WIDTH = 560  # px, the drawing's width
LABEL_WIDTH = 150  # the bars' labels, left
VALUE_WIDTH = 130  # the values, right of the longest bar
BAR_HEIGHT = 20
BAR_GAP = 6
CELL = 46  # px, a heatmap cell
BLUE = "#3b6ea8"


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its length (any unit), the text shown beside it, its colour."""

    label: str
    value: float
    text: str
    colour: str = BLUE


def bars(title: str, items: Sequence[Bar]) -> str:
    """Horizontal bars, longest as wide as the drawing allows."""
    top = max((item.value for item in items), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    rows = [{"bar": item, "y": 4 + index * (BAR_HEIGHT + BAR_GAP),
             "width": round(span * max(item.value, 0) / top, 1)}
            for index, item in enumerate(items)]
    return environment().get_template("bars.svg.j2").render(
        title=title, rows=rows, width=WIDTH, height=8 + len(rows) * (BAR_HEIGHT + BAR_GAP),
        label_width=LABEL_WIDTH, bar_height=BAR_HEIGHT)


def heatmap(title: str, grades: Sequence[str], cells: Sequence[Sequence[int]], *,
            rows_are: str, columns_are: str, neutral: frozenset[str] = frozenset()) -> str:
    """A square matrix of counts (``cells[row][column]``, ``grades`` best first) as shaded
    cells with their numbers: the diagonal in blue, cells above it (a better grade in the
    column) in green, below it in red, and rows or columns named in ``neutral`` (no grade:
    not decided) in grey; the shade grows with the square root of the count, so that a
    handful of movers still shows against hundreds that stayed."""
    top = max((n for row in cells for n in row), default=0) or 1
    left = 14 + 8 * max((len(g) for g in grades), default=3)
    head = 46
    shaded = []
    for r, row in enumerate(cells):
        for c, n in enumerate(row):
            strength = math.sqrt(n / top) if n else 0.0
            hue, saturation = (212 if r == c else (140 if c < r else 2)), 55
            if grades[r] in neutral or grades[c] in neutral:
                saturation = 0
            shaded.append({
                "x": left + c * CELL, "y": head + r * CELL, "n": n, "row": grades[r],
                "column": grades[c],
                "fill": f"hsl({hue}, {saturation}%, {round(97 - 52 * strength)}%)" if n
                else "#f7f7f7",
                "ink": "#ffffff" if strength > 0.55 else "#1d1d1d"})
    size = len(grades) * CELL
    return environment().get_template("heatmap.svg.j2").render(
        title=title, grades=grades, cells=shaded, cell=CELL, left=left, head=head,
        width=left + size + 10, height=head + size + 10, rows_are=rows_are,
        columns_are=columns_are)


def change_bars(title: str, items: Sequence[Bar]) -> str:
    """Bars either side of a zero line: increases to the right in green, decreases to the
    left in red, the longest as long as half the drawing allows."""
    top = max((abs(item.value) for item in items), default=0) or 1
    half = (WIDTH - LABEL_WIDTH - 2 * VALUE_WIDTH) / 2
    zero = LABEL_WIDTH + VALUE_WIDTH + half
    rows = []
    for index, item in enumerate(items):
        length = round(half * abs(item.value) / top, 1)
        rows.append({"bar": item, "y": 4 + index * (BAR_HEIGHT + BAR_GAP), "width": length,
                     "x": zero if item.value >= 0 else zero - length,
                     "colour": "#3f8f4f" if item.value >= 0 else "#b8423a",
                     "text_x": zero + length + 6 if item.value >= 0 else zero - length - 6,
                     "anchor": "start" if item.value >= 0 else "end"})
    height = 8 + len(rows) * (BAR_HEIGHT + BAR_GAP)
    return environment().get_template("change_bars.svg.j2").render(
        title=title, rows=rows, width=WIDTH, height=height, label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT, zero=zero)
