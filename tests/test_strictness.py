"""Regressions: the standard is applied as written, not as Python happens to be lenient."""

from __future__ import annotations

import cattrs
import pytest

from mectk.converter import make_converter
from mectk.models import Enterprise
from mectk.schemas import load_schema, validator

GOOD = {
    "enterprise_id": "WCC-0042",
    "programme_id": "P1",
    "trading_name": "Tea",
    "legal_form": "other",
    "independent": True,
    "status": "enquiry",
    "status_date": "2025-04-01",
    "origin": "new",
    "first_contact_date": "2025-04-01",
    "cqc_status": "unknown",
    "locality_id": "L1",
}


@pytest.mark.parametrize("field", ["base_postcode", "enterprise_id", "company_number"])
def test_patterns_anchor_at_the_very_end_of_the_text(field):
    value = {"base_postcode": "WR5 2NP", "enterprise_id": "WCC-0042", "company_number": "08123456"}[
        field
    ]
    assert not list(validator("enterprise").iter_errors({**GOOD, field: value}))
    errors = list(validator("enterprise").iter_errors({**GOOD, field: value + "\n"}))
    assert [e.validator for e in errors] == ["pattern"]


@pytest.mark.parametrize("text", ["20250401", "2025-W14-2", "2025-04-01T00:00:00"])
def test_converter_takes_dates_only_as_yyyy_mm_dd(text):
    with pytest.raises(cattrs.ClassValidationError) as raised:
        make_converter().structure({**GOOD, "status_date": text}, Enterprise)
    assert "YYYY-MM-DD" in str(raised.value.exceptions[0])


def test_date_time_format_is_checked():
    from mectk.schemas import StrictValidator

    schema = {"type": "string", "format": "date-time"}
    check = StrictValidator(schema, format_checker=StrictValidator.FORMAT_CHECKER)
    assert check.is_valid("2025-04-01T10:30:00+01:00")
    assert not check.is_valid("yesterday")
    assert load_schema("manifest")["properties"]["created"]["$ref"].endswith("/datetime")
