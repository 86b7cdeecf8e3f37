"""Context grids: the cells around an issue, read again from the uploaded file.

Like CoVE's spreadsheet-style error tables: for an issue at a cell, the sheet's heading
row, the row above, the row itself and the row below, over the column before, the
column itself and the column after, with the issue's cell marked. Values of columns that
feed personal-data fields are masked unless the officer asked to see them.

The heading row is the first of the sheet's first rows in which a recognised heading
(from the run's column mapping, or the heading an issue names) stands in its column; when
none is found, column letters alone head the grid.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen

from mectk.coerce import cell_text
from mectk.grid import open_grid
from mectk.issues import MASK, Issue
from mectk.schemas import RECORD_KINDS, field_map, normalise_text
from mectk.sniff import sniff
from mectk.sources import CellProblem, ColumnMapping, ReadOptions

HEADING_SEARCH_ROWS = 50
MAX_CELL_TEXT = 60
_CELL = re.compile(r"^([A-Z]{1,3})([0-9]+)$")


@frozen
class GridCell:
    """One cell shown: its text and whether it is the issue's cell."""

    text: str
    example: bool = False


@frozen
class GridRow:
    """One row shown: its number (None for the letters row) and cells."""

    number: int | None
    cells: tuple[GridCell, ...]
    heading: bool = False


@frozen
class ContextGrid:
    """The cells around one issue, ready to lay out as a table."""

    issue: Issue
    letters: tuple[str, ...]
    rows: tuple[GridRow, ...]


def column_number(letters: str) -> int:
    """``A`` -> 1, ``AA`` -> 27."""
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def column_letters(number: int) -> str:
    """1 -> ``A``, 27 -> ``AA``."""
    out = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        out = chr(65 + rest) + out
    return out


def personal_fields() -> frozenset[str]:
    """Field names that hold personal data in any record kind."""
    return frozenset(
        name
        for kind in RECORD_KINDS
        for name, info in field_map(kind).items()
        if info.personal_data != "none"
    )


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, CellProblem):
        return value.detail
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    text = value.isoformat() if isinstance(value, datetime.date) else cell_text(value)
    text = "" if text is None else str(text)
    return text if len(text) <= MAX_CELL_TEXT else text[: MAX_CELL_TEXT - 1] + "…"


def _place(issue: Issue) -> tuple[int, int | None] | None:
    if issue.cell:
        match = _CELL.match(issue.cell.replace("$", "").upper())
        if match:
            return int(match[2]), column_number(match[1])
    if issue.row:
        return issue.row, None
    return None


def context_grids(
    path: Path,
    issues: Sequence[Issue],
    column_maps: Iterable[ColumnMapping],
    *,
    reveal: bool = False,
    options: ReadOptions | None = None,
) -> dict[int, ContextGrid]:
    """Context grids for ``issues`` (all of one uploaded file), by position in ``issues``.

    Issues with no row are left out. The file is read once per sheet needed.
    """
    wanted: dict[str | None, list[tuple[int, Issue, int, int | None]]] = {}
    for index, issue in enumerate(issues):
        place = _place(issue)
        if place is not None:
            wanted.setdefault(issue.sheet, []).append((index, issue, *place))
    if not wanted:
        return {}
    source = sniff(path)
    grid = open_grid(source, options or ReadOptions())
    maps = list(column_maps)
    personal = personal_fields()
    out: dict[int, ContextGrid] = {}
    for sheet, items in wanted.items():
        actual = (
            sheet if sheet in grid.sheet_names else (None if source.source_type == "csv" else sheet)
        )
        if actual not in grid.sheet_names:
            continue
        headings = {
            column_number(letter): (heading, name)
            for m in maps
            if m.sheet == sheet
            for letter, heading, name, _how in m.columns
        }
        for _index, issue, _row, column in items:  # readers that report no column mapping
            if column is not None and issue.column and column not in headings:
                headings[column] = (issue.column, issue.field or "")
        needed = {r for _i, _s, row, _c in items for r in (row - 1, row, row + 1)}
        last = max(needed)
        rows: dict[int, list[Any]] = {}
        heading_row: int | None = None
        for number, cells in grid.rows(actual):
            if number > last and (heading_row is not None or number > HEADING_SEARCH_ROWS):
                break
            if (
                heading_row is None
                and number <= HEADING_SEARCH_ROWS
                and _is_heading(cells, headings)
            ):
                heading_row = number
                rows[number] = cells
            if number in needed:
                rows[number] = cells
        hidden = {
            column for column, (_h, name) in headings.items() if name in personal and not reveal
        }
        for index, issue, row, column in items:
            out[index] = _grid(issue, row, column, rows, heading_row, hidden)
    return out


def _is_heading(cells: Sequence[Any], headings: Mapping[int, tuple[str, str]]) -> bool:
    for column, (heading, _name) in headings.items():
        value = cells[column - 1] if column <= len(cells) else None
        if isinstance(value, str) and normalise_text(value) == normalise_text(heading):
            return True
    return False


def _grid(
    issue: Issue,
    row: int,
    column: int | None,
    rows: Mapping[int, Sequence[Any]],
    heading_row: int | None,
    hidden: set[int],
) -> ContextGrid:
    middle = column or 2
    columns = [c for c in (middle - 1, middle, middle + 1) if c >= 1]
    shown_rows: list[int] = []
    if heading_row is not None and heading_row < row:
        shown_rows.append(heading_row)
    shown_rows += [r for r in (row - 1, row, row + 1) if r >= 1 and r not in shown_rows]
    out = []
    for number in shown_rows:
        values = rows.get(number, ())
        cells = []
        for c in columns:
            value = values[c - 1] if c <= len(values) else None
            is_heading = number == heading_row
            text = _shown(value)
            if c in hidden and not is_heading and text:
                text = MASK
            cells.append(GridCell(text, example=number == row and c == column))
        out.append(GridRow(number, tuple(cells), heading=number == heading_row))
    return ContextGrid(issue, tuple(column_letters(c) for c in columns), tuple(out))
