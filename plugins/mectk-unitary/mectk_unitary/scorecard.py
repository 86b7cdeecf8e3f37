"""The ``kpi-scorecard`` report: the contract KPI scorecard of domain.md 4.2.

Contract: :func:`write_scorecard` writes one workbook for the financial year holding the
period's end, with a column block per quarter (cumulative targets and actuals, computed
by :func:`mectk.metrics.compute_kpis` from the register's current records):

* ``KPI Scorecard``: title, reporting-period line, the heading row on row 4, one row per
  KPI, RAG-coloured cells, trend and commentary, and a native chart of each KPI's actual
  as a share of its profiled target;
* ``RAG Key`` (the thresholds the programme settings give), ``Exceptions`` (every Amber
  or Red quarter), ``Definitions`` (each KPI's numerator, denominator, source and kind);
* a hidden ``Data`` sheet, one row per KPI and quarter, dates as ISO ``yyyy-mm-dd``.

Percentages are stored as decimals with a % format; dates on the visible sheets are
``dd/mm/yyyy``. In the ``external`` profile small counts are suppressed as the settings
say (:func:`mectk.metrics.suppress_scorecard`), on every sheet.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill

from mectk import ReportContext, UsageError
from mectk.metrics import KpiLine, KpiQuarter, KpiScorecard, compute_kpis, suppress_scorecard
from mectk.reportkit import (
    DATE_FORMAT,
    INTEGER_FORMAT,
    PERCENT_FORMAT,
    add_sheet,
    headings,
    new_workbook,
    put,
    save,
    title_rows,
)

NAME = "kpi-scorecard"
HEADINGS = (
    "KPI Ref",
    "KPI",
    "Measure type",
    "Polarity",
    "Annual Target",
    "Q1 Target (cum)",
    "Q1 Actual (cum)",
    "Q2 Target (cum)",
    "Q2 Actual (cum)",
    "Q3 Target (cum)",
    "Q3 Actual (cum)",
    "Q4 Target (cum)",
    "Q4 Actual (cum)",
    "YTD % of profiled target",
    "RAG",
    "Trend",
    "Commentary",
)
"""The scorecard's heading row (row 4), exactly as domain.md 4.2 lists it."""
EN_DASH = "\u2013"
HEADING_ROW = 4
FIRST_ROW = 5
WIDTHS = (9, 44, 24, 16, 12, 11, 11, 11, 11, 11, 11, 11, 11, 13, 9, 13, 70)
RAG_FILLS = {"green": "C6EFCE", "amber": "FFEB9C", "red": "FFC7CE", "n/a": "EDEDED"}
RAG_LABELS = {"green": "Green", "amber": "Amber", "red": "Red", "n/a": "n/a"}
TREND_LABELS = {
    "improving": "↑ Improving",
    "steady": "→ Steady",
    "worsening": "↓ Worsening",
    "n/a": "n/a",
}
POLARITY_LABELS = {"higher_is_better": "Higher is better", "lower_is_better": "Lower is better"}
FORMATS = {
    "hours": "#,##0.0",
    "gbp": "£#,##0",
    "percent": PERCENT_FORMAT,
}
OWNER = "Programme lead (delivery organisation)"
RECOVERY = "Agree a recovery plan at the next contract review"


