"""Contract KPIs KPI1 to KPI9 (domain.md 4.2): definitions as data, targets, RAG and trend.

Contract:

* :data:`KPIS` lists every KPI once, in scorecard order. Each :class:`Kpi` says what it
  counts (``numerator``), what it is a share of (``denominator``, ratios only), where the
  figures come from (``source``), its temporal ``kind`` and its ``polarity``.
* Actuals are cumulative for the financial year: ``event``, ``flow`` and ``distinct``
  KPIs are computed over the window from the start of the financial year to the quarter's
  end (events and flows summed, distinct counted once over the window); ``snapshot`` and
  ``ratio`` KPIs are levels at the quarter's end (the latest snapshot at or before it,
  carried forward at most one quarter, flagged), never summed across quarters. The rules
  are those of :mod:`mectk.metrics.measures` and :mod:`mectk.metrics.outcomes`.
* Targets come from the programme settings (``target`` records, or the programme's
  ``targets``) for the financial year. A quarter's target is its explicit ``qN_target``
  or, for cumulative KPIs, the annual target times 0.25, 0.5, 0.75 and 1.0; snapshot and
  ratio KPIs have level targets (the annual target when a quarter's is blank). Ratio
  targets are written in per cent (``80`` for 80%); ratio values are fractions (0.8).
* RAG (:func:`rag`): against the profiled target, Green at or above ``rag_green_pct``
  (100), Amber at or above ``rag_amber_pct`` (90), Red below; for lower-is-better KPIs
  the share is inverted (target / actual). Ratios are compared in percentage points:
  Green at or better than the target, Amber within ``rag_amber_pp`` (5) points of it.
  No target, a target of 0, or no actual gives ``n/a``. Thresholds come from the
  programme settings.
* Trend (:func:`trend`): the quarter's standing against its target compared with the
  quarter before (which may be in the previous financial year); without targets, the
  level of snapshot and ratio KPIs; ``n/a`` otherwise.

``docs/kpis.md`` documents every KPI; a test keeps the two in step.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from attrs import frozen

from mectk.metrics.measures import MEASURES_BY_REF, Context
from mectk.metrics.outcomes import summed_rows
from mectk.metrics.records import CurrentRecords, Record, day, number
from mectk.metrics.suppression import primary
from mectk.metrics.windows import fy_start
from mectk.periods import Period

KpiKind = Literal["event", "snapshot", "flow", "distinct", "ratio"]
Polarity = Literal["higher_is_better", "lower_is_better"]
Rag = Literal["green", "amber", "red", "n/a"]
Trend = Literal["improving", "steady", "worsening", "n/a"]

CUMULATIVE_KINDS: tuple[KpiKind, ...] = ("event", "flow", "distinct")
"""Kinds whose actuals accumulate from the start of the financial year."""
DEFAULT_PROFILE = (Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), Decimal(1))
"""Share of the annual target due by the end of each quarter (cumulative KPIs)."""
SAVINGS_TYPES = ("money_saved", "money_saved_programme")
NOT_MEETING = ("lapsed", "withdrawn")
"""Accreditation statuses under which a recorded quality standard no longer counts."""


@frozen
class KpiValue:
    """A KPI's actual for one window: the numerator, the denominator (ratios only) and how
    many snapshot values in it were carried forward."""

    numerator: Decimal
    denominator: Decimal | None = None
    carried_forward: int = 0

    @property
    def value(self) -> Decimal | None:
        """The figure: the numerator, or for a ratio numerator / denominator (a fraction),
        None when the denominator is 0."""
        if self.denominator is None:
            return self.numerator
        if self.denominator == 0:
            return None
        return self.numerator / self.denominator


KpiCompute = Callable[[Context, Period], KpiValue]


@frozen(kw_only=True)
class Kpi:
    """A contract KPI.

    :param ref: ``KPI1`` ... ``KPI9``.
    :param title: the row label on the scorecard.
    :param measure_type: the scorecard's "Measure type", in words.
    :param numerator: what is counted or summed, in words.
    :param denominator: what a ratio is a share of, in words (None unless ``ratio``).
    :param source: the source entity and fields.
    :param kind: ``event``, ``snapshot``, ``flow``, ``distinct`` or ``ratio``.
    :param polarity: ``higher_is_better`` or ``lower_is_better`` (a target's own
        polarity, when set, wins).
    :param unit: ``enterprises``, ``hours``, ``people``, ``jobs``, ``gbp`` or ``percent``.
    :param suppressible: whether the figure counts people or enterprises, so small values
        are suppressed in external outputs (a ratio: its numerator and denominator).
    :param compute: the rule: the actual for a window.
    """

    ref: str
    title: str
    measure_type: str
    numerator: str
    denominator: str | None
    source: str
    kind: KpiKind
    polarity: Polarity
    unit: str
    compute: KpiCompute
    suppressible: bool = True

    @property
    def cumulative(self) -> bool:
        """Whether actuals accumulate from the start of the financial year."""
        return self.kind in CUMULATIVE_KINDS


# ---- rules ------------------------------------------------------------------------------


def _measure(ref: str) -> KpiCompute:
    """The actual of a standard measure (one rule for the measure and the KPI)."""
    measure = MEASURES_BY_REF[ref]

    def compute(ctx: Context, window: Period) -> KpiValue:
        found = measure.compute(ctx, window).get(None)
        if found is None:
            return KpiValue(Decimal(0))
        return KpiValue(found.value, carried_forward=found.carried_forward)

    return compute


def _launched(ctx: Context, window: Period) -> KpiValue:
    start, end = window.start.isoformat(), window.end.isoformat()
    ids = {
        e
        for e, _b, at, _s, _e, value, _t in ctx.outcomes("enterprise_launched")
        if e and at and start <= at <= end and number(value) > 0
    }
    for enterprise_id, record in ctx.enterprises.items():
        launched = day(record.get("launch_date"))
        if (
            record.get("origin") == "new"
            and launched is not None
            and window.start <= launched <= window.end
        ):
            ids.add(enterprise_id)
    return KpiValue(Decimal(len(ids)))


def _established_supported(ctx: Context, window: Period) -> KpiValue:
    ids = {
        eid
        for e in ctx.episodes(window)
        if (eid := e.get("enterprise_id"))
        and ctx.enterprises.get(eid, {}).get("origin") == "established"
    }
    return KpiValue(Decimal(len(ids)))


def meets_quality_standard(record: Record, outcomes_met: set[str], when: datetime.date) -> bool:
    """Whether an enterprise met the quality standard on ``when``: a quality_standard_met
    outcome on or before it (``outcomes_met``), or a recorded standard (not ``none``)
    dated on or before it whose accreditation has not lapsed or been withdrawn."""
    if record.get("enterprise_id") in outcomes_met:
        return True
    standard = record.get("quality_standard")
    since = day(record.get("quality_standard_date"))
    return (
        standard not in (None, "none", "invalid_unmapped")
        and since is not None
        and since <= when
        and record.get("accreditation_status") not in NOT_MEETING
    )


def _quality_share(ctx: Context, window: Period) -> KpiValue:
    end = window.end.isoformat()
    met = {
        e
        for e, _b, at, _s, _e, value, _t in ctx.outcomes("quality_standard_met")
        if e and at is not None and at <= end and number(value) > 0
    }
    trading = ctx.trading_on(window.end)
    meeting = [e for e in trading if meets_quality_standard(ctx.enterprises[e], met, window.end)]
    return KpiValue(Decimal(len(meeting)), Decimal(len(trading)))


def add_months(when: datetime.date, months: int) -> datetime.date:
    """``when`` plus whole months (may be negative); a day past the new month's end
    becomes its last day (29 February + 12 months is 28 February)."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    last = (following - datetime.timedelta(days=1)).day
    return datetime.date(year, month, min(when.day, last))


