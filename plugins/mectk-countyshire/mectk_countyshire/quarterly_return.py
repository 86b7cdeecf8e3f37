"""The ``quarterly-return`` report: Countyshire's Quarterly Monitoring Return (domain.md 4.1).

Contract: :func:`write_quarterly_return` writes one styled xlsx workbook for a
:class:`mectk.ReportContext`:

* ``Cover``: council, programme, provider, financial year, quarter, period dates, who
  prepares it (a role), the date, the suppression rule and the profile;
* ``Summary``: M01 to M18 for the quarter and the year to date (events summed over the
  quarters, snapshots at the period end, distinct counts over the year), with notes, and
  the year so far by quarter with a native chart;
* ``By_Locality``: each district with its GSS code, ``Countywide / unassigned`` for every
  other enterprise, and ``Total`` (the whole programme, from unsuppressed values);
* ``Enterprise_List``: only for ``--profile council``: one row per enterprise, no contact
  details, a trading name shown only when it cannot be a person's name (a known legal
  form other than sole trader) or the enterprise consented to a directory listing;
  otherwise its id;
* ``Notes``: how to read it, the measures' definitions and data-quality counts.

Small numbers are suppressed in Summary and By_Locality (primary and secondary, by the
programme's threshold) whatever the profile. Dates are dd/mm/yyyy, yes/no is Y/N, text
stays text, and the file is written atomically (:mod:`mectk.reportkit`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from mectk import ReportContext
from mectk.metrics import (
    MEASURES,
    MEASURES_BY_REF,
    MetricsTable,
    snapshot_values,
    suppress_lines,
    suppress_table,
)
from mectk.reportkit import (
    DECIMAL_FORMAT,
    INTEGER_FORMAT,
    add_sheet,
    headings,
    new_workbook,
    put,
    save,
    title_rows,
)

REPORT_NAME = "quarterly-return"
PREPARED_BY = "Commissioning data officer, Adult Social Care"
COUNTYWIDE = "Countywide / unassigned"
LOCALITY_MEASURES = (
    ("M01", "Enquiries"),
    ("M02", "Enterprises supported"),
    ("M05", "New launched"),
    ("M06", "Trading at quarter end"),
    ("M13", "Jobs created"),
    ("M14", "Hours per week"),
    ("M15", "People supported per week"),
)
CHART_MEASURES = (("M06", "Enterprises trading"), ("M14", "Hours per week"))
ENTERPRISE_HEADINGS = (
    "Enterprise ID",
    "Trading name",
    "Locality",
    "Status",
    "Origin",
    "Launch date",
    "Services",
    "Personal care (Y/N)",
    "CQC status",
    "Quality standard",
    "Hours per week",
    "People per week",
)
NAMED_FORMS = frozenset(
    {
        "partnership",
        "limited_company",
        "cic",
        "charitable_company",
        "cio",
        "unincorporated_charity",
        "community_benefit_society",
        "cooperative",
        "unincorporated_association",
        "informal_community_group",
    }
)
"""Legal forms whose trading name is an organisation's, never a person's."""
STOPPED = frozenset({"closed", "not_proceeding"})
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Shown = Decimal | str


# ---- periods ----------------------------------------------------------------------------


def financial_year(context: ReportContext) -> str:
    """``2025/26`` for the financial year holding the period's end."""
    start = context.metrics.year_to_date.start
    return f"{start.year}/{(start.year + 1) % 100:02d}"


def quarter_label(context: ReportContext) -> str | None:
    """``Q2 (Jul-Sep)`` for a quarter, ``Full year (Apr-Mar)`` for the financial year (with
    en dashes), else None."""
    fy_start, period = context.metrics.year_to_date.start, context.period
    months = (period.start.year - fy_start.year) * 12 + period.start.month - fy_start.month
    next_day = period.end + datetime.timedelta(days=1)
    length = (next_day.year - period.start.year) * 12 + next_day.month - period.start.month
    if period.start.day != 1 or next_day.day != 1 or months % 3 or length not in (3, 12):
        return None
    if length == 12:
        return f"Full year ({MONTHS[period.start.month - 1]}\u2013{MONTHS[period.end.month - 1]})"
    last = MONTHS[period.end.month - 1]
    return f"Q{months // 3 + 1} ({MONTHS[period.start.month - 1]}\u2013{last})"


