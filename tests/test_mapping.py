"""Mapping files: a council layout read with no code, every row accounted for."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import attrs
import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from mectk.errors import MectkError, UsageError
from mectk.mapping import load_mapping
from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager

MAPPING = """
format = "shire-tracker"
title = "Shire council micro-enterprise tracker"
as_at = "2025-06-30"

[identify]
sheets = ["Tracker"]
headings = ["Ref No", "Name of Enterprise"]

[constants]
programme_id = "SH-CME"

[[sheets]]
sheet = "Tracker"
record = "enterprise"
header_rows = [4, 5]
skip_values = { "Ref No" = ["TOTAL"] }
ignore_columns = ["Comments"]

[sheets.constants]
independent = true
cqc_status = "unknown"
locality_id = "L-SHIRE"
status = "trading"
legal_form = "unknown"

[sheets.columns]
enterprise_id = "Ref No"
trading_name = "Name of Enterprise"
base_postcode = "Provider details / Postcode"
first_contact_date = { heading = "Dates / First contact", date_formats = ["%d/%m/%Y"] }
status_date = { heading = "Dates / Status since" }
origin = { heading = "New or Existing", values = { "Exist." = "established" } }
services = { heading = "Services offered", separators = [",", "/"] }
dbs_checked = { heading = "Compliance / DBS Seen", blank = "no" }
launch_date = { heading = "Dates / Started trading" }

[[sheets.snapshots]]
heading = "Approx hrs per wk"
outcome_type = "hours_per_week"
"""

HEADINGS = [
    ("Provider details", "Ref No"),
    ("Provider details", "Name of Enterprise"),
    ("Provider details", "Postcode"),
    ("Dates", "First contact"),
    ("Dates", "Status since"),
    ("Dates", "Started trading"),
    ("", "New or Existing"),
    ("", "Services offered"),
    ("Compliance", "DBS Seen"),
    ("", "Approx hrs per wk"),
    ("", "Comments"),
]
GROUPS = {"Provider details": (1, 3), "Dates": (4, 6), "Compliance": (9, 9)}


def good_row(n: int) -> list[object]:
    return [
        f"SH-{n:04d}",
        f"Enterprise {n}",
        "WR5 2NP",
        "01/04/2025",
        45748,
        datetime.datetime(2025, 5, 1, 14, 30),
        "New",
        "Cleaning, shopping / companionship",
        "Y",
        10 + n,
        "fine",
    ]


DELIBERATE = {
    # row offset within the data: (column heading, bad value, expected code)
    2: ("Postcode", "QA1 1AA", "format-invalid"),
    4: ("First contact", "31/02/2025", "date-invalid"),
    6: ("New or Existing", "Maybe", "code-unknown"),
    8: ("Name of Enterprise", "#REF!", "cell-error"),
    10: ("Status since", None, "value-required"),
}
DATA_ROWS = 12
FIRST_DATA_ROW = 6
BLANKS = 1000


def build_tracker(path: Path) -> dict[str, str]:
    """The council's workbook; returns the expected cell of each deliberate error."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Tracker"
    sheet["A1"] = "Shire Council Community Micro-enterprise Project – Enterprise Tracker"  # noqa: RUF001
    sheet.merge_cells("A1:K1")
    sheet["A2"] = "Please enter dates as DD/MM/YYYY. Y = Yes, N = No, blank if not known."
    for group, (first, last) in GROUPS.items():
        sheet.cell(row=4, column=first, value=group)
        if last > first:
            sheet.merge_cells(start_row=4, start_column=first, end_row=4, end_column=last)
    for column, (_, child) in enumerate(HEADINGS, start=1):
        sheet.cell(row=5, column=column, value=child)
    expected: dict[str, str] = {}
    for n in range(DATA_ROWS):
        row = good_row(n)
        number = FIRST_DATA_ROW + n
        if n in DELIBERATE:
            heading, bad, code = DELIBERATE[n]
            column = [c for _, c in HEADINGS].index(heading)
            row[column] = bad
            expected[code] = f"{get_column_letter(column + 1)}{number}"
        for column, value in enumerate(row, start=1):
            sheet.cell(row=number, column=column, value=value)
    sheet.row_dimensions[FIRST_DATA_ROW + 1].hidden = True
    sheet.row_dimensions[FIRST_DATA_ROW + 3].hidden = True
    total = FIRST_DATA_ROW + DATA_ROWS + BLANKS
    sheet.cell(row=total, column=1, value="TOTAL")
    sheet.cell(row=total, column=10, value=f"=SUM(J{FIRST_DATA_ROW}:J{total - 1})")
    workbook.save(path)
    return expected


