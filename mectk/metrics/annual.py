"""The annual measures (domain.md 4.3): a financial year beside the one before it.

Contract: :func:`annual_report` computes, from the register's current records, everything
an annual outcomes report shows for one financial year: the headlines for the year and
the previous year with their change, enterprises by service type, sustainability cohorts
by launch quarter, the funding mix, the SME share of adult social care spend from
``spend_line`` records, and the savings method. It reuses the rules of the standard
measures (:mod:`mectk.metrics.measures`): snapshots are taken as at 31 March (the year's
last day, carried forward at most one quarter) and never summed across periods; events
and flows are summed within the year.

Every measure is data (:data:`ANNUAL_MEASURES`) with its numerator, denominator and kind;
``docs/annual-measures.md`` is generated from it (:func:`annual_measures_markdown`) and a
test keeps the two in step. Values are not suppressed: a report applies
:func:`mectk.metrics.suppression.suppress_lines` before anything leaves the council.
"""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Literal

from attrs import frozen

from mectk.metrics.measures import MEASURES_BY_REF, Context
from mectk.metrics.outcomes import rows_of, snapshot_rows, summed_rows
from mectk.metrics.records import CurrentRecords, Record, day, number
from mectk.periods import Period, parse_period
from mectk.schemas import codelist

AnnualKind = Literal["event", "snapshot", "flow", "ratio"]
Section = Literal[
    "Headlines", "By_Service_Type", "Sustainability_Cohort", "Funding_Mix", "SME_Spend"
]
HUNDRED = Decimal(100)
DEFAULT_SME_TARGET = Decimal(33)
NEW_ORIGIN = "new"
SME_SIZES = ("micro", "small", "medium")
ROUTES = ("direct", "supply_chain")
FUNDING_ROUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Direct Payment", ("direct_payment",)),
    ("Self-funded", ("self_funded",)),
    ("LA commissioned", ("la_commissioned",)),
    ("NHS Personal Health Budget", ("nhs_phb",)),
    ("Other/unknown", ("other", "unknown")),
)
"""(label, breakdown codes) of each funding route row, in report order."""
SAVINGS_TYPES = ("money_saved", "money_saved_programme")
SAVINGS_FORMULA = (
    "Savings = sum over enterprises of (comparator hourly rate - enterprise hourly rate) "
    "x council-funded hours in the year, recorded as money_saved outcomes (flows), plus "
    "any programme-level money_saved_programme figure"
)
SAVINGS_CAVEATS = (
    "Only council-funded hours count; self-funded hours save the council nothing.",
    "The comparator is the council's framework home-care rate; micro-enterprise support "
    "is often not like-for-like with framework home care.",
    "Figures are estimates recorded with a method note; they are not audited savings.",
)


@frozen(kw_only=True)
class AnnualMeasure:
    """One annual measure, as data.

    :param ref: ``A01`` ... (headlines), ``S..`` (by service), ``C..`` (cohorts), ``F..``
        (funding mix), ``P..`` (spend).
    :param section: the report sheet it belongs to.
    :param title: the row or column label.
    :param numerator: what is counted or summed, in words.
    :param denominator: what it is a share of, in words or a ref (None for a count).
    :param kind: ``event`` or ``flow`` (summed in the year), ``snapshot`` (as at 31
        March, never summed across years) or ``ratio``.
    :param unit: ``enterprises``, ``jobs``, ``hours``, ``people``, ``gbp`` or ``percent``.
    :param ascof: the ASCOF 2023+ objective a headline is tagged to ('' for others).
    :param suppressible: whether it counts people or enterprises (small values are
        suppressed in external outputs).
    :param compute: for headlines: the value for a financial year (None: no data).
    """

    ref: str
    section: Section
    title: str
    numerator: str
    denominator: str | None
    kind: AnnualKind
    unit: str
    ascof: str = ""
    suppressible: bool = False
    compute: Callable[[AnnualContext], Decimal | None] | None = None


