"""Bundled sample data for ``mectk demo``: a small fictional programme, written by code.

Names, places and numbers are invented. A few deliberate mistakes are planted so that
the demo shows what validation reports; :data:`PLANTED_ISSUES` lists them. The built-in
plugins contribute these files to the demo through ``mectk_register_samples``
(:func:`write_canonical_sample`, :func:`write_tracker_sample`), as any plugin would.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from mectk.atomic import atomic_output
from mectk.sources import ReadOptions
from mectk.specs import SampleFile
from mectk.template import Rows, write_workbook

D = datetime.date
PROGRAMME_ID = "CS-CME"

PLANTED_ISSUES: tuple[tuple[str, str], ...] = (
    ("format-invalid", "an enterprise postcode that is not a UK postcode"),
    ("value-required", "an enterprise with no trading name"),
    ("date-invalid", "a support episode dated 31/02/2025"),
    ("code-unmapped", "a service that is not in the code list"),
    ("id-duplicate", "a support episode id used twice"),
)
"""(issue code, what was planted) for each deliberate mistake in the sample workbook."""

_SERVICES = (
    ["home_help_domestic", "shopping_errands"],
    ["personal_care"],
    ["companionship_social", "trips_out_transport"],
    ["day_activities", "creative_arts_leisure"],
    ["meals_cooking"],
    ["gardening_home_maintenance"],
)
_LOCALITIES = ("L-NORTH", "L-SOUTH", "L-VALE")
_POSTCODES = ("WR5 2NP", "WR9 8DA", "WR11 4RW", "WR14 1AB", "WR10 1PT", "WR12 7AA")


def _enterprise(n: int) -> dict[str, Any]:
    new = n % 3 != 0
    status = "trading" if n % 5 else "developing"
    record: dict[str, Any] = {
        "enterprise_id": f"CS-{n:04d}",
        "programme_id": PROGRAMME_ID,
        "trading_name": f"Sample Enterprise {n}",
        "legal_form": "sole_trader" if n % 4 else "cic",
        "independent": True,
        "status": status,
        "status_date": D(2025, 4, 1) + datetime.timedelta(days=9 * n),
        "origin": "new" if new else "established",
        "first_contact_date": D(2025, 1, 6) + datetime.timedelta(days=7 * n),
        "services": _SERVICES[n % len(_SERVICES)],
        "cqc_status": "not_required_no_regulated_activity",
        "locality_id": _LOCALITIES[n % 3],
        "base_postcode": _POSTCODES[n % len(_POSTCODES)],
        "paid_workers": 1 + n % 3,
        "unpaid_workers": n % 2,
        "price_amount_gbp": 18 + n % 5,
        "price_unit": "per_hour",
        "accepts_direct_payments": n % 2 == 0,
        "lead_email": f"owner{n}@example.org",
    }
    if "personal_care" in record["services"]:
        record["cqc_status"] = "exempt_direct_arrangement"
    if record["legal_form"] == "cic":
        record["company_number"] = f"{12000000 + n}"
    if status == "trading":
        launch = D(2025, 5, 1) + datetime.timedelta(days=10 * n)
        record["launch_date"] = launch if new else D(2019, 6, 1)
        record["launch_date_estimated"] = not new
    return record


def sample_rows() -> Rows:
    """The sample programme's records, by kind, with the planted mistakes."""
    enterprises = [_enterprise(n) for n in range(1, 13)]
    episodes = []
    for n, enterprise in enumerate(enterprises, start=1):
        episodes.append(
            {
                "episode_id": f"EP-{n:04d}",
                "programme_id": PROGRAMME_ID,
                "enterprise_id": enterprise["enterprise_id"],
                "coordinator_id": "CC-AB" if n % 2 else "CC-JG",
                "episode_date": D(2025, 4, 2) + datetime.timedelta(days=6 * n),
                "support_type": "one_to_one_advice",
                "mode": "in_person",
                "topics": ["business_planning", "pricing"],
                "duration_minutes": 60,
            }
        )
    outcomes = []
    trading = [e for e in enterprises if e["status"] == "trading"]
    for n, enterprise in enumerate(trading[:8], start=1):
        outcomes.append(
            {
                "outcome_id": f"OC-{n:04d}",
                "programme_id": PROGRAMME_ID,
                "enterprise_id": enterprise["enterprise_id"],
                "outcome_type": "hours_per_week",
                "value": 6 + 2 * n,
                "as_at_date": D(2025, 9, 30),
                "evidence_source": "enterprise_self_report",
            }
        )
    # the planted mistakes; records that point at a rejected enterprise are left out, so
    # that the demo shows each mistake once rather than its knock-on effects
    planted = {"CS-0003", "CS-0006"}
    episodes = [e for e in episodes if e["enterprise_id"] not in planted]
    outcomes = [o for o in outcomes if o["enterprise_id"] not in planted]
    enterprises[2]["base_postcode"] = "QA1 1AA"  # format-invalid
    del enterprises[5]["trading_name"]  # value-required
    enterprises[7]["services"] = ["Dog walking", "cleaning"]  # code-unmapped (warning)
    episodes.append(
        {
            **episodes[0],
            "episode_id": "EP-0100",
            "support_type": "networking_event",
            "mode": "group_in_person",
            "event_id": "EV-01",
            "episode_date": D(2025, 6, 12),
        }
    )
    episodes.append(
        {**episodes[1], "episode_id": "EP-0100", "duration_minutes": 45}
    )  # id-duplicate
    episodes[3]["episode_date"] = "31/02/2025"  # date-invalid
    return {
        "programme": [
            {
                "programme_id": PROGRAMME_ID,
                "council.council_id": "E10000099",
                "council.gss_code": "E10000099",
                "council.name": "Countyshire County Council",
                "council.tier": "county",
                "delivery_org_name": "Sample Delivery CIC",
                "start_date": D(2025, 4, 1),
                "micro_cap_basis": "headcount_paid_and_unpaid",
            }
        ],
        "locality": [
            {"locality_id": "L-NORTH", "name": "North District", "locality_type": "custom"},
            {"locality_id": "L-SOUTH", "name": "South District", "locality_type": "custom"},
            {
                "locality_id": "L-VALE",
                "name": "The Vale",
                "locality_type": "custom",
                "aliases": ["Vale"],
            },
        ],
        "coordinator": [
            {
                "coordinator_id": "CC-AB",
                "display_name": "A. Sample",
                "role": "catalyst_coordinator",
                "employer": "Sample Delivery CIC",
                "fte": 1,
                "start_date": D(2025, 4, 1),
            },
            {
                "coordinator_id": "CC-JG",
                "display_name": "J. Example",
                "role": "catalyst_coordinator",
                "employer": "Sample Delivery CIC",
                "fte": 0.6,
                "start_date": D(2025, 4, 1),
            },
        ],
        "target": [
            {
                "target_id": "T-KPI1",
                "measure": "KPI1",
                "financial_year": "2025-26",
                "annual_target": 10,
                "polarity": "higher_is_better",
            },
        ],
        "enterprise": enterprises,
        "support_episode": episodes,
        "support_event": [
            {
                "event_id": "EV-01",
                "programme_id": PROGRAMME_ID,
                "coordinator_id": "CC-AB",
                "event_date": D(2025, 6, 12),
                "event_type": "networking_event",
                "title": "Summer networking",
                "locality_id": "L-VALE",
                "attendees_total": 14,
            },
        ],
        "outcome": outcomes,
        "spend_line": [
            {
                "spend_id": "SP-01",
                "programme_id": PROGRAMME_ID,
                "council_id": "E10000099",
                "financial_year": "2025-26",
                "quarter": 1,
                "supplier_size": "micro",
                "spend_category": "home_care",
                "route": "direct",
                "amount_gbp": "1250.50",
            },
        ],
    }


