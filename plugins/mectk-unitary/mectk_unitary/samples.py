"""Sample files for ``mectk demo``: a fictional unitary council's programme, by code.

Contract: :func:`write_samples` writes, the same on every run, the programme settings
(a canonical workbook with localities, co-ordinators and KPI targets for 2025-26) and the
council's ``Micro-provider Register and Activity`` workbooks for Q1 and Q2 of 2025-26,
with every quirk of domain.md 4.5 (merged two-row headers, Excel serial dates stored as
General, datetimes with a time part, TRUE/FALSE and Yes/No, company numbers that lost
their leading zero, ``N/A`` charity numbers, former-district areas, hidden rows, a
Closures sheet) and the mistakes listed in :data:`Q1_PLANTED` and :data:`Q2_PLANTED`.
Names, places and figures are invented.

:func:`register_workbook` writes one such workbook from rows, for tests.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from mectk import SampleFile, write_canonical_workbook
from mectk.reportkit import save

D = datetime.date
DT = datetime.datetime
PROGRAMME_ID = "UC-CME"
EPOCH = D(1899, 12, 30)

GROUPS = (("Provider details", 9), ("Compliance", 6), ("Workforce", 3), ("Quarter snapshot", 5))
PROVIDER_HEADINGS = (
    "Provider ID", "Trading Name", "Legal Status", "Companies House No", "Charity No",
    "Base Postcode", "Area", "Registered On", "Trading Since",
    "Accreditation Status", "Accredited Date", "DBS Seen", "PLI Expiry", "CQC Registered",
    "CQC Provider ID",
    "Paid", "Unpaid", "FTE",
    "Hours/Week", "Clients/Week", "Clients on DP", "Self-funding clients", "Snapshot Date",
)  # fmt: skip
CONTACT_HEADINGS = ("Contact ID", "Provider ID", "Officer", "Contact Date", "Contact Type",
                    "Method", "Minutes", "Topic(s)", "Signposted To")  # fmt: skip
EVENT_HEADINGS = ("Event Date", "Event", "Venue Area", "Attendees (providers)",
                  "Attendees (other)")  # fmt: skip
CLOSURE_HEADINGS = ("Provider ID", "Date Ceased", "Reason")

Q1_PLANTED: tuple[tuple[str, str], ...] = (
    ("format-invalid", "provider MP-00110's base postcode QA1 1AA is not a UK postcode"),
    ("date-invalid", "contact C-0008 is dated 31/02/2025"),
    ("code-unknown", "contact C-0009's method 'Pigeon' is not a contact method"),
)
"""(issue code, what) for each mistake planted in the Q1 workbook."""
Q2_PLANTED: tuple[tuple[str, str], ...] = (
    ("reference-missing", "the July network meeting lists provider MP-00999, not on the register"),
    ("update-target-missing", "the Closures sheet closes MP-00888, not on the Providers sheet"),
    (
        "value-conditionally-required",
        "provider MP-00111 is CQC registered but has no CQC Provider ID",
    ),
)
"""(issue code, what) for each mistake planted in the Q2 workbook."""

AREAS = ("West Somerset", "Sedgemoor", "Taunton Deane", "Mendip", "South Somerset")
LOCALITIES = (
    ("UC-WSOM", "West Somerset"),
    ("UC-SEDG", "Sedgemoor"),
    ("UC-TAUN", "Taunton Deane"),
    ("UC-MEND", "Mendip"),
    ("UC-SSOM", "South Somerset"),
)
TARGETS = (("KPI1", 10), ("KPI2", 12), ("KPI3", 380), ("KPI4", 190), ("KPI5", 90),
           ("KPI7", 90), ("KPI9", 40))  # fmt: skip
"""2025-26 annual targets (KPI5 and KPI7 in per cent; KPI6 and KPI8 have none)."""
FILLERS = range(201, 225)
"""Providers MP-00201..MP-00224: alike, so totals are easy to work out by hand;
MP-00201..MP-00206 were trading before they registered (established)."""


def serial(day: datetime.date) -> int:
    """The Excel serial number of ``day`` (1900 system), as a General cell stores it."""
    return (day - EPOCH).days


def programme_rows() -> dict[str, list[dict[str, Any]]]:
    """The programme settings: council, localities, co-ordinators, 2025-26 targets."""
    return {
        "programme": [
            {
                "programme_id": PROGRAMME_ID,
                "council.council_id": "E06000099",
                "council.gss_code": "E06000099",
                "council.name": "Unitaryshire Council",
                "council.tier": "unitary",
                "delivery_org_name": "Unitaryshire Community Catalysts",
                "start_date": D(2024, 1, 1),
                "micro_cap_basis": "headcount_paid_and_unpaid",
                "suppression_threshold": 5,
                "suppression_marker": "*",
            }
        ],
        "locality": [
            {"locality_id": ident, "name": name, "locality_type": "former_district"}
            for ident, name in LOCALITIES
        ],
        "coordinator": [
            {
                "coordinator_id": ident,
                "display_name": name,
                "role": "council_officer",
                "employer": "Unitaryshire Council",
                "start_date": D(2024, 1, 1),
            }
            for ident, name in (
                ("UC-JG", "Officer JG"),
                ("UC-AP", "Officer AP"),
                ("UC-TEAM", "Programme team"),
            )
        ],
        "target": [
            {
                "target_id": f"T-{ref}-2025-26",
                "measure": ref,
                "financial_year": "2025-26",
                "annual_target": amount,
                "polarity": "higher_is_better",
            }
            for ref, amount in TARGETS
        ],
    }


def _provider(
    ident: int,
    name: str,
    legal: str,
    area: str,
    registered: Any,
    trading: Any,
    accreditation: tuple[str | None, Any] = (None, None),
    *,
    company: Any = None,
    charity: Any = "N/A",
    postcode: str = "TA1 4DY",
    cqc: tuple[bool, str | None] = (False, None),
    workers: tuple[int, int, float] = (1, 0, 1.0),
    snapshot: tuple[Any, ...] = (None, None, None, None, None),
) -> list[Any]:
    return [
        f"MP-{ident:05d}", name, legal, company, charity, postcode, area,
        registered, trading, accreditation[0], accreditation[1], "Yes",
        serial(D(2026, 3, 31)), cqc[0], cqc[1], *workers, *snapshot,
    ]  # fmt: skip


def providers(quarter: int) -> list[list[Any]]:
    """The Providers rows of the Q1 or Q2 workbook (the whole register, as at its end)."""
    q1 = quarter == 1
    at = serial(D(2025, 6, 30) if q1 else D(2025, 9, 30))
    rows = [
        _provider(101, "Village Helpers", "Sole Trader", "West Somerset", serial(D(2025, 1, 10)),
                  serial(D(2025, 4, 14)), ("Accredited", serial(D(2025, 6, 1))),
                  snapshot=(12, 5, 2, 3, at) if q1 else (14, 6, 2, 4, at)),
        _provider(102, "Somerset Suppers Ltd", "Ltd", "Sedgemoor", serial(D(2024, 11, 1)),
                  serial(D(2024, 12, 1)), ("Accredited", serial(D(2025, 2, 1))),
                  company=8123456, workers=(2, 0, 1.5),
                  snapshot=(20, 10, 4, 6, at) if q1 else (None, None, None, None, at)),
        _provider(103, "Quantock Companions CIC", "CIC", "Taunton Deane",
                  serial(D(2025, 3, 3)), serial(D(2019, 6, 1)), ("Pending", None),
                  company="11223344", cqc=(True, "1-123456789"), workers=(3, 1, 2.5),
                  snapshot=(30, 12, 5, 7, at) if q1 else (32, 13, 5, 8, at)),
        _provider(104, "Exmoor Garden Friends", "Group", "W Somerset",
                  DT(2025, 5, 20, 10, 45), None, ("Pending", None)),
        _provider(105, "Levels Lunch Club", "Charity", "Sedgemoor", serial(D(2024, 2, 1)),
                  serial(D(2024, 4, 15)), ("Accredited", serial(D(2024, 10, 1))),
                  charity=1089464, workers=(2, 3, 1.2),
                  snapshot=(15, 20, 3, 10, at) if q1 else (15, 22, 4, 12, at)),
        _provider(106, "Mendip Minders", "Partnership", "Mendip", serial(D(2024, 5, 1)),
                  serial(D(2024, 6, 10)), ("Lapsed", serial(D(2024, 8, 1))),
                  workers=(2, 0, 2.0),
                  snapshot=(8, 4, 1, 3, at) if q1 else (None, None, None, None, None)),
        _provider(107, "Wells Wellbeing Walks", "Sole Trader", "Mendip", serial(D(2025, 6, 2)),
                  DT(2025, 6, 20, 9, 30),
                  snapshot=(4, 6, 0, 6, at) if q1 else (6, 7, 1, 6, at)),
        _provider(108, "Chard Cleaners", "Sole Trader", "South Somerset",
                  serial(D(2024, 1, 15)), serial(D(2023, 10, 1)), ("Pending", None),
                  snapshot=(10, 7, 2, 5, at)),
        _provider(109, "Yeovil Tea Dance", "Group", "South Somerset", serial(D(2025, 4, 22)),
                  None if q1 else serial(D(2025, 7, 5)),
                  (None, None) if q1 else ("Accredited", serial(D(2025, 9, 10))),
                  snapshot=(None,) * 5 if q1 else (5, 9, 0, 9, at)),
        _provider(110, "Bridgwater Bakes Ltd", "Ltd", "Sedgemoor", serial(D(2025, 2, 1)),
                  serial(D(2025, 3, 1)), company=9876543,
                  postcode="QA1 1AA" if q1 else "TA6 3AB"),
    ]  # fmt: skip
    if not q1:
        rows.append(
            _provider(111, "Taunton Care Ltd", "Ltd", "Taunton", serial(D(2025, 8, 1)), None,
                      company="07654321", cqc=(True, None))
        )  # fmt: skip
    for n in FILLERS:
        established = n <= 206
        rows.append(
            _provider(n, f"Provider {n}", "Sole Trader", AREAS[n % len(AREAS)],
                      serial(D(2024, 3, 1)),
                      serial(D(2018, 5, 1) if established else D(2024, 5, 1)),
                      ("Accredited", serial(D(2024, 9, 1))),
                      snapshot=(10 if q1 else 11, 5, 1, 4, at))
        )  # fmt: skip
    return rows


def contacts(quarter: int) -> list[list[Any]]:
    """The Contacts rows of the quarter's workbook."""
    if quarter == 1:
        return [
            ["C-0001", "MP-00101", "UC-JG", serial(D(2025, 4, 3)), "Enquiry", "Tel", 20,
             "Idea; Pricing", None],
            ["C-0002", "MP-00101", "UC-JG", DT(2025, 4, 20, 14, 5), "1:1", "F2F", 90,
             "Business plan;Insurance;DBS", None],
            ["C-0003", "MP-00103", "UC-AP", serial(D(2025, 5, 12)), "1:1", "Teams", 60,
             "CQC; Policies", None],
            ["C-0004", "MP-00107", "UC-AP", serial(D(2025, 6, 5)), "Signpost", "Email", 15,
             "Marketing", "Growth Hub"],
            ["C-0005", "MP-00207", "UC-JG", serial(D(2025, 5, 2)), "1:1", "F2F", 45,
             "Pricing", None],
            ["C-0006", "MP-00201", "UC-JG", serial(D(2025, 5, 9)), "Signpost", "Tel", 30,
             "DPs", "DP Team"],
            ["C-0007", "MP-00202", "UC-AP", serial(D(2025, 6, 11)), "Intensive", "F2F", 120,
             "Accreditation; Safeguarding", None],
            ["C-0008", "MP-00105", "UC-AP", "31/02/2025", "1:1", "F2F", 60, "Funding", None],
            ["C-0009", "MP-00102", "UC-JG", serial(D(2025, 6, 18)), "1:1", "Pigeon", 30,
             "Tax", None],
            ["C-0010", "MP-00203", "UC-JG", serial(D(2025, 6, 26)), "1:1", "Tel", 40,
             "Volunteers", None],
        ]  # fmt: skip
    rows = [
        ["C-0101", "MP-00103", "UC-AP", serial(D(2025, 7, 8)), "1:1", "F2F", 60,
         "Volunteers", None],
        ["C-0102", "MP-00109", "UC-JG", DT(2025, 7, 2, 11, 0), "Intensive", "F2F", 180,
         "Business plan; Pricing", None],
        ["C-0103", "MP-00101", "UC-JG", serial(D(2025, 9, 12)), "Enquiry", "Email", 10,
         "Funding", None],
    ]  # fmt: skip
    for offset, n in enumerate(range(201, 207)):
        when = serial(D(2025, 8, 4 + offset))
        rows.append(
            [f"C-{111 + offset:04d}", f"MP-{n:05d}", "UC-AP", when, "1:1", "Tel", 30,
             "Peer support", None]
        )  # fmt: skip
    return rows


