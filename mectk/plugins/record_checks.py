"""Built-in cross-record checks: the rules of domain.md section 3 that compare records.

One check per rule family: references, date order, status, duplicates and plausible
ranges. Checks see only accepted records. A rule whose data the run does not carry (no
programme settings, no localities, no co-ordinators) is skipped, not flagged on every row.
Every issue is located at the offending field of the offending record.
"""

from __future__ import annotations

import datetime
import functools
import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from mectk.accepted import KeyHashes, repeated_among
from mectk.hookspecs import hookimpl
from mectk.issues import MASK, Issue, Severity, make_issue
from mectk.schemas import RECORD_KINDS, codelist, field_map, load_schema
from mectk.specs import AcceptedRecord, CheckContext, CheckSpec

EARLIEST = datetime.date(2007, 1, 1)
"""No programme activity predates Community Catalysts (2007)."""
PLANNED_DATES = frozenset(
    {("programme", "end_date"), ("programme", "council.valid_to"), ("coordinator", "end_date")}
)
"""Planned dates that may lie more than a year ahead."""
PRE_TRADING = frozenset({"enquiry", "developing", "not_proceeding"})
ONCE_ONLY = ("enterprise_launched", "cqc_registered", "sustained_12_months")
CLIENT_FACING_TYPES = ("one_to_one_advice", "site_visit")
PRICE_BANDS = {"per_hour": (Decimal(10), Decimal(60)), "per_day": (Decimal(10), Decimal(200))}
LEGAL_SUFFIXES = ("& co", "ltd", "limited", "cic", "llp")
REGISTRATION_FIELDS = ("company_number", "charity_number", "cqc_provider_id")

Key = tuple[Any, ...]


# ---- locating issues --------------------------------------------------------------------


def _get(model: Any, field: str) -> Any:
    for part in field.split("."):
        model = getattr(model, part, None)
    return model


def _record_id(record: AcceptedRecord) -> str | None:
    value = getattr(record.model, RECORD_KINDS[record.kind].id_field, None)
    return None if value is None else str(value)


def _heading(record: AcceptedRecord, field: str) -> str:
    """The column heading of ``field`` on the record's sheet, or the field's title."""
    cell = record.row.cells.get(field)
    if cell is not None and cell.heading:
        return cell.heading
    info = field_map(record.kind).get(field)
    return info.title if info else field


def _shown(kind: str, field: str, value: Any) -> Any:
    """The value as an issue shows it: masked personal data, ISO dates, exact numbers."""
    info = field_map(kind).get(field)
    if value is None:
        return None
    if info is None or info.personal_data != "none":
        return MASK
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def _where(record: AcceptedRecord, field: str) -> str:
    """Sheet and cell of ``field`` (or of the record id), such as ``Enterprises A5``."""
    row = record.row
    cell = row.cells.get(field) or row.cells.get(RECORD_KINDS[record.kind].id_field)
    where = f"{row.sheet or ''} {cell.cell if cell and cell.cell else ''}".strip()
    return where or row.source_ref


def _issue(
    code: str,
    record: AcceptedRecord,
    field: str,
    *,
    severity: Severity | None = None,
    **context: Any,
) -> Issue:
    """An issue at ``field`` of ``record`` (its cell, or the record id cell if it has none).

    ``row`` is the record's row, which is what run_checks matches to reject the record.
    """
    row = record.row
    cell = row.cells.get(field) or row.cells.get(RECORD_KINDS[record.kind].id_field)
    return make_issue(
        code,
        severity=severity,
        file=row.file or None,
        sheet=row.sheet,
        cell=cell.cell if cell else None,
        row=row.row,
        column=_heading(record, field),
        field=field,
        record_id=_record_id(record),
        value=_shown(record.kind, field, _get(record.model, field)),
        **context,
    )


# ---- shared look-ups --------------------------------------------------------------------


@functools.cache
def temporal_kinds() -> Mapping[str, str]:
    """Outcome type -> ``event``, ``snapshot`` or ``flow``, from the code list's ``x-kinds``."""
    kinds = load_schema("codelists")["$defs"]["outcome_type"]["x-kinds"]
    return {name: pair[0] for name, pair in kinds.items()}


def _programmes(context: CheckContext) -> dict[str, Any]:
    return {r.model.programme_id: r.model for r in context.records("programme")}


class _Firm(NamedTuple):
    """What outcome checks need of an enterprise (not the whole record, to save memory)."""

    enterprise_id: str
    status: str
    launch_date: datetime.date | None
    closure_date: datetime.date | None
    paid_workers: int | None
    unpaid_workers: int | None


