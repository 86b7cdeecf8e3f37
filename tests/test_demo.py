"""``mectk demo``: every registered sample, end to end, each into its own folder and register.

The built-in samples run through the command line as a subprocess; a third-party sample
reaches the demo as a real entry point (a tiny ``.dist-info`` on ``PYTHONPATH``); the
failure paths run in process with an isolated plugin manager.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from rich.console import Console

from mectk import SampleFile, SampleSpec, hookimpl
from mectk.demo import MARKER, run_demo
from mectk.errors import PluginError
from mectk.plugin_manager import DISABLE_ENV, TRACE_ENV, build_registry, make_plugin_manager
from mectk.register import list_batches
from mectk.sample_data import PLANTED_ISSUES, TRACKER_PLANTED

DEMO_SECONDS = 60
"""The demo must finish within a minute (issue 5)."""


def run_mectk(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in (DISABLE_ENV, TRACE_ENV)}
    environ.update(NO_COLOR="1", COLUMNS="200", **env)
    return subprocess.run(
        [sys.executable, "-m", "mectk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ,
        timeout=300,
        check=False,
    )


def batches(db: Path) -> list[tuple[str, str | None]]:
    return [(b.format, b.mapping) for b in list_batches(db)]


# ---- the built-in samples, through the command line ----------------------------------------


def test_the_demo_runs_every_builtin_sample_into_its_own_folder(tmp_path: Path):
    started = time.monotonic()
    done = run_mectk("demo", cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert elapsed < DEMO_SECONDS
    assert "MISSED" not in done.stderr
    out = tmp_path / "mectk-demo"

    canonical = out / "canonical"
    report = json.loads((canonical / "sample-canonical-validation.json").read_text())
    counts = report["counts"]
    assert counts["rows_read"] == counts["accepted"] + counts["rejected"]
    assert counts["rejected"] >= 4
    assert {code for code, _ in PLANTED_ISSUES} <= set(counts["issues"])
    assert (canonical / "template.xlsx").exists()
    assert (canonical / "sample-canonical-annotated.xlsx").exists()
    assert batches(canonical / "mectk.db") == [("canonical", None)]
    for period in ("2025-26-Q1", "2025-26"):
        summary = openpyxl.load_workbook(canonical / f"report-summary-{period}.xlsx")
        assert summary.sheetnames[0] == "Summary"
        assert summary["Summary"]["A1"].value == f"Summary report: {period}"

    tracker = out / "sample-tracker"
    found = json.loads((tracker / "sample-council-tracker-validation.json").read_text())
    assert {code for code, _ in TRACKER_PLANTED} <= set(found["counts"]["issues"])
    assert found["files"][0]["format"] == "sample-county-tracker"
    annotated = openpyxl.load_workbook(tracker / "sample-council-tracker-annotated.xlsx")
    assert annotated.sheetnames[0] == "Issues"
    assert batches(tracker / "mectk.db") == [("sample-county-tracker", "county-tracker.toml")]
    assert (tracker / "report-summary-2025-26-Q1.xlsx").exists()

    # the summary says where every output is, relative to each sample's folder
    for line in ("mectk-demo/canonical/", "mectk-demo/sample-tracker/", "5 of 5 found"):
        assert line in done.stderr
    for name in ("sample-canonical-annotated.xlsx", "report-summary-2025-26.xlsx", "mectk.db"):
        assert name in done.stderr
    assert not list(out.rglob("*.part"))

    # every sample ends with an exchange package a partner can verify: no personal data
    for folder in (canonical, tracker):
        package = folder / "exchange-package.zip"
        verified = run_mectk("verify", str(package), "--json", cwd=tmp_path)
        assert verified.returncode == 0, verified.stdout
        document = json.loads(verified.stdout)
        assert document["valid"] is True
        with zipfile.ZipFile(package) as opened:
            manifest = json.loads(opened.read("datapackage.json"))
        assert manifest["mectk"]["personal_fields_included"] == []
    shown = run_mectk(
        "show", "CS-0001", "--db", str(canonical / "mectk.db"), "--json", cwd=tmp_path
    )
    assert shown.returncode == 0, shown.stderr
    assert "CS-0001" in shown.stdout


# ---- a third-party sample, found through its entry point ------------------------------------

TESTSHIRE = """
    from importlib import resources
    from pathlib import Path

    from mectk import MappingSpec, SampleFile, SampleSpec, hookimpl

    PLANTED = (("date-invalid", "a first contact on 31 February"),)


    def write(folder: Path) -> list[SampleFile]:
        path = folder / "testshire.csv"
        path.write_text(
            "Ref,Name,First contact,Status date,Area\\n"
            "TS-1,Tea Club,01/04/2025,02/04/2025,L-1\\n"
            "TS-2,Garden Help,31/02/2025,02/04/2025,L-1\\n",
            encoding="utf-8",
        )
        return [SampleFile(path=path, planted=PLANTED)]


    @hookimpl
    def mectk_register_mappings():
        return [MappingSpec(resources.files("testshire_plugin") / "testshire.toml")]


    @hookimpl
    def mectk_register_samples():
        return [
            SampleSpec(
                name="testshire",
                title="Testshire directory",
                write=write,
                reports=("summary", "no-such-report"),
                periods=("2025-26-Q1",),
            )
        ]