class AnnualContext:
    """The current records and one financial year, with the standard measures' rules."""

    def __init__(self, records: CurrentRecords, year: Period) -> None:
        self.records = records
        self.year = year
        self.measures = Context(records)
        self.enterprises = self.measures.enterprises

    def standard(self, ref: str) -> Decimal:
        """The whole-programme value of standard measure ``ref`` for the year."""
        return MEASURES_BY_REF[ref].compute(self.measures, self.year)[None].value

    def trading(self) -> frozenset[str]:
        """Enterprises trading at the year's end (31 March)."""
        return self.measures.trading_on(self.year.end)

    def snapshot_by_enterprise(
        self, outcome_type: str, breakdown: str | None = None
    ) -> dict[str, Decimal]:
        """enterprise_id -> its snapshot value as at the year's end (summed over
        breakdowns when ``breakdown`` is None and the type has them)."""
        rows = self.measures.outcomes(outcome_type)
        if breakdown is not None:
            rows = [r for r in rows if r[1] == breakdown]
        out: dict[str, Decimal] = {}
        for (enterprise_id, _part), (_at, value, _carried) in snapshot_rows(
            rows, self.year
        ).items():
            if enterprise_id is not None:
                out[enterprise_id] = out.get(enterprise_id, Decimal(0)) + number(value)
        return out

    def spend(self) -> list[Record]:
        """Spend lines of the year (``financial_year`` equal to the year's label)."""
        label = fy_label(self.year)
        return [s for s in self.records.of("spend_line") if s.get("financial_year") == label]


def fy_label(year: Period) -> str:
    """``2025-26`` for the financial year starting in 2025."""
    first = year.start.year
    return f"{first}-{(first + 1) % 100:02d}"


def previous_year(year: Period) -> Period:
    """The same span a year earlier: the financial year before a whole ``year``, or the
    same months of the year before for a year to date."""
    first = year.start.year - 1
    whole = parse_period(f"{first}-{(first + 1) % 100:02d}", fy_start_month=year.start.month)
    if a_year_after(whole.end) == year.end:
        return whole
    try:
        end = year.end.replace(year=year.end.year - 1)
    except ValueError:  # 29 February
        end = year.end.replace(year=year.end.year - 1, day=28)
    return Period(f"{fy_label(whole)} to {end.isoformat()}", whole.start, end)


def a_year_after(when: datetime.date) -> datetime.date:
    """The same day a year later (28 February for 29 February)."""
    try:
        return when.replace(year=when.year + 1)
    except ValueError:
        return when.replace(year=when.year + 1, day=28)


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if whole == 0 else part * HUNDRED / whole


# ---- headline rules ---------------------------------------------------------------------


def _new_in_year(ctx: AnnualContext) -> Decimal:
    start, end = ctx.year.start, ctx.year.end
    return Decimal(
        sum(
            1
            for eid in ctx.trading()
            if ctx.enterprises[eid].get("origin") == NEW_ORIGIN
            and (launched := day(ctx.enterprises[eid].get("launch_date"))) is not None
            and start <= launched <= end
        )
    )


Cohort = Literal["sustained", "closed", "not_yet_due"]


def cohort_of(ctx: AnnualContext, enterprise: Record) -> tuple[datetime.date, Cohort] | None:
    """(launch date, outcome at +12 months as seen at the year's end) of a new enterprise
    with a launch date, or None for others."""
    launched = day(enterprise.get("launch_date"))
    if enterprise.get("origin") != NEW_ORIGIN or launched is None:
        return None
    due = a_year_after(launched)
    if due > ctx.year.end:
        return launched, "not_yet_due"
    trading = ctx.measures.trading_at(enterprise["enterprise_id"], due)
    return launched, "sustained" if trading else "closed"


def _sustainability(ctx: AnnualContext) -> Decimal | None:
    sustained = closed = 0
    for enterprise in ctx.enterprises.values():
        found = cohort_of(ctx, enterprise)
        if found is None or not ctx.year.start <= a_year_after(found[0]) <= ctx.year.end:
            continue
        sustained += found[1] == "sustained"
        closed += found[1] == "closed"
    return _share(Decimal(sustained), Decimal(sustained + closed))


