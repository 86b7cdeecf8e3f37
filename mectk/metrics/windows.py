"""Reporting windows: the period asked for, its financial year to date, and carry-forward.

Contract: the year to date runs from the first day of the financial year that holds the
period's end (``fy_start_month``, April by default) to the period's end. A snapshot may be
carried forward from at most :data:`CARRY_FORWARD_DAYS` before a window starts.
"""

from __future__ import annotations

import datetime

from mectk.periods import Period

CARRY_FORWARD_DAYS = 92
"""About one quarter: how far back a snapshot may be carried into a window."""


def fy_start(day: datetime.date, fy_start_month: int = 4) -> datetime.date:
    """The first day of the financial year holding ``day``."""
    year = day.year if day.month >= fy_start_month else day.year - 1
    return datetime.date(year, fy_start_month, 1)


def year_to_date(period: Period, fy_start_month: int = 4) -> Period:
    """The financial year to date at the end of ``period``."""
    start = fy_start(period.end, fy_start_month)
    first = start.year
    label = f"{first}-{(first + 1) % 100:02d} to {period.end.isoformat()}"
    return Period(label, start, period.end)


def carry_from(window: Period) -> datetime.date:
    """The earliest as-at date a snapshot may be carried forward from into ``window``."""
    return window.start - datetime.timedelta(days=CARRY_FORWARD_DAYS)


def snapshot_window(window: Period) -> Period:
    """The part of ``window`` a snapshot must be dated in to count without carrying forward:
    its last quarter (three calendar months back from the day after its end), or the whole
    window when it is shorter. A snapshot is a value as at the window's end, so in a whole
    year a value from its first quarter has long lapsed."""
    after = window.end + datetime.timedelta(days=1)
    index = after.month - 1 - 3
    quarter_start = datetime.date(after.year + index // 12, index % 12 + 1, 1)
    if after.day != 1:
        quarter_start = window.end - datetime.timedelta(days=CARRY_FORWARD_DAYS - 1)
    return Period(window.label, max(window.start, quarter_start), window.end)