def _which(context: ReportContext) -> str:
    label = quarter_label(context)
    return "quarter" if label and label.startswith("Q") else "period"


# ---- suppression ------------------------------------------------------------------------


def _marker(context: ReportContext) -> str:
    return str(context.programme.get("suppression_marker") or "*")


def summary_values(
    context: ReportContext, table: MetricsTable | None = None
) -> dict[str, tuple[Shown, Shown]]:
    """Ref -> (this period, year to date) as shown: suppressed cells hold the marker."""
    table = table or context.metrics
    hidden = suppress_table(table, context.suppression_threshold)
    marker = _marker(context)
    out: dict[str, tuple[Shown, Shown]] = {}
    for measure in MEASURES:
        row = table.row(measure.ref)
        now: Shown = (
            marker if (measure.ref, None, "this_period") in hidden else row.this_period.value
        )
        ytd: Shown = (
            marker if (measure.ref, None, "year_to_date") in hidden else row.year_to_date.value
        )
        out[measure.ref] = (now, ytd)
    return out


def locality_rows(context: ReportContext) -> list[tuple[str, str, dict[str, Shown]]]:
    """(locality, GSS code, ref -> value as shown) for each district, the countywide row
    and the total, suppressed down each column (the total is the programme's figure)."""
    table = context.by_locality
    districts = sorted(
        (str(loc.get("name") or lid), str(loc.get("gss_code")), lid)
        for lid, loc in context.localities.items()
        if loc.get("gss_code")
    )
    listed = {lid for _n, _g, lid in districts}
    others = [g for g in table.groups if g not in listed]
    rows: list[tuple[str, str, dict[str, Decimal]]] = []
    for name, gss, lid in districts:
        rows.append((name, gss, {ref: table.value(ref, lid) for ref, _t in LOCALITY_MEASURES}))
    rows.append(
        (
            COUNTYWIDE,
            "",
            {
                ref: sum((table.value(ref, g) for g in others), Decimal(0))
                for ref, _t in LOCALITY_MEASURES
            },
        )
    )
    rows.append(("Total", "", {ref: table.value(ref) for ref, _t in LOCALITY_MEASURES}))
    values: dict[tuple[int, str], Decimal | None] = {}
    lines: list[list[tuple[int, str]]] = []
    for ref, _title in LOCALITY_MEASURES:
        if not MEASURES_BY_REF[ref].suppressible:
            continue
        for index, (_n, _g, found) in enumerate(rows):
            values[(index, ref)] = found[ref]
        lines.append([(index, ref) for index in range(len(rows))])
    hidden = suppress_lines(values, lines, context.suppression_threshold)
    marker = _marker(context)
    return [
        (name, gss, {ref: marker if (i, ref) in hidden else v for ref, v in found.items()})
        for i, (name, gss, found) in enumerate(rows)
    ]


# ---- sheets -----------------------------------------------------------------------------


def _programme(context: ReportContext, *keys: str) -> Any:
    found: Any = context.programme
    for key in keys:
        found = found.get(key) if isinstance(found, Mapping) else None
    return found


def _cover(sheet: Any, context: ReportContext) -> None:
    from openpyxl.styles import Font

    threshold = context.suppression_threshold
    quarter = quarter_label(context)
    today = datetime.datetime.now(tz=datetime.UTC).date()
    rows: list[tuple[str, Any]] = [
        ("Council", _programme(context, "council", "name") or ""),
        ("Council GSS code", _programme(context, "council", "gss_code") or ""),
        ("Programme", _programme(context, "programme_id") or ""),
        ("Provider", _programme(context, "delivery_org_name") or ""),
        ("Financial year", financial_year(context)),
        ("Quarter", quarter or f"Not a quarter: {context.period.label}"),
        ("Period start", context.period.start),
        ("Period end", context.period.end),
        ("Prepared by", PREPARED_BY),
        ("Date prepared", today),
        ("Suppression applied", f"Counts 1\u2013{threshold - 1} shown as {_marker(context)}"),
        (
            "Profile",
            "Council only: includes the enterprise list"
            if context.profile == "council"
            else "External: no enterprise-level data",
        ),
    ]
    next_row = title_rows(sheet, "Quarterly Monitoring Return", "Community micro-enterprises")
    headings(sheet, next_row, ("Item", "Value"), (26, 48))
    for offset, (key, value) in enumerate(rows, start=next_row + 1):
        put(sheet, offset, 1, key).font = Font(bold=True)
        put(sheet, offset, 2, value)
    sheet.freeze_panes = sheet.cell(row=next_row + 1, column=1).coordinate


