"""Output safety: text that looks like a formula never runs, in CSV or in xlsx."""

from __future__ import annotations

import csv
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from mectk.textsafety import csv_safe, write_csv


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_looking_text_is_escaped_for_csv(text):
    assert csv_safe(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "shown"),
    [(-5, -5), (Decimal("12.50"), "12.50"), (None, ""), ("Tea & Co", "Tea & Co")],
)
def test_numbers_and_plain_text_pass(value, shown):
    assert csv_safe(value) == shown


def test_write_csv_is_whole_and_safe(tmp_path: Path):
    path = tmp_path / "out.csv"
    write_csv(path, ["Name", "Value"], [["=cmd|' /C calc'!A0", 1], ["Café", Decimal("2.5")]])
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["Name", "Value"], ["'=cmd|' /C calc'!A0", "1"], ["Café", "2.5"]]
    assert not list(tmp_path.glob("*.part"))


def test_the_summary_report_writes_csv(tmp_path: Path):
    def mectk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mectk", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
            check=False,
        )

    assert mectk("demo", "--out", "d").returncode == 0
    done = mectk(
        "report",
        "summary",
        "--period",
        "2025-26-Q1",
        "--db",
        "d/canonical/mectk.db",
        "-o",
        "summary.csv",
    )
    assert done.returncode == 0, done.stderr
    with (tmp_path / "summary.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Ref", "Measure", "This period", "Year to date", "Notes"]
    assert [r[0] for r in rows[1:]] == [f"M{n:02d}" for n in range(1, 19)]
