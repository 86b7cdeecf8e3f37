"""Text fields: numbers where identifiers belong, formula-looking text, and list items the
canonical workbook cannot hold. Real workbooks are written and read back."""

from __future__ import annotations

from pathlib import Path

import attrs
import openpyxl
import pytest

from mectk.issues import MASK
from mectk.mapping import load_mapping
from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.template import MultiValueItemError, write_workbook
from mectk.textsafety import looks_like_formula
from tests.hostile.corpus import CSV_MAPPING, HEADINGS, TITLES, good_enterprise, leading_zeros_csv

REGISTRY = attrs.evolve(build_registry(make_plugin_manager(load_entrypoints=False)), checks={})
"""Reading and record validation only: the cases here are about cells, not cross-record rules."""


def enterprises_xlsx(path: Path, extra: list[str], rows: list[dict[str, object]]) -> Path:
    """A canonical Enterprises sheet: the corpus's valid rows, with ``rows`` overriding
    fields (by name) and ``extra`` fields as further columns."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Enterprises"
    names = [*good_enterprise(0), *extra]
    sheet.append([*HEADINGS, *(TITLES[n] for n in extra)])
    for n, changes in enumerate(rows, start=2):
        values = {**good_enterprise(n), **changes}
        sheet.append([values.get(name) for name in names])
    workbook.save(path)
    return path


def issues_of(result, code: str) -> dict[str | None, object]:
    found = [i for i in result.issues if i.code == code]
    by_field = {i.field: i for i in found}
    assert len(by_field) == len(found), "one issue per field expected"
    return by_field


def test_numbers_in_identifier_columns_are_said_once_per_column(tmp_path: Path):
    path = enterprises_xlsx(
        tmp_path / "numbers.xlsx",
        ["company_number", "lead_phone"],
        [
            {"company_number": 1234567, "trading_name": 12345},
            {"company_number": 2345678.0},
            {"company_number": 12345678, "enterprise_id": 42},
            {"company_number": "00345678", "lead_phone": 7700900123},
        ],
    )
    result = validate_files(REGISTRY, [path])
    notes = issues_of(result, "number-in-text-column")
    # names are free text: a number there is a name, not an identifier that lost zeros
    assert set(notes) == {"company_number", "enterprise_id", "lead_phone"}

    company = notes["company_number"]
    assert (company.severity, company.sheet, company.cell, company.row) == (
        "warning",
        "Enterprises",
        "L2",
        2,
    )
    assert company.value == "1234567"  # as Excel shows it, not 1234567.0
    assert company.message.startswith("3 cell(s) of 'Company number' in sheet 'Enterprises'")
    assert "padded with zeros to 8" in company.message
    assert "1234567 was read as 01234567" in company.message
    assert "Format the column as Text" in company.hint

    phone = notes["lead_phone"]  # personal data: never echoed
    assert (phone.value, phone.cell) == (MASK, "M5")
    assert "7700900123" not in phone.message
    assert "1 cell(s)" in phone.message
    assert "padded" not in phone.message
    [rejected] = [i for i in result.issues if i.code == "format-invalid"]
    assert (rejected.field, rejected.value) == ("lead_phone", MASK)

    assert notes["enterprise_id"].record_id == "42"
    companies = {r.model.enterprise_id: r.model.company_number for r in result.accepted_records}
    assert companies == {"E-2": "01234567", "E-3": "02345678", "42": "12345678"}
    assert result.accepted_records[0].model.trading_name == "12345"


def test_the_same_digits_as_csv_text_are_not_reported(tmp_path: Path):
    mapping_path = tmp_path / "csv.toml"
    mapping_path.write_text(CSV_MAPPING, encoding="utf-8")
    mapping = load_mapping(mapping_path)
    result = validate_files(
        REGISTRY.with_mapping(mapping), [leading_zeros_csv(tmp_path)], format_name=mapping.format
    )
    assert [i.code for i in result.issues] == []
    [record] = result.accepted_records
    assert (record.model.lead_phone, record.model.company_number) == ("07700900123", "01234567")


@pytest.mark.parametrize(
    ("text", "formula"),
    [
        ("=1+1", True),
        ("+1+1", True),
        ("-2+3", True),
        ("-", True),
        ("@SUM(A1)", True),
        ("\t=1", True),
        ("\rx", True),
        ("-5", False),
        ("-1,250.50", False),
        ("+44 7700 900123", False),
        ("+447700900123", False),
        ("Name", False),
        ("", False),
    ],
)
def test_formula_looking_text_but_not_signed_numbers(text: str, formula: bool):
    assert looks_like_formula(text) is formula


def test_formula_looking_text_is_one_info_per_column_and_kept_as_written(tmp_path: Path):
    names = ["-", '=HYPERLINK("http://x","x")', "-", "-5", "+44 1905 123456", "Plain"]
    path = enterprises_xlsx(
        tmp_path / "formulas.xlsx", [], [{"trading_name": name} for name in names]
    )
    # openpyxl would store "=..." as a formula: make every name a text cell
    workbook = openpyxl.load_workbook(path)
    for row in workbook["Enterprises"].iter_rows(min_row=2, min_col=3, max_col=3):
        row[0].data_type = "s"
    workbook.save(path)

    result = validate_files(REGISTRY, [path])
    assert result.valid
    [note] = issues_of(result, "formula-like-text").values()
    assert (note.severity, note.field, note.cell, note.value) == (
        "info",
        "trading_name",
        "C2",
        MASK,
    )
    assert note.message.startswith("3 value(s) of 'Trading name' in sheet 'Enterprises'")
    assert "kept as text" in note.message
    assert "apostrophe" in note.hint
    kept = [r.model.trading_name for r in result.accepted_records]
    assert kept == names


def test_formula_looking_list_items_and_names_show_their_value(tmp_path: Path):
    path = tmp_path / "localities.xlsx"
    localities = [
        {"locality_id": "L1", "name": "=SUM(1)", "locality_type": "custom"},
        {"locality_id": "L2", "name": "Upton", "locality_type": "custom", "aliases": ["@home"]},
        {"locality_id": "L3", "name": "+Ripple", "locality_type": "custom"},
    ]
    write_workbook(path, {"locality": localities})
    result = validate_files(REGISTRY, [path])
    notes = issues_of(result, "formula-like-text")
    assert set(notes) == {"name", "aliases"}
    assert (notes["name"].value, notes["name"].record_id) == ("=SUM(1)", "L1")
    assert notes["name"].message.startswith("2 value(s) of 'Locality name'")
    assert (notes["aliases"].value, notes["aliases"].record_id) == ("@home", "L2")
    read = {r.model.locality_id: (r.model.name, r.model.aliases) for r in result.accepted_records}
    assert read == {"L1": ("=SUM(1)", None), "L2": ("Upton", ("@home",)), "L3": ("+Ripple", None)}


def test_the_workbook_refuses_a_list_item_holding_a_separator(tmp_path: Path):
    path = tmp_path / "round.xlsx"
    path.write_bytes(b"an earlier workbook")
    rows = {
        "locality": [
            {"locality_id": "L1", "name": "Upton", "locality_type": "custom"},
            {
                "locality_id": "L2",
                "name": "Ripple",
                "locality_type": "custom",
                "aliases": ["Ripple", "Upton; Snodsbury"],
            },
        ]
    }
    with pytest.raises(MultiValueItemError) as refused:
        write_workbook(path, rows)
    error = refused.value
    assert error.exit_code == 2
    assert error.context == {"file": "round.xlsx", "sheet": "Localities", "cell": "F3"}
    assert "'Locality aliases' of record 'L2'" in error.message
    assert "'Upton; Snodsbury'" in error.message
    assert error.hint
    assert path.read_bytes() == b"an earlier workbook"

    rows["locality"][1]["aliases"] = ["Ripple", "Upton\nSnodsbury"]
    with pytest.raises(MultiValueItemError):
        write_workbook(path, rows)

    rows["locality"][1]["aliases"] = ["Ripple", "Upton, Snodsbury"]
    write_workbook(path, rows)
    result = validate_files(REGISTRY, [path])
    aliases = {r.model.locality_id: r.model.aliases for r in result.accepted_records}
    assert aliases == {"L1": None, "L2": ("Ripple", "Upton, Snodsbury")}


def test_a_line_break_in_a_cell_separates_list_items(tmp_path: Path):
    path = tmp_path / "breaks.xlsx"
    write_workbook(
        path, {"locality": [{"locality_id": "L1", "name": "Upton", "locality_type": "custom"}]}
    )
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Localities"]
    column = [c.value for c in sheet[1]].index("Locality aliases") + 1
    sheet.cell(row=2, column=column, value="Upton  on\r\nSevern\nSnodsbury ;  Ripple")
    workbook.save(path)
    result = validate_files(REGISTRY, [path])
    [record] = result.accepted_records
    assert record.model.aliases == ("Upton on", "Severn", "Snodsbury", "Ripple")