def _summary_notes(context: ReportContext, ref: str, shown: tuple[Shown, Shown]) -> str:
    measure = MEASURES_BY_REF[ref]
    notes = []
    if measure.denominator:
        notes.append(f"of {measure.denominator}")
    if measure.kind == "snapshot":
        notes.append("at the period end; year to date is the latest value, not a sum")
    elif measure.kind == "distinct":
        notes.append("distinct over the year to date, not a sum of quarters")
    else:
        notes.append("year to date is the sum of the quarters")
    carried = context.metrics.row(ref).this_period.carried_forward
    if carried:
        notes.append(f"{carried} value(s) carried forward from the previous quarter")
    if _marker(context) in shown:
        notes.append("suppressed: small number")
    return "; ".join(notes)


def _number_format(ref: str) -> str:
    return DECIMAL_FORMAT if ref == "M14" else INTEGER_FORMAT


def _summary(sheet: Any, context: ReportContext) -> None:
    from openpyxl.styles import Alignment

    which = _which(context)
    period, ytd = context.period, context.metrics.year_to_date
    quarter = quarter_label(context)
    line = (
        f"{quarter + ' ' if quarter else ''}{financial_year(context)}: "
        f"{period.start:%d/%m/%Y} to {period.end:%d/%m/%Y}; "
        f"year to date {ytd.start:%d/%m/%Y} to {ytd.end:%d/%m/%Y}"
    )
    first = title_rows(sheet, "Summary of measures", line) + 1
    headings(
        sheet,
        first,
        ("Ref", "Measure", f"This {which}", "Year to date", "Notes"),
        (7, 46, 14, 14, 70),
    )
    shown = summary_values(context)
    row = first
    for measure in MEASURES:
        row += 1
        put(sheet, row, 1, measure.ref)
        put(sheet, row, 2, measure.title)
        for column, value in ((3, shown[measure.ref][0]), (4, shown[measure.ref][1])):
            cell = put(sheet, row, column, value, _number_format(measure.ref))
            cell.alignment = Alignment(horizontal="right")
        put(sheet, row, 5, _summary_notes(context, measure.ref, shown[measure.ref]))
    threshold = context.suppression_threshold
    put(
        sheet,
        row + 2,
        1,
        f"{_marker(context)} = suppressed: counts from 1 to {threshold - 1}, and further "
        "cells so that totals and 'of which' rows cannot reveal them.",
    )
    sheet.freeze_panes = sheet.cell(row=first + 1, column=3).coordinate
    _year_so_far(sheet, context, row + 4)


def _year_so_far(sheet: Any, context: ReportContext, top: int) -> None:
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font

    if not context.quarters:
        return
    put(sheet, top, 1, "Year so far by quarter").font = Font(bold=True)
    headings(sheet, top + 1, ("Quarter", *(t for _r, t in CHART_MEASURES)))
    for offset, table in enumerate(context.quarters, start=top + 2):
        shown = summary_values(context, table)
        put(sheet, offset, 1, table.period.label)
        for column, (ref, _title) in enumerate(CHART_MEASURES, start=2):
            put(sheet, offset, column, shown[ref][0], _number_format(ref))
    last = top + 1 + len(context.quarters)
    bars = BarChart()
    bars.title = "Enterprises trading and hours per week, year so far"
    bars.y_axis.title = "Enterprises trading"
    bars.x_axis.title = "Quarter"
    bars.add_data(Reference(sheet, min_col=2, min_row=top + 1, max_row=last), titles_from_data=True)
    bars.set_categories(Reference(sheet, min_col=1, min_row=top + 2, max_row=last))
    line = LineChart()
    line.add_data(Reference(sheet, min_col=3, min_row=top + 1, max_row=last), titles_from_data=True)
    line.y_axis.axId = 200
    line.y_axis.title = "Hours per week"
    line.y_axis.crosses = "max"
    bars += line
    bars.width, bars.height = 18, 8
    sheet.add_chart(bars, f"E{top}")


