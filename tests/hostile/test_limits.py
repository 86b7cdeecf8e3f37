"""The Limits value object: defaults, environment, ``--limit``, and the limits in action."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from mectk.errors import MectkError, UsageError
from mectk.limits import Limits, parse_amount
from mectk.mapping import load_mapping
from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.sources import ReadOptions
from tests.hostile.corpus import CSV_MAPPING, base, too_many_members
from tests.hostile.test_corpus import run_cli

REGISTRY = build_registry(make_plugin_manager(load_entrypoints=False))
DOC = Path(__file__).resolve().parents[2] / "docs" / "limits.md"


def test_every_limit_is_documented_with_its_default():
    text = DOC.read_text(encoding="utf-8")
    for field in attrs.fields(Limits):
        assert f"| `{field.name}` | {field.default:,} |" in text, field.name


@pytest.mark.parametrize(
    ("raw", "value"),
    [("5000", 5000), ("1_000", 1000), ("50MB", 50_000_000), ("2G", 2_000_000_000), (7, 7)],
)
def test_amounts(raw, value):
    assert parse_amount(raw) == value


@pytest.mark.parametrize("raw", ["", "-1", "0", "1.5", "ten", "5 TB"])
def test_bad_amounts_are_usage_errors(raw):
    with pytest.raises(UsageError):
        parse_amount(raw)


def test_environment_then_overrides():
    limits = Limits.from_env({"MECTK_LIMITS_SHEETS": "7", "MECTK_LIMITS_ROWS": "9", "HOME": "x"})
    assert (limits.sheets, limits.rows, limits.members) == (7, 9, Limits().members)
    assert limits.with_overrides({"sheets": "8"}).sheets == 8
    with pytest.raises(UsageError, match="unknown limit 'sheetz'"):
        limits.with_overrides({"sheetz": "1"})
    with pytest.raises(UsageError):
        Limits(rows=0)


def test_a_lowered_size_limit_refuses_an_ordinary_workbook(tmp_path):
    path = tmp_path / "ok.xlsx"
    path.write_bytes(base())
    options = ReadOptions(limits=Limits(archive_bytes=1000))
    with pytest.raises(MectkError) as raised:
        validate_files(REGISTRY, [path], options=options)
    assert raised.value.code == "archive-too-large"
    assert "archive_bytes=1,000" in raised.value.message


def test_a_raised_member_limit_lets_a_padded_workbook_through(tmp_path):
    path = too_many_members(tmp_path)
    options = ReadOptions(limits=Limits(members=30_000))
    result = validate_files(REGISTRY, [path], options=options)
    assert result.accepted == 2


def test_csv_rows_columns_and_cell_length_limits(tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text(CSV_MAPPING, encoding="utf-8")
    registry = REGISTRY.with_mapping(load_mapping(mapping))
    path = tmp_path / "t.csv"
    path.write_text(
        "enterprise_id,name,stage\nE1,Annabelle Mariana Long,1\nE2,Bob,1\nE3,Cy,1\n",
        encoding="utf-8",
    )
    for limits, code in (
        (Limits(rows=3), "sheet-too-large"),
        (Limits(columns=2), "sheet-too-large"),
    ):
        with pytest.raises(MectkError) as raised:
            validate_files(
                registry, [path], format_name="hostile", options=ReadOptions(limits=limits)
            )
        assert raised.value.code == code
    result = validate_files(
        registry, [path], format_name="hostile", options=ReadOptions(limits=Limits(cell_chars=15))
    )
    assert [(i.code, i.cell) for i in result.issues] == [("cell-too-long", "B2")]
    assert (result.accepted, result.rejected) == (2, 1)


def test_the_cli_takes_limits_from_options_and_the_environment(tmp_path):
    path = tmp_path / "ok.xlsx"
    path.write_bytes(base())
    by_option = run_cli(["validate", str(path), "--limit", "archive_bytes=1k"], tmp_path)
    by_env = run_cli(["validate", str(path)], tmp_path, MECTK_LIMITS_ARCHIVE_BYTES="1000")
    for done in (by_option, by_env):
        assert done.returncode == 3, done.stderr
        assert "[archive-too-large]" in done.stderr
    bad = run_cli(["validate", str(path), "--limit", "sheetz=1"], tmp_path)
    assert bad.returncode == 2
    assert "unknown limit 'sheetz'" in bad.stderr
