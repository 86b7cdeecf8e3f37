"""Building what a report receives: :class:`mectk.specs.ReportContext`.

Contract: :func:`report_context` reads the register once and computes the metrics a report
format is given: the period and its year to date (whole programme and by locality), each
quarter of the financial year up to the period's end, the programme settings, localities
and suppression threshold. Reports get this and nothing else of the register.
"""

from __future__ import annotations

import datetime

from mectk.metrics.records import CurrentRecords, load_current
from mectk.metrics.table import compute_measures
from mectk.metrics.windows import fy_start
from mectk.periods import Period
from mectk.register.connect import Db
from mectk.specs import ReportContext, ReportProfile


def fy_quarters(period: Period, fy_start_month: int = 4) -> tuple[Period, ...]:
    """The quarters of the financial year holding the period's end, up to the one holding it."""
    start = fy_start(period.end, fy_start_month)
    out = []
    for n in range(4):
        first = _add_months(start, 3 * n)
        if first > period.end:
            break
        last = _add_months(first, 3) - datetime.timedelta(days=1)
        fy = f"{start.year}-{(start.year + 1) % 100:02d}"
        out.append(Period(f"{fy}-Q{n + 1}", first, last))
    return tuple(out)


def report_context(
    db: Db | CurrentRecords, period: Period, profile: ReportProfile = "external"
) -> ReportContext:
    """Everything a report format is given for ``period``, computed from the register."""
    records = db if isinstance(db, CurrentRecords) else load_current(db)
    quarters = fy_quarters(period, records.fy_start_month)
    return ReportContext(
        period=period,
        metrics=compute_measures(records, period),
        by_locality=compute_measures(records, period, by="locality"),
        quarters=tuple(compute_measures(records, q) for q in quarters),
        programme=records.programme,
        localities={str(loc["locality_id"]): loc for loc in records.of("locality")},
        suppression_threshold=records.suppression_threshold,
        records=records,
        profile=profile,
    )


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.month - 1 + months
    return datetime.date(day.year + index // 12, index % 12 + 1, 1)
