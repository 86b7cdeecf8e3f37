"""mectk plugin for a metropolitan borough (domain.md 4.3 and 4.6).

* input format ``metro-bi-export``: the council's BI export, as xlsx (sheet ``Data``) or
  CSV, read by the mapping file ``metro-bi-export.toml`` plus :mod:`mectk_metro.reader`;
* report ``annual-outcomes``: the Annual Outcomes and Market Diversity Report
  (:mod:`mectk_metro.report`), as a styled workbook or one CSV per sheet;
* sample files for ``mectk demo`` (:mod:`mectk_metro.samples`).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from mectk import MappingSpec, ReportContext, ReportFormatSpec, SampleSpec, Source, hookimpl
from mectk_metro.reader import refine
from mectk_metro.samples import PERIOD, write_samples

FORMAT_NAME = "metro-bi-export"
REPORT_NAME = "annual-outcomes"
SHEET = "Data"
SIGNATURE = ("org_ref", "org_name", "ward_code", "la_code", "go_live", "status")
"""Headings every export has, besides its wide monthly columns."""
MONTHLY = re.compile(r"(hrs|ppl)_wk_\d{4}_\d{2}")


def export_headings(source: Source) -> list[str] | None:
    """The header row (row 1) of a CSV file or of an xlsx file's Data sheet, or None."""
    if source.source_type == "csv":
        text = source.head.decode("utf-8-sig", errors="replace")
        first = text.splitlines()[0] if text else ""
        return [h.strip().strip('"').lower() for h in first.split(",")]
    if source.source_type == "xlsx" and SHEET in source.sheet_names:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(source.path, read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - a file that is not ours is simply not claimed
            return None
        try:
            row = next(workbook[SHEET].iter_rows(max_row=1, values_only=True), ())
        finally:
            workbook.close()
        return [str(h).strip().lower() for h in row if h is not None]
    return None


@hookimpl
def mectk_identify_reader(source: Source) -> str | None:
    """Claim xlsx (sheet Data) and CSV files whose header row is the BI export's."""
    found = export_headings(source)
    if not found or not all(h in found for h in SIGNATURE):
        return None
    return FORMAT_NAME if any(MONTHLY.fullmatch(h) for h in found) else None


@hookimpl
def mectk_register_mappings() -> list[MappingSpec]:
    """The BI export layout, completed by :func:`mectk_metro.reader.refine`."""
    return [MappingSpec(resources.files("mectk_metro") / "metro-bi-export.toml", refine=refine)]


def write_annual_outcomes(context: ReportContext, path: Path) -> None:
    """Write the annual outcomes report (imported only when a report is written, so that
    reading files does not load the metrics)."""
    from mectk_metro.report import write_annual_outcomes as write

    write(context, path)


@hookimpl
def mectk_register_report_formats() -> list[ReportFormatSpec]:
    """The Annual Outcomes and Market Diversity Report."""
    return [
        ReportFormatSpec(
            name=REPORT_NAME,
            title="Annual Outcomes and Market Diversity Report (a financial year)",
            extensions=("xlsx", "csv"),
            write=write_annual_outcomes,
        )
    ]


@hookimpl
def mectk_register_samples() -> list[SampleSpec]:
    """Programme settings, spend lines and two BI exports with the council's quirks."""
    return [
        SampleSpec(
            name="metro",
            title="Metropolitan borough: BI exports (xlsx and CSV) and spend lines",
            write=write_samples,
            reports=(REPORT_NAME,),
            periods=(PERIOD,),
        )
    ]
