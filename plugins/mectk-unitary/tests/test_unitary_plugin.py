"""The unitary plugin, tested as its author would: installed, through mectk's command line.

The fixtures are the plugin's own sample workbooks, generated in code
(``mectk_unitary.samples``), which carry every quirk of the layout. The KPI figures below
are worked out by hand from those rows (2025-26; Q1 ends 30/06/2025, Q2 30/09/2025),
after importing the settings, the Q1 workbook and the Q2 workbook in turn (the register
keeps the latest version of each provider and every dated snapshot):

* Trading at Q1's end: MP-00101/102/103/105/106/107/108 and MP-00110 (launched March,
  accepted in Q2 once its postcode was fixed), plus the 24 fillers: 32. At Q2's end
  MP-00106 has closed (15/08/2025) and MP-00109 has started (05/07/2025): 32 again.
* KPI1 launched (origin new, launched in the year so far): Q1 MP-00101 and MP-00107 (2);
  Q2 also MP-00109 (3). Target 10: 2.5 and 5 due; both small numbers, suppressed.
* KPI2 established supported, distinct: Q1 MP-00103, 201, 202, 203 (4, suppressed); Q2
  adds MP-00108 (at the July meeting) and 204..206, and counts 103 and 201..203 once: 8
  (the quarters' own counts would add up to 12). Target 12: 6 due, 133%, Green.
* KPI3 hours at the quarter end, trading enterprises: Q1 12+20+30+15+8+4+10 + 24x10 =
  339; Q2 14 + 20 (MP-00102's Q2 cells are blank: carried forward) + 32+15+6+10+5 +
  24x11 = 366, never 339+366. Target 380 (a level): 96.3%, Amber.
* KPI4 people: Q1 5+10+12+20+4+6+7 + 24x5 = 184; Q2 6+10+13+22+4+7+7+9 + 120 = 198
  (MP-00102's and MP-00106's June values are carried forward). Target 190: Green.
* KPI5 meeting the standard (accredited by the quarter end, not lapsed) among trading:
  Q1 101, 102, 105 + 24 = 27 of 32; Q2 also 109 (accredited 10/09/2025): 28 of 32 =
  87.5%, 2.5 points under the 90% target: Amber.
* KPI7 new enterprises launched 12 months before the quarter end still trading:
  MP-00105, MP-00106 and the 18 new fillers: 20 of 20, then 19 of 20 = 95%: Green.
* KPI9 people on a Direct Payment: Q1 2+4+5+3+1+0+2 + 24 = 41; Q2 2+4+5+4+1+1+2+0 + 24 =
  43. Target 40: Green.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from mectk_unitary import samples
from mectk_unitary.scorecard import HEADINGS, write_scorecard
from openpyxl import load_workbook

from mectk.metrics import load_current, report_context
from mectk.periods import parse_period

Q1 = "Micro-provider Register and Activity Q1.xlsx"
Q2 = "Micro-provider Register and Activity Q2.xlsx"
SETTINGS = "unitary-programme-settings.xlsx"


def mectk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mectk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The samples written, Q2 validated, all three imported, the scorecard written."""
    folder = tmp_path_factory.mktemp("unitary")
    files = samples.write_samples(folder)
    validated = mectk("validate", Q2, "--json", cwd=folder)
    imports = [mectk("import", f.path.name, "--db", "r.db", "--json", cwd=folder) for f in files]
    report = mectk(
        "report", "kpi-scorecard", "--period", "2025-26-Q2", "-o", "card.xlsx", "--db", "r.db",
        cwd=folder,
    )  # fmt: skip
    return {
        "folder": folder,
        "files": files,
        "validated": validated,
        "imports": imports,
        "report": report,
    }


def test_the_plugin_is_found_through_its_entry_point(tmp_path: Path) -> None:
    done = mectk("plugins", "--json", cwd=tmp_path)
    plugins = {p["name"]: p for p in json.loads(done.stdout)["plugins"]}
    assert plugins["unitary"]["distribution"] == "mectk-unitary"
    assert plugins["unitary"]["readers"] == ["unitary-register"]
    assert "mectk_register_samples" in plugins["unitary"]["hooks"]


