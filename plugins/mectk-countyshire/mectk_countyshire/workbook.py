"""Writing a tracker exactly as Countyshire keeps it (domain.md 4.4), for samples and tests.

Contract: :func:`write_tracker` lays out the ``Tracker`` sheet: the merged title on row 1,
the notes row, a blank row 3, the 23 headings on row 4, one row per entry of ``rows``
from row 5 (None entries are left blank), then a ``TOTAL`` row of SUM formulas; plus the
ignored ``Lists`` sheet of dropdown values. Cells are written as given: dates as real
Excel dates shown dd/mm/yyyy, text dates as text.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HEADINGS = (
    "Ref No",
    "Name of Enterprise",
    "Contact Name",
    "Tel",
    "Email",
    "Postcode",
    "District",
    "Date of first contact",
    "New or Existing",
    "Date started trading",
    "Still trading?",
    "Services offered",
    "Personal Care?",
    "CQC Reg?",
    "Doing It Right signed",
    "No. of staff (inc. owner)",
    "No. of volunteers",
    "Approx hrs per wk",
    "No. of people supported",
    "DP clients",
    "Self funders",
    "Date closed",
    "Comments",
)
TITLE = "Community Micro-enterprise Project \u2013 Enterprise Tracker"
NOTES = (
    "Please enter dates as DD/MM/YYYY. Do not insert columns. "
    "Y = Yes, N = No, leave blank if not known."
)
SUMMED = ("No. of staff (inc. owner)", "No. of volunteers", "Approx hrs per wk",
          "No. of people supported", "DP clients", "Self funders")  # fmt: skip
FIRST_ROW = 5

Row = Mapping[str, Any]


def write_tracker(path: Path, rows: Sequence[Row | None]) -> None:
    """Write a tracker workbook to ``path``; each row maps headings to cell values."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from mectk.reportkit import save

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Tracker"
    sheet["A1"] = TITLE
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells(f"A1:{get_column_letter(len(HEADINGS))}1")
    sheet["A2"] = NOTES
    for column, heading in enumerate(HEADINGS, start=1):
        sheet.cell(row=4, column=column, value=heading).font = Font(bold=True)
    for offset, row in enumerate(rows):
        if row is None:
            continue
        for column, heading in enumerate(HEADINGS, start=1):
            value = row.get(heading)
            if value is None:
                continue
            cell = sheet.cell(row=FIRST_ROW + offset, column=column, value=value)
            if isinstance(value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
            elif isinstance(value, str):
                cell.data_type = "s"
    total = FIRST_ROW + len(rows)
    sheet.cell(row=total, column=1, value="TOTAL").font = Font(bold=True)
    for heading in SUMMED:
        letter = get_column_letter(HEADINGS.index(heading) + 1)
        sheet[f"{letter}{total}"] = f"=SUM({letter}{FIRST_ROW}:{letter}{total - 1})"
    sheet.freeze_panes = "C5"
    lists = workbook.create_sheet("Lists")
    for column, (name, choices) in enumerate(
        (("Y/N", ("Y", "N")), ("New or Existing", ("New", "Existing"))), start=1
    ):
        lists.cell(row=1, column=column, value=name)
        for offset, choice in enumerate(choices, start=2):
            lists.cell(row=offset, column=column, value=choice)
    save(workbook, path)
