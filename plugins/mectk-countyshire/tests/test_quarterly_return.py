"""The quarterly-return report, against figures worked out by hand.

A small programme (suppression threshold 3, so counts of 1 and 2 are hidden) is imported
through the CLI: its settings, a Q1 tracker and a Q2 tracker. The Q2 return is written
for both profiles and read back with openpyxl. The hand-worked figures are beside each
expected value.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from mectk_countyshire.programme import settings_rows
from mectk_countyshire.quarterly_return import shown_name, write_quarterly_return
from mectk_countyshire.workbook import write_tracker

from mectk import write_canonical_workbook
from mectk.metrics import load_current, report_context
from mectk.periods import parse_period

D = datetime.date
BASE = {"Postcode": "WR10 1PT", "Services offered": "Cleaning", "Personal Care?": "N",
        "CQC Reg?": "N", "Doing It Right signed": "N", "No. of staff (inc. owner)": 1}  # fmt: skip


def row(ref: str, district: str, origin: str, first: Any, launch: Any, still: Any, **more: Any):
    return {**BASE, "Ref No": ref, "Name of Enterprise": f"Named {ref}", "District": district,
            "Contact Name": f"Person {ref}", "Email": f"{ref.lower()}@example.org",
            "New or Existing": origin, "Date of first contact": first,
            "Date started trading": launch, "Still trading?": still,
            **{k.replace("_", " "): v for k, v in more.items()}}  # fmt: skip


HRS, PPL, DP, SF = "Approx hrs per wk", "No. of people supported", "DP clients", "Self funders"


def q1() -> list[dict[str, Any] | None]:
    return [
        row("Q-01", "Wychavon", "New", D(2025, 4, 10), D(2025, 5, 1), "Y",
            **{HRS: 10, PPL: 4, DP: 1, SF: 2}),
        row("Q-02", "Wychavon", "New", D(2025, 4, 15), None, None),
        row("Q-03", "Wychavon", "Existing", D(2025, 5, 2), D(2019, 1, 1), "Y",
            **{HRS: 20, PPL: 6, "Doing It Right signed": "Y"}),
        row("Q-05", "Malvern Hills", "New", D(2025, 3, 1), D(2025, 4, 20), "Y",
            **{HRS: 5, PPL: 4}),
        row("Q-07", "Countywide", "Existing", D(2025, 6, 1), D(2018, 5, 1), "Y",
            **{HRS: 15, PPL: 7, DP: 3, "Doing It Right signed": "Y"}),
        row("Q-08", "Wychavon", "New", "April 2025", None, None),
    ]  # fmt: skip


def q2() -> list[dict[str, Any] | None]:
    return [
        row("Q-01", "Wychavon", "New", D(2025, 4, 10), D(2025, 5, 1), "Y",
            **{HRS: 12, PPL: 5, DP: 2, SF: 2}),
        row("Q-02", "Wychavon", "New", D(2025, 4, 15), D(2025, 7, 10), "Y",
            **{HRS: 8, PPL: 3, SF: 3}),
        row("Q-03", "Wychavon", "Existing", D(2025, 5, 2), D(2019, 1, 1), "Y",
            **{HRS: 20, PPL: 6, "Doing It Right signed": "Y"}),
        row("Q-04", "Malvern", "New", D(2025, 7, 5), None, None),
        row("Q-05", "Malvern Hills", "New", D(2025, 3, 1), D(2025, 4, 20), "N",
            **{"Date closed": D(2025, 8, 15)}),
        None,
        row("Q-06", "Worcester", "New", D(2025, 8, 1), D(2025, 9, 1), "Y", **{HRS: 6, PPL: 2}),
        row("Q-07", "Countywide", "Existing", D(2025, 6, 1), D(2018, 5, 1), "Y",
            **{HRS: 16, PPL: 8, DP: 3, "Doing It Right signed": "Y"}),
        row("Q-08", "Wychavon", "New", "April 2025", None, None),
        row("Q-09", "Worcester", "New", D(2025, 9, 10), None, None),
    ]  # fmt: skip


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
def returns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Q2 return for both profiles and the full year's, as openpyxl workbooks."""
    folder = tmp_path_factory.mktemp("return")
    settings = dict(settings_rows())
    settings["programme"] = [{**settings["programme"][0], "suppression_threshold": 3}]
    write_canonical_workbook(folder / "settings.xlsx", settings)
    write_tracker(folder / "CME Tracker 2025-26 Q1.xlsx", q1())
    write_tracker(folder / "CME Tracker 2025-26 Q2.xlsx", q2())
    for names in (
        ("settings.xlsx", "CME Tracker 2025-26 Q1.xlsx"),
        ("CME Tracker 2025-26 Q2.xlsx",),
    ):
        done = mectk_cli("import", *names, cwd=folder)
        assert done.returncode == 0, done.stderr
    args = ("report", "quarterly-return", "--period", "2025-26-Q2", "-o", "external.xlsx")
    done = mectk_cli(*args, cwd=folder)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = {"external": openpyxl.load_workbook(folder / "external.xlsx")}
    records = load_current(folder / "mectk.db")  # the others as mectk report makes them
    for key, period, profile in (
        ("council", "2025-26-Q2", "council"),
        ("year", "2025-26", "external"),
    ):
        context = report_context(records, parse_period(period), profile)  # type: ignore[arg-type]
        write_quarterly_return(context, folder / f"{key}.xlsx")
        out[key] = openpyxl.load_workbook(folder / f"{key}.xlsx")
    return out


