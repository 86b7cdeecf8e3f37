"""Writing report workbooks safely: the toolkit every report format uses (public API).

Contract:

* :func:`put` writes one cell; text always stays text (``=SUM(A1)`` typed in a trading
  name is stored as a string, never a formula), numbers get a number format, Decimals
  become int or float, dates get ``dd/mm/yyyy`` unless told otherwise. Text longer than
  Excel's cell limit (:data:`MAX_CELL_TEXT`) is refused with :class:`ReportTextTooLongError`,
  before anything is written; so is a cell beyond Excel's last row or column. Control
  characters that XML cannot hold (``\x01``) are shown as ``\x01`` escapes, never dropped
  and never a crash half-way through a report.
* :func:`sheet_title` turns any text into a sheet name Excel accepts (at most 31
  characters, none of ``[]:*?/\\``, not blank, not ``History``, unique in the workbook).
* :func:`new_workbook` and :func:`add_sheet` start a workbook with safely named sheets.
* :func:`headings` writes a styled heading row and column widths; :func:`title_rows`
  writes a bold title and a period line.
* :func:`save` writes the workbook atomically (a temporary file, then a rename), so a
  failed or killed write never leaves a partial report.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from mectk.atomic import atomic_output
from mectk.errors import UsageError

MAX_CELL_TEXT = 32_767
"""Excel's limit on the characters in one cell."""
MAX_SHEET_TITLE = 31
MAX_ROW = 1_048_576
MAX_COLUMN = 16_384
"""Excel's sheet size: a cell beyond is refused (Excel would "repair" the file by
dropping it)."""
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")
HEADING_FILL = "1F4E78"
DATE_FORMAT = "dd/mm/yyyy"
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0"
MONEY_FORMAT = "£#,##0.00"
PERCENT_FORMAT = "0.0%"

_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


class ReportTextTooLongError(UsageError):
    """A text value longer than Excel allows in one cell, or a cell beyond Excel's sheet."""


def put(sheet: Any, row: int, column: int, value: Any, number_format: str | None = None) -> Any:
    """Write ``value`` to the cell at (``row``, ``column``) and return the cell.

    Text is always stored as text; numbers and dates get ``number_format`` (dates default
    to :data:`DATE_FORMAT`); None leaves the cell empty.
    """
    if row > MAX_ROW or column > MAX_COLUMN:
        msg = (
            f"sheet '{sheet.title}': row {row:,}, column {column:,} is beyond Excel's "
            f"{MAX_ROW:,} rows by {MAX_COLUMN:,} columns"
        )
        raise ReportTextTooLongError(msg, hint="Report a shorter period or split the report.")
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str) and _ILLEGAL.search(value):
        value = _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, str) and len(value) > MAX_CELL_TEXT:
        msg = (
            f"sheet '{sheet.title}' cell {cell.coordinate}: a text of {len(value):,} "
            f"characters is longer than Excel's {MAX_CELL_TEXT:,}"
        )
        raise ReportTextTooLongError(msg, hint="Shorten the text in the register, then try again.")
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # "=1+1", "@x" (textsafety.FORMULA_STARTS) stay text
    elif isinstance(value, datetime.date):
        cell.number_format = number_format or DATE_FORMAT
    elif number_format and isinstance(value, int | float):
        cell.number_format = number_format
    return cell


def sheet_title(workbook: Any, wanted: str) -> str:
    """A sheet name Excel accepts, derived from ``wanted`` and unique in ``workbook``."""
    name = _BAD_TITLE.sub("_", wanted).strip().strip("'")[:MAX_SHEET_TITLE] or "Sheet"
    if name.casefold() == "history":
        name = "History_"
    taken = {title.casefold() for title in workbook.sheetnames}
    candidate, n = name, 2
    while candidate.casefold() in taken:
        suffix = f" ({n})"
        candidate = name[: MAX_SHEET_TITLE - len(suffix)] + suffix
        n += 1
    return candidate


def new_workbook() -> Any:
    """An empty openpyxl workbook with no sheets; add them with :func:`add_sheet`."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def add_sheet(workbook: Any, wanted: str) -> Any:
    """A new sheet at the end of ``workbook``, named by :func:`sheet_title`."""
    return workbook.create_sheet(sheet_title(workbook, wanted))


def headings(
    sheet: Any, row: int, texts: Sequence[str], widths: Sequence[int] | None = None
) -> None:
    """A bold, filled, wrapped heading row; ``widths`` sets the column widths."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    for column, text in enumerate(texts, start=1):
        cell = put(sheet, row, column, text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADING_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if widths is not None:
            sheet.column_dimensions[get_column_letter(column)].width = widths[column - 1]


def title_rows(sheet: Any, title: str, *lines: str) -> int:
    """A bold title in A1 and each of ``lines`` below it; returns the next free row."""
    from openpyxl.styles import Font

    put(sheet, 1, 1, title).font = Font(bold=True, size=14)
    for offset, line in enumerate(lines, start=2):
        put(sheet, offset, 1, line)
    return 2 + len(lines)


def save(workbook: Any, path: Path) -> None:
    """Save ``workbook`` to ``path`` atomically (a temporary file, then a rename)."""
    with atomic_output(path) as temporary:
        workbook.save(temporary)
