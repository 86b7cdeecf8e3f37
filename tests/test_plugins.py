"""Plugins: each hook, the registry, blocking, tracing and failing plugins.

In-process tests use an isolated manager (``make_plugin_manager(load_entrypoints=False)``)
and register throwaway class-based plugins, unregistering them afterwards. Command-line
tests run ``python -m mectk`` as a subprocess; a failing plugin reaches the subprocess as
a real entry point, through a tiny ``.dist-info`` directory on ``PYTHONPATH``.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from mectk import CheckSpec, Issue, ReaderSpec, hookimpl
from mectk.errors import DuplicateNameError, PluginError
from mectk.pipeline import validate_files
from mectk.plugin_manager import DISABLE_ENV, TRACE_ENV, build_registry, make_plugin_manager
from mectk.sniff import sniff
from mectk.template import write_workbook

EXAMPLE_HEADINGS = (
    "Ref,Programme,Name,Legal form,Independent,Status,Status date,Origin,First contact,"
    "CQC,Area,Postcode,Services"
)


# ---- helpers -----------------------------------------------------------------------------


def read_nothing(source: Any, options: Any) -> Iterator[Any]:
    return iter(())


class ReaderPlugin:
    """Registers readers called ``names`` for CSV files."""

    def __init__(self, *names: str) -> None:
        self.names = names

    @hookimpl
    def mectk_register_readers(self) -> list[ReaderSpec]:
        return [
            ReaderSpec(name=n, title=f"test reader {n}", read=read_nothing, source_types=("csv",))
            for n in self.names
        ]


class IdentifyPlugin:
    """Answers ``mectk_identify_reader`` with ``answer`` and remembers each call."""

    def __init__(self, answer: str | None) -> None:
        self.answer = answer
        self.calls: list[Any] = []

    @hookimpl
    def mectk_identify_reader(self, source: Any) -> str | None:
        self.calls.append(source)
        return self.answer


class CheckPlugin:
    """Registers one check that records what it saw and flags the first enterprise."""

    def __init__(self, severity: str = "warning") -> None:
        self.severity = severity
        self.seen: list[list[str]] = []

    def run(self, context: Any) -> Iterator[Issue]:
        records = list(context.records("enterprise"))
        self.seen.append([r.model.enterprise_id for r in records])
        if records:
            row = records[0].row
            yield Issue(
                code="test-flag",
                severity=self.severity,
                message="flagged by the test check",
                hint="none",
                file=row.file or None,
                sheet=row.sheet,
                row=row.row,
                record_id=records[0].model.enterprise_id,
            )

    @hookimpl
    def mectk_register_checks(self) -> list[CheckSpec]:
        return [
            CheckSpec(name="test-check", title="test check", codes=("test-flag",), run=self.run)
        ]


class RaiseInReaders:
    @hookimpl
    def mectk_register_readers(self) -> list[ReaderSpec]:
        raise RuntimeError("kaboom")


class RaiseInChecks:
    @hookimpl
    def mectk_register_checks(self) -> list[CheckSpec]:
        raise RuntimeError("kaboom")


class RaiseInIdentify:
    @hookimpl
    def mectk_identify_reader(self, source: Any) -> str | None:
        raise RuntimeError("kaboom")


@contextmanager
def registered(pm: Any, plugin: object, name: str) -> Iterator[object]:
    """Register ``plugin`` as ``name`` for the duration of the block."""
    pm.register(plugin, name=name)
    try:
        yield plugin
    finally:
        pm.unregister(plugin)


@pytest.fixture
def pm() -> Any:
    return make_plugin_manager(load_entrypoints=False, environ={})


@pytest.fixture
def canonical_workbook(tmp_path: Path) -> Path:
    path = tmp_path / "t.xlsx"
    write_workbook(path)
    return path


def enterprise(n: int) -> dict[str, Any]:
    return {
        "enterprise_id": f"T-{n}",
        "programme_id": "CS-CME",
        "trading_name": f"Test Enterprise {n}",
        "legal_form": "sole_trader",
        "independent": True,
        "status": "developing",
        "status_date": datetime.date(2025, 4, 1),
        "origin": "new",
        "first_contact_date": datetime.date(2025, 1, 6),
        "cqc_status": "not_required_no_regulated_activity",
        "locality_id": "L-NORTH",
        "base_postcode": "WR5 2NP",
        "services": ["shopping_errands"],
    }


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (DISABLE_ENV, TRACE_ENV)}
    env.pop("FORCE_COLOR", None)
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def run_mectk(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mectk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=subprocess_env(**env),
        timeout=120,
        check=False,
    )


def install_fake_plugin(where: Path, source: str) -> dict[str, str]:
    """Write module ``boom_plugin`` and a dist-info whose entry point names it, under ``where``.

    Returns the environment that puts ``where`` on ``PYTHONPATH``, so importlib.metadata
    finds the entry point exactly as it finds an installed plugin's.
    """
    where.mkdir(parents=True, exist_ok=True)
    (where / "boom_plugin.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = where / "boom_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: boom-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text("[mectk]\nboom = boom_plugin\n", encoding="utf-8")
    path = os.pathsep.join(p for p in (str(where), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path}


RAISE_IN_READERS = """
    from mectk import hookimpl

    @hookimpl
    def mectk_register_readers():
        raise RuntimeError("kaboom in the readers hook")