def _by_locality(sheet: Any, context: ReportContext) -> None:
    from openpyxl.styles import Font

    first = (
        title_rows(
            sheet,
            "Measures by locality",
            f"This {_which(context)}: {context.period.start:%d/%m/%Y} to "
            f"{context.period.end:%d/%m/%Y}",
        )
        + 1
    )
    titles = ("Locality", "GSS code", *(t for _r, t in LOCALITY_MEASURES))
    headings(sheet, first, titles, (28, 12, *(14 for _ in LOCALITY_MEASURES)))
    for offset, (name, gss, found) in enumerate(locality_rows(context), start=first + 1):
        bold = name == "Total"
        put(sheet, offset, 1, name).font = Font(bold=bold)
        put(sheet, offset, 2, gss)
        for column, (ref, _title) in enumerate(LOCALITY_MEASURES, start=3):
            put(sheet, offset, column, found[ref], _number_format(ref)).font = Font(bold=bold)
    sheet.freeze_panes = sheet.cell(row=first + 1, column=2).coordinate


def _label(code: Any) -> str:
    """A code as words (``not_required_no_regulated_activity`` -> Not required no ...)."""
    if code is None:
        return ""
    text = str(code).replace("_", " ")
    return text[:1].upper() + text[1:]


def _yes_no(value: Any) -> str:
    return "" if value is None else ("Y" if value else "N")


def _date(value: Any) -> datetime.date | None:
    return datetime.date.fromisoformat(str(value)[:10]) if value else None


def shown_name(enterprise: Mapping[str, Any]) -> str:
    """The trading name, or the enterprise id when the name may be a person's own."""
    if enterprise.get("consent_directory") is True or enterprise.get("legal_form") in NAMED_FORMS:
        return str(enterprise.get("trading_name") or enterprise["enterprise_id"])
    return str(enterprise["enterprise_id"])


def enterprise_rows(context: ReportContext) -> list[tuple[Any, ...]]:
    """The Enterprise_List rows: no contact details, names only where they are safe."""
    if context.records is None:
        return []
    outcomes = context.records.of("outcome")
    hours = {
        s.enterprise_id: s.value
        for s in snapshot_values(outcomes, "hours_per_week", context.period)
    }
    people = {
        s.enterprise_id: s.value
        for s in snapshot_values(outcomes, "people_supported_weekly", context.period)
    }
    out = []
    for enterprise in sorted(
        context.records.of("enterprise"), key=lambda e: str(e["enterprise_id"])
    ):
        eid = enterprise["enterprise_id"]
        current = enterprise.get("status") not in STOPPED  # a closed one has no figures now
        locality = context.localities.get(str(enterprise.get("locality_id")), {})
        out.append(
            (
                eid,
                shown_name(enterprise),
                str(locality.get("name") or enterprise.get("locality_id") or ""),
                _label(enterprise.get("status")),
                _label(enterprise.get("origin")),
                _date(enterprise.get("launch_date")),
                "; ".join(_label(s) for s in enterprise.get("services") or ()),
                _yes_no(enterprise.get("provides_personal_care")),
                _label(enterprise.get("cqc_status")),
                _label(enterprise.get("quality_standard")),
                hours.get(eid) if current else None,
                people.get(eid) if current else None,
            )
        )
    return out


