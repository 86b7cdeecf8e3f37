"""Snapshot columns with no date of their own are dated by the quarter the file name gives
(``CME Tracker 2025-26 Q2.xlsx`` -> 30/09/2025) when no ``--period`` is given."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from mectk.mapping import load_mapping
from mectk.metrics import load_current
from mectk.periods import quarter_in_name
from mectk.pipeline import validate_files
from mectk.plugin_manager import Registry, build_registry, make_plugin_manager
from mectk.sources import ReadOptions

D = datetime.date
MAPPING = """
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
status = "trading"
status_date = "2025-04-01"
first_contact_date = "2025-03-01"
[sheets.columns]
enterprise_id = "Ref"
trading_name = "Name"
[[sheets.snapshots]]
heading = "Hours"
outcome_type = "hours_per_week"
"""
ROWS = (["Ref", "Name", "Hours"], ["E1", "One", 5], ["E2", "Two", 6])


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    mapping = tmp_path_factory.mktemp("mapping") / "tiny.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return build_registry(make_plugin_manager(load_entrypoints=False)).with_mapping(
        load_mapping(mapping)
    )


def write(path: Path) -> Path:
    """The tiny tracker as a workbook (sheet ``S``) or, for a ``.csv`` name, a CSV file."""
    if path.suffix == ".csv":
        path.write_text("\n".join(",".join(map(str, r)) for r in ROWS) + "\n", encoding="utf-8")
        return path
    workbook = openpyxl.Workbook()
    workbook.active.title = "S"
    for row in ROWS:
        workbook.active.append(row)
    workbook.save(path)
    return path


def hours_dates(result) -> set[datetime.date]:
    return {r.model.as_at_date for r in result.accepted_records if r.kind == "outcome"}


@pytest.mark.parametrize(
    ("name", "end"),
    [
        ("CME Tracker 2025-26 Q2.xlsx", D(2025, 9, 30)),
        ("tracker_2025-26_Q1.csv", D(2025, 6, 30)),
        ("cme tracker 2025-26-q4.xlsx", D(2026, 3, 31)),
        ("tracker 2024-25Q3 final.csv", D(2024, 12, 31)),
    ],
)
def test_the_quarter_in_the_file_name_dates_the_snapshots(tmp_path, registry, name, end):
    result = validate_files(registry, [write(tmp_path / name)], format_name="tiny")
    assert hours_dates(result) == {end}
    assert not [i for i in result.issues if i.severity == "error"]
    [note] = [i for i in result.issues if i.code == "as-at-from-file-name"]
    assert (note.severity, note.file) == ("info", name)
    assert end.isoformat() in note.message and name in note.message


def test_quarter_labels_are_found_only_as_whole_tokens():
    found = quarter_in_name("Return 2025/26 Q3 (final).xlsx")
    assert found is not None and (found.label, found.end) == ("2025-26-Q3", D(2025, 12, 31))
    for name in (
        "CME Tracker 2025-26.xlsx",  # a year alone names no quarter
        "x2025-26 Q2.xlsx",  # not a token
        "t 2025-26 Q21.csv",
        "t 2025-27 Q1.csv",  # the years do not follow each other
        "t 2025-26 Q1 to 2025-26 Q2.csv",  # two quarters: which one?
    ):
        assert quarter_in_name(name) is None, name
    january = quarter_in_name("t 2025-26 Q1.csv", fy_start_month=1)  # a January year
    assert january is not None and january.end == D(2025, 3, 31)


def test_a_period_wins_over_the_file_name_and_is_not_noted(tmp_path, registry):
    book = write(tmp_path / "CME Tracker 2025-26 Q2.xlsx")
    options = ReadOptions(as_at=D(2025, 6, 30))
    result = validate_files(registry, [book], format_name="tiny", options=options)
    assert hours_dates(result) == {D(2025, 6, 30)}
    assert not [i for i in result.issues if i.code == "as-at-from-file-name"]


def test_a_mappings_own_as_at_wins_over_the_file_name(tmp_path):
    mapping = tmp_path / "fixed.toml"
    mapping.write_text('as_at = "2025-05-31"\n' + MAPPING, encoding="utf-8")
    fixed = build_registry(make_plugin_manager(load_entrypoints=False)).with_mapping(
        load_mapping(mapping)
    )
    book = write(tmp_path / "CME Tracker 2025-26 Q2.xlsx")
    assert hours_dates(validate_files(fixed, [book], format_name="tiny")) == {D(2025, 5, 31)}


def test_a_financial_year_alone_dates_nothing(tmp_path, registry):
    result = validate_files(
        registry, [write(tmp_path / "tracker 2025-26.xlsx")], format_name="tiny"
    )
    assert hours_dates(result) == set()
    assert [i.code for i in result.issues if i.severity == "error"] == ["as-at-missing"]
    assert not [i for i in result.issues if i.code == "as-at-from-file-name"]


def test_each_file_takes_its_own_quarter_noted_once(tmp_path, registry):
    first = write(tmp_path / "tracker 2025-26 Q1.xlsx")
    second = write(tmp_path / "tracker 2025-26 Q2.csv")
    undated = write(tmp_path / "tracker.csv")
    result = validate_files(registry, [first, second, undated], format_name="tiny")
    notes = [i.file for i in result.issues if i.code == "as-at-from-file-name"]
    assert notes == [first.name, second.name]
    by_file = {
        (r.row.file, r.model.as_at_date) for r in result.accepted_records if r.kind == "outcome"
    }
    assert by_file == {(first.name, D(2025, 6, 30)), (second.name, D(2025, 9, 30))}
    missing = [i for i in result.issues if i.code == "as-at-missing"]
    assert [i.file for i in missing] == [undated.name]


def test_the_command_line_dates_by_the_file_name_unless_a_period_is_given(tmp_path):
    (tmp_path / "tiny.toml").write_text(MAPPING, encoding="utf-8")
    write(tmp_path / "CME Tracker 2025-26 Q3.xlsx")

    common = ("--mapping", "tiny.toml", "--json")

    def imported(db: str, *extra: str) -> tuple[dict, set[str]]:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mectk",
                "import",
                "CME Tracker 2025-26 Q3.xlsx",
                *common,
                "--db",
                db,
                *extra,
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=dict(os.environ),
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        dates = {o["as_at_date"] for o in load_current(tmp_path / db).of("outcome")}
        return json.loads(done.stdout), dates

    report, dates = imported("named.db")
    assert dates == {"2025-12-31"}
    [note] = [i for i in report["issues"] if i["code"] == "as-at-from-file-name"]
    assert "2025-12-31" in note["message"] and note["severity"] == "info"
    report, dates = imported("given.db", "--period", "2025-26-Q1")
    assert dates == {"2025-06-30"}
    assert not [i for i in report["issues"] if i["code"] == "as-at-from-file-name"]
