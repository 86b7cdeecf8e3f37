"""A wheel built from the repository works on its own: schemas ship inside it."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_validates_a_template(tmp_path: Path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    wheel = next(dist.glob("mectk-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "mectk/schemas/enterprise.schema.json" in names
    assert "mectk/py.typed" in names
    assert "mectk/samples/county-tracker.toml" in names
    assert "mectk/scaffold/templates/package/layout.toml.tmpl" in names
    assert not any(n.startswith(("tests/", "schemas/")) for n in names)

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    work = tmp_path / "work"
    work.mkdir()
    mectk = env_dir / "bin" / "mectk"
    subprocess.run(
        [str(mectk), "template", "t.xlsx"], cwd=work, check=True, capture_output=True, timeout=120
    )
    done = subprocess.run(
        [str(mectk), "validate", "t.xlsx", "--json"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["valid"] is True
    where = subprocess.run(
        [str(python), "-c", "import mectk.schemas as s; print(s.schema_dir())"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(env_dir) in where.stdout
