"""The metro plugin, tested as its author would: fixtures built in code, the plugin found
through its entry point, the CLI run as a subprocess, figures checked by hand.

The fixture programme (worked by hand; FY 2025-26 ends 31/03/2026):

* MB-1: engaged 2024-05-01, live 2024-06-01 (written ``2024-06-01T00:00:00``), personal
  care flag 1, CQC and directory flags blank (0 by the council's rule). Hours 9 at
  2025-03 (2024-25 export); 10 at 2025-04, 12 at 2026-01, 14 at 2026-02, March blank
  (no observation, not zero). People 2 at 2025-03, 3 at 2026-03. Contacts: Q1 2, Q2 0.
* MB-2: engaged 2025-05-01, live 2025-07-01. Hours 6 at 2025-12 only (carried forward to
  31 March). People 2 at 2026-03. Contacts: Q2 1.
* MB-3: engaged 2024-05-01, live 2024-07-01, ceased 2025-06-15 (before its first
  anniversary). Hours 5 at 2025-03, 2025-04 and 2025-05 (summed they would be 15).
  People 1 at 2025-03. Contacts: Q1 3.
* MB-4: engaged 2026-01-10, still in the pipeline.
* MB-5: engaged 2025-04-15, live since 2020-03-01 (established). Hours 4 and people 1 at
  2026-03.

So at 31/03/2026: trading MB-1, MB-2, MB-5 (3; at 31/03/2025 MB-1, MB-3, MB-5: 3); new in
year MB-2 (1; 2024-25: MB-1 and MB-3, 2); hours 14 + 6 + 4 = 24 (2024-25: 9 + 5 = 14);
people 3 + 2 + 1 = 6 (2024-25: 2 + 1 = 3); first anniversaries in 2025-26: MB-1 trading,
MB-3 closed, so 50%. Spend 2025-26: direct micro 300, large 600, unknown 100; supply
chain small 50, large 50: SME share 350 / 1000 = 35% (Met Y); 2024-25 micro 20, large 80:
20%.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from mectk_metro.samples import PROGRAMME, write_export, write_samples
from openpyxl import load_workbook

from mectk import build_registry, make_plugin_manager, write_canonical_workbook
from mectk.metrics import load_current

D = datetime.date


def mectk(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "mectk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
        env=env,
    )


def base(ref: str, ward: str, engaged: str, live: str | None, status: str) -> dict[str, Any]:
    return {
        "org_ref": ref,
        "org_name": f"Enterprise {ref}",
        "org_type": "Sole trader",
        "ward_code": ward,
        "ward_name": "A ward",
        "la_code": "E08000099",
        "first_engaged": engaged,
        "go_live": live,
        "status": status,
        "personal_care_flag": 0,
        "cqc_flag": 0,
        "dir_flag": 1,
        "staff_hc": 1,
        "vol_hc": 0,
    }


def rows_2025() -> list[dict[str, Any]]:
    one = base("MB-1", "E05099001", "2024-05-01", "2024-06-01T00:00:00", "Live")
    one.update(personal_care_flag=1, cqc_flag=None, dir_flag=None)
    one.update(hrs_wk_2025_04=10, hrs_wk_2026_01=12, hrs_wk_2026_02=14, ppl_wk_2026_03=3)
    one.update(support_contacts_q1=2, support_contacts_q2=0)
    two = base("MB-2", "E05099002", "2025-05-01", "2025-07-01", "Live")
    two.update(org_type="CIC", hrs_wk_2025_12=6, ppl_wk_2026_03=2, support_contacts_q2=1)
    three = base("MB-3", "E05099003", "2024-05-01", "2024-07-01", "Ceased")
    three.update(org_type="Community group", closed_on="2025-06-15")
    three.update(hrs_wk_2025_04=5, hrs_wk_2025_05=5, support_contacts_q1=3)
    four = base("MB-4", "E05099004", "2026-01-10", None, "Pipeline")
    five = base("MB-5", "E05099001", "2025-04-15", "2020-03-01", "Live")
    five.update(hrs_wk_2026_03=4, ppl_wk_2026_03=1)
    return [one, two, three, four, five]


def rows_2024() -> list[dict[str, Any]]:
    one = base("MB-1", "E05099001", "2024-05-01", "2024-06-01", "Live")
    one.update(personal_care_flag=1, hrs_wk_2025_03=9, ppl_wk_2025_03=2, support_contacts_q4=1)
    three = base("MB-3", "E05099003", "2024-05-01T00:00:00", "2024-07-01", "Live")
    three.update(la_code="E07000238", hrs_wk_2025_03=5, ppl_wk_2025_03=1)
    return [one, three]


def settings(path: Path) -> None:
    spend = [
        ("2025-26", "micro", "direct", "300.00"),
        ("2025-26", "large", "direct", "600.00"),
        ("2025-26", "unknown", "direct", "100.00"),
        ("2025-26", "small", "supply_chain", "50.00"),
        ("2025-26", "large", "supply_chain", "50.00"),
        ("2024-25", "micro", "direct", "20.00"),
        ("2024-25", "large", "direct", "80.00"),
    ]
    lines = [
        {
            "spend_id": f"SP-{n}",
            "programme_id": "MB-CME",
            "council_id": "E08000099",
            "financial_year": fy,
            "supplier_size": size,
            "spend_category": "home_care",
            "route": route,
            "amount_gbp": amount,
        }
        for n, (fy, size, route, amount) in enumerate(spend)
    ]
    write_canonical_workbook(path, {"programme": [PROGRAMME], "spend_line": lines})


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fixture files, each imported with ``mectk import --json`` (no --format) into one
    register: settings and spend, then the 2024-25 CSV, then the 2025-26 xlsx."""
    folder = tmp_path_factory.mktemp("metro")
    files = {
        "settings": folder / "settings.xlsx",
        "csv": folder / "cme_export_2024-25.csv",
        "xlsx": folder / "cme_export_2025-26.xlsx",
    }
    settings(files["settings"])
    write_export(files["csv"], 2024, rows_2024(), extracted=D(2025, 4, 3))
    write_export(files["xlsx"], 2025, rows_2025(), extracted=D(2026, 4, 2))
    db = folder / "metro.db"
    reports = {}
    for key, path in files.items():
        done = mectk("import", str(path), "--db", str(db), "--json", cwd=folder)
        assert done.returncode == 0, done.stdout + done.stderr
        reports[key] = json.loads(done.stdout)
    return {"folder": folder, "files": files, "db": db, "reports": reports}


