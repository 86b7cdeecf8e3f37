"""The report-writing toolkit: safe sheet names, text kept as text, atomic saves."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from mectk.reportkit import (
    MAX_CELL_TEXT,
    ReportTextTooLongError,
    add_sheet,
    new_workbook,
    put,
    save,
    sheet_title,
)


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("Summary", "Summary"),
        ("Q1/Q2: [draft]?", "Q1_Q2_ _draft__"),
        ("x" * 40, "x" * 31),
        ("History", "History_"),
        ("   ", "Sheet"),
        ("'quoted'", "quoted"),
    ],
)
def test_sheet_titles_follow_excels_rules(wanted: str, expected: str) -> None:
    assert sheet_title(new_workbook(), wanted) == expected


def test_sheet_titles_are_unique_ignoring_case() -> None:
    workbook = new_workbook()
    first = add_sheet(workbook, "Notes")
    second = add_sheet(workbook, "NOTES")
    third = add_sheet(workbook, "n" * 40)
    fourth = add_sheet(workbook, "N" * 40)
    assert (first.title, second.title) == ("Notes", "NOTES (2)")
    assert len(third.title) == len(fourth.title) == 31
    assert fourth.title.endswith(" (2)")


def test_written_cells_read_back_as_text_numbers_and_dates(tmp_path: Path) -> None:
    workbook = new_workbook()
    sheet = add_sheet(workbook, "Data")
    put(sheet, 1, 1, '=HYPERLINK("http://x")')
    put(sheet, 1, 2, Decimal("12.50"), "#,##0.00")
    put(sheet, 1, 3, Decimal("7"))
    put(sheet, 1, 4, datetime.date(2025, 6, 30))
    out = tmp_path / "r.xlsx"
    save(workbook, out)
    back = openpyxl.load_workbook(out)["Data"]
    assert back["A1"].value == '=HYPERLINK("http://x")'
    assert back["A1"].data_type == "s"
    assert back["B1"].value == 12.5
    assert back["B1"].number_format == "#,##0.00"
    assert back["C1"].value == 7
    assert back["D1"].value == datetime.datetime(2025, 6, 30)
    assert back["D1"].number_format == "dd/mm/yyyy"
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]


def test_text_longer_than_excel_allows_is_refused_before_writing(tmp_path: Path) -> None:
    workbook = new_workbook()
    sheet = add_sheet(workbook, "Data")
    put(sheet, 1, 1, "y" * MAX_CELL_TEXT)
    with pytest.raises(ReportTextTooLongError, match="32,768 characters"):
        put(sheet, 2, 1, "y" * (MAX_CELL_TEXT + 1))
    assert sheet["A2"].value is None
    assert not list(tmp_path.iterdir())
