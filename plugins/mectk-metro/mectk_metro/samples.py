"""Sample files for ``mectk demo``: a fictional metropolitan borough, written by code.

Three files, imported in this order:

1. ``metro-programme-and-spend.xlsx``: a canonical workbook with the programme settings
   (comparator rate, SME target), spend lines for 2024-25 and 2025-26, and the annual
   survey's figures (people by funding route, jobs created, savings with their method);
2. ``cme_export_2024-25.csv``: the BI export for 2024-25 as CSV (UTF-8 with BOM, CRLF);
3. ``cme_export_2025-26.xlsx``: the BI export for 2025-26 (sheet Data, hidden Lookups).

Both exports carry every quirk of domain.md 4.6 (ISO dates with and without a time,
blank flags, blank months, quarterly contact counts, footnotes below a blank row) and a
few real mistakes, listed in each file's ``planted``. Names, codes and figures are
invented; the same inputs always give the same files.
"""

from __future__ import annotations

import calendar
import csv
import datetime
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mectk import SampleFile, write_canonical_workbook

D = datetime.date
PERIOD = "2025-26"
PROGRAMME_ID = "MB-CME"
COUNCIL = "E08000099"
WARDS = ("E05099001", "E05099002", "E05099003", "E05099004")
ORG_TYPES = ("Sole trader", "Sole trader", "CIC", "Community group", "Sole trader", "Charity")
FOOTNOTES = ("Source: Adults BI, extracted {extracted}", "Figures are provisional")
BASE_HEADINGS = (
    "org_ref",
    "org_name",
    "org_type",
    "ward_code",
    "ward_name",
    "la_code",
    "first_engaged",
    "go_live",
    "status",
    "closed_on",
    "personal_care_flag",
    "cqc_flag",
    "dir_flag",
    "staff_hc",
    "vol_hc",
)
CONTACT_HEADINGS = tuple(f"support_contacts_q{q}" for q in (1, 2, 3, 4))
XLSX_PLANTED: tuple[tuple[str, str], ...] = (
    ("format-invalid", "a ward code with a digit missing (MB-0005)"),
    ("area-code-invalid", "a district (E07) code as the local authority (MB-0007)"),
    ("date-invalid", "a go-live date of 2025-02-30 (MB-0008)"),
    ("out-of-range", "a quarterly contact count of -3 (MB-0010)"),
    ("number-invalid", "'n/a' typed in a monthly hours column (MB-0013)"),
    ("row-skipped", "the two footnotes below the blank row"),
)
CSV_PLANTED: tuple[tuple[str, str], ...] = (
    ("code-unknown", "org_type 'Social enterprise', not one of the export's types (MB-0002)"),
    ("id-duplicate", "the row for MB-0001 exported twice"),
    ("row-skipped", "the two footnotes below the blank row"),
)


def fy_months(first_year: int) -> list[datetime.date]:
    """The month ends of the financial year starting in April ``first_year``."""
    out = []
    for index in range(12):
        year, month = first_year + (3 + index) // 12, (3 + index) % 12 + 1
        out.append(D(year, month, calendar.monthrange(year, month)[1]))
    return out


def monthly_headings(first_year: int) -> tuple[str, ...]:
    """``hrs_wk_YYYY_MM`` for each month, then ``ppl_wk_YYYY_MM``."""
    months = fy_months(first_year)
    return tuple(
        f"{prefix}_{m.year}_{m.month:02d}" for prefix in ("hrs_wk", "ppl_wk") for m in months
    )


def write_export(
    path: Path,
    first_year: int,
    rows: Sequence[Mapping[str, Any]],
    *,
    extracted: datetime.date,
    headings: Sequence[str] | None = None,
) -> None:
    """Write a BI export (``.xlsx`` or ``.csv`` by ``path``'s extension) as the council's
    BI tool does: header on row 1, the rows, a blank row, then the footnotes; an xlsx file
    also has a hidden Lookups sheet. A row's missing headings are blank cells."""
    columns = list(headings or (*BASE_HEADINGS, *monthly_headings(first_year), *CONTACT_HEADINGS))
    body = [[row.get(h) for h in columns] for row in rows]
    notes = [[text.format(extracted=extracted.isoformat())] for text in FOOTNOTES]
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerows([columns, *body, [], *notes])
        return
    from openpyxl import Workbook

    workbook = Workbook()
    data = workbook.active
    data.title = "Data"
    for values in [columns, *body, [None], *notes]:
        data.append(values)
    lookups = workbook.create_sheet("Lookups")
    lookups.sheet_state = "hidden"
    lookups.append(["status", "meaning"])
    for status in ("Live", "Pipeline", "Ceased", "On hold"):
        lookups.append([status, status.lower()])
    workbook.save(path)


# ---- the fictional programme ------------------------------------------------------------


def _go_live(n: int, engaged: datetime.date) -> datetime.date | None:
    if n % 6 == 0:
        return None  # still in the pipeline
    if n in (3, 14):
        return D(2019, 6, 1)  # established: trading before the council engaged with it
    return engaged + datetime.timedelta(days=60)


