"""Computing every standard measure for a period and its year to date.

Contract: :func:`compute_measures` reads the register's current records once and returns a
:class:`MetricsTable` with one row per measure and group: the whole programme (group None)
first, then each group when ``by`` is given. Snapshot measures take their year-to-date
value at the period's end; event and flow measures sum over the year to date; distinct
measures are distinct over it. Values are not suppressed: apply
:func:`mectk.metrics.suppression.suppress_table` before anything leaves the council.

Reading a SQLite register for the standard measures, only what they use is read, in one
pass: enterprise fields are picked out in SQL (``json_extract``), outcome fields are read
from their own columns of ``records`` (schema version 2, no JSON parsed), and
outcomes outside the period's windows are left in the database; the values are the same
as from :func:`~mectk.metrics.records.load_current` (issue 4: 1M outcomes in seconds).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from attrs import frozen

from mectk.metrics.measures import (
    ENTERPRISE_FIELDS,
    MEASURES,
    QUALITY,
    Context,
    GroupBy,
    Measure,
    MetricValue,
)
from mectk.metrics.outcomes import OutcomeRow, outcome_kinds
from mectk.metrics.records import (
    KINDS,
    CurrentRecords,
    Record,
    day,
    latest_only,
    load_current,
    read_current,
)
from mectk.metrics.windows import carry_from, snapshot_window, year_to_date
from mectk.periods import Period
from mectk.register.connect import Db, engine_for, read_connection
from mectk.register.schema import records

ZERO = MetricValue(Decimal(0))
SQL_READ = ("enterprise", "outcome")
"""Kinds the standard measures read field by field in SQL rather than as whole records."""


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
    outcomes: dict[str | None, list[OutcomeRow]] | None = None
    if isinstance(db, CurrentRecords):
        records = db
    elif all(m in MEASURES for m in measures):
        records, outcomes = _load_for_standard(db, period, by)
    else:
        records = load_current(db)
    ctx = Context(records, by, outcomes)
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


def _load_for_standard(
    db: Db, period: Period, by: GroupBy
) -> tuple[CurrentRecords, dict[str | None, list[OutcomeRow]] | None]:
    """The current records the standard measures read for ``period`` and its year to date.

    On SQLite, outcomes are read as rows with their fields picked out in SQL, and only
    those the standard measures can use: dated up to the period's end and no earlier than
    the earliest window start or carry-forward date (any date for :data:`QUALITY`), and
    every flow. Elsewhere every current record is read (:func:`load_current`).
    """
    with engine_for(db, create=False) as engine, read_connection(engine) as connection:
        if connection.dialect.name != "sqlite":
            return read_current(connection), None
        others = read_current(connection, tuple(k for k in KINDS if k not in SQL_READ))
        current = CurrentRecords({**others.by_kind, "enterprise": _enterprises(connection, by)})
        ytd = year_to_date(period, current.fy_start_month)
        lowest = min(
            period.start,
            ytd.start,
            carry_from(snapshot_window(period)),
            carry_from(snapshot_window(ytd)),
        )
        after_end = period.end + datetime.timedelta(days=1)
        return current, _outcome_rows(connection, lowest.isoformat(), after_end.isoformat())


def _enterprises(connection: sa.Connection, by: GroupBy) -> tuple[Record, ...]:
    """Current enterprise records, only their :data:`ENTERPRISE_FIELDS` (SQLite); without
    ``services`` unless grouping by service (nothing else reads it)."""
    data = records.c.data
    fields = [f for f in ENTERPRISE_FIELDS if by == "service" or f != "services"]

    def field(name: str) -> sa.ColumnElement[Any]:
        return sa.func.json_extract(data, f"$.{name}")

    query = (
        sa.select(
            *(field(name) for name in fields),
            sa.func.json_type(data, "$.services") if "services" in fields else sa.null(),
        )
        .where(records.c.kind == "enterprise", latest_only(connection, ("enterprise",)))
        .order_by(records.c.record_id)
    )
    services = fields.index("services") if "services" in fields else -1
    out = []
    for row in _fetch(connection, query):
        found = dict(zip(fields, row[:-1], strict=True))
        kind = row[-1]
        if kind == "array":  # json_extract gives an array as JSON text
            found["services"] = json.loads(row[services])
        elif kind in ("true", "false"):
            found["services"] = kind == "true"
        out.append(found)
    return tuple(out)


def _fetch(connection: sa.Connection, query: sa.Select[Any]) -> Sequence[Any]:
    """All rows of ``query``, straight from the driver: a million rows need no SQLAlchemy
    row processing. Its values are ISO dates and names from code, rendered (quoted) by
    SQLAlchemy."""
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled))
        return cursor.fetchall()
    finally:
        cursor.close()


def _outcome_rows(
    connection: sa.Connection, lowest: str, after_end: str
) -> dict[str | None, list[OutcomeRow]]:
    """Current outcome rows by type, in record order (SQLite: from the outcome columns of
    ``records``, schema version 2), keeping flows and those dated from ``lowest`` to
    before ``after_end`` (any date for QUALITY)."""
    c = records.c
    outcome_type, as_at = c.outcome_type, c.as_at_date
    flows = sorted(t for t, kind in outcome_kinds().items() if kind == "flow")
    is_flow = outcome_type.in_(flows)
    query = (
        sa.select(
            c.enterprise_id,
            c.breakdown,
            as_at,
            # a flow's period only (as the measures read it)
            sa.case((is_flow, c.period_start)),
            sa.case((is_flow, c.period_end)),
            c.value,
            outcome_type,
        )
        .where(
            c.kind == "outcome",
            latest_only(connection, ("outcome",)),
            # the cheap test first: most rows are kept or dropped on their date alone
            sa.or_(
                sa.and_(as_at < after_end, sa.or_(as_at >= lowest, outcome_type == QUALITY)),
                is_flow,
            ),
        )
        .order_by(c.record_id)
    )
    found: list[OutcomeRow] = list(_fetch(connection, query))
    # Dates as ISO text: a row is rewritten only when a date of it is not yet in that form
    # (found once per distinct value).
    dates = {at for r in found for at in r[2:5]}
    odd = {at: _iso_text(at) for at in dates if not _is_iso(at)}
    if odd:
        found = [
            (e, b, odd.get(at, at), odd.get(first, first), odd.get(last, last), v, t)
            for e, b, at, first, last, v, t in found
        ]
    out: dict[str | None, list[OutcomeRow]] = {}
    for row in found:
        rows = out.get(row[6])
        if rows is None:
            rows = out[row[6]] = []
        rows.append(row)
    return out


def _is_iso(value: Any) -> bool:
    """Whether ``value`` is None or ``YYYY-MM-DD`` text (then :func:`_iso_text` keeps it)."""
    if value is None:
        return True
    return type(value) is str and len(value) == 10 and value[4] == "-" and value[7] == "-"


def _iso_text(value: Any) -> str | None:
    """A stored date as ``YYYY-MM-DD`` text, as :func:`~mectk.metrics.records.day` reads it."""
    found = day(value)
    return None if found is None else found.isoformat()


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _period_json(period: Period) -> dict[str, str]:
    return {"label": period.label, "start": period.start.isoformat(), "end": period.end.isoformat()}
