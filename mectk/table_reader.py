"""Read sheets of a workbook as tables of records (shared by the workbook readers).

A table sheet has one header row (found among the first rows by matching headings to
field titles or names) and one record per row below it. Empty rows inside the data are
:class:`~mectk.sources.BlankRow`; the sheet ends at its last non-empty row, never at
``max_row`` and never at the first blank.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from openpyxl.utils import get_column_letter

from mectk.coerce import is_blank
from mectk.errors import SourceError
from mectk.issues import make_issue
from mectk.schemas import FieldInfo, fields, normalise_text
from mectk.sources import BlankRow, CellRef, ReadItem, Source, SourceRow

HEADER_SCAN_ROWS = 20


def heading_index(kind: str) -> dict[str, FieldInfo]:
    """Normalised heading text -> field, from each field's title and name."""
    index: dict[str, FieldInfo] = {}
    for info in fields(kind):
        if info.read_only:
            continue
        for text in (info.title, info.name, info.name.replace("_", " ")):
            index.setdefault(normalise_text(text), info)
    return index


def open_workbook(source: Source) -> Any:
    """Open a sniffed workbook with python-calamine (values only, streaming rows)."""
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(source.path))
    except Exception as exc:
        msg = f"{source.display_name}: the workbook cannot be read ({exc})"
        raise SourceError(msg, hint="Open it in Excel and save a fresh copy.") from exc


def iter_sheet_rows(workbook: Any, sheet: str) -> Iterator[tuple[int, int, list[Any]]]:
    """(1-based row number, 0-based first column, cells) for each row up to the last used one."""
    try:
        data = workbook.get_sheet_by_name(sheet)
    except Exception as exc:
        msg = f"sheet '{sheet}' cannot be read ({exc})"
        raise SourceError(msg) from exc
    start = data.start
    first_col = start[1] if start else 0
    for index, cells in enumerate(data.iter_rows()):
        yield index + 1, first_col, cells


def _find_header(
    rows: Sequence[tuple[int, int, list[Any]]], index: Mapping[str, FieldInfo]
) -> tuple[int, int, list[Any]] | None:
    best, best_hits = None, 0
    for row in rows:
        hits = sum(1 for c in row[2] if isinstance(c, str) and normalise_text(c) in index)
        if hits > best_hits:
            best, best_hits = row, hits
    return best


def read_table_sheet(workbook: Any, sheet: str, kind: str, file: str) -> Iterator[ReadItem]:
    """Yield one :class:`SourceRow` per data row of a table sheet, plus header issues."""
    index = heading_index(kind)
    rows = iter_sheet_rows(workbook, sheet)
    head: list[tuple[int, int, list[Any]]] = []
    for row in rows:
        head.append(row)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if not any(any(not is_blank(c) for c in r[2]) for r in head):
        return  # an empty sheet holds no records
    header = _find_header(head, index)
    if header is None:
        yield make_issue("header-not-found", file=file, sheet=sheet)
        return
    header_row, first_col, header_cells = header
    columns: dict[int, tuple[FieldInfo, str]] = {}
    seen: dict[str, str] = {}
    for offset, text in enumerate(header_cells):
        if is_blank(text):
            continue
        heading = str(text).strip()
        letter = get_column_letter(first_col + offset + 1)
        info = index.get(normalise_text(heading))
        where: dict[str, Any] = {
            "file": file,
            "sheet": sheet,
            "cell": f"{letter}{header_row}",
            "row": header_row,
            "column": heading,
        }
        if info is None:
            yield make_issue("column-unknown", **where)
        elif info.name in seen:
            yield make_issue("column-duplicate", field=info.name, **where)
        else:
            seen[info.name] = letter
            columns[offset] = (info, heading)
    for info in fields(kind):
        if info.required and not info.read_only and info.name not in seen:
            yield make_issue(
                "column-missing",
                file=file,
                sheet=sheet,
                row=header_row,
                column=info.title,
                field=info.name,
            )
    sheet_columns = {
        info.name: CellRef(sheet, None, get_column_letter(first_col + off + 1), heading)
        for off, (info, heading) in columns.items()
    }
    data_rows = [r for r in head if r[0] > header_row]
    for row_number, _, cells in _chain(data_rows, rows):
        values: dict[str, Any] = {}
        cell_refs: dict[str, CellRef] = {}
        for offset, (info, heading) in columns.items():
            raw = cells[offset] if offset < len(cells) else None
            values[info.name] = None if is_blank(raw) else raw
            cell_refs[info.name] = CellRef(
                sheet, row_number, sheet_columns[info.name].column, heading
            )
        if all(v is None for v in values.values()) and all(is_blank(c) for c in cells):
            yield BlankRow(sheet, row_number)
            continue
        yield SourceRow(
            kind=kind,
            sheet=sheet,
            row=row_number,
            values=values,
            cells=cell_refs,
            file=file,
            sheet_columns=sheet_columns,
        )


def _chain(
    first: list[tuple[int, int, list[Any]]], rest: Iterator[tuple[int, int, list[Any]]]
) -> Iterator[tuple[int, int, list[Any]]]:
    yield from first
    yield from rest
