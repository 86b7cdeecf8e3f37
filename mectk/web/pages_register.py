"""Pages of the register: overview with charts, batches, enterprises, one enterprise, diff."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mectk.errors import UsageError
from mectk.metrics import MEASURES_BY_REF, compute_measures, fy_quarters, load_current
from mectk.metrics.records import CurrentRecords, day
from mectk.periods import parse_period
from mectk.register import diff_since, enterprise_history, list_batches
from mectk.register.queries import shown
from mectk.schemas import field_map
from mectk.web.charts import bar_chart
from mectk.web.render import page
from mectk.web.state import settings_of

T = TypeVar("T")
PER_PAGE = 50
TRADING, HOURS = "M06", "M14"


def _db(request: Request) -> str:
    settings = settings_of(request)
    return settings.db


async def _read(request: Request, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(function, *args, **kwargs)


def _no_register(request: Request, exc: UsageError) -> Response:
    return page(
        request,
        "no_register.html",
        section="register",
        status=404,
        db=_db(request),
        message=exc.message,
    )


def _fy_label(when: datetime.date, start_month: int) -> str:
    first = when.year if when.month >= start_month else when.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def _years(records: CurrentRecords) -> list[str]:
    """Financial years the enterprises' dates fall in, newest first."""
    found = set()
    for enterprise in records.of("enterprise"):
        for name in ("status_date", "first_contact_date", "launch_date"):
            when = day(enterprise.get(name))
            if when is not None:
                found.add(_fy_label(when, records.fy_start_month))
    return sorted(found, reverse=True)


def _overview(db: str, year: str | None) -> dict[str, Any]:
    records = load_current(db)
    years = _years(records)
    today = _fy_label(datetime.datetime.now(datetime.UTC).date(), records.fy_start_month)
    chosen = year or (years[0] if years else today)
    period = parse_period(chosen, fy_start_month=records.fy_start_month)
    quarters = fy_quarters(period, records.fy_start_month)
    tables = [compute_measures(records, q) for q in quarters]
    label = [q.label.rsplit("-", 1)[-1] for q in quarters]
    trading = [(lab, t.value(TRADING), "trading") for lab, t in zip(label, tables, strict=True)]
    hours = [(lab, t.value(HOURS), "hours") for lab, t in zip(label, tables, strict=True)]
    enterprises = records.of("enterprise")
    return {
        "year": chosen,
        "years": sorted({*years, chosen}, reverse=True),
        "charts": [
            bar_chart(f"{MEASURES_BY_REF[TRADING].title}, {chosen}", trading, horizontal=False),
            bar_chart(
                f"{MEASURES_BY_REF[HOURS].title}, {chosen}",
                hours,
                horizontal=False,
                unit="hours",
            ),
        ],
        "enterprises": len(enterprises),
        "statuses": sorted(Counter(str(e.get("status")) for e in enterprises).items()),
        "batches": len(list_batches(db)),
    }


async def overview(request: Request) -> Response:
    """Counts and, by quarter, enterprises trading and hours of care a week."""
    year = request.query_params.get("year") or None
    if year is not None:
        parse_period(year)  # a malformed year is the officer's to fix (UsageError page)
    try:
        facts = await _read(request, _overview, _db(request), year)
    except UsageError as exc:
        return _no_register(request, exc)
    return page(request, "overview.html", section="register", db=_db(request), **facts)


async def batches(request: Request) -> Response:
    """Every import batch with its files and counts."""
    try:
        found = await _read(request, list_batches, _db(request))
    except UsageError as exc:
        return _no_register(request, exc)
    imported = request.query_params.get("imported")
    return page(
        request,
        "batches.html",
        section="register",
        batches=list(reversed(found)),
        imported=imported,
        db=_db(request),
    )


def _matches(record: Any, text: str, status: str, locality: str) -> bool:
    if status and str(record.get("status") or "") != status:
        return False
    if locality and str(record.get("locality_id") or "") != locality:
        return False
    if not text:
        return True
    needle = text.casefold()
    names = (record.get("enterprise_id"), record.get("trading_name"), record.get("legal_name"))
    return any(needle in str(n).casefold() for n in names if n)


async def enterprises(request: Request) -> Response:
    """Enterprises found by id or name, filtered by status and locality (names masked)."""
    query = request.query_params
    text, status, locality = (query.get(k, "").strip() for k in ("q", "status", "locality"))
    try:
        records = await _read(request, load_current, _db(request))
    except UsageError as exc:
        return _no_register(request, exc)
    everything = records.of("enterprise")
    found = [e for e in everything if _matches(e, text, status, locality)]
    try:
        number = max(1, int(query.get("page", "1")))
    except ValueError:
        number = 1
    pages = max(1, -(-len(found) // PER_PAGE))
    number = min(number, pages)
    rows = [
        {
            "id": e.get("enterprise_id"),
            "name": shown(
                "enterprise", "trading_name", e.get("trading_name"), include_personal=False
            ),
            "status": e.get("status"),
            "locality": e.get("locality_id"),
            "status_date": e.get("status_date"),
        }
        for e in found[(number - 1) * PER_PAGE : number * PER_PAGE]
    ]
    return page(
        request,
        "enterprises.html",
        section="register",
        rows=rows,
        total=len(found),
        page_number=number,
        pages=pages,
        filters={"q": text, "status": status, "locality": locality},
        statuses=sorted({str(e.get("status")) for e in everything if e.get("status")}),
        localities=sorted({str(e.get("locality_id")) for e in everything if e.get("locality_id")}),
    )


async def enterprise(request: Request) -> Response:
    """One enterprise: current state, every version with its batch, cells and related
    records; personal fields masked unless the officer reveals them here."""
    enterprise_id = request.path_params["enterprise_id"]
    reveal = request.query_params.get("personal") == "show"
    try:
        history = await _read(
            request, enterprise_history, _db(request), enterprise_id, include_personal=reveal
        )
    except UsageError as exc:
        return page(
            request,
            "error.html",
            section="register",
            status=404,
            title="No such enterprise",
            message=exc.message,
            hint=exc.hint,
        )
    created = {b.id: b for b in history.batches}
    last = history.versions[-1]
    return page(
        request,
        "enterprise.html",
        section="register",
        history=history,
        created=created,
        cells=last.cells,
        titles={name: info.title for name, info in field_map("enterprise").items()},
        reveal=reveal,
    )


async def diff(request: Request) -> Response:
    """What changed since a chosen batch: enterprises added, changed field by field, closed."""
    db = _db(request)
    try:
        found = await _read(request, list_batches, db)
    except UsageError as exc:
        return _no_register(request, exc)
    since_text = request.query_params.get("since", "")
    result = None
    if since_text.isdigit():
        result = await _read(request, diff_since, db, int(since_text))
    return page(
        request,
        "diff.html",
        section="register",
        batches=found,
        since=since_text,
        diff=result,
    )


ROUTES = [
    Route("/register", overview),
    Route("/register/batches", batches),
    Route("/register/enterprises", enterprises),
    Route("/register/enterprises/{enterprise_id}", enterprise),
    Route("/register/diff", diff),
]
