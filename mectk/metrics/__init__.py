"""Metrics: the standard measures computed from the register (design.md section 7).

Metrics read the register's current records (the latest version of each) and apply the
period rules of domain.md 2.7: events and flows sum within a period, snapshots take the
latest value at the period's end (carried forward at most one quarter) and are never summed
across periods, distinct counts are distinct over the window. Reports receive a
:class:`MetricsTable`; they never read the register or spreadsheets. The contract KPIs
(:data:`KPIS`, :func:`compute_kpis`) and the annual measures of domain.md 4.3 (a year
beside the year before, :func:`annual_report`) are built on the same rules.
"""

from __future__ import annotations

from mectk.metrics.annual import (
    ANNUAL_MEASURES,
    HEADLINES,
    AnnualMeasure,
    AnnualReport,
    CohortRow,
    FundingRow,
    HeadlineRow,
    SavingsMethod,
    ServiceRow,
    SpendRow,
    annual_report,
    fy_label,
    previous_year,
)
from mectk.metrics.context import fy_quarters, report_context
from mectk.metrics.kpi import (
    KPIS,
    KPIS_BY_REF,
    Kpi,
    KpiLine,
    KpiQuarter,
    KpiScorecard,
    KpiTarget,
    KpiValue,
    RagThresholds,
    compute_kpis,
    kpi_targets,
    profiled_target,
    rag,
    suppress_scorecard,
)
from mectk.metrics.measures import MEASURES, MEASURES_BY_REF, GroupBy, Measure, MetricValue
from mectk.metrics.outcomes import (
    SnapshotValue,
    outcome_kinds,
    outcome_total,
    snapshot_values,
    summed_values,
)
from mectk.metrics.records import CurrentRecords, load_current
from mectk.metrics.suppression import primary, suppress_grid, suppress_lines, suppress_table
from mectk.metrics.table import MetricRow, MetricsTable, compute_measures
from mectk.metrics.windows import CARRY_FORWARD_DAYS, fy_start, year_to_date

__all__ = [
    "ANNUAL_MEASURES",
    "CARRY_FORWARD_DAYS",
    "HEADLINES",
    "KPIS",
    "KPIS_BY_REF",
    "MEASURES",
    "MEASURES_BY_REF",
    "AnnualMeasure",
    "AnnualReport",
    "CohortRow",
    "CurrentRecords",
    "FundingRow",
    "GroupBy",
    "HeadlineRow",
    "Kpi",
    "KpiLine",
    "KpiQuarter",
    "KpiScorecard",
    "KpiTarget",
    "KpiValue",
    "Measure",
    "MetricRow",
    "MetricValue",
    "MetricsTable",
    "RagThresholds",
    "SavingsMethod",
    "ServiceRow",
    "SnapshotValue",
    "SpendRow",
    "annual_report",
    "compute_kpis",
    "compute_measures",
    "fy_label",
    "fy_quarters",
    "fy_start",
    "kpi_targets",
    "load_current",
    "outcome_kinds",
    "outcome_total",
    "previous_year",
    "primary",
    "profiled_target",
    "rag",
    "report_context",
    "snapshot_values",
    "summed_values",
    "suppress_grid",
    "suppress_lines",
    "suppress_scorecard",
    "suppress_table",
    "year_to_date",
]