def truth(n: int) -> dict[str, Any]:
    """What is true of sample enterprise ``n`` (1 to 18), whatever the export says."""
    engaged = D(2024, 4, 8) + datetime.timedelta(days=21 * n)
    live = _go_live(n, engaged)
    closed = live + datetime.timedelta(days=200) if live and n in (4, 9) else None
    return {
        "ref": f"MB-{n:04d}",
        "name": f"Metro Enterprise {n}",
        "org_type": ORG_TYPES[n % len(ORG_TYPES)],
        "ward": WARDS[n % len(WARDS)],
        "engaged": engaged,
        "live": live,
        "closed": closed,
        "care": n % 3 == 1,
        "cqc": n == 7,
        "listed": n % 2 == 0,
        "staff": 1 + n % 3,
        "volunteers": n % 2,
    }


def trading_on(fact: Mapping[str, Any], when: datetime.date) -> bool:
    """Whether the enterprise was trading on ``when``."""
    live, closed = fact["live"], fact["closed"]
    return live is not None and live <= when and (closed is None or when < closed)


def hours(n: int, month: int) -> int:
    """Hours per week of enterprise ``n`` in the ``month``-th month of the programme."""
    return 4 + n % 5 + month // 4


def people(n: int, month: int) -> int:
    """People supported per week of enterprise ``n`` in the ``month``-th month."""
    return 1 + n % 4 + month // 12


def _flag(value: bool, n: int) -> int | None:
    # this council's BI tool leaves some 0 flags blank; blank means 0 by its rule
    return 1 if value else (None if n % 4 == 0 else 0)


def _date_text(day: datetime.date | None, n: int) -> str | None:
    if day is None:
        return None
    return f"{day.isoformat()}T00:00:00" if n % 5 == 0 else day.isoformat()


def export_row(n: int, first_year: int) -> dict[str, Any]:
    """Enterprise ``n`` as the BI export for the financial year ``first_year`` shows it."""
    fact = truth(n)
    year_end = D(first_year + 1, 3, 31)
    if fact["closed"] is not None and fact["closed"] <= year_end:
        status = "Ceased"
    elif fact["live"] is not None and fact["live"] <= year_end:
        status = "On hold" if n == 11 and first_year == 2025 else "Live"
    else:
        status = "Pipeline"
    row: dict[str, Any] = {
        "org_ref": fact["ref"],
        "org_name": fact["name"],
        "org_type": fact["org_type"],
        "ward_code": fact["ward"],
        "ward_name": f"Ward {fact['ward'][-1]}",
        "la_code": COUNCIL,
        "first_engaged": _date_text(fact["engaged"], n),
        "go_live": _date_text(fact["live"], n) if status != "Pipeline" else None,
        "status": status,
        "closed_on": _date_text(fact["closed"], n) if status == "Ceased" else None,
        "personal_care_flag": _flag(fact["care"], n),
        "cqc_flag": _flag(fact["cqc"], n),
        "dir_flag": _flag(fact["listed"], n),
        "staff_hc": fact["staff"],
        "vol_hc": fact["volunteers"],
    }
    for index, month_end in enumerate(fy_months(first_year)):
        programme_month = (first_year - 2024) * 12 + index
        if not trading_on(fact, month_end) or (n + index) % 9 == 0:
            continue  # not trading, or a month with no return: blank, not zero
        label = f"{month_end.year}_{month_end.month:02d}"
        row[f"hrs_wk_{label}"] = hours(n, programme_month)
        row[f"ppl_wk_{label}"] = people(n, programme_month)
    for quarter, heading in enumerate(CONTACT_HEADINGS, start=1):
        quarter_end = fy_months(first_year)[3 * quarter - 1]
        open_then = fact["closed"] is None or fact["closed"] > quarter_end
        if fact["engaged"] <= quarter_end and open_then:
            row[heading] = (n + quarter) % 4  # 0 is no contact in the quarter
    return row


def export_rows(first_year: int) -> list[dict[str, Any]]:
    """Every enterprise engaged by the year's end, as that year's export shows it, with the
    year's planted mistakes."""
    year_end = D(first_year + 1, 3, 31)
    rows = [export_row(n, first_year) for n in range(1, 19) if truth(n)["engaged"] <= year_end]
    by_ref = {r["org_ref"]: r for r in rows}
    if first_year == 2024:
        by_ref["MB-0002"]["org_type"] = "Social enterprise"
        rows.append(dict(by_ref["MB-0001"]))
    else:
        by_ref["MB-0005"]["ward_code"] = "E0509900"
        by_ref["MB-0007"]["la_code"] = "E07000238"
        by_ref["MB-0008"]["go_live"] = "2025-02-30"
        by_ref["MB-0010"]["support_contacts_q2"] = -3
        by_ref["MB-0013"]["hrs_wk_2025_06"] = "n/a"
    return rows


