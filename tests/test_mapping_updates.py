"""Mapping mechanisms for multi-sheet registers: update sheets, a per-row as-at column,
blank values, refine functions, and conditional fields a layout does not carry."""

from __future__ import annotations

import datetime
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import openpyxl
import pytest

from mectk.hookspecs import hookimpl
from mectk.mapping import load_mapping
from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.sources import ReadItem, ReadOptions, Source, SourceRow
from mectk.specs import MappingSpec

MAPPING = """
format = "two-sheet-register"

[constants]
programme_id = "TS-CME"

[[sheets]]
sheet = "Providers"
record = "enterprise"
as_at_column = "Snapshot Date"

[sheets.constants]
independent = true
status = "trading"
origin = "new"
cqc_status = "unknown"
legal_form = "unknown"
locality_id = "L1"

[sheets.columns]
enterprise_id = "ID"
trading_name = "Name"
first_contact_date = "Registered"
launch_date = "Trading since"
status_date = "Trading since"
charity_number = { heading = "Charity No", blank_values = ["N/A", "-"] }

[[sheets.snapshots]]
heading = "Hours"
outcome_type = "hours_per_week"
blank_values = ["n/k"]

[[sheets]]
sheet = "Closures"
record = "enterprise"
updates = true

[sheets.constants]
status = "closed"

[sheets.columns]
enterprise_id = "ID"
closure_date = "Ceased"
status_date = "Ceased"
"""
D = datetime.date
HEADINGS = ["ID", "Name", "Registered", "Trading since", "Charity No", "Hours", "Snapshot Date"]