def _sustained(ctx: Context, window: Period) -> KpiValue:
    due = []
    for enterprise_id, record in ctx.enterprises.items():
        launched = day(record.get("launch_date"))
        if (
            record.get("origin") == "new"
            and launched is not None
            and add_months(launched, 12) <= window.end
        ):
            due.append(enterprise_id)
    trading = ctx.trading_on(window.end)
    return KpiValue(Decimal(sum(e in trading for e in due)), Decimal(len(due)))


def _savings(ctx: Context, window: Period) -> KpiValue:
    total = Decimal(0)
    for outcome_type in SAVINGS_TYPES:
        total += sum(
            (number(v) for _e, v in summed_rows(ctx.outcomes(outcome_type), "flow", window)),
            Decimal(0),
        )
    return KpiValue(total)


KPIS: tuple[Kpi, ...] = (
    Kpi(
        ref="KPI1",
        title="New community micro-enterprises launched",
        measure_type="Cumulative count",
        numerator="distinct enterprises launched in the window: an enterprise_launched outcome "
        "dated in it, or origin new with launch_date in it",
        denominator=None,
        source="Enterprise (origin, launch_date); Outcome enterprise_launched (as_at_date)",
        kind="event",
        polarity="higher_is_better",
        unit="enterprises",
        compute=_launched,
    ),
    Kpi(
        ref="KPI2",
        title="Established enterprises supported",
        measure_type="Cumulative distinct count",
        numerator="distinct enterprises whose origin is established with at least one support "
        "episode in the window",
        denominator=None,
        source="SupportEpisode (enterprise_id, episode_date); Enterprise (origin)",
        kind="distinct",
        polarity="higher_is_better",
        unit="enterprises",
        compute=_established_supported,
    ),
    Kpi(
        ref="KPI3",
        title="Hours of care and support per week",
        measure_type="Snapshot (level at quarter end)",
        numerator="hours_per_week snapshot at the quarter end, summed over enterprises trading "
        "then (as M14)",
        denominator=None,
        source="Outcome hours_per_week (value, as_at_date); Enterprise (launch_date, "
        "closure_date, status)",
        kind="snapshot",
        polarity="higher_is_better",
        unit="hours",
        compute=_measure("M14"),
        suppressible=False,
    ),
    Kpi(
        ref="KPI4",
        title="People supported per week",
        measure_type="Snapshot (level at quarter end)",
        numerator="people_supported_weekly snapshot at the quarter end, summed over "
        "enterprises (as M15)",
        denominator=None,
        source="Outcome people_supported_weekly (value, as_at_date)",
        kind="snapshot",
        polarity="higher_is_better",
        unit="people",
        compute=_measure("M15"),
    ),
    Kpi(
        ref="KPI5",
        title="% of trading enterprises meeting the quality standard",
        measure_type="Snapshot ratio (%)",
        numerator="enterprises trading at the quarter end that meet the quality standard then "
        "(a quality_standard_met outcome, or a quality_standard dated by then and not lapsed)",
        denominator="enterprises trading at the quarter end",
        source="Enterprise (quality_standard, quality_standard_date, accreditation_status, "
        "launch_date, closure_date, status); Outcome quality_standard_met",
        kind="ratio",
        polarity="higher_is_better",
        unit="percent",
        compute=_quality_share,
    ),
    Kpi(
        ref="KPI6",
        title="New jobs created",
        measure_type="Cumulative count",
        numerator="sum of jobs_created outcome events dated in the window (as M13)",
        denominator=None,
        source="Outcome jobs_created (value, as_at_date)",
        kind="event",
        polarity="higher_is_better",
        unit="jobs",
        compute=_measure("M13"),
    ),
    Kpi(
        ref="KPI7",
        title="% of enterprises launched 12 months ago or more still trading",
        measure_type="Ratio (%)",
        numerator="enterprises in the denominator trading at the quarter end",
        denominator="enterprises of origin new whose launch_date + 12 months is on or before "
        "the quarter end",
        source="Enterprise (origin, launch_date, closure_date, status, status_date)",
        kind="ratio",
        polarity="higher_is_better",
        unit="percent",
        compute=_sustained,
    ),
    Kpi(
        ref="KPI8",
        title="Estimated annual savings to the council (£)",
        measure_type="Cumulative flow (£)",
        numerator="sum of money_saved and money_saved_programme flows whose period lies in "
        "the window",
        denominator=None,
        source="Outcome money_saved, money_saved_programme (value, period_start, period_end)",
        kind="flow",
        polarity="higher_is_better",
        unit="gbp",
        compute=_savings,
        suppressible=False,
    ),
    Kpi(
        ref="KPI9",
        title="People using a Direct Payment supported by CMEs",
        measure_type="Snapshot (level at quarter end)",
        numerator="people_supported_by_funding snapshot with breakdown direct_payment at the "
        "quarter end (as M16)",
        denominator=None,
        source="Outcome people_supported_by_funding, breakdown direct_payment (value, as_at_date)",
        kind="snapshot",
        polarity="higher_is_better",
        unit="people",
        compute=_measure("M16"),
    ),
)
"""The contract KPIs, in scorecard order."""

