"""What the unitary register's mapping cannot say, done to the rows it reads.

Contract (:func:`refine`, given to mectk as the mapping's ``refine`` function):

* **Providers**: a provider trading before it was registered with the programme
  (``Trading Since`` earlier than ``Registered On``) is ``established``, trading since its
  registration (its status date), otherwise ``new``. A provider with no ``Trading
  Since`` is not trading yet: ``developing`` since its registration, with a
  ``trading-since-blank`` warning. A closed provider (from the
  Closures sheet) stays closed.
* **Events**: each event gets the id ``EV-<date>-<event>``, its ``attendees_total``
  becomes the providers listed plus the other attendees, and each provider listed in
  ``Attendees (providers)`` (``;``-separated) gets a support episode of the event's type,
  located at that cell, so events count both ways (events held, provider attendances).

Everything else passes through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from mectk import CellRef, Issue, ReadItem, ReadOptions, Source, SourceRow
from mectk.coerce import CoercionFailed, cell_text, is_blank, read_date

NOT_YET_TRADING = "trading-since-blank"
"""This plugin's own issue code (a warning): a provider with no Trading Since date."""
_SLUG = re.compile(r"[^a-z0-9]+")


def refine(items: Iterator[ReadItem], source: Source, options: ReadOptions) -> Iterator[ReadItem]:
    """Refine every provider and event row; pass everything else through."""
    del source, options  # the rows carry all this needs
    for item in items:
        if isinstance(item, SourceRow) and item.kind == "enterprise":
            yield from _provider(item)
        elif isinstance(item, SourceRow) and item.kind == "support_event":
            yield from _event(item)
        else:
            yield item


def _iso(value: Any, row: SourceRow) -> str | None:
    """A cell as an ISO date, or None when blank or not a date (validation reports it)."""
    if is_blank(value):
        return None
    try:
        return read_date(value, date1904=row.date1904)[0]
    except CoercionFailed:
        return None


def _with(
    row: SourceRow,
    values: Mapping[str, Any],
    cells: Mapping[str, CellRef] | None = None,
    rules: Mapping[str, Any] | None = None,
    kind: str | None = None,
) -> SourceRow:
    return SourceRow(
        kind=kind or row.kind,
        sheet=row.sheet,
        row=row.row,
        values=values,
        cells=dict(row.cells) if cells is None else cells,
        file=row.file,
        sheet_columns=row.sheet_columns if kind is None else {},
        rules=row.rules if rules is None else rules,
        date1904=row.date1904,
    )


def _provider(row: SourceRow) -> Iterator[ReadItem]:
    values = dict(row.values)
    cells = dict(row.cells)
    registered = _iso(values.get("first_contact_date"), row)
    trading_since = _iso(values.get("launch_date"), row)
    if registered and trading_since and trading_since < registered:
        # trading before the programme knew it: established, and its status (trading) is
        # known from its registration
        values["origin"] = "established"
        values["status_date"] = values.get("first_contact_date")
        if "first_contact_date" in cells:
            cells["status_date"] = cells["first_contact_date"]
    if is_blank(values.get("launch_date")) and values.get("status") == "trading":
        values["status"] = "developing"
        values["status_date"] = values.get("first_contact_date")
        if "first_contact_date" in cells:
            cells["status_date"] = cells["first_contact_date"]
        where = cells.get("launch_date")
        record_id = cell_text(values.get("enterprise_id") or "") or None
        yield Issue(
            code=NOT_YET_TRADING,
            severity="warning",
            message=f"Provider '{record_id}' has no Trading Since date: it is read as not "
            "trading yet (developing since it was registered).",
            hint="Enter the date it started trading, if it has.",
            file=row.file or None,
            sheet=where.sheet if where else row.sheet,
            cell=where.cell if where else None,
            row=row.row,
            column=where.heading if where else "Trading Since",
            field="launch_date",
            record_id=record_id,
        )
    yield _with(row, values, cells)


def event_id(date_value: Any, title: Any, row: SourceRow) -> str:
    """``EV-<ISO date>-<event slug>``; ``EV-row<n>`` when the date cannot be read."""
    when = _iso(date_value, row)
    if when is None:
        return f"EV-row{row.row}"
    slug = _SLUG.sub("-", cell_text(title or "event").lower()).strip("-") or "event"
    return f"EV-{when}-{slug}"[:64]


def provider_ids(value: Any) -> list[str]:
    """The provider ids in an attendees cell (``;``-separated), each once, in order."""
    if is_blank(value):
        return []
    found = [cell_text(part) for part in str(value).replace("\n", ";").split(";")]
    return list(dict.fromkeys(p for p in found if p))


def _event(row: SourceRow) -> Iterator[ReadItem]:
    values = dict(row.values)
    cells = dict(row.cells)
    ident = event_id(values.get("event_date"), values.get("title"), row)
    providers = provider_ids(values.get("attendees_total"))
    others = values.get("attendees_non_enterprise")
    values["event_id"] = ident
    values["attendees_total"] = len(providers) + (
        int(others) if isinstance(others, int | float) and not isinstance(others, bool) else 0
    )
    yield _with(row, values, cells)
    attendees = cells.get("attendees_total")
    for provider in providers:
        episode = {
            "episode_id": f"{ident}-{provider}"[:64],
            "programme_id": values.get("programme_id"),
            "enterprise_id": provider,
            "coordinator_id": values.get("coordinator_id"),
            "event_id": ident,
            "episode_date": values.get("event_date"),
            "support_type": values.get("event_type"),
            "mode": "group_in_person",
        }
        where = {
            name: cells[source]
            for name, source in (
                ("episode_id", "event_date"),
                ("event_id", "event_date"),
                ("episode_date", "event_date"),
                ("support_type", "event_type"),
            )
            if source in cells
        }
        if attendees is not None:
            where["enterprise_id"] = attendees
        rules = {"support_type": row.rules["event_type"]} if "event_type" in row.rules else {}
        yield _with(row, episode, where, rules, kind="support_episode")
