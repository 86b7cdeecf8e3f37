"""The standard measures M01 to M18 (domain.md 4.1), each as data with its rule.

Contract: :data:`MEASURES` lists every standard measure once, in report order. Each
:class:`Measure` says what it counts (``numerator``), what it is a share of
(``denominator``, or None), and its ``kind``, which fixes the year-to-date rule:

* ``event`` and ``flow``: summed within the window, so the year to date is the sum of the
  quarters;
* ``snapshot``: the value at the window's end, never summed across periods, so the year
  to date is the value at the end of the period;
* ``distinct``: distinct over the window, so the year to date is not the sum of quarters.

``docs/measures.md`` documents every measure; a test keeps the two in step.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Literal

from attrs import frozen

from mectk.metrics.outcomes import OutcomeRow, outcome_kinds, rows_of, snapshot_rows, summed_rows
from mectk.metrics.records import CurrentRecords, Record, day, number
from mectk.periods import Period

MeasureKind = Literal["event", "snapshot", "flow", "distinct"]
GroupBy = Literal["locality", "service"] | None
UNASSIGNED = "unassigned"

ONE_TO_ONE = ("one_to_one_advice", "site_visit", "video_call", "intensive_support")
QUERIES = ("phone_query", "email_query")
GROUP_TYPES = ("start_up_surgery", "networking_event", "training_workshop")
ENTERPRISE_FIELDS = (
    "enterprise_id",
    "locality_id",
    "services",
    "origin",
    "first_contact_date",
    "launch_date",
    "closure_date",
    "status",
    "status_date",
)
"""Every field of an enterprise record the standard measures read (keep in step)."""
QUALITY = "quality_standard_met"
"""The outcome type M18 reads at any date up to the window's end (no lower bound)."""


@frozen
class MetricValue:
    """A measure's value for one window and group, and how many snapshot values in it
    were carried forward from before the window."""

    value: Decimal
    carried_forward: int = 0

    @property
    def is_carried_forward(self) -> bool:
        """Whether any part of the value was carried forward."""
        return self.carried_forward > 0


Grouped = Mapping[str | None, MetricValue]
"""Values by group; the key None is the whole programme."""