KPIS_BY_REF: Mapping[str, Kpi] = {k.ref: k for k in KPIS}


# ---- targets and thresholds ----------------------------------------------------------------


@frozen
class KpiTarget:
    """A KPI's target for one financial year: the annual figure, each quarter's explicit
    target (None when blank) and the polarity the settings give (None: the KPI's)."""

    annual: Decimal
    quarters: tuple[Decimal | None, Decimal | None, Decimal | None] = (None, None, None)
    polarity: Polarity | None = None


def kpi_targets(records: CurrentRecords, financial_year: str) -> dict[str, KpiTarget]:
    """KPI ref -> its target for ``financial_year`` (``2025-26``), from the ``target``
    records and the programme's own ``targets``; a later record for the same KPI wins."""
    found: dict[str, KpiTarget] = {}
    sources: Iterable[Record] = (*(records.programme.get("targets") or ()), *records.of("target"))
    for raw in sources:
        if _fy_label(str(raw.get("financial_year") or "")) != financial_year:
            continue
        ref = str(raw.get("measure") or "").upper()
        if raw.get("annual_target") is None:
            continue
        quarters = tuple(
            None if raw.get(f"q{n}_target") is None else number(raw.get(f"q{n}_target"))
            for n in (1, 2, 3)
        )
        found[ref] = KpiTarget(number(raw["annual_target"]), quarters, raw.get("polarity"))  # type: ignore[arg-type]
    return found


