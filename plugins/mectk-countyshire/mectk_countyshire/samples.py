"""Countyshire's sample data for ``mectk demo``: programme settings and two quarterly trackers.

Contract: :func:`write_samples` writes, deterministically, the programme settings (a
canonical workbook) and the trackers for Q1 and Q2 of 2025-26, and returns them in import
order. The trackers carry every quirk of domain.md 4.4 and a handful of real mistakes;
:data:`Q1_PLANTED` and :data:`Q2_PLANTED` list what each shows. Q2 is Q1 a quarter later
(one launch, one closure, new enquiries, changed figures), so ``mectk diff`` between the
two batches has something to say. Names, people and numbers are invented.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mectk import SampleFile, write_canonical_workbook
from mectk_countyshire.programme import settings_rows
from mectk_countyshire.workbook import write_tracker

D = datetime.date
SETTINGS_FILE = "Countyshire programme settings.xlsx"
Q1_FILE = "CME Tracker 2025-26 Q1.xlsx"
Q2_FILE = "CME Tracker 2025-26 Q2.xlsx"

QUIRKS: tuple[tuple[str, str], ...] = (
    ("row-skipped", "quirk: the TOTAL row of SUM formulas under the data (counted as skipped)"),
    ("date-estimated", "quirk: a first contact typed 'April 2025' (first of the month, estimated)"),
    ("county-service-other", "quirk: 'Dog walking' among the services, recorded as Other"),
    ("field-not-in-source", "quirk: CQC registered and Doing It Right with no id or date column"),
)
Q1_PLANTED: tuple[tuple[str, str], ...] = (
    *QUIRKS,
    ("date-invalid", "error: a first contact typed 31/02/2025"),
    ("format-invalid", "error: District 'Pershore', a town, not one of the districts"),
)
Q2_PLANTED: tuple[tuple[str, str], ...] = (
    *QUIRKS,
    ("value-conditionally-required", "error: Still trading? N with no Date closed"),
    ("value-required", "error: Still trading? left blank for an enterprise that had launched"),
    ("funding-exceeds-total", "error: DP clients and Self funders add up to more than supported"),
)

# (name, contact, postcode, district as typed, services as typed, personal care, staff)
PEOPLE = (
    ("Bright Days Club", "Ann Example", "WR10 1PT", "Wychavon", "Day club", "N", 2),
    (
        "Helping Hands Worcester",
        "Bob Sample",
        "WR5 2NP",
        "Worcester",
        "Cleaning, shopping / companionship",
        "N",
        1,
    ),
    ("Jo's Home Help", "Jo Placeholder", "WR14 1AB", "Malvern", "Personal care / cleaning", "Y", 1),
    ("Garden Friends", "Cal Fictional", "DY10 3AA", "Wyre Forest", "Gardening", "N", 1),
    (
        "Teme Valley Sitters",
        "Dee Invented",
        "WR13 6AA",
        "Malvern Hills",
        "Sitting, companionship",
        "N",
        3,
    ),
    ("Redditch Meals on Foot", "Ed Madeup", "B97 4AA", "Redditch", "Meals, shopping", "N", 2),
    ("Bromsgrove Art Cafe", "Flo Notreal", "B60 1AA", "Bromsgrove", "Creative activities", "N", 1),
    (
        "Evesham Carers Circle",
        "Gus Pretend",
        "WR11 4RW",
        "Wychavon",
        "Carer support; respite",
        "N",
        4,
    ),
    ("Kiddy Walks", "Hal Example", "DY11 6AA", "Wyre Forrest", "Trips out / Dog walking", "N", 1),
    ("Droitwich Companions", "Ivy Sample", "WR9 8DA", "Wychavon", "Companionship", "N", 1),
    (
        "Worcester Wellbeing",
        "Jay Fictional",
        "WR1 2AA",
        "Worcester",
        "Health, fitness and wellbeing",
        "N",
        2,
    ),
    (
        "Malvern Memory Cafe",
        "Kit Invented",
        "WR14 3AA",
        "Malvern Hills",
        "Dementia support",
        "N",
        3,
    ),
    ("Hands On Care", "Lee Madeup", "B98 7AA", "Redditch", "Personal care", "Y", 5),
    ("Stourport Shopping Help", "Mo Notreal", "DY13 8AA", "Wyre Forest", "Shopping", "N", 1),
    ("County Cooking Club", "Nat Pretend", "WR2 5AA", "Countywide", "Cooking, life skills", "N", 2),
    ("Pershore Pals", "Oz Example", "WR10 2AA", "Wychavon", "Befriending", "N", 1),
)


MORE = 14
"""Further enterprises, written alike, so that some districts pass the suppression threshold."""
MORE_DISTRICTS = (
    ("Wychavon", "WR10"),
    ("Worcester", "WR3"),
    ("Wyre Forest", "DY10"),
    ("Malvern Hills", "WR14"),
    ("Redditch", "B98"),
)


def _person(n: int) -> tuple[str, str, str, str, str, str, int]:
    if n <= len(PEOPLE):
        return PEOPLE[n - 1]
    district, outward = MORE_DISTRICTS[n % len(MORE_DISTRICTS)]
    services = ("Shopping, companionship", "Gardening / DIY", "Cleaning", "Sitting")[n % 4]
    return (f"Community Helpers {n}", f"Pat Example{n}", f"{outward} {n % 9}AB", district,
            services, "N", 1 + n % 2)  # fmt: skip


def _enterprise(n: int) -> dict[str, Any]:
    """Enterprise ``n`` (1-based) as it stands in Q1 (as at 30/06/2025)."""
    name, contact, postcode, district, services, care, staff = _person(n)
    new = n % 4 != 0
    k = (n - 1) % 14 + 1  # dates from May 2024 to April 2025, whatever n is
    first_contact = D(2024, 5, 6) + datetime.timedelta(days=23 * k)
    launched = D(2024, 9, 2) + datetime.timedelta(days=17 * k) if new else D(2017 + n % 5, 3, 1)
    row: dict[str, Any] = {
        "Ref No": f"CCC-{n:04d}",
        "Name of Enterprise": name,
        "Contact Name": contact,
        "Tel": f"01905 {600000 + n:06d}",
        "Email": f"{contact.split()[0].lower()}@example.org",
        "Postcode": postcode,
        "District": district,
        "Date of first contact": first_contact,
        "New or Existing": "New" if new else "Existing",
        "Date started trading": launched,
        "Still trading?": "Y",
        "Services offered": services,
        "Personal Care?": care,
        "CQC Reg?": "N",
        "Doing It Right signed": "Y" if n % 3 == 0 else "N",
        "No. of staff (inc. owner)": staff,
        "No. of volunteers": n % 3,
        "Approx hrs per wk": 6 + 3 * k,
        "No. of people supported": 4 + k,
        "DP clients": 1 + n % 3,
        "Self funders": 2 + n % 2,
    }
    return row


def q1_rows() -> list[dict[str, Any] | None]:
    """The Q1 tracker's rows (None is a blank row), quirks and Q1's mistakes in place."""
    rows: list[dict[str, Any]] = [_enterprise(n) for n in range(1, 15)]
    rows += [_enterprise(n) for n in range(17, 17 + MORE)]
    for row, form in ((rows[1], "{d.day}/{d.month}/{d:%y}"), (rows[2], "{d:%d.%m.%Y}")):
        row["Date of first contact"] = form.format(d=row["Date of first contact"])  # as text
    rows[3]["Date of first contact"] = "April 2025"  # month only: estimated
    rows[4]["New or Existing"] = "new"
    rows[5]["New or Existing"] = "Exist."
    rows[6]["Still trading?"] = "y"
    rows[12]["CQC Reg?"] = "Y"  # registered: the tracker has no CQC id column
    rows[12]["No. of staff (inc. owner)"] = 5
    # two enquiries not yet trading: Still trading? blank, no launch date
    for offset, row in enumerate(rows[9:11]):
        row["Still trading?"] = None
        row["Date started trading"] = None
        row["Date of first contact"] = D(2025, 5, 12) + datetime.timedelta(days=20 * offset)
        for heading in ("Approx hrs per wk", "No. of people supported", "DP clients"):
            row[heading] = None
        row["Self funders"] = None
    rows[0]["Date of first contact"] = "31/02/2025"  # mistake: no such date
    rows[7]["District"] = "Pershore"  # mistake: a town, not a district
    return [*rows[:8], None, *rows[8:]]


def q2_rows() -> list[dict[str, Any] | None]:
    """The Q2 tracker: Q1 a quarter later, Q1's mistakes corrected and new ones made."""
    rows: list[dict[str, Any]] = [r for r in q1_rows() if r is not None]
    rows[0]["Date of first contact"] = D(2024, 5, 29)  # corrected
    rows[7]["District"] = "Wychavon"  # corrected
    for row in rows:
        if row["Approx hrs per wk"] is not None:
            row["Approx hrs per wk"] += 2
    rows[9]["Date started trading"] = D(2025, 8, 4)  # launched in Q2
    rows[9]["Still trading?"] = "Y"
    rows[9]["Approx hrs per wk"], rows[9]["No. of people supported"] = 5, 3
    rows[4]["Still trading?"] = "N"  # closed in Q2
    rows[4]["Date closed"] = D(2025, 8, 29)
    rows[5]["Still trading?"] = "N"  # mistake: closed, but no Date closed
    rows[6]["Still trading?"] = None  # mistake: launched, so blank cannot be right
    rows[11]["DP clients"], rows[11]["Self funders"] = 9, 10  # mistake: 19 > 16 supported
    rows[2]["Doing It Right signed"] = "Y"
    for n in (15, 16):  # new enquiries in Q2
        row = _enterprise(n)
        row.update({"Still trading?": None, "Date started trading": None})
        row["Date of first contact"] = D(2025, 7, 7) + datetime.timedelta(days=20 * (n - 15))
        for heading in ("Approx hrs per wk", "No. of people supported", "DP clients"):
            row[heading] = None
        row["Self funders"] = None
        rows.append(row)
    return [*rows[:8], None, *rows[8:]]


def write_samples(folder: Path) -> Sequence[SampleFile]:
    """Write the programme settings and the Q1 and Q2 trackers into ``folder``."""
    settings = folder / SETTINGS_FILE
    write_canonical_workbook(settings, settings_rows())
    q1, q2 = folder / Q1_FILE, folder / Q2_FILE
    write_tracker(q1, q1_rows())
    write_tracker(q2, q2_rows())
    return [
        SampleFile(path=settings, format="canonical"),
        SampleFile(path=q1, planted=Q1_PLANTED),
        SampleFile(path=q2, planted=Q2_PLANTED),
    ]