def _enterprises(context: CheckContext) -> dict[Key, _Firm]:
    """(programme id, enterprise id) -> the first accepted enterprise with that id.

    Empty when the run has no outcomes, the only records that look enterprises up.
    """
    found: dict[Key, _Firm] = {}
    if not context.records("outcome"):
        return found
    for record in context.records("enterprise"):
        e = record.model
        key = (e.programme_id, e.enterprise_id)
        if key not in found:
            found[key] = _Firm(
                e.enterprise_id,
                e.status,
                e.launch_date,
                e.closure_date,
                e.paid_workers,
                e.unpaid_workers,
            )
    return found


def _enterprise_of(record: AcceptedRecord, enterprises: Mapping[Key, _Firm]) -> _Firm | None:
    return enterprises.get((record.model.programme_id, record.model.enterprise_id))


def _headcount(enterprise: Any) -> int | None:
    counts = [c for c in (enterprise.paid_workers, enterprise.unpaid_workers) if c is not None]
    return sum(counts) if counts else None


def _iso(value: datetime.date) -> str:
    return value.isoformat()


def _a_year_after(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return datetime.date(day.year + 1, 3, 1)


# ---- 3.1 references ---------------------------------------------------------------------

REFERENCES = (
    ("support_episode", "enterprise_id", "enterprise"),
    ("support_episode", "coordinator_id", "coordinator"),
    ("support_episode", "event_id", "support_event"),
    ("outcome", "enterprise_id", "enterprise"),
    ("enterprise", "locality_id", "locality"),
    ("support_event", "locality_id", "locality"),
    ("support_event", "coordinator_id", "coordinator"),
)
"""(kind, field, kind it names). Enterprises and events are matched within a programme."""


def check_references(context: CheckContext) -> Iterator[Issue]:
    """Ids naming other records name accepted records of this run (rules 1 and 2)."""
    for kind, field, target in REFERENCES:
        targets = context.records(target)
        if not targets or not context.records(kind):
            continue  # nothing to check against, or nothing to check
        scoped = "programme_id" in field_map(target)
        id_field = RECORD_KINDS[target].id_field
        known = {
            (r.model.programme_id if scoped else None, getattr(r.model, id_field)) for r in targets
        }
        title = RECORD_KINDS[target].title.lower()
        for record in context.records(kind):
            value = getattr(record.model, field)
            programme = record.model.programme_id if scoped else None
            if value is None or (programme, value) in known:
                continue
            scope = f" of programme '{programme}'" if scoped else ""
            yield _issue("reference-missing", record, field, target=title, scope=scope)


# ---- 3.2 date order ---------------------------------------------------------------------


def _not_before(record: AcceptedRecord, earlier: str, later: str) -> Iterator[Issue]:
    """A ``date-order`` issue at ``later`` when both dates are present and out of order."""
    first, second = _get(record.model, earlier), _get(record.model, later)
    if first is not None and second is not None and second < first:
        reason = f"is before {_heading(record, earlier)} ({_iso(first)})"
        yield _issue("date-order", record, later, reason=reason)


def _implausible(
    record: AcceptedRecord, dated: list[str], today: datetime.date, latest: datetime.date
) -> Iterator[Issue]:
    """Dates from 2007 to a year ahead; older only for what predates the programme."""
    kind = record.kind
    established = kind == "enterprise" and record.model.origin == "established"
    for field in dated:
        value = _get(record.model, field)
        historic = field == "council.valid_from" or (established and field == "launch_date")
        if value is None:
            continue
        if value < EARLIEST and not historic:
            reason = f"before {_iso(EARLIEST)}, when the first programmes began"
        elif value > latest and (kind, field) not in PLANNED_DATES:
            reason = f"more than a year after today ({_iso(today)})"
        else:
            continue
        yield _issue("date-implausible", record, field, reason=reason)


def _enterprise_order(record: AcceptedRecord) -> Iterator[Issue]:
    yield from _not_before(record, "launch_date", "closure_date")
    yield from _not_before(record, "first_contact_date", "closure_date")
    if record.model.origin == "new":
        yield from _not_before(record, "first_contact_date", "launch_date")
    yield from _not_before(record, "first_contact_date", "status_date")


def _episode_order(
    record: AcceptedRecord, programmes: Mapping[str, Any], today: datetime.date
) -> Iterator[Issue]:
    yield from _not_before(record, "episode_date", "end_date")
    episode_date = record.model.episode_date
    programme = programmes.get(record.model.programme_id)
    if episode_date > today:
        yield _issue("date-order", record, "episode_date", reason=f"is after today ({_iso(today)})")
    elif programme and episode_date < programme.start_date - datetime.timedelta(days=90):
        start = _iso(programme.start_date)
        reason = f"is more than 90 days before the programme started ({start})"
        yield _issue("date-order", record, "episode_date", reason=reason)


def _outcome_order(
    record: AcceptedRecord, programmes: Mapping[str, Any], enterprises: Mapping[Key, _Firm]
) -> Iterator[Issue]:
    outcome = record.model
    yield from _not_before(record, "period_start", "period_end")
    programme = programmes.get(outcome.programme_id)
    yield from _straddles_year(record, programme.fy_start_month if programme else 4)
    enterprise = _enterprise_of(record, enterprises)
    if enterprise is not None and outcome.as_at_date is not None:
        yield from _against_lifecycle(record, enterprise)


def check_dates(context: CheckContext) -> Iterator[Issue]:
    """Dates are plausible and in order within and across records (rules 6, 7, 9, 10, 12).

    One pass over each kind: every ``date-implausible`` issue comes first, then the
    ``date-order`` issues of enterprises, support episodes and outcomes, in that order.
    """
    today = datetime.date.today()  # noqa: DTZ011 - plausibility is judged by the local date
    latest = _a_year_after(today)
    programmes = _programmes(context)
    in_order: list[Issue] = []
    for kind in RECORD_KINDS:
        dated = [f.name for f in field_map(kind).values() if f.value_kind == "date"]
        records = context.records(kind)
        enterprises = _enterprises(context) if kind == "outcome" and records else {}
        for record in records:
            yield from _implausible(record, dated, today, latest)
            if kind == "enterprise":
                in_order.extend(_enterprise_order(record))
            elif kind == "support_episode":
                in_order.extend(_episode_order(record, programmes, today))
            elif kind == "outcome":
                in_order.extend(_outcome_order(record, programmes, enterprises))
    yield from in_order  # RECORD_KINDS lists enterprises, then episodes, then outcomes


def _straddles_year(record: AcceptedRecord, start_month: int) -> Iterator[Issue]:
    start, end = record.model.period_start, record.model.period_end
    if start is None or end is None or end < start:
        return
    year = start.year if start.month >= start_month else start.year - 1
    boundary = datetime.date(year + 1, start_month, 1)
    if end >= boundary:
        reason = (
            f"is in a later financial year than the period start ({_iso(start)}); "
            f"split the period at {_iso(boundary)}"
        )
        yield _issue("date-order", record, "period_end", reason=reason)


def _against_lifecycle(record: AcceptedRecord, firm: _Firm) -> Iterator[Issue]:
    """Snapshots fall between launch and closure; sustained_12_months a year after launch."""
    outcome = record.model
    as_at, launch, closure = outcome.as_at_date, firm.launch_date, firm.closure_date
    name = f"enterprise '{firm.enterprise_id}'"
    if temporal_kinds().get(outcome.outcome_type) == "snapshot":
        exempt = firm.status == "developing" and outcome.outcome_type in (
            "paid_workers",
            "volunteer_roles",
        )
        if launch is not None and as_at < launch and not exempt:
            yield _issue(
                "date-order",
                record,
                "as_at_date",
                reason=f"is before {name} launched ({_iso(launch)})",
            )
        elif closure is not None and as_at > closure:
            yield _issue(
                "date-order",
                record,
                "as_at_date",
                reason=f"is after {name} closed ({_iso(closure)})",
            )
    if outcome.outcome_type != "sustained_12_months" or launch is None:
        return
    if as_at < launch + datetime.timedelta(days=365):
        reason = f"is less than 365 days after {name} launched ({_iso(launch)})"
        yield _issue("date-order", record, "as_at_date", reason=reason)


# ---- 3.3 status -------------------------------------------------------------------------


def check_status(context: CheckContext) -> Iterator[Issue]:
    """Figures fit each enterprise's status and eligibility (rules 15, 16 and 17)."""
    programmes = _programmes(context)
    for record in context.records("enterprise"):
        enterprise = record.model
        if enterprise.independent is False:
            yield _issue("not-independent", record, "independent")
        programme = programmes.get(enterprise.programme_id)
        if programme is not None:
            yield from _over_cap(record, programme)
    enterprises = _enterprises(context)
    # (programme, enterprise) -> where the first launch is, and the breakdowns launched
    launches: dict[Key, tuple[str, list[Any]]] = {}
    for record in context.records("outcome"):
        outcome = record.model
        enterprise = _enterprise_of(record, enterprises)
        if (
            enterprise is not None
            and outcome.outcome_type in ("hours_per_week", "people_supported_weekly")
            and outcome.value > 0
            and enterprise.status in PRE_TRADING
        ):
            yield _issue(
                "status-inconsistent",
                record,
                "value",
                enterprise=outcome.enterprise_id,
                status=codelist("enterprise_status").label(enterprise.status),
            )
        if outcome.outcome_type == "enterprise_launched" and outcome.enterprise_id is not None:
            key = (outcome.programme_id, outcome.enterprise_id)
            earlier = launches.get(key)
            if earlier is None:
                where = f"{_record_id(record)} at {_where(record, 'outcome_type')}"
                launches[key] = (where, [outcome.breakdown])
                continue
            # a repeat with the same breakdown is an outcome-duplicate (duplicates check)
            if all(b != outcome.breakdown for b in earlier[1]):
                yield _issue(
                    "launch-repeated",
                    record,
                    "outcome_type",
                    enterprise=outcome.enterprise_id,
                    first=earlier[0],
                )
            earlier[1].append(outcome.breakdown)


def _over_cap(record: AcceptedRecord, programme: Any) -> Iterator[Issue]:
    enterprise, cap = record.model, programme.micro_worker_cap
    if programme.micro_cap_basis == "fte_paid_and_unpaid":
        field, amount = "paid_fte", enterprise.paid_fte
    else:
        field = "paid_workers" if enterprise.paid_workers is not None else "unpaid_workers"
        amount = _headcount(enterprise)
        if amount is not None and amount > 3 * cap:
            return  # implausible rather than over the cap: the ranges check reports it
    if amount is not None and amount > cap:
        basis = "paid FTE" if field == "paid_fte" else "paid and unpaid workers"
        shown = _shown("enterprise", field, amount)
        yield _issue("over-micro-cap", record, field, amount=shown, basis=basis, cap=cap)


# ---- 3.5 duplicates ---------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """Trading name for duplicate matching: case, punctuation and legal suffixes ignored."""
    text = re.sub(r"\bc\.i\.c\b\.?", "cic", name.casefold())
    text = re.sub(r"\band\b", "&", text)
    text = re.sub(r"['\u2019]", "", text)
    text = " ".join(re.sub(r"[^\w&]+", " ", text).replace("&", " & ").split())
    stripped = True
    while stripped:
        stripped = False
        for suffix in LEGAL_SUFFIXES:
            if text == suffix or not text.endswith(" " + suffix):
                continue
            text, stripped = text[: -len(suffix)].rstrip(), True
    return text


def _registration(field: str, value: str) -> str:
    text = re.sub(r"\s+", "", value).upper()
    if field == "company_number" and text.isdigit():
        return text.zfill(8)
    return text


def _identity(record: AcceptedRecord) -> Key:
    """Where a record came from and its id: stable across passes over the records."""
    row = record.row
    return (row.file, row.sheet, row.row, _record_id(record))


def _repeats(
    records: Sequence[AcceptedRecord],
    key: Callable[[AcceptedRecord], Key | None],
    hashes: KeyHashes | None = None,
) -> Iterator[tuple[AcceptedRecord, AcceptedRecord]]:
    """(later, first) for each record whose key an earlier record already had.

    A first pass hashes every key (or ``hashes`` gives them, from a pass the caller made
    with a key that is ``None`` no more often than ``key``); a second pass, only when some
    hash repeats, compares those records' keys exactly.
    """
    if hashes is None:
        hashes = KeyHashes()
        for record in records:
            hashes.add(key(record))
    if not hashes.repeated():
        return
    first: dict[Key, AcceptedRecord] = {}
    for index, record in enumerate(records):
        if not hashes.maybe_repeated(index):
            continue
        found = key(record)
        if found is None:
            continue
        if found in first:
            yield record, first[found]
        else:
            first[found] = record


def _registrations(record: AcceptedRecord) -> list[Key]:
    """(programme, field, normalised number) for each registration number given."""
    firm = record.model
    return [
        (firm.programme_id, field, _registration(field, value))
        for field in REGISTRATION_FIELDS
        if (value := getattr(firm, field)) is not None
    ]


def _name_key(record: AcceptedRecord) -> Key | None:
    """(programme, normalised trading name, postcode), when the postcode is given."""
    firm = record.model
    if firm.base_postcode is None:
        return None
    postcode = " ".join(firm.base_postcode.upper().split())
    return (firm.programme_id, normalise_name(firm.trading_name), postcode)


AGGREGATE = "unspecified_aggregate"
"""Support type of imported contact counts; left out of episode-level duplicate checks."""


def check_duplicates(context: CheckContext) -> Iterator[Issue]:
    """Enterprises, episodes and outcomes are recorded once (rules 27, 28, 30 and 31);
    aggregate contact counts (``unspecified_aggregate``) are not episodes and are left out."""
    enterprises = context.records("enterprise")
    exact: set[Key] = set()
    numbers = array("q")
    names = KeyHashes()
    for record in enterprises:  # one pass for both kinds of key
        numbers.extend(hash(k) for k in _registrations(record))
        names.add(_name_key(record))
    repeated = repeated_among(numbers)
    del numbers
    # registration key -> (id, where) of the first enterprise with it, for repeated keys
    registered: dict[Key, tuple[str | None, str]] = {}
    for record in enterprises if repeated else ():
        match: tuple[str, tuple[str | None, str]] | None = None
        for key in _registrations(record):
            if hash(key) not in repeated:
                continue
            earlier = registered.get(key)
            if earlier is None:
                registered[key] = (_record_id(record), _where(record, key[1]))
            elif match is None:
                match = key[1], earlier
        if match is not None:
            exact.add(_identity(record))
            field, (first_id, first_where) = match
            yield _issue(
                "duplicate-enterprise", record, field, first_id=first_id, first=first_where
            )

    def named(record: AcceptedRecord) -> Key | None:
        return None if exact and _identity(record) in exact else _name_key(record)

    for later, first in _repeats(enterprises, named, names):
        yield _issue(
            "possible-duplicate",
            later,
            "trading_name",
            first_id=_record_id(first),
            first=_where(first, "trading_name"),
        )

    def episode(record: AcceptedRecord) -> Key | None:
        e = record.model
        if e.support_type == AGGREGATE:
            return None  # a count of contacts with no detail has no episode to repeat
        when = (e.episode_date, e.support_type, e.duration_minutes)
        return (e.programme_id, e.enterprise_id, e.coordinator_id, *when)

    for later, first in _repeats(context.records("support_episode"), episode):
        yield _issue(
            "episode-duplicate",
            later,
            "episode_date",
            first_id=_record_id(first),
            first=_where(first, "episode_date"),
        )
    yield from _duplicate_outcomes(context)


def _duplicate_outcomes(context: CheckContext) -> Iterator[Issue]:
    kinds = temporal_kinds()

    def outcome(record: AcceptedRecord) -> Key | None:
        o = record.model
        if o.enterprise_id is None:
            return None
        if kinds.get(o.outcome_type) == "snapshot":
            return (o.programme_id, o.enterprise_id, o.outcome_type, o.breakdown, o.as_at_date)
        if o.outcome_type in ONCE_ONLY:
            return (o.programme_id, o.enterprise_id, o.outcome_type, o.breakdown)
        return None

    for later, first in _repeats(context.records("outcome"), outcome):
        snapshot = kinds.get(later.model.outcome_type) == "snapshot"
        reason = (
            "a level is recorded once per enterprise, type, breakdown and as-at date"
            if snapshot
            else "this event happens once per enterprise and breakdown"
        )
        yield _issue(
            "outcome-duplicate",
            later,
            "outcome_type",
            first_id=_record_id(first),
            first=_where(first, "outcome_type"),
            reason=reason,
        )


# ---- 3.4 plausible ranges ---------------------------------------------------------------


def check_ranges(context: CheckContext) -> Iterator[Issue]:
    """Counts, hours, prices and durations are plausible (rules 18 to 23)."""
    programmes = _programmes(context)
    default_cap: int = field_map("programme")["micro_worker_cap"].default
    for record in context.records("enterprise"):
        firm = record.model
        programme = programmes.get(firm.programme_id)
        cap = programme.micro_worker_cap if programme is not None else default_cap
        workers = _headcount(firm)
        if workers is not None and workers > 3 * cap:
            paid, unpaid = firm.paid_workers or 0, firm.unpaid_workers or 0
            field = "paid_workers" if paid >= unpaid else "unpaid_workers"
            reason = (
                f"paid and unpaid workers add up to {workers}, more than 3 times "
                f"the micro cap of {cap}"
            )
            yield _issue("out-of-plausible-range", record, field, severity="error", reason=reason)
        band = PRICE_BANDS.get(firm.price_unit or "")
        price = firm.price_amount_gbp
        if band is not None and price is not None and not band[0] <= price <= band[1]:
            unit = (firm.price_unit or "").replace("_", " ")
            reason = f"a price {unit} is expected to be £{band[0]} to £{band[1]}"
            yield _issue("out-of-plausible-range", record, "price_amount_gbp", reason=reason)
    for record in context.records("support_episode"):
        minutes = record.model.duration_minutes
        timed = record.model.support_type in CLIENT_FACING_TYPES and minutes is not None
        if timed and not 5 <= minutes <= 480:
            reason = "one-to-one advice or a site visit is expected to last 5 to 480 minutes"
            yield _issue("out-of-plausible-range", record, "duration_minutes", reason=reason)
    yield from _outcome_ranges(context)


def _outcome_ranges(context: CheckContext) -> Iterator[Issue]:
    enterprises = _enterprises(context)
    funding: dict[Key, Decimal] = defaultdict(Decimal)
    weekly: dict[Key, Any] = {}  # key -> the first people-supported-weekly value
    outcomes = context.records("outcome")
    for record in outcomes:
        o = record.model
        firm = _enterprise_of(record, enterprises)
        key = (o.programme_id, o.enterprise_id, o.as_at_date)
        if o.outcome_type == "people_supported_by_funding":
            funding[key] += o.value
        elif o.outcome_type == "people_supported_weekly":
            weekly.setdefault(key, o.value)
            if o.value > 150:
                reason = "more than 150 people a week is unusual for a micro-enterprise"
                yield _issue("out-of-plausible-range", record, "value", reason=reason)
        elif o.outcome_type == "hours_per_week":
            workers = _headcount(firm) if firm is not None else None
            if o.value > 400:
                reason = "more than 400 hours a week for one enterprise"
            elif workers is not None and o.value > 60 * max(1, workers):
                reason = f"more than 60 hours a week per worker ({workers} workers)"
            else:
                continue
            yield _issue("out-of-plausible-range", record, "value", reason=reason)
    over = {key for key, value in weekly.items() if key in funding and funding[key] > value}
    for record in outcomes if over else ():
        o = record.model
        key = (o.programme_id, o.enterprise_id, o.as_at_date)
        if o.outcome_type == "people_supported_weekly" and key in over:
            over.discard(key)  # the first such outcome of the key, as before
            yield _issue(
                "funding-exceeds-total",
                record,
                "value",
                enterprise=key[1],
                as_at=_iso(key[2]),
                by_funding=_shown("outcome", "value", funding[key]),
            )


# ---- registration -----------------------------------------------------------------------


@hookimpl
def mectk_register_checks() -> list[CheckSpec]:
    """Register the cross-record rules of domain.md section 3."""
    dated = tuple(
        k for k in RECORD_KINDS if any(f.value_kind == "date" for f in field_map(k).values())
    )
    return [
        CheckSpec(
            name="references",
            title="Ids that name other records name accepted records",
            codes=("reference-missing",),
            run=check_references,
            kinds=("enterprise", "support_episode", "support_event", "outcome"),
            category="reference",
            importance="high",
        ),
        CheckSpec(
            name="date-order",
            title="Dates are plausible and in order",
            codes=("date-order", "date-implausible"),
            run=check_dates,
            kinds=dated,
            category="date-order",
            importance="high",
        ),
        CheckSpec(
            name="status-consistency",
            title="Figures fit each enterprise's status and eligibility",
            codes=("status-inconsistent", "launch-repeated", "not-independent", "over-micro-cap"),
            run=check_status,
            kinds=("enterprise", "outcome"),
            category="status",
            importance="high",
        ),
        CheckSpec(
            name="duplicates",
            title="Enterprises, support episodes and outcomes are recorded once",
            codes=(
                "duplicate-enterprise",
                "possible-duplicate",
                "episode-duplicate",
                "outcome-duplicate",
            ),
            run=check_duplicates,
            kinds=("enterprise", "support_episode", "outcome"),
            category="duplicate",
            importance="high",
        ),
        CheckSpec(
            name="plausible-ranges",
            title="Workers, hours, people, prices and durations are plausible",
            codes=("out-of-plausible-range", "funding-exceeds-total"),
            run=check_ranges,
            kinds=("enterprise", "support_episode", "outcome"),
            category="range",
            importance="medium",
        ),
    ]