@pytest.fixture
def tracker(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    book = tmp_path / "CME Tracker 2025-26.xlsx"
    expected = build_tracker(book)
    mapping = tmp_path / "shire.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return book, mapping, expected


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mectk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(os.environ),
        timeout=300,
        check=False,
    )


def test_a_council_tracker_imports_through_a_mapping_with_every_row_accounted_for(tracker):
    book, mapping_path, expected = tracker
    registry = build_registry(make_plugin_manager(load_entrypoints=False))
    registry = registry.with_mapping(load_mapping(mapping_path))
    result = validate_files(registry, [book], format_name="shire-tracker")
    report = result.as_json(version="test")
    counts = report["counts"]
    enterprises = DATA_ROWS
    snapshots = DATA_ROWS  # one hours-per-week outcome per row with a value
    assert counts["rows_read"] == enterprises + snapshots
    assert counts["rows_read"] == counts["accepted"] + counts["rejected"]
    assert counts["blank_rows"] == BLANKS
    assert counts["skipped_rows"] == 1  # the TOTAL row
    accepted_ids = {
        r.model.enterprise_id for r in result.accepted_records if r.kind == "enterprise"
    }
    assert len(accepted_ids) == DATA_ROWS - len(DELIBERATE)
    assert counts["rejected"] >= len(DELIBERATE)
    found = {i["code"]: i for i in report["issues"] if i["severity"] == "error"}
    for code, cell in expected.items():
        assert found[code]["cell"] == cell, (code, found.get(code))
        assert found[code]["sheet"] == "Tracker"
    assert found["format-invalid"]["value"] == "***"
    assert found["cell-error"]["value"] == "#REF!"
    assert found["format-invalid"]["column"] == "Provider details / Postcode"
    assert {i["code"] for i in report["issues"]} >= {"rows-hidden", "row-skipped"}
    hidden = next(i for i in report["issues"] if i["code"] == "rows-hidden")
    assert "Tracker': 2." in hidden["message"]
    assert not [i for i in report["issues"] if i["code"] == "column-unknown"]
    matched = {c["heading"]: (c["field"], c["matched_by"]) for c in report["columns"]}
    assert matched["Compliance / DBS Seen"] == ("dbs_checked", "mapping heading")
    models = {
        r.model.enterprise_id: r.model for r in result.accepted_records if r.kind == "enterprise"
    }
    first = models["SH-0000"]
    assert first.first_contact_date == datetime.date(2025, 4, 1)
    assert first.status_date == datetime.date(2025, 4, 1)  # serial 45748
    assert first.launch_date == datetime.date(2025, 5, 1)  # a datetime, time dropped
    assert first.services == ("home_help_domestic", "shopping_errands", "companionship_social")
    assert first.dbs_checked is True
    assert first.programme_id == "SH-CME"
    hours = [r.model for r in result.accepted_records if r.kind == "outcome"]
    assert {h.as_at_date for h in hours} == {datetime.date(2025, 6, 30)}
    assert sorted(int(h.value) for h in hours)[:2] == [10, 11]


