"""What Countyshire's tracker mapping cannot say, done to the rows it reads (domain.md 4.4).

Contract: :func:`refine` is the ``refine`` function of the shipped mapping file
(``county-tracker.toml``, registered as ``MappingSpec(path, refine=refine)``); it receives
the mapping's items and changes or adds to each enterprise row:

* ``Still trading?`` (``Y``, ``y``, ``N`` or blank = not known) with ``Date closed`` and
  ``Date started trading`` becomes the status and its date: a closure date means closed;
  ``Y`` trading; ``N`` closed (so a missing closure date is reported); blank with no
  launch date developing; blank after a launch is not known, so the status is left blank
  and the row is rejected as needing ``Still trading?`` (never guessed);
* ``CQC Reg?`` ``N`` for an enterprise giving personal care is unknown (registration may
  or may not be needed); blank is unknown;
* ``Services offered`` parts that are not in the service code list become ``other``, each
  reported (``county-service-other``); ``Personal Care? = Y`` (an ``extra_columns``
  column, so it comes with the row) adds personal care;
* the figure columns are the mapping's snapshot columns, read by mectk as at the end of
  the tracker's quarter (``--period``'s last day, otherwise the quarter the file name
  gives: ``CME Tracker 2025-26 Q2.xlsx`` -> 30/09/2025; with neither, ``as-at-missing``).
  The figures of an enterprise closed by then are not current, so each is noted
  (``county-closed-figure``) instead of read;
* events the tracker implies: ``enterprise_launched`` for a new enterprise's launch date,
  ``enterprise_closed`` at the closure date, ``quality_standard_met`` (Doing It Right) as
  at the tracker's date (``options.as_at``, as the figures).

Every value stays raw: mectk validates it and masks personal fields in what it reports.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from mectk import CellRef, Issue, ReadItem, ReadOptions, Source, SourceRow, make_issue
from mectk.coerce import CoercionFailed, cell_text, is_blank, read_date, to_boolean, to_code

FORMAT_NAME = "county-tracker"
MAPPING_FILE = "county-tracker.toml"
PERSONAL_CARE = "personal care?"
"""The ``Personal Care?`` heading, normalised (an ``extra_columns`` column)."""
EVENT_EVIDENCE = "coordinator_observation"
"""The tracker is kept by the programme's co-ordinators: the evidence of its events."""
DATED = frozenset({"launch_date", "closure_date"})
"""Tracker columns whose cells date an event (their date rules apply to it)."""
DERIVED = frozenset({"status_date"})
"""Required fields the tracker has no column for, given by this module."""
SERVICE_OTHER = "county-service-other"
"""This plugin's own issue code: a service nobody listed, recorded as Other."""
CLOSED_FIGURE = "county-closed-figure"
"""This plugin's own issue code: a figure of an enterprise already closed."""


def _key(heading: str) -> str:
    """A heading as matched: spacing collapsed, case ignored."""
    return " ".join(heading.split()).casefold()


def refine(items: Iterator[ReadItem], source: Source, options: ReadOptions) -> Iterator[ReadItem]:
    """Yield the tracker's enterprises and implied events, its figures unless the
    enterprise had closed by their date, and every other item of the mapping's reader."""
    as_at = options.as_at
    closed: tuple[str | None, int | None, str | None] = (None, None, None)  # last enterprise
    for item in items:
        if isinstance(item, Issue) and item.code == "column-missing" and item.field in DERIVED:
            continue  # no column of its own: given here from other columns
        if not isinstance(item, SourceRow):
            yield item
        elif item.kind == "enterprise":
            rule = item.rules.get("closure_date")
            on = _day(item.values.get("closure_date"), rule, item.date1904)
            closed = (item.sheet, item.row, on)
            yield from _enterprise(item, as_at)
        elif item.kind == "outcome" and (item.sheet, item.row) == closed[:2]:
            yield _figure(item, closed[2])  # a snapshot column of that enterprise's row
        else:
            yield item


def _figure(row: SourceRow, closed_on: str | None) -> ReadItem:
    """A figure as read, or the note that it is not current: the enterprise closed on or
    before the figure's date."""
    when = row.values.get("as_at_date")
    day = when.isoformat() if isinstance(when, datetime.date) else None
    if closed_on is None or day is None or closed_on > day:
        return row
    where = row.cells.get("value")
    return _closed_figure(
        row, where, cell_text(row.values.get("outcome_id")), row.values.get("value"), closed_on
    )


