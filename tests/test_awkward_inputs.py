"""Awkward but real inputs: each gets a clear issue or exit code, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from mectk.mapping import load_mapping
from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager

REGISTRY = build_registry(make_plugin_manager(load_entrypoints=False))
TINY = """
format = "tiny"
[constants]
programme_id = "P"
[[sheets]]
sheet = "S"
record = "enterprise"
[sheets.constants]
independent = true
legal_form = "other"
origin = "new"
cqc_status = "unknown"
locality_id = "L1"
status_date = "2025-04-01"
first_contact_date = "2025-03-01"
[sheets.columns]
enterprise_id = "Ref"
trading_name = "Name"
status = { heading = "Stage", values = { "1" = "enquiry", "2" = "developing" } }
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mectk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )


def tiny_book(path: Path, rows: list[list[object]], *, first_row: int = 1) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "S"
    for offset, values in enumerate([["Ref", "Name", "Stage"], *rows]):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=first_row + offset, column=column, value=value)
    workbook.save(path)
    return path


def validate(tmp_path: Path, book: Path, mapping_text: str = TINY):
    mapping = tmp_path / "tiny.toml"
    mapping.write_text(mapping_text, encoding="utf-8")
    registry = REGISTRY.with_mapping(load_mapping(mapping))
    return validate_files(registry, [book], format_name="tiny")