def _savings(ctx: AnnualContext) -> Decimal:
    return sum((v for _e, v in savings_rows(ctx)), Decimal(0))


def savings_rows(ctx: AnnualContext) -> list[tuple[str | None, Decimal]]:
    """(enterprise_id, amount) of every savings flow inside the year."""
    out: list[tuple[str | None, Decimal]] = []
    for outcome_type in SAVINGS_TYPES:
        chosen = (o for o in ctx.records.of("outcome") if o.get("outcome_type") == outcome_type)
        rows = rows_of(chosen)
        out.extend((e, number(v)) for e, v in summed_rows(rows, "flow", ctx.year))
    return out


def _sme_share(ctx: AnnualContext) -> Decimal | None:
    return spend_row("All spend", None, ctx.spend()).share


HEADLINES: tuple[AnnualMeasure, ...] = (
    AnnualMeasure(
        ref="A01",
        section="Headlines",
        title="Enterprises trading at 31 March",
        numerator="enterprises launched on or before 31 March and not closed, paused or "
        "stopped by then (M06 at the year's end)",
        denominator=None,
        kind="snapshot",
        unit="enterprises",
        ascof="Continuity and quality of care (a diverse local market)",
        suppressible=True,
        compute=lambda ctx: ctx.standard("M06"),
    ),
    AnnualMeasure(
        ref="A02",
        section="Headlines",
        title="of which new in year",
        numerator="enterprises counted in A01 whose origin is new and whose launch_date is "
        "in the year",
        denominator="A01",
        kind="snapshot",
        unit="enterprises",
        ascof="Continuity and quality of care (a diverse local market)",
        suppressible=True,
        compute=_new_in_year,
    ),
    AnnualMeasure(
        ref="A03",
        section="Headlines",
        title="Jobs created in year",
        numerator="sum of jobs_created outcome events dated in the year (M13)",
        denominator=None,
        kind="event",
        unit="jobs",
        ascof="Workforce capacity",
        suppressible=True,
        compute=lambda ctx: ctx.standard("M13"),
    ),
    AnnualMeasure(
        ref="A04",
        section="Headlines",
        title="Hours of care and support per week",
        numerator="hours_per_week snapshot as at 31 March, summed over enterprises trading "
        "then (M14)",
        denominator=None,
        kind="snapshot",
        unit="hours",
        ascof="Independence",
        compute=lambda ctx: ctx.standard("M14"),
    ),
    AnnualMeasure(
        ref="A05",
        section="Headlines",
        title="People supported per week",
        numerator="people_supported_weekly snapshot as at 31 March, summed over enterprises (M15)",
        denominator=None,
        kind="snapshot",
        unit="people",
        ascof="Social connections; Independence",
        suppressible=True,
        compute=lambda ctx: ctx.standard("M15"),
    ),
    AnnualMeasure(
        ref="A06",
        section="Headlines",
        title="People using a Direct Payment",
        numerator="people_supported_by_funding snapshot with breakdown direct_payment as at "
        "31 March (M16)",
        denominator="A05",
        kind="snapshot",
        unit="people",
        ascof="Empowerment (choice and control)",
        suppressible=True,
        compute=lambda ctx: ctx.standard("M16"),
    ),
    AnnualMeasure(
        ref="A07",
        section="Headlines",
        title="People self-funding",
        numerator="people_supported_by_funding snapshot with breakdown self_funded as at "
        "31 March (M17)",
        denominator="A05",
        kind="snapshot",
        unit="people",
        ascof="Empowerment (choice and control)",
        suppressible=True,
        compute=lambda ctx: ctx.standard("M17"),
    ),
    AnnualMeasure(
        ref="A08",
        section="Headlines",
        title="12-month sustainability rate (%)",
        numerator="new enterprises whose first anniversary of launch_date falls in the year "
        "and that were trading on it",
        denominator="new enterprises whose first anniversary of launch_date falls in the "
        "year (trading on it, or closed, paused or stopped before it)",
        kind="ratio",
        unit="percent",
        ascof="Continuity and quality of care",
        compute=_sustainability,
    ),
    AnnualMeasure(
        ref="A09",
        section="Headlines",
        title="Estimated savings to the council (£)",
        numerator="sum of money_saved and money_saved_programme outcome flows whose "
        "period_start..period_end lies in the year",
        denominator=None,
        kind="flow",
        unit="gbp",
        ascof="Use of resources (local measure)",
        compute=_savings,
    ),
    AnnualMeasure(
        ref="A10",
        section="Headlines",
        title="SME share of adult social care spend (%)",
        numerator="spend_line amount_gbp of the year with supplier_size micro, small or medium",
        denominator="spend_line amount_gbp of the year with a known supplier_size (unknown "
        "sizes left out)",
        kind="ratio",
        unit="percent",
        ascof="Market diversity (local measure; 33% SME target)",
        compute=_sme_share,
    ),
)
"""The headline measures, in report order."""