"""

RAISE_AT_IMPORT = """
    raise ImportError("kaboom: a dependency of boom_plugin is missing")
"""


# ---- one test per hook (tests/test_docs.py checks that each hook has one) ---------------


def test_hook_mectk_register_readers(pm):
    plugin = ReaderPlugin("test-csv", "test-other")
    with registered(pm, plugin, "tester"):
        registry = build_registry(pm)
        assert registry.readers["test-csv"].plugin == "tester"
        assert registry.readers["test-other"].plugin == "tester"
        assert registry.reader("test-csv").title == "test reader test-csv"
        assert registry.readers["canonical"].plugin == "canonical-workbook"
        info = {p.name: p for p in registry.plugins()}["tester"]
        assert info.readers == ("test-csv", "test-other")
        assert info.hooks == ("mectk_register_readers",)
    assert "test-csv" not in build_registry(pm).readers


def test_hook_mectk_register_checks(pm, tmp_path):
    plugin = CheckPlugin()
    path = tmp_path / "filled.xlsx"
    write_workbook(path, {"enterprise": [enterprise(1), enterprise(2), enterprise(3)]})
    with registered(pm, plugin, "checker"):
        registry = build_registry(pm)
        assert registry.checks["test-check"].plugin == "checker"
        assert registry.checks["unique-ids"].plugin == "core-checks"
        result = validate_files(registry, [path])
    assert plugin.seen == [["T-1", "T-2", "T-3"]], "the check runs once, over accepted records"
    flagged = [i for i in result.issues if i.code == "test-flag"]
    assert [(i.record_id, i.severity) for i in flagged] == [("T-1", "warning")]
    assert (result.accepted, result.rejected) == (3, 0), "a warning keeps the record"
    assert "test-check" not in build_registry(pm).checks


class MappingPlugin:
    def __init__(self, path: Path) -> None:
        self.path = path

    @hookimpl
    def mectk_register_mappings(self):
        from mectk import MappingSpec

        return [MappingSpec(self.path)]


def test_hook_mectk_register_mappings(pm, tmp_path):
    mapping = tmp_path / "tiny.toml"
    mapping.write_text(
        "format = 'tiny-csv'\nsource_types = ['csv']\n"
        "[identify]\nheadings = ['Ref', 'Name']\n"
        "[[sheets]]\nrecord = 'locality'\n[sheets.constants]\nlocality_type = 'custom'\n"
        "[sheets.columns]\nlocality_id = 'Ref'\nname = 'Name'\n",
        encoding="utf-8",
    )
    data = tmp_path / "areas.csv"
    data.write_text("Ref,Name\nL-1,North\nL 2,South\n", encoding="utf-8")
    with registered(pm, MappingPlugin(mapping), "tiny"):
        registry = build_registry(pm)
        assert registry.readers["tiny-csv"].plugin == "tiny"
        result = validate_files(registry, [data])  # identified by its headings
    assert result.files[0].format == "tiny-csv"
    assert (result.rows_read, result.accepted, result.rejected) == (2, 1, 1)
    assert [i.cell for i in result.issues if i.severity == "error"] == ["A3"]


class ReportPlugin:
    def __init__(self, *names: str) -> None:
        self.names = names
        self.written: list[tuple[Any, Path]] = []

    @hookimpl
    def mectk_register_report_formats(self):
        from mectk import ReportFormatSpec

        def write(context: Any, path: Path) -> None:
            self.written.append((context, path))
            path.write_text(context.period.label, encoding="utf-8")

        return [
            ReportFormatSpec(name=n, title=f"report {n}", extensions=("txt",), write=write)
            for n in self.names
        ]


def test_hook_mectk_register_report_formats(pm, tmp_path):
    from mectk import ReportContext
    from mectk.metrics import CurrentRecords, compute_measures
    from mectk.periods import parse_period

    plugin = ReportPlugin("test-report")
    with registered(pm, plugin, "reporter"):
        registry = build_registry(pm)
        found = registry.report_formats["test-report"]
        assert found.plugin == "reporter"
        assert found.spec.extensions == ("txt",)
        assert registry.report_formats["summary"].plugin == "summary-report"
        period = parse_period("2025-26-Q1")
        records = CurrentRecords({})
        context = ReportContext(
            period=period,
            metrics=compute_measures(records, period),
            by_locality=compute_measures(records, period, by="locality"),
        )
        found.spec.write(context, tmp_path / "out.txt")
        with registered(pm, ReportPlugin("test-report"), "twin"):
            with pytest.raises(DuplicateNameError) as raised:
                build_registry(pm)
            assert "'test-report' is registered by two plugins" in raised.value.message
            assert "'reporter'" in raised.value.message
            assert "'twin'" in raised.value.message
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "2025-26-Q1"
    assert plugin.written[0][0].metrics.value("M02") == 0
    assert "test-report" not in build_registry(pm).report_formats


def test_a_plugin_shipping_a_broken_mapping_is_named(pm, tmp_path):
    mapping = tmp_path / "broken.toml"
    mapping.write_text("format = 'x'\n", encoding="utf-8")
    with registered(pm, MappingPlugin(mapping), "shaky"), pytest.raises(PluginError) as raised:
        build_registry(pm)
    assert "plugin 'shaky'" in raised.value.message


def test_a_check_error_rejects_the_record_it_names(pm, tmp_path):
    path = tmp_path / "filled.xlsx"
    write_workbook(path, {"enterprise": [enterprise(1), enterprise(2)]})
    with registered(pm, CheckPlugin(severity="error"), "checker"):
        result = validate_files(build_registry(pm), [path])
    assert (result.rows_read, result.accepted, result.rejected) == (2, 1, 1)
    assert [r.model.enterprise_id for r in result.accepted_records] == ["T-2"]
    assert not result.valid


def test_hook_mectk_identify_reader(pm, canonical_workbook):
    source = sniff(canonical_workbook)
    assert source.source_type == "xlsx"

    shrug = IdentifyPlugin(None)
    with registered(pm, shrug, "shrug"):
        registry = build_registry(pm)
        assert registry.identify(source) == ("canonical", "canonical-workbook")
    assert len(shrug.calls) == 1, "a plugin is asked before the trylast built-in"
    assert shrug.calls[0] is source

    formats = ReaderPlugin("first-format", "second-format")
    early = IdentifyPlugin("second-format")
    late = IdentifyPlugin("first-format")
    last_shrug = IdentifyPlugin(None)
    with (
        registered(pm, formats, "formats"),
        registered(pm, early, "early"),
        registered(pm, late, "late"),
        registered(pm, last_shrug, "last-shrug"),
    ):
        registry = build_registry(pm)
        # pluggy calls the most recently registered first; the first non-None answer wins
        assert registry.identify(source) == ("first-format", "late")
        assert early.calls == [], "identification stops at the first non-None answer"
        assert len(last_shrug.calls) == 1
        assert pm.hook.mectk_identify_reader(source=source) == "first-format"


def test_identify_returns_none_when_no_plugin_claims_the_file(pm, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("just,some,text\n", encoding="utf-8")
    with registered(pm, IdentifyPlugin(None), "shrug"):
        assert build_registry(pm).identify(sniff(path)) is None


def test_identify_naming_an_unregistered_format_is_a_plugin_error(pm, canonical_workbook):
    with registered(pm, IdentifyPlugin("no-such-format"), "liar"):
        registry = build_registry(pm)
        with pytest.raises(PluginError, match="liar") as caught:
            registry.identify(sniff(canonical_workbook))
    assert "no-such-format" in caught.value.message


# ---- the manager is built on demand -------------------------------------------------------

IMPORT_PROBE = """
import importlib.metadata
import json
import sys