def test_validate_identifies_the_workbook_and_accounts_for_every_row(
    demo: dict[str, Any],
) -> None:
    done = demo["validated"]
    assert done.returncode == 1, done.stderr  # the planted errors
    report = json.loads(done.stdout)
    assert report["files"][0]["format"] == "unitary-register"
    counts = report["counts"]
    assert counts["rows_read"] == counts["accepted"] + counts["rejected"]
    # every sheet row, worked out from the rows written: each provider is an enterprise,
    # each non-blank snapshot cell an outcome, each contact an episode, each event an
    # event and one episode per provider listed; each closure row is applied (skipped)
    providers = samples.providers(2)
    snapshots = sum(1 for row in providers for value in row[18:22] if value is not None)
    attendances = sum(len(row[3].split(";")) for row in samples.events(2))
    expected = len(providers) + snapshots + len(samples.contacts(2)) + 2 + attendances
    assert counts["rows_read"] == expected
    assert counts["skipped_rows"] == len(samples.closures(2)) == 2
    assert counts["blank_rows"] == 0
    records = counts["records"]
    assert records["enterprise"] == len(providers) - 1  # MP-00111 rejected
    assert records["support_event"] == 2
    assert records["support_episode"] == len(samples.contacts(2)) + attendances - 1
    codes = {(i["code"], i["record_id"]) for i in report["issues"]}
    assert ("trading-since-blank", "MP-00104") in codes  # not trading yet: a warning
    [hidden] = [i for i in report["issues"] if i["code"] == "rows-hidden"]
    assert (hidden["sheet"], "2" in hidden["message"]) == ("Providers", True)
    skipped = [i["message"] for i in report["issues"] if i["code"] == "row-skipped"]
    assert any("applied to MP-00106 (Providers row 8)" in m for m in skipped)
    # the layout has no services column, which trading providers need: one warning for
    # the sheet, at the first, counting them (providers trading since a date, less the
    # one closed), not one per row
    [absent] = [i for i in report["issues"] if i["code"] == "field-not-in-source"]
    closed = {row[0] for row in samples.closures(2)}
    trading = [row[0] for row in providers if row[8] is not None and row[0] not in closed]
    assert (absent["sheet"], absent["field"], absent["record_id"]) == (
        "Providers", "services", trading[0])  # fmt: skip
    assert f"for {len(trading)} enterprise record(s) in sheet 'Providers'" in absent["message"]


def test_every_planted_mistake_is_found_at_its_cell(demo: dict[str, Any]) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for done in demo["imports"][1:]:
        for issue in json.loads(done.stdout)["issues"]:
            found.setdefault(issue["code"], []).append(issue)
    for code, _what in (*samples.Q1_PLANTED, *samples.Q2_PLANTED):
        assert any(i["severity"] == "error" for i in found[code]), code
    [bad_date] = found["date-invalid"]
    assert (bad_date["sheet"], bad_date["cell"], bad_date["record_id"]) == (
        "Contacts", "D9", "C-0008")  # fmt: skip
    [postcode] = found["format-invalid"]
    assert (postcode["cell"], postcode["value"]) == ("F12", "***")  # personal: masked
    [missing] = found["update-target-missing"]
    assert (missing["sheet"], missing["cell"], missing["record_id"]) == (
        "Closures", "A3", "MP-00888")  # fmt: skip
    [stranger] = found["reference-missing"]
    assert (stranger["sheet"], stranger["cell"]) == ("Events", "D2")
    assert stranger["column"] == "Attendees (providers)"


