"""The county-tracker format, tested as a council developer would: the plugin installed,
its files built in code with every quirk of domain.md 4.4, read through mectk's command
line, and what reached the register read back with mectk.metrics.load_current."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from mectk_countyshire.tracker import MAPPING_FILE

import mectk
from mectk import Source
from mectk.mapping import load_mapping, mapping_claims
from mectk.metrics import load_current
from mectk.periods import quarter_in_name

D = datetime.date
HEADINGS = (  # noqa: SIM905 - the line verbatim from domain.md 4.4
    "Ref No | Name of Enterprise | Contact Name | Tel | Email | Postcode | District | "
    "Date of first contact | New or Existing | Date started trading | Still trading? | "
    "Services offered | Personal Care? | CQC Reg? | Doing It Right signed | "
    "No. of staff (inc. owner) | No. of volunteers | Approx hrs per wk | "
    "No. of people supported | DP clients | Self funders | Date closed | Comments"
).split(" | ")
BASE: dict[str, Any] = {
    "Postcode": "WR10 1PT",
    "District": "Wychavon",
    "Date of first contact": D(2024, 6, 3),
    "New or Existing": "New",
    "Date started trading": D(2024, 9, 2),
    "Still trading?": "Y",
    "Services offered": "Cleaning",
    "Personal Care?": "N",
    "CQC Reg?": "N",
    "Doing It Right signed": "N",
    "No. of staff (inc. owner)": 1,
    "No. of volunteers": 0,
}
ROWS: list[dict[str, Any] | None] = [
    # (the quirk each row carries is in its name)
    {"Ref No": "T-01", "Name of Enterprise": "Real dates", "Approx hrs per wk": 10,
     "No. of people supported": 6, "DP clients": 2, "Self funders": 3,
     "Contact Name": "Zed Secretperson", "Tel": "01905 611111", "Email": "zed@example.org"},
    {"Ref No": "T-02", "Name of Enterprise": "Short text date", "Date of first contact": "1/4/25",
     "Date started trading": "2/5/25", "Still trading?": "y"},
    {"Ref No": "T-03", "Name of Enterprise": "Dotted text date",
     "Date of first contact": "01.04.2025", "Date started trading": None, "Still trading?": None},
    {"Ref No": "T-04", "Name of Enterprise": "Month only", "Date of first contact": "April 2025",
     "New or Existing": "Exist.", "Date started trading": "May 2019"},
    {"Ref No": "T-05", "Name of Enterprise": "Existing spelt out", "New or Existing": "Existing",
     "Date started trading": D(2015, 1, 5), "Personal Care?": "Maybe"},
    {"Ref No": "T-06", "Name of Enterprise": "Lower-case new", "New or Existing": "new",
     "Still trading?": "N", "Date closed": D(2025, 5, 30), "Approx hrs per wk": 4},
    None,  # a blank row inside the data
    {"Ref No": "T-07", "Name of Enterprise": "Stray district", "District": "Malvern",
     "Services offered": "Cleaning, shopping / companionship"},
    {"Ref No": "T-08", "Name of Enterprise": "Misspelt district", "District": "Wyre Forrest",
     "Services offered": "Trips out / Dog walking"},
    {"Ref No": "T-09", "Name of Enterprise": "Personal care", "Services offered": "Shopping",
     "Personal Care?": "Y", "CQC Reg?": "N", "No. of staff (inc. owner)": 3},
    {"Ref No": "T-10", "Name of Enterprise": "Registered", "Services offered": "Personal care",
     "Personal Care?": "Y", "CQC Reg?": "Y", "Doing It Right signed": "Y",
     "Still trading?": True},  # an Excel TRUE is a yes too
    # real mistakes
    {"Ref No": "T-11", "Name of Enterprise": "Unknown district", "District": "Pershore"},
    {"Ref No": "T-12", "Name of Enterprise": "Closed, no date", "Still trading?": "N"},
    {"Ref No": "T-13", "Name of Enterprise": "Not known after launch", "Still trading?": None},
    {"Ref No": "T-14", "Name of Enterprise": "Bad email", "Email": "zed at example",
     "Date of first contact": "31/02/2025"},
]  # fmt: skip
ENTERPRISES = sum(1 for r in ROWS if r is not None)
PERSONAL = ("Zed Secretperson", "611111", "zed@example.org", "zed at example", "WR10 1PT")


def write_tracker(path: Path, rows: list[dict[str, Any] | None] = ROWS) -> int:
    """The tracker as the council keeps it; returns the TOTAL row's number."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Tracker"
    sheet["A1"] = "Community Micro-enterprise Project \u2013 Enterprise Tracker"
    sheet.merge_cells("A1:W1")
    sheet["A2"] = "Please enter dates as DD/MM/YYYY. Do not insert columns. Y = Yes, N = No."
    for column, heading in enumerate(HEADINGS, start=1):
        sheet.cell(row=4, column=column, value=heading)
    for offset, row in enumerate(rows, start=5):
        if row is None:
            continue
        for column, heading in enumerate(HEADINGS, start=1):
            value = {**BASE, **row}.get(heading)
            if value is not None:
                cell = sheet.cell(row=offset, column=column, value=value)
                if isinstance(value, D):
                    cell.number_format = "DD/MM/YYYY"
    total = 5 + len(rows)
    sheet.cell(row=total, column=1, value="TOTAL")
    sheet.cell(row=total, column=18, value=f"=SUM(R5:R{total - 1})")
    workbook.create_sheet("Lists")["A1"] = "Y"
    workbook.save(path)
    return total


