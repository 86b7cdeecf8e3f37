"""Nothing lost, nothing silent: for any mixture of rows, every row is accounted for."""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.schemas import field_map
from mectk.template import write_workbook

REGISTRY = build_registry(make_plugin_manager(load_entrypoints=False))
TITLES = {f.name: f.title for f in field_map("enterprise").values()}


def good(n: int) -> dict[str, object]:
    return {
        "enterprise_id": f"E-{n}",
        "programme_id": "P",
        "trading_name": f"Name {n}",
        "legal_form": "Sole trader",
        "independent": "Yes",
        "status": "Enquiry",
        "status_date": datetime.date(2025, 4, 1),
        "origin": "New",
        "first_contact_date": "01/03/2025",
        "cqc_status": "Unknown",
        "locality_id": "L1",
    }


BAD_CHANGES = [
    {"base_postcode": "QA1 1AA"},
    {"status_date": "31/02/2025"},
    {"origin": "Sideways"},
    {"paid_workers": "lots"},
    {"trading_name": None},
    {"independent": "perhaps"},
]

row_kinds = st.lists(
    st.one_of(st.just("good"), st.just("blank"), st.sampled_from(range(len(BAD_CHANGES)))),
    min_size=1,
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(row_kinds)
def test_read_equals_accepted_plus_rejected_and_blank_rows_are_counted(kinds):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mixture.xlsx"
        write_workbook(path)
        workbook = openpyxl.load_workbook(path)
        sheet = workbook["Enterprises"]
        letters = {c.value: c.column_letter for c in sheet[1]}
        expected_bad = expected_good = 0
        last_data_row = 1
        for offset, kind in enumerate(kinds, start=2):
            if kind == "blank":
                continue
            row = good(offset)
            if kind == "good":
                expected_good += 1
            else:
                row.update(BAD_CHANGES[kind])
                expected_bad += 1
            for name, value in row.items():
                if value is not None:
                    sheet[f"{letters[TITLES[name]]}{offset}"] = value
            last_data_row = offset
        workbook.save(path)
        result = validate_files(REGISTRY, [path])
    inner_blanks = sum(
        1 for i, k in enumerate(kinds, start=2) if k == "blank" and i < last_data_row
    )
    assert result.rows_read == result.accepted + result.rejected
    assert result.rows_read == expected_good + expected_bad
    assert (result.accepted, result.rejected) == (expected_good, expected_bad)
    assert result.blank_rows == inner_blanks
    for issue in result.issues:
        if issue.row is not None and issue.sheet == "Enterprises":
            assert 1 <= issue.row <= last_data_row
        if issue.cell is not None:
            assert issue.cell[0] in letters.values()
