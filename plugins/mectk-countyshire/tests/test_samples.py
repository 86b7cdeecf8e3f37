"""Countyshire's demo samples: deterministic, imported in order, every planted item found."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mectk_countyshire
import openpyxl
from mectk_countyshire.quarterly_return import write_quarterly_return

from mectk.metrics import load_current, report_context
from mectk.periods import parse_period


def mectk_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mectk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def cells(path: Path) -> list[tuple[str, list[tuple[object, ...]]]]:
    workbook = openpyxl.load_workbook(path)
    return [(ws.title, list(ws.iter_rows(values_only=True))) for ws in workbook]


def test_the_samples_are_the_same_on_every_run(tmp_path):
    [spec] = mectk_countyshire.mectk_register_samples()
    assert (spec.name, tuple(spec.reports), tuple(spec.periods)) == (
        "countyshire",
        ("quarterly-return",),
        ("2025-26-Q2", "2025-26"),
    )
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    files = spec.write(first)
    again = spec.write(second)
    assert [f.path.name for f in files] == [
        "Countyshire programme settings.xlsx",
        "CME Tracker 2025-26 Q1.xlsx",
        "CME Tracker 2025-26 Q2.xlsx",
    ]
    for one, other in zip(files, again, strict=True):
        assert cells(one.path) == cells(other.path)
    assert files[0].format == "canonical"
    assert files[1].format is None  # identified by the plugin's hook


def test_the_samples_import_in_order_with_every_planted_item_found(tmp_path):
    [spec] = mectk_countyshire.mectk_register_samples()
    files = spec.write(tmp_path)
    batches = []
    for sample in files:
        done = mectk_cli("import", sample.path.name, "--json", cwd=tmp_path)
        report = json.loads(done.stdout)
        assert done.returncode == (1 if sample.planted else 0), done.stderr
        if sample.path.name.startswith("CME Tracker"):
            assert report["files"][0]["format"] == "county-tracker"
        counts = report["counts"]
        assert counts["rows_read"] == counts["accepted"] + counts["rejected"]
        found = {i["code"] for i in report["issues"]}
        missed = [code for code, _what in sample.planted if code not in found]
        assert not missed, (sample.path.name, missed)
        batches.append(report["batch"]["id"])
    diff = mectk_cli("diff", "--since", str(batches[1]), "--json", cwd=tmp_path)
    changes = json.loads(diff.stdout)
    assert changes["closed"] == ["CCC-0005"]
    assert {"CCC-0015", "CCC-0016"} <= set(changes["added"])
    changed = {c["enterprise_id"] for c in changes["changed"]}
    assert "CCC-0010" in changed  # launched in Q2
    records = load_current(tmp_path / "mectk.db")
    for period in spec.periods:
        target = tmp_path / f"return-{period}.xlsx"
        write_quarterly_return(report_context(records, parse_period(period)), target)
        assert openpyxl.load_workbook(target).sheetnames[0] == "Cover"