def mectk_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mectk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Any, str, int]:
    """The quirks tracker imported through the CLI: (JSON report, records, output, TOTAL row)."""
    folder = tmp_path_factory.mktemp("quirks")
    total = write_tracker(folder / "CME Tracker 2025-26 Q2.xlsx")
    done = mectk_cli("import", "CME Tracker 2025-26 Q2.xlsx", "--json", cwd=folder)
    assert done.returncode == 1, done.stderr  # the planted mistakes
    report = json.loads(done.stdout)
    return report, load_current(folder / "mectk.db"), done.stdout + done.stderr, total


def enterprise(records: Any, ref: str) -> dict[str, Any]:
    return next(dict(e) for e in records.of("enterprise") if e["enterprise_id"] == ref)


def outcomes(records: Any, ref: str) -> dict[str, dict[str, Any]]:
    return {o["outcome_id"]: dict(o) for o in records.of("outcome") if o["enterprise_id"] == ref}


def issues(report: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [i for i in report["issues"] if i["code"] == code]


def test_the_plugin_is_found_through_its_entry_point(tmp_path):
    done = mectk_cli("plugins", "--json", cwd=tmp_path)
    plugins = {p["name"]: p for p in json.loads(done.stdout)["plugins"]}
    assert plugins["countyshire"]["distribution"] == "mectk-countyshire"
    assert plugins["countyshire"]["readers"] == ["county-tracker"]
    registry = mectk.build_registry(mectk.make_plugin_manager())
    assert registry.report_formats["quarterly-return"].plugin == "countyshire"
    assert registry.samples["countyshire"].plugin == "countyshire"


def test_every_row_is_accounted_for(imported):
    report, _records, _output, total = imported
    counts = report["counts"]
    assert report["files"][0]["format"] == "county-tracker"
    # sheet rows 5 .. TOTAL: one enterprise each, one blank, one skipped (TOTAL)
    assert ENTERPRISES + counts["blank_rows"] + counts["skipped_rows"] == total - 4
    assert (counts["blank_rows"], counts["skipped_rows"]) == (1, 1)
    assert counts["rows_read"] == counts["accepted"] + counts["rejected"]
    assert counts["records"]["enterprise"] + 4 == ENTERPRISES  # 4 rows rejected
    [skipped] = issues(report, "row-skipped")
    assert skipped["row"] == total and "TOTAL" in skipped["message"]


def test_text_and_real_dates_and_the_month_only_estimate(imported):
    report, records, _output, _total = imported
    assert enterprise(records, "T-01")["first_contact_date"] == "2024-06-03"
    assert enterprise(records, "T-02")["first_contact_date"] == "2025-04-01"
    assert enterprise(records, "T-02")["launch_date"] == "2025-05-02"
    assert enterprise(records, "T-03")["first_contact_date"] == "2025-04-01"
    month_only = enterprise(records, "T-04")
    assert month_only["first_contact_date"] == "2025-04-01"
    assert (month_only["launch_date"], month_only["launch_date_estimated"]) == ("2019-05-01", True)
    cells = {i["cell"] for i in issues(report, "date-estimated") if i["record_id"] == "T-04"}
    assert cells == {"H8", "J8"}
    [bad] = issues(report, "date-invalid")
    assert (bad["cell"], bad["record_id"], bad["value"]) == ("H19", "T-14", "31/02/2025")


def test_new_or_existing_variants_and_still_trading_with_date_closed(imported):
    _report, records, _output, _total = imported
    origins = {r: enterprise(records, r)["origin"] for r in ("T-01", "T-04", "T-05", "T-06")}
    assert origins == {"T-01": "new", "T-04": "established", "T-05": "established", "T-06": "new"}
    status = {
        r: (enterprise(records, r)["status"], enterprise(records, r)["status_date"])
        for r in ("T-01", "T-02", "T-03", "T-05", "T-06")
    }
    assert status == {
        "T-01": ("trading", "2024-09-02"),  # Y: trading since its launch
        "T-02": ("trading", "2025-05-02"),  # y
        "T-03": ("developing", "2025-04-01"),  # blank and never launched: pre-start
        "T-05": ("trading", "2024-06-03"),  # launched before joining: since it joined
        "T-06": ("closed", "2025-05-30"),  # N with Date closed
    }
    assert enterprise(records, "T-06")["closure_date"] == "2025-05-30"


def test_still_trading_blank_after_a_launch_or_n_without_a_date_is_an_error(imported):
    report, records, _output, _total = imported
    [unknown] = [i for i in issues(report, "value-required") if i["record_id"] == "T-13"]
    assert (unknown["cell"], unknown["column"]) == ("K18", "Still trading?")
    [no_date] = issues(report, "value-conditionally-required")
    assert (no_date["cell"], no_date["record_id"], no_date["column"]) == (
        "V17",
        "T-12",
        "Date closed",
    )
    known = {e["enterprise_id"] for e in records.of("enterprise")}
    assert {"T-12", "T-13"}.isdisjoint(known)


def test_district_names_go_through_the_aliases_and_unknown_ones_are_refused(imported):
    report, records, _output, _total = imported
    assert enterprise(records, "T-01")["locality_id"] == "wychavon"
    assert enterprise(records, "T-07")["locality_id"] == "malvern-hills"
    assert enterprise(records, "T-08")["locality_id"] == "wyre-forest"
    # the mapping's pattern holds the district ids: a name nobody listed is not one
    [unknown] = [i for i in issues(report, "format-invalid") if i["field"] == "locality_id"]
    assert (unknown["cell"], unknown["record_id"], unknown["value"]) == ("G16", "T-11", "Pershore")
    assert unknown["severity"] == "error"
    assert "T-11" not in {e["enterprise_id"] for e in records.of("enterprise")}


def test_services_split_on_commas_and_slashes_with_the_rest_as_other(imported):
    report, records, _output, _total = imported
    assert enterprise(records, "T-07")["services"] == [
        "home_help_domestic",
        "shopping_errands",
        "companionship_social",
    ]
    assert enterprise(records, "T-08")["services"] == ["trips_out_transport", "other"]
    [other] = issues(report, "county-service-other")
    assert (other["cell"], other["record_id"], other["value"]) == ("L13", "T-08", "Dog walking")


def test_personal_care_cqc_quality_and_staff(imported):
    report, records, _output, _total = imported
    care = enterprise(records, "T-09")
    assert care["services"] == ["shopping_errands", "personal_care"]  # Personal Care? = Y
    assert (care["provides_personal_care"], care["cqc_status"]) == (True, "unknown")
    assert care["paid_workers"] == 3  # the staff count includes the owner
    plain = enterprise(records, "T-01")
    assert (plain["provides_personal_care"], plain["cqc_status"]) == (
        False,
        "not_required_no_regulated_activity",
    )
    registered = enterprise(records, "T-10")
    assert registered["status"] == "trading"
    assert (registered["cqc_status"], registered["quality_standard"]) == (
        "registered",
        "doing_it_right",
    )
    [unclear] = issues(report, "boolean-invalid")  # Personal Care? "Maybe": the row stands
    assert (unclear["cell"], unclear["record_id"], unclear["severity"]) == ("M9", "T-05", "warning")
    assert enterprise(records, "T-05")["provides_personal_care"] is False
    # T-10 alone is registered with Doing It Right: the layout has neither column it needs
    gaps = {i["field"]: i for i in issues(report, "field-not-in-source")}
    assert set(gaps) == {"cqc_provider_id", "quality_standard_date"}
    assert all(i["severity"] == "warning" and "1 enterprise" in i["message"] for i in gaps.values())


def test_snapshots_are_stamped_at_the_quarter_end_and_events_follow_the_dates(imported):
    report, records, _output, _total = imported
    found = outcomes(records, "T-01")
    assert {
        (o["outcome_type"], o.get("breakdown"), o["as_at_date"], float(o["value"]))
        for o in found.values()
    } == {
        ("hours_per_week", None, "2025-09-30", 10),
        ("people_supported_weekly", None, "2025-09-30", 6),
        ("people_supported_by_funding", "direct_payment", "2025-09-30", 2),
        ("people_supported_by_funding", "self_funded", "2025-09-30", 3),
        ("enterprise_launched", None, "2024-09-02", 1),
    }
    assert "T-04-enterprise_launched" not in outcomes(records, "T-04")  # established
    closed = outcomes(records, "T-06")
    assert closed["T-06-enterprise_closed"]["as_at_date"] == "2025-05-30"
    assert not any(o["outcome_type"] == "hours_per_week" for o in closed.values())
    [note] = issues(report, "county-closed-figure")
    assert (note["cell"], note["record_id"]) == ("R10", "T-06-hours_per_week-2025-09-30")
    quality = outcomes(records, "T-10")["T-10-quality_standard_met-doing_it_right-2025-09-30"]
    assert quality["as_at_date"] == "2025-09-30"


def test_personal_columns_are_stored_but_never_echoed(imported):
    report, records, output, _total = imported
    kept = enterprise(records, "T-01")
    assert (kept["lead_name"], kept["lead_phone"], kept["lead_email"]) == (
        "Zed Secretperson",
        "01905611111",
        "zed@example.org",
    )
    [email] = [i for i in report["issues"] if i["field"] == "lead_email"]
    assert (email["code"], email["value"], email["cell"]) == ("format-invalid", "***", "E19")
    for secret in PERSONAL:
        assert secret not in output


def test_the_as_at_date_comes_from_the_file_name_or_the_period(tmp_path):
    q2, q4 = quarter_in_name("CME Tracker 2025-26 Q2.xlsx"), quarter_in_name("t 2025-26_q4.xlsx")
    assert (q2 and q2.end, q4 and q4.end) == (D(2025, 9, 30), D(2026, 3, 31))
    assert quarter_in_name("CME Tracker 2025-26.xlsx") is None
    rows = [ROWS[0]]
    write_tracker(tmp_path / "CME Tracker 2025-26.xlsx", rows)
    done = mectk_cli("validate", "CME Tracker 2025-26.xlsx", "--json", cwd=tmp_path)
    found = json.loads(done.stdout)
    assert found["files"][0]["format"] == "county-tracker"  # identified: no --format given
    assert [i["code"] for i in found["issues"] if i["severity"] == "error"] == ["as-at-missing"]
    write_tracker(tmp_path / "CME Tracker 2025-26 Q2.xlsx", rows)
    args = ("import", "CME Tracker 2025-26 Q2.xlsx", "--period", "2025-26-Q1")
    assert mectk_cli(*args, cwd=tmp_path).returncode == 0  # the period wins over the name
    dates = {o["as_at_date"] for o in load_current(tmp_path / "mectk.db").of("outcome")}
    assert dates == {"2025-06-30", "2024-09-02"}


def test_a_file_that_is_not_its_own_is_left_alone_and_says_so(tmp_path):
    other = tmp_path / "other.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Tracker"
    workbook.active["A4"] = "Ref No"
    workbook.active["B4"] = "Name of Enterprise"
    workbook.save(other)
    source = Source(path=other, source_type="xlsx", head=b"", sheet_names=("Tracker",))
    mapping = load_mapping(resources.files("mectk_countyshire") / MAPPING_FILE)
    assert not mapping_claims(mapping, source)  # the mapping's identify section decides
    done = mectk_cli("validate", "other.xlsx", cwd=tmp_path)
    assert done.returncode == 3
    assert "no installed format recognises this file" in done.stderr
    forced = mectk_cli(
        "validate", "other.xlsx", "--format", "county-tracker", "--json", cwd=tmp_path
    )
    codes = {i["code"] for i in json.loads(forced.stdout)["issues"]}
    assert "column-missing" in codes  # the tracker's columns are named, not guessed
