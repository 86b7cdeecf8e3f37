"""The register commands, run as subprocesses exactly as a data officer runs them.

The commands live in ``mectk/cli_register.py``. Until ``mectk/cli.py`` adds them itself,
each run goes through a tiny script (written into tmp_path) that adds them to the real
``mectk`` click group when they are missing and runs it; once wired, the same script runs
the group as it is, so these tests pass either way.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mectk.register.schema import SCHEMA_VERSION
from mectk.template import write_workbook
from tests.test_register import enterprise, quarter_rows, table_counts, write_quarters

RUNNER = """\
from mectk.cli import cli
from mectk.cli_register import add_register_commands

if "import" not in cli.commands:
    add_register_commands(cli)
cli(prog_name="mectk")
"""


@pytest.fixture
def mectk(tmp_path: Path):
    runner = tmp_path / "run_mectk.py"
    runner.write_text(RUNNER, encoding="utf-8")

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300):
        return subprocess.run(
            [sys.executable, str(runner), *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, **(env or {})},
            timeout=timeout,
            check=False,
        )

    run.runner = runner  # type: ignore[attr-defined]
    return run


@pytest.fixture(scope="module")
def quarters(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_quarters(tmp_path_factory.mktemp("cli-quarters"))


def test_import_batches_show_and_diff(mectk, tmp_path: Path, quarters: list[Path]):
    for n, path in enumerate(quarters, start=1):
        done = mectk("import", str(path), "--json")
        assert done.returncode == 0, done.stderr
        document = json.loads(done.stdout)  # stdout holds one JSON document and nothing else
        assert document["valid"] is True
        assert document["batch"]["id"] == n
        assert f"imported batch {n}" in done.stderr
    assert (tmp_path / "mectk.db").is_file()  # the default register is ./mectk.db

    done = mectk("batches", "--json")
    assert done.returncode == 0, done.stderr
    batches = json.loads(done.stdout)["batches"]
    assert [b["counts"]["register"] for b in batches] == [
        {"new": 8, "changed": 0, "unchanged": 0},
        {"new": 3, "changed": 2, "unchanged": 3},
        {"new": 3, "changed": 1, "unchanged": 4},
    ]
    people = mectk("batches")
    assert people.returncode == 0 and people.stdout == ""
    assert "landed" in people.stderr

    done = mectk("show", "E-0003", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["current"]["status"] == "closed"
    assert shown["current"]["trading_name"] == "***"
    assert [v["batch_id"] for v in shown["versions"]] == [1, 3]
    assert shown["versions"][1]["source"]["file"] == "q3.xlsx"
    assert shown["versions"][1]["source"]["cells"]["status"] == "I4"
    assert {c["field"] for c in shown["versions"][1]["changed"]} == {
        "status",
        "status_date",
        "closure_date",
        "closure_reason",
    }
    personal = mectk("show", "E-0003", "--include-personal", "--json")
    assert json.loads(personal.stdout)["current"]["trading_name"] == "Enterprise 3"
    people = mectk("show", "E-0003")
    assert people.returncode == 0 and people.stdout == ""
    assert "Enterprise 3" not in people.stderr
    assert "closed" in people.stderr

    done = mectk("diff", "--since", "1", "--json")
    assert done.returncode == 0, done.stderr
    diff = json.loads(done.stdout)
    assert diff["added"] == ["E-0004"]
    assert diff["closed"] == ["E-0003"]
    assert [c["enterprise_id"] for c in diff["changed"]] == ["E-0001", "E-0002", "E-0003"]
    assert diff["changed"][0]["changes"] == [{"field": "lead_email", "old": "***", "new": "***"}]
    people = mectk("diff", "--since", "1")
    assert people.returncode == 0 and people.stdout == ""
    assert "owner1@example.org" not in people.stderr

    assert mectk("show", "E-9999").returncode == 2
    assert mectk("diff", "--since", "9").returncode == 2


def test_reimport_refused_with_exit_2_then_allowed_with_force(mectk, quarters: list[Path]):
    assert mectk("import", str(quarters[0])).returncode == 0
    refused = mectk("import", str(quarters[0]), "--json")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "already imported in batch 1" in refused.stderr
    forced = mectk("import", str(quarters[0]), "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["batch"]["counts"]["register"]["unchanged"] == 8


def test_data_errors_exit_1_and_the_accepted_records_are_imported(
    mectk, tmp_path: Path, quarters: list[Path]
):
    rows = quarter_rows(1)
    rows["enterprise"][1]["base_postcode"] = "QA1 1AA"  # not a UK postcode: rejected
    rows["outcome"] = [o for o in rows["outcome"] if o["enterprise_id"] != "E-0002"]
    bad = tmp_path / "bad.xlsx"
    write_workbook(bad, rows)
    done = mectk("import", str(bad), "--db", "sqlite:///bad.db")
    assert done.returncode == 1, done.stderr
    assert "the data has errors" in done.stderr
    assert "accepted records were imported" in done.stderr
    counts = table_counts(tmp_path / "bad.db")
    assert counts["batches"] == 1
    with sqlite3.connect(tmp_path / "bad.db") as connection:
        ids = {r for (r,) in connection.execute("SELECT record_id FROM records")}
    assert "E-0001" in ids and "E-0002" not in ids


def test_a_newer_register_is_refused_with_exit_2(mectk, tmp_path: Path, quarters: list[Path]):
    assert mectk("import", str(quarters[0]), "--db", "r.db").returncode == 0
    with sqlite3.connect(tmp_path / "r.db") as connection:
        connection.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    for args in (
        ("import", str(quarters[1])),
        ("batches",),
        ("show", "E-0001"),
        ("diff", "--since", "1"),
    ):
        done = mectk(*args, "--db", "r.db")
        assert done.returncode == 2, (args, done.stderr)
        assert "version 5" in done.stderr and f"up to {SCHEMA_VERSION}" in done.stderr


def test_a_missing_db_folder_is_exit_2(mectk, quarters: list[Path]):
    done = mectk("batches", "--db", "no/such/folder/r.db")
    assert done.returncode == 2
    assert "does not exist" in done.stderr


def _large_workbook(path: Path, enterprises: int) -> None:
    rows = quarter_rows(1)
    people = [enterprise(i) for i in range(10, 10 + enterprises)]
    rows["enterprise"] = rows["enterprise"] + people
    write_workbook(path, rows)


def test_sigkill_mid_import_leaves_the_register_as_it_was(mectk, tmp_path: Path, quarters):
    assert mectk("import", str(quarters[0])).returncode == 0
    db = tmp_path / "mectk.db"
    before = table_counts(db)
    big = tmp_path / "big.xlsx"
    _large_workbook(big, 3000)
    stderr = tmp_path / "import.stderr"
    with stderr.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, str(mectk.runner), "import", str(big)],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            env={**os.environ, "MECTK_TEST_PAUSE_AFTER_ROWS": "1000"},
        )
        try:
            deadline = time.monotonic() + 240
            while "mectk-test: paused" not in stderr.read_text():
                assert process.poll() is None, stderr.read_text()
                assert time.monotonic() < deadline, "the import never reached its pause"
                time.sleep(0.1)
            # the batch transaction holds 1000 written rows: SQLite's journal is in use
            assert (tmp_path / "mectk.db-journal").exists()
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == -signal.SIGKILL
    assert table_counts(db) == before  # same tables, same row counts, no partial batch
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    done = mectk("import", str(big), "--json")
    assert done.returncode == 0, done.stderr
    batch = json.loads(done.stdout)["batch"]
    assert batch["id"] == 2
    assert batch["counts"]["register"]["new"] == 3000 + 0  # the 3000 new enterprises
    after = table_counts(db)
    assert after["batches"] == before["batches"] + 1
    assert after["records"] == before["records"] + 3000


def test_the_cli_module_does_not_import_sqlalchemy_until_used():
    from mectk.register import DEFAULT_DB

    code = (
        "import sys, mectk.cli, mectk.cli_support as c; "
        "print('sqlalchemy' in sys.modules, c.DEFAULT_DB)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", DEFAULT_DB]


def test_python_m_mectk_has_the_register_commands_once_wired(tmp_path: Path, quarters):
    from mectk.cli import cli

    if "import" not in cli.commands:
        pytest.skip("mectk/cli.py does not call add_register_commands(cli) yet")
    done = subprocess.run(
        [sys.executable, "-m", "mectk", "import", str(quarters[0]), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["batch"]["id"] == 1


def test_reading_commands_do_not_create_a_register(mectk, tmp_path: Path):
    for args in (("batches",), ("show", "E-0001"), ("diff", "--since", "1")):
        done = mectk(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "there is no register at mectk.db" in done.stderr
    assert not (tmp_path / "mectk.db").exists()
