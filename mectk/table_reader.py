"""Read one sheet of a :class:`~mectk.grid.Grid` as a table of records, by a layout.

A :class:`TableLayout` says which record kind the rows hold, where the header is (found
automatically among the first rows, or given as one or two rows: a merged two-row header
becomes ``Parent / Child``), which heading feeds which field, constants, rows to skip,
and snapshot columns that become outcome records (dated by the layout's ``as_at``, or row
by row by an ``as_at_column``). A layout that ``updates`` reads rows that add to records
read from earlier sheets, so required fields may be absent. The canonical workbook uses an
automatic layout (headings are schema titles); mapping files build explicit ones.

Rows end at the sheet's last used row, never at ``max_row``; empty rows inside the data
are :class:`~mectk.sources.BlankRow`.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
from attrs import field, frozen
from openpyxl.utils import get_column_letter

from mectk.coerce import CoercionFailed, cell_text, is_blank, read_date
from mectk.grid import Grid
from mectk.issues import make_issue
from mectk.schemas import RECORD_KINDS, FieldInfo, field_map, fields, normalise_text
from mectk.sources import (
    BlankRow,
    CellProblem,
    CellRef,
    ColumnMapping,
    ColumnRule,
    ReadItem,
    RowCells,
    SkippedRow,
    SourceRow,
)

HEADER_SCAN_ROWS = 20
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@frozen
class ColumnSpec:
    """One field read from a column found by any of ``headings``."""

    field: str
    headings: tuple[str, ...]
    rule: ColumnRule | None = None


@frozen
class SnapshotSpec:
    """A column whose cells are snapshot outcomes of the row's enterprise.

    With ``pattern`` (a regular expression with named groups ``year`` and ``month``, and
    optionally ``day``), every column whose whole heading matches it is such a column,
    dated by its heading: the given day, or else the last day of the month.
    """

    headings: tuple[str, ...]
    outcome_type: str
    evidence_source: str
    breakdown: str | None = None
    as_at: datetime.date | None = None
    rule: ColumnRule | None = None
    pattern: str | None = None


def heading_date(pattern: str, heading: str) -> datetime.date | None:
    """The date a heading matching ``pattern`` names (its ``year``, ``month`` and optional
    ``day`` groups; the month's last day without one), or None when it does not match or
    names no real date."""
    found = re.fullmatch(pattern, heading.strip(), flags=re.IGNORECASE)
    if found is None:
        return None
    groups = found.groupdict()
    try:
        year, month = int(groups["year"]), int(groups["month"])
        last = calendar.monthrange(year, month)[1]
        day = int(groups["day"]) if groups.get("day") else last
        return datetime.date(year, month, day)
    except (KeyError, TypeError, ValueError, calendar.IllegalMonthError):
        return None


@frozen
class TableLayout:
    """How to read a sheet. With no ``columns``, headings are matched to schema titles."""

    kind: str
    header_rows: tuple[int, ...] = ()
    columns: tuple[ColumnSpec, ...] = ()
    constants: Mapping[str, Any] = field(factory=dict)
    skip_values: Mapping[str, tuple[str, ...]] = field(factory=dict)
    stop_at_first_blank: bool = False
    snapshots: tuple[SnapshotSpec, ...] = ()
    as_at: datetime.date | None = None
    schema_headings: bool = True
    ignored_headings: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    """Regular expressions matched against whole headings (ignoring case): columns that
    feed no field but are handed to the format's own code as ``SourceRow.extras``."""
    as_at_column: tuple[str, ...] = ()
    updates: bool = False


def _extra(layout: TableLayout, heading: str) -> bool:
    return any(re.fullmatch(p, heading.strip(), flags=re.IGNORECASE) for p in layout.extra_columns)


Row = tuple[int, list[Any]]


Match = tuple[FieldInfo, str, ColumnRule | None]
Column = tuple[int, FieldInfo, str, str, ColumnRule | None]
"""(offset from column A, field, heading, column letter, rule)."""


def heading_index(layout: TableLayout) -> dict[str, list[Match]]:
    """Normalised heading -> the fields it feeds: (field, how it matched, rule).

    One column may feed several fields (a BI export's ``go_live`` is both the launch
    date and the status date).
    """
    infos = field_map(layout.kind)
    index: dict[str, list[Match]] = {}
    for spec in layout.columns:
        for position, heading in enumerate(spec.headings):
            how = "mapping heading" if position == 0 else "mapping alias"
            index.setdefault(normalise_text(heading), []).append(
                (infos[spec.field], how, spec.rule)
            )
    if layout.schema_headings:
        for info in fields(layout.kind):
            if info.read_only:
                continue
            for text, how in (
                (info.title, "schema title"),
                (info.name, "field name"),
                (info.name.replace("_", " "), "field name"),
            ):
                index.setdefault(normalise_text(text), [(info, how, None)])
    return index


def _cell_text(value: Any) -> str:
    if is_blank(value) or isinstance(value, CellProblem):
        return ""
    return cell_text(value)


def combined_headings(
    rows: Sequence[Row], merged: Sequence[tuple[int, int, int, int]]
) -> list[str]:
    """Headings from one header row, or ``Parent / Child`` from two (merged parents spread)."""
    if len(rows) == 1:
        return [_cell_text(c) for c in rows[0][1]]
    (top_number, top), (_, bottom) = rows[0], rows[1]
    width = max(len(top), len(bottom))
    parents = [_cell_text(top[i]) if i < len(top) else "" for i in range(width)]
    for first_row, first_col, last_row, last_col in merged:
        if first_row <= top_number <= last_row and first_col - 1 < width:
            text = parents[first_col - 1]
            for column in range(first_col, min(last_col, width) + 1):
                parents[column - 1] = text
    out = []
    for i in range(width):
        child = _cell_text(bottom[i]) if i < len(bottom) else ""
        parent = parents[i]
        out.append(
            f"{parent} / {child}" if parent and child and parent != child else child or parent
        )
    return out


def _find_header(head: Sequence[Row], index: Mapping[str, Any]) -> Row | None:
    best, best_hits = None, 0
    for row in head:
        hits = sum(1 for c in row[1] if normalise_text(_cell_text(c)) in index)
        if hits > best_hits:
            best, best_hits = row, hits
    return best


def read_table(grid: Grid, sheet: str | None, layout: TableLayout, file: str) -> Iterator[ReadItem]:
    """Yield the records of one sheet, with header issues and the column mapping."""
    index = heading_index(layout)
    rows = grid.rows(sheet)
    head: list[Row] = []
    last_header = max(layout.header_rows, default=0)
    filled = 0
    for row in rows:  # the first rows with content (leading blank rows do not count)
        head.append(row)
        filled += any(not is_blank(c) for c in row[1])
        if filled >= HEADER_SCAN_ROWS and row[0] >= last_header:
            break
    if not filled:
        yield make_issue("sheet-empty", file=file, sheet=sheet)
        return  # an empty sheet holds no records
    if layout.header_rows:
        header_rows = [r for r in head if r[0] in layout.header_rows]
        texts = combined_headings(header_rows, grid.merged_ranges(sheet)) if header_rows else []
        if len(header_rows) != len(layout.header_rows) or not any(
            normalise_text(t) in index for t in texts
        ):
            rows_text = " and ".join(str(n) for n in layout.header_rows)
            yield make_issue(
                "header-not-found",
                file=file,
                sheet=sheet,
                detail=f": row {rows_text} holds none of the mapped headings",
            )
            return
    else:
        found = _find_header(head, index)
        if found is None:
            yield make_issue("header-not-found", file=file, sheet=sheet, detail="")
            return
        header_rows = [found]
    header_number = header_rows[-1][0]
    headings = combined_headings(header_rows, grid.merged_ranges(sheet))
    columns, issues, mapping = _match_columns(headings, index, layout, file, sheet, header_number)
    yield from issues
    yield ColumnMapping(file, sheet, tuple(mapping))
    snapshot_columns = _snapshot_columns(headings, layout)
    extra_columns = [
        (o, h, CellRef(sheet, None, get_column_letter(o + 1), h))
        for o, h in enumerate(headings)
        if h and _extra(layout, h)
    ]
    as_at_offset = _as_at_offset(headings, layout)
    if snapshot_columns and layout.as_at_column and as_at_offset is None:
        yield make_issue(
            "column-missing",
            file=file,
            sheet=sheet,
            row=header_number,
            column=layout.as_at_column[0],
            field="as_at_date",
        )
    id_field = RECORD_KINDS[layout.kind].id_field
    sheet_columns = {
        info.name: CellRef(sheet, None, letter, heading) for _, info, heading, letter, _ in columns
    }
    rules = {info.name: rule for _, info, _, _, rule in columns if rule}
    data = _chain([r for r in head if r[0] > header_number], rows)
    hidden = grid.hidden_rows(sheet)
    hidden_seen = 0
    width = max((i + 1 for i, h in enumerate(headings) if h), default=0)
    stray = 0  # rows with values right of the last heading: never read, so said once
    first_stray: str | None = None
    ended = False
    read_at = sorted(
        {o for o, *_ in columns}
        | {o for o, _, _ in snapshot_columns}
        | {o for o, _, _ in extra_columns}
    )
    if (
        snapshot_columns
        and layout.as_at is None
        and as_at_offset is None
        and not all(s.as_at for _, _, s in snapshot_columns)
    ):
        yield make_issue(
            "as-at-missing",
            file=file,
            sheet=sheet,
            column=", ".join(h for _, h, _ in snapshot_columns),
        )
        snapshot_columns = []
    for number, cells in data:
        # a row is data when a column that is read holds something; text in other columns
        # alone (a note) or formulas saved without results (helper columns) do not count
        blank = all(_empty(cells[o]) if o < len(cells) else True for o in read_at)
        if ended:
            yield (
                BlankRow(sheet, number)
                if blank
                else SkippedRow(
                    sheet, number, "below the end of the table (after its first blank row)"
                )
            )
            continue
        if blank:
            if layout.stop_at_first_blank:
                ended = True
            yield BlankRow(sheet, number)
            continue
        hidden_seen += number in hidden
        reason = _skip_reason(cells, columns, layout)
        if reason:
            yield SkippedRow(sheet, number, reason)
            continue
        if len(cells) > width and any(not is_blank(c) for c in cells[width:]):
            stray += 1
            if first_stray is None:
                offset = next(i for i in range(width, len(cells)) if not is_blank(cells[i]))
                first_stray = f"{get_column_letter(offset + 1)}{number}"
        values: dict[str, Any] = dict(layout.constants)
        for offset, info, _, _, _ in columns:
            raw = cells[offset] if offset < len(cells) else None
            values[info.name] = None if is_blank(raw) else raw
        refs = RowCells(sheet_columns, number)
        extras = {
            h: None if is_blank(cells[o] if o < len(cells) else None) else cells[o]
            for o, h, _ in extra_columns
        }
        yield SourceRow(
            kind=layout.kind,
            sheet=sheet,
            row=number,
            values=values,
            cells=refs,
            file=file,
            sheet_columns=sheet_columns,
            rules=rules,
            date1904=grid.date1904,
            extras=extras,
            extra_cells={h: attrs.evolve(ref, row=number) for _, h, ref in extra_columns},
        )
        if snapshot_columns:
            row_as_at = None
            if as_at_offset is not None:
                raw_at = cells[as_at_offset] if as_at_offset < len(cells) else None
                letter = get_column_letter(as_at_offset + 1)
                row_as_at = (raw_at, CellRef(sheet, number, letter, headings[as_at_offset]))
            yield from _snapshots(
                snapshot_columns,
                cells,
                values,
                refs,
                layout,
                sheet,
                number,
                file,
                grid.date1904,
                id_field,
                row_as_at,
            )
    if hidden_seen:
        yield make_issue("rows-hidden", file=file, sheet=sheet, count=hidden_seen)
    if stray:
        yield make_issue(
            "cells-without-heading", file=file, sheet=sheet, cell=first_stray, count=stray
        )


def _match_columns(
    headings: list[str],
    index: Mapping[str, list[Match]],
    layout: TableLayout,
    file: str,
    sheet: str | None,
    header_number: int,
) -> tuple[list[Column], list[Any], list[Any]]:
    columns: list[Column] = []
    issues: list[Any] = []
    mapping: list[tuple[str, str, str, str]] = []
    seen: set[str] = set()
    # headings read elsewhere (snapshot columns) or deliberately ignored raise no warning
    quiet_headings = {normalise_text(h) for s in layout.snapshots for h in s.headings}
    quiet_headings.update(normalise_text(h) for h in layout.ignored_headings)
    patterns = [s.pattern for s in layout.snapshots if s.pattern]
    quiet_headings.update(
        normalise_text(h)
        for h in headings
        if h and (_extra(layout, h) or any(heading_date(p, h) for p in patterns))
    )
    quiet_headings.update(normalise_text(h) for h in layout.as_at_column)
    for offset, heading in enumerate(headings):
        if not heading:
            continue
        letter = get_column_letter(offset + 1)
        key = normalise_text(heading)
        found = index.get(key)
        if found is None and " / " in heading:
            found = index.get(normalise_text(heading.rsplit(" / ", 1)[1]))
        where: dict[str, Any] = {
            "file": file,
            "sheet": sheet,
            "cell": f"{letter}{header_number}",
            "row": header_number,
            "column": heading,
        }
        if found is None:
            if key not in quiet_headings:
                issues.append(make_issue("column-unknown", **where))
            continue
        for info, how, rule in found:
            if info.name in seen:
                issues.append(make_issue("column-duplicate", field=info.name, **where))
                continue
            seen.add(info.name)
            columns.append((offset, info, heading, letter, rule))
            mapping.append((letter, heading, info.name, how))
    for info in () if layout.updates else fields(layout.kind):
        if (
            info.required
            and not info.read_only
            and info.name not in seen
            and info.name not in layout.constants
        ):
            issues.append(
                make_issue(
                    "column-missing",
                    file=file,
                    sheet=sheet,
                    row=header_number,
                    column=info.title,
                    field=info.name,
                )
            )
    return columns, issues, mapping


def _snapshot_columns(
    headings: list[str], layout: TableLayout
) -> list[tuple[int, str, SnapshotSpec]]:
    wanted = {normalise_text(h): s for s in layout.snapshots for h in s.headings}
    out = []
    for offset, heading in enumerate(headings):
        if not heading:
            continue
        spec = wanted.get(normalise_text(heading))
        if spec is None:
            for candidate in layout.snapshots:
                dated = heading_date(candidate.pattern, heading) if candidate.pattern else None
                if dated is not None:
                    spec = attrs.evolve(candidate, as_at=dated)
                    break
        if spec is not None:
            out.append((offset, heading, spec))
    return out


def _as_at_offset(headings: list[str], layout: TableLayout) -> int | None:
    """The offset of the layout's as-at column (by heading, or child heading), or None."""
    wanted = {normalise_text(h) for h in layout.as_at_column}
    for offset, heading in enumerate(headings):
        if heading and (
            normalise_text(heading) in wanted
            or normalise_text(heading.rsplit(" / ", 1)[-1]) in wanted
        ):
            return offset
    return None


def _skip_reason(cells: list[Any], columns: list[Column], layout: TableLayout) -> str | None:
    """Why a row is not data, by ``skip_values`` keyed by field, heading or child heading."""
    if not layout.skip_values:
        return None
    wanted = {
        normalise_text(k): {normalise_text(v) for v in values}
        for k, values in layout.skip_values.items()
    }
    for offset, info, heading, _, _ in columns:
        keys = (info.name, heading, heading.rsplit(" / ", 1)[-1])
        values = next((wanted[k] for k in map(normalise_text, keys) if k in wanted), None)
        if values and offset < len(cells):
            text = _cell_text(cells[offset])
            if text and normalise_text(text) in values:
                return f"'{heading}' is {text}"
    return None


def _snapshots(
    snapshot_columns: list[tuple[int, str, SnapshotSpec]],
    cells: list[Any],
    values: Mapping[str, Any],
    refs: Mapping[str, CellRef],
    layout: TableLayout,
    sheet: str | None,
    number: int,
    file: str,
    date1904: bool,
    id_field: str,
    row_as_at: tuple[Any, CellRef] | None = None,
) -> Iterator[SourceRow]:
    owner = values.get(id_field)
    dated: Any = None  # the row's own as-at date (ISO), or its cell as read when not a date
    if row_as_at is not None and not is_blank(row_as_at[0]):
        try:
            dated = read_date(row_as_at[0], date1904=date1904)[0]
        except CoercionFailed:
            dated = row_as_at[0]  # validation reports it at the as-at cell
    for offset, heading, spec in snapshot_columns:
        raw = cells[offset] if offset < len(cells) else None
        if is_blank(raw) or (
            spec.rule is not None and normalise_text(_cell_text(raw)) in spec.rule.blank_values
        ):
            continue  # a blank snapshot cell is no observation, not zero
        as_at: Any = spec.as_at or dated or layout.as_at
        owner_text = _cell_text(owner)
        suffix = f"-{spec.breakdown}" if spec.breakdown else ""
        when = as_at.isoformat() if isinstance(as_at, datetime.date) else "undated"
        if isinstance(as_at, str) and _ISO_DATE.fullmatch(as_at):
            when = as_at
        outcome = {
            "outcome_id": f"{owner_text}-{spec.outcome_type}{suffix}-{when}"[:64],
            "programme_id": values.get("programme_id"),
            "enterprise_id": owner,
            "outcome_type": spec.outcome_type,
            "value": raw,
            "as_at_date": as_at,
            "evidence_source": spec.evidence_source,
        }
        if spec.breakdown:
            outcome["breakdown"] = spec.breakdown
        letter = get_column_letter(offset + 1)
        cell_refs = {"value": CellRef(sheet, number, letter, heading)}
        if dated is not None and row_as_at is not None and not spec.as_at:
            cell_refs["as_at_date"] = row_as_at[1]
        if id_field in refs:
            cell_refs["enterprise_id"] = refs[id_field]
            cell_refs["outcome_id"] = refs[id_field]
        rules = {"value": spec.rule} if spec.rule else {}
        yield SourceRow(
            kind="outcome",
            sheet=sheet,
            row=number,
            values=outcome,
            cells=cell_refs,
            file=file,
            rules=rules,
            date1904=date1904,
        )


def _empty(value: Any) -> bool:
    return is_blank(value) or (
        isinstance(value, CellProblem) and value.code == "formula-not-calculated"
    )


def _chain(first: list[Row], rest: Iterator[Row]) -> Iterator[Row]:
    yield from first
    yield from rest