def _fy_label(text: str) -> str:
    return text.replace("/", "-")


def profiled_target(kpi: Kpi, target: KpiTarget | None, quarter: int) -> Decimal | None:
    """The target due at the end of ``quarter`` (1 to 4) of the year; a ratio's as a
    fraction. Explicit quarter targets win; Q4's is the annual target."""
    if target is None:
        return None
    explicit = target.quarters[quarter - 1] if quarter < 4 else target.annual
    if explicit is not None:
        amount = explicit
    elif kpi.cumulative:
        amount = target.annual * DEFAULT_PROFILE[quarter - 1]
    else:
        amount = target.annual
    return amount / 100 if kpi.kind == "ratio" else amount


@frozen
class RagThresholds:
    """Where Green and Amber start (per cent of target), and the Amber band for ratios
    (percentage points)."""

    green_pct: Decimal = Decimal(100)
    amber_pct: Decimal = Decimal(90)
    amber_pp: Decimal = Decimal(5)

    @classmethod
    def from_programme(cls, programme: Mapping[str, Any]) -> RagThresholds:
        """The thresholds the programme settings give (defaults where blank)."""
        default = cls()
        return cls(
            _setting(programme, "rag_green_pct", default.green_pct),
            _setting(programme, "rag_amber_pct", default.amber_pct),
            _setting(programme, "rag_amber_pp", default.amber_pp),
        )


def _setting(programme: Mapping[str, Any], name: str, default: Decimal) -> Decimal:
    value = programme.get(name)
    return default if value is None or value == "" else number(value)


