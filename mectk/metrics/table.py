"""Computing every standard measure for a period and its year to date.

Contract: :func:`compute_measures` reads the register's current records once and returns a
:class:`MetricsTable` with one row per measure and group: the whole programme (group None)
first, then each group when ``by`` is given. Snapshot measures take their year-to-date
value at the period's end; event and flow measures sum over the year to date; distinct
measures are distinct over it. Values are not suppressed: apply
:func:`mectk.metrics.suppression.suppress_table` before anything leaves the council.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from attrs import frozen

from mectk.metrics.measures import MEASURES, Context, GroupBy, Measure, MetricValue
from mectk.metrics.records import CurrentRecords, load_current
from mectk.metrics.windows import year_to_date
from mectk.periods import Period
from mectk.register.connect import Db

ZERO = MetricValue(Decimal(0))


@frozen
class MetricRow:
    """One measure for one group (None: the whole programme)."""

    measure: Measure
    group: str | None
    this_period: MetricValue
    year_to_date: MetricValue

    def as_json(self) -> dict[str, Any]:
        """The row as a JSON object (values as numbers)."""
        return {
            "ref": self.measure.ref,
            "measure": self.measure.title,
            "kind": self.measure.kind,
            "group": self.group,
            "this_period": _json_number(self.this_period.value),
            "year_to_date": _json_number(self.year_to_date.value),
            "carried_forward": {
                "this_period": self.this_period.carried_forward,
                "year_to_date": self.year_to_date.carried_forward,
            },
        }


@frozen
class MetricsTable:
    """Every measure's value for a period and its year to date, overall and by group."""

    period: Period
    year_to_date: Period
    by: GroupBy
    groups: tuple[str, ...]
    rows: tuple[MetricRow, ...]

    def row(self, ref: str, group: str | None = None) -> MetricRow:
        """The row of measure ``ref`` for ``group`` (a group with no records reads 0)."""
        for found in self.rows:
            if found.measure.ref == ref and found.group == group:
                return found
        measure = next((m for m in MEASURES if m.ref == ref), None)
        if measure is None:
            msg = f"no measure {ref!r}"
            raise KeyError(msg)
        return MetricRow(measure, group, ZERO, ZERO)

    def value(self, ref: str, group: str | None = None, *, ytd: bool = False) -> Decimal:
        """The value of measure ``ref`` for the period (or the year to date)."""
        found = self.row(ref, group)
        return (found.year_to_date if ytd else found.this_period).value

    def as_json(self) -> dict[str, Any]:
        """The table as one JSON document."""
        return {
            "period": _period_json(self.period),
            "year_to_date": _period_json(self.year_to_date),
            "by": self.by,
            "groups": list(self.groups),
            "rows": [r.as_json() for r in self.rows],
        }


def compute_measures(
    db: Db | CurrentRecords,
    period: Period,
    *,
    by: GroupBy = None,
    measures: Sequence[Measure] = MEASURES,
) -> MetricsTable:
    """Every measure for ``period`` and its financial year to date, from the register."""
    records = db if isinstance(db, CurrentRecords) else load_current(db)
    ctx = Context(records, by)
    ytd = year_to_date(period, records.fy_start_month)
    computed = []
    for measure in measures:
        now = measure.compute(ctx, period)
        to_date = now if measure.kind == "snapshot" else measure.compute(ctx, ytd)
        computed.append((measure, now, to_date))
    groups: set[str] = set()
    if by == "locality":
        groups.update(str(loc["locality_id"]) for loc in records.of("locality"))
    for _measure, now, to_date in computed:
        groups.update(k for k in (*now, *to_date) if k is not None)
    ordered = tuple(sorted(groups))
    rows = []
    for group in (None, *ordered):
        for measure, now, to_date in computed:
            rows.append(MetricRow(measure, group, now.get(group, ZERO), to_date.get(group, ZERO)))
    return MetricsTable(period, ytd, by, ordered, tuple(rows))


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _period_json(period: Period) -> dict[str, str]:
    return {"label": period.label, "start": period.start.isoformat(), "end": period.end.isoformat()}
