"""Faults (corpus cases 39 and 40): killed writes, full disks, read-only folders, Ctrl+C and
plugins that raise. Whatever happens, an earlier output is byte-identical, no partial or
temporary file is left behind (except the hidden ``.part`` file of a SIGKILLed process,
which the next run ignores), the message is clear and the next run works.

SIGKILL during a register import is tested in tests/test_register_cli.py
(``test_sigkill_mid_import_leaves_the_register_as_it_was``); SIGKILL during a package
export and during a package receive are tested here.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import openpyxl
import pluggy
import pytest
from click.testing import CliRunner

from mectk import hookimpl
from mectk.cli import cli
from mectk.errors import MectkError, PluginError
from mectk.plugin_manager import DISABLE_ENV, build_registry, make_plugin_manager
from mectk.sniff import sniff
from tests.test_metrics import build_register
from tests.test_plugins import install_fake_plugin, run_mectk

OLD = b"the previous report, which must survive"


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_register(tmp_path_factory.mktemp("faults"))


def report_args(db: Path, out: Path) -> list[str]:
    return ["report", "summary", "--period", "2025-26-Q1", "--db", str(db), "-o", str(out)]


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def patched_save_script(action: str) -> str:
    """Run the CLI with openpyxl's save writing half a file and then doing ``action``."""
    return textwrap.dedent(
        f"""
        import errno, os, signal, sys
        import openpyxl.workbook.workbook as module

        real_save = module.Workbook.save

        def save(self, filename):
            real_save(self, filename)
            size = os.path.getsize(filename)
            with open(filename, "r+b") as handle:
                handle.truncate(size // 2)  # half of the rows are on disk
            {action}

        module.Workbook.save = save
        from mectk.cli import main
        sys.argv = ["mectk", *sys.argv[1:]]
        main()
        """
    )