class Context:
    """The current records and the grouping a computation uses."""

    def __init__(
        self,
        records: CurrentRecords,
        by: GroupBy = None,
        outcomes: Mapping[str | None, list[OutcomeRow]] | None = None,
    ) -> None:
        """``outcomes``, when given, are the outcome rows by type the measures read (then
        ``records`` need hold no outcomes); otherwise they come from ``records``."""
        self.records = records
        self.by = by
        self.enterprises = {e["enterprise_id"]: e for e in records.of("enterprise")}
        self._outcomes: Mapping[str | None, list[OutcomeRow]] | None = outcomes
        self._episodes: list[tuple[datetime.date, Record]] | None = None
        self._trading: dict[str | None, tuple[date | None, date | None, date | None] | None] = {}
        self._trading_on: dict[datetime.date, frozenset[str]] = {}
        self._first_contacts: list[tuple[str, datetime.date]] | None = None
        self._windows: dict[tuple[Period, tuple[str, ...] | None], list[Record]] = {}

    def outcomes(self, outcome_type: str) -> list[OutcomeRow]:
        """The current outcomes of ``outcome_type`` as rows, in record order."""
        if self._outcomes is None:
            by_type: dict[str | None, list[Record]] = {}
            for outcome in self.records.of("outcome"):
                by_type.setdefault(outcome.get("outcome_type"), []).append(outcome)
            self._outcomes = {k: rows_of(v) for k, v in by_type.items()}
        return self._outcomes.get(outcome_type, [])

    def episodes(self, window: Period, types: Sequence[str] | None = None) -> list[Record]:
        """Support episodes dated inside ``window`` (of ``types``, when given)."""
        key = (window, None if types is None else tuple(types))
        found = self._windows.get(key)
        if found is not None:
            return found
        if self._episodes is None:
            self._episodes = [
                (when, e)
                for e in self.records.of("support_episode")
                if (when := day(e.get("episode_date"))) is not None
            ]
        start, end = window.start, window.end
        found = [
            e
            for when, e in self._episodes
            if start <= when <= end and (types is None or e.get("support_type") in types)
        ]
        self._windows[key] = found
        return found

    def groups_of(self, enterprise_id: str | None) -> tuple[str, ...]:
        """The groups an enterprise falls in (an enterprise may offer several services)."""
        if self.by is None:
            return ()
        found = self.enterprises.get(enterprise_id or "")
        if found is None:
            return (UNASSIGNED,)
        if self.by == "locality":
            return (found.get("locality_id") or UNASSIGNED,)
        return tuple(found.get("services") or ()) or (UNASSIGNED,)

    def trading_at(self, enterprise_id: str | None, when: datetime.date) -> bool:
        """Whether the enterprise (current record) was trading on ``when``: launched on or
        before it, not closed on or before it, and not paused or stopped as of it."""
        if enterprise_id in self._trading:
            dates = self._trading[enterprise_id]
        else:
            found = self.enterprises.get(enterprise_id or "")
            if found is None:
                dates = None
            else:
                stopped = found.get("status") in ("paused", "closed", "not_proceeding")
                dates = (
                    day(found.get("launch_date")),
                    day(found.get("closure_date")),
                    day(found.get("status_date")) if stopped else None,
                )
            self._trading[enterprise_id] = dates
        if dates is None:
            return False
        launched, closed, stopped_on = dates
        if launched is None or launched > when or (closed is not None and closed <= when):
            return False
        return not (stopped_on is not None and stopped_on <= when)

    def trading_on(self, when: datetime.date) -> frozenset[str]:
        """The enterprises trading on ``when`` (:meth:`trading_at`), computed once a date."""
        found = self._trading_on.get(when)
        if found is None:
            found = frozenset(e for e in self.enterprises if self.trading_at(e, when))
            self._trading_on[when] = found
        return found

    def first_contacts(self) -> list[tuple[str, datetime.date]]:
        """(enterprise_id, first_contact_date) of each enterprise record with one."""
        if self._first_contacts is None:
            self._first_contacts = [
                (e["enterprise_id"], found)
                for e in self.records.of("enterprise")
                if (found := day(e.get("first_contact_date"))) is not None
            ]
        return self._first_contacts

    def summed(
        self, items: Iterable[tuple[str | None, Decimal, bool]]
    ) -> dict[str | None, MetricValue]:
        """Sum (enterprise_id, amount, carried_forward) items overall and by group."""
        amounts: dict[str | None, Decimal] = {None: Decimal(0)}
        carried_counts: dict[str | None, int] = {None: 0}
        grouped = self.by is not None
        for enterprise_id, amount, carried in items:
            amounts[None] += amount
            carried_counts[None] += int(carried)
            if grouped:
                for key in self.groups_of(enterprise_id):
                    amounts[key] = amounts.get(key, Decimal(0)) + amount
                    carried_counts[key] = carried_counts.get(key, 0) + int(carried)
        return {k: MetricValue(v, carried_counts[k]) for k, v in amounts.items()}

    def distinct(self, items: Iterable[tuple[str | None, object]]) -> dict[str | None, MetricValue]:
        """Count distinct keys of (enterprise_id, key) items overall and by group."""
        if self.by is None:
            return {None: MetricValue(Decimal(len({key for _e, key in items})))}
        seen: dict[str | None, set[object]] = {None: set()}
        for enterprise_id, key in items:
            for group in (None, *self.groups_of(enterprise_id)):
                seen.setdefault(group, set()).add(key)
        return {k: MetricValue(Decimal(len(v))) for k, v in seen.items()}


Compute = Callable[[Context, Period], Grouped]


@frozen(kw_only=True)
class Measure:
    """A standard measure.

    :param ref: ``M01`` ... ``M18``.
    :param title: the row label in reports.
    :param numerator: what is counted or summed, in words.
    :param denominator: the ref of the measure this one is a share of, or None.
    :param kind: ``event``, ``snapshot``, ``flow`` or ``distinct`` (the period rule).
    :param unit: ``enterprises``, ``episodes``, ``events``, ``jobs``, ``hours`` or ``people``.
    :param suppressible: whether the value counts people or enterprises, so small values
        are suppressed in external outputs.
    :param compute: the rule: values by group for a window.
    """

    ref: str
    title: str
    numerator: str
    denominator: str | None
    kind: MeasureKind
    unit: str
    compute: Compute
    suppressible: bool = True


