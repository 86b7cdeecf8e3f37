"""The Python the ``metro-bi-export`` mapping cannot express (domain.md 4.6).

:func:`refine` (the mapping's refine function) receives every item the mapping file read
and:

* gives each enterprise its status date (``closed_on`` when ceased, else ``go_live``
  when on or after ``first_engaged``, else ``first_engaged``; a cell that is not a date
  is passed over, so its own issue is reported once) and origin (``established`` when it
  went live before the council first engaged with it, else ``new``): the export has
  neither column;
* turns each ``support_contacts_qN`` count into one aggregate support episode
  (``unspecified_aggregate`` with that count, dated the quarter's last day of the
  financial year the monthly columns cover); a 0 is no contact, a blank no figure;
* checks that ``la_code`` is a metropolitan or London borough code (E08/E09) and, when
  the user names an ONS ward to local authority lookup file in
  :data:`LOOKUP_ENV`, that the ward lies in that authority.

Nothing is dropped: every item read is passed on.
"""

from __future__ import annotations

import csv
import datetime
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from mectk import (
    CellRef,
    ReadItem,
    ReadOptions,
    Source,
    SourceRow,
    UsageError,
    make_issue,
)

LOOKUP_ENV = "MECTK_METRO_WARD_LOOKUP"
"""Environment variable naming an ONS ward to local authority lookup CSV (optional)."""
LA_CODE = re.compile(r"E0[89]\d{6}")
WARD_CODE = re.compile(r"E05\d{6}")
CONTACTS = re.compile(r"support_contacts_q([1-4])", re.IGNORECASE)
MONTHLY = re.compile(r"hrs_wk_(\d{4})_(\d{2})", re.IGNORECASE)
COORDINATOR = "MB-BI"
"""The co-ordinator id given to aggregate contact counts (the export names nobody)."""
AGGREGATE = "unspecified_aggregate"
FY_START_MONTH = 4


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _iso(value: Any) -> datetime.date | None:
    """An ISO date (``2025-04-01`` or ``2025-04-01T00:00:00``) or a real date, else None."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(_text(value)[:10])
    except ValueError:
        return None


def financial_year(row: SourceRow, options: ReadOptions) -> int | None:
    """The first calendar year of the financial year the row's quarters belong to: that of
    ``--period``'s end when given, else that of the export's last monthly column."""
    if options.as_at is not None:
        when = options.as_at
    else:
        months = [m for h in row.extras if (m := MONTHLY.fullmatch(h))]
        if not months:
            return None
        year, month = max((int(m[1]), int(m[2])) for m in months)
        when = datetime.date(year, month, 1)
    return when.year if when.month >= FY_START_MONTH else when.year - 1


def quarter_end(first_year: int, quarter: int) -> datetime.date:
    """The last day of quarter ``quarter`` (1 = April to June) of the financial year."""
    month = FY_START_MONTH + 3 * quarter  # the month after the quarter
    year = first_year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return datetime.date(year, month, 1) - datetime.timedelta(days=1)


def _with_dates(row: SourceRow) -> SourceRow:
    """The enterprise row with the status date and origin the export implies."""
    values = dict(row.values)
    cells: dict[str, CellRef] = dict(row.cells)
    status = _text(values.get("status")).lower()
    launched, engaged = _iso(values.get("launch_date")), _iso(values.get("first_contact_date"))
    source = "first_contact_date"
    if status == "ceased" and _iso(values.get("closure_date")) is not None:
        source = "closure_date"
    elif launched is not None and (engaged is None or launched >= engaged):
        source = "launch_date"
    values["status_date"] = values.get(source)
    if source in cells:
        cells["status_date"] = cells[source]
    values["origin"] = "established" if launched and engaged and launched < engaged else "new"
    if "launch_date" in cells:
        cells["origin"] = cells["launch_date"]
    return attrs.evolve(row, values=values, cells=cells)


def _episodes(row: SourceRow, options: ReadOptions) -> Iterator[SourceRow]:
    """One aggregate support episode per non-zero quarterly contact count."""
    owner = row.values.get("enterprise_id")
    first_year = financial_year(row, options)
    if owner is None or first_year is None:
        return
    owner_text = _text(owner)
    for heading, raw in row.extras.items():
        found = CONTACTS.fullmatch(heading)
        if found is None or raw is None or _text(raw) in ("0", "0.0"):
            continue
        quarter = int(found[1])
        where = row.extra_cells[heading]
        fy = f"{first_year}-{(first_year + 1) % 100:02d}"
        values = {
            "episode_id": f"{owner_text}-contacts-{fy}-Q{quarter}"[:64],
            "programme_id": row.values.get("programme_id"),
            "enterprise_id": owner,
            "coordinator_id": COORDINATOR,
            "episode_date": quarter_end(first_year, quarter),
            "support_type": AGGREGATE,
            "mode": "unspecified",
            "count": raw,
        }
        cells = {
            "count": where,
            "episode_date": where,
            "episode_id": row.cells["enterprise_id"],
            "enterprise_id": row.cells["enterprise_id"],
        }
        yield SourceRow(
            kind="support_episode",
            sheet=row.sheet,
            row=row.row,
            values=values,
            cells=cells,
            file=row.file,
            date1904=row.date1904,
        )


def load_lookup(path: Path) -> dict[str, str]:
    """ward code -> local authority code from an ONS ward to LAD lookup CSV (columns such
    as ``WD24CD`` and ``LAD24CD``); a file that is not one is a UsageError."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            fields = reader.fieldnames or []
            ward = next((f for f in fields if re.fullmatch(r"WD\d{2}CD", f.strip())), None)
            la = next((f for f in fields if re.fullmatch(r"LAD\d{2}CD", f.strip())), None)
            if ward is None or la is None:
                msg = f"{path.name}: no WDnnCD and LADnnCD columns; not an ONS ward lookup"
                raise UsageError(msg, hint=f"Point {LOOKUP_ENV} at the ONS ward to LAD lookup.")
            return {r[ward].strip(): r[la].strip() for r in reader if r.get(ward)}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        msg = f"{path}: the ward lookup named by {LOOKUP_ENV} cannot be read ({exc})"
        raise UsageError(msg, hint="Check the path, or unset the variable.") from exc