def _spend(first_year: int) -> list[dict[str, Any]]:
    fy = f"{first_year}-{(first_year + 1) % 100:02d}"
    grow = 1 + (first_year - 2024) / 10
    lines = [
        ("home_care", "direct", "micro", 42000),
        ("home_care", "direct", "small", 118000),
        ("home_care", "direct", "large", 610000),
        ("home_care", "direct", "unknown", 35000),
        ("day_opportunities", "direct", "medium", 90000),
        ("day_opportunities", "direct", "large", 60000),
        ("direct_payments", "direct", "micro", 51000),
        ("home_care", "supply_chain", "small", 47000),
        ("home_care", "supply_chain", "large", 88000),
        ("residential", "supply_chain", "unknown", 12000),
    ]
    out = []
    for index, (category, route, size, amount) in enumerate(lines, start=1):
        out.append(
            {
                "spend_id": f"SP-{first_year}-{index:02d}",
                "programme_id": PROGRAMME_ID,
                "council_id": COUNCIL,
                "financial_year": fy,
                "quarter": 1 + index % 4,
                "supplier_size": size,
                "spend_category": category,
                "route": route,
                "amount_gbp": f"{amount * grow:.2f}",
            }
        )
    for index, n in enumerate((1, 2, 5), start=len(lines) + 1):
        out.append(
            {
                "spend_id": f"SP-{first_year}-{index:02d}",
                "programme_id": PROGRAMME_ID,
                "council_id": COUNCIL,
                "financial_year": fy,
                "supplier_size": "micro",
                "spend_category": "direct_payments",
                "route": "direct",
                "enterprise_id": f"MB-{n:04d}",
                "amount_gbp": f"{2400 + 300 * n:.2f}",
            }
        )
    return out


def _survey(first_year: int) -> list[dict[str, Any]]:
    """The annual survey's outcomes for enterprises trading at the year's end."""
    year_end = D(first_year + 1, 3, 31)
    start = D(first_year, 4, 1)
    out: list[dict[str, Any]] = []
    for n in range(1, 19):
        fact = truth(n)
        if not trading_on(fact, year_end) or (n == 11 and first_year == 2025):
            continue
        ref = fact["ref"]
        total = people(n, (first_year - 2024) * 12 + 11)
        direct, self_funded = total // 2, total - total // 2 - (n % 2)
        for breakdown, value in (("direct_payment", direct), ("self_funded", self_funded)):
            out.append(
                {
                    "outcome_id": f"{ref}-fund-{breakdown}-{year_end.isoformat()}",
                    "programme_id": PROGRAMME_ID,
                    "enterprise_id": ref,
                    "outcome_type": "people_supported_by_funding",
                    "breakdown": breakdown,
                    "value": value,
                    "as_at_date": year_end,
                    "evidence_source": "annual_survey",
                }
            )
        if fact["live"] is not None and start <= fact["live"] <= year_end:
            out.append(
                {
                    "outcome_id": f"{ref}-jobs-founder",
                    "programme_id": PROGRAMME_ID,
                    "enterprise_id": ref,
                    "outcome_type": "jobs_created",
                    "breakdown": "founder_self_employment",
                    "value": 1,
                    "as_at_date": fact["live"],
                    "evidence_source": "annual_survey",
                }
            )
        if direct:
            out.append(
                {
                    "outcome_id": f"{ref}-saved-{first_year}",
                    "programme_id": PROGRAMME_ID,
                    "enterprise_id": ref,
                    "outcome_type": "money_saved",
                    "value": f"{(24.50 - 19.00) * direct * 6 * 52:.2f}",
                    "period_start": start,
                    "period_end": year_end,
                    "evidence_source": "estimate",
                    "method_note": "(£24.50 framework rate - £19.00 enterprise rate) x 6 "
                    "council-funded hours a week per Direct Payment user x 52 weeks",
                }
            )
    return out


PROGRAMME: dict[str, Any] = {
    "programme_id": PROGRAMME_ID,
    "council.council_id": COUNCIL,
    "council.gss_code": COUNCIL,
    "council.name": "Metropolitan Borough Council (sample)",
    "council.tier": "metropolitan_borough",
    "delivery_org_name": "Sample Catalysts CIC",
    "start_date": D(2024, 4, 1),
    "micro_cap_basis": "headcount_paid_and_unpaid",
    "sme_target_pct": 33,
    "comparator_hourly_rate_gbp": "24.50",
}


def settings_rows() -> dict[str, Iterable[Mapping[str, Any]]]:
    """The canonical workbook's records: settings, spend and the annual survey."""
    return {
        "programme": [PROGRAMME],
        "spend_line": [*_spend(2024), *_spend(2025)],
        "outcome": [*_survey(2024), *_survey(2025)],
    }


def write_samples(folder: Path) -> list[SampleFile]:
    """Write the three sample files into ``folder``; return them in import order."""
    settings = folder / "metro-programme-and-spend.xlsx"
    write_canonical_workbook(settings, {k: list(v) for k, v in settings_rows().items()})
    earlier = folder / "cme_export_2024-25.csv"
    write_export(earlier, 2024, export_rows(2024), extracted=D(2025, 4, 3))
    later = folder / "cme_export_2025-26.xlsx"
    write_export(later, 2025, export_rows(2025), extracted=D(2026, 4, 2))
    return [
        SampleFile(path=settings),
        SampleFile(path=earlier, planted=CSV_PLANTED),
        SampleFile(path=later, planted=XLSX_PLANTED),
    ]