def _episodes(ctx: Context, window: Period, types: Sequence[str] | None = None) -> list[Record]:
    return ctx.episodes(window, types)


def _episode_count(types: Sequence[str]) -> Compute:
    def compute(ctx: Context, window: Period) -> Grouped:
        return ctx.summed(
            (e.get("enterprise_id"), number(e.get("count") or 1), False)
            for e in _episodes(ctx, window, types)
        )

    return compute


def _enquiries(ctx: Context, window: Period) -> Grouped:
    start, end = window.start, window.end
    return ctx.summed(
        (eid, Decimal(1), False) for eid, found in ctx.first_contacts() if start <= found <= end
    )


def _supported(origin: str | None) -> Compute:
    def compute(ctx: Context, window: Period) -> Grouped:
        return ctx.distinct(
            (e.get("enterprise_id"), e.get("enterprise_id"))
            for e in _episodes(ctx, window)
            if origin is None
            or ctx.enterprises.get(e.get("enterprise_id") or "", {}).get("origin") == origin
        )

    return compute


def _outcome_sum(outcome_type: str, breakdown: str | None = None) -> Compute:
    def compute(ctx: Context, window: Period) -> Grouped:
        kind = outcome_kinds().get(outcome_type)
        if kind not in ("event", "flow"):
            msg = f"outcome type {outcome_type!r} is a {kind}, not an event or flow"
            raise ValueError(msg)
        rows = ctx.outcomes(outcome_type)
        if breakdown is not None:
            rows = [r for r in rows if r[1] == breakdown]
        return ctx.summed((e, number(v), False) for e, v in summed_rows(rows, kind, window))

    return compute


def _snapshot(outcome_type: str, breakdown: str | None = None, *, trading: bool = False) -> Compute:
    def compute(ctx: Context, window: Period) -> Grouped:
        if outcome_kinds().get(outcome_type) != "snapshot":
            msg = f"outcome type {outcome_type!r} is a {outcome_kinds().get(outcome_type)}, "
            msg += "not a snapshot"
            raise ValueError(msg)
        rows = ctx.outcomes(outcome_type)
        if breakdown is not None:
            rows = [r for r in rows if r[1] == breakdown]
        found = snapshot_rows(rows, window)
        trading_on = ctx.trading_on(window.end) if trading else frozenset()
        return ctx.summed(
            (key[0], number(value), carried)
            for key, (_as_at, value, carried) in found.items()
            if not trading or (key[0] or "") in trading_on
        )

    return compute


def _trading(ctx: Context, window: Period) -> Grouped:
    return ctx.distinct((eid, eid) for eid in ctx.trading_on(window.end))


def _group_events(ctx: Context, window: Period) -> Grouped:
    return ctx.distinct(
        (e.get("enterprise_id"), e.get("event_id"))
        for e in _episodes(ctx, window, GROUP_TYPES)
        if e.get("event_id")
    )


def _quality(ctx: Context, window: Period) -> Grouped:
    end = window.end.isoformat()
    met = {
        e
        for e, _b, at, _s, _e, value, _t in ctx.outcomes(QUALITY)
        if number(value) > 0 and at is not None and at <= end
    }
    open_at_end = [
        eid
        for eid in met
        if eid in ctx.enterprises
        and not (
            (closed := day(ctx.enterprises[eid].get("closure_date"))) is not None
            and closed <= window.end
        )
    ]
    return ctx.distinct((eid, eid) for eid in open_at_end)