def workbook(path: Path, providers: list[list[Any]], closures: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Providers"
    sheet.append(HEADINGS)
    for row in providers:
        sheet.append(row)
    closed = book.create_sheet("Closures")
    closed.append(["ID", "Ceased"])
    for row in closures:
        closed.append(row)
    book.save(path)
    return path


def validate(tmp_path: Path, providers: list[list[Any]], closures: list[list[Any]], **spec: Any):  # type: ignore[no-untyped-def]
    (tmp_path / "register.toml").write_text(MAPPING, encoding="utf-8")
    mapping = attrs.evolve(load_mapping(tmp_path / "register.toml"), **spec)
    registry = build_registry(make_plugin_manager(load_entrypoints=False))
    registry = registry.with_mapping(mapping)
    path = workbook(tmp_path / "register.xlsx", providers, closures)
    return validate_files(registry, [path], format_name="two-sheet-register")


def by_id(result: Any, kind: str) -> dict[str, Any]:
    field = "enterprise_id" if kind == "enterprise" else "outcome_id"
    return {getattr(r.model, field): r for r in result.accepted_records if r.kind == kind}


def test_a_closures_sheet_updates_providers_read_before_it(tmp_path: Path) -> None:
    result = validate(
        tmp_path,
        [
            ["P-1", "One", D(2025, 1, 1), D(2025, 2, 1), "N/A", 10, D(2025, 6, 30)],
            ["P-2", "Two", D(2025, 1, 1), D(2025, 2, 1), "-", None, None],
        ],
        [["P-2", D(2025, 8, 1)], ["P-9", D(2025, 8, 1)], ["P-1", "31/02/2025"]],
    )
    enterprises = by_id(result, "enterprise")
    two = enterprises["P-2"].model
    assert (two.status, two.closure_date, two.trading_name) == ("closed", D(2025, 8, 1), "Two")
    assert two.source_ref.endswith("Providers!3")  # still the provider's own row
    # P-1's closure has a bad date: reported at the Closures cell, and P-1 is rejected
    bad = {(i.sheet, i.cell, i.record_id) for i in result.issues if i.code == "date-invalid"}
    assert bad == {("Closures", "B4", "P-1")}  # closure date and status date: one cell
    assert "P-1" not in enterprises
    [missing] = [i for i in result.issues if i.code == "update-target-missing"]
    assert (missing.sheet, missing.cell, missing.record_id) == ("Closures", "A3", "P-9")
    # every row: 2 providers and P-1's outcome read; the 3 closure rows skipped (applied
    # or not), each saying so
    assert result.rows_read == result.accepted + result.rejected == 3
    assert result.skipped_rows == 3
    reasons = [i.message for i in result.issues if i.code == "row-skipped"]
    assert any("applied to P-2 (Providers row 3)" in r for r in reasons)
    assert any("no record P-9 to update" in r for r in reasons)


def test_blank_values_and_the_as_at_column(tmp_path: Path) -> None:
    result = validate(
        tmp_path,
        [
            ["P-1", "One", D(2025, 1, 1), D(2025, 2, 1), "N/A", 10, 45838],  # serial
            ["P-2", "Two", D(2025, 1, 1), D(2025, 2, 1), 1089464, "n/k", D(2025, 6, 30)],
            ["P-3", "Three", D(2025, 1, 1), D(2025, 2, 1), None, 7, "soon"],
        ],
        [],
    )
    enterprises = by_id(result, "enterprise")
    assert enterprises["P-1"].model.charity_number is None
    assert enterprises["P-2"].model.charity_number == "1089464"
    outcomes = by_id(result, "outcome")
    assert outcomes["P-1-hours_per_week-2025-06-30"].model.as_at_date == D(2025, 6, 30)
    assert not any(o.startswith("P-2") for o in outcomes)  # "n/k" is no observation
    [bad] = [i for i in result.issues if i.code == "date-invalid"]
    assert (bad.cell, bad.column, bad.field) == ("G4", "Snapshot Date", "as_at_date")


def test_a_refine_function_sees_and_replaces_every_item(tmp_path: Path) -> None:
    seen: list[str] = []

    def refine(
        items: Iterator[ReadItem], source: Source, options: ReadOptions
    ) -> Iterator[ReadItem]:
        for item in items:
            seen.append(type(item).__name__)
            if isinstance(item, SourceRow) and item.kind == "enterprise":
                yield attrs.evolve(item, values={**item.values, "origin": "established"})
            else:
                yield item

    result = validate(
        tmp_path,
        [["P-1", "One", D(2025, 1, 1), D(2025, 2, 1), None, None, None]],
        [],
        refine=refine,
    )
    assert by_id(result, "enterprise")["P-1"].model.origin == "established"
    assert "SourceRow" in seen


def test_a_shipped_mapping_keeps_its_refine_when_a_new_version_is_given(tmp_path: Path) -> None:
    (tmp_path / "register.toml").write_text(MAPPING, encoding="utf-8")

    def refine(
        items: Iterator[ReadItem], source: Source, options: ReadOptions
    ) -> Iterator[ReadItem]:
        return items

    @hookimpl
    def mectk_register_mappings() -> list[MappingSpec]:
        return [MappingSpec(tmp_path / "register.toml", refine=refine)]

    plugin = types.SimpleNamespace(mectk_register_mappings=mectk_register_mappings)
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(plugin, name="ts")
    registry = build_registry(pm)
    assert registry.mappings["two-sheet-register"].spec.refine is refine
    renewed = registry.with_mapping(load_mapping(tmp_path / "register.toml"))
    assert renewed.mappings["two-sheet-register"].spec.refine is refine


def test_a_conditional_field_the_layout_lacks_is_one_counted_warning(tmp_path: Path) -> None:
    rows = [[f"P-{n}", "One", D(2025, 1, 1), D(2025, 2, 1), None, None, None] for n in (1, 2, 3)]
    result = validate(tmp_path, rows, [])
    # trading needs services, but this layout has no services column: every record kept,
    # with one warning for the sheet and field, at the first record, counting all three
    [warning] = [i for i in result.issues if i.field == "services"]
    assert (warning.code, warning.severity) == ("field-not-in-source", "warning")
    assert (warning.sheet, warning.row, warning.record_id) == ("Providers", 2, "P-1")
    assert "for 3 enterprise record(s) in sheet 'Providers'" in warning.message
    assert set(by_id(result, "enterprise")) == {"P-1", "P-2", "P-3"}


@pytest.mark.parametrize("sheet_value", ["", None])
def test_a_conditional_field_the_layout_has_is_still_an_error(
    tmp_path: Path, sheet_value: Any
) -> None:
    text = MAPPING.replace('locality_id = "L1"', 'locality_id = "L1"\n').replace(
        'charity_number = { heading = "Charity No", blank_values = ["N/A", "-"] }',
        'charity_number = { heading = "Charity No", blank_values = ["N/A", "-"] }\n'
        'services = "Charity No"',
    )
    (tmp_path / "register.toml").write_text(text, encoding="utf-8")
    registry = build_registry(make_plugin_manager(load_entrypoints=False))
    registry = registry.with_mapping(load_mapping(tmp_path / "register.toml"))
    path = workbook(
        tmp_path / "r.xlsx", [["P-1", "One", D(2025, 1, 1), D(2025, 2, 1), sheet_value]], []
    )
    result = validate_files(registry, [path], format_name="two-sheet-register")
    [error] = [i for i in result.issues if i.field == "services"]
    assert (error.code, error.severity) == ("value-conditionally-required", "error")
