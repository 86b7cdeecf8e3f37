"""Small-number suppression for external outputs, with secondary suppression.

Contract: a count from 1 to ``threshold - 1`` is suppressed (0 is shown): primary
suppression. Then, while some line of cells that add up (a row or column of a table, a
measure across groups and its total, a measure with its "of which" parts) holds exactly
one suppressed cell, the smallest other shown cell in it is suppressed too, preferring
non-zero values, so a total cannot give the hidden value away: secondary suppression.
Cells whose value is None (not applicable) are never touched. Suppression is applied to
external outputs only; metrics themselves are never suppressed.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Literal, TypeVar

from mectk.metrics.measures import MEASURES
from mectk.metrics.records import DEFAULT_SUPPRESSION_THRESHOLD
from mectk.metrics.table import MetricsTable

Number = int | Decimal
K = TypeVar("K", bound=Hashable)
Which = Literal["this_period", "year_to_date"]
Cell = tuple[str, str | None, Which]
"""A cell of a metrics table: (measure ref, group or None for the programme, which value)."""


def primary(value: Number | None, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD) -> bool:
    """Whether ``value`` is a small number (1 to threshold - 1) to suppress."""
    return value is not None and 0 < value < threshold


def suppress_lines(
    values: Mapping[K, Number | None],
    lines: Iterable[Sequence[K]],
    threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
) -> set[K]:
    """The cells of ``values`` to suppress: primary, then secondary along ``lines``."""
    hidden = {k for k, v in values.items() if primary(v, threshold)}
    kept = [list(line) for line in lines]
    changed = True
    while changed:
        changed = False
        for line in kept:
            if sum(k in hidden for k in line) != 1:
                continue
            candidates = []
            for position, key in enumerate(line):
                value = values.get(key)
                if key not in hidden and value is not None:
                    candidates.append((value == 0, value, position))
            if candidates:
                hidden.add(line[min(candidates)[2]])
                changed = True
    return hidden


def suppress_grid(
    grid: Sequence[Sequence[Number | None]],
    threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
    *,
    rows: bool = True,
    columns: bool = True,
) -> list[list[bool]]:
    """Which cells of ``grid`` to suppress, with secondary suppression along rows and columns."""
    values = {(r, c): v for r, row in enumerate(grid) for c, v in enumerate(row)}
    lines: list[list[tuple[int, int]]] = []
    if rows:
        lines.extend([(r, c) for c in range(len(row))] for r, row in enumerate(grid))
    if columns:
        width = max((len(row) for row in grid), default=0)
        lines.extend([(r, c) for r in range(len(grid)) if c < len(grid[r])] for c in range(width))
    hidden = suppress_lines(values, lines, threshold)
    return [[(r, c) in hidden for c in range(len(row))] for r, row in enumerate(grid)]


def suppress_table(
    table: MetricsTable, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD
) -> set[Cell]:
    """The cells of ``table`` an external output must not show.

    Only measures that count people or enterprises (``Measure.suppressible``) are
    suppressed. Secondary lines: each measure across the groups and the programme total,
    and each measure with its "of which" parts (``denominator``) within a group.
    """
    refs = [m.ref for m in MEASURES if m.suppressible and m.ref in _refs(table)]
    groups: list[str | None] = [None, *table.groups]
    hidden: set[Cell] = set()
    for which in ("this_period", "year_to_date"):
        values: dict[Cell, Number | None] = {
            (ref, group, which): getattr(table.row(ref, group), which).value
            for ref in refs
            for group in groups
        }
        lines: list[list[Cell]] = []
        if table.groups:
            lines.extend([(ref, g, which) for g in groups] for ref in refs)
        for parent in {m.denominator for m in MEASURES if m.denominator in refs}:
            family = [parent, *(m.ref for m in MEASURES if m.denominator == parent)]
            lines.extend([(ref, g, which) for ref in family if ref in refs] for g in groups)
        hidden |= suppress_lines(values, lines, threshold)
    return hidden


def _refs(table: MetricsTable) -> set[str]:
    return {row.measure.ref for row in table.rows}