def _closed_figure(
    row: SourceRow, where: CellRef | None, outcome_id: str, value: Any, closed_on: str
) -> Issue:
    """The note for a figure of an enterprise closed by the tracker's date: it is the last
    one it had, not a current one, so it is not taken."""
    return Issue(
        code=CLOSED_FIGURE,
        severity="info",
        message=f"'{where.heading if where else 'figure'}' of enterprise "
        f"'{cell_text(row.values.get('enterprise_id'))}' was not read as a current figure: "
        f"the enterprise closed on {closed_on}.",
        hint="Nothing to do; clear the cell if the tracker should not show it.",
        file=row.file or None,
        sheet=row.sheet,
        cell=where.cell if where else None,
        row=row.row,
        column=where.heading if where else None,
        field="value",
        record_id=outcome_id,
        value=cell_text(value),
    )


def _yes_no(raw: Any) -> str | None:
    """``y`` or ``n`` for a yes/no answer as mectk reads one (Y, y, N, Yes, TRUE, 1 ...),
    None for blank, the text otherwise."""
    if is_blank(raw):
        return None
    try:
        return "y" if to_boolean(raw) else "n"
    except CoercionFailed:
        return cell_text(raw)


def _enterprise(row: SourceRow, as_at: datetime.date | None) -> Iterator[ReadItem]:
    values = dict(row.values)
    cells = dict(row.cells)
    rules = dict(row.rules)
    owner = values.get("enterprise_id")
    record_id = None if is_blank(owner) else cell_text(owner)
    services, notes = _services(row, values.get("services"), record_id)
    yield from notes
    heading = next((h for h in row.extras if _key(h) == PERSONAL_CARE), None)
    care = row.extras.get(heading) if heading else None
    answer = _yes_no(care)
    if answer not in ("y", "n", None) and heading is not None:
        where = row.extra_cells.get(heading)
        yield make_issue(
            "boolean-invalid",
            severity="warning",  # the row stands: its services say what it offers
            file=row.file or None,
            sheet=row.sheet,
            cell=where.cell if where else None,
            row=row.row,
            column=heading,
            record_id=record_id,
            value=cell_text(care),
        )
    if answer == "y" and "personal_care" not in services:
        services.append("personal_care")
    if services:
        values["services"] = "; ".join(services)
    gives_care = "personal_care" in services
    status, since = _status(values, rules, row.date1904)
    values["status"] = status
    if since is not None:  # the date as read (so a month-only date is noted once)
        read = _day(values.get(since), rules.get(since), row.date1904)
        values["status_date"] = read or values.get(since)
        cells["status_date"] = cells[since]
        if read is None and since in rules:
            rules["status_date"] = rules[since]
    cqc = _yes_no(values.get("cqc_status"))
    if cqc is None or (cqc == "n" and gives_care):
        values["cqc_status"] = "unknown"
    elif cqc in ("y", "n"):
        values["cqc_status"] = "registered" if cqc == "y" else "not_required_no_regulated_activity"
    yield attrs.evolve(row, values=values, cells=cells, rules=rules)
    yield from _events(row, values, cells, rules, as_at)


def _day(raw: Any, rule: Any, date1904: bool) -> str | None:
    """A cell as an ISO date as mectk reads it, or None (blank or unreadable)."""
    if is_blank(raw):
        return None
    try:
        return read_date(raw, formats=getattr(rule, "date_formats", ()), date1904=date1904)[0]
    except CoercionFailed:
        return None


def _status(
    values: Mapping[str, Any], rules: Mapping[str, Any], date1904: bool
) -> tuple[str | None, str | None]:
    """(status, the field its date comes from) from Still trading?, Date closed and
    Date started trading; the status is None when it cannot be known."""
    still = _yes_no(values.get("status"))
    if not is_blank(values.get("closure_date")):
        return "closed", "closure_date"
    if still == "y":  # trading since its launch, or since it joined when that was later
        launched = _day(values.get("launch_date"), rules.get("launch_date"), date1904)
        joined = _day(values.get("first_contact_date"), rules.get("first_contact_date"), date1904)
        if launched is None or (joined is not None and launched < joined):
            return "trading", "first_contact_date"
        return "trading", "launch_date"
    if still == "n":  # closed, but Date closed is blank: validation reports it
        return "closed", "first_contact_date"
    if still is None and is_blank(values.get("launch_date")):
        return "developing", "first_contact_date"
    # not known (blank after a launch) or not a Y/N answer: validation reports the cell
    return (None if still is None else values.get("status")), "first_contact_date"