import pluggy

calls = []
_init = pluggy.PluginManager.__init__


def counting_init(self, *args, **kwargs):
    calls.append("PluginManager")
    _init(self, *args, **kwargs)


def counting(name, original):
    def wrapper(*args, **kwargs):
        calls.append(name)
        return original(*args, **kwargs)
    return wrapper


pluggy.PluginManager.__init__ = counting_init
importlib.metadata.distributions = counting("distributions", importlib.metadata.distributions)
importlib.metadata.entry_points = counting("entry_points", importlib.metadata.entry_points)

import mectk
import mectk.cli
import mectk.pipeline

at_import = list(calls)
loaded = sorted(m for m in sys.modules if m.startswith(("mectk.plugins.", "mectk_example")))
mectk.make_plugin_manager()
print(json.dumps({"at_import": at_import, "loaded": loaded, "after_build": calls}))
"""


def test_importing_mectk_builds_no_plugin_manager(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=subprocess_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout)
    assert probe["at_import"] == [], "importing mectk created a manager or read entry points"
    assert probe["loaded"] == [], "importing mectk imported plugin modules"
    # the probe itself works: building a manager is seen
    assert "PluginManager" in probe["after_build"]
    assert "distributions" in probe["after_build"]


def test_every_call_builds_a_separate_manager():
    first = make_plugin_manager(load_entrypoints=False, environ={})
    second = make_plugin_manager(load_entrypoints=False, environ={})
    assert first is not second
    with registered(first, ReaderPlugin("only-in-first"), "tester"):
        assert "only-in-first" in build_registry(first).readers
        assert "only-in-first" not in build_registry(second).readers


def test_builtins_can_be_left_out():
    pm = make_plugin_manager(load_entrypoints=False, builtins=False, environ={})
    registry = build_registry(pm)
    assert dict(registry.readers) == {}
    assert dict(registry.checks) == {}


# ---- duplicate names ------------------------------------------------------------------------


def test_two_plugins_registering_the_same_reader_name_are_refused(pm):
    with (
        registered(pm, ReaderPlugin("same-name"), "alpha"),
        registered(pm, ReaderPlugin("same-name"), "beta"),
        pytest.raises(DuplicateNameError) as caught,
    ):
        build_registry(pm)
    message = str(caught.value)
    assert "same-name" in message
    assert "'alpha'" in message
    assert "'beta'" in message
    assert isinstance(caught.value, PluginError)
    assert caught.value.exit_code == 4


def test_a_plugin_reusing_a_builtin_reader_name_is_refused(pm):
    with (
        registered(pm, ReaderPlugin("canonical"), "impostor"),
        pytest.raises(DuplicateNameError, match="canonical-workbook") as caught,
    ):
        build_registry(pm)
    assert "impostor" in str(caught.value)


def test_two_plugins_registering_the_same_check_name_are_refused(pm):
    with (
        registered(pm, CheckPlugin(), "alpha"),
        registered(pm, CheckPlugin(), "beta"),
        pytest.raises(DuplicateNameError) as caught,
    ):
        build_registry(pm)
    assert "test-check" in str(caught.value)
    assert "'alpha'" in str(caught.value)
    assert "'beta'" in str(caught.value)


# ---- MECTK_DISABLE_PLUGINS -----------------------------------------------------------------


def test_the_example_plugin_is_found_through_its_entry_point():
    registry = build_registry(make_plugin_manager(environ={}))
    assert registry.readers["example-directory-csv"].plugin == "example"


def test_disabling_the_example_plugin_blocks_it():
    pm = make_plugin_manager(environ={DISABLE_ENV: "example"})
    assert pm.is_blocked("example")
    assert pm.get_plugin("example") is None
    registry = build_registry(pm)
    assert "example-directory-csv" not in registry.readers
    assert "example" not in {p.name for p in registry.plugins()}
    assert "canonical" in registry.readers


def test_disabling_a_builtin_removes_its_reader(canonical_workbook):
    pm = make_plugin_manager(
        load_entrypoints=False, environ={DISABLE_ENV: " canonical-workbook , "}
    )
    assert pm.is_blocked("canonical-workbook")
    registry = build_registry(pm)
    assert "canonical" not in registry.readers
    assert "unique-ids" in registry.checks, "other built-ins stay"
    assert registry.identify(sniff(canonical_workbook)) is None


def test_several_plugins_can_be_disabled_at_once():
    pm = make_plugin_manager(environ={DISABLE_ENV: "example,core-checks"})
    registry = build_registry(pm)
    assert "example-directory-csv" not in registry.readers
    assert "unique-ids" not in registry.checks
    assert "canonical" in registry.readers


# ---- MECTK_TRACE_PLUGINS --------------------------------------------------------------------


def test_tracing_goes_to_stderr_and_leaves_stdout_clean(tmp_path):
    done = run_mectk("formats", cwd=tmp_path, **{TRACE_ENV: "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "mectk trace:" in done.stderr
    assert "mectk_register_readers" in done.stderr
    assert "mectk_register_checks" in done.stderr


def test_tracing_keeps_json_on_stdout_parseable(tmp_path):
    done = run_mectk("formats", "--json", cwd=tmp_path, **{TRACE_ENV: "1"})
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert "canonical" in {r["name"] for r in document["readers"]}
    assert "mectk_register_readers" in done.stderr
    assert "mectk trace" not in done.stdout


def test_no_trace_without_the_variable(tmp_path):
    done = run_mectk("formats", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "mectk trace" not in done.stderr


def test_tracing_follows_the_environ_given_to_make_plugin_manager(capsys, monkeypatch):
    monkeypatch.delenv(TRACE_ENV, raising=False)
    pm = make_plugin_manager(load_entrypoints=False, environ={TRACE_ENV: "1"})
    build_registry(pm)
    assert "mectk_register_readers" in capsys.readouterr().err


# ---- plugins that fail ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plugin", "hook"),
    [
        (RaiseInReaders(), "mectk_register_readers"),
        (RaiseInChecks(), "mectk_register_checks"),
        (RaiseInIdentify(), "mectk_identify_reader"),
    ],
    ids=["readers", "checks", "identify"],
)
def test_a_plugin_raising_in_a_hook_is_a_plugin_error_naming_it(
    pm, canonical_workbook, plugin, hook
):
    with registered(pm, plugin, "boom"), pytest.raises(PluginError) as caught:
        build_registry(pm).identify(sniff(canonical_workbook))
    error = caught.value
    assert "'boom'" in error.message
    assert hook in error.message
    assert isinstance(error.__cause__, RuntimeError), "chained to the original for --debug"
    assert error.exit_code == 4
    assert "MECTK_DISABLE_PLUGINS=boom" in (error.hint or "")


def test_a_plugin_returning_something_other_than_a_list_is_refused(pm):
    class ReturnsOne:
        @hookimpl
        def mectk_register_readers(self) -> Any:
            return ReaderSpec(name="x", title="x", read=read_nothing)

    with registered(pm, ReturnsOne(), "sloppy"), pytest.raises(PluginError, match="sloppy"):
        build_registry(pm)


def test_a_reader_that_raises_is_a_plugin_error_naming_reader_and_plugin(pm, tmp_path):
    def explode(source: Any, options: Any) -> Iterator[Any]:
        raise ValueError("reader kaboom")
        yield

    class Exploding:
        @hookimpl
        def mectk_register_readers(self) -> list[ReaderSpec]:
            return [ReaderSpec(name="exploding", title="x", read=explode, source_types=("csv",))]

    path = tmp_path / "in.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with registered(pm, Exploding(), "dynamite"), pytest.raises(PluginError) as caught:
        validate_files(build_registry(pm), [path], format_name="exploding")
    assert "'exploding'" in caught.value.message
    assert "'dynamite'" in caught.value.message
    assert isinstance(caught.value.__cause__, ValueError)


def test_cli_plugin_raising_in_a_hook_exits_4_naming_it(tmp_path):
    env = install_fake_plugin(tmp_path / "site", RAISE_IN_READERS)
    done = run_mectk("formats", cwd=tmp_path, **env)
    assert done.returncode == 4, done.stderr
    assert "'boom'" in done.stderr
    assert "mectk_register_readers" in done.stderr
    assert "kaboom in the readers hook" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_cli_debug_shows_the_plugin_traceback(tmp_path):
    env = install_fake_plugin(tmp_path / "site", RAISE_IN_READERS)
    done = run_mectk("--debug", "formats", cwd=tmp_path, **env)
    assert done.returncode != 0
    assert "Traceback" in done.stderr
    assert "kaboom in the readers hook" in done.stderr
    assert "boom_plugin.py" in done.stderr, "the traceback reaches into the plugin"


def test_cli_plugin_failing_at_import_exits_4_naming_it(tmp_path):
    env = install_fake_plugin(tmp_path / "site", RAISE_AT_IMPORT)
    done = run_mectk("formats", cwd=tmp_path, **env)
    assert done.returncode == 4, done.stderr
    assert "'boom'" in done.stderr
    assert "boom-plugin" in done.stderr, "the distribution is named too"
    assert "a dependency of boom_plugin is missing" in done.stderr
    assert f"{DISABLE_ENV}=boom" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_disabling_a_plugin_that_fails_at_import_skips_it(tmp_path):
    env = install_fake_plugin(tmp_path / "site", RAISE_AT_IMPORT)
    done = run_mectk("plugins", "--json", cwd=tmp_path, **env, **{DISABLE_ENV: "boom"})
    assert done.returncode == 0, done.stderr
    names = {p["name"] for p in json.loads(done.stdout)["plugins"]}
    assert "boom" not in names
    assert "canonical-workbook" in names


def test_cli_plugin_error_text_with_square_brackets_still_exits_4(tmp_path):
    source = """
        from mectk import hookimpl

        @hookimpl
        def mectk_register_readers():
            raise RuntimeError("bad cell [/x] in the settings")
    """
    env = install_fake_plugin(tmp_path / "site", source)
    done = run_mectk("formats", cwd=tmp_path, **env)
    assert done.returncode == 4, done.stderr
    assert "bad cell [/x] in the settings" in done.stderr
    assert "Traceback" not in done.stderr


# ---- mectk plugins --json --------------------------------------------------------------------


def test_cli_plugins_json_lists_builtins_and_the_example(tmp_path):
    done = run_mectk("plugins", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plugins = {p["name"]: p for p in json.loads(done.stdout)["plugins"]}

    canonical = plugins["canonical-workbook"]
    assert canonical["distribution"] == "mectk"
    assert canonical["readers"] == ["canonical"]
    assert "mectk_identify_reader" in canonical["hooks"]
    core = plugins["core-checks"]
    assert core["distribution"] == "mectk"
    assert core["checks"] == ["unique-ids"]
    assert core["hooks"] == ["mectk_register_checks"]

    example = plugins["example"]
    assert example["distribution"] == "mectk-example"
    assert example["version"] == metadata.version("mectk-example")
    assert example["readers"] == ["example-directory-csv"]
    assert example["checks"] == []
    assert set(example["hooks"]) == {"mectk_identify_reader", "mectk_register_readers"}
    for plugin in plugins.values():
        assert set(plugin) == {
            "name",
            "distribution",
            "version",
            "hooks",
            "readers",
            "checks",
            "mappings",
            "report_formats",
            "samples",
        }
    assert canonical["samples"] == ["canonical"]
    assert plugins["summary-report"]["report_formats"] == ["summary"]
    tracker = plugins["sample-tracker"]
    assert tracker["mappings"] == tracker["readers"] == ["sample-county-tracker"]
    assert tracker["samples"] == ["sample-tracker"]
    assert tracker["hooks"] == ["mectk_register_mappings", "mectk_register_samples"]
    assert example["mappings"] == example["report_formats"] == example["samples"] == []


# ---- the example plugin, end to end ------------------------------------------------------


def test_example_plugin_validates_a_directory_csv_end_to_end(tmp_path):
    headings = EXAMPLE_HEADINGS.split(",")
    good = (
        "{ref},CS-CME,{name},Sole trader,Yes,Developing,01/04/2025,New,06/01/2025,"
        "Not required: no regulated activity,L-NORTH,{postcode},Shopping and errands"
    )
    lines = [
        EXAMPLE_HEADINGS,
        good.format(ref="EX-1", name="Tea and Company", postcode="WR5 2NP"),
        good.format(ref="EX-2", name="Garden Help", postcode="wr9 8da"),
        "",
        good.format(ref="EX-3", name="Hill Help", postcode="QA1 1AA"),
    ]
    path = tmp_path / "directory.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    done = run_mectk("validate", path.name, "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert [f["format"] for f in report["files"]] == ["example-directory-csv"]
    counts = report["counts"]
    assert (counts["rows_read"], counts["accepted"], counts["rejected"]) == (3, 2, 1)
    assert counts["blank_rows"] == 1
    assert counts["records"] == {"enterprise": 2}
    assert counts["issues"] == {"format-invalid": 1}
    assert report["valid"] is False

    (issue,) = report["issues"]
    letter = chr(ord("A") + headings.index("Postcode"))
    assert issue["code"] == "format-invalid"
    assert issue["severity"] == "error"
    assert issue["value"] == "***", "the postcode is personal data"
    assert issue["column"] == "Postcode"
    assert issue["field"] == "base_postcode"
    assert issue["row"] == 5
    assert issue["cell"] == f"{letter}5"
    assert issue["record_id"] == "EX-3"
    assert issue["file"] == "directory.csv"
    assert "QA1" not in done.stdout, "the personal value leaks nowhere in the report"


def test_a_plugin_with_a_misspelt_hook_is_a_plugin_error_naming_it(tmp_path):
    env = install_fake_plugin(
        tmp_path / "site",
        """
        from mectk import hookimpl

        @hookimpl
        def mectk_register_reader():
            return []
    """,
    )
    done = run_mectk("formats", cwd=tmp_path, **env)
    assert done.returncode == 4, done.stderr
    assert "plugin 'boom'" in done.stderr
    assert "MECTK_DISABLE_PLUGINS=boom" in done.stderr
    assert "Traceback" not in done.stderr


class SamplePlugin:
    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def mectk_register_samples(self):
        from mectk import SampleFile, SampleSpec

        def write(folder: Path) -> list[SampleFile]:
            path = folder / f"{self.name}.csv"
            path.write_text("a,b\n1,2\n", encoding="utf-8")
            return [SampleFile(path=path, format="example", planted=(("x", "y"),))]

        return [
            SampleSpec(
                name=self.name, title=f"sample {self.name}", write=write, reports=("summary",)
            )
        ]


def test_hook_mectk_register_samples(pm, tmp_path):
    with registered(pm, SamplePlugin("council-x"), "sampler"):
        registry = build_registry(pm)
        found = registry.samples["council-x"]
        assert found.plugin == "sampler"
        assert found.spec.reports == ("summary",)
        files = found.spec.write(tmp_path)
        assert [f.path.name for f in files] == ["council-x.csv"]
        assert files[0].planted == (("x", "y"),)
        with registered(pm, SamplePlugin("council-x"), "twin"):
            with pytest.raises(DuplicateNameError) as raised:
                build_registry(pm)
            assert "'council-x' is registered by two plugins" in raised.value.message
    assert "council-x" not in build_registry(pm).samples
