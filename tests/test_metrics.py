"""Metrics (issue 4): period rules worked by hand over a financial-year boundary.

Three canonical workbooks are imported, one per quarter's return (2025-26 Q2, 2025-26 Q4,
2026-27 Q1); each carries the whole enterprise list and that return's new episodes and
outcomes. The figures below are worked out by hand from these rows:

* E-0001 (new, North, launched 2024): hours per week 10 at 2025-06-30, 12 at 2025-09-30,
  8 at 2026-03-31; jobs created 1 on 2026-03-15 and 2 on 2026-04-10; money saved 100 for
  April-June 2025 and 50 for December 2025 to January 2026 (a flow across two quarters).
* E-0002 (established, South, launched 2020): hours 5 at 2025-06-30 and never again.
* E-0003 (new, North): first contact 2026-01-10, launched 2026-04-20, hours 6 at 2026-05-31.
* Episodes: Q1 one-to-one for E-0001 and E-0002 and both at networking event EV-1; Q4 a
  site visit for E-0001 and a phone query from E-0003; 2026-27 Q1 a video call for E-0001.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mectk.metrics import (
    CARRY_FORWARD_DAYS,
    MEASURES,
    MetricsTable,
    compute_measures,
    load_current,
    outcome_kinds,
    outcome_total,
    snapshot_values,
    suppress_grid,
)
from mectk.metrics.suppression import suppress_table
from mectk.periods import parse_period
from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.register import import_result
from mectk.schemas import load_schema
from mectk.template import write_workbook
from tests.test_register import PROGRAMME

D = datetime.date
ROOT = Path(__file__).resolve().parent.parent
LOCALITIES = [
    {"locality_id": "L-NORTH", "name": "North District", "locality_type": "custom"},
    {"locality_id": "L-SOUTH", "name": "South District", "locality_type": "custom"},
]
COORDINATORS = [
    {
        "coordinator_id": "C-1",
        "display_name": "Co-ordinator One",
        "role": "catalyst_coordinator",
        "employer": "Sample Delivery CIC",
        "start_date": D(2024, 4, 1),
    }
]


def enterprise(i: int, **changes: Any) -> dict[str, Any]:
    row = {
        "enterprise_id": f"E-{i:04d}",
        "programme_id": "CS-CME",
        "trading_name": f"Enterprise {i}",
        "legal_form": "sole_trader",
        "independent": True,
        "status": "trading",
        "status_date": D(2024, 9, 1),
        "origin": "new",
        "first_contact_date": D(2024, 6, 1),
        "launch_date": D(2024, 9, 1),
        "services": ["companionship_social"],
        "cqc_status": "not_required_no_regulated_activity",
        "locality_id": "L-NORTH",
        "paid_workers": 1,
    }
    row.update(changes)
    return row


def hours(i: int, value: int, as_at: datetime.date) -> dict[str, Any]:
    return {
        "outcome_id": f"HRS-{i}-{as_at.isoformat()}",
        "programme_id": "CS-CME",
        "enterprise_id": f"E-{i:04d}",
        "outcome_type": "hours_per_week",
        "value": value,
        "as_at_date": as_at,
        "evidence_source": "enterprise_self_report",
    }


def jobs(i: int, value: int, as_at: datetime.date) -> dict[str, Any]:
    return {
        "outcome_id": f"JOB-{i}-{as_at.isoformat()}",
        "programme_id": "CS-CME",
        "enterprise_id": f"E-{i:04d}",
        "outcome_type": "jobs_created",
        "value": value,
        "as_at_date": as_at,
        "breakdown": "employee",
        "evidence_source": "enterprise_self_report",
    }


def saved(i: int, value: int, start: datetime.date, end: datetime.date) -> dict[str, Any]:
    return {
        "outcome_id": f"SAV-{i}-{start.isoformat()}",
        "programme_id": "CS-CME",
        "enterprise_id": f"E-{i:04d}",
        "outcome_type": "money_saved",
        "value": value,
        "period_start": start,
        "period_end": end,
        "evidence_source": "estimate",
        "method_note": "comparator rate less enterprise rate, council-funded hours",
    }


def episode(
    n: int, i: int, support_type: str, on: datetime.date, mode: str, event: str | None = None
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "episode_id": f"EP-{n}",
        "programme_id": "CS-CME",
        "enterprise_id": f"E-{i:04d}",
        "coordinator_id": "C-1",
        "episode_date": on,
        "support_type": support_type,
        "mode": mode,
        "duration_minutes": 60,
    }
    if event:
        row["event_id"] = event
    return row


E1 = enterprise(1)
E2 = enterprise(
    2,
    origin="established",
    locality_id="L-SOUTH",
    first_contact_date=D(2025, 5, 2),
    launch_date=D(2020, 1, 1),
    status_date=D(2025, 5, 2),
    services=["meals_cooking"],
)
E3_DEVELOPING = enterprise(3, status="developing", first_contact_date=D(2026, 1, 10))
del E3_DEVELOPING["launch_date"]
E3_DEVELOPING["status_date"] = D(2026, 1, 10)
E3_LAUNCHED = {**E3_DEVELOPING, "status": "trading", "launch_date": D(2026, 4, 20)}
E3_LAUNCHED["status_date"] = D(2026, 4, 20)

RETURNS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "2025-26-Q2": {
        "enterprise": [E1, E2],
        "support_event": [
            {
                "event_id": "EV-1",
                "programme_id": "CS-CME",
                "coordinator_id": "C-1",
                "event_date": D(2025, 6, 5),
                "event_type": "networking_event",
                "locality_id": "L-NORTH",
            }
        ],
        "support_episode": [
            episode(1, 1, "one_to_one_advice", D(2025, 5, 10), "in_person"),
            episode(2, 2, "one_to_one_advice", D(2025, 5, 12), "in_person"),
            episode(3, 1, "networking_event", D(2025, 6, 5), "group_in_person", "EV-1"),
            episode(4, 2, "networking_event", D(2025, 6, 5), "group_in_person", "EV-1"),
        ],
        "outcome": [
            hours(1, 10, D(2025, 6, 30)),
            hours(2, 5, D(2025, 6, 30)),
            hours(1, 12, D(2025, 9, 30)),
            saved(1, 100, D(2025, 4, 1), D(2025, 6, 30)),
        ],
    },
    "2025-26-Q4": {
        "enterprise": [E1, E2, E3_DEVELOPING],
        "support_episode": [
            episode(5, 1, "site_visit", D(2026, 2, 10), "in_person"),
            episode(6, 3, "phone_query", D(2026, 1, 10), "phone"),
        ],
        "outcome": [
            hours(1, 8, D(2026, 3, 31)),
            jobs(1, 1, D(2026, 3, 15)),
            saved(1, 50, D(2025, 12, 1), D(2026, 1, 31)),
        ],
    },
    "2026-27-Q1": {
        "enterprise": [E1, E2, E3_LAUNCHED],
        "support_episode": [episode(7, 1, "video_call", D(2026, 4, 15), "video")],
        "outcome": [
            jobs(1, 2, D(2026, 4, 10)),
            hours(3, 6, D(2026, 5, 31)),
            {
                "outcome_id": "LAUNCH-3",
                "programme_id": "CS-CME",
                "enterprise_id": "E-0003",
                "outcome_type": "enterprise_launched",
                "value": 1,
                "as_at_date": D(2026, 4, 20),
                "evidence_source": "coordinator_observation",
            },
        ],
    },
}


def build_register(folder: Path) -> Path:
    """Write the three returns as canonical workbooks, validate and import them."""
    db = folder / "register.db"
    registry = build_registry(make_plugin_manager())
    for label, rows in RETURNS.items():
        path = folder / f"{label}.xlsx"
        full = {
            "programme": [PROGRAMME],
            "locality": LOCALITIES,
            "coordinator": COORDINATORS,
            **rows,
        }
        write_workbook(path, full)
        result = validate_files(registry, [path])
        assert result.valid, [i.as_json() for i in result.issues]
        assert result.rejected == 0
        import_result(db, result)
    return db


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_register(tmp_path_factory.mktemp("metrics"))


def table(db: Path, period: str, by: Any = None) -> MetricsTable:
    return compute_measures(db, parse_period(period), by=by)


def test_the_register_holds_the_current_records(register: Path):
    current = load_current(register)
    assert sorted(e["enterprise_id"] for e in current.of("enterprise")) == [
        "E-0001",
        "E-0002",
        "E-0003",
    ]
    e3 = next(e for e in current.of("enterprise") if e["enterprise_id"] == "E-0003")
    assert e3["status"] == "trading"  # the latest version, not the developing one
    assert current.fy_start_month == 4
    assert current.suppression_threshold == 5


def test_outcome_kinds_come_from_the_code_lists():
    kinds = load_schema("codelists")["$defs"]["outcome_type"]["x-kinds"]
    assert outcome_kinds() == {k: v[0] for k, v in kinds.items()}
    assert outcome_kinds()["hours_per_week"] == "snapshot"
    assert outcome_kinds()["money_saved"] == "flow"


def test_snapshots_take_the_latest_value_and_carry_forward_one_quarter(register: Path):
    outcomes = load_current(register).of("outcome")

    def seen(period: str) -> dict[str | None, tuple[Decimal, bool]]:
        values = snapshot_values(outcomes, "hours_per_week", parse_period(period))
        return {v.enterprise_id: (v.value, v.carried_forward) for v in values}

    assert seen("2025-26-Q1") == {"E-0001": (10, False), "E-0002": (5, False)}
    # Q2: E-0001 reported 12; E-0002's 5 from 30 June is carried forward, and flagged
    assert seen("2025-26-Q2") == {"E-0001": (12, False), "E-0002": (5, True)}
    # Q3: nothing reported; 30 September is within a quarter of 1 October, 30 June is not
    assert CARRY_FORWARD_DAYS == 92
    assert seen("2025-26-Q3") == {"E-0001": (12, True)}
    assert seen("2025-26-Q4") == {"E-0001": (8, False)}
    # across the year boundary: 31 March 2026 carries into 2026-27 Q1
    assert seen("2026-27-Q1") == {"E-0001": (8, True), "E-0003": (6, False)}
    # a whole year: the value at its end, never the sum (10 + 12 + 8 + 5 = 35); E-0002's
    # value from June 2025 lapsed long before 31 March 2026
    assert seen("2025-26") == {"E-0001": (8, False)}
    # a month: dated inside it, or carried from at most 92 days before it starts
    assert seen("2025-07-01..2025-07-31") == {"E-0001": (10, True), "E-0002": (5, True)}


def test_events_and_flows_sum_within_the_window(register: Path):
    outcomes = load_current(register).of("outcome")
    p = parse_period
    assert outcome_total(outcomes, "jobs_created", p("2025-26-Q4")) == (1, 0)
    assert outcome_total(outcomes, "jobs_created", p("2026-27-Q1")) == (2, 0)
    assert outcome_total(outcomes, "jobs_created", p("2026-03-01..2026-04-30")) == (3, 0)
    # a flow counts only in a window that holds all of it
    assert outcome_total(outcomes, "money_saved", p("2025-26-Q1")) == (100, 0)
    assert outcome_total(outcomes, "money_saved", p("2025-26-Q3")) == (0, 0)
    assert outcome_total(outcomes, "money_saved", p("2025-26-Q4")) == (0, 0)
    assert outcome_total(outcomes, "money_saved", p("2025-26")) == (150, 0)
    # a snapshot total sums enterprises at one date: Q2 = 12 + 5 (one carried forward)
    assert outcome_total(outcomes, "hours_per_week", p("2025-26-Q2")) == (17, 1)


def test_quarter_one_2025_26(register: Path):
    t = table(register, "2025-26-Q1")
    assert (t.year_to_date.start, t.year_to_date.end) == (D(2025, 4, 1), D(2025, 6, 30))
    expected = {
        "M01": 1,  # E-0002's first contact on 2 May 2025
        "M02": 2,
        "M03": 1,
        "M04": 1,
        "M05": 0,
        "M06": 2,
        "M08": 2,
        "M09": 0,
        "M11": 1,  # EV-1
        "M12": 2,  # two enterprises attended it
        "M13": 0,
        "M14": 15,  # 10 + 5
    }
    for ref, value in expected.items():
        assert t.value(ref) == value, ref
        assert t.value(ref, ytd=True) == value, ref


def test_quarter_two_snapshot_is_not_summed_and_distinct_is_not_summed(register: Path):
    t = table(register, "2025-26-Q2")
    assert t.value("M14") == 17  # 12 + 5 carried forward
    assert t.row("M14").this_period.carried_forward == 1
    assert t.value("M14", ytd=True) == 17  # the value at the YTD end, not 15 + 17
    assert t.value("M02") == 0
    assert t.value("M02", ytd=True) == 2
    assert t.value("M08", ytd=True) == 2


def test_quarter_three_carries_forward_at_most_one_quarter(register: Path):
    t = table(register, "2025-26-Q3")
    assert t.value("M14") == 12  # E-0001 carried from 30 Sept; E-0002's June value lapsed
    assert t.row("M14").this_period.is_carried_forward


def test_quarter_four_and_the_year(register: Path):
    t = table(register, "2025-26-Q4")
    assert t.value("M14") == 8
    assert not t.row("M14").this_period.is_carried_forward
    assert t.value("M14", ytd=True) == 8  # 15 + 17 + 12 + 8 = 52 if it were summed
    assert t.value("M13") == 1
    assert t.value("M13", ytd=True) == 1
    assert t.value("M01") == 1  # E-0003
    assert t.value("M01", ytd=True) == 2  # E-0002 and E-0003
    assert t.value("M02") == 2  # E-0001 and E-0003
    # distinct over the year: E-0001, E-0002, E-0003 = 3; the quarters sum to 2+0+0+2 = 4
    assert t.value("M02", ytd=True) == 3
    assert t.value("M08") == 1
    assert t.value("M08", ytd=True) == 3
    assert t.value("M09") == 1
    assert t.value("M06") == 2  # E-0003 launches only in April 2026
    whole = table(register, "2025-26")
    assert whole.value("M14") == 8
    assert whole.value("M02") == 3
    assert whole.value("M13") == 1


def test_the_next_financial_year_starts_again(register: Path):
    t = table(register, "2026-27-Q1")
    assert (t.year_to_date.start, t.year_to_date.end) == (D(2026, 4, 1), D(2026, 6, 30))
    assert t.value("M13") == 2  # April's jobs only: March's belong to 2025-26
    assert t.value("M13", ytd=True) == 2
    assert t.value("M05") == 1
    assert t.value("M06") == 3
    assert t.value("M14") == 14  # E-0001's 8 carried over the year end, E-0003's 6
    assert t.row("M14").this_period.carried_forward == 1
    assert t.row("M14").year_to_date.carried_forward == 1
    assert t.value("M02", ytd=True) == 1


def test_measures_by_locality_and_service(register: Path):
    t = table(register, "2025-26-Q1", by="locality")
    assert t.groups == ("L-NORTH", "L-SOUTH")
    assert t.value("M02", "L-NORTH") == 1
    assert t.value("M02", "L-SOUTH") == 1
    assert t.value("M14", "L-NORTH") == 10
    assert t.value("M14", "L-SOUTH") == 5
    assert t.value("M14") == 15
    assert t.value("M11", "L-SOUTH") == 1  # distinct per group too
    y = table(register, "2025-26-Q4", by="locality")
    assert y.value("M02", "L-NORTH", ytd=True) == 2  # E-0001 and E-0003
    assert y.value("M02", "L-SOUTH", ytd=True) == 1
    s = table(register, "2025-26-Q1", by="service")
    assert s.value("M14", "companionship_social") == 10
    assert s.value("M14", "meals_cooking") == 5
    assert t.as_json()["rows"][0]["ref"] == "M01"


def test_primary_and_secondary_suppression():
    grid = [[10, 3, 20], [7, 12, 9]]
    # 3 is small; row 0 then reveals it from its total, so its next smallest (10) goes;
    # column 1 likewise (12), and then column 0 has only 10 hidden, so 7 goes too
    assert suppress_grid(grid, 5) == [[True, True, False], [True, True, False]]
    assert suppress_grid([[0, 5, 4]], 5) == [[False, True, True]]  # 4 primary, then 5
    assert suppress_grid([[0, 6, 4]], 5, rows=False) == [[False, False, True]]
    assert suppress_grid([[1, 2], [3, 4]], 5) == [[True, True], [True, True]]
    assert suppress_grid([[20, 30]], 5) == [[False, False]]
    assert suppress_grid([[None, 2, 0, 9]], 5) == [[False, True, False, True]]


def test_suppressing_a_metrics_table(register: Path):
    t = table(register, "2025-26-Q1", by="locality")
    hidden = suppress_table(t, threshold=5)
    assert ("M02", "L-NORTH", "this_period") in hidden
    assert ("M02", "L-SOUTH", "this_period") in hidden
    assert ("M14", None, "this_period") not in hidden  # hours are not suppressed
    assert ("M14", "L-SOUTH", "this_period") not in hidden
    assert ("M05", None, "this_period") not in hidden  # 0 is shown


def test_every_measure_is_documented():
    text = (ROOT / "docs" / "measures.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| (M\d\d) \| ([^|]+?) \|", text, flags=re.MULTILINE))
    assert documented == {m.ref: m.title for m in MEASURES}
    for measure in MEASURES:
        assert measure.numerator in text, measure.ref


def test_the_measures_page_is_generated_from_the_data():
    from mectk.metrics.docs import measures_markdown

    text = (ROOT / "docs" / "measures.md").read_text(encoding="utf-8")
    assert text == measures_markdown()


def test_secondary_suppression_across_localities(register: Path):
    # 2025-26 to Q4: enterprises supported North 2 (E-0001, E-0003), South 1, total 3.
    t = table(register, "2025-26-Q4", by="locality")
    assert [t.value("M02", g, ytd=True) for g in (None, "L-NORTH", "L-SOUTH")] == [3, 2, 1]
    hidden = suppress_table(t, threshold=2)  # only 1 is small
    assert ("M02", "L-SOUTH", "year_to_date") in hidden
    # North's 2 is not small, but with the total 3 it would reveal South's 1
    assert ("M02", "L-NORTH", "year_to_date") in hidden
    assert ("M02", None, "year_to_date") not in hidden
    # within a group, M02 = M03 + M04: South's established 1 (M04) is hidden; its M02 (1)
    # already is, so the family line holds two hidden cells and M03's 0 stays shown
    assert ("M04", "L-SOUTH", "year_to_date") in hidden
    assert ("M03", "L-SOUTH", "year_to_date") not in hidden