SECTION_MEASURES: tuple[AnnualMeasure, ...] = (
    AnnualMeasure(
        ref="S01",
        section="By_Service_Type",
        title="Enterprises offering (trading at 31 Mar)",
        numerator="enterprises trading at 31 March that list the service; an enterprise "
        "offering several services is counted in each row, so rows do not sum to the "
        "'All services (distinct)' row",
        denominator=None,
        kind="snapshot",
        unit="enterprises",
        suppressible=True,
    ),
    AnnualMeasure(
        ref="S02",
        section="By_Service_Type",
        title="of which personal care providers CQC registered",
        numerator="enterprises in S01 that provide personal care and whose cqc_status is "
        "registered",
        denominator="S01",
        kind="snapshot",
        unit="enterprises",
        suppressible=True,
    ),
    AnnualMeasure(
        ref="S03",
        section="By_Service_Type",
        title="of which exempt",
        numerator="enterprises in S01 that provide personal care and whose cqc_status is "
        "exempt_direct_arrangement",
        denominator="S01",
        kind="snapshot",
        unit="enterprises",
        suppressible=True,
    ),
    AnnualMeasure(
        ref="S04",
        section="By_Service_Type",
        title="Hours per week",
        numerator="hours_per_week as at 31 March of trading enterprises whose "
        "primary_service is the row's service; n/a when attribution is off or no "
        "enterprise has a primary_service",
        denominator=None,
        kind="snapshot",
        unit="hours",
    ),
    AnnualMeasure(
        ref="S05",
        section="By_Service_Type",
        title="People per week",
        numerator="people_supported_weekly as at 31 March of enterprises whose "
        "primary_service is the row's service (n/a as for S04)",
        denominator=None,
        kind="snapshot",
        unit="people",
        suppressible=True,
    ),
    AnnualMeasure(
        ref="S06",
        section="By_Service_Type",
        title="Median price per hour (£)",
        numerator="median price_amount_gbp of enterprises in S01 whose price_unit is per_hour",
        denominator=None,
        kind="snapshot",
        unit="gbp",
    ),
    AnnualMeasure(
        ref="C01",
        section="Sustainability_Cohort",
        title="Launched",
        numerator="new enterprises whose launch_date is in the quarter",
        denominator=None,
        kind="event",
        unit="enterprises",
        suppressible=True,
    ),
    AnnualMeasure(
        ref="C02",
        section="Sustainability_Cohort",
        title="Still trading at +12 months",
        numerator="enterprises in C01 trading on the first anniversary of launch_date, "
        "when that is on or before 31 March of the report year",
        denominator="C01",
        kind="event",
        unit="enterprises",
        suppressible=True,
    ),
    AnnualMeasure(
        ref="C03",
        section="Sustainability_Cohort",
        title="Closed before +12 months",
        numerator="enterprises in C01 closed, paused or stopped before their first "
        "anniversary, when that is on or before 31 March of the report year",
        denominator="C01",
        kind="event",
        unit="enterprises",
        suppressible=True,
    ),
    AnnualMeasure(
        ref="C04",
        section="Sustainability_Cohort",
        title="Not yet due",
        numerator="enterprises in C01 whose first anniversary is after 31 March of the report year",
        denominator="C01",
        kind="event",
        unit="enterprises",
        suppressible=True,
    ),
    AnnualMeasure(
        ref="C05",
        section="Sustainability_Cohort",
        title="Rate %",
        numerator="C02",
        denominator="C02 + C03",
        kind="ratio",
        unit="percent",
    ),
    AnnualMeasure(
        ref="F01",
        section="Funding_Mix",
        title="People per week",
        numerator="people_supported_by_funding snapshots as at 31 March with the route's "
        "breakdowns, summed over enterprises; 'Route not recorded' is A05 less the routes",
        denominator=None,
        kind="snapshot",
        unit="people",
        suppressible=True,
    ),
    AnnualMeasure(
        ref="F02",
        section="Funding_Mix",
        title="%",
        numerator="F01",
        denominator="A05 (people supported per week)",
        kind="ratio",
        unit="percent",
    ),
    AnnualMeasure(
        ref="P01",
        section="SME_Spend",
        title="Total spend (£)",
        numerator="amount_gbp of the year's spend lines in the row (every supplier size)",
        denominator=None,
        kind="flow",
        unit="gbp",
    ),
    AnnualMeasure(
        ref="P02",
        section="SME_Spend",
        title="SME spend (£)",
        numerator="amount_gbp with supplier_size micro, small or medium",
        denominator=None,
        kind="flow",
        unit="gbp",
    ),
    AnnualMeasure(
        ref="P03",
        section="SME_Spend",
        title="Unknown size (£)",
        numerator="amount_gbp with supplier_size unknown: shown, left out of the share",
        denominator=None,
        kind="flow",
        unit="gbp",
    ),
    AnnualMeasure(
        ref="P04",
        section="SME_Spend",
        title="SME share %",
        numerator="P02",
        denominator="P01 less P03 (spend with a known supplier size)",
        kind="ratio",
        unit="percent",
    ),
    AnnualMeasure(
        ref="P05",
        section="SME_Spend",
        title="of which community micro-enterprises (£)",
        numerator="amount_gbp of spend lines naming a programme enterprise (enterprise_id)",
        denominator=None,
        kind="flow",
        unit="gbp",
    ),
)
"""The measures of the report's other sheets, as data (computed by their tables)."""

