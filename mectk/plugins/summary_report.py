"""Built-in report ``summary``: every standard measure for a period, as xlsx, JSON or CSV.

The xlsx has a Summary sheet (Ref, Measure, This period, Year to date, Notes), a
By_Locality sheet, and a Year_so_far sheet with a native chart of enterprises trading and
hours per week by quarter of the financial year so far. It is an external output: small
numbers are suppressed (with secondary suppression) as the programme settings say.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from mectk.errors import UsageError
from mectk.hookspecs import hookimpl
from mectk.jsonio import write_json
from mectk.metrics.measures import MEASURES, UNASSIGNED, Measure, MetricValue
from mectk.metrics.suppression import Cell, suppress_table
from mectk.metrics.table import MetricsTable
from mectk.reportkit import headings, put, save
from mectk.specs import ReportContext, ReportFormatSpec
from mectk.textsafety import write_csv

NAME = "summary"
EXTENSIONS = ("xlsx", "json", "csv")
LOCALITY_MEASURES = (
    ("M01", "Enquiries"),
    ("M02", "Enterprises supported"),
    ("M05", "New launched"),
    ("M06", "Trading at period end"),
    ("M13", "Jobs created"),
    ("M14", "Hours per week"),
    ("M15", "People supported per week"),
)
CHART_MEASURES = (("M06", "Enterprises trading"), ("M14", "Hours per week"))
WHICH = ("this_period", "year_to_date")


def _marker(context: ReportContext) -> str:
    return str(context.programme.get("suppression_marker") or "*")


def _shown(
    table: MetricsTable, hidden: set[Cell], marker: str, ref: str, group: str | None, which: str
) -> Decimal | str:
    if (ref, group, which) in hidden:
        return marker
    value: MetricValue = getattr(table.row(ref, group), which)
    return value.value


def _notes(measure: Measure, table: MetricsTable, hidden: set[Cell]) -> str:
    notes = []
    if measure.denominator:
        notes.append(f"of {measure.denominator}")
    if measure.kind == "snapshot":
        notes.append("value at the period end; year to date is not a sum")
    elif measure.kind == "distinct":
        notes.append("distinct over the window; year to date is not a sum of quarters")
    carried = table.row(measure.ref).this_period.carried_forward
    if carried:
        notes.append(f"{carried} value(s) carried forward from the previous quarter")
    if any((measure.ref, None, w) in hidden for w in WHICH):
        notes.append("small number suppressed")
    return "; ".join(notes)


def _locality_name(context: ReportContext, group: str) -> tuple[str, str]:
    if group == UNASSIGNED:
        return "Countywide / unassigned", ""
    found = context.localities.get(group, {})
    return str(found.get("name") or group), str(found.get("gss_code") or "")


def _document(context: ReportContext) -> dict[str, Any]:
    marker = _marker(context)
    threshold = context.suppression_threshold
    hidden = suppress_table(context.metrics, threshold)
    local_hidden = suppress_table(context.by_locality, threshold)
    table = context.metrics
    return {
        "report": NAME,
        "period": {
            "label": context.period.label,
            "start": context.period.start.isoformat(),
            "end": context.period.end.isoformat(),
        },
        "year_to_date": {
            "start": table.year_to_date.start.isoformat(),
            "end": table.year_to_date.end.isoformat(),
        },
        "programme_id": context.programme.get("programme_id"),
        "suppression": {"threshold": threshold, "marker": marker},
        "measures": [
            {
                "ref": m.ref,
                "measure": m.title,
                "kind": m.kind,
                "this_period": _shown(table, hidden, marker, m.ref, None, "this_period"),
                "year_to_date": _shown(table, hidden, marker, m.ref, None, "year_to_date"),
                "notes": _notes(m, table, hidden),
            }
            for m in MEASURES
        ],
        "by_locality": [
            {
                "locality_id": group,
                "locality": _locality_name(context, group)[0],
                "gss_code": _locality_name(context, group)[1] or None,
                "measures": {
                    ref: _shown(
                        context.by_locality, local_hidden, marker, ref, group, "this_period"
                    )
                    for ref, _title in LOCALITY_MEASURES
                },
            }
            for group in context.by_locality.groups
        ],
        "by_locality_total": {
            ref: _shown(context.by_locality, local_hidden, marker, ref, None, "this_period")
            for ref, _title in LOCALITY_MEASURES
        },
        "year_so_far": [
            {
                "quarter": q.period.label,
                **{
                    ref: _shown(q, suppress_table(q, threshold), marker, ref, None, "this_period")
                    for ref, _title in CHART_MEASURES
                },
            }
            for q in context.quarters
        ],
    }


def _number_format(ref: str) -> str:
    return "#,##0.0" if ref == "M14" else "#,##0"


def _write_xlsx(context: ReportContext, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Alignment, Font

    document = _document(context)
    workbook = Workbook()
    summary = workbook.active
    summary.title = "Summary"
    title = f"Summary report: {context.period.label}"
    put(summary, 1, 1, title).font = Font(bold=True, size=14)
    ytd = document["year_to_date"]
    put(summary, 2, 1, f"Year to date {ytd['start']} to {ytd['end']}")
    headings(
        summary, 3, ("Ref", "Measure", "This period", "Year to date", "Notes"), (8, 44, 14, 14, 70)
    )
    for offset, row in enumerate(document["measures"], start=4):
        put(summary, offset, 1, row["ref"])
        put(summary, offset, 2, row["measure"])
        for column, key in ((3, "this_period"), (4, "year_to_date")):
            cell = put(summary, offset, column, row[key], _number_format(row["ref"]))
            cell.alignment = Alignment(horizontal="right")
        put(summary, offset, 5, row["notes"])
    note_row = 5 + len(document["measures"])
    marker = document["suppression"]["marker"]
    threshold = document["suppression"]["threshold"]
    put(
        summary,
        note_row,
        1,
        f"{marker} = suppressed: counts from 1 to {threshold - 1}, "
        "and further cells so that totals cannot reveal them.",
    )
    summary.freeze_panes = "C4"

    local = workbook.create_sheet("By_Locality")
    locality_headings = ("Locality", "GSS code", *(t for _r, t in LOCALITY_MEASURES))
    headings(local, 1, locality_headings, (30, 12, *(14 for _ in LOCALITY_MEASURES)))
    row_number = 2
    for row in document["by_locality"]:
        put(local, row_number, 1, row["locality"])
        put(local, row_number, 2, row["gss_code"] or "")
        for column, (ref, _title) in enumerate(LOCALITY_MEASURES, start=3):
            put(local, row_number, column, row["measures"][ref], _number_format(ref))
        row_number += 1
    put(local, row_number, 1, "Total").font = Font(bold=True)
    for column, (ref, _title) in enumerate(LOCALITY_MEASURES, start=3):
        value = document["by_locality_total"][ref]
        put(local, row_number, column, value, _number_format(ref)).font = Font(bold=True)
    local.freeze_panes = "C2"

    chart_sheet = workbook.create_sheet("Year_so_far")
    headings(chart_sheet, 1, ("Quarter", *(t for _r, t in CHART_MEASURES)), (16, 20, 16))
    quarters = document["year_so_far"]
    for offset, row in enumerate(quarters, start=2):
        put(chart_sheet, offset, 1, row["quarter"])
        for column, (ref, _title) in enumerate(CHART_MEASURES, start=2):
            value = row[ref]
            put(chart_sheet, offset, column, value, _number_format(ref))
    chart_sheet.freeze_panes = "A2"
    if quarters:
        last = 1 + len(quarters)
        labels = Reference(chart_sheet, min_col=1, min_row=2, max_row=last)
        bars = BarChart()
        bars.title = "Enterprises trading and hours per week, year so far"
        bars.y_axis.title = "Enterprises trading"
        bars.x_axis.title = "Quarter"
        bars.add_data(
            Reference(chart_sheet, min_col=2, min_row=1, max_row=last), titles_from_data=True
        )
        bars.set_categories(labels)
        line = LineChart()
        line.add_data(
            Reference(chart_sheet, min_col=3, min_row=1, max_row=last), titles_from_data=True
        )
        line.y_axis.axId = 200
        line.y_axis.title = "Hours per week"
        line.y_axis.crosses = "max"
        bars += line
        bars.width, bars.height = 18, 9
        chart_sheet.add_chart(bars, "E2")
    save(workbook, path)


def write_summary(context: ReportContext, path: Path) -> None:
    """Write the summary report to ``path`` (.xlsx, .json or .csv), suppressed, atomically."""
    extension = path.suffix.lower().lstrip(".")
    if extension == "json":
        write_json(path, _document(context))
    elif extension == "xlsx":
        _write_xlsx(context, path)
    elif extension == "csv":
        rows = _document(context)["measures"]
        write_csv(
            path,
            ("Ref", "Measure", "This period", "Year to date", "Notes"),
            (
                (r["ref"], r["measure"], r["this_period"], r["year_to_date"], r["notes"])
                for r in rows
            ),
        )
    else:
        msg = f"{path}: the summary report writes {', '.join(EXTENSIONS)}, not '{extension}'"
        raise UsageError(msg)


@hookimpl
def mectk_register_report_formats() -> list[ReportFormatSpec]:
    """The built-in summary report."""
    return [
        ReportFormatSpec(
            name=NAME,
            title="Summary of the standard measures, by locality, with the year so far",
            extensions=EXTENSIONS,
            write=write_summary,
        )
    ]