def by_id(imported: dict[str, Any], kind: str, field: str) -> dict[str, dict[str, Any]]:
    return {str(r[field]): r for r in load_current(imported["db"]).of(kind)}


def test_the_fixtures_carry_the_quirks(imported: dict[str, Any]) -> None:
    raw = imported["files"]["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    assert b'\r\n\r\n"Source: Adults BI' in raw  # a blank row, then footnotes
    book = load_workbook(imported["files"]["xlsx"])
    assert book.sheetnames == ["Data", "Lookups"] and book["Lookups"].sheet_state == "hidden"
    assert book["Data"].cell(row=8, column=1).value == "Source: Adults BI, extracted 2026-04-02"


def test_xlsx_export_every_row_accounted_for(imported: dict[str, Any]) -> None:
    report = imported["reports"]["xlsx"]
    assert report["files"][0]["format"] == "metro-bi-export"  # identified, no --format
    counts = report["counts"]
    assert (counts["rows_read"], counts["accepted"], counts["rejected"]) == (18, 18, 0)
    assert (counts["blank_rows"], counts["skipped_rows"]) == (1, 2)  # blank row, footnotes
    assert counts["records"] == {"enterprise": 5, "outcome": 10, "support_episode": 3}
    assert "column-unknown" not in counts["issues"] and "episode-duplicate" not in counts["issues"]
    # a CIC needs a company number, which the export has no column for: one warning for the
    # sheet and field (not one per row), at the record, and nothing rejected for it
    [absent] = [i for i in report["issues"] if i["code"] == "field-not-in-source"]
    assert (absent["sheet"], absent["field"], absent["record_id"]) == (
        "Data", "company_number", "MB-2")  # fmt: skip
    assert "for 1 enterprise record(s) in sheet 'Data'" in absent["message"]
    firms = by_id(imported, "enterprise", "enterprise_id")
    one, five = firms["MB-1"], firms["MB-5"]
    assert one["launch_date"] == "2024-06-01"  # ISO date with T00:00:00
    assert one["services"] == ["personal_care"] and one["cqc_status"] == "unknown"  # blank = 0
    assert one["consent_directory"] is False and firms["MB-2"]["consent_directory"] is True
    assert (one["origin"], one["status"], one["status_date"]) == ("new", "trading", "2024-06-01")
    assert (five["origin"], five["status_date"]) == ("established", "2025-04-15")
    three = firms["MB-3"]
    assert (three["status"], three["closure_date"], three["status_date"]) == (
        "closed",
        "2025-06-15",
        "2025-06-15",
    )
    assert firms["MB-4"]["status"] == "developing" and firms["MB-4"]["locality_id"] == "E05099004"
    hours = sorted(
        (o["enterprise_id"], o["as_at_date"], int(Decimal(str(o["value"]))))
        for o in load_current(imported["db"]).of("outcome")
        if o["outcome_type"] == "hours_per_week" and o["as_at_date"] >= "2025-04-01"
    )
    assert hours == [
        ("MB-1", "2025-04-30", 10),
        ("MB-1", "2026-01-31", 12),
        ("MB-1", "2026-02-28", 14),  # March blank: no observation, not zero
        ("MB-2", "2025-12-31", 6),
        ("MB-3", "2025-04-30", 5),
        ("MB-3", "2025-05-31", 5),
        ("MB-5", "2026-03-31", 4),
    ]
    episodes = sorted(
        (e["enterprise_id"], e["episode_date"], e["count"], e["support_type"], e["mode"])
        for e in load_current(imported["db"]).of("support_episode")
        if e["episode_date"] >= "2025-04-01"
    )
    aggregate = ("unspecified_aggregate", "unspecified")
    assert episodes == [
        ("MB-1", "2025-06-30", 2, *aggregate),  # Q2's 0 is no episode
        ("MB-2", "2025-09-30", 1, *aggregate),
        ("MB-3", "2025-06-30", 3, *aggregate),
    ]


def test_csv_export_with_bom_crlf_and_a_bad_la_code(imported: dict[str, Any]) -> None:
    report = imported["reports"]["csv"]
    assert report["files"][0]["format"] == "metro-bi-export"
    counts = report["counts"]
    assert (counts["rows_read"], counts["accepted"], counts["rejected"]) == (7, 7, 0)
    assert (counts["blank_rows"], counts["skipped_rows"]) == (1, 2)
    [warning] = [i for i in report["issues"] if i["code"] == "area-code-invalid"]
    assert (warning["cell"], warning["record_id"], warning["value"]) == ("F3", "MB-3", "E07000238")
    episodes = by_id(imported, "support_episode", "episode_id")
    assert episodes["MB-1-contacts-2024-25-Q4"]["episode_date"] == "2025-03-31"
    assert episodes["MB-1-contacts-2024-25-Q4"]["count"] == 1


def test_real_errors_are_reported_at_their_cells(tmp_path: Path) -> None:
    rows = rows_2025()
    rows[0]["ward_code"] = "E0509900"  # a digit short
    rows[1]["support_contacts_q2"] = -1
    rows[4]["hrs_wk_2026_03"] = "n/a"
    path = tmp_path / "bad.xlsx"
    write_export(path, 2025, rows, extracted=D(2026, 4, 2))
    done = mectk("validate", str(path), "--json", cwd=tmp_path)
    report = json.loads(done.stdout)
    assert done.returncode == 1
    counts = report["counts"]
    assert counts["rows_read"] == counts["accepted"] + counts["rejected"]
    found = {(i["code"], i["cell"]) for i in report["issues"] if i["severity"] == "error"}
    assert {("format-invalid", "D2"), ("out-of-range", "AO3"), ("number-invalid", "AA6")} <= found


def test_the_ward_lookup_file_checks_wards_against_the_authority(
    imported: dict[str, Any], tmp_path: Path
) -> None:
    lookup = tmp_path / "WD25_LAD25_UK_LU.csv"
    lookup.write_text(
        "WD25CD,WD25NM,LAD25CD,LAD25NM\nE05099001,One,E08000099,Metro\n"
        "E05099002,Two,E08000098,Elsewhere\nE05099004,Four,E08000099,Metro\n",
        encoding="utf-8-sig",
    )
    env = {**os.environ, "MECTK_METRO_WARD_LOOKUP": str(lookup)}
    done = mectk("validate", str(imported["files"]["xlsx"]), "--json", cwd=tmp_path, env=env)
    issues = [i for i in json.loads(done.stdout)["issues"] if i["code"] == "ward-not-in-la"]
    assert [(i["record_id"], i["cell"]) for i in issues] == [("MB-2", "D3"), ("MB-3", "D4")]
    assert "E08000098" in issues[0]["message"] and "not in the lookup" in issues[1]["message"]


def rows_of(sheet: Any) -> list[tuple[Any, ...]]:
    return [r for r in sheet.iter_rows(min_row=6, values_only=True) if r[0]]


def test_the_annual_report_matches_the_hand_worked_figures(imported: dict[str, Any]) -> None:
    folder, db = imported["folder"], str(imported["db"])
    listed = json.loads(mectk("plugins", "--json", cwd=folder).stdout)
    metro = next(p for p in listed["plugins"] if p["name"] == "metro")
    assert metro["distribution"] == "mectk-metro"
    out = folder / "Community_Microenterprise_Annual_Report_2025-26.xlsx"
    args = ("report", "annual-outcomes", "--period", "2025-26", "--db", db)
    done = mectk(*args, "-o", str(out), "--profile", "council", cwd=folder)
    assert done.returncode == 0, done.stderr
    book = load_workbook(out)
    assert book.sheetnames == [
        "Headlines",
        "By_Service_Type",
        "Sustainability_Cohort",
        "Funding_Mix",
        "SME_Spend",
        "Savings_Method",
        "ASCOF_Mapping",
    ]
    sheet = book["Headlines"]
    assert sheet.freeze_panes == "B6"
    figures = {row[0]: row[2:5] for row in rows_of(sheet)}
    assert figures["A01"] == (3, 3, 0)
    assert figures["A02"] == (2, 1, -1)
    assert figures["A04"] == (14, 24, 10)  # snapshots at 31 March, never summed
    assert figures["A05"] == (3, 6, 3)
    assert figures["A08"] == ("n/a", 0.5, "n/a")
    assert figures["A10"][:2] == (0.2, 0.35)
    assert sheet["D15"].number_format == "0.0%"
    spend = {(r[0], r[1]): r for r in rows_of(book["SME_Spend"])}
    assert spend[("All spend", "All")][2] == 1100 and spend[("All spend", "All")][7] == 100
    assert spend[("All spend", "All")][8:] == (0.35, 0.33, "Y")
    assert spend[("All categories", "Direct")][8] == pytest.approx(300 / 900)
    assert book["SME_Spend"]["C6"].number_format.startswith("£")
    cohort = {r[0]: r[1:] for r in rows_of(book["Sustainability_Cohort"])}
    assert cohort["2024-25 Q1"] == (1, 1, 0, 0, 1)  # MB-1 trading at +12 months
    assert cohort["2024-25 Q2"] == (1, 0, 1, 0, 0)  # MB-3 closed before
    assert book["Funding_Mix"]._charts and book["Sustainability_Cohort"]._charts
    service = {r[0]: r for r in rows_of(book["By_Service_Type"])}
    assert service["Personal care"][1] == 1 and service["All services (distinct)"][1] == 3
    assert any("counted in each row" in str(name) for name in service)

    portal = folder / "portal.csv"
    done = mectk(*args, "-o", str(portal), cwd=folder)
    assert done.returncode == 0, done.stderr
    with (folder / "portal_Headlines.csv").open(encoding="utf-8-sig", newline="") as handle:
        lines = {row[0]: row[2:5] for row in csv.reader(handle) if row}
    assert lines["A01"] == ["*", "*", "*"]  # 3 enterprises: suppressed for publication
    assert lines["A04"] == ["14.00", "24.00", "10.00"]  # hours are not suppressed
    assert lines["A10"][:2] == ["20.0", "35.0"]
    assert "SME_Spend" in portal.read_text(encoding="utf-8-sig")
    quarter = folder / "q2.xlsx"
    done = mectk(*args[:3], "2025-26-Q2", *args[4:], "-o", str(quarter), cwd=folder)
    assert done.returncode == 0, done.stderr  # a quarter: the year to date at its end
    sheet = load_workbook(quarter)["Headlines"]
    assert "30/09/2025 (year to date" in str(sheet["A2"].value)
    ytd = {row[0]: row[2:4] for row in rows_of(sheet)}
    # at 30/09/2025 MB-1's April 10 is carried forward (MB-3 has closed, MB-2's first figure
    # is December's); the fixture has no hours before March 2025, so 30/09/2024 has none
    assert ytd["A04"] == (0, 10)


def test_the_samples_hook_writes_files_whose_planted_mistakes_are_found(tmp_path: Path) -> None:
    registry = build_registry(make_plugin_manager())
    sample = registry.samples["metro"].spec
    assert (tuple(sample.reports), tuple(sample.periods)) == (("annual-outcomes",), ("2025-26",))
    written = sample.write(tmp_path)
    assert [f.path.name for f in written] == [
        "metro-programme-and-spend.xlsx",
        "cme_export_2024-25.csv",
        "cme_export_2025-26.xlsx",
    ]
    (tmp_path / "again").mkdir()
    again = write_samples(tmp_path / "again")
    assert again[1].path.read_bytes() == written[1].path.read_bytes()  # deterministic
    for file in written:
        done = mectk("validate", str(file.path), "--json", cwd=tmp_path)
        report = json.loads(done.stdout)
        counts = report["counts"]
        assert counts["rows_read"] == counts["accepted"] + counts["rejected"]
        missed = [code for code, _what in file.planted if code not in counts["issues"]]
        assert not missed, (file.path.name, missed)
        assert done.returncode == (1 if file.planted else 0), report["issues"][:3]
