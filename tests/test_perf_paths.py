"""The fast paths of validation give what the general paths give.

The converter for validated records structures exactly as the general one; accepted records
read back from their temporary file equal those kept in memory; repeated-key hashing finds
exactly the repeated keys; and memory does not grow with the file.
"""

from __future__ import annotations

import copy
import datetime
import io
import json
import pickle
import tracemalloc
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mectk import accepted, issue_log
from mectk.accepted import AcceptedRecords, KeyHashes, repeated_hashes
from mectk.converter import make_validated_converter
from mectk.jsonio import dumps
from mectk.models import MODELS
from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.plugins import core_checks, record_checks
from mectk.sample_data import sample_rows
from mectk.schemas import RECORD_KINDS
from mectk.sources import CellRef, ColumnRule, RowCells, SourceRow
from mectk.template import write_workbook
from mectk.validation import ValidationResult, run_checks, validate_items
from tests.strategies import CONVERTER, records

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALIDATED = make_validated_converter()


@pytest.mark.parametrize("kind", RECORD_KINDS)
@FAST
@given(data=st.data())
def test_the_validated_converter_structures_as_the_general_one(
    kind: str, data: st.DataObject
) -> None:
    model = data.draw(records(kind))
    raw = CONVERTER.unstructure(model)
    mine: Any = VALIDATED.structure(copy.deepcopy(raw), MODELS[kind])
    assert mine == CONVERTER.structure(raw, MODELS[kind]) == model
    assert type(mine) is type(model)


# ---- accepted records and issues beyond memory ------------------------------------------


def _mixed_rows() -> dict[str, list[Mapping[str, Any]]]:
    """The sample programme twice over: once as is, once with fresh ids (so every
    duplicate rule has work), and each record again with its own id (id duplicates)."""
    rows = sample_rows()
    out: dict[str, list[Mapping[str, Any]]] = {}
    for kind, given_rows in rows.items():
        id_field = RECORD_KINDS[kind].id_field
        renamed = [{**r, id_field: f"{r[id_field]}-X"} for r in given_rows]
        again = given_rows if kind not in ("programme", "locality", "coordinator") else []
        out[kind] = [*given_rows, *renamed, *again]
    return out


def _validate(path: Path) -> ValidationResult:
    registry = build_registry(make_plugin_manager())
    return validate_files(registry, [path])


def _spill_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accepted, "MEMORY_RECORDS", 0)
    monkeypatch.setattr(accepted, "BATCH_RECORDS", 3)
    monkeypatch.setattr(issue_log, "MEMORY_ISSUES", 2)
    monkeypatch.setattr(issue_log, "BATCH_ISSUES", 3)


def test_records_and_issues_read_back_from_disk_equal_those_kept_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mixed.xlsx"
    write_workbook(path, _mixed_rows())
    kept = _validate(path)
    assert kept.accepted_records.spilled == 0
    with monkeypatch.context() as patch:
        _spill_everything(patch)
        spilled = _validate(path)
    assert spilled.accepted_records.spilled >= spilled.accepted > 0  # with those rejected
    assert len(spilled.issues) > 10  # most of them on disk
    codes = set(spilled.issues.counts())
    assert {"id-duplicate", "possible-duplicate", "episode-duplicate"} <= codes
    assert spilled.as_json(version="t") == kept.as_json(version="t")
    assert list(spilled.accepted_records) == list(kept.accepted_records)
    assert list(spilled.issues) == list(kept.issues)
    for kind in RECORD_KINDS:
        view = spilled.accepted_records.of_kind(kind)
        assert list(view) == [r for r in kept.accepted_records if r.kind == kind]
        assert len(view) == kept.record_counts().get(kind, 0)
    assert spilled.accepted_records[-1] == kept.accepted_records[-1]
    assert spilled.issues[-2:] == kept.issues[-2:]


@pytest.mark.parametrize("max_issues", [None, 0, 1, 5])
def test_the_streamed_json_is_the_json_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_issues: int | None
) -> None:
    path = tmp_path / "mixed.xlsx"
    write_workbook(path, _mixed_rows())
    _spill_everything(monkeypatch)
    result = _validate(path)
    out = io.StringIO()
    result.write_json(out, version="t", max_issues=max_issues)
    assert out.getvalue() == dumps(result.as_json(version="t", max_issues=max_issues))
    assert json.loads(out.getvalue())["counts"]["rows_read"] == result.rows_read