MEASURES: tuple[Measure, ...] = (
    Measure(
        ref="M01",
        title="Enquiries received",
        numerator="enterprise records whose first_contact_date is in the period",
        denominator=None,
        kind="event",
        unit="enterprises",
        compute=_enquiries,
    ),
    Measure(
        ref="M02",
        title="Enterprises supported",
        numerator="distinct enterprise_id with at least one support episode in the period",
        denominator=None,
        kind="distinct",
        unit="enterprises",
        compute=_supported(None),
    ),
    Measure(
        ref="M03",
        title="of which new",
        numerator="enterprises counted in M02 whose origin is new",
        denominator="M02",
        kind="distinct",
        unit="enterprises",
        compute=_supported("new"),
    ),
    Measure(
        ref="M04",
        title="of which established",
        numerator="enterprises counted in M02 whose origin is established",
        denominator="M02",
        kind="distinct",
        unit="enterprises",
        compute=_supported("established"),
    ),
    Measure(
        ref="M05",
        title="New enterprises launched",
        numerator="sum of enterprise_launched outcome events dated in the period",
        denominator=None,
        kind="event",
        unit="enterprises",
        compute=_outcome_sum("enterprise_launched"),
    ),
    Measure(
        ref="M06",
        title="Enterprises trading at period end",
        numerator="enterprises launched on or before the period end, not closed, paused or "
        "stopped by then",
        denominator=None,
        kind="snapshot",
        unit="enterprises",
        compute=_trading,
    ),
    Measure(
        ref="M07",
        title="Enterprises closed",
        numerator="sum of enterprise_closed outcome events dated in the period",
        denominator=None,
        kind="event",
        unit="enterprises",
        compute=_outcome_sum("enterprise_closed"),
    ),
    Measure(
        ref="M08",
        title="One-to-one support sessions",
        numerator="support episodes of type one_to_one_advice, site_visit, video_call or "
        "intensive_support in the period",
        denominator=None,
        kind="event",
        unit="episodes",
        compute=_episode_count(ONE_TO_ONE),
    ),
    Measure(
        ref="M09",
        title="Phone and email queries",
        numerator="support episodes of type phone_query or email_query in the period",
        denominator=None,
        kind="event",
        unit="episodes",
        compute=_episode_count(QUERIES),
    ),
    Measure(
        ref="M10",
        title="Signposting referrals",
        numerator="support episodes of type signposting in the period",
        denominator=None,
        kind="event",
        unit="episodes",
        compute=_episode_count(("signposting",)),
    ),
    Measure(
        ref="M11",
        title="Group events held",
        numerator="distinct event_id among group episodes (start_up_surgery, networking_event, "
        "training_workshop) in the period",
        denominator=None,
        kind="distinct",
        unit="events",
        compute=_group_events,
    ),
    Measure(
        ref="M12",
        title="Enterprise attendances at group events",
        numerator="group support episodes (one per enterprise attending) in the period",
        denominator=None,
        kind="event",
        unit="episodes",
        compute=_episode_count(GROUP_TYPES),
    ),
    Measure(
        ref="M13",
        title="New jobs created",
        numerator="sum of jobs_created outcome events dated in the period",
        denominator=None,
        kind="event",
        unit="jobs",
        compute=_outcome_sum("jobs_created"),
    ),
    Measure(
        ref="M14",
        title="Hours of care and support per week",
        numerator="hours_per_week snapshot at the period end, summed over enterprises trading "
        "at the period end",
        denominator=None,
        kind="snapshot",
        unit="hours",
        compute=_snapshot("hours_per_week", trading=True),
        suppressible=False,
    ),
    Measure(
        ref="M15",
        title="People supported per week",
        numerator="people_supported_weekly snapshot at the period end, summed over enterprises",
        denominator=None,
        kind="snapshot",
        unit="people",
        compute=_snapshot("people_supported_weekly"),
    ),
    Measure(
        ref="M16",
        title="of which using a Direct Payment",
        numerator="people_supported_by_funding snapshot with breakdown direct_payment",
        denominator="M15",
        kind="snapshot",
        unit="people",
        compute=_snapshot("people_supported_by_funding", "direct_payment"),
    ),
    Measure(
        ref="M17",
        title="of which self-funding",
        numerator="people_supported_by_funding snapshot with breakdown self_funded",
        denominator="M15",
        kind="snapshot",
        unit="people",
        compute=_snapshot("people_supported_by_funding", "self_funded"),
    ),
    Measure(
        ref="M18",
        title="Enterprises meeting the quality standard",
        numerator="enterprises with a quality_standard_met outcome on or before the period end "
        "and not closed by then",
        denominator=None,
        kind="snapshot",
        unit="enterprises",
        compute=_quality,
    ),
)
"""The standard measures, in report order."""

MEASURES_BY_REF: Mapping[str, Measure] = {m.ref: m for m in MEASURES}
