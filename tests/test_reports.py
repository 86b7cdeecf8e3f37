"""Reports (issue 4): the built-in ``summary`` report and ``mectk report``.

The register is the one of tests/test_metrics.py (three returns over a financial-year
boundary); the values it should hold are worked out there.
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import openpyxl
import pytest
from click.testing import CliRunner

from mectk.cli import cli
from mectk.metrics import load_current, report_context
from mectk.periods import parse_period
from mectk.plugins.summary_report import write_summary
from tests.test_metrics import build_register


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_register(tmp_path_factory.mktemp("reports"))


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_summary_json_is_suppressed(register: Path, tmp_path: Path):
    out = tmp_path / "summary.json"
    done = run(
        "report",
        "summary",
        "--period",
        "2025-26-Q1",
        "--db",
        str(register),
        "-o",
        str(out),
        "--json",
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["output"] == str(out)
    document = json.loads(out.read_text(encoding="utf-8"))
    measures = {m["ref"]: m for m in document["measures"]}
    assert document["suppression"] == {"threshold": 5, "marker": "*"}
    assert measures["M02"]["this_period"] == "*"  # 2 enterprises: a small number
    assert measures["M03"]["this_period"] == "*"
    assert measures["M05"]["this_period"] == 0  # zero is shown
    assert measures["M14"]["this_period"] == 15  # hours are not suppressed
    locality = {row["locality_id"]: row for row in document["by_locality"]}
    assert locality["L-NORTH"]["measures"]["M14"] == 10
    assert locality["L-NORTH"]["measures"]["M02"] == "*"
    assert document["by_locality_total"]["M14"] == 15
    # nothing unsuppressed about people or enterprises below the threshold leaks out
    text = out.read_text(encoding="utf-8")
    assert '"M02": 1' not in text


def test_summary_year_so_far_crosses_no_year(register: Path, tmp_path: Path):
    out = tmp_path / "q4.json"
    context = report_context(load_current(register), parse_period("2025-26-Q4"))
    write_summary(context, out)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [q["quarter"] for q in document["year_so_far"]] == [
        "2025-26-Q1",
        "2025-26-Q2",
        "2025-26-Q3",
        "2025-26-Q4",
    ]
    assert [q["M14"] for q in document["year_so_far"]] == [15, 17, 12, 8]
    assert all(q["M06"] == "*" for q in document["year_so_far"])
    measures = {m["ref"]: m for m in document["measures"]}
    assert measures["M14"]["year_to_date"] == 8  # the value at the end, not 52
    next_year = report_context(load_current(register), parse_period("2026-27-Q1"))
    assert [q.period.label for q in next_year.quarters] == ["2026-27-Q1"]


def test_summary_xlsx_is_styled_with_a_chart_and_text_stays_text(register: Path, tmp_path: Path):
    context = report_context(load_current(register), parse_period("2025-26-Q4"))
    sly = {"name": '=HYPERLINK("http://x","click")', "gss_code": "E07000001"}
    context = attrs.evolve(context, localities={**context.localities, "L-NORTH": sly})
    out = tmp_path / "summary.xlsx"
    write_summary(context, out)
    assert not list(tmp_path.glob(".*.part"))  # written atomically
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Summary", "By_Locality", "Year_so_far"]
    for name in book.sheetnames:
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\")
    summary = book["Summary"]
    assert [c.value for c in summary[3]] == [
        "Ref",
        "Measure",
        "This period",
        "Year to date",
        "Notes",
    ]
    assert summary["A3"].font.bold
    assert summary.freeze_panes == "C4"
    rows = {r[0].value: r for r in summary.iter_rows(min_row=4, max_row=21)}
    assert rows["M14"][2].value == 8
    assert rows["M14"][2].number_format == "#,##0.0"
    assert rows["M14"][3].value == 8
    assert rows["M02"][2].value == "*"
    assert rows["M02"][2].data_type == "s"
    assert "distinct" in rows["M02"][4].value
    local = book["By_Locality"]
    assert local.freeze_panes == "C2"
    names = [local.cell(row=r, column=1) for r in range(2, local.max_row + 1)]
    sly_cell = next(c for c in names if str(c.value).startswith("=HYPERLINK"))
    assert sly_cell.data_type == "s"  # text, never a formula
    assert names[-1].value == "Total"
    chart_sheet = book["Year_so_far"]
    assert [chart_sheet.cell(row=r, column=3).value for r in range(2, 6)] == [15, 17, 12, 8]
    # openpyxl does not read charts back; check the saved part is there
    import zipfile

    with zipfile.ZipFile(out) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert charts
        xml = archive.read(charts[0]).decode()
    assert "barChart" in xml
    assert "lineChart" in xml


def test_report_errors_are_usage_errors(register: Path, tmp_path: Path):
    done = run(
        "report",
        "nonesuch",
        "--period",
        "2025-26-Q1",
        "--db",
        str(register),
        "-o",
        str(tmp_path / "x.json"),
    )
    assert done.exit_code == 2
    assert "no report called 'nonesuch'" in done.stderr
    assert "summary" in done.stderr
    done = run(
        "report",
        "summary",
        "--period",
        "2025-26-Q1",
        "--db",
        str(register),
        "-o",
        str(tmp_path / "x.pdf"),
    )
    assert done.exit_code == 2
    assert "xlsx, json, csv" in done.stderr
    missing = tmp_path / "missing.db"
    done = run(
        "report",
        "summary",
        "--period",
        "2025-26-Q1",
        "--db",
        str(missing),
        "-o",
        str(tmp_path / "x.json"),
    )
    assert done.exit_code == 2
    assert "no register" in done.stderr
    assert not missing.exists()
    done = run(
        "report",
        "summary",
        "--period",
        "2025-27",
        "--db",
        str(register),
        "-o",
        str(tmp_path / "x.json"),
    )
    assert done.exit_code == 2
    assert not (tmp_path / "x.json").exists()
