"""The measures pages (``docs/measures.md``, ``docs/kpis.md``), written from the definitions.

Contract: :data:`PAGES` names every generated page: ``measures`` (:func:`measures_markdown`,
every measure of :data:`MEASURES` with its ref, title, kind, unit, numerator and
denominator), ``kpis`` (:func:`kpis_markdown`, every KPI of :data:`KPIS` with its
numerator, denominator, source, kind and polarity) and ``annual``
(:func:`mectk.metrics.annual.annual_measures_markdown`). The docs pages are these texts,
and tests keep them so. Regenerate one with ``python -m mectk.metrics.docs NAME > PATH``
(``measures`` when no name is given), for example
``python -m mectk.metrics.docs kpis > docs/kpis.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

from mectk.metrics.annual import annual_measures_markdown
from mectk.metrics.kpi import KPIS
from mectk.metrics.measures import MEASURES

_HEAD = """# Standard measures

The measures mectk computes from the register for every report (domain.md 4.1). Each is
data in `mectk/metrics/measures.py`; this page is generated from it
(`python -m mectk.metrics.docs > docs/measures.md`) and a test keeps the two in step.

Period rules, by kind:

- **event** and **flow**: summed within the period; the year to date is the sum of the
  quarters. A flow outcome counts in a window only when its `period_start..period_end`
  lies inside it.
- **snapshot**: per enterprise (and breakdown), the latest value dated inside the period
  (inside its last quarter, for a longer period), or else carried forward from at most
  92 days before that starts (flagged `carried_forward`), then summed across
  enterprises. Never summed across periods: the year to date is the value at the end of
  the period.
- **distinct**: distinct over the window; the year to date is not the sum of quarters.

The financial year starts on the programme's `fy_start_month` (1 April by default).
Outcome types take their kind from `codelists.schema.json` (`x-kinds`). External outputs
suppress counts from 1 to `suppression_threshold - 1` (default 5) and apply secondary
suppression; hours are not suppressed.

| Ref | Measure | Kind | Unit | Numerator | Denominator |
|---|---|---|---|---|---|
"""


def measures_markdown() -> str:
    """The text of ``docs/measures.md``."""
    rows = [
        f"| {m.ref} | {m.title} | {m.kind} | {m.unit} | {m.numerator} | {m.denominator or ''} |"
        for m in MEASURES
    ]
    return _HEAD + "\n".join(rows) + "\n"


_KPI_HEAD = """# Contract KPIs

The KPIs of the contract KPI scorecard (domain.md 4.2), KPI1 to KPI9. Each is data in
`mectk/metrics/kpi.py`; this page is generated from it
(`python -m mectk.metrics.docs kpis > docs/kpis.md`) and a test keeps the two in step.
Reports compute them with `mectk.metrics.compute_kpis(records, period)`.

## How actuals are computed

- **event**, **flow** and **distinct** KPIs are **cumulative**: each quarter's actual
  covers the financial year from its first day to the quarter's end. Events and flows
  are summed over that window (a flow counts when its `period_start..period_end` lies
  inside it); distinct counts count each enterprise once over it, so the year to date is
  not the sum of the quarters.
- **snapshot** KPIs are levels at the quarter's end: per enterprise (and breakdown), the
  latest value dated in the quarter, or else carried forward from at most 92 days before
  it (flagged), summed across enterprises. Never summed across quarters.
- **ratio** KPIs are a numerator over a denominator, both counted at the quarter's end,
  shown as a percentage (stored as a fraction, 0.8 for 80%). With a denominator of 0 the
  ratio is n/a.

The financial year starts on the programme's `fy_start_month` (1 April by default).

## Targets and profiling

Targets are `target` records of the programme settings (the `Targets` sheet of the
canonical workbook): `measure` (the KPI ref, such as `KPI1`), `financial_year`
(`2025-26`), `annual_target`, optional `q1_target`..`q3_target` and `polarity`.

- Cumulative KPIs: a quarter's target is its explicit `qN_target`, or else the annual
  target times 0.25, 0.5, 0.75 and 1.0 for Q1 to Q4.
- Snapshot and ratio KPIs have **level** targets: a quarter's explicit `qN_target`, or
  else the annual target.
- Ratio targets are written in per cent (`80` for 80%).
- A target's own `polarity` wins over the KPI's.

## RAG and trend

- **YTD % of profiled target** = actual / profiled target at the reporting quarter.
- Counts, amounts and levels: **Green** at or above `rag_green_pct` (100) per cent of the
  profiled target, **Amber** at or above `rag_amber_pct` (90), **Red** below. For
  `lower_is_better` the share is inverted (target / actual).
- Ratios are compared in percentage points: **Green** at or better than the target,
  **Amber** within `rag_amber_pp` (5) points of it, **Red** beyond.
- No target, a target of 0, or no actual (a ratio with no denominator): **n/a**.
- Thresholds are programme settings (`rag_green_pct`, `rag_amber_pct`, `rag_amber_pp`).
- **Trend** compares the quarter's standing against its target (share of target; for
  ratios, points above it) with the quarter before, which for Q1 is Q4 of the previous
  year: `improving`, `steady` or `worsening`. Without targets, snapshot and ratio KPIs
  compare their levels; otherwise the trend is `n/a`.

## Suppression

External outputs hide counts of people or enterprises from 1 to
`suppression_threshold - 1`; ratios are hidden when their numerator or denominator is
such a number; a cumulative quarter whose rise over the last shown quarter is such a
number is hidden too. Hours and pounds are not suppressed.

"""


def kpis_markdown() -> str:
    """The text of ``docs/kpis.md``."""
    parts = [_KPI_HEAD.rstrip("\n") + "\n"]
    for kpi in KPIS:
        parts.append(
            f"\n## {kpi.ref}: {kpi.title}\n\n"
            f"- Measure type: {kpi.measure_type}\n"
            f"- Temporal kind: {kpi.kind}{' (cumulative)' if kpi.cumulative else ''}\n"
            f"- Polarity: {kpi.polarity.replace('_', ' ')}\n"
            f"- Unit: {kpi.unit}\n"
            f"- Numerator: {kpi.numerator}\n"
            f"- Denominator: {kpi.denominator or 'none'}\n"
            f"- Source: {kpi.source}\n"
            f"- Suppressed in external outputs: {'yes' if kpi.suppressible else 'no'}\n"
        )
    return "".join(parts)


PAGES: Mapping[str, tuple[str, Callable[[], str]]] = {
    "measures": ("docs/measures.md", measures_markdown),
    "kpis": ("docs/kpis.md", kpis_markdown),
    "annual": ("docs/annual-measures.md", annual_measures_markdown),
}
"""Page name -> (its path in the repository, the function writing its text)."""


if __name__ == "__main__":
    name = sys.argv[1] if sys.argv[1:] else "measures"
    if name not in PAGES:
        sys.exit(f"no generated page '{name}'; pages: {', '.join(PAGES)}")
    print(PAGES[name][1](), end="")  # noqa: T201