def test_a_valid_empty_result_streams_as_its_document() -> None:
    result = ValidationResult()
    out = io.StringIO()
    result.write_json(out, version="t")
    assert out.getvalue() == dumps(result.as_json(version="t"))


@given(keys=st.lists(st.one_of(st.none(), st.integers(0, 6), st.text(max_size=2))))
def test_key_hashes_find_exactly_the_repeated_keys(keys: list[Any]) -> None:
    hashes = KeyHashes()
    for key in keys:
        hashes.add(key)
    present = [k for k in keys if k is not None]
    repeated = {k for k in present if present.count(k) > 1}
    assert {hash(k) for k in repeated} <= hashes.repeated() == repeated_hashes(keys)
    for index, key in enumerate(keys):
        if key in repeated:
            assert hashes.maybe_repeated(index)
        if key is None:
            assert not hashes.maybe_repeated(index)


# ---- memory does not grow with the file --------------------------------------------------


def _rows(count: int) -> Iterator[SourceRow]:
    """``count`` enterprise rows as a reader yields them; every 4th has a bad price."""
    columns = {name: CellRef("Enterprises", None, name, name) for name in _ENTERPRISE}
    for n in range(count):
        values = {
            "enterprise_id": f"E-{n:06d}",
            "programme_id": "P1",
            "trading_name": f"Care {n}",
            "legal_form": "Sole trader",
            "independent": "Yes",
            "status": "Trading",
            "status_date": datetime.date(2025, 5, 1) + datetime.timedelta(days=n % 90),
            "origin": "Established",
            "first_contact_date": datetime.date(2025, 1, 6),
            "services": "Companionship; Gardening",
            "cqc_status": "Unknown",
            "locality_id": f"L{n % 12}",
            "base_postcode": f"WR{n % 9 + 1} {n % 10}AB",
            "paid_workers": n % 4,
            "price_amount_gbp": 18.505 if n % 4 == 3 else 18.5,
            "price_unit": "Per hour",
            "lead_email": f"lead{n}@example.org",
        }
        yield SourceRow(
            "enterprise",
            "Enterprises",
            n + 2,
            values,
            RowCells(columns, n + 2),
            file="many.xlsx",
            sheet_columns=columns,
        )


_ENTERPRISE = (
    *("enterprise_id", "programme_id", "trading_name", "legal_form", "independent"),
    *("status", "status_date", "origin", "first_contact_date", "services"),
    *("base_postcode", "paid_workers", "price_amount_gbp", "price_unit", "lead_email"),
    *("cqc_status", "locality_id"),
)


class _Discard(io.StringIO):
    """A text stream that counts what is written and keeps none of it."""

    written = 0

    def write(self, text: str) -> int:
        self.written += len(text)
        return len(text)


def _peak_bytes(count: int) -> tuple[int, ValidationResult]:
    checks = [*core_checks.mectk_register_checks(), *record_checks.mectk_register_checks()]
    tracemalloc.start()
    try:
        result = validate_items(_rows(count), source_system="test")
        run_checks(result, checks)
        sink = _Discard()
        result.write_json(sink, version="t")
        assert sink.written > 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, result


def test_memory_does_not_grow_with_the_number_of_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accepted, "MEMORY_RECORDS", 250)
    monkeypatch.setattr(accepted, "BATCH_RECORDS", 125)
    monkeypatch.setattr(issue_log, "MEMORY_ISSUES", 125)
    monkeypatch.setattr(issue_log, "BATCH_ISSUES", 125)
    _peak_bytes(300)  # compiles the fast checks and converters: not part of the growth
    small, few = _peak_bytes(1_000)
    large, many = _peak_bytes(4_000)
    assert (many.accepted, many.rejected, len(many.issues)) == (3_000, 1_000, 1_000)
    assert few.accepted_records.spilled == 500
    growth = large - small
    # keeping the 2,250 more accepted records and 750 more issues would take over 3 MB
    assert growth < 3_000 * 100, f"peak grew by {growth:,} bytes for 3,000 more rows"