SAMPLE_WORKBOOK = "sample-canonical.xlsx"
BLANK_TEMPLATE = "template.xlsx"
TRACKER_WORKBOOK = "sample-council-tracker.xlsx"
TRACKER_FORMAT = "sample-county-tracker"
"""The format of the bundled tracker mapping, ``mectk/samples/county-tracker.toml``."""
TRACKER_AS_AT = D(2025, 6, 30)
"""The date the tracker's undated snapshot columns (hours, direct-payment clients) describe."""


def write_canonical_sample(folder: Path) -> list[SampleFile]:
    """Write the sample canonical workbook and a blank template into ``folder``.

    Returns the sample workbook to import; the template is written beside it for people
    to start from, not imported.
    """
    sample = folder / SAMPLE_WORKBOOK
    write_workbook(sample, sample_rows())
    write_workbook(folder / BLANK_TEMPLATE)
    return [SampleFile(path=sample, format="canonical", planted=PLANTED_ISSUES)]


def write_tracker_sample(folder: Path) -> list[SampleFile]:
    """Write the sample council tracker into ``folder``, to be read by its mapping file."""
    tracker = folder / TRACKER_WORKBOOK
    write_council_tracker(tracker)
    return [
        SampleFile(
            path=tracker,
            format=TRACKER_FORMAT,
            options=ReadOptions(as_at=TRACKER_AS_AT),
            planted=TRACKER_PLANTED,
        )
    ]