def test_sigkill_while_writing_a_report_leaves_the_old_one(register: Path, tmp_path: Path):
    out = tmp_path / "summary.xlsx"
    out.write_bytes(OLD)
    script = patched_save_script("os.kill(os.getpid(), signal.SIGKILL)")
    done = subprocess.run(
        [sys.executable, "-c", script, *report_args(register, out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert out.read_bytes() == OLD  # never a half-written report under the real name
    stale = leftovers(tmp_path, {"summary.xlsx"})
    assert all(name.startswith(".summary.xlsx.") and name.endswith(".part") for name in stale)
    again = CliRunner().invoke(cli, report_args(register, out), catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert openpyxl.load_workbook(out).sheetnames[0] == "Summary"
    assert leftovers(tmp_path, {"summary.xlsx"}) == stale  # only the killed run's leftover


def killing_script(patch: str) -> str:
    """Run the CLI in a process that ``patch`` kills with SIGKILL part-way."""
    return textwrap.dedent(patch) + textwrap.dedent(
        """
        from mectk.cli import main
        sys.argv = ["mectk", *sys.argv[1:]]
        main()
        """
    )


KILL_MID_ZIP = """
    import os, signal, sys, zipfile

    real_writestr = zipfile.ZipFile.writestr
    written = []

    def writestr(self, *args, **kwargs):
        real_writestr(self, *args, **kwargs)
        written.append(1)
        if len(written) == 3:  # three members of the package are on disk
            os.kill(os.getpid(), signal.SIGKILL)

    zipfile.ZipFile.writestr = writestr
"""

KILL_MID_RECEIVE = """
    import os, signal, sys
    import sqlalchemy.engine.base as base

    real_execute = base.Connection.execute

    def execute(self, statement, *args, **kwargs):
        result = real_execute(self, statement, *args, **kwargs)
        table = getattr(statement, "table", None)
        if getattr(statement, "is_insert", False) and getattr(table, "name", "") == "records":
            os.kill(os.getpid(), signal.SIGKILL)  # records written, batch not committed
        return result

    base.Connection.execute = execute
"""


def _sqlite_counts(db: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {t: connection.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_sigkill_while_exporting_a_package_leaves_the_old_one(tmp_path: Path):
    from tests.exchange_support import build_register

    db = build_register(tmp_path)
    out = tmp_path / "package.zip"
    out.write_bytes(OLD)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            killing_script(KILL_MID_ZIP),
            "export",
            "--db",
            str(db),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert out.read_bytes() == OLD  # never a half-written package under the real name
    stale = [p for p in tmp_path.iterdir() if p.name.startswith(".package.zip.")]
    assert all(p.name.endswith(".part") for p in stale)
    again = run_mectk("export", "--db", str(db), "-o", str(out), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    verified = run_mectk("verify", str(out), cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr


def test_sigkill_while_receiving_a_package_leaves_the_register_as_it_was(tmp_path: Path):
    from tests.exchange_support import build_register

    (tmp_path / "ours").mkdir()
    source = build_register(tmp_path / "ours")
    package = tmp_path / "package.zip"
    assert (
        run_mectk("export", "--db", str(source), "-o", str(package), cwd=tmp_path).returncode == 0
    )
    target = tmp_path / "partner.db"  # a new register: every record is new
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            killing_script(KILL_MID_RECEIVE),
            "receive",
            str(package),
            "--db",
            str(target),
            "--prefer",
            "theirs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    killed = _sqlite_counts(target)  # the schema may be there; no batch, no record
    assert (killed["batches"], killed["records"]) == (0, 0)
    again = run_mectk(
        "receive", str(package), "--db", str(target), "--prefer", "theirs", "--json", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    after = _sqlite_counts(target)
    assert after["batches"] == 1
    assert after["records"] == _sqlite_counts(source)["records"]


@pytest.mark.parametrize(
    ("action", "exit_code", "said"),
    [
        ("raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))", 4, "[output-not-written]"),
        ("raise KeyboardInterrupt", 130, "interrupted"),
    ],
    ids=["disk-full", "ctrl-c"],
)
def test_a_write_failing_half_way_leaves_nothing(register, tmp_path, action, exit_code, said):
    out = tmp_path / "summary.xlsx"
    out.write_bytes(OLD)
    done = subprocess.run(
        [sys.executable, "-c", patched_save_script(action), *report_args(register, out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == exit_code, done.stderr
    assert said in done.stderr
    assert "nothing was written" in done.stderr or "no output file was written" in done.stderr
    assert "Traceback" not in done.stderr
    assert out.read_bytes() == OLD
    assert leftovers(tmp_path, {"summary.xlsx"}) == []


def _small_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_file_size_limit_mid_write_is_a_clear_error(register: Path, tmp_path: Path):
    """A real kernel-enforced full disk: RLIMIT_FSIZE makes the write fail with EFBIG."""
    out = tmp_path / "summary.xlsx"
    out.write_bytes(OLD)
    done = subprocess.run(
        [sys.executable, "-m", "mectk", *report_args(register, out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=_small_file_limit,
    )
    assert done.returncode == 4, done.stderr
    assert "[output-not-written]" in done.stderr
    assert "Traceback" not in done.stderr
    assert out.read_bytes() == OLD
    assert leftovers(tmp_path, {"summary.xlsx"}) == []


def test_a_read_only_output_folder_is_a_usage_error(register: Path, tmp_path: Path, monkeypatch):
    import mectk.atomic

    real_open = os.open

    def refuse(path: Any, flags: int, *args: Any) -> int:
        if str(path).endswith(".part"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(mectk.atomic.os, "open", refuse)
    out = tmp_path / "summary.xlsx"
    done = CliRunner().invoke(cli, report_args(register, out))
    assert done.exit_code == 2, done.output
    assert "cannot write in" in done.output
    assert "Permission denied" in done.output
    assert not out.exists()


# ---- plugins raising in any hook


def hook_names() -> list[str]:
    return sorted(
        name
        for name in dir(make_plugin_manager(load_entrypoints=False, environ={}).hook)
        if name.startswith("mectk_")
    )


def raising_plugin(hook: str) -> object:
    spec = getattr(make_plugin_manager(load_entrypoints=False, environ={}).hook, hook).spec
    argnames = ", ".join(spec.argnames)
    namespace: dict[str, Any] = {"hookimpl": hookimpl}
    exec(  # a method with exactly the hook's argument names, as pluggy requires
        f"class Boom:\n    @hookimpl\n    def {hook}(self, {argnames}):\n"
        f"        raise RuntimeError('boom in {hook}')\n",
        namespace,
    )
    return namespace["Boom"]()


@pytest.mark.parametrize("hook", hook_names())
def test_a_plugin_raising_in_any_hook_is_named_and_others_are_unaffected(hook, tmp_path):
    from mectk.template import write_workbook

    workbook = tmp_path / "t.xlsx"
    write_workbook(workbook)
    pm = make_plugin_manager(load_entrypoints=False, environ={})
    clean = build_registry(pm)
    pm.register(raising_plugin(hook), name="boom")
    with pytest.raises(PluginError) as raised:
        build_registry(pm).identify(sniff(workbook))
    error = raised.value
    assert (error.exit_code, "'boom'", hook) == (4, "'boom'", hook)
    assert "'boom'" in error.message and hook in error.message
    assert isinstance(error.__cause__, RuntimeError)  # --debug shows its traceback
    assert f"{DISABLE_ENV}=boom" in (error.hint or "")
    pm.unregister(name="boom")
    after = build_registry(pm)  # the other plugins register exactly as before
    assert sorted(after.readers) == sorted(clean.readers)
    assert sorted(after.checks) == sorted(clean.checks)
    assert after.identify(sniff(workbook)) == clean.identify(sniff(workbook))


def test_every_hook_is_covered_by_the_raising_test():
    specs = pluggy.PluginManager("mectk")
    import mectk.hookspecs

    specs.add_hookspecs(mectk.hookspecs)
    assert hook_names() == sorted(n for n in dir(specs.hook) if n.startswith("mectk_"))


BAD_REPORT = """
    from mectk import ReportFormatSpec, hookimpl
    from mectk.atomic import atomic_output

    def write(context, path):
        with atomic_output(path) as temporary:
            temporary.write_bytes(b"half a report")
            raise KeyError("ward")

    @hookimpl
    def mectk_register_report_formats():
        return [ReportFormatSpec(name="boomreport", title="t", extensions=("csv",), write=write)]
"""


def test_a_report_plugin_raising_mid_write_exits_4_and_writes_nothing(register, tmp_path):
    env = install_fake_plugin(tmp_path / "site", BAD_REPORT)
    out = tmp_path / "out" / "report.csv"
    out.parent.mkdir()
    out.write_bytes(OLD)
    args = ["report", "boomreport", "--period", "2025-26-Q1", "--db", str(register), "-o", str(out)]
    done = run_mectk(*args, cwd=tmp_path, **env)
    assert done.returncode == 4, done.stderr
    assert "plugin 'boom'" in done.stderr and "boomreport" in done.stderr
    assert "KeyError('ward')" in done.stderr
    assert "Traceback" not in done.stderr
    assert out.read_bytes() == OLD
    assert leftovers(out.parent, {"report.csv"}) == []
    debug = run_mectk("--debug", *args, cwd=tmp_path, **env)
    assert "Traceback" in debug.stderr and "boom_plugin.py" in debug.stderr
    assert out.read_bytes() == OLD


def test_a_missing_defusedxml_refuses_workbooks_but_reads_csv(tmp_path: Path):
    from mectk.template import write_workbook

    workbook = tmp_path / "t.xlsx"
    write_workbook(workbook)
    (tmp_path / "m.toml").write_text(
        'format = "tiny"\n[constants]\nprogramme_id = "P"\n[[sheets]]\nrecord = "locality"\n'
        '[sheets.columns]\nlocality_id = "id"\nname = "name"\nlocality_type = "type"\n',
        encoding="utf-8",
    )
    (tmp_path / "l.csv").write_text("id,name,type\nL1,North,custom\n", encoding="utf-8")
    script = (
        "import sys\n"
        "sys.modules['defusedxml'] = None  # as if it were not installed\n"
        "from mectk.cli import main\n"
        "sys.argv = ['mectk', *sys.argv[1:]]\n"
        "main()\n"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )

    refused = run("validate", str(workbook))
    assert refused.returncode == 4, refused.stderr
    assert "[defusedxml-missing]" in refused.stderr
    assert "Traceback" not in refused.stderr
    csv_done = run("validate", "l.csv", "--mapping", "m.toml")
    assert csv_done.returncode == 0, csv_done.stderr


def test_openpyxl_told_not_to_use_defusedxml_is_refused_too(tmp_path: Path):
    from mectk.template import write_workbook

    workbook = tmp_path / "t.xlsx"
    write_workbook(workbook)
    done = run_mectk("validate", str(workbook), cwd=tmp_path, OPENPYXL_DEFUSEDXML="False")
    assert done.returncode == 4, done.stderr
    assert "[defusedxml-missing]" in done.stderr


def test_the_guard_is_checked_in_process(monkeypatch):
    import openpyxl.xml

    from mectk.limits import require_defusedxml

    require_defusedxml()
    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    with pytest.raises(MectkError) as raised:
        require_defusedxml()
    assert (raised.value.code, raised.value.exit_code) == ("defusedxml-missing", 4)