def patch_sheet(book: Path, old: bytes, new: bytes) -> None:
    """Rewrite the first sheet's XML as Excel itself would have saved it."""
    members = {}
    with zipfile.ZipFile(book) as archive:
        for name in archive.namelist():
            members[name] = archive.read(name)
    sheet = members["xl/worksheets/sheet1.xml"]
    assert old in sheet, sheet[:400]
    members["xl/worksheets/sheet1.xml"] = sheet.replace(old, new)
    with zipfile.ZipFile(book, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_a_header_below_many_blank_rows_is_found(tmp_path):
    book = tiny_book(tmp_path / "low.xlsx", [["E1", "One", 1], ["E2", "Two", 2]], first_row=30)
    result = validate(tmp_path, book)
    assert (result.rows_read, result.accepted) == (2, 2)


def test_numeric_cells_go_through_value_maps(tmp_path):
    result = validate(tmp_path, tiny_book(tmp_path / "n.xlsx", [["E1", "One", 1]]))
    assert [r.model.status for r in result.accepted_records] == ["enquiry"]


def test_an_error_value_from_a_formula_is_reported_at_its_cell(tmp_path):
    book = tiny_book(tmp_path / "e.xlsx", [["E1", "PLACEHOLDER", 1]])
    patch_sheet(
        book,
        b'<c r="B2" t="inlineStr"><is><t>PLACEHOLDER</t></is></c>',
        b'<c r="B2" t="e"><f>VLOOKUP(A2,Lists!A:B,2,FALSE)</f><v>#N/A</v></c>',
    )
    result = validate(tmp_path, book)
    [issue] = [i for i in result.issues if i.severity == "error"]
    assert (issue.code, issue.cell, issue.value) == ("cell-error", "B2", "#N/A")


def test_formulas_whose_result_is_empty_text_or_uncalculated_helpers_add_no_rows(tmp_path):
    book = tiny_book(tmp_path / "f.xlsx", [["E1", "PLACEHOLDER", 1]])
    helper = b"".join(
        f'<row r="{n}"><c r="D{n}"><f>IF(A{n}="","",1)</f><v></v></c></row>'.encode()
        for n in range(3, 40)
    )
    patch_sheet(
        book,
        b'<c r="B2" t="inlineStr"><is><t>PLACEHOLDER</t></is></c>',
        b'<c r="B2" t="str"><f>"One"&amp;""</f><v></v></c>',
    )
    patch_sheet(book, b"</row></sheetData>", b"</row>" + helper + b"</sheetData>")
    result = validate(tmp_path, book)
    assert result.rows_read == 1
    assert not [i for i in result.issues if i.code == "formula-not-calculated"]


def test_a_stray_cell_far_away_is_refused_before_loading(tmp_path):
    book = tiny_book(tmp_path / "far.xlsx", [["E1", "One", 1]])
    workbook = openpyxl.load_workbook(book)
    workbook["S"]["XFD1048576"] = "x"
    workbook.save(book)
    (tmp_path / "m.toml").write_text(TINY, encoding="utf-8")
    done = run("validate", str(book), "--mapping", str(tmp_path / "m.toml"), cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "sheet-too-large" in done.stderr
    assert "limit sheet_cells" in done.stderr


@pytest.mark.parametrize(
    ("column", "cell", "code"),
    [
        ("Paid FTE", "1e1000000", "out-of-range"),
        ("Status date", "April 0000", "date-invalid"),
        ("Paid workers", "9" * 5000, "out-of-range"),
    ],
)
def test_absurd_values_are_issues_not_crashes(tmp_path, column, cell, code):
    path = tmp_path / "t.xlsx"
    assert run("template", str(path), cwd=tmp_path).returncode == 0
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Enterprises"]
    letter = next(c.column_letter for c in sheet[1] if c.value == column)
    sheet["A2"] = "E1"
    sheet[f"{letter}2"] = cell
    workbook.save(path)
    done = run("validate", str(path), "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    codes = {(i["code"], i["cell"]) for i in json.loads(done.stdout)["issues"]}
    assert (code, f"{letter}2") in codes


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path):
    mapping = TINY.replace('sheet = "S"\n', "")
    data = tmp_path / "t.csv"
    data.write_text('Ref,Name,Stage\nE1,"Two\nlines",1\nE2,Bad,9\n', encoding="utf-8")
    result = validate(tmp_path, data, mapping)
    [issue] = [i for i in result.issues if i.severity == "error"]
    assert (issue.record_id, issue.cell) == ("E2", "C3")


def test_a_csv_with_an_unclosed_quote_is_refused_with_its_row(tmp_path):
    (tmp_path / "m.toml").write_text(TINY.replace('sheet = "S"\n', ""), encoding="utf-8")
    data = tmp_path / "t.csv"
    data.write_text('Ref,Name,Stage\nE1,"One,1\nE2,Two,1\n', encoding="utf-8")
    done = run("validate", str(data), "--mapping", "m.toml", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "row 2" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("encoding", ["rot13", "base64", "no-such-encoding"])
def test_an_encoding_that_is_not_a_text_encoding_is_a_usage_error(tmp_path, encoding):
    (tmp_path / "m.toml").write_text(TINY.replace('sheet = "S"\n', ""), encoding="utf-8")
    (tmp_path / "t.csv").write_text("Ref,Name,Stage\nE1,One,1\n", encoding="utf-8")
    done = run("validate", "t.csv", "--mapping", "m.toml", "--encoding", encoding, cwd=tmp_path)
    assert done.returncode == 2, done.stderr


def test_utf16_text_from_excel_is_read(tmp_path):
    (tmp_path / "m.toml").write_text(TINY.replace('sheet = "S"\n', ""), encoding="utf-8")
    (tmp_path / "t.csv").write_text("Ref\tName\tStage\nE1\tCafé\t1\n", encoding="utf-16")
    done = run("validate", "t.csv", "--mapping", "m.toml", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["accepted"] == 1


def test_annotate_into_an_empty_name_or_a_folder_is_a_usage_error(tmp_path):
    path = tmp_path / "t.xlsx"
    run("template", str(path), cwd=tmp_path)
    for target in ("", str(tmp_path)):
        done = run("validate", str(path), "--annotate", target, cwd=tmp_path)
        assert done.returncode == 2, (target, done.stderr)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            ('trading_name = "Name"', 'trading_name = { heading = "Name", blank = "zero" }'),
            "does not fit",
        ),
        (
            (
                'trading_name = "Name"',
                'trading_name = "Name"\nlaunch_date = { heading = "L", date_formats = ["%Q"] }',
            ),
            "is not a date format",
        ),
        (('programme_id = "P"', 'programme_id = "not an id!"'), "constants.programme_id"),
        (('format = "tiny"', 'format = "canonical"'), "already used by plugin"),
    ],
)
def test_mapping_mistakes_are_usage_errors(tmp_path, change, needle):
    (tmp_path / "m.toml").write_text(TINY.replace(*change), encoding="utf-8")
    book = tiny_book(tmp_path / "b.xlsx", [["E1", "One", 1]])
    done = run("validate", str(book), "--mapping", "m.toml", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert needle in done.stderr


def test_mapping_and_a_different_format_together_are_a_usage_error(tmp_path):
    (tmp_path / "m.toml").write_text(TINY, encoding="utf-8")
    book = tiny_book(tmp_path / "b.xlsx", [["E1", "One", 1]])
    done = run("validate", str(book), "--mapping", "m.toml", "--format", "canonical", cwd=tmp_path)
    assert done.returncode == 2
    assert "give one or the other" in done.stderr


def test_snapshot_columns_without_a_date_are_said_once(tmp_path):
    text = TINY + '[[sheets.snapshots]]\nheading = "Hours"\noutcome_type = "hours_per_week"\n'
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "S"
    for row in (["Ref", "Name", "Stage", "Hours"], ["E1", "One", 1, 5], ["E2", "Two", 1, 6]):
        sheet.append(row)
    workbook.save(tmp_path / "h.xlsx")
    result = validate(tmp_path, tmp_path / "h.xlsx", text)
    assert [i.code for i in result.issues if i.severity == "error"] == ["as-at-missing"]
    assert result.rows_read == 2


def test_a_check_that_fails_is_exit_4_naming_it(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "bad_check.py").write_text(
        "from mectk import CheckSpec, hookimpl\n"
        "def run(context):\n    raise KeyError('oops')\n"
        "@hookimpl\ndef mectk_register_checks():\n"
        "    return [CheckSpec(name='fragile', title='t', codes=(), run=run)]\n",
        encoding="utf-8",
    )
    info = site / "bad_check-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bad-check\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[mectk]\nbadcheck = bad_check\n")
    path = tmp_path / "t.xlsx"
    run("template", str(path), cwd=tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "mectk", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(site)},
        check=False,
    )
    assert done.returncode == 4
    assert "check 'fragile' (plugin 'badcheck')" in done.stderr