TRACKER_HEADINGS = (
    "Ref No",
    "Name of Enterprise",
    "Postcode",
    "District",
    "Date of first contact",
    "New or Existing",
    "Status",
    "Status since",
    "Date started trading",
    "Services offered",
    "DBS seen?",
    "Approx hrs per wk",
    "DP clients",
    "Comments",
)
TRACKER_PLANTED: tuple[tuple[str, str], ...] = (
    ("date-invalid", "a date of first contact typed as 31/02/2025"),
    ("code-unknown", "'New or Existing' answered 'Maybe'"),
    ("date-estimated", "a first contact given as a month only"),
    ("row-skipped", "the TOTAL row under the data"),
    ("rows-hidden", "a row hidden in Excel"),
)
"""(issue code, what was planted) in the sample council tracker."""


def write_council_tracker(path: Path) -> None:
    """A council's own tracker layout, as kept by hand: a banner and notes row above the
    header on row 4, text and real dates, Y/N, district names, comma-separated services,
    a hidden row, blank rows and a TOTAL row, with the mistakes in ``TRACKER_PLANTED``.
    """
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Tracker"
    sheet["A1"] = "Community Micro-enterprise Project - Enterprise Tracker"
    sheet.merge_cells("A1:N1")
    sheet["A2"] = "Please enter dates as DD/MM/YYYY. Y = Yes, N = No, blank if not known."
    for column, heading in enumerate(TRACKER_HEADINGS, start=1):
        sheet.cell(row=4, column=column, value=heading)
    districts = ("North District", "South District", "Vale")
    rows = []
    for n in range(1, 11):
        rows.append(
            [
                f"CT-{n:03d}",
                f"Tracker Enterprise {n}",
                _POSTCODES[n % len(_POSTCODES)],
                districts[n % 3],
                f"{n}/3/2025" if n % 2 else D(2025, 3, n),
                "New" if n % 3 else "Exist.",
                "Y",
                D(2025, 4, 1),
                D(2025, 4, 1) if n % 3 else D(2018, 5, 1),
                "Cleaning, shopping / companionship" if n % 2 else "Day club",
                "Y" if n % 2 else None,
                5 + n,
                n % 4,
                "",
            ]
        )
    rows[2][4] = "31/02/2025"
    rows[4][5] = "Maybe"
    rows[6][4] = "March 2025"
    for offset, values in enumerate(rows, start=5):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=offset, column=column, value=value)
    sheet.row_dimensions[8].hidden = True
    total = 5 + len(rows) + 2
    sheet.cell(row=total, column=1, value="TOTAL")
    sheet.cell(row=total, column=12, value=f"=SUM(L5:L{total - 1})")
    with atomic_output(path) as temporary:
        workbook.save(temporary)