ANNUAL_MEASURES: tuple[AnnualMeasure, ...] = HEADLINES + SECTION_MEASURES
"""Every annual measure, in report order."""


# ---- tables -----------------------------------------------------------------------------


@frozen
class HeadlineRow:
    """A headline for the year and the year before, with the change (None: no data)."""

    measure: AnnualMeasure
    previous: Decimal | None
    current: Decimal | None

    @property
    def change(self) -> Decimal | None:
        """current - previous (percentage points for ratios); None when either is None."""
        if self.previous is None or self.current is None:
            return None
        return self.current - self.previous


@frozen
class ServiceRow:
    """One service type (or ``All services (distinct)``, code None)."""

    code: str | None
    label: str
    offering: int
    cqc_registered: int
    cqc_exempt: int
    hours: Decimal | None
    people: Decimal | None
    median_price: Decimal | None


@frozen
class CohortRow:
    """Enterprises launched in one financial-year quarter and how they fared at +12 months."""

    quarter: str
    launched: int
    sustained: int
    closed: int
    not_yet_due: int

    @property
    def rate(self) -> Decimal | None:
        """Per cent still trading among those due (None when none is due)."""
        return _share(Decimal(self.sustained), Decimal(self.sustained + self.closed))


@frozen
class FundingRow:
    """People per week by funding route, and the share of all people per week."""

    route: str
    people: Decimal
    share: Decimal | None


@frozen
class SpendRow:
    """Spend of one category and route (or a total), split by supplier size."""

    category: str
    route: str | None
    total: Decimal
    by_size: Mapping[str, Decimal]

    @property
    def sme(self) -> Decimal:
        """Spend with micro, small and medium suppliers."""
        return sum((self.by_size.get(s, Decimal(0)) for s in SME_SIZES), Decimal(0))

    @property
    def unknown(self) -> Decimal:
        """Spend whose supplier size is unknown (left out of the share)."""
        return self.by_size.get("unknown", Decimal(0))

    @property
    def share(self) -> Decimal | None:
        """SME spend as a per cent of spend with a known size (None when there is none)."""
        return _share(self.sme, self.total - self.unknown)


