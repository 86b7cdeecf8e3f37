"""Contract KPIs (domain.md 4.2), worked by hand across the 2024-25 / 2025-26 boundary.

The enterprises below (financial year 2025-26; Q1 ends 2025-06-30, Q2 2025-09-30):

* A: new, launched 2024-08-15, accredited since 2025-05-01; hours 10 at 2025-03-31 and
  12 at 2025-06-30 (nothing in Q2, so Q2 carries 12 forward); people 8 at 2025-09-30;
  Direct Payment people 3 at 2025-06-30 and 4 at 2025-09-30; money saved 100 for Q1 and
  50 for Q2; jobs 1 on 2025-03-15 (last year).
* B: new, launched 2025-05-10; hours 5 at 2025-06-30 and 7 at 2025-09-30; people 6 at
  2025-06-30 (carried into Q2); jobs 2 on 2025-05-20.
* C: new, launched 2025-08-20 (also an enterprise_launched outcome: counted once); jobs 1
  on 2025-09-01.
* D: established, quality_standard_met outcome on 2025-04-20; episodes 2025-03-20 (last
  year), 2025-05-01 and 2025-08-01.
* E: new, launched 2024-07-01, closed 2025-08-31; hours 4 at 2025-06-30.
* F: new, launched 2024-03-31, accreditation lapsed.
* H: new, launched 2024-09-30 (12 months on exactly 2025-09-30); I: launched 2024-10-01.

Summing the quarters' hours would give 21 + 19 = 40; the Q2 level is 19.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mectk.metrics import (
    KPIS,
    KPIS_BY_REF,
    CurrentRecords,
    KpiScorecard,
    RagThresholds,
    compute_kpis,
    kpi_targets,
    load_current,
    profiled_target,
    rag,
    suppress_scorecard,
)
from mectk.metrics.kpi import KpiTarget, KpiValue, Polarity, add_months
from mectk.periods import parse_period

D = datetime.date
ROOT = Path(__file__).resolve().parent.parent


def _iso(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in row.items()}


def ent(eid: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "enterprise_id": eid,
        "status": "trading",
        "status_date": D(2024, 1, 1),
        "origin": "new",
        "first_contact_date": D(2024, 1, 1),
        "locality_id": "L1",
    }
    row.update(changes)
    return _iso(row)


def snap(eid: str, kind: str, value: int, at: datetime.date, breakdown: str | None = None) -> Any:
    return _iso(
        {
            "enterprise_id": eid,
            "outcome_type": kind,
            "value": value,
            "as_at_date": at,
            "breakdown": breakdown,
        }
    )


def flow(eid: str | None, kind: str, value: int, start: datetime.date, end: datetime.date) -> Any:
    return _iso(
        {
            "enterprise_id": eid,
            "outcome_type": kind,
            "value": str(value),
            "period_start": start,
            "period_end": end,
        }
    )


def target(ref: str, annual: Any, year: str = "2025-26", **extra: Any) -> dict[str, Any]:
    return {"target_id": f"T-{ref}-{year}", "measure": ref, "financial_year": year,
            "annual_target": annual, **extra}  # fmt: skip


RECORDS = CurrentRecords(
    {
        "programme": ({"programme_id": "P", "fy_start_month": 4, "suppression_threshold": 5},),
        "enterprise": (
            ent(
                "A",
                launch_date=D(2024, 8, 15),
                quality_standard="council_accreditation",
                quality_standard_date=D(2025, 5, 1),
                accreditation_status="accredited",
            ),
            ent("B", launch_date=D(2025, 5, 10)),
            ent("C", launch_date=D(2025, 8, 20)),
            ent("D", origin="established", launch_date=D(2019, 1, 1)),
            ent(
                "E",
                launch_date=D(2024, 7, 1),
                status="closed",
                status_date=D(2025, 8, 31),
                closure_date=D(2025, 8, 31),
            ),
            ent(
                "F",
                launch_date=D(2024, 3, 31),
                quality_standard="council_accreditation",
                quality_standard_date=D(2024, 1, 1),
                accreditation_status="lapsed",
            ),
            ent("H", launch_date=D(2024, 9, 30)),
            ent("I", launch_date=D(2024, 10, 1)),
        ),
        "support_episode": tuple(
            _iso({"episode_id": f"EP{n}", "enterprise_id": "D", "episode_date": when})
            for n, when in enumerate((D(2025, 3, 20), D(2025, 5, 1), D(2025, 8, 1)))
        ),
        "outcome": (
            snap("A", "hours_per_week", 10, D(2025, 3, 31)),
            snap("A", "hours_per_week", 12, D(2025, 6, 30)),
            snap("B", "hours_per_week", 5, D(2025, 6, 30)),
            snap("B", "hours_per_week", 7, D(2025, 9, 30)),
            snap("E", "hours_per_week", 4, D(2025, 6, 30)),
            snap("A", "people_supported_weekly", 8, D(2025, 9, 30)),
            snap("B", "people_supported_weekly", 6, D(2025, 6, 30)),
            snap("A", "people_supported_by_funding", 3, D(2025, 6, 30), "direct_payment"),
            snap("A", "people_supported_by_funding", 4, D(2025, 9, 30), "direct_payment"),
            snap("A", "jobs_created", 1, D(2025, 3, 15)),
            snap("B", "jobs_created", 2, D(2025, 5, 20)),
            snap("C", "jobs_created", 1, D(2025, 9, 1)),
            snap("C", "enterprise_launched", 1, D(2025, 8, 20)),
            snap("D", "quality_standard_met", 1, D(2025, 4, 20)),
            flow("A", "money_saved", 100, D(2025, 4, 1), D(2025, 6, 30)),
            flow("A", "money_saved", 50, D(2025, 7, 1), D(2025, 9, 30)),
            flow(None, "money_saved_programme", 30, D(2025, 1, 1), D(2025, 3, 31)),
        ),
        "target": (
            target("KPI1", 8),
            target("KPI2", 2),
            target("KPI3", 20),
            target("KPI3", 10, "2024-25"),
            target("KPI5", 40),
            target("KPI6", 6, q2_target=3),
            target("KPI7", 80),
            target("KPI8", 400),
            target("KPI9", 0),
        ),
    }
)


@pytest.fixture(scope="module")
def q2() -> KpiScorecard:
    return compute_kpis(RECORDS, parse_period("2025-26-Q2"))


def actuals(card: KpiScorecard, ref: str) -> list[Decimal | None]:
    return [q.actual.value for q in card.line(ref).quarters]


def test_cumulative_events_count_from_the_start_of_the_year(q2: KpiScorecard) -> None:
    assert [q.quarter.label for q in q2.line("KPI1").quarters] == ["2025-26-Q1", "2025-26-Q2"]
    assert actuals(q2, "KPI1") == [1, 2]  # B; then B and C (C's outcome is the same launch)
    assert actuals(q2, "KPI6") == [2, 3]  # last year's job is not counted
    assert actuals(q2, "KPI8") == [100, 150]  # the programme flow of 2024-25 is not


def test_distinct_is_not_the_sum_of_quarters(q2: KpiScorecard) -> None:
    assert actuals(q2, "KPI2") == [1, 1]  # D, supported in both quarters, counted once


def test_snapshots_take_the_level_at_quarter_end_not_a_sum(q2: KpiScorecard) -> None:
    q1, q2_hours = q2.line("KPI3").quarters
    assert q1.actual.value == 21  # A 12 + B 5 + E 4
    assert q2_hours.actual.value == 19  # A 12 carried forward + B 7; E closed
    assert q2_hours.actual.carried_forward == 1
    assert actuals(q2, "KPI4") == [6, 14]
    assert actuals(q2, "KPI9") == [3, 4]


def test_ratios_count_numerator_and_denominator_at_quarter_end(q2: KpiScorecard) -> None:
    q1, q2_share = q2.line("KPI5").quarters
    assert q1.actual == KpiValue(Decimal(2), Decimal(7))  # A and D; F has lapsed
    assert q2_share.actual == KpiValue(Decimal(2), Decimal(7))  # E has closed, C is in


def test_kpi7_denominator_is_enterprises_launched_12_months_before(q2: KpiScorecard) -> None:
    q1, q2_kpi7 = q2.line("KPI7").quarters
    assert q1.actual == KpiValue(Decimal(1), Decimal(1))  # F only
    # A, E, F and H (launched 2024-09-30: exactly 12 months); not I; E has closed
    assert q2_kpi7.actual == KpiValue(Decimal(3), Decimal(4))
    assert q2_kpi7.actual.value == Decimal("0.75")


def test_targets_are_profiled_and_rated(q2: KpiScorecard) -> None:
    expected = {
        "KPI1": ([2, 4], ["red", "red"], Decimal("0.5")),
        "KPI2": ([Decimal("0.5"), 1], ["green", "green"], Decimal(1)),
        "KPI3": ([20, 20], ["green", "amber"], Decimal("0.95")),
        "KPI5": ([Decimal("0.4"), Decimal("0.4")], ["red", "red"], None),
        "KPI6": ([Decimal("1.5"), 3], ["green", "green"], Decimal(1)),
        "KPI7": ([Decimal("0.8"), Decimal("0.8")], ["green", "amber"], None),
        "KPI8": ([100, 200], ["green", "red"], Decimal("0.75")),
        "KPI4": ([None, None], ["n/a", "n/a"], None),
        "KPI9": ([0, 0], ["n/a", "n/a"], None),
    }
    for ref, (targets, rags, share) in expected.items():
        line = q2.line(ref)
        assert [q.target for q in line.quarters] == targets, ref
        assert [q.rag for q in line.quarters] == rags, ref
        if share is not None:
            assert line.latest.percent_of_target == share, ref
    # the year's four profiled targets, for the scorecard's columns not reached yet
    assert q2.line("KPI6").quarter_targets == (Decimal("1.5"), 3, Decimal("4.5"), 6)
    assert q2.line("KPI3").quarter_targets == (20, 20, 20, 20)


def test_trend_compares_with_the_quarter_before(q2: KpiScorecard) -> None:
    trends = {line.kpi.ref: line.trend for line in q2.lines}
    assert trends == {
        "KPI1": "steady",  # half of the profile in both quarters
        "KPI2": "worsening",  # 200% of target, then 100%
        "KPI3": "worsening",  # 105%, then 95%
        "KPI4": "improving",  # no target: the level rose from 6 to 14
        "KPI5": "steady",
        "KPI6": "worsening",  # 133%, then 100%
        "KPI7": "worsening",  # 20 points above target, then 5 below
        "KPI8": "worsening",
        "KPI9": "improving",  # target 0: the level rose from 3 to 4
    }


def test_q1_trend_looks_back_across_the_financial_year_boundary() -> None:
    card = compute_kpis(RECORDS, parse_period("2025-26-Q1"))
    # 2024-25 Q4: A's 10 hours against that year's target of 10 (100%); Q1: 21 of 20
    assert card.line("KPI3").trend == "improving"
    assert card.line("KPI1").trend == "n/a"  # no 2024-25 target
    assert len(card.line("KPI3").quarters) == 1


def test_a_whole_year_has_four_quarter_blocks() -> None:
    card = compute_kpis(RECORDS, parse_period("2025-26"))
    assert [q.number for q in card.line("KPI1").quarters] == [1, 2, 3, 4]
    assert card.line("KPI1").latest.target == 8
    assert card.line("KPI3").latest.actual.value == 0  # no snapshot within reach of March


def test_rag_thresholds_polarity_and_ratios() -> None:
    count, ratio = KPIS_BY_REF["KPI1"], KPIS_BY_REF["KPI7"]
    default = RagThresholds()
    assert [rag(count, Decimal(v), Decimal(100)) for v in (100, 99.9, 90, 89.9)] == [
        "green", "amber", "amber", "red"]  # fmt: skip
    lower: Polarity = "lower_is_better"
    assert rag(count, Decimal(100), Decimal(100), default, lower) == "green"
    assert rag(count, Decimal(105), Decimal(100), default, lower) == "amber"  # 95%
    assert rag(count, Decimal(120), Decimal(100), default, lower) == "red"  # 83%
    assert rag(count, Decimal(0), Decimal(100), default, lower) == "green"
    assert rag(count, Decimal(5), None) == "n/a"
    assert rag(count, Decimal(5), Decimal(0)) == "n/a"
    assert rag(ratio, None, Decimal("0.8")) == "n/a"  # no denominator
    assert rag(ratio, Decimal("0.75"), Decimal("0.8")) == "amber"  # exactly 5 points below
    assert rag(ratio, Decimal("0.7499"), Decimal("0.8")) == "red"
    assert rag(ratio, Decimal("0.85"), Decimal("0.8"), default, lower) == "amber"
    strict = RagThresholds.from_programme(
        {"rag_green_pct": 110, "rag_amber_pct": "95", "rag_amber_pp": 2}
    )
    assert strict == RagThresholds(Decimal(110), Decimal(95), Decimal(2))
    assert rag(count, Decimal(105), Decimal(100), strict) == "amber"
    assert rag(ratio, Decimal("0.77"), Decimal("0.8"), strict) == "red"


def test_explicit_profiles_and_level_targets() -> None:
    explicit = KpiTarget(Decimal(100), (Decimal(10), None, Decimal(90)))
    count, level, ratio = KPIS_BY_REF["KPI1"], KPIS_BY_REF["KPI3"], KPIS_BY_REF["KPI7"]
    assert [profiled_target(count, explicit, q) for q in (1, 2, 3, 4)] == [10, 50, 90, 100]
    assert [profiled_target(level, explicit, q) for q in (1, 2, 3, 4)] == [10, 100, 90, 100]
    assert profiled_target(ratio, KpiTarget(Decimal(80)), 2) == Decimal("0.8")
    assert profiled_target(count, None, 1) is None


def test_targets_read_from_records_and_programme_settings() -> None:
    records = CurrentRecords(
        {
            "programme": ({"targets": [target("kpi1", 4, "2025/26", polarity="lower_is_better")]},),
            "target": (target("KPI2", 3), target("KPI2", 9, "2026-27")),
        }
    )
    found = kpi_targets(records, "2025-26")
    assert found == {
        "KPI1": KpiTarget(Decimal(4), (None, None, None), "lower_is_better"),
        "KPI2": KpiTarget(Decimal(3)),
    }


def test_suppression_hides_small_counts_and_their_rises(q2: KpiScorecard) -> None:
    hidden = suppress_scorecard(q2, 5)
    assert {("KPI1", 1), ("KPI1", 2), ("KPI2", 1), ("KPI2", 2)} <= hidden
    assert ("KPI3", 1) not in hidden  # hours are never suppressed
    assert ("KPI5", 2) in hidden  # numerator 2
    assert ("KPI8", 2) not in hidden  # pounds are never suppressed
    # threshold 2: KPI6's 2 shows, but its rise to 3 (one job) would give the quarter away
    hidden = suppress_scorecard(q2, 2)
    assert ("KPI6", 1) not in hidden
    assert ("KPI6", 2) in hidden


def test_add_months_keeps_month_ends() -> None:
    assert add_months(D(2024, 2, 29), 12) == D(2025, 2, 28)
    assert add_months(D(2024, 9, 30), 12) == D(2025, 9, 30)
    assert add_months(D(2025, 4, 1), -12) == D(2024, 4, 1)


def test_every_kpi_is_documented_and_the_page_is_generated() -> None:
    from mectk.metrics.docs import kpis_markdown

    text = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    assert text == kpis_markdown()
    documented = dict(re.findall(r"^## (KPI\d): (.+)$", text, flags=re.MULTILINE))
    assert documented == {k.ref: k.title for k in KPIS}
    for kpi in KPIS:
        assert kpi.numerator in text
        assert kpi.source in text


def test_targets_come_through_the_register(tmp_path: Path) -> None:
    from mectk.pipeline import validate_files
    from mectk.plugin_manager import build_registry, make_plugin_manager
    from mectk.register import import_result
    from mectk.template import write_workbook
    from tests.test_register import PROGRAMME

    book = tmp_path / "settings.xlsx"
    write_workbook(
        book,
        {
            "programme": [{**PROGRAMME, "rag_amber_pct": 80}],
            "target": [target("KPI1", 8, q1_target=1), target("KPI7", 75)],
        },
    )
    result = validate_files(build_registry(make_plugin_manager()), [book])
    assert result.valid, [i.message for i in result.issues if i.severity == "error"]
    import_result(tmp_path / "r.db", result)
    records = load_current(tmp_path / "r.db")
    card = compute_kpis(records, parse_period("2025-26-Q1"))
    assert card.line("KPI1").latest.target == 1
    assert card.line("KPI7").latest.target == Decimal("0.75")
    assert card.thresholds.amber_pct == 80
