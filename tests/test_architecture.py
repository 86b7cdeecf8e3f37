"""Which part may import which (design.md section 2), checked over the import graph."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL_LAYER = ("schemas", "models", "converter")
VALUE_LAYER = ("coerce", "issues", "sources", "errors", "periods", "limits")
"""Shared value objects and value coercion: they import the model layer and each other only."""
FACES = ("mectk.cli", "mectk.demo")  # mectk.cli_* modules are the command line too


def _is_mectk(module: str) -> bool:
    """``mectk`` or a module inside it (not a plugin package such as ``mectk_leeds``)."""
    return module == "mectk" or module.startswith("mectk.")


def mectk_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and _is_mectk(node.module):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if _is_mectk(a.name))
    return found


@pytest.mark.parametrize("module", MODEL_LAYER)
def test_the_model_layer_imports_nothing_else_of_mectk(module):
    assert mectk_imports(ROOT / "mectk" / f"{module}.py") == set()


@pytest.mark.parametrize("module", VALUE_LAYER)
def test_the_value_layer_imports_only_the_model_and_value_layers(module):
    allowed = {f"mectk.{m}" for m in (*MODEL_LAYER, *VALUE_LAYER)}
    imports = {i for i in mectk_imports(ROOT / "mectk" / f"{module}.py") if i.count(".") == 1}
    assert imports <= allowed, imports - allowed


def test_readers_and_validation_do_not_import_each_other():
    readers = ("grid", "table_reader", "mapping", "sniff")
    for reader in readers:
        assert "mectk.validation" not in mectk_imports(ROOT / "mectk" / f"{reader}.py")
    for name in readers:
        assert f"mectk.{name}" not in mectk_imports(ROOT / "mectk" / "validation.py")


def test_no_engine_imports_a_face():
    for path in (ROOT / "mectk").rglob("*.py"):
        if path.stem.startswith("cli") or path.stem in ("demo", "__main__"):
            continue
        assert not any(i.startswith(FACES) for i in mectk_imports(path)), path


def test_plugins_use_only_the_public_api():
    import mectk

    for path in (ROOT / "plugins").glob("*/*/*.py"):
        for name in mectk_imports(path):
            public = name == "mectk" or name.removeprefix("mectk.") in mectk.__all__
            in_module = any(name == m or name.startswith(f"{m}.") for m in mectk.PUBLIC_MODULES)
            assert public or in_module, (path, name)


def test_ruff_is_clean():
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout


def test_mypy_strict_is_clean():
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout
