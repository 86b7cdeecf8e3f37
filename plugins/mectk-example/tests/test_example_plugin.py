"""The example plugin, tested as its author would: installed, through mectk's command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEADER = (
    "Ref,Programme,Name,Legal form,Independent,Status,Status date,Origin,First contact,CQC,Area"
)


def mectk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mectk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_the_plugin_is_found_through_its_entry_point(tmp_path: Path) -> None:
    done = mectk("plugins", "--json", cwd=tmp_path)
    plugins = {p["name"]: p for p in json.loads(done.stdout)["plugins"]}
    assert plugins["example"]["distribution"] == "mectk-example"
    assert plugins["example"]["readers"] == ["example-directory-csv"]


def test_a_directory_csv_is_identified_and_validated(tmp_path: Path) -> None:
    path = tmp_path / "directory.csv"
    path.write_text(
        HEADER + "\nEX-1,P1,Tea,Sole trader,Yes,Enquiry,01/04/2025,New,01/03/2025,Unknown,L1\n"
        "EX-2,P1,Cake,Sole trader,Maybe,Enquiry,01/04/2025,New,01/03/2025,Unknown,L1\n",
        encoding="utf-8-sig",
    )
    done = mectk("validate", str(path), "--json", cwd=tmp_path)
    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert report["files"][0]["format"] == "example-directory-csv"
    assert (report["counts"]["accepted"], report["counts"]["rejected"]) == (1, 1)
    [issue] = [i for i in report["issues"] if i["severity"] == "error"]
    assert (issue["code"], issue["cell"], issue["record_id"]) == ("boolean-invalid", "E3", "EX-2")


def test_a_file_that_is_not_its_own_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    done = mectk("validate", str(path), cwd=tmp_path)
    assert done.returncode == 3
    assert "no installed format recognises this file" in done.stderr
