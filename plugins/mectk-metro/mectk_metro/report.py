"""The ``annual-outcomes`` report: Annual Outcomes and Market Diversity Report (domain 4.3).

Computed with :func:`mectk.metrics.annual_report` from the register's current records
for one financial year (``--period 2025-26``), beside the year before. Sheets: Headlines,
By_Service_Type, Sustainability_Cohort, Funding_Mix, SME_Spend, Savings_Method and
ASCOF_Mapping. An ``.xlsx`` output is a styled workbook (title and period lines, frozen
headings, money and percent formats, charts); a ``.csv`` output is one CSV file per sheet
for the open-data portal (``<name>_<Sheet>.csv``, formula-safe) plus ``<name>.csv``
listing them. The external profile (the default) suppresses small counts of people and
enterprises, with secondary suppression; the council profile shows them.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from attrs import field, frozen

from mectk import ReportContext, UsageError
from mectk.metrics import AnnualReport, annual_report, fy_label, suppress_lines
from mectk.periods import Period, parse_period
from mectk.reportkit import (
    DECIMAL_FORMAT,
    INTEGER_FORMAT,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    add_sheet,
    headings,
    new_workbook,
    put,
    save,
    title_rows,
)
from mectk.textsafety import write_csv

Format = Literal["int", "dec", "money", "pct", "text"]
FY_START_MONTH = 4
TITLE = "Community Micro-enterprise Annual Outcomes and Market Diversity Report"
HEADING_ROW = 5
FORMATS = {
    "int": INTEGER_FORMAT,
    "dec": DECIMAL_FORMAT,
    "money": MONEY_FORMAT,
    "pct": PERCENT_FORMAT,
}
UNIT_FORMAT: dict[str, Format] = {
    "enterprises": "int",
    "jobs": "int",
    "people": "int",
    "hours": "dec",
    "gbp": "money",
    "percent": "pct",
}
SERVICE_FOOTNOTE = (
    "Enterprises offering several services are counted in each row, so the rows do not sum "
    "to 'All services (distinct)'."
)


@frozen
class Cell:
    """One value and how to show it; ``hidden`` when suppressed."""

    value: Any
    format: Format = "text"
    hidden: bool = False


@frozen
class Table:
    """One sheet: headings, rows, notes below, column widths and an optional chart."""

    name: str
    headings: tuple[str, ...]
    rows: list[list[Cell]]
    notes: tuple[str, ...] = ()
    widths: tuple[int, ...] = ()
    chart: Literal["bar", "pie"] | None = None
    chart_title: str = ""
    chart_columns: tuple[int, ...] = field(default=(2,))


def _count(value: Any, suppress: bool = False) -> Cell:
    return Cell(value, "int", suppress)


def _hide(
    cells: Mapping[Any, Cell],
    lines: Sequence[Sequence[Any]],
    threshold: int,
    target: dict[Any, Cell] | None = None,
) -> None:
    """Suppress small counts among ``cells`` (in ``target``, by default ``cells`` itself),
    with secondary suppression along ``lines`` of cells that add up."""
    out = target if target is not None else cells
    assert isinstance(out, dict)
    values = {k: c.value for k, c in cells.items() if isinstance(c.value, int | Decimal)}
    for key in suppress_lines(values, lines, threshold):
        out[key] = Cell(out[key].value, out[key].format, True)


def _headlines(report: AnnualReport, external: bool, threshold: int) -> Table:
    cells: dict[Hashable, Cell] = {}
    for row in report.headlines:
        fmt = UNIT_FORMAT[row.measure.unit]
        for column, value in (("previous", row.previous), ("current", row.current)):
            cells[(row.measure.ref, column)] = Cell(value, fmt)
    if external:
        # the "of which" rows are not exhaustive parts of their totals (new vs all trading;
        # Direct Payment and self-funded vs all people), so no total reveals a hidden one:
        # primary suppression only
        counted = {r.measure.ref for r in report.headlines if r.measure.suppressible}
        _hide({k: c for k, c in cells.items() if k[0] in counted}, [], threshold, cells)
    rows = []
    for row in report.headlines:
        before, now = cells[(row.measure.ref, "previous")], cells[(row.measure.ref, "current")]
        change_format: Format = "dec" if row.measure.unit == "percent" else before.format
        change = Cell(row.change, change_format, before.hidden or now.hidden)
        rows.append([Cell(row.measure.ref), Cell(row.measure.title), before, now, change])
    return Table(
        name="Headlines",
        headings=(
            "Ref",
            "Measure",
            _fy_heading(report.previous.start.year),
            _fy_heading(report.year.start.year),
            "Change",
        ),
        rows=rows,
        notes=(
            "Snapshots (enterprises trading, hours, people) are as at 31 March; jobs and "
            "savings are summed over the year. Change in rates is in percentage points.",
        ),
        widths=(8, 46, 14, 14, 14),
    )


def _fy_heading(first: int) -> str:
    return f"{first}/{(first + 1) % 100:02d}"


def _by_service(report: AnnualReport, external: bool, threshold: int) -> Table:
    cells: dict[Hashable, Cell] = {}
    for index, row in enumerate(report.by_service):
        cells[(index, "offering")] = _count(row.offering)
        cells[(index, "registered")] = _count(row.cqc_registered)
        cells[(index, "exempt")] = _count(row.cqc_exempt)
        cells[(index, "people")] = _count(row.people)
    if external:
        # registered and exempt are not all of those offering, and rows overlap: only the
        # attributed people per week add up (service rows to the distinct row)
        lines: list[list[Hashable]] = []
        if report.attribution:
            lines.append([(i, "people") for i in range(len(report.by_service))])
        _hide(cells, lines, threshold)
    rows = []
    for index, row in enumerate(report.by_service):
        na = "n/a"
        rows.append(
            [
                Cell(row.label),
                cells[(index, "offering")],
                cells[(index, "registered")],
                cells[(index, "exempt")],
                Cell(row.hours, "dec") if row.hours is not None else Cell(na),
                cells[(index, "people")] if row.people is not None else Cell(na),
                Cell(row.median_price, "money"),
            ]
        )
    note = (
        "Hours and people per week are attributed to each enterprise's primary service."
        if report.attribution
        else "Hours and people per week are n/a by service: no primary service is recorded, "
        "and an enterprise's hours are not counted in several rows."
    )
    return Table(
        name="By_Service_Type",
        headings=(
            "Service type",
            "Enterprises offering (trading at 31 Mar)",
            "of which personal care providers CQC registered",
            "of which exempt",
            "Hours per week",
            "People per week",
            "Median price per hour (£)",
        ),
        rows=rows,
        notes=(SERVICE_FOOTNOTE, note),
        widths=(34, 18, 20, 14, 14, 14, 16),
    )


def _cohorts(report: AnnualReport, external: bool, threshold: int) -> Table:
    names = ("launched", "sustained", "closed", "not_yet_due")
    cells: dict[Hashable, Cell] = {}
    for index, row in enumerate(report.cohorts):
        for name in names:
            cells[(index, name)] = _count(getattr(row, name))
    if external:
        # launched = still trading + closed before + not yet due, in each row
        lines = [[(i, n) for n in names] for i in range(len(report.cohorts))]
        _hide(cells, lines, threshold)
    rows = []
    for index, row in enumerate(report.cohorts):
        hidden = cells[(index, "sustained")].hidden or cells[(index, "closed")].hidden
        rate = Cell(row.rate, "pct", hidden) if row.rate is not None else Cell("n/a")
        rows.append([Cell(row.quarter), *(cells[(index, n)] for n in names), rate])
    return Table(
        name="Sustainability_Cohort",
        headings=(
            "Launch quarter",
            "Launched",
            "Still trading at +12 months",
            "Closed before +12 months",
            "Not yet due",
            "Rate %",
        ),
        rows=rows,
        notes=(
            "New enterprises by the financial-year quarter of their launch date, as seen at "
            "31 March. Rate = still trading / (still trading + closed before +12 months).",
        ),
        widths=(16, 12, 16, 16, 12, 10),
        chart="bar",
        chart_title="Enterprises launched, by outcome at +12 months",
        chart_columns=(3, 4, 5),
    )


def _funding(report: AnnualReport, external: bool, threshold: int) -> Table:
    cells: dict[Hashable, Cell] = {i: _count(r.people) for i, r in enumerate(report.funding)}
    if external:
        _hide(cells, [list(range(len(report.funding)))], threshold)  # routes add to Total
    rows = [
        [Cell(r.route), cells[i], Cell(r.share, "pct", cells[i].hidden)]
        for i, r in enumerate(report.funding)
    ]
    return Table(
        name="Funding_Mix",
        headings=("Funding route", "People per week", "%"),
        rows=rows,
        notes=("People supported per week as at 31 March, by how their support is paid for.",),
        widths=(30, 16, 10),
        chart="pie",
        chart_title="People per week by funding route",
    )


def _spend(report: AnnualReport) -> Table:
    target = report.sme_target
    rows = []
    for line in report.spend:
        route = {"direct": "Direct", "supply_chain": "Supply chain", None: "All"}[line.route]
        share = line.share
        met = "n/a" if share is None else ("Y" if share >= target else "N")
        rows.append(
            [
                Cell(line.category),
                Cell(route),
                Cell(line.total, "money"),
                *(Cell(line.by_size.get(s, Decimal(0)), "money") for s in ("micro", "small")),
                Cell(line.by_size.get("medium", Decimal(0)), "money"),
                Cell(line.sme, "money"),
                Cell(line.unknown, "money"),
                Cell(share, "pct") if share is not None else Cell("n/a"),
                Cell(target, "pct"),
                Cell(met),
            ]
        )
    rows.append(
        [
            Cell("of which community micro-enterprises (£)"),
            Cell("All"),
            Cell(report.community_spend, "money"),
            *(Cell(None) for _ in range(8)),
        ]
    )
    unknown = report.spend[-1].unknown if report.spend else Decimal(0)
    return Table(
        name="SME_Spend",
        headings=(
            "Spend category",
            "Route",
            "Total spend (£)",
            "Spend with micro (£)",
            "Spend with small (£)",
            "Spend with medium (£)",
            "SME spend (£)",
            "Unknown size (£)",
            "SME share %",
            "Target %",
            "Met (Y/N)",
        ),
        rows=rows,
        notes=(
            "SME share = (micro + small + medium) / spend with a known supplier size. "
            f"Spend of unknown size (£{unknown:,.2f} in all) is shown but left out of the "
            "share: improve supplier size data to include it.",
            "Direct and supply-chain spend are shown separately; the government's 33% "
            "target counts both.",
        ),
        widths=(30, 14, 16, 14, 14, 14, 14, 14, 10, 10, 10),
    )


def _savings(report: AnnualReport) -> Table:
    method = report.savings
    rates = method.enterprise_rates
    rows = [
        ("Comparator hourly rate (£)", method.comparator_rate, "money"),
        ("Enterprise hourly rates: median (£)", method.median_rate, "money"),
        ("Enterprise hourly rates: lowest (£)", rates[0] if rates else None, "money"),
        ("Enterprise hourly rates: highest (£)", rates[-1] if rates else None, "money"),
        ("Enterprises with an hourly price (trading at 31 Mar)", len(rates), "int"),
        ("Enterprises with recorded savings", method.enterprises_with_savings, "int"),
        ("Savings recorded per enterprise (£)", method.enterprise_savings, "money"),
        ("Programme-level savings (£)", method.programme_savings, "money"),
        ("Result: estimated savings (£)", method.result, "money"),
        ("Formula", method.formula, "text"),
    ]
    table = [[Cell(label), Cell(value, fmt)] for label, value, fmt in rows]  # type: ignore[arg-type]
    table.extend([Cell("Method note"), Cell(note)] for note in method.method_notes)
    table.extend([Cell("Caveat"), Cell(caveat)] for caveat in method.caveats)
    return Table(name="Savings_Method", headings=("Item", "Value"), rows=table, widths=(48, 90))


def _ascof(report: AnnualReport) -> Table:
    rows = [
        [Cell(r.measure.ref), Cell(r.measure.title), Cell(r.measure.ascof), Cell(r.measure.kind)]
        for r in report.headlines
    ]
    return Table(
        name="ASCOF_Mapping",
        headings=("Ref", "Headline", "ASCOF 2023+ objective", "Kind"),
        rows=rows,
        notes=(
            "A local tagging of each headline to the Adult Social Care Outcomes Framework "
            "objective it contributes to; these are not ASCOF measures.",
        ),
        widths=(8, 46, 52, 12),
    )


def report_year(context: ReportContext) -> Period:
    """The financial year holding the period's end: the whole year when the period ends
    on its last day, else the year to date (compared with the same months before)."""
    end = context.period.end
    first = end.year if end.month >= FY_START_MONTH else end.year - 1
    fy = parse_period(f"{first}-{(first + 1) % 100:02d}")
    if end == fy.end:
        return fy
    return Period(f"{fy_label(fy)} to {end.isoformat()}", fy.start, end)


def tables(context: ReportContext) -> list[Table]:
    """Every sheet of the report, suppressed for the external profile."""
    if context.records is None:
        msg = "the annual-outcomes report needs the register's records"
        raise UsageError(msg)
    report = annual_report(context.records, report_year(context))
    external = context.profile == "external"
    threshold = context.suppression_threshold
    return [
        _headlines(report, external, threshold),
        _by_service(report, external, threshold),
        _cohorts(report, external, threshold),
        _funding(report, external, threshold),
        _spend(report),
        _savings(report),
        _ascof(report),
    ]


def _marker(context: ReportContext) -> str:
    return str(context.programme.get("suppression_marker") or "*")


def _shown(cell: Cell, marker: str, for_csv: bool) -> Any:
    """The value a cell shows: the marker when suppressed, n/a when there is no value,
    per cent as a fraction in xlsx (formatted %) and as a number of per cent in CSV."""
    if cell.hidden:
        return marker
    value = cell.value
    if value is None:
        return None if cell.format == "text" else "n/a"
    if not isinstance(value, int | Decimal) or isinstance(value, bool):
        return value
    number = Decimal(value)
    if cell.format == "pct":
        return round(number, 1) if for_csv else number / 100
    if cell.format == "int" and number == number.to_integral_value():
        return int(number)
    return round(number, 2) if for_csv else number


def _period_lines(context: ReportContext) -> tuple[str, str]:
    year = report_year(context)
    council = context.programme.get("council", {})
    name = council.get("name", "") if isinstance(council, dict) else ""
    whole = year.end.month == (FY_START_MONTH - 2) % 12 + 1 and year.end.day == 31
    line = f"Financial year {_fy_heading(year.start.year)}: "
    line += f"{year.start:%d/%m/%Y} to {year.end:%d/%m/%Y}; snapshots as at "
    line += "31 March" if whole else f"{year.end:%d/%m/%Y} (year to date, against the same "
    line += "" if whole else "months of the year before)"
    return (f"{name}".strip() or "Programme", line)


def _write_xlsx(context: ReportContext, sheets: list[Table], path: Path) -> None:
    from openpyxl.chart import BarChart, PieChart, Reference
    from openpyxl.styles import Font

    workbook = new_workbook()
    marker = _marker(context)
    external = context.profile == "external"
    threshold = context.suppression_threshold
    note = (
        f"{marker} = suppressed: counts of people or enterprises from 1 to {threshold - 1}, "
        "and further cells so that totals cannot reveal them."
        if external
        else "Council profile: small numbers are shown; do not publish."
    )
    for table in sheets:
        sheet = add_sheet(workbook, table.name)
        council, period = _period_lines(context)
        title_rows(sheet, f"{TITLE}: {table.name.replace('_', ' ')}", f"{council}. {period}", note)
        headings(sheet, HEADING_ROW, table.headings, table.widths or None)
        for r, row in enumerate(table.rows, start=HEADING_ROW + 1):
            for c, cell in enumerate(row, start=1):
                put(sheet, r, c, _shown(cell, marker, False), FORMATS.get(cell.format))
            if row and row[0].value in ("All services (distinct)", "Total", "All spend"):
                for c in range(1, len(row) + 1):
                    sheet.cell(row=r, column=c).font = Font(bold=True)
        last = HEADING_ROW + len(table.rows)
        for offset, text in enumerate(table.notes, start=2):
            put(sheet, last + offset, 1, text).font = Font(italic=True)
        sheet.freeze_panes = sheet.cell(row=HEADING_ROW + 1, column=2).coordinate
        if table.chart and table.rows:
            _chart(sheet, table, last, BarChart, PieChart, Reference)
    save(workbook, path)


def _chart(sheet: Any, table: Table, last: int, bar: Any, pie: Any, reference: Any) -> None:
    rows = last if table.chart == "bar" else last - 1  # the funding pie leaves out Total
    labels = reference(sheet, min_col=1, min_row=HEADING_ROW + 1, max_row=rows)
    chart = pie() if table.chart == "pie" else bar()
    if table.chart == "bar":
        chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
        chart.y_axis.title = "Enterprises"
    for column in table.chart_columns:
        data = reference(sheet, min_col=column, min_row=HEADING_ROW, max_row=rows)
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(labels)
    chart.title = table.chart_title
    chart.width, chart.height = 18, 9
    sheet.add_chart(chart, f"{chr(ord('A') + len(table.headings) + 1)}{HEADING_ROW}")


def _write_csvs(context: ReportContext, sheets: list[Table], path: Path) -> None:
    marker = _marker(context)
    index = []
    for table in sheets:
        target = path.with_name(f"{path.stem}_{table.name}.csv")
        body = [[_shown(cell, marker, True) for cell in row] for row in table.rows]
        body.extend([[text] for text in table.notes])
        write_csv(target, table.headings, body)
        index.append((table.name, target.name, len(table.rows)))
    write_csv(path, ("Sheet", "File", "Rows"), index)


def write_annual_outcomes(context: ReportContext, path: Path) -> None:
    """Write the report for the financial year ``context.period`` to ``path`` (.xlsx, or
    .csv for one CSV per sheet beside it), atomically, suppressed for external use."""
    sheets = tables(context)
    if path.suffix.lower() == ".csv":
        _write_csvs(context, sheets, path)
    else:
        _write_xlsx(context, sheets, path)
