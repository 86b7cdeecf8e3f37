"""The canonical workbook: mectk's own spreadsheet layout, read by the ``canonical`` format.

One sheet per record kind, headed by schema titles (``mectk template`` writes a blank
one). The Programme sheet holds settings as ``Setting | Value`` rows; blank settings that
have a schema default take it (the template says so beside each one).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mectk.coerce import is_blank
from mectk.grid import Grid, open_grid
from mectk.hookspecs import hookimpl
from mectk.issues import make_issue
from mectk.schemas import RECORD_KINDS, fields, normalise_text
from mectk.sources import CellRef, ReadItem, ReadOptions, Source, SourceRow
from mectk.specs import ReaderSpec, SampleFile, SampleSpec
from mectk.table_reader import TableLayout, read_table

FORMAT_NAME = "canonical"
SAMPLE_NAME = "canonical"
SAMPLE_PERIODS = ("2025-26-Q1", "2025-26")
SETTING_HEADINGS = ("setting", "value", "description")


def sheet_kinds(sheet_names: tuple[str, ...]) -> dict[str, str]:
    """Sheet name -> record kind for the workbook's sheets that the canonical layout knows."""
    wanted = {normalise_text(k.sheet): k.name for k in RECORD_KINDS.values()}
    return {s: wanted[normalise_text(s)] for s in sheet_names if normalise_text(s) in wanted}


def read_canonical(source: Source, options: ReadOptions) -> Iterator[ReadItem]:
    """Read every known sheet of a canonical workbook."""
    file = source.display_name
    known = sheet_kinds(source.sheet_names)
    if not known:
        yield make_issue(
            "no-known-sheets", file=file, sheets=", ".join(source.sheet_names), format=FORMAT_NAME
        )
        return
    grid = open_grid(source, options)
    for sheet, kind in known.items():
        if kind == "programme":
            yield from read_settings_sheet(grid, sheet, file)
        else:
            yield from read_table(grid, sheet, TableLayout(kind), file)


def read_settings_sheet(grid: Grid, sheet: str, file: str) -> Iterator[ReadItem]:
    """Read the Programme sheet's ``Setting | Value`` rows into one programme record."""
    by_title = {normalise_text(f.title): f for f in fields("programme") if not f.read_only}
    by_title.update({normalise_text(f.name): f for f in fields("programme") if not f.read_only})
    values: dict[str, Any] = {}
    cells: dict[str, CellRef] = {}
    first_row: int | None = None
    for row_number, row_cells in grid.rows(sheet):
        if not row_cells or is_blank(row_cells[0]):
            continue
        label = str(row_cells[0]).strip()
        info = by_title.get(normalise_text(label))
        if info is None:
            if normalise_text(label) not in SETTING_HEADINGS:
                yield make_issue(
                    "setting-unknown",
                    file=file,
                    sheet=sheet,
                    cell=f"A{row_number}",
                    row=row_number,
                    column=label,
                )
            continue
        raw = row_cells[1] if len(row_cells) > 1 else None
        values[info.name] = None if is_blank(raw) else raw
        cells[info.name] = CellRef(sheet, row_number, "B", info.title)
        first_row = first_row or row_number
    if all(v is None for v in values.values()):
        return  # a blank Programme sheet holds no programme
    for info in fields("programme"):
        if values.get(info.name) is None and info.default is not None:
            values[info.name] = info.default
    yield SourceRow(
        kind="programme",
        sheet=sheet,
        row=first_row,
        values=values,
        cells=cells,
        file=file,
        date1904=grid.date1904,
    )


@hookimpl
def mectk_register_readers() -> list[ReaderSpec]:
    """Register the canonical workbook reader."""
    return [
        ReaderSpec(
            name=FORMAT_NAME,
            title="mectk canonical workbook (as written by mectk template)",
            read=read_canonical,
            source_types=("xlsx", "xlsm"),
            record_kinds=tuple(RECORD_KINDS),
            description="One sheet per record kind, headed by the schema titles.",
        )
    ]


@hookimpl(trylast=True)
def mectk_identify_reader(source: Source) -> str | None:
    """Claim workbooks with an Enterprises sheet or at least two canonical sheets."""
    if source.source_type not in ("xlsx", "xlsm"):
        return None
    known = set(sheet_kinds(source.sheet_names).values())
    if "enterprise" in known or len(known) >= 2:
        return FORMAT_NAME
    return None


def write_sample(folder: Path) -> list[SampleFile]:
    """The demo's canonical workbook (with planted mistakes) and a blank template."""
    from mectk.sample_data import write_canonical_sample

    return write_canonical_sample(folder)


@hookimpl
def mectk_register_samples() -> list[SampleSpec]:
    """Contribute the sample canonical workbook to ``mectk demo``."""
    return [
        SampleSpec(
            name=SAMPLE_NAME,
            title="A small fictional programme in the canonical workbook, five mistakes planted",
            write=write_sample,
            reports=("summary",),
            periods=SAMPLE_PERIODS,
        )
    ]
