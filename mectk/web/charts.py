"""Bar charts as geometry for inline SVG, drawn on the server (no script, no CDN).

:func:`bar_chart` turns labelled values into bars laid out in a fixed view box; the
``_chart.html`` template draws them. Horizontal bars suit issue codes (long labels);
vertical bars suit quarters.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from attrs import frozen

LABEL_WIDTH = 220
WIDTH = 640
BAR_HEIGHT = 22
GAP = 8
COLUMN_HEIGHT = 180


@frozen
class Bar:
    """One bar: its label, value as shown, geometry and colour class."""

    label: str
    value: str
    x: float
    y: float
    width: float
    height: float
    tone: str


@frozen
class BarChart:
    """A titled chart: its bars, view box and orientation."""

    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    horizontal: bool
    unit: str = ""


def _text(value: float | Decimal) -> str:
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number.quantize(Decimal('0.1')):,}"


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float | Decimal, str]],
    *,
    horizontal: bool = True,
    unit: str = "",
) -> BarChart:
    """Lay out ``items`` (label, value, tone) as bars scaled to the largest value."""
    largest = max((float(v) for _l, v, _t in items), default=0.0) or 1.0
    bars = []
    if horizontal:
        span = WIDTH - LABEL_WIDTH - 60
        for n, (label, value, tone) in enumerate(items):
            y = GAP + n * (BAR_HEIGHT + GAP)
            length = max(float(value) / largest * span, 1.0 if value else 0.0)
            bars.append(Bar(label, _text(value), LABEL_WIDTH, y, length, BAR_HEIGHT, tone))
        height = GAP + len(items) * (BAR_HEIGHT + GAP)
        return BarChart(title, tuple(bars), WIDTH, max(height, 40), True, unit)
    slot = (WIDTH - 40) / max(len(items), 1)
    for n, (label, value, tone) in enumerate(items):
        length = float(value) / largest * (COLUMN_HEIGHT - 30)
        x = 20 + n * slot + slot * 0.2
        bars.append(Bar(label, _text(value), x, COLUMN_HEIGHT - length, slot * 0.6, length, tone))
    return BarChart(title, tuple(bars), WIDTH, COLUMN_HEIGHT + 40, False, unit)