def attainment(actual: Decimal | None, target: Decimal | None) -> Decimal | None:
    """Actual as a fraction of target (None without a target of more than 0 or an actual)."""
    if actual is None or target is None or target == 0:
        return None
    return actual / target


def rag(
    kpi: Kpi,
    actual: Decimal | None,
    target: Decimal | None,
    thresholds: RagThresholds = RagThresholds(),
    polarity: Polarity | None = None,
) -> Rag:
    """The RAG rating of ``actual`` against the profiled ``target`` (module docstring)."""
    if actual is None or target is None or target == 0:
        return "n/a"
    lower = (polarity or kpi.polarity) == "lower_is_better"
    if kpi.kind == "ratio":
        gap = (target - actual if lower else actual - target) * 100  # points above target
        if gap >= 0:
            return "green"
        return "amber" if gap >= -thresholds.amber_pp else "red"
    if lower:
        share = Decimal("Infinity") if actual == 0 else target / actual * 100
    else:
        share = actual / target * 100
    if share >= thresholds.green_pct:
        return "green"
    return "amber" if share >= thresholds.amber_pct else "red"


# ---- the scorecard ---------------------------------------------------------------------------


@frozen
class KpiQuarter:
    """A KPI at one quarter's end: the cumulative window, actual, profiled target,
    actual as a share of target, and RAG."""

    quarter: Period
    number: int
    window: Period
    actual: KpiValue
    target: Decimal | None
    percent_of_target: Decimal | None
    rag: Rag


@frozen
class KpiLine:
    """One KPI on the scorecard: its target for the year and the profiled target of each
    of its four quarters (a ratio's as a fraction), each quarter of the year up to the
    period's end, and the trend at the last of them."""

    kpi: Kpi
    annual_target: Decimal | None
    polarity: Polarity
    quarters: tuple[KpiQuarter, ...]
    trend: Trend
    quarter_targets: tuple[Decimal | None, ...] = (None, None, None, None)

    @property
    def latest(self) -> KpiQuarter:
        """The reporting quarter (the last one)."""
        return self.quarters[-1]


@frozen
class KpiScorecard:
    """Every KPI for a financial year's quarters up to the reporting period's end."""

    period: Period
    financial_year: str
    quarters: tuple[Period, ...]
    lines: tuple[KpiLine, ...]
    thresholds: RagThresholds

    def line(self, ref: str) -> KpiLine:
        """The line of KPI ``ref``."""
        for found in self.lines:
            if found.kpi.ref == ref:
                return found
        msg = f"no KPI {ref!r}"
        raise KeyError(msg)


def fy_label(start: datetime.date) -> str:
    """The financial year label (``2025-26``) of a year starting on ``start``."""
    return f"{start.year}-{(start.year + 1) % 100:02d}"


def _quarters_of_year(start: datetime.date) -> list[Period]:
    label = fy_label(start)
    out = []
    for n in range(4):
        first = add_months(start, 3 * n)
        last = add_months(start, 3 * (n + 1)) - datetime.timedelta(days=1)
        out.append(Period(f"{label}-Q{n + 1}", first, last))
    return out


def _evaluate(
    ctx: Context,
    kpi: Kpi,
    quarter: Period,
    number_in_year: int,
    fy_first: datetime.date,
    target: KpiTarget | None,
    thresholds: RagThresholds,
) -> KpiQuarter:
    window = Period(f"{fy_label(fy_first)} to {quarter.end}", fy_first, quarter.end)
    actual = kpi.compute(ctx, window if kpi.cumulative else quarter)
    due = profiled_target(kpi, target, number_in_year)
    polarity = (target.polarity if target else None) or kpi.polarity
    value = actual.value
    return KpiQuarter(
        quarter=quarter,
        number=number_in_year,
        window=window if kpi.cumulative else quarter,
        actual=actual,
        target=due,
        percent_of_target=attainment(value, due),
        rag=rag(kpi, value, due, thresholds, polarity),
    )