def _area_issues(
    row: SourceRow, lookup: Mapping[str, str] | None, lookup_name: str
) -> Iterator[ReadItem]:
    la_text = _text(row.extras.get("la_code"))
    ward_text = _text(row.values.get("locality_id"))
    record_id = _text(row.values.get("enterprise_id")) or None
    la_cell = row.extra_cells.get("la_code")
    if la_cell is not None and not LA_CODE.fullmatch(la_text):
        yield make_issue(
            "area-code-invalid",
            file=row.file,
            sheet=row.sheet,
            row=row.row,
            cell=la_cell.cell,
            column=la_cell.heading,
            record_id=record_id,
            value=la_text,
            expected="a metropolitan or London borough code (E08 or E09 and six digits)",
        )
        return
    if lookup is None or not WARD_CODE.fullmatch(ward_text):
        return  # a malformed ward code is the mapping's format-invalid error already
    found = lookup.get(ward_text)
    if found == la_text:
        return
    reason = (
        f"is not in the lookup {lookup_name}"
        if found is None
        else f"is in {found} according to the lookup, not in {la_text}"
    )
    ward_cell = row.cells.get("locality_id")
    yield make_issue(
        "ward-not-in-la",
        file=row.file,
        sheet=row.sheet,
        row=row.row,
        cell=ward_cell.cell if ward_cell else None,
        column=ward_cell.heading if ward_cell else "ward_code",
        record_id=record_id,
        value=ward_text,
        reason=reason,
    )


def refine(items: Iterator[ReadItem], source: Source, options: ReadOptions) -> Iterator[ReadItem]:
    """Pass on every item the mapping read, completing enterprise rows and adding their
    aggregate support episodes and area-code issues."""
    named = os.environ.get(LOOKUP_ENV)
    lookup = load_lookup(Path(named)) if named else None
    lookup_name = Path(named).name if named else ""
    for item in items:
        if not isinstance(item, SourceRow) or item.kind != "enterprise":
            yield item
            continue
        row = _with_dates(item)
        yield row
        yield from _area_issues(row, lookup, lookup_name)
        yield from _episodes(row, options)