@frozen
class SavingsMethod:
    """How the savings figure was reached, for the Savings_Method sheet."""

    comparator_rate: Decimal | None
    enterprise_rates: tuple[Decimal, ...]
    enterprises_with_savings: int
    enterprise_savings: Decimal
    programme_savings: Decimal
    method_notes: tuple[str, ...]
    formula: str = SAVINGS_FORMULA
    caveats: tuple[str, ...] = SAVINGS_CAVEATS

    @property
    def result(self) -> Decimal:
        """The savings figure (A09)."""
        return self.enterprise_savings + self.programme_savings

    @property
    def median_rate(self) -> Decimal | None:
        """The median hourly price of enterprises trading at 31 March (None: no prices)."""
        return statistics.median(self.enterprise_rates) if self.enterprise_rates else None


@frozen
class AnnualReport:
    """Everything an annual outcomes report shows for ``year``."""

    year: Period
    previous: Period
    headlines: tuple[HeadlineRow, ...]
    by_service: tuple[ServiceRow, ...]
    cohorts: tuple[CohortRow, ...]
    funding: tuple[FundingRow, ...]
    spend: tuple[SpendRow, ...]
    community_spend: Decimal
    sme_target: Decimal
    savings: SavingsMethod
    attribution: bool


def headline_rows(records: CurrentRecords, year: Period) -> tuple[HeadlineRow, ...]:
    """Each headline for ``year`` and the year before."""
    now, before = AnnualContext(records, year), AnnualContext(records, previous_year(year))
    return tuple(HeadlineRow(m, m.compute(before), m.compute(now)) for m in HEADLINES if m.compute)


def _median(values: Sequence[Decimal]) -> Decimal | None:
    return statistics.median(values) if values else None


def _hourly_price(enterprise: Record) -> Decimal | None:
    if enterprise.get("price_unit") != "per_hour" or enterprise.get("price_amount_gbp") is None:
        return None
    return number(enterprise.get("price_amount_gbp"))


def service_rows(ctx: AnnualContext, *, attribute: bool = True) -> tuple[ServiceRow, ...]:
    """One row per service code (code-list order), then ``All services (distinct)``.

    Hours and people are attributed to an enterprise's ``primary_service`` when
    ``attribute`` is true and some trading enterprise has one; otherwise they are None
    (n/a) per service row, to avoid counting an enterprise's hours in several rows.
    """
    trading = [ctx.enterprises[e] for e in sorted(ctx.trading())]
    hours = ctx.snapshot_by_enterprise("hours_per_week")
    people = ctx.snapshot_by_enterprise("people_supported_weekly")
    attributed = attribute and any(e.get("primary_service") for e in trading)
    services = codelist("service")

    def row(code: str | None, label: str, members: list[Record]) -> ServiceRow:
        care = [e for e in members if "personal_care" in (e.get("services") or ())]
        ids = [e["enterprise_id"] for e in members]
        if code is None:
            hours_value: Decimal | None = sum((hours.get(i, Decimal(0)) for i in ids), Decimal(0))
            people_value: Decimal | None = sum((people.get(i, Decimal(0)) for i in ids), Decimal(0))
        elif attributed:
            primary = [e["enterprise_id"] for e in trading if e.get("primary_service") == code]
            hours_value = sum((hours.get(i, Decimal(0)) for i in primary), Decimal(0))
            people_value = sum((people.get(i, Decimal(0)) for i in primary), Decimal(0))
        else:
            hours_value = people_value = None
        prices = [p for e in members if (p := _hourly_price(e)) is not None]
        return ServiceRow(
            code=code,
            label=label,
            offering=len(members),
            cqc_registered=sum(e.get("cqc_status") == "registered" for e in care),
            cqc_exempt=sum(e.get("cqc_status") == "exempt_direct_arrangement" for e in care),
            hours=hours_value,
            people=people_value,
            median_price=_median(prices),
        )

    rows = [
        row(code, services.label(code), [e for e in trading if code in (e.get("services") or ())])
        for code in services.codes
    ]
    rows.append(row(None, "All services (distinct)", trading))
    return tuple(rows)


