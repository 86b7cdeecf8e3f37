"""Reporting periods: UK financial years, their quarters, and explicit date ranges.

``2025-26`` is 1 April 2025 to 31 March 2026; ``2025-26-Q2`` is its second quarter
(Q1 = April to June); ``2025-04-01..2025-06-30`` is an explicit range. A file name may
name a quarter (``CME Tracker 2025-26 Q2.xlsx``): :func:`quarter_in_name` finds it.
"""

from __future__ import annotations

import datetime
import re

from attrs import frozen

from mectk.errors import UsageError

_FY = re.compile(r"(20\d{2})[-/](\d{2})(?:[-_ ]?Q([1-4]))?")
_QUARTER_TOKEN = re.compile(
    r"(?<![0-9A-Za-z])(20\d{2})[/-](\d{2})[ _-]?Q([1-4])(?![0-9A-Za-z])", re.IGNORECASE
)
"""A quarter label (domain.md 2.8) as a token of a longer text such as a file name."""
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")


@frozen
class Period:
    """A closed date range with the label it was given."""

    label: str
    start: datetime.date
    end: datetime.date


def parse_period(text: str, *, fy_start_month: int = 4) -> Period:
    """Parse ``2025-26``, ``2025-26-Q2`` or ``START..END``; a bad period is a UsageError."""
    text = text.strip()
    match = _FY.fullmatch(text)
    if match:
        first, second = int(match[1]), int(match[2])
        if (first + 1) % 100 != second:
            msg = f"'{text}' is not a financial year: {second:02d} does not follow {first}"
            raise UsageError(msg, hint="Write the year as 2025-26.")
        start = datetime.date(first, fy_start_month, 1)
        months = 12
        if match[3]:
            start = _add_months(start, 3 * (int(match[3]) - 1))
            months = 3
        end = _add_months(start, months) - datetime.timedelta(days=1)
        return Period(text, start, end)
    match = _RANGE.fullmatch(text)
    if match:
        try:
            start, end = (datetime.date.fromisoformat(match[i]) for i in (1, 2))
        except ValueError as exc:
            msg = f"'{text}' has a date that does not exist"
            raise UsageError(msg) from exc
        if start > end:
            msg = f"'{text}' ends before it starts"
            raise UsageError(msg)
        return Period(text, start, end)
    msg = f"'{text}' is not a period"
    raise UsageError(msg, hint="Use 2025-26, 2025-26-Q2 or 2025-04-01..2025-06-30.")


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.month - 1 + months
    return datetime.date(day.year + index // 12, index % 12 + 1, 1)


def quarter_in_name(name: str, *, fy_start_month: int = 4) -> Period | None:
    """The financial-year quarter a file name names as a token (``2025-26 Q2``,
    ``2025-26_Q2``, ``2025/26-Q2``, ``2025-26q2``), or None.

    None too when the name names no quarter (a financial year alone, ``2025-26``, dates no
    quarter), when the years do not follow each other, or when it names two different
    quarters. The period's label is the canonical ``2025-26-Q2``.
    """
    found = {
        (int(m[1]), int(m[2]), int(m[3]))
        for m in _QUARTER_TOKEN.finditer(name)
        if (int(m[1]) + 1) % 100 == int(m[2])
    }
    if len(found) != 1:
        return None
    ((first, second, quarter),) = found
    return parse_period(f"{first}-{second:02d}-Q{quarter}", fy_start_month=fy_start_month)