def table(sheet: Any, first_column: str) -> dict[str, tuple[Any, ...]]:
    """Rows of a sheet keyed by their first cell, from the heading row whose first cell is
    ``first_column`` down."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == first_column)
    out = {}
    for found in rows[start + 1 :]:
        if found[0] is None:
            break
        out[found[0]] = found[1:]
    return out


def test_the_sheets_follow_the_profile(returns):
    assert returns["external"].sheetnames == ["Cover", "Summary", "By_Locality", "Notes"]
    assert returns["council"].sheetnames == [
        "Cover",
        "Summary",
        "By_Locality",
        "Enterprise_List",
        "Notes",
    ]


def test_the_cover(returns):
    sheet = returns["external"]["Cover"]
    cover = {k: v[0] for k, v in table(sheet, "Item").items()}
    assert cover["Council"] == "Countyshire County Council"
    assert cover["Council GSS code"] == "E10000099"
    assert cover["Financial year"] == "2025/26"
    assert cover["Quarter"] == "Q2 (Jul\u2013Sep)"
    assert (cover["Period start"].date(), cover["Period end"].date()) == (
        D(2025, 7, 1),
        D(2025, 9, 30),
    )
    assert cover["Suppression applied"] == "Counts 1\u20132 shown as *"
    assert "officer" in cover["Prepared by"]  # a role, not a name
    start = next(c for c in sheet["A"] if c.value == "Period start")
    assert sheet.cell(row=start.row, column=2).number_format == "dd/mm/yyyy"
    year = {k: v[0] for k, v in table(returns["year"]["Cover"], "Item").items()}
    assert year["Quarter"] == "Full year (Apr\u2013Mar)"


def test_the_summary_against_hand_worked_figures(returns):
    sheet = returns["external"]["Summary"]
    summary = {ref: (values[1], values[2]) for ref, values in table(sheet, "Ref").items()}
    assert summary == {
        "M01": (3, 8),  # first contacts; and Q-01..03, Q-07, Q-08 (April)
        "M02": (0, 0),  # the tracker has no support episodes
        "M03": (0, 0),
        "M04": (0, 0),
        "M05": ("*", 4),  # new launches Q-02, Q-06 (2, hidden); and in Q1
        "M06": (5, 5),  # trading at 30/09, Q-07 (Q-05 closed)
        "M07": ("*", "*"),  # Q-05 closed on 15/08/2025
        "M08": (0, 0),
        "M09": (0, 0),
        "M10": (0, 0),
        "M11": (0, 0),
        "M12": (0, 0),
        "M13": (0, 0),
        "M14": (62, 62),  # 12 + 8 + 20 + 6 + 16 from trading enterprises; snapshot, not summed
        "M15": (28, 28),  # 5 + 3 + 6 + 2 + 8, and Q-05's 4 from Q1 carried forward
        "M16": (5, 5),  # Direct Payments: Q-01 2 + Q-07 3
        "M17": (5, 5),  # self-funders: Q-01 2 + Q-02 3
        "M18": ("*", "*"),  # Doing It Right
    }
    notes = {ref: values[3] for ref, values in table(sheet, "Ref").items()}
    assert "1 value(s) carried forward" in notes["M15"]
    assert sheet.freeze_panes == "C5"
    assert len(sheet._charts) == 1  # the year so far, by quarter
    year_so_far = {k: v[:2] for k, v in table(sheet, "Quarter").items()}
    assert year_so_far == {
        "2025-26-Q1": (4, 50),  # at 30/06; hours 10 + 20 + 5 + 15
        "2025-26-Q2": (5, 62),
    }


def test_by_locality_with_primary_and_secondary_suppression(returns):
    sheet = returns["external"]["By_Locality"]
    found = table(sheet, "Locality")
    # columns: GSS, Enquiries, Supported, New launched, Trading, Jobs, Hours, People
    assert found == {
        "Bromsgrove": ("E07000234", 0, 0, 0, 0, 0, 0, 0),
        "Malvern Hills": ("E07000235", "*", 0, 0, 0, 0, 0, "*"),  # people 4: secondary
        "Redditch": ("E07000236", 0, 0, 0, 0, 0, 0, 0),
        "Worcester": ("E07000237", "*", 0, "*", "*", 0, 6, "*"),  # 2, 1, 1 and 2: primary
        "Wychavon": ("E07000238", 0, 0, "*", 3, 0, 40, 14),
        "Wyre Forest": ("E07000239", 0, 0, 0, 0, 0, 0, 0),
        "Countywide / unassigned": (None, 0, 0, 0, "*", 0, 16, 8),  # Q-07, countywide
        "Total": (None, 3, 0, "*", 5, 0, 62, 28),  # the programme's figures
    }
    assert sheet.freeze_panes == "B5"


def test_the_enterprise_list_is_for_the_council_and_names_no_one(returns):
    sheet = returns["council"]["Enterprise_List"]
    listed = table(sheet, "Enterprise ID")
    assert sorted(listed) == [f"Q-0{n}" for n in range(1, 10)]
    assert listed["Q-01"][:2] == ("Q-01", "Wychavon")  # legal form unknown: the id
    assert listed["Q-01"][2:4] == ("Trading", "New")
    assert listed["Q-01"][4].date() == D(2025, 5, 1)
    assert listed["Q-01"][5:] == (
        "Home help domestic",
        "N",
        "Not required no regulated activity",
        "None",
        12,
        5,
    )
    assert listed["Q-05"][2] == "Closed" and listed["Q-05"][-2:] == (None, None)
    assert listed["Q-07"][1] == "Countywide"
    for workbook in returns.values():
        text = " ".join(
            str(v) for ws in workbook for r in ws.iter_rows(values_only=True) for v in r if v
        )
        assert "Named Q-" not in text and "Person Q-" not in text and "@" not in text


def test_a_trading_name_is_shown_only_when_it_cannot_be_a_persons():
    base = {"enterprise_id": "X-1", "trading_name": "Jo Smith Care"}
    assert shown_name({**base, "legal_form": "sole_trader"}) == "X-1"
    assert shown_name({**base, "legal_form": "unknown"}) == "X-1"
    assert shown_name({**base, "legal_form": "sole_trader", "consent_directory": True}) == (
        "Jo Smith Care"
    )
    assert shown_name({**base, "legal_form": "cic"}) == "Jo Smith Care"


def test_notes_count_data_quality(returns):
    sheet = returns["external"]["Notes"]
    checks = {k: v[0] for k, v in table(sheet, "Check").items()}
    assert checks["Enterprises in the register"] == 9
    assert checks["Enterprises not placed in a district (Countywide / unassigned)"] == 1
    assert checks["Snapshot values carried forward from the previous quarter"] == 1
