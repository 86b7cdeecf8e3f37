"""The command line, run as a subprocess exactly as a data officer runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from mectk.schemas import field_map


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "mectk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def heading_letter(sheet, title: str) -> str:
    for cell in sheet[1]:
        if cell.value == title:
            return cell.column_letter
    raise AssertionError(f"no heading {title!r}")


GOOD_ENTERPRISE = {
    "Enterprise ID": "WCC-0042",
    "Programme ID": "CS-CME",
    "Trading name": "Tea and Company",
    "Legal form": "Sole trader",
    "Independent": "Yes",
    "Status": "Trading",
    "Status date": "01/04/2025",
    "Origin": "Established",
    "Date of first contact": "12/03/2025",
    "Services": "Companionship; Shopping and errands",
    "CQC status": "Not required: no regulated activity",
    "Locality ID": "L-NORTH",
    "Base postcode": "wr5 2np",
}


def fill_enterprise(path: Path, rows: list[dict[str, object]]) -> openpyxl.Workbook:
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Enterprises"]
    for offset, row in enumerate(rows, start=2):
        for title, value in row.items():
            sheet[f"{heading_letter(sheet, title)}{offset}"] = value
    workbook.save(path)
    return workbook


@pytest.fixture
def template(tmp_path: Path) -> Path:
    out = tmp_path / "t.xlsx"
    done = run("template", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_version():
    done = run("--version")
    assert done.returncode == 0
    assert "mectk" in done.stdout
    assert "0.1.0" in done.stdout


def test_blank_template_is_valid_with_zero_records(template: Path):
    done = run("validate", str(template), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["valid"] is True
    assert report["counts"]["rows_read"] == 0
    assert report["counts"]["records"] == {}
    assert report["files"][0]["format"] == "canonical"


def test_template_has_headings_dropdowns_comments_and_marks(template: Path):
    workbook = openpyxl.load_workbook(template)
    sheet = workbook["Enterprises"]
    fields = {f.title: f for f in field_map("enterprise").values() if not f.read_only}
    headings = [c.value for c in sheet[1] if c.value]
    assert headings == list(fields)
    lead = sheet[f"{heading_letter(sheet, 'Lead contact email')}1"]
    assert "PERSONAL DATA" in lead.comment.text
    assert lead.fill.fgColor.rgb.endswith("FCE4D6")
    plain = sheet[f"{heading_letter(sheet, 'Enterprise ID')}1"]
    assert plain.comment.text.startswith(fields["Enterprise ID"].description)
    assert plain.fill.fgColor.rgb != lead.fill.fgColor.rgb
    status_letter = heading_letter(sheet, "Status")
    formulas = {
        str(dv.sqref).split(":")[0]: dv.formula1 for dv in sheet.data_validations.dataValidation
    }
    assert formulas[f"{status_letter}2"].startswith("=Lists!")
    assert formulas[f"{heading_letter(sheet, 'Independent')}2"] == '"Yes,No"'
    lists = workbook["Lists"]
    assert lists.sheet_state == "hidden"
    assert set(workbook.sheetnames) >= {
        "Programme",
        "Enterprises",
        "Support episodes",
        "Support events",
        "Outcomes",
        "Spend lines",
    }


def test_filled_template_round_trips_one_good_record(template: Path):
    fill_enterprise(template, [GOOD_ENTERPRISE])
    done = run("validate", str(template), "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0, report["issues"]
    assert report["counts"]["records"] == {"enterprise": 1}


def test_bad_postcode_and_missing_required_give_two_issues_at_the_right_cells(template: Path):
    bad = {**GOOD_ENTERPRISE, "Base postcode": "QA1 1AA"}
    del bad["Status date"]
    workbook = fill_enterprise(template, [bad])
    sheet = workbook["Enterprises"]
    done = run("validate", str(template), "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["valid"] is False
    assert report["counts"]["rows_read"] == 1
    assert report["counts"]["rejected"] == 1
    issues = {i["code"]: i for i in report["issues"]}
    assert set(issues) == {"format-invalid", "value-required"}
    postcode = issues["format-invalid"]
    assert postcode["cell"] == f"{heading_letter(sheet, 'Base postcode')}2"
    assert postcode["column"] == "Base postcode"
    assert postcode["value"] == "***"  # personal data is never echoed
    assert postcode["record_id"] == "WCC-0042"
    assert postcode["sheet"] == "Enterprises"
    missing = issues["value-required"]
    assert missing["cell"] == f"{heading_letter(sheet, 'Status date')}2"
    assert missing["field"] == "status_date"
    assert "QA1" not in done.stdout + done.stderr


def test_human_output_goes_to_stderr_and_names_cells(template: Path):
    fill_enterprise(template, [{**GOOD_ENTERPRISE, "Status date": "31/02/2025"}])
    done = run("validate", str(template))
    assert done.returncode == 1
    assert done.stdout == ""
    assert "date-invalid" in done.stderr
    assert "Enterprises" in done.stderr


def test_max_errors_limits_the_list_not_the_counts(template: Path):
    rows = [{**GOOD_ENTERPRISE, "Enterprise ID": f"E{n}", "Status": "Nonsense"} for n in range(5)]
    fill_enterprise(template, rows)
    done = run("validate", str(template), "--json", "--max-errors", "2")
    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert len(report["issues"]) == 2
    assert report["issues_truncated"] is True
    assert report["counts"]["issues"]["code-unknown"] == 5
    assert (
        report["counts"]["rows_read"] == report["counts"]["accepted"] + report["counts"]["rejected"]
    )


def test_blank_rows_inside_data_are_counted_apart(template: Path):
    second = {**GOOD_ENTERPRISE, "Enterprise ID": "WCC-0043"}
    workbook = fill_enterprise(template, [GOOD_ENTERPRISE])
    sheet = workbook["Enterprises"]
    for title, value in second.items():
        sheet[f"{heading_letter(sheet, title)}4"] = value
    workbook.save(template)
    report = json.loads(run("validate", str(template), "--json").stdout)
    assert report["counts"]["blank_rows"] == 1
    assert report["counts"]["accepted"] == 2


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: d / "missing.xlsx", "no such file"),
        (lambda d: d, "is a folder"),
    ],
)
def test_missing_file_or_folder_is_a_usage_error(tmp_path: Path, make, needle):
    done = run("validate", str(make(tmp_path)))
    assert done.returncode == 2
    assert needle in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_format_is_a_usage_error(template: Path):
    done = run("validate", str(template), "--format", "nope")
    assert done.returncode == 2
    assert "unknown format 'nope'" in done.stderr
    assert "canonical" in done.stderr


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"", "[file-empty]: tracker.xlsx: the file is empty"),
        (b"a,b,c\n1,2,3\n", "plain text"),
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "HTML"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "OLE compound file"),
        (b"PK\x03\x04broken", "[file-corrupt]: tracker.xlsx: the file is incomplete or damaged"),
    ],
)
def test_non_workbooks_named_xlsx_exit_3_saying_what_they_look_like(tmp_path, content, looks_like):
    path = tmp_path / "tracker.xlsx"
    path.write_bytes(content)
    done = run("validate", str(path), "--format", "canonical")
    assert done.returncode == 3, done.stderr
    assert looks_like in done.stderr
    assert "Traceback" not in done.stderr
    undetected = run("validate", str(path))
    assert undetected.returncode == 3
    assert looks_like in undetected.stderr


def test_debug_shows_the_traceback_for_faults(tmp_path: Path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"")
    done = run("--debug", "validate", str(path))
    assert done.returncode != 0
    assert "Traceback" in done.stderr


def test_template_into_a_missing_folder_is_a_usage_error(tmp_path: Path):
    done = run("template", str(tmp_path / "nope" / "t.xlsx"))
    assert done.returncode == 2
    assert "does not exist" in done.stderr


def test_macros_in_an_xlsm_are_ignored_with_a_warning(template: Path, tmp_path: Path):
    import zipfile

    xlsm = tmp_path / "tracker.xlsm"
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(xlsm, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/vbaProject.bin", b"\x00macro")
    done = run("validate", str(xlsm), "--json")
    assert done.returncode == 0, done.stderr
    codes = [i["code"] for i in json.loads(done.stdout)["issues"]]
    assert codes == ["macros-ignored"]


def test_two_files_with_the_same_name_are_told_apart(template: Path, tmp_path: Path):
    fill_enterprise(template, [GOOD_ENTERPRISE])
    copies = []
    for folder in ("q1", "q2"):
        (tmp_path / folder).mkdir()
        copy = tmp_path / folder / "tracker.xlsx"
        copy.write_bytes(template.read_bytes())
        copies.append(copy)
    done = run("validate", *map(str, copies), "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert (report["counts"]["accepted"], report["counts"]["rejected"]) == (1, 1)
    [duplicate] = [i for i in report["issues"] if i["code"] == "id-duplicate"]
    assert duplicate["file"] == str(copies[1])


def test_formats_lists_readers_reports_and_checks(tmp_path: Path):
    done = run("formats", "--json", cwd=tmp_path)
    listing = json.loads(done.stdout)
    assert "canonical" in {r["name"] for r in listing["readers"]}
    reports = {r["name"]: r for r in listing["reports"]}  # installed plugins add theirs
    assert reports["summary"]["plugin"] == "summary-report"
    assert "unique-ids" in {c["name"] for c in listing["checks"]}
