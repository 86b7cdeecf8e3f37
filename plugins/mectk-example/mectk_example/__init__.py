"""Example mectk plugin: the ``example-directory-csv`` input format.

A CSV export of an enterprise directory, one enterprise per row, UTF-8 (with or without
a byte-order mark). Headings are matched ignoring case and surrounding spaces.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from openpyxl.utils import get_column_letter

from mectk import (
    BlankRow,
    CellRef,
    ReaderSpec,
    ReadItem,
    ReadOptions,
    Source,
    SourceError,
    SourceRow,
    hookimpl,
    make_issue,
)

FORMAT_NAME = "example-directory-csv"
COLUMNS = {
    "ref": "enterprise_id",
    "programme": "programme_id",
    "name": "trading_name",
    "legal form": "legal_form",
    "independent": "independent",
    "status": "status",
    "status date": "status_date",
    "origin": "origin",
    "first contact": "first_contact_date",
    "cqc": "cqc_status",
    "area": "locality_id",
    "postcode": "base_postcode",
    "services": "services",
}
"""Lower-case heading -> mectk enterprise field."""
SIGNATURE = ("ref", "name", "area")


def _headings(text: str) -> list[str]:
    first_line = text.splitlines()[0] if text else ""
    return [h.strip().lower() for h in next(csv.reader([first_line]), [])]


def read_directory(source: Source, options: ReadOptions) -> Iterator[ReadItem]:
    """Yield one enterprise row per CSV line; unknown headings become issues."""
    file = source.display_name
    try:
        text = source.path.read_bytes().decode(options.encoding or "utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{file}: byte {exc.start} is not valid {options.encoding or 'UTF-8'} text"
        raise SourceError(msg, hint="Save the CSV as UTF-8.") from exc
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, [])
    columns: dict[int, tuple[str, str]] = {}
    for index, heading in enumerate(header):
        field = COLUMNS.get(heading.strip().lower())
        if field is None:
            yield make_issue(
                "column-unknown",
                file=file,
                row=1,
                cell=f"{get_column_letter(index + 1)}1",
                column=heading,
            )
        else:
            columns[index] = (field, heading.strip())
    for row_number, cells in enumerate(rows, start=2):
        if not any(c.strip() for c in cells):
            yield BlankRow(None, row_number)
            continue
        values, refs = {}, {}
        for index, (field, heading) in columns.items():
            raw = cells[index].strip() if index < len(cells) else ""
            values[field] = raw or None
            refs[field] = CellRef(None, row_number, get_column_letter(index + 1), heading)
        yield SourceRow(
            kind="enterprise", sheet=None, row=row_number, values=values, cells=refs, file=file
        )


@hookimpl
def mectk_register_readers() -> list[ReaderSpec]:
    """Register the example directory CSV format."""
    return [
        ReaderSpec(
            name=FORMAT_NAME,
            title="Example enterprise directory (CSV)",
            read=read_directory,
            source_types=("csv",),
            record_kinds=("enterprise",),
        )
    ]


@hookimpl
def mectk_identify_reader(source: Source) -> str | None:
    """Claim CSV files whose first line has the Ref, Name and Area headings."""
    if source.source_type != "csv":
        return None
    headings = _headings(source.head.decode("utf-8-sig", errors="replace"))
    return FORMAT_NAME if all(h in headings for h in SIGNATURE) else None