def _quarter_label(when: datetime.date, fy_start_month: int) -> tuple[int, int]:
    months = (when.month - fy_start_month) % 12
    first = when.year if when.month >= fy_start_month else when.year - 1
    return first, months // 3 + 1


def cohort_rows(ctx: AnnualContext) -> tuple[CohortRow, ...]:
    """One row per financial-year quarter from the first launch of a new enterprise to the
    year's last quarter, each counted as seen at the year's end (31 March)."""
    start_month = ctx.year.start.month
    found: dict[tuple[int, int], list[Cohort]] = {}
    for enterprise in ctx.enterprises.values():
        cohort = cohort_of(ctx, enterprise)
        if cohort is None or cohort[0] > ctx.year.end:
            continue
        found.setdefault(_quarter_label(cohort[0], start_month), []).append(cohort[1])
    if not found:
        return ()
    first, last = min(found), _quarter_label(ctx.year.end, start_month)
    out = []
    year, quarter = first
    while (year, quarter) <= last:
        outcomes = found.get((year, quarter), [])
        out.append(
            CohortRow(
                quarter=f"{year}-{(year + 1) % 100:02d} Q{quarter}",
                launched=len(outcomes),
                sustained=outcomes.count("sustained"),
                closed=outcomes.count("closed"),
                not_yet_due=outcomes.count("not_yet_due"),
            )
        )
        year, quarter = (year, quarter + 1) if quarter < 4 else (year + 1, 1)
    return tuple(out)


def funding_rows(ctx: AnnualContext) -> tuple[FundingRow, ...]:
    """People per week by funding route as at 31 March, the people whose route is not
    recorded, and the total (A05); shares are of the total."""
    total = ctx.standard("M15")
    rows = []
    for label, codes in FUNDING_ROUTES:
        people = Decimal(0)
        for code in codes:
            found = ctx.snapshot_by_enterprise("people_supported_by_funding", code)
            people += sum(found.values(), Decimal(0))
        rows.append((label, people))
    recorded = sum((p for _l, p in rows), Decimal(0))
    rows.append(("Route not recorded", max(total - recorded, Decimal(0))))
    rows.append(("Total", max(total, recorded)))
    whole = max(total, recorded)
    return tuple(FundingRow(label, people, _share(people, whole)) for label, people in rows)


def spend_row(category: str, route: str | None, lines: Iterable[Record]) -> SpendRow:
    """The spend of ``lines`` summed by supplier size."""
    total = Decimal(0)
    by_size: dict[str, Decimal] = {}
    for line in lines:
        amount = number(line.get("amount_gbp"))
        total += amount
        size = line.get("supplier_size") or "unknown"
        by_size[size] = by_size.get(size, Decimal(0)) + amount
    return SpendRow(category, route, total, by_size)


def spend_rows(ctx: AnnualContext) -> tuple[SpendRow, ...]:
    """For each route (direct, then supply chain): a row per spend category present, then
    the route's total; last, all spend of the year."""
    lines = ctx.spend()
    categories = codelist("spend_category")
    out = []
    for route in ROUTES:
        of_route = [s for s in lines if s.get("route") == route]
        for code in categories.codes:
            chosen = [s for s in of_route if s.get("spend_category") == code]
            if chosen:
                out.append(spend_row(categories.label(code), route, chosen))
        out.append(spend_row("All categories", route, of_route))
    out.append(spend_row("All spend", None, lines))
    return tuple(out)