"""

TESTSHIRE_MAPPING = """
format = "testshire-csv"
title = "Testshire directory (CSV)"
source_types = ["csv"]

[identify]
headings = ["Ref", "Name", "First contact"]

[constants]
programme_id = "TS-CME"
independent = true
legal_form = "sole_trader"
cqc_status = "unknown"
status = "developing"
origin = "new"

[[sheets]]
record = "enterprise"

[sheets.columns]
enterprise_id = "Ref"
trading_name = "Name"
first_contact_date = "First contact"
status_date = "Status date"
locality_id = "Area"
"""


def install_testshire(where: Path) -> dict[str, str]:
    """Package ``testshire_plugin`` and a dist-info naming it in the ``mectk`` group."""
    package = where / "testshire_plugin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(TESTSHIRE), encoding="utf-8")
    (package / "testshire.toml").write_text(TESTSHIRE_MAPPING, encoding="utf-8")
    info = where / "testshire_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: testshire-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[mectk]\ntestshire = testshire_plugin\n", encoding="utf-8"
    )
    return {
        "PYTHONPATH": os.pathsep.join(p for p in (str(where), os.environ.get("PYTHONPATH")) if p)
    }


def test_a_third_party_sample_is_picked_up_by_the_demo(tmp_path: Path):
    env = install_testshire(tmp_path / "site")
    done = run_mectk("demo", "--out", "out", cwd=tmp_path, **env)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "out" / "testshire"
    report = json.loads((folder / "testshire-validation.json").read_text())
    assert report["files"][0]["format"] == "testshire-csv", "identified by its mapping"
    assert (report["counts"]["accepted"], report["counts"]["rejected"]) == (1, 1)
    assert "found date-invalid: a first contact on 31 February" in done.stderr
    assert not list(folder.glob("*annotated*")), "a CSV file gets no annotated workbook"
    assert "none for a csv file" in done.stderr
    assert batches(folder / "mectk.db") == [("testshire-csv", "testshire.toml")]
    assert (folder / "report-summary-2025-26-Q1.xlsx").exists()
    assert "report no-such-report is not installed: skipped" in done.stderr
    assert (tmp_path / "out" / "canonical" / "mectk.db").exists(), "the built-ins still run"


# ---- failures and reruns, in process ---------------------------------------------------------


class SamplePlugin:
    """Contributes one sample whose ``write`` is given."""

    def __init__(self, name: str, write: object) -> None:
        self.name, self.write = name, write

    @hookimpl
    def mectk_register_samples(self) -> list[SampleSpec]:
        return [SampleSpec(name=self.name, title=f"sample {self.name}", write=self.write)]


def quiet() -> Console:
    return Console(file=io.StringIO(), width=200)


@pytest.fixture
def pm():
    return make_plugin_manager(load_entrypoints=False, environ={})


def test_a_failing_sample_is_named_and_the_others_still_run(pm, tmp_path: Path):
    def broken(folder: Path) -> list[SampleFile]:
        raise RuntimeError("kaboom")

    pm.register(SamplePlugin("broken", broken), name="breaker")
    console = quiet()
    with pytest.raises(PluginError) as raised:
        run_demo(tmp_path, build_registry(pm), console)
    assert "'broken' (plugin 'breaker')" in raised.value.message
    assert "plugin 'breaker' failed writing sample 'broken'" in console.file.getvalue()
    assert (tmp_path / "canonical" / "mectk.db").exists()
    assert (tmp_path / "sample-tracker" / "mectk.db").exists()


@pytest.mark.parametrize(
    ("name", "write", "message"),
    [
        ("../up", lambda folder: [], "registered the sample name '../up'"),
        ("outside", lambda folder: [SampleFile(path=Path(__file__))], "not a file in the sample"),
        ("not-files", lambda folder: ["x.csv"], "returned str for a sample file"),
        ("empty", lambda folder: [], "wrote no sample files for sample 'empty'"),
    ],
)
def test_a_sample_that_breaks_the_contract_is_refused(pm, tmp_path, name, write, message):
    pm.register(SamplePlugin(name, write), name="bad")
    console = quiet()
    with pytest.raises(PluginError):
        run_demo(tmp_path / "out", build_registry(pm), console)
    assert message in console.file.getvalue()
    assert not (tmp_path / "up").exists()


def test_a_rerun_rebuilds_each_folder_but_never_one_the_demo_did_not_write(tmp_path: Path):
    registry = build_registry(make_plugin_manager(load_entrypoints=False, environ={}))
    for _ in range(2):
        runs = run_demo(tmp_path, registry, quiet())
        assert [r.error for r in runs] == [None, None]
    assert batches(tmp_path / "canonical" / "mectk.db") == [("canonical", None)]
    assert (tmp_path / "canonical" / MARKER).is_file()

    (tmp_path / "canonical" / MARKER).unlink()
    console = quiet()
    with pytest.raises(PluginError, match="'canonical'"):
        run_demo(tmp_path, registry, console)
    assert "was not written by mectk demo" in console.file.getvalue()
    assert (tmp_path / "canonical" / "sample-canonical.xlsx").exists(), "left alone"