def _standing(kpi: Kpi, polarity: Polarity, found: KpiQuarter) -> Decimal | None:
    """How well a quarter stands against its target, higher better; None without one."""
    value, target = found.actual.value, found.target
    if value is None or target is None or target == 0:
        return None
    lower = polarity == "lower_is_better"
    if kpi.kind == "ratio":
        return target - value if lower else value - target
    if lower:
        return Decimal("Infinity") if value == 0 else target / value
    return value / target


def trend(kpi: Kpi, polarity: Polarity, before: KpiQuarter | None, now: KpiQuarter) -> Trend:
    """Whether ``now`` stands better or worse than the quarter ``before`` (module docstring)."""
    if before is None:
        return "n/a"
    pair = (_standing(kpi, polarity, before), _standing(kpi, polarity, now))
    if None in pair and not kpi.cumulative:
        pair = (before.actual.value, now.actual.value)
        if polarity == "lower_is_better" and None not in pair:
            pair = (-pair[0], -pair[1])  # type: ignore[operator]
    old, new = pair
    if old is None or new is None:
        return "n/a"
    if new > old:
        return "improving"
    return "worsening" if new < old else "steady"


def compute_kpis(
    records: CurrentRecords, period: Period, kpis: Sequence[Kpi] = KPIS
) -> KpiScorecard:
    """Every KPI for each quarter of the financial year holding the period's end, up to
    the quarter holding it, with targets, RAG and trend from the programme settings."""
    ctx = Context(records)
    first = fy_start(period.end, records.fy_start_month)
    year = fy_label(first)
    quarters = [q for q in _quarters_of_year(first) if q.start <= period.end]
    previous_first = add_months(first, -12)
    previous_q4 = _quarters_of_year(previous_first)[3]
    thresholds = RagThresholds.from_programme(records.programme)
    targets = kpi_targets(records, year)
    previous_targets = kpi_targets(records, fy_label(previous_first))
    lines = []
    for kpi in kpis:
        target = targets.get(kpi.ref)
        polarity: Polarity = (target.polarity if target else None) or kpi.polarity
        found = tuple(
            _evaluate(ctx, kpi, q, n, first, target, thresholds)
            for n, q in enumerate(quarters, start=1)
        )
        if len(found) > 1:
            before: KpiQuarter | None = found[-2]
        else:
            before = _evaluate(
                ctx, kpi, previous_q4, 4, previous_first, previous_targets.get(kpi.ref), thresholds
            )
        lines.append(
            KpiLine(
                kpi=kpi,
                annual_target=None if target is None else target.annual,
                polarity=polarity,
                quarters=found,
                trend=trend(kpi, polarity, before, found[-1]),
                quarter_targets=tuple(profiled_target(kpi, target, n) for n in (1, 2, 3, 4)),
            )
        )
    return KpiScorecard(period, year, tuple(quarters), tuple(lines), thresholds)


# ---- suppression -----------------------------------------------------------------------------


def suppress_scorecard(scorecard: KpiScorecard, threshold: int) -> set[tuple[str, int]]:
    """(KPI ref, quarter number) of the actuals an external output must not show.

    Primary: a suppressible count from 1 to ``threshold - 1``, or a ratio whose
    numerator or denominator is one. Secondary, for cumulative KPIs: a quarter whose
    rise over the last shown quarter is such a small number is hidden too, so the
    quarter's own count cannot be worked out by subtraction.
    """
    hidden: set[tuple[str, int]] = set()
    for line in scorecard.lines:
        kpi = line.kpi
        if not kpi.suppressible:
            continue
        shown: Decimal = Decimal(0)
        for found in line.quarters:
            actual = found.actual
            if kpi.kind == "ratio":
                small = primary(actual.numerator, threshold) or primary(
                    actual.denominator, threshold
                )
            else:
                small = primary(actual.numerator, threshold)
                if kpi.cumulative and not small:
                    small = primary(actual.numerator - shown, threshold)
            if small:
                hidden.add((kpi.ref, found.number))
            elif kpi.cumulative:
                shown = actual.numerator
    return hidden