def test_the_cli_validates_and_annotates_through_a_mapping(tracker, tmp_path):
    book, mapping_path, expected = tracker
    before = book.read_bytes()
    out = tmp_path / "annotated.xlsx"
    done = run(
        "validate",
        str(book),
        "--mapping",
        str(mapping_path),
        "--json",
        "--annotate",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["files"][0]["format"] == "shire-tracker"
    assert book.read_bytes() == before
    annotated = openpyxl.load_workbook(out)
    assert annotated.sheetnames[0] == "Issues"
    sheet = annotated["Tracker"]
    for code, cell in expected.items():
        assert sheet[cell].fill.fgColor.rgb.endswith("FFC7CE"), cell
        assert f"[{code}]" in sheet[cell].comment.text
    codes = [row[0] for row in annotated["Issues"].iter_rows(min_row=2, values_only=True)]
    assert len(codes) == len(report["issues"])


def test_a_mapping_with_identify_is_chosen_without_format(tracker, tmp_path):
    book, mapping_path, _ = tracker
    done = run("validate", str(book), "--mapping", str(mapping_path), "--json", cwd=tmp_path)
    assert json.loads(done.stdout)["files"][0]["format"] == "shire-tracker"


def test_identification_says_why_a_mapping_claims_or_declines_a_file(tracker, tmp_path):
    from mectk.mapping import mapping_verdict
    from mectk.sniff import sniff

    book, mapping_path, _ = tracker
    mapping = load_mapping(mapping_path)
    claimed = mapping_verdict(mapping, sniff(book))
    assert claimed.claimed
    assert claimed.reason == "sheet 'Tracker' has the headings 'Ref No', 'Name of Enterprise'"

    other = openpyxl.Workbook()
    other.active.title = "Tracker"
    other.active.append(["Ref No", "Trading name"])
    other.save(tmp_path / "other.xlsx")
    declined = mapping_verdict(mapping, sniff(tmp_path / "other.xlsx"))
    assert not declined.claimed
    assert declined.reason == (
        "headings 'Name of Enterprise' not in the first 20 rows of sheet 'Tracker'"
    )
    other.active.title = "Data"
    other.save(tmp_path / "other.xlsx")
    assert mapping_verdict(mapping, sniff(tmp_path / "other.xlsx")).reason == (
        "the workbook has no sheet 'Tracker'"
    )
    (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert mapping_verdict(mapping, sniff(tmp_path / "x.csv")).reason == (
        "a CSV file has no sheet 'Tracker'"
    )
    xlsx_only = load_mapping(mapping_path)
    xlsx_only = attrs.evolve(xlsx_only, source_types=("xlsx",))
    assert mapping_verdict(xlsx_only, sniff(tmp_path / "x.csv")).reason == (
        "it reads xlsx files, and this is csv"
    )

    # with no --format, the refusal names each mapping format that declined, and why
    registry = build_registry(make_plugin_manager(load_entrypoints=False)).with_mapping(mapping)
    with pytest.raises(MectkError) as raised:
        validate_files(registry, [tmp_path / "other.xlsx"])
    assert raised.value.code == "format-not-recognised"
    assert "shire-tracker: the workbook has no sheet 'Tracker'" in raised.value.message


def test_period_dates_snapshots_when_the_mapping_has_no_as_at(tracker, tmp_path):
    book, mapping_path, _ = tracker
    mapping_path.write_text(MAPPING.replace('as_at = "2025-06-30"\n', ""), encoding="utf-8")
    registry = build_registry(make_plugin_manager(load_entrypoints=False))
    from mectk.sources import ReadOptions

    result = validate_files(
        registry.with_mapping(load_mapping(mapping_path)),
        [book],
        format_name="shire-tracker",
        options=ReadOptions(as_at=datetime.date(2025, 9, 30)),
    )
    dates = {r.model.as_at_date for r in result.accepted_records if r.kind == "outcome"}
    assert dates == {datetime.date(2025, 9, 30)}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("format = 'x'\n[[sheets]\n", "not a valid TOML file"),
        ("format = 'Bad Name'\n[[sheets]]\nrecord = 'enterprise'\n", "format"),
        (
            "format = 'ok'\n[[sheets]]\nrecord = 'enterprise'\n[sheets.columns]\nnope = 'X'\n",
            "'nope' is not a field of enterprise",
        ),
        (
            "format = 'ok'\n[[sheets]]\nrecord = 'enterprise'\n[sheets.columns]\n"
            "origin = { heading = 'O', values = { 'x' = 'sideways' } }\n",
            "sheets[0].columns.origin.values.x: 'sideways' is not a valid Origin",
        ),
        (
            "format = 'ok'\n[[sheets]]\nrecord = 'enterprise'\n[[sheets.snapshots]]\n"
            "heading = 'H'\noutcome_type = 'happiness'\n",
            "'happiness' is not an outcome type",
        ),
        (
            "format = 'ok'\n[[sheets]]\nrecord = 'enterprise'\nheader_rows = [1, 2, 3]\n",
            "sheets[0].header_rows",
        ),
    ],
)
def test_mapping_file_problems_are_clear_usage_errors(tmp_path, text, needle):
    path = tmp_path / "council.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        load_mapping(path)
    assert needle in raised.value.message
    assert "council.toml" in raised.value.message
    done = run("validate", str(path), "--mapping", str(path), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_csv_through_a_mapping_with_cp1252_fallback(tmp_path):
    mapping = tmp_path / "csv.toml"
    mapping.write_text(
        "format = 'metro-csv'\n[constants]\nprogramme_id = 'M'\n"
        "[[sheets]]\nrecord = 'enterprise'\nstop_at_first_blank = true\n"
        "[sheets.constants]\nindependent = true\ncqc_status = 'unknown'\nlegal_form = 'cic'\n"
        "origin = 'new'\n"
        "[sheets.columns]\nenterprise_id = 'org_ref'\ntrading_name = 'org_name'\n"
        "status = { heading = 'status', values = { 'Live' = 'trading' } }\n"
        "status_date = 'go_live'\nfirst_contact_date = 'first_engaged'\nlaunch_date = 'go_live'\n"
        "locality_id = 'ward_code'\nservices = 'services'\ncompany_number = 'company'\n",
        encoding="utf-8",
    )
    data = tmp_path / "export.csv"
    data.write_bytes(
        "org_ref;org_name;status;go_live;first_engaged;ward_code;services;company\r\n"
        "M-1;Caf\xe9 Club;Live;2025-04-01;2025-01-02T00:00:00;E05000001;Day activities;1234567\r\n"
        "M-2;Tea;Live;2025-04-01;2025-01-02;E05000001;Day activities;SC123456\r\n"
        "\r\nSource: Adults BI, extracted 2025-10-03\r\nFigures are provisional\r\n".encode(
            "cp1252"
        )
    )
    registry = build_registry(make_plugin_manager(load_entrypoints=False))
    result = validate_files(
        registry.with_mapping(load_mapping(mapping)), [data], format_name="metro-csv"
    )
    assert (result.rows_read, result.accepted, result.blank_rows, result.skipped_rows) == (
        2,
        2,
        1,
        2,
    )
    assert [i.code for i in result.issues if i.severity != "info"] == ["encoding-fallback"]
    names = [r.model.trading_name for r in result.accepted_records]
    assert names == ["Café Club", "Tea"]


def test_every_mapping_key_is_documented():
    from mectk.schemas import load_schema

    doc = (Path(__file__).resolve().parent.parent / "docs" / "mapping-files.md").read_text()
    schema = load_schema("mapping")
    keys = set(schema["properties"]) | set(schema["properties"]["sheets"]["items"]["properties"])
    missing = [k for k in keys if f"### {k}" not in doc]
    assert not missing, missing


def test_the_documented_example_mapping_loads(tmp_path):
    import re

    doc = (Path(__file__).resolve().parent.parent / "docs" / "mapping-files.md").read_text()
    example = re.search(r"```toml\n(.*?)```", doc, re.DOTALL).group(1)
    path = tmp_path / "county.toml"
    path.write_text(example, encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.format == "county-tracker"
    assert [s.layout.kind for s in mapping.sheets] == ["enterprise"]


WIDE = r"""
format = "wide-export"
source_types = ["csv"]

[constants]
programme_id = "W-CME"

[[sheets]]
record = "enterprise"
header_rows = [1]
stop_at_first_blank = true
extra_columns = ['contacts_q[1-4]']

[sheets.constants]
independent = true
legal_form = "unknown"
cqc_status = "unknown"
origin = "new"
status = "developing"

[sheets.columns]
enterprise_id = "ref"
trading_name = "name"
first_contact_date = "engaged"
status_date = "engaged"
locality_id = { heading = "ward", pattern = 'E05\d{6}' }
consent_directory = { heading = "listed", values = { "1" = true, "0" = false }, blank_as = "0" }

[[sheets.snapshots]]
heading_pattern = 'vol_(?P<year>\d{4})_(?P<month>\d{2})'
outcome_type = "volunteer_roles"
"""


def test_heading_patterns_extra_columns_cell_patterns_and_blank_as(tmp_path):
    """Wide monthly columns become snapshots dated by their headings (a blank month is no
    observation); extra columns reach the row; a cell pattern and a blank rule apply."""
    mapping_file = tmp_path / "wide.toml"
    mapping_file.write_text(WIDE, encoding="utf-8")
    data = tmp_path / "wide.csv"
    data.write_text(
        "ref,name,engaged,ward,listed,vol_2025_04,vol_2025_05,vol_2026_02,contacts_q1,other\r\n"
        "W-1,Tea,2025-04-01,E05000001,,1,,2,3,x\r\n"
        "W-2,Cake,2025-04-01,E0500001,1,,,,,\r\n"
        "\r\nFootnote\r\n",
        encoding="utf-8-sig",
    )
    registry = build_registry(make_plugin_manager()).with_mapping(load_mapping(mapping_file))
    result = validate_files(registry, [data], format_name="wide-export")
    assert (result.rows_read, result.accepted, result.rejected) == (4, 3, 1)
    assert (result.blank_rows, result.skipped_rows) == (1, 1)
    snapshots = sorted((r.model.as_at_date, r.model.value) for r in result.accepted_records
                       if r.kind == "outcome")  # fmt: skip
    assert snapshots == [(datetime.date(2025, 4, 30), 1), (datetime.date(2026, 2, 28), 2)]
    firm = next(r.model for r in result.accepted_records if r.kind == "enterprise")
    assert firm.consent_directory is False  # blank read as "0"
    [bad] = [i for i in result.issues if i.severity == "error"]
    assert (bad.code, bad.cell) == ("format-invalid", "D3")
    assert [i.column for i in result.issues if i.code == "column-unknown"] == ["other"]

    from mectk.mapping import read_with_mapping
    from mectk.sniff import sniff
    from mectk.sources import ReadOptions, SourceRow

    rows = [
        item
        for item in read_with_mapping(load_mapping(mapping_file), sniff(data), ReadOptions())
        if isinstance(item, SourceRow) and item.kind == "enterprise"
    ]
    assert [r.extras for r in rows] == [{"contacts_q1": "3"}, {"contacts_q1": None}]
    assert rows[0].extra_cells["contacts_q1"].cell == "I2"


def test_a_heading_pattern_needs_year_and_month_groups(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(WIDE.replace("(?P<month>", "(?P<mon>"), encoding="utf-8")
    with pytest.raises(UsageError, match="no named group month"):
        load_mapping(path)


def test_a_required_field_the_layout_lacks_is_a_warning_not_an_error(tmp_path):
    mapping_file = tmp_path / "wide.toml"
    mapping_file.write_text(
        WIDE.replace('status = "developing"', 'status = "closed"'), encoding="utf-8"
    )
    data = tmp_path / "wide.csv"
    data.write_text(
        "ref,name,engaged,ward\r\nW-1,Tea,2025-04-01,E05000001\r\nW-2,Cake,2025-04-01,E05000002\r\n",
        encoding="utf-8",
    )
    registry = build_registry(make_plugin_manager()).with_mapping(load_mapping(mapping_file))
    result = validate_files(registry, [data], format_name="wide-export")
    assert result.accepted == 2  # a closed new enterprise needs dates the layout lacks
    # one warning per field the layout lacks, not one per row
    found = sorted(
        (i.severity, i.field, i.record_id, "for 2 enterprise record(s)" in i.message)
        for i in result.issues
        if i.code == "field-not-in-source"
    )
    assert found == [
        ("warning", "closure_date", "W-1", True),
        ("warning", "launch_date", "W-1", True),
    ]


def test_blank_values_are_read_as_blank_before_blank_as_applies(tmp_path):
    """``blank_values`` says which texts are empty; ``blank_as`` what an empty cell means."""
    mapping_file = tmp_path / "wide.toml"
    mapping_file.write_text(
        WIDE.replace('blank_as = "0" }', 'blank_as = "0", blank_values = ["n/a"] }'),
        encoding="utf-8",
    )
    data = tmp_path / "wide.csv"
    data.write_text(
        "ref,name,engaged,ward,listed\r\nW-1,Tea,2025-04-01,E05000001,N/A\r\n"
        "W-2,Cake,2025-04-01,E05000002,1\r\n",
        encoding="utf-8",
    )
    registry = build_registry(make_plugin_manager()).with_mapping(load_mapping(mapping_file))
    result = validate_files(registry, [data], format_name="wide-export")
    listed = {r.model.enterprise_id: r.model.consent_directory for r in result.accepted_records}
    assert listed == {"W-1": False, "W-2": True}
    assert not [i for i in result.issues if i.severity == "error"]


def test_blank_and_blank_as_together_are_refused(tmp_path):
    path = tmp_path / "both.toml"
    path.write_text(WIDE.replace('blank_as = "0" }', 'blank_as = "0", blank = "no" }'))
    with pytest.raises(UsageError, match="give blank or blank_as, not both"):
        load_mapping(path)