# ---- main's rules on the fast paths (merged with the per-column plans) -------------------


def _rows_with_rules(count: int, rules: Mapping[str, ColumnRule]) -> Iterator[SourceRow]:
    """``_rows`` read with mapping ``rules``: every 3rd row's price unit blank, its
    email "N/A"."""
    for row in _rows(count):
        values = dict(row.values)
        if row.row is not None and row.row % 3 == 0:
            values["price_unit"] = ""
            values["lead_email"] = "N/A"
        yield attrs.evolve(row, values=values, rules=rules)


def test_blank_values_blank_as_and_patterns_apply_on_every_path() -> None:
    # trading names are all distinct (their memo is dropped after its trial, and a plain
    # text field takes the direct path), price units repeat (remembered): the pattern, the
    # blank text and the blank values must apply on both
    rules = {
        "trading_name": ColumnRule(pattern=r"Care \d*[02468]"),
        "price_unit": ColumnRule(blank_as="Per visit"),
        "lead_email": ColumnRule(blank_values=frozenset({"n/a"})),
    }
    count = 600
    result = validate_items(_rows_with_rules(count, rules), source_system="test")
    bad_name = [i for i in result.issues if i.code == "format-invalid"]
    assert sorted(i.row or 0 for i in bad_name) == [n + 2 for n in range(count) if n % 2]
    assert all(i.field == "trading_name" for i in bad_name)
    assert not [i for i in result.issues if i.field == "lead_email"]
    accepted = {r.row.row: r.model for r in result.accepted_records}
    assert accepted, "some rows pass every rule"
    for row_number, model in accepted.items():
        assert row_number is not None
        blanked = row_number % 3 == 0
        assert model.price_unit == ("per_visit" if blanked else "per_hour")
        assert (model.lead_email is None) is blanked


def test_ids_differing_in_case_are_duplicates_when_records_are_spilled() -> None:
    rows = list(_rows(8))
    rows[5] = attrs.evolve(rows[5], values={**rows[5].values, "enterprise_id": "e-000001"})
    rows[6] = attrs.evolve(rows[6], values={**rows[6].values, "enterprise_id": "E-000001 "})
    checks = core_checks.mectk_register_checks()
    for memory_limit in (None, 0):
        result = ValidationResult(accepted_records=AcceptedRecords(memory_limit=memory_limit))
        validate_items(rows, source_system="test", result=result)
        assert result.accepted_records.spilled == (0 if memory_limit is None else 6)
        run_checks(result, checks)
        found = [(i.row, i.record_id) for i in result.issues if i.code == "id-duplicate"]
        assert found == [(7, "e-000001"), (8, "E-000001")], memory_limit


def _spilled_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ValidationResult:
    path = tmp_path / "mixed.xlsx"
    write_workbook(path, _mixed_rows())
    with monkeypatch.context() as patch:
        _spill_everything(patch)
        result = _validate(path)
    assert result.accepted_records.spilled and len(result.issues) > 10
    return result


def test_the_web_views_read_spilled_issues_as_a_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mectk.web.views import group_issues, issue_page

    result = _spilled_result(tmp_path, monkeypatch)
    issues = list(result.issues)
    assert group_issues(result.issues, 2) == group_issues(issues, 2)
    for filters in ({}, {"code": "id-duplicate"}, {"severity": "warning"}):
        for page in (1, 2, 99):
            assert issue_page(result.issues, filters, page, 3) == issue_page(
                issues, filters, page, 3
            )


def test_a_spilled_result_pickles_and_copies_with_its_records_and_issues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _spilled_result(tmp_path, monkeypatch)
    for again in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result)):
        assert list(again.issues) == list(result.issues)
        assert again.issues.counts() == result.issues.counts()
        assert list(again.accepted_records) == list(result.accepted_records)
        assert again.as_json(version="t") == result.as_json(version="t")


def test_threads_read_one_spilled_result_at_the_same_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _spilled_result(tmp_path, monkeypatch)
    issues, records = list(result.issues), list(result.accepted_records)

    def read(_: int) -> bool:
        return all(
            list(result.issues) == issues and list(result.accepted_records) == records
            for _ in range(20)
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(read, range(16)))
