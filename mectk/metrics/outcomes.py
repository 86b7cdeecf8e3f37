"""Outcome totals by temporal kind: events and flows sum, snapshots take the latest value.

Contract:

* An outcome type's kind comes from ``codelists.schema.json``
  (``$defs.outcome_type["x-kinds"]``), never from code.
* ``event``: values with ``as_at_date`` inside the window are summed.
* ``flow``: values whose ``period_start..period_end`` lies inside the window are summed.
* ``snapshot``: per enterprise and breakdown, the latest value with ``as_at_date`` inside
  the window's last quarter (:func:`~mectk.metrics.windows.snapshot_window`: the whole
  window when it is a quarter or shorter); when there is none, the latest from at most
  :data:`~mectk.metrics.windows.CARRY_FORWARD_DAYS` before the window starts, flagged
  ``carried_forward``. The per-enterprise values are then summed across enterprises,
  never across periods.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Literal

from attrs import frozen

from mectk.metrics.records import Record, day, number
from mectk.metrics.windows import carry_from, snapshot_window
from mectk.periods import Period
from mectk.schemas import load_schema

TemporalKind = Literal["event", "snapshot", "flow"]


@functools.cache
def outcome_kinds() -> Mapping[str, TemporalKind]:
    """outcome_type -> its temporal kind, as the code lists define it."""
    kinds = load_schema("codelists")["$defs"]["outcome_type"]["x-kinds"]
    return {name: value[0] for name, value in kinds.items()}


@frozen
class SnapshotValue:
    """One enterprise's (and breakdown's) snapshot value for a window."""

    enterprise_id: str | None
    breakdown: str | None
    value: Decimal
    as_at: datetime.date
    carried_forward: bool


def snapshot_values(
    outcomes: Iterable[Record],
    outcome_type: str,
    window: Period,
    *,
    breakdown: str | None = None,
) -> list[SnapshotValue]:
    """The snapshot value of each enterprise (and breakdown) for ``window``."""
    _require(outcome_type, "snapshot")
    window = snapshot_window(window)
    earliest = carry_from(window)
    inside: dict[tuple[str | None, str | None], tuple[datetime.date, Decimal]] = {}
    before: dict[tuple[str | None, str | None], tuple[datetime.date, Decimal]] = {}
    for outcome in _of_type(outcomes, outcome_type, breakdown):
        as_at = day(outcome.get("as_at_date"))
        if as_at is None or as_at > window.end or as_at < earliest:
            continue
        key = (outcome.get("enterprise_id"), outcome.get("breakdown"))
        found = inside if as_at >= window.start else before
        if key not in found or found[key][0] <= as_at:
            found[key] = (as_at, number(outcome.get("value")))
    out = []
    for key in sorted(inside.keys() | before.keys(), key=lambda k: (k[0] or "", k[1] or "")):
        carried = key not in inside
        as_at, value = before[key] if carried else inside[key]
        out.append(SnapshotValue(key[0], key[1], value, as_at, carried))
    return out


def summed_values(
    outcomes: Iterable[Record],
    outcome_type: str,
    window: Period,
    *,
    breakdown: str | None = None,
) -> list[tuple[str | None, Decimal]]:
    """(enterprise_id, value) of each event or flow outcome that falls inside ``window``."""
    kind = outcome_kinds().get(outcome_type)
    if kind not in ("event", "flow"):
        msg = f"outcome type {outcome_type!r} is a {kind}, not an event or flow"
        raise ValueError(msg)
    out = []
    for outcome in _of_type(outcomes, outcome_type, breakdown):
        if kind == "event":
            as_at = day(outcome.get("as_at_date"))
            inside = as_at is not None and window.start <= as_at <= window.end
        else:
            start, end = day(outcome.get("period_start")), day(outcome.get("period_end"))
            inside = (
                start is not None
                and end is not None
                and window.start <= start
                and end <= window.end
            )
        if inside:
            out.append((outcome.get("enterprise_id"), number(outcome.get("value"))))
    return out


def outcome_total(
    outcomes: Iterable[Record],
    outcome_type: str,
    window: Period,
    *,
    breakdown: str | None = None,
    include: Callable[[str | None], bool] | None = None,
) -> tuple[Decimal, int]:
    """(total, how many snapshot values were carried forward) for ``window``, by the type's kind.

    ``include`` keeps only the enterprises it accepts.
    """
    keep = include or (lambda _e: True)
    if outcome_kinds().get(outcome_type) == "snapshot":
        values = [
            v
            for v in snapshot_values(outcomes, outcome_type, window, breakdown=breakdown)
            if keep(v.enterprise_id)
        ]
        return sum((v.value for v in values), Decimal(0)), sum(v.carried_forward for v in values)
    summed = summed_values(outcomes, outcome_type, window, breakdown=breakdown)
    return sum((v for e, v in summed if keep(e)), Decimal(0)), 0


def _of_type(
    outcomes: Iterable[Record], outcome_type: str, breakdown: str | None
) -> Iterable[Record]:
    for outcome in outcomes:
        if outcome.get("outcome_type") != outcome_type:
            continue
        if breakdown is not None and outcome.get("breakdown") != breakdown:
            continue
        yield outcome


def _require(outcome_type: str, kind: TemporalKind) -> None:
    found = outcome_kinds().get(outcome_type)
    if found != kind:
        msg = f"outcome type {outcome_type!r} is a {found}, not a {kind}"
        raise ValueError(msg)
