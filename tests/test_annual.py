"""Annual measures (domain.md 4.3) worked by hand, across the 2024-25 / 2025-26 boundary.

The records below are small enough to work out on paper. FY 2025-26 runs from 1 April
2025 to 31 March 2026; snapshots are taken as at 31 March and never summed.

* E1 (new, launched 2024-05-10, personal care + home help, CQC registered, £20/h,
  primary service personal care): hours 9 at 2025-03-31, then monthly 10, 11, ..., 15
  with 15 at 2026-03-31 (a sum over the year's snapshots would be far larger than 15);
  people 3 at 2025-03-31, 3 at 2025-09-30 and 4 at 2026-03-31.
* E2 (new, launched 2024-11-01, closed 2025-06-30): hours 5 at 2025-03-31.
* E3 (new, launched 2025-06-15, personal care, CQC exempt, £18/h): hours 8 at
  2026-02-28; people 2 at 2026-03-31.
* E4 (established, trading since 2020, home help + companionship, £22/h, primary
  companionship): hours 7 at 2025-03-15 and 6 at 2025-12-31 (carried forward into
  January-March 2026); people 4 at 2025-03-31 and 5 at 2026-03-31.
* E5 (new, launched 2025-02-01, closed 2025-12-31: closed before its anniversary).
* E6 (developing, never launched).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from mectk.metrics import ANNUAL_MEASURES, CurrentRecords, annual_report, load_current
from mectk.metrics.annual import HEADLINES, annual_measures_markdown, previous_year
from mectk.periods import parse_period

ROOT = Path(__file__).resolve().parent.parent
FY = parse_period("2025-26")


def firm(eid: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "enterprise_id": eid,
        "programme_id": "P",
        "origin": "new",
        "status": "trading",
        "services": ["home_help_domestic"],
        "cqc_status": "not_required_no_regulated_activity",
    }
    return base | fields


def snap(eid: str, kind: str, at: str, value: Any, breakdown: str | None = None) -> dict[str, Any]:
    row = {"enterprise_id": eid, "outcome_type": kind, "as_at_date": at, "value": str(value)}
    return row | ({"breakdown": breakdown} if breakdown else {})


def flow(eid: str | None, kind: str, start: str, end: str, value: str) -> dict[str, Any]:
    return {
        "enterprise_id": eid,
        "outcome_type": kind,
        "period_start": start,
        "period_end": end,
        "value": value,
        "method_note": "comparator rate less enterprise rate, council-funded hours",
    }


def spend(n: int, year: str, size: str, route: str, amount: str, **more: Any) -> dict[str, Any]:
    return {
        "spend_id": f"S{n}",
        "financial_year": year,
        "supplier_size": size,
        "route": route,
        "spend_category": more.pop("category", "home_care"),
        "amount_gbp": amount,
        **more,
    }


def records() -> CurrentRecords:
    enterprises = [
        firm(
            "E1",
            launch_date="2024-05-10",
            services=["personal_care", "home_help_domestic"],
            cqc_status="registered",
            price_amount_gbp="20.00",
            price_unit="per_hour",
            primary_service="personal_care",
        ),
        firm(
            "E2",
            launch_date="2024-11-01",
            status="closed",
            status_date="2025-06-30",
            closure_date="2025-06-30",
            services=["companionship_social"],
        ),
        firm(
            "E3",
            launch_date="2025-06-15",
            services=["personal_care"],
            cqc_status="exempt_direct_arrangement",
            price_amount_gbp="18.00",
            price_unit="per_hour",
            primary_service="personal_care",
        ),
        firm(
            "E4",
            origin="established",
            launch_date="2020-01-01",
            services=["home_help_domestic", "companionship_social"],
            price_amount_gbp="22.00",
            price_unit="per_hour",
            primary_service="companionship_social",
        ),
        firm(
            "E5",
            launch_date="2025-02-01",
            status="closed",
            status_date="2025-12-31",
            closure_date="2025-12-31",
        ),
        firm("E6", status="developing"),
    ]
    months = ["2025-04-30", "2025-05-31", "2025-07-31", "2025-10-31", "2026-01-31"]
    outcomes = [
        snap("E1", "hours_per_week", "2025-03-31", 9),
        *(snap("E1", "hours_per_week", at, 10 + n) for n, at in enumerate(months)),
        snap("E1", "hours_per_week", "2026-03-31", 15),
        snap("E2", "hours_per_week", "2025-03-31", 5),
        snap("E3", "hours_per_week", "2026-02-28", 8),
        snap("E4", "hours_per_week", "2025-03-15", 7),
        snap("E4", "hours_per_week", "2025-12-31", 6),
        snap("E1", "people_supported_weekly", "2025-03-31", 3),
        snap("E1", "people_supported_weekly", "2025-09-30", 3),
        snap("E1", "people_supported_weekly", "2026-03-31", 4),
        snap("E3", "people_supported_weekly", "2026-03-31", 2),
        snap("E4", "people_supported_weekly", "2025-03-31", 4),
        snap("E4", "people_supported_weekly", "2026-03-31", 5),
        snap("E1", "people_supported_by_funding", "2025-03-31", 1, "direct_payment"),
        snap("E1", "people_supported_by_funding", "2026-03-31", 2, "direct_payment"),
        snap("E1", "people_supported_by_funding", "2026-03-31", 2, "self_funded"),
        snap("E3", "people_supported_by_funding", "2026-03-31", 1, "la_commissioned"),
        snap("E4", "people_supported_by_funding", "2026-03-31", 3, "self_funded"),
        {"enterprise_id": "E1", "outcome_type": "jobs_created", "as_at_date": "2024-05-10"},
        {"enterprise_id": "E4", "outcome_type": "jobs_created", "as_at_date": "2025-03-31"},
        {"enterprise_id": "E4", "outcome_type": "jobs_created", "as_at_date": "2025-04-01"},
        {"enterprise_id": "E3", "outcome_type": "jobs_created", "as_at_date": "2025-06-15"},
        {"enterprise_id": "E3", "outcome_type": "jobs_created", "as_at_date": "2026-04-01"},
        flow("E1", "money_saved", "2025-04-01", "2025-09-30", "500.00"),
        flow("E1", "money_saved", "2025-10-01", "2026-03-31", "700.00"),
        flow("E1", "money_saved", "2025-01-01", "2025-06-30", "999.00"),  # straddles: out
        flow(None, "money_saved_programme", "2024-04-01", "2025-03-31", "1000.00"),
    ]
    for outcome in outcomes:
        outcome.setdefault("value", "1")
    lines = [
        spend(1, "2025-26", "micro", "direct", "100.00"),
        spend(2, "2025-26", "small", "direct", "200.00"),
        spend(3, "2025-26", "large", "direct", "700.00"),
        spend(4, "2025-26", "unknown", "direct", "500.00"),
        spend(5, "2025-26", "medium", "supply_chain", "300.00"),
        spend(6, "2025-26", "large", "supply_chain", "200.00"),
        spend(7, "2025-26", "micro", "direct", "50.00", category="day_opportunities",
              enterprise_id="E3"),
        spend(8, "2024-25", "micro", "direct", "10.00"),
        spend(9, "2024-25", "large", "direct", "90.00"),
    ]  # fmt: skip
    programme = {"programme_id": "P", "comparator_hourly_rate_gbp": "25.00"}
    return CurrentRecords(
        {
            "programme": (programme,),
            "enterprise": tuple(enterprises),
            "outcome": tuple(outcomes),
            "spend_line": tuple(lines),
        }
    )


def headline(ref: str) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    row = next(r for r in annual_report(records(), FY).headlines if r.measure.ref == ref)
    return row.previous, row.current, row.change


def test_headline_snapshots_are_taken_at_31_march_not_summed():
    assert headline("A01") == (4, 3, -1)  # trading at 31 March: E1 E2 E4 E5, then E1 E3 E4
    assert headline("A02") == (3, 1, -2)  # launched in the year and still trading then
    # hours: 9+5+7 at 31/03/2025; 15 (not 10+11+...+15) + 8 + 6 carried from December
    assert headline("A04") == (21, 29, 8)
    assert headline("A05") == (7, 11, 4)
    assert headline("A06") == (1, 2, 1)
    assert headline("A07") == (0, 5, 5)


def test_events_and_flows_are_summed_within_each_year():
    assert headline("A03") == (2, 2, 0)  # 10/05/2024 + 31/03/2025 | 01/04/2025 + 15/06/2025
    assert headline("A09") == (1000, 1200, 200)  # the flow straddling the boundary is out


def test_sustainability_rate_counts_anniversaries_falling_in_the_year():
    previous, current, change = headline("A08")
    assert previous is None  # no first anniversary fell in 2024-25
    assert current == Decimal(100) / 3  # E1 sustained; E2 and E5 closed before +12 months
    assert change is None
    cohorts = {c.quarter: c for c in annual_report(records(), FY).cohorts}
    assert list(cohorts) == [f"{y} Q{q}" for y in ("2024-25", "2025-26") for q in (1, 2, 3, 4)]
    assert (cohorts["2024-25 Q1"].launched, cohorts["2024-25 Q1"].sustained) == (1, 1)
    assert (cohorts["2024-25 Q3"].closed, cohorts["2024-25 Q4"].closed) == (1, 1)
    assert cohorts["2025-26 Q1"].not_yet_due == 1 and cohorts["2025-26 Q1"].rate is None
    assert cohorts["2024-25 Q1"].rate == 100 and cohorts["2024-25 Q3"].rate == 0


def test_sme_share_leaves_unknown_sizes_out_of_the_denominator():
    previous, current, change = headline("A10")
    assert previous == 10
    assert current == Decimal(650) * 100 / 1550  # (100+200+50+300) / (2050 - 500 unknown)
    assert change == current - 10
    report = annual_report(records(), FY)
    rows = {(r.category, r.route): r for r in report.spend}
    direct = rows[("All categories", "direct")]
    assert (direct.total, direct.sme, direct.unknown) == (1550, 350, 500)
    assert direct.share == Decimal(35000) / 1050
    assert rows[("All categories", "supply_chain")].share == 60
    assert rows[("Day opportunities", "direct")].total == 50
    assert report.community_spend == 50
    assert report.sme_target == 33


def test_by_service_counts_each_offering_and_attributes_hours_by_primary_service():
    rows = {r.code: r for r in annual_report(records(), FY).by_service}
    care = rows["personal_care"]
    assert (care.offering, care.cqc_registered, care.cqc_exempt) == (2, 1, 1)
    assert (care.hours, care.people, care.median_price) == (23, 6, 19)
    home = rows["home_help_domestic"]
    assert (home.offering, home.hours, home.median_price) == (2, 0, 21)
    every = rows[None]
    assert every.label == "All services (distinct)"
    assert (every.offering, every.hours, every.people, every.median_price) == (3, 29, 11, 20)
    assert sum(r.offering for r in rows.values() if r.code) == 5  # rows do not sum to 3


def test_without_primary_services_hours_by_service_are_not_applicable():
    report = annual_report(records(), FY, attribute_by_primary_service=False)
    assert not report.attribution
    assert all(r.hours is None and r.people is None for r in report.by_service if r.code)
    assert report.by_service[-1].hours == 29


def test_funding_mix_adds_up_to_people_per_week():
    funding = {f.route: f for f in annual_report(records(), FY).funding}
    assert funding["Direct Payment"].people == 2 and funding["Self-funded"].people == 5
    assert funding["LA commissioned"].people == 1
    assert funding["Route not recorded"].people == 3
    assert funding["Total"].people == 11 and funding["Total"].share == 100


def test_savings_method_shows_its_inputs():
    method = annual_report(records(), FY).savings
    assert method.comparator_rate == 25 and method.median_rate == 20
    assert (method.enterprises_with_savings, method.enterprise_savings) == (1, 1200)
    assert method.result == 1200 and method.method_notes


def test_previous_year_and_empty_register():
    assert previous_year(FY) == parse_period("2024-25")
    to_date = parse_period("2025-04-01..2025-09-30")
    assert previous_year(to_date).end.isoformat() == "2024-09-30"
    # a year to date takes snapshots at its end: E1's 12 of 31 July (in Jul-Sep),
    # E2 (closed 30 June) and E4 (7 at 15 March 2025, long lapsed) left out
    hours = next(r for r in annual_report(records(), to_date).headlines if r.measure.ref == "A04")
    assert (hours.previous, hours.current) == (0, 12)
    empty = annual_report(CurrentRecords({}), FY)
    assert all(r.current in (0, None) for r in empty.headlines)
    assert empty.cohorts == () and empty.spend[-1].share is None


def test_every_annual_measure_is_documented_from_the_data():
    text = (ROOT / "docs" / "annual-measures.md").read_text(encoding="utf-8")
    assert text == annual_measures_markdown()
    refs = [m.ref for m in ANNUAL_MEASURES]
    assert len(refs) == len(set(refs))
    assert all(m.compute is not None and m.ascof for m in HEADLINES)


def test_spend_lines_from_the_canonical_workbook_reach_the_register(tmp_path: Path):
    from mectk.pipeline import validate_files
    from mectk.plugin_manager import build_registry, make_plugin_manager
    from mectk.register import import_result
    from mectk.template import write_workbook
    from tests.test_register import PROGRAMME

    book = tmp_path / "spend.xlsx"
    rows = [
        spend(n, "2025-26", size, "direct", amount, programme_id="CS-CME", council_id="E08000099")
        for n, (size, amount) in enumerate([("micro", "40.00"), ("large", "60.00")])
    ]
    kind = "spend_line"
    write_workbook(book, {"programme": [PROGRAMME], kind: rows})
    result = validate_files(build_registry(make_plugin_manager()), [book])
    assert result.record_counts() == {"programme": 1, kind: 2}, result.issues
    import_result(tmp_path / "r.db", result)
    current = load_current(tmp_path / "r.db")
    assert len(current.of(kind)) == 2
    assert annual_report(current, FY).spend[-1].share == 40
