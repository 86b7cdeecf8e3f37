"""``mectk plugin new NAME``: the scaffold writes a plugin that installs and passes its tests.

The slow test runs the scaffold as a subprocess, installs the result into a fresh venv
that sees this mectk (and its dependencies) through a ``.pth`` file, runs the generated
tests there and asks the installed ``mectk formats`` for the new format.
"""

from __future__ import annotations

import ast
import io
import json
import os
import site
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
from rich.console import Console

import mectk
from mectk.demo import run_demo
from mectk.errors import UsageError
from mectk.mapping import load_mapping
from mectk.plugin_manager import DISABLE_ENV, TRACE_ENV, build_registry, make_plugin_manager
from mectk.scaffold import new_plugin

EXPECTED_FILES = (
    "README.md",
    "mectk_leeds/__init__.py",
    "mectk_leeds/leeds-tracker.toml",
    "mectk_leeds/report.py",
    "mectk_leeds/samples.py",
    "pyproject.toml",
    "tests/test_mectk_leeds.py",
)


def environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (DISABLE_ENV, TRACE_ENV)}
    env["NO_COLOR"] = "1"
    return env


def run(*args: str, cwd: Path, python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ(),
        timeout=300,
        check=False,
    )


def mectk_imports(path: Path) -> set[str]:
    """Absolute imports of mectk itself (not of the plugin's own ``mectk_*`` package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "mectk" or node.module.startswith("mectk."):
                found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "mectk")
    return found


# ---- what the scaffold writes ----------------------------------------------------------------


def test_the_scaffold_writes_a_complete_distribution(tmp_path: Path):
    made = new_plugin("leeds", tmp_path)
    assert made.folder == tmp_path / "mectk-leeds"
    assert made.files == EXPECTED_FILES
    assert sorted(
        str(p.relative_to(made.folder)) for p in made.folder.rglob("*") if p.is_file()
    ) == list(EXPECTED_FILES)
    assert not list(tmp_path.glob(".*.part")), "the staging folder was renamed into place"

    project = tomllib.loads((made.folder / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "mectk-leeds"
    assert project["project"]["entry-points"]["mectk"] == {"leeds": "mectk_leeds"}
    assert project["project"]["dependencies"][0] == "mectk>=0.1,<1"
    mapping = load_mapping(made.folder / "mectk_leeds" / "leeds-tracker.toml")
    assert mapping.format == "leeds-tracker"
    assert mapping.identify_sheets == ("Enterprises",)
    readme = (made.folder / "README.md").read_text(encoding="utf-8")
    assert "mectk report leeds-return --period 2025-26-Q1" in readme
    assert "$" not in "".join(
        p.read_text(encoding="utf-8") for p in made.folder.rglob("*") if p.is_file()
    ), "every placeholder is filled"


def test_the_generated_plugin_uses_only_the_public_api_and_is_lint_clean(tmp_path: Path):
    made = new_plugin("north-east-lincolnshire", tmp_path)
    for path in made.folder.rglob("*.py"):
        for name in mectk_imports(path):
            public = name.removeprefix("mectk.") in mectk.__all__
            in_module = any(name.startswith(f"{m}.") for m in mectk.PUBLIC_MODULES)
            assert public or in_module, (path.name, name)
    done = run("-m", "ruff", "check", "--no-cache", ".", cwd=made.folder)
    assert done.returncode == 0, done.stdout


def test_the_generated_sample_runs_in_the_demo(tmp_path: Path, monkeypatch):
    made = new_plugin("testshire", tmp_path)
    monkeypatch.syspath_prepend(str(made.folder))
    import mectk_testshire

    try:
        pm = make_plugin_manager(load_entrypoints=False, environ={})
        pm.register(mectk_testshire, name="testshire")
        runs = {r.name: r for r in run_demo(tmp_path / "out", build_registry(pm), quiet())}
    finally:
        for module in [m for m in sys.modules if m.startswith("mectk_testshire")]:
            del sys.modules[module]
    sample = runs["testshire"]
    assert sample.error is None
    assert [(p.code, p.found) for p in sample.planted] == [
        ("date-invalid", True),
        ("code-unknown", True),
    ]
    [(_file, result)] = sample.results
    assert result.files[0].format == "testshire-tracker", "identified by its mapping"
    assert (result.accepted, result.rejected) == (17, 2)
    assert {i.code for i in result.issues} == {"date-invalid", "code-unknown"}
    folder = tmp_path / "out" / "testshire"
    for period in ("2025-26-Q1", "2025-26"):
        assert (folder / f"report-testshire-return-{period}.xlsx").is_file()


def quiet() -> Console:
    return Console(file=io.StringIO(), width=200)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("Leeds", "is not a plugin name"),
        ("1leeds", "is not a plugin name"),
        ("north--yorkshire", "is not a plugin name"),
        ("leeds-", "is not a plugin name"),
        ("le eds", "is not a plugin name"),
        ("../leeds", "is not a plugin name"),
        ("x" * 31, "at most 30 characters"),
        ("mectk-leeds", "mectk- is added"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_written(tmp_path: Path, name: str, says: str):
    with pytest.raises(UsageError, match=says):
        new_plugin(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_scaffold_never_overwrites(tmp_path: Path):
    target = tmp_path / "mectk-leeds"
    target.mkdir()
    (target / "mine.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(UsageError, match="never overwrites"):
        new_plugin("leeds", tmp_path)
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    (tmp_path / "mectk-york").write_text("a file in the way", encoding="utf-8")
    with pytest.raises(UsageError, match="never overwrites"):
        new_plugin("york", tmp_path)
    (tmp_path / "mectk-hull").mkdir()  # an empty folder is filled
    assert new_plugin("hull", tmp_path).files == tuple(
        f.replace("leeds", "hull") for f in EXPECTED_FILES
    )
    assert not list(tmp_path.glob(".*.part"))


def test_the_command_line_writes_refuses_and_explains(tmp_path: Path):
    done = run("-m", "mectk", "plugin", "new", "leeds", "--dir", "plugins", cwd=tmp_path)
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    (tmp_path / "plugins").mkdir()
    done = run("-m", "mectk", "plugin", "new", "leeds", "--dir", "plugins", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "mectk_leeds/leeds-tracker.toml" in done.stderr
    assert "pip install -e '.[test]'" in done.stderr
    again = run("-m", "mectk", "plugin", "new", "leeds", "--dir", "plugins", cwd=tmp_path)
    assert again.returncode == 2
    assert "never overwrites" in again.stderr
    assert "Traceback" not in again.stderr


# ---- the guide for plugin authors ---------------------------------------------------------------

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "writing-plugins.md"


def test_the_guide_covers_every_public_name_module_and_hook():
    from mectk import hookspecs

    text = GUIDE.read_text(encoding="utf-8")
    hooks = [name for name in dir(hookspecs) if name.startswith("mectk_")]
    assert len(hooks) >= 6
    for name in (*mectk.__all__, *mectk.PUBLIC_MODULES, *hooks):
        assert f"`{name}" in text, name
    for linked in ("plugin-hooks.md", "mapping-files.md", "issue-codes.md"):
        assert f"]({linked})" in text
        assert (GUIDE.parent / linked).is_file()


# ---- installed into a fresh venv, its own tests pass ---------------------------------------------


@pytest.mark.slow
def test_the_scaffolded_plugin_installs_and_its_tests_pass(tmp_path: Path):
    done = run("-m", "mectk", "plugin", "new", "leeds", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plugin = tmp_path / "mectk-leeds"

    # a fresh venv that sees this mectk, its dependencies, pip and pytest through a .pth
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = str(env_dir / "bin" / "python")
    purelib = run(
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        cwd=tmp_path,
        python=python,
    ).stdout.strip()
    parents = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "_mectk_under_test.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in parents), encoding="utf-8"
    )
    installed = run("-m", "pip", "install", "-q", str(plugin), cwd=tmp_path, python=python)
    assert installed.returncode == 0, installed.stderr
    assert (Path(purelib) / "mectk_leeds" / "leeds-tracker.toml").is_file(), "the TOML ships"

    tested = run(
        "-m", "pytest", "-q", "-p", "no:cacheprovider", str(plugin), cwd=tmp_path, python=python
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "5 passed" in tested.stdout

    formats = run("-m", "mectk", "formats", "--json", cwd=tmp_path, python=python)
    assert formats.returncode == 0, formats.stderr
    listed = json.loads(formats.stdout)
    assert {"name": "leeds-tracker", "plugin": "leeds"}.items() <= next(
        r for r in listed["readers"] if r["name"] == "leeds-tracker"
    ).items()
    assert "leeds-return" in {r["name"] for r in listed["reports"]}