def test_every_quirk_reaches_the_register(demo: dict[str, Any]) -> None:
    assert [d.returncode for d in demo["imports"]] == [0, 1, 1]
    records = load_current(demo["folder"] / "r.db")
    providers = {e["enterprise_id"]: e for e in records.of("enterprise")}
    suppers, cic, garden = providers["MP-00102"], providers["MP-00103"], providers["MP-00104"]
    assert suppers["company_number"] == "08123456"  # the lost leading zero
    assert suppers.get("charity_number") is None  # N/A
    assert providers["MP-00105"]["charity_number"] == "1089464"
    assert (suppers["legal_form"], providers["MP-00105"]["legal_form"]) == (
        "limited_company", "cio")  # fmt: skip
    assert suppers["first_contact_date"] == "2024-11-01"  # an Excel serial stored as General
    assert providers["MP-00107"]["launch_date"] == "2025-06-20"  # a datetime, time dropped
    assert garden["first_contact_date"] == "2025-05-20"
    assert (garden["status"], garden["status_date"], garden["locality_id"]) == (
        "developing", "2025-05-20", "UC-WSOM")  # fmt: skip  # no Trading Since; "W Somerset"
    assert (cic["origin"], cic["status_date"], cic["cqc_status"]) == (
        "established", "2025-03-03", "registered")  # fmt: skip  # TRUE
    assert suppers["cqc_status"] == "unknown"  # FALSE: not registered, need unknown
    assert suppers["dbs_checked"] is True  # Yes
    assert (cic["accreditation_status"], cic["quality_standard"]) == ("pending", "none")
    closed = providers["MP-00106"]
    assert (closed["status"], closed["closure_date"], closed["closure_reason"]) == (
        "closed", "2025-08-15", "retired")  # fmt: skip  # from the Closures sheet
    assert closed["trading_name"] == "Mendip Minders"  # the rest of the record is kept
    episodes = {e["episode_id"]: e for e in records.of("support_episode")}
    assert episodes["C-0002"]["topics"] == ["business_planning", "insurance", "dbs_and_training"]
    assert (episodes["C-0003"]["support_type"], episodes["C-0003"]["mode"]) == (
        "one_to_one_advice", "video")  # fmt: skip  # 1:1 by Teams
    meeting = "EV-2025-05-14-network-meeting"
    attended = sorted(e["enterprise_id"] for e in episodes.values() if e.get("event_id") == meeting)
    assert attended == ["MP-00101", "MP-00102", "MP-00105"]
    event = {e["event_id"]: e for e in records.of("support_event")}[meeting]
    assert (event["attendees_total"], event["locality_id"]) == (7, "UC-SEDG")
    hours = {
        (o["enterprise_id"], o["as_at_date"]): o["value"]
        for o in records.of("outcome")
        if o["outcome_type"] == "hours_per_week"
    }
    assert Decimal(str(hours[("MP-00103", "2025-06-30")])) == 30  # kept from Q1
    assert Decimal(str(hours[("MP-00103", "2025-09-30")])) == 32  # dated by Snapshot Date
    assert ("MP-00102", "2025-09-30") not in hours  # a blank cell is no observation


def _scorecard(path: Path) -> dict[str, dict[str, Any]]:
    sheet = load_workbook(path)["KPI Scorecard"]
    out = {}
    for row in sheet.iter_rows(min_row=5, max_row=13):
        out[row[0].value] = dict(zip(HEADINGS, row, strict=False))
    return out


def test_the_scorecard_figures_match_the_hand_worked_values(demo: dict[str, Any]) -> None:
    assert demo["report"].returncode == 0, demo["report"].stderr
    card = _scorecard(demo["folder"] / "card.xlsx")

    def values(ref: str, *headings: str) -> list[Any]:
        return [card[ref][h].value for h in headings]

    q = ("Q1 Actual (cum)", "Q2 Actual (cum)")
    assert values("KPI1", *q, "Q1 Target (cum)", "Q2 Target (cum)", "RAG") == [
        "*", "*", 2.5, 5, "Red"]  # fmt: skip
    assert values("KPI2", *q, "RAG", "Trend") == ["*", 8, "Green", "→ Steady"]
    assert values("KPI3", *q, "Q2 Target (cum)", "RAG", "Trend") == [
        339, 366, 380, "Amber", "↑ Improving"]  # fmt: skip
    assert values("KPI4", *q, "RAG") == [184, 198, "Green"]
    assert values("KPI5", *q, "RAG") == [0.84375, 0.875, "Amber"]
    assert values("KPI7", *q, "RAG", "Trend") == [1, 0.95, "Green", "↓ Worsening"]
    assert values("KPI9", *q, "RAG") == [41, 43, "Green"]
    assert values("KPI6", *q, "Annual Target", "RAG") == [0, 0, None, "n/a"]
    assert card["KPI3"]["YTD % of profiled target"].value == pytest.approx(366 / 380)
    assert card["KPI5"]["YTD % of profiled target"].number_format == "0.0%"
    assert card["KPI5"]["Q2 Actual (cum)"].number_format == "0.0%"  # a decimal, shown as %
    assert card["KPI3"]["Q3 Actual (cum)"].value is None  # not reached yet
    assert card["KPI3"]["RAG"].fill.fgColor.rgb.endswith("FFEB9C")  # amber
    assert card["KPI3"]["Q1 Actual (cum)"].fill.fgColor.rgb.endswith("FFC7CE")  # red in Q1
    assert "carried forward" in card["KPI3"]["Commentary"].value