def _services(row: SourceRow, raw: Any, record_id: str | None) -> tuple[list[str], list[Issue]]:
    """Service codes of a ``Cleaning, shopping / companionship`` cell; parts nobody listed
    become ``other``, each with a note."""
    if is_blank(raw):
        return [], []
    codes: list[str] = []
    notes: list[Issue] = []
    for part in _parts(cell_text(raw)):
        try:
            code = to_code(part, "service")
        except CoercionFailed:
            code = "other"
            cell = row.cells.get("services")
            notes.append(
                Issue(
                    code=SERVICE_OTHER,
                    severity="info",
                    message=f"'{part}' in 'Services offered' is not a service mectk lists; "
                    "it was recorded as Other.",
                    hint="Add the wording to the service aliases if it names a listed service.",
                    file=row.file or None,
                    sheet=row.sheet,
                    cell=cell.cell if cell else None,
                    row=row.row,
                    column=cell.heading if cell else "Services offered",
                    field="services",
                    record_id=record_id,
                    value=part,
                )
            )
        if code not in codes:
            codes.append(code)
    return codes, notes


def _parts(text: str) -> list[str]:
    """Split on ``;`` and new lines, then on ``,`` and ``/`` unless a part is a known label
    (``Health, fitness and wellbeing``)."""
    out: list[str] = []
    for part in (p.strip() for p in re.split(r"[;\n]", text)):
        if not part:
            continue
        try:
            to_code(part, "service")
        except CoercionFailed:
            out.extend(p.strip() for p in re.split(r"[,/]", part) if p.strip())
        else:
            out.append(part)
    return out


def _events(
    row: SourceRow,
    values: Mapping[str, Any],
    cells: Mapping[str, Any],
    rules: Mapping[str, Any],
    as_at: datetime.date | None,
) -> Iterator[SourceRow]:
    """The outcome events the tracker implies for this enterprise."""
    owner = values.get("enterprise_id")
    if is_blank(owner):
        return
    wanted: list[tuple[str, str | None, Any, str]] = []
    if not is_blank(values.get("launch_date")) and _origin(values.get("origin")) == "new":
        wanted.append(("enterprise_launched", None, values["launch_date"], "launch_date"))
    if not is_blank(values.get("closure_date")):
        wanted.append(("enterprise_closed", None, values["closure_date"], "closure_date"))
    if as_at is not None and _yes_no(values.get("quality_standard")) == "y":
        wanted.append(("quality_standard_met", "doing_it_right", as_at, "quality_standard"))
    for outcome_type, breakdown, when, source_field in wanted:
        suffix = f"-{breakdown}-{as_at.isoformat()}" if breakdown and as_at else ""
        outcome = {
            "outcome_id": f"{cell_text(owner)}-{outcome_type}{suffix}"[:64],
            "programme_id": values.get("programme_id"),
            "enterprise_id": owner,
            "outcome_type": outcome_type,
            "value": 1,
            "as_at_date": when,
            "evidence_source": EVENT_EVIDENCE,
        }
        if breakdown:
            outcome["breakdown"] = breakdown
        refs = {"as_at_date": cells[source_field], "value": cells[source_field]}
        if "enterprise_id" in cells:
            refs["enterprise_id"] = refs["outcome_id"] = cells["enterprise_id"]
        yield SourceRow(
            kind="outcome",
            sheet=row.sheet,
            row=row.row,
            values=outcome,
            cells=refs,
            file=row.file,
            rules={"as_at_date": rules[source_field]}
            if source_field in DATED and source_field in rules
            else {},
            date1904=row.date1904,
        )


def _origin(raw: Any) -> str | None:
    """The origin code of a ``New or Existing`` cell (New, Existing, new, Exist.)."""
    if is_blank(raw):
        return None
    try:
        return to_code(raw, "origin")
    except CoercionFailed:
        return None  # reported when the enterprise is validated