def _enterprise_list(sheet: Any, context: ReportContext) -> None:
    first = (
        title_rows(
            sheet,
            "Enterprise list (council only: not for publication)",
            f"As at {context.period.end:%d/%m/%Y}. Trading names that may be a person's own are "
            "shown as the enterprise id.",
        )
        + 1
    )
    widths = (14, 34, 18, 12, 12, 12, 40, 10, 30, 16, 10, 10)
    headings(sheet, first, ENTERPRISE_HEADINGS, widths)
    for offset, values in enumerate(enterprise_rows(context), start=first + 1):
        for column, value in enumerate(values, start=1):
            put(sheet, offset, column, value, DECIMAL_FORMAT if column == 11 else None)
    sheet.freeze_panes = sheet.cell(row=first + 1, column=2).coordinate


def data_quality(context: ReportContext) -> list[tuple[str, int]]:
    """(what, how many) data-quality counts for the Notes sheet."""
    records = context.records
    enterprises: Sequence[Mapping[str, Any]] = records.of("enterprise") if records else ()
    located = {lid for lid, loc in context.localities.items() if loc.get("gss_code")}
    carried = sum(r.this_period.carried_forward for r in context.metrics.rows)
    trading = [e for e in enterprises if e.get("status") == "trading"]
    outcomes = records.of("outcome") if records else ()
    hours = {s.enterprise_id for s in snapshot_values(outcomes, "hours_per_week", context.period)}
    return [
        ("Enterprises in the register", len(enterprises)),
        (
            "Enterprises not placed in a district (Countywide / unassigned)",
            sum(1 for e in enterprises if e.get("locality_id") not in located),
        ),
        (
            "Launch dates that are estimates",
            sum(1 for e in enterprises if e.get("launch_date_estimated")),
        ),
        (
            "Trading enterprises with no hours figure for the period",
            sum(1 for e in trading if e["enterprise_id"] not in hours),
        ),
        ("Snapshot values carried forward from the previous quarter", carried),
    ]


def _notes(sheet: Any, context: ReportContext) -> None:
    from openpyxl.styles import Alignment, Font

    threshold = context.suppression_threshold
    text = (
        "This return is produced by mectk from the programme's register. Figures for the "
        "quarter follow the rules below; the year to date sums events over the quarters so "
        "far, takes snapshot measures (levels such as hours per week) at the period end, "
        "and counts distinct enterprises once over the year.",
        f"Counts from 1 to {threshold - 1} are shown as {_marker(context)}, and further "
        "cells are hidden so that totals and 'of which' rows cannot reveal them. Hours "
        "are not suppressed. The By_Locality total is the whole programme's figure.",
        "Undated tracker figures (hours, people supported, Direct Payment and self-funding "
        "clients) are taken as at the end of the tracker's quarter; a figure missing in a "
        "quarter is carried forward for at most one quarter and flagged.",
    )
    row = title_rows(sheet, "Notes", *text)
    for line in range(2, row):
        sheet.cell(row=line, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 60
    row += 1
    put(sheet, row, 1, "Data quality").font = Font(bold=True)
    headings(sheet, row + 1, ("Check", "Count"), (60, 12))
    row += 1
    for what, count in data_quality(context):
        row += 1
        put(sheet, row, 1, what)
        put(sheet, row, 2, count, INTEGER_FORMAT)
    row += 2
    put(sheet, row, 1, "Definitions").font = Font(bold=True)
    headings(sheet, row + 1, ("Measure", "Kind", "What is counted"), (60, 12, 90))
    row += 1
    for measure in MEASURES:
        row += 1
        put(sheet, row, 1, f"{measure.ref} {measure.title}")
        put(sheet, row, 2, measure.kind)
        put(sheet, row, 3, measure.numerator)


def write_quarterly_return(context: ReportContext, path: Path) -> None:
    """Write the Quarterly Monitoring Return for ``context`` to ``path`` (xlsx), atomically."""
    workbook = new_workbook()
    _cover(add_sheet(workbook, "Cover"), context)
    _summary(add_sheet(workbook, "Summary"), context)
    _by_locality(add_sheet(workbook, "By_Locality"), context)
    if context.profile == "council":
        _enterprise_list(add_sheet(workbook, "Enterprise_List"), context)
    _notes(add_sheet(workbook, "Notes"), context)
    save(workbook, path)
