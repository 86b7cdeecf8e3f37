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
import tracemalloc
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mectk import accepted, issue_log
from mectk.accepted import KeyHashes, repeated_hashes
from mectk.converter import make_validated_converter
from mectk.jsonio import dumps
from mectk.models import MODELS
from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.plugins import core_checks, record_checks
from mectk.sample_data import sample_rows
from mectk.schemas import RECORD_KINDS
from mectk.sources import CellRef, RowCells, SourceRow
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