def events(quarter: int) -> list[list[Any]]:
    """The Events rows of the quarter's workbook."""
    if quarter == 1:
        return [
            [serial(D(2025, 5, 14)), "Network meeting", "Sedgemoor",
             "MP-00101; MP-00102;MP-00105", 4],
            [serial(D(2025, 6, 25)), "Start-up surgery", "Taunton", "MP-00107", 2],
        ]  # fmt: skip
    return [
        [serial(D(2025, 7, 16)), "Network meeting", "Mendip", "MP-00108; MP-00101; MP-00999", 3],
        [DT(2025, 9, 3, 18, 30), "Training", "West Somerset", "MP-00109;MP-00110", 0],
    ]


def closures(quarter: int) -> list[list[Any]]:
    """The Closures rows of the quarter's workbook (empty in Q1)."""
    if quarter == 1:
        return []
    return [
        ["MP-00106", serial(D(2025, 8, 15)), "Retired"],
        ["MP-00888", serial(D(2025, 9, 1)), "Moved away"],
    ]


HIDDEN: Mapping[int, Mapping[str, tuple[int, ...]]] = {
    1: {"Providers": (9,), "Contacts": (10,)},  # MP-00107; C-0009
    2: {"Providers": (9, 20)},  # MP-00107; MP-00207
}
"""Worksheet rows hidden in Excel, by quarter and sheet."""