def savings_method(ctx: AnnualContext) -> SavingsMethod:
    """The inputs and result of the savings estimate for the year."""
    rate = ctx.records.programme.get("comparator_hourly_rate_gbp")
    prices = tuple(
        sorted(p for e in ctx.trading() if (p := _hourly_price(ctx.enterprises[e])) is not None)
    )
    enterprise = [(e, v) for e, v in savings_rows(ctx) if e is not None]
    notes = sorted(
        {
            str(o["method_note"])
            for o in ctx.records.of("outcome")
            if o.get("outcome_type") in SAVINGS_TYPES and o.get("method_note")
        }
    )
    return SavingsMethod(
        comparator_rate=None if rate is None else number(rate),
        enterprise_rates=prices,
        enterprises_with_savings=len({e for e, _v in enterprise}),
        enterprise_savings=sum((v for _e, v in enterprise), Decimal(0)),
        programme_savings=sum((v for e, v in savings_rows(ctx) if e is None), Decimal(0)),
        method_notes=tuple(notes),
    )


def annual_report(
    records: CurrentRecords, year: Period, *, attribute_by_primary_service: bool = True
) -> AnnualReport:
    """Every annual measure for the financial year ``year`` (and its headlines for the
    year before). ``year`` may also be a financial year to date (its first day to any
    later day): snapshots are then taken at its end and compared with the same months
    of the year before."""
    ctx = AnnualContext(records, year)
    target = records.programme.get("sme_target_pct")
    return AnnualReport(
        year=year,
        previous=previous_year(year),
        headlines=headline_rows(records, year),
        by_service=service_rows(ctx, attribute=attribute_by_primary_service),
        cohorts=cohort_rows(ctx),
        funding=funding_rows(ctx),
        spend=spend_rows(ctx),
        community_spend=sum(
            (number(s.get("amount_gbp")) for s in ctx.spend() if s.get("enterprise_id")),
            Decimal(0),
        ),
        sme_target=DEFAULT_SME_TARGET if target is None else number(target),
        savings=savings_method(ctx),
        attribution=attribute_by_primary_service
        and any(ctx.enterprises[e].get("primary_service") for e in ctx.trading()),
    )


# ---- documentation ----------------------------------------------------------------------

_HEAD = """# Annual measures

The measures of the annual outcomes report (domain.md 4.3), computed for a financial
year beside the year before by `mectk.metrics.annual_report`. Each is data in
`mectk/metrics/annual.py`; this page is generated from it
(`python -m mectk.metrics.docs annual > docs/annual-measures.md`) and a test keeps the two in
step.

Period rules, by kind (as for the [standard measures](measures.md)):

- **snapshot**: as at 31 March, the year's last day: per enterprise the latest value
  dated in January to March, or else carried forward from at most 92 days before that.
  Never summed across periods: a year's figure is not the sum of its quarters.
- **event** and **flow**: summed within the year (1 April to 31 March); a flow counts
  only when its `period_start..period_end` lies inside the year.
- **ratio**: numerator over denominator, in per cent; the change between years is in
  percentage points. A ratio with a zero denominator is shown as n/a.

The SME share uses spend lines whose `financial_year` is the report year; spend with an
unknown supplier size is shown on its own and left out of the denominator. The SME
target is the programme's `sme_target_pct` (33% by default). The savings figure uses the
programme's `comparator_hourly_rate_gbp`; see the Savings_Method sheet of the report.
External outputs suppress counts of people and enterprises from 1 to
`suppression_threshold - 1`, with secondary suppression.
"""


def annual_measures_markdown() -> str:
    """The text of ``docs/annual-measures.md``."""
    parts = [_HEAD]
    sections: dict[str, list[AnnualMeasure]] = {}
    for measure in ANNUAL_MEASURES:
        sections.setdefault(measure.section, []).append(measure)
    for section, measures in sections.items():
        parts.append(f"\n## {section}\n\n")
        parts.append("| Ref | Measure | Kind | Unit | Numerator | Denominator | ASCOF |\n")
        parts.append("|---|---|---|---|---|---|---|\n")
        parts.extend(
            f"| {m.ref} | {m.title} | {m.kind} | {m.unit} | {m.numerator} | "
            f"{m.denominator or ''} | {m.ascof} |\n"
            for m in measures
        )
    return "".join(parts)
