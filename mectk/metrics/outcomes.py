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
from typing import Any, Literal

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
    rows = rows_of(_of_type(outcomes, outcome_type, breakdown))
    found = snapshot_rows(rows, window)
    return [
        SnapshotValue(key[0], key[1], number(raw), datetime.date.fromisoformat(as_at), carried)
        for key, (as_at, raw, carried) in sorted(
            found.items(), key=lambda item: (item[0][0] or "", item[0][1] or "")
        )
    ]


OutcomeRow = tuple[str | None, str | None, str | None, str | None, str | None, Any, Any]
"""An outcome as the metrics read it: (enterprise_id, breakdown, as_at_date, period_start,
period_end, value, outcome_type), dates as ISO ``YYYY-MM-DD`` text (or None), value as stored."""


def _iso(value: Any) -> str | None:
    found = day(value)
    return None if found is None else found.isoformat()


def rows_of(outcomes: Iterable[Record]) -> list[OutcomeRow]:
    """Outcome records as :data:`OutcomeRow` tuples, in the same order."""
    return [
        (
            o.get("enterprise_id"),
            o.get("breakdown"),
            _iso(o.get("as_at_date")),
            _iso(o.get("period_start")),
            _iso(o.get("period_end")),
            o.get("value"),
            o.get("outcome_type"),
        )
        for o in outcomes
    ]


def snapshot_rows(
    rows: Iterable[OutcomeRow], window: Period
) -> dict[tuple[str | None, str | None], tuple[str, Any, bool]]:
    """(enterprise_id, breakdown) -> (as_at ISO, stored value, carried_forward): the
    snapshot value of each for ``window`` (rows of one outcome type, in record order)."""
    window = snapshot_window(window)
    earliest = carry_from(window).isoformat()
    start, end = window.start.isoformat(), window.end.isoformat()
    inside: dict[tuple[str | None, str | None], tuple[str, Any]] = {}
    before: dict[tuple[str | None, str | None], tuple[str, Any]] = {}
    for enterprise_id, part, as_at, _s, _e, value, _t in rows:
        if as_at is None or as_at > end or as_at < earliest:
            continue
        key = (enterprise_id, part)
        found = inside if as_at >= start else before
        old = found.get(key)
        if old is None or old[0] <= as_at:
            found[key] = (as_at, value)
    out = {key: (as_at, value, False) for key, (as_at, value) in inside.items()}
    for key, (as_at, value) in before.items():
        if key not in out:
            out[key] = (as_at, value, True)
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
    rows = rows_of(_of_type(outcomes, outcome_type, breakdown))
    return [(e, number(v)) for e, v in summed_rows(rows, kind, window)]


def summed_rows(
    rows: Iterable[OutcomeRow], kind: TemporalKind, window: Period
) -> list[tuple[str | None, Any]]:
    """(enterprise_id, stored value) of each event or flow row inside ``window``."""
    start, end = window.start.isoformat(), window.end.isoformat()
    if kind == "event":
        return [
            (e, v) for e, _b, at, _s, _e, v, _t in rows if at is not None and start <= at <= end
        ]
    return [
        (e, v)
        for e, _b, _a, first, last, v, _t in rows
        if first is not None and last is not None and start <= first and last <= end
    ]


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