def register_workbook(
    path: Path,
    provider_rows: Sequence[Sequence[Any]],
    contact_rows: Sequence[Sequence[Any]] = (),
    event_rows: Sequence[Sequence[Any]] = (),
    closure_rows: Sequence[Sequence[Any]] = (),
    hidden: Mapping[str, Sequence[int]] | None = None,
) -> Path:
    """Write a ``Micro-provider Register and Activity`` workbook as the council keeps it."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Providers"
    column = 1
    for text, span in GROUPS:
        sheet.cell(row=1, column=column, value=text)
        sheet.merge_cells(start_row=1, start_column=column, end_row=1, end_column=column + span - 1)
        column += span
    _table(sheet, 2, PROVIDER_HEADINGS, provider_rows)
    for title, heads, rows in (
        ("Contacts", CONTACT_HEADINGS, contact_rows),
        ("Events", EVENT_HEADINGS, event_rows),
        ("Closures", CLOSURE_HEADINGS, closure_rows),
    ):
        _table(workbook.create_sheet(title), 1, heads, rows)
    for title, numbers in (hidden or {}).items():
        for number in numbers:
            workbook[title].row_dimensions[number].hidden = True
    save(workbook, path)
    return path


def _table(
    sheet: Any, header_row: int, heads: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    for column, text in enumerate(heads, start=1):
        sheet.cell(row=header_row, column=column, value=text)
    for number, values in enumerate(rows, start=header_row + 1):
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=number, column=column, value=value)
            if isinstance(value, datetime.datetime):
                cell.number_format = "dd/mm/yyyy hh:mm"  # a datetime with its time shown


def write_quarter(folder: Path, quarter: int) -> Path:
    """The council's workbook for 2025-26 Q1 or Q2."""
    return register_workbook(
        folder / f"Micro-provider Register and Activity Q{quarter}.xlsx",
        providers(quarter),
        contacts(quarter),
        events(quarter),
        closures(quarter),
        HIDDEN[quarter],
    )


def write_samples(folder: Path) -> list[SampleFile]:
    """Programme settings, then the Q1 and Q2 workbooks, in the order they are imported."""
    settings = folder / "unitary-programme-settings.xlsx"
    write_canonical_workbook(settings, programme_rows())
    return [
        SampleFile(path=settings, format="canonical"),
        SampleFile(path=write_quarter(folder, 1), planted=Q1_PLANTED),
        SampleFile(path=write_quarter(folder, 2), planted=Q2_PLANTED),
    ]