def _uk(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def _fy_text(label: str) -> str:
    """``2025-26`` as councils write it: ``2025/26``."""
    return label.replace("-", "/")


def period_line(card: KpiScorecard) -> str:
    """``Reporting period: Q2 2025/26 (01/07/2025-30/09/2025)``, with an en dash."""
    quarter = card.quarters[-1]
    number = quarter.label.rsplit("Q", 1)[-1]
    return (
        f"Reporting period: Q{number} {_fy_text(card.financial_year)} "
        f"({_uk(quarter.start)}{EN_DASH}{_uk(quarter.end)})"
    )


class _Shown:
    """What a cell may show: the value, or the suppression marker."""

    def __init__(self, card: KpiScorecard, context: ReportContext) -> None:
        self.external = context.profile == "external"
        self.threshold = context.suppression_threshold
        self.marker = str(context.programme.get("suppression_marker") or "*")
        self.hidden = suppress_scorecard(card, self.threshold) if self.external else set()

    def is_hidden(self, line: KpiLine, found: KpiQuarter) -> bool:
        return (line.kpi.ref, found.number) in self.hidden

    def actual(self, line: KpiLine, found: KpiQuarter) -> Decimal | str | None:
        return self.marker if self.is_hidden(line, found) else found.actual.value

    def share(self, line: KpiLine, found: KpiQuarter) -> Decimal | str | None:
        return self.marker if self.is_hidden(line, found) else found.percent_of_target


def _fmt(line: KpiLine) -> str:
    return FORMATS.get(line.kpi.unit, INTEGER_FORMAT)


def _fill(cell: Any, rag: str) -> None:
    cell.fill = PatternFill("solid", fgColor=RAG_FILLS[rag])


def _number(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "percent":
        return f"{value * 100:.1f}%"
    if unit == "gbp":
        return f"£{value:,.0f}"
    whole = value == value.to_integral_value()
    return f"{value:,.1f}" if unit == "hours" or not whole else f"{value:,.0f}"


def commentary(line: KpiLine, shown: _Shown) -> str:
    """A sentence on the reporting quarter: actual against profiled target, and notes."""
    latest = line.latest
    unit = line.kpi.unit
    quarter = f"Q{latest.number}"
    if shown.is_hidden(line, latest):
        text = (
            f"{quarter}: a small number (1 to {shown.threshold - 1}), suppressed in this "
            "external output."
        )
    elif latest.actual.value is None:
        text = f"{quarter}: no enterprises in the denominator yet, so no figure."
    elif latest.target is None or latest.target == 0:
        text = f"{quarter}: {_number(latest.actual.value, unit)}; no target set."
    else:
        share = latest.percent_of_target
        text = (
            f"{quarter}: {_number(latest.actual.value, unit)} against a profiled target of "
            f"{_number(latest.target, unit)}"
            + (f" ({share * 100:.1f}% of target)." if share is not None else ".")
        )
    if latest.actual.carried_forward:
        text += (
            f" {latest.actual.carried_forward} enterprise value(s) carried forward from the "
            "previous quarter."
        )
    denominator = latest.actual.denominator
    if line.kpi.kind == "ratio" and denominator is not None and not shown.is_hidden(line, latest):
        text += f" {latest.actual.numerator:,.0f} of {denominator:,.0f} enterprises."
    return text


def _scorecard_sheet(workbook: Any, card: KpiScorecard, context: ReportContext) -> Any:
    sheet = add_sheet(workbook, "KPI Scorecard")
    council = (context.programme.get("council") or {}).get("name") or "Council"
    title_rows(
        sheet,
        f"{council}: Micro-enterprise Contract KPI Scorecard FY {_fy_text(card.financial_year)}",
        period_line(card),
    )
    headings(sheet, HEADING_ROW, HEADINGS, WIDTHS)
    shown = _Shown(card, context)
    for offset, line in enumerate(card.lines):
        row = FIRST_ROW + offset
        kpi = line.kpi
        fmt = _fmt(line)
        put(sheet, row, 1, kpi.ref)
        put(sheet, row, 2, kpi.title)
        put(sheet, row, 3, kpi.measure_type)
        put(sheet, row, 4, POLARITY_LABELS[line.polarity])
        annual = line.annual_target
        if annual is not None and kpi.kind == "ratio":
            annual = annual / 100
        put(sheet, row, 5, annual, fmt)
        by_number = {q.number: q for q in line.quarters}
        for number in (1, 2, 3, 4):
            column = 6 + 2 * (number - 1)
            found = by_number.get(number)
            put(sheet, row, column, line.quarter_targets[number - 1], fmt)
            if found is not None:
                cell = put(sheet, row, column + 1, shown.actual(line, found), fmt)
                _fill(cell, found.rag)
        latest = line.latest
        put(sheet, row, 14, shown.share(line, latest), PERCENT_FORMAT)
        rag_cell = put(sheet, row, 15, RAG_LABELS[latest.rag])
        _fill(rag_cell, latest.rag)
        rag_cell.font = Font(bold=True)
        put(sheet, row, 16, TREND_LABELS[line.trend])
        note = put(sheet, row, 17, commentary(line, shown))
        note.alignment = Alignment(wrap_text=True, vertical="top")
    last = FIRST_ROW + len(card.lines) - 1
    notes = last + 2
    put(sheet, notes, 1, "Cumulative KPIs count from 1 April; snapshot and ratio KPIs are levels "
        "at each quarter end. Percentages are of the profiled target.")  # fmt: skip
    if shown.external:
        put(
            sheet,
            notes + 1,
            1,
            f"{shown.marker} = suppressed: counts from 1 to {shown.threshold - 1} "
            "(and changes between quarters that would reveal one).",
        )
    sheet.freeze_panes = sheet.cell(row=FIRST_ROW, column=3)
    _chart(sheet, len(card.lines), notes + 3)
    return sheet


def _chart(sheet: Any, count: int, anchor_row: int) -> None:
    chart = BarChart()
    chart.type = "bar"
    chart.title = "YTD actual as % of profiled target"
    chart.y_axis.title = "% of profiled target"
    chart.y_axis.numFmt = "0%"
    chart.legend = None
    data = Reference(sheet, min_col=14, min_row=HEADING_ROW, max_row=HEADING_ROW + count)
    labels = Reference(sheet, min_col=1, min_row=FIRST_ROW, max_row=HEADING_ROW + count)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(labels)
    chart.height, chart.width = 9, 18
    sheet.add_chart(chart, f"B{anchor_row}")


def _rag_key(workbook: Any, card: KpiScorecard) -> None:
    sheet = add_sheet(workbook, "RAG Key")
    t = card.thresholds
    title_rows(sheet, "RAG key", "Thresholds from the programme settings.")
    headings(sheet, 4, ("RAG", "Counts, amounts and levels", "Ratios (%)"), (10, 60, 60))
    rows = (
        ("green", f"At least {t.green_pct:g}% of the profiled target",
         "At or above the target"),
        ("amber", f"{t.amber_pct:g}% to under {t.green_pct:g}% of the profiled target",
         f"Below the target by at most {t.amber_pp:g} percentage points"),
        ("red", f"Under {t.amber_pct:g}% of the profiled target",
         f"More than {t.amber_pp:g} percentage points below the target"),
        ("n/a", "No target, or a target of 0", "No target, or no enterprises to count"),
    )  # fmt: skip
    for offset, (rag, counts, ratios) in enumerate(rows, start=5):
        _fill(put(sheet, offset, 1, RAG_LABELS[rag]), rag)
        put(sheet, offset, 2, counts)
        put(sheet, offset, 3, ratios)
    put(sheet, 10, 1, "Polarity 'Lower is better': the share is inverted (target / actual); "
        "for ratios, the points are counted above the target.")  # fmt: skip
    put(sheet, 11, 1, "Quarterly targets: the annual target x 25%, 50%, 75%, 100% for "
        "cumulative KPIs unless the settings profile them; snapshot and ratio KPIs have "
        "level targets.")  # fmt: skip


def _exceptions(workbook: Any, card: KpiScorecard, shown: _Shown) -> None:
    sheet = add_sheet(workbook, "Exceptions")
    columns = ("KPI Ref", "Quarter", "RAG", "Reason", "Recovery action", "Owner (role)",
               "Due date")  # fmt: skip
    headings(sheet, 1, columns, (9, 10, 9, 70, 45, 36, 12))
    row = 2
    for line in card.lines:
        for found in line.quarters:
            if found.rag not in ("amber", "red"):
                continue
            put(sheet, row, 1, line.kpi.ref)
            put(sheet, row, 2, f"Q{found.number}")
            _fill(put(sheet, row, 3, RAG_LABELS[found.rag]), found.rag)
            put(sheet, row, 4, _reason(line, found, shown))
            put(sheet, row, 5, RECOVERY)
            put(sheet, row, 6, OWNER)
            put(sheet, row, 7, _due(found.quarter.end), DATE_FORMAT)
            row += 1
    if row == 2:
        put(sheet, 2, 1, "No KPI is Amber or Red.")
    sheet.freeze_panes = "A2"


def _reason(line: KpiLine, found: KpiQuarter, shown: _Shown) -> str:
    unit = line.kpi.unit
    target = _number(found.target, unit)
    if shown.is_hidden(line, found):
        return f"Below the profiled target of {target} (actual suppressed: a small number)."
    actual = _number(found.actual.value, unit)
    if line.kpi.kind == "ratio" and found.actual.value is not None and found.target is not None:
        gap = (found.actual.value - found.target) * 100
        return f"{actual} against a target of {target}: {gap:+.1f} percentage points."
    share = found.percent_of_target
    pct = f" ({share * 100:.1f}%)" if share is not None else ""
    return f"{actual} against a profiled target of {target}{pct}."


def _due(quarter_end: datetime.date) -> datetime.date:
    """The end of the month after the next quarter's first month: the next return."""
    month = quarter_end.month + 2
    year = quarter_end.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return following - datetime.timedelta(days=1)


def _definitions(workbook: Any, card: KpiScorecard) -> None:
    sheet = add_sheet(workbook, "Definitions")
    columns = ("KPI Ref", "KPI", "Numerator", "Denominator", "Source entity and fields",
               "Temporal kind", "Polarity", "Measure type")  # fmt: skip
    headings(sheet, 1, columns, (9, 40, 60, 45, 60, 12, 16, 24))
    for row, line in enumerate(card.lines, start=2):
        kpi = line.kpi
        values = (kpi.ref, kpi.title, kpi.numerator, kpi.denominator or "n/a", kpi.source,
                  kpi.kind, POLARITY_LABELS[kpi.polarity], kpi.measure_type)  # fmt: skip
        for column, value in enumerate(values, start=1):
            put(sheet, row, column, value).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


DATA_HEADINGS = ("KPI Ref", "Quarter", "Quarter start", "Quarter end", "Window start",
                 "Window end", "Numerator", "Denominator", "Actual", "Target",
                 "Share of target", "RAG", "Carried forward")  # fmt: skip


def _data(workbook: Any, card: KpiScorecard, shown: _Shown) -> None:
    sheet = add_sheet(workbook, "Data")
    headings(sheet, 1, DATA_HEADINGS)
    row = 2
    iso = "yyyy-mm-dd"
    for line in card.lines:
        for found in line.quarters:
            hidden = shown.is_hidden(line, found)
            actual = found.actual
            values: Sequence[tuple[Any, str | None]] = (
                (line.kpi.ref, None),
                (found.quarter.label, None),
                (found.quarter.start, iso),
                (found.quarter.end, iso),
                (found.window.start, iso),
                (found.window.end, iso),
                (shown.marker if hidden else actual.numerator, None),
                (shown.marker if hidden and actual.denominator is not None else actual.denominator,
                 None),
                (shown.actual(line, found), None),
                (found.target, None),
                (shown.share(line, found), None),
                (found.rag, None),
                (actual.carried_forward, None),
            )  # fmt: skip
            for column, (value, fmt) in enumerate(values, start=1):
                put(sheet, row, column, value, fmt)
            row += 1
    sheet.sheet_state = "hidden"


def write_scorecard(context: ReportContext, path: Path) -> None:
    """Write the KPI scorecard workbook for ``context.period`` to ``path`` atomically."""
    if context.records is None:
        msg = "the KPI scorecard needs the register's records, and none were given"
        raise UsageError(msg, hint="Run it through mectk report with --db.")
    card = compute_kpis(context.records, context.period)
    workbook = new_workbook()
    shown = _Shown(card, context)
    _scorecard_sheet(workbook, card, context)
    _rag_key(workbook, card)
    _exceptions(workbook, card, shown)
    _definitions(workbook, card)
    _data(workbook, card, shown)
    save(workbook, path)