def test_the_scorecard_workbook_layout(demo: dict[str, Any]) -> None:
    book = load_workbook(demo["folder"] / "card.xlsx")
    assert book.sheetnames == ["KPI Scorecard", "RAG Key", "Exceptions", "Definitions", "Data"]
    sheet = book["KPI Scorecard"]
    assert sheet["A1"].value.endswith("Contract KPI Scorecard FY 2025/26")
    assert sheet["A2"].value == "Reporting period: Q2 2025/26 (01/07/2025\u201330/09/2025)"
    assert tuple(c.value for c in sheet[4]) == HEADINGS
    assert sheet.freeze_panes == "C5"
    assert len(sheet._charts) == 1
    exceptions = list(book["Exceptions"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2]) for r in exceptions] == [
        ("KPI1", "Q1", "Red"), ("KPI1", "Q2", "Red"), ("KPI3", "Q1", "Red"),
        ("KPI3", "Q2", "Amber"), ("KPI4", "Q1", "Amber"), ("KPI5", "Q1", "Red"),
        ("KPI5", "Q2", "Amber"),
    ]  # fmt: skip
    assert exceptions[0][3] == (
        "Below the profiled target of 2.5 (actual suppressed: a small number)."
    )  # the reason never gives the small number away
    definitions = list(book["Definitions"].iter_rows(min_row=2, values_only=True))
    assert [d[0] for d in definitions] == [f"KPI{n}" for n in range(1, 10)]
    assert definitions[6][3].startswith("enterprises of origin new")  # KPI7's denominator
    data = book["Data"]
    assert data.sheet_state == "hidden"
    assert data["C2"].number_format == "yyyy-mm-dd"
    assert [data.cell(row=2, column=c).value for c in (1, 2, 7)] == ["KPI1", "2025-26-Q1", "*"]
    key = [r[0] for r in book["RAG Key"].iter_rows(min_row=5, max_row=8, values_only=True)]
    assert key == ["Green", "Amber", "Red", "n/a"]


def test_the_council_profile_shows_small_numbers(demo: dict[str, Any], tmp_path: Path) -> None:
    records = load_current(demo["folder"] / "r.db")
    context = report_context(records, parse_period("2025-26-Q2"), profile="council")
    write_scorecard(context, tmp_path / "council.xlsx")
    card = _scorecard(tmp_path / "council.xlsx")
    assert [card["KPI1"][h].value for h in ("Q1 Actual (cum)", "Q2 Actual (cum)")] == [2, 3]
    assert card["KPI2"]["Q1 Actual (cum)"].value == 4


def test_samples_are_the_same_on_every_run(demo: dict[str, Any], tmp_path: Path) -> None:
    again = samples.write_samples(tmp_path)
    for first, second in zip(demo["files"], again, strict=True):
        assert first.path.name == second.path.name
        assert first.planted == second.planted
        one, two = load_workbook(first.path), load_workbook(second.path)
        assert one.sheetnames == two.sheetnames
        for name in one.sheetnames:
            rows = list(one[name].iter_rows(values_only=True))
            assert rows == list(two[name].iter_rows(values_only=True)), name


def test_a_workbook_that_is_not_its_own_is_left_alone(demo: dict[str, Any]) -> None:
    done = mectk("validate", SETTINGS, "--json", cwd=demo["folder"])
    assert json.loads(done.stdout)["files"][0]["format"] == "canonical"
    stray = samples.register_workbook(demo["folder"] / "providers-only.xlsx", [])
    book = load_workbook(stray)
    del book["Closures"]
    book.save(stray)
    done = mectk("validate", stray.name, "--format", "unitary-register", cwd=demo["folder"])
    assert done.returncode == 1
    assert "Closures" in done.stdout + done.stderr
