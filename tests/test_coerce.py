"""Cell coercion: what a spreadsheet cell becomes before schema validation."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from mectk.coerce import (
    CoercionFailed,
    split_multi,
    to_boolean,
    to_code,
    to_date,
    to_decimal,
    to_integer,
    to_text,
)
from mectk.schemas import field_map


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("01/04/2025", "2025-04-01"),
        ("1/4/25", "2025-04-01"),
        ("01.04.2025", "2025-04-01"),
        ("2025-04-01", "2025-04-01"),
        ("2025-04-01T00:00:00", "2025-04-01"),
        ("1-Apr-2025", "2025-04-01"),
        ("01 April 2025", "2025-04-01"),
        (45748, "2025-04-01"),
        (46112.0, "2026-03-31"),
        (datetime.datetime(2025, 4, 1, 10, 30), "2025-04-01"),
        (datetime.date(2025, 4, 1), "2025-04-01"),
        ("04/01/2025", "2025-01-04"),  # day first, never month first
    ],
)
def test_dates(raw, iso):
    assert to_date(raw) == iso


@pytest.mark.parametrize("raw", ["31/02/2025", "13/13/2025", "soon", "2025-02-30", True])
def test_bad_dates(raw):
    with pytest.raises(CoercionFailed) as failed:
        to_date(raw)
    assert failed.value.code == "date-invalid"


def test_numbers():
    assert to_integer(3.0) == 3
    assert to_integer("1,200") == 1200
    with pytest.raises(CoercionFailed, match="integer-invalid"):
        to_integer(2.5)
    with pytest.raises(CoercionFailed, match="number-invalid"):
        to_integer("three")
    assert to_decimal("£1,250.50") == Decimal("1250.50")
    assert to_decimal(0.1) == Decimal("0.1")
    with pytest.raises(CoercionFailed, match="number-invalid"):
        to_decimal("NaN")


@pytest.mark.parametrize("raw", ["Y", "yes", "TRUE", True, 1, "✓", "x"])
def test_true(raw):
    assert to_boolean(raw) is True


@pytest.mark.parametrize("raw", ["N", "No", "false", False, 0, "✗", "-"])
def test_false(raw):
    assert to_boolean(raw) is False


def test_boolean_rejects_other_words():
    with pytest.raises(CoercionFailed, match="boolean-invalid"):
        to_boolean("maybe")


def test_codes_match_code_label_and_alias_ignoring_case_and_spacing():
    assert to_code("Exist.", "origin") == "established"
    assert to_code("  LIVE ", "enterprise_status") == "trading"
    assert to_code("Sole\u00a0Trader", "legal_form") == "sole_trader"
    assert to_code("home_help_domestic", "service") == "home_help_domestic"
    with pytest.raises(CoercionFailed, match="code-unknown"):
        to_code("Dog walking", "service")


def test_normalisers():
    assert to_text("wr5  2np", "postcode") == "WR5 2NP"
    assert to_text(8123456.0, "company_number") == "08123456"
    assert to_text("NI100012", "charity_number") == "NIC100012"
    assert to_text("01905 123 456", "phone") == "01905123456"
    assert to_text("  Tea \u00a0 and  Co ", None) == "Tea and Co"


def test_multi_value_cells_split_on_separators_but_keep_labels_with_commas():
    services = field_map("enterprise")["services"]
    assert split_multi("Cleaning, shopping / companionship", services) == [
        "Cleaning",
        "shopping",
        "companionship",
    ]
    assert split_multi("Health, fitness and wellbeing; Cooking", services) == [
        "Health, fitness and wellbeing",
        "Cooking",
    ]


def test_huge_numbers_are_out_of_range_not_a_crash():
    for raw in ("1e40", 1e40, 10**40):
        with pytest.raises(CoercionFailed) as failed:
            to_decimal(raw)
        assert failed.value.code == "out-of-range"
