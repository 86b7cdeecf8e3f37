"""Write an annotated copy of a person's own workbook: bad cells coloured, issues as comments.

The copy is the person's workbook as openpyxl loads and saves it, plus:

- each cell an issue names is filled (errors pink, warnings amber, information light blue;
  the worst severity at a cell wins) and carries one Excel comment listing every issue at
  that cell as ``[code] message`` and ``Hint: hint``; a comment already on the cell is
  kept, below a separator;
- an issue that names a row but no cell (a missing column, say) marks the row's first
  used cell; one that names only a sheet is listed, not marked;
- a new first sheet, ``Issues``, lists every issue of the file with a link to its cell.

The original file is only read. The copy is written whole or not at all
(:func:`mectk.atomic.atomic_output`). Macros are not kept: the copy is always an .xlsx.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen

from mectk.atomic import atomic_output
from mectk.errors import SourceError, UsageError
from mectk.issues import Issue
from mectk.sniff import check_input_path, sniff
from mectk.textsafety import FORMULA_STARTS

ISSUES_SHEET_NAMES = ("Issues", "Issues (mectk)")
"""Names tried in turn for the new sheet; after them ``Issues 2``, ``Issues 3`` and so on."""
HEADINGS = ("Code", "Severity", "Sheet", "Cell", "Column", "Record", "Message", "Hint")
FILLS = {"error": "FFC7CE", "warning": "FFE699", "info": "BDD7EE"}
"""Fill colour by severity: pink/red, amber, light blue."""
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
HEADER_FILL = "D9D9D9"
COMMENT_AUTHOR = "mectk"
SEPARATOR = "────────────"
MAX_TEXT = 32_767
"""The most characters an Excel cell (or comment) holds."""
TRUNCATED = "…(truncated)"
MAX_ROW = 1_048_576
MAX_COLUMN = 16_384
WIDTHS = {  # heading -> (narrowest, widest) column width in characters
    "Code": (10, 28),
    "Severity": (9, 10),
    "Sheet": (8, 28),
    "Cell": (6, 12),
    "Column": (8, 32),
    "Record": (8, 20),
    "Message": (30, 80),
    "Hint": (30, 60),
}
WIDTH_SAMPLE_ROWS = 2000
_CELL_RE = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_ILLEGAL_RE = re.compile(r"[\000-\010\013\014\016-\037]")
_LOSSY_PARTS = (  # zip folder -> what the copy may lose
    ("xl/charts/", "charts"),
    ("xl/drawings/", "drawings and shapes"),
    ("xl/pivotTables/", "pivot tables"),
    ("xl/slicers/", "slicers"),
    ("xl/timelines/", "timelines"),
    ("xl/threadedComments/", "threaded comments (kept only as plain notes)"),
    ("xl/ctrlProps/", "form controls"),
    ("xl/activeX/", "ActiveX controls"),
    ("xl/embeddings/", "embedded objects"),
)


@frozen
class AnnotateSummary:
    """What :func:`write_annotated_copy` did.

    ``cells_marked`` counts distinct cells filled; ``issues_listed`` the rows of the
    Issues sheet; ``notes`` says, in words for a person, what the copy lost or could not
    mark.
    """

    cells_marked: int
    issues_listed: int
    notes: tuple[str, ...] = ()


@frozen
class _Place:
    """Where an issue is marked: a worksheet title and a cell coordinate like ``H14``."""

    sheet: str
    cell: str


def write_annotated_copy(
    source: Path, issues: Sequence[Issue], out: Path, *, file_name: str
) -> AnnotateSummary:
    """Write ``source`` to ``out`` with the issues of ``file_name`` marked on their cells.

    Only issues whose ``file`` is ``file_name`` are used. ``source`` is never modified.
    ``out`` must end in ``.xlsx`` and must not be ``source`` (:class:`UsageError`); a
    ``source`` that is not an .xlsx or .xlsm workbook openpyxl can load is a
    :class:`SourceError`.
    """
    _check_paths(source, out)
    source_type, parts = _check_workbook(source)
    notes: list[str] = []
    if source_type == "xlsm" or source.suffix.lower() in (".xlsm", ".xltm"):
        notes.append(
            f"{source.name} is macro-enabled: the annotated copy is an .xlsx workbook and "
            "its macros (VBA) were dropped. The original keeps them."
        )
    notes.extend(_lossy_notes(parts))
    workbook, load_warnings = _load(source)
    notes.extend(load_warnings)

    mine = [i for i in issues if i.file == file_name]
    places: list[_Place | None] = []
    unplaced: list[str] = []
    hidden: set[str] = set()
    for issue in mine:
        place, problem = _locate(workbook, issue)
        places.append(place)
        if problem:
            unplaced.append(problem)
        if place is not None and workbook[place.sheet].sheet_state != "visible":
            hidden.add(place.sheet)

    at_cell: dict[_Place, list[Issue]] = {}
    for issue, place in zip(mine, places, strict=True):
        if place is not None:
            at_cell.setdefault(place, []).append(issue)
    for place, here in at_cell.items():
        _mark_cell(workbook[place.sheet][place.cell], here)

    _write_issues_sheet(workbook, mine, places)
    if unplaced:
        notes.append(
            f"{len(unplaced)} issue(s) name a sheet or cell not in the workbook "
            f"({_sample(unplaced)}); they are listed on the Issues sheet but not marked."
        )
    if hidden:
        notes.append(
            f"Some marked cells are on hidden sheets ({_sample(sorted(hidden))}); "
            "unhide them to see the marks."
        )
    workbook.template = False  # always save a plain workbook, never a template
    with atomic_output(out) as temporary:
        workbook.save(temporary)
    return AnnotateSummary(cells_marked=len(at_cell), issues_listed=len(mine), notes=tuple(notes))


# ---- checks and loading


def _check_paths(source: Path, out: Path) -> None:
    check_input_path(source)
    if out.suffix.lower() != ".xlsx":
        msg = f"{out}: the annotated copy is an .xlsx workbook, so its name must end in .xlsx"
        raise UsageError(msg, hint=f"For example: {out.with_suffix('.xlsx').name}")
    if out.is_dir():
        msg = f"{out}: is a folder; give a file name for the annotated copy"
        raise UsageError(msg)
    same = out.resolve() == source.resolve()
    if not same and out.exists():
        try:
            same = source.samefile(out)
        except OSError:
            same = False
    if same:
        msg = f"{out}: the annotated copy would overwrite the original {source.name}"
        raise UsageError(msg, hint="Give a different file name for the annotated copy.")


def _check_workbook(source: Path) -> tuple[str, frozenset[str]]:
    """The sniffed type (xlsx or xlsm) and the zip's part names; anything else is refused."""
    sniffed = sniff(source)
    if sniffed.source_type not in ("xlsx", "xlsm"):
        msg = (
            f"{source.name}: an annotated copy can be made only of an .xlsx or .xlsm "
            f"workbook, but this file looks like {sniffed.describe()}"
        )
        raise SourceError(msg, hint="Open it in Excel and save it as an .xlsx workbook.")
    try:
        with zipfile.ZipFile(source) as archive:
            parts = frozenset(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"{source.name}: the workbook cannot be opened ({exc})"
        raise SourceError(msg, hint="Open it in Excel and save a fresh copy.") from exc
    return sniffed.source_type, parts


def _lossy_notes(parts: frozenset[str]) -> list[str]:
    # .vml drawings do not count: cell comments alone bring one, and comments are kept.
    real = [p for p in parts if not p.endswith((".vml", ".rels"))]
    found = [what for folder, what in _LOSSY_PARTS if any(p.startswith(folder) for p in real)]
    notes: list[str] = []
    if found:
        notes.append(
            "The workbook has " + ", ".join(found) + "; the annotated copy may lose or "
            "simplify them. The original is unchanged."
        )
    if any(p.startswith("xl/media/") for p in parts):
        from openpyxl.drawing.image import PILImage

        if not PILImage:
            notes.append(
                "Pictures are not copied into the annotated copy (Pillow is not installed)."
            )
    return notes


def _load(source: Path) -> tuple[Any, list[str]]:
    """Load ``source`` with openpyxl (macros not kept); its warnings become notes."""
    from openpyxl import load_workbook

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # A handle, not the name: the type was checked by content, whatever the extension.
            with source.open("rb") as handle:
                workbook = load_workbook(handle)
        except Exception as exc:
            msg = f"{source.name}: the workbook cannot be loaded to annotate it ({exc})"
            raise SourceError(msg, hint="Open it in Excel and save a fresh copy.") from exc
    seen: list[str] = []
    for warning in caught:
        text = f"openpyxl: {warning.message}"
        if text not in seen:
            seen.append(text)
    return workbook, seen


# ---- where each issue goes


def _find_sheet(workbook: Any, name: str) -> Any | None:
    if name in workbook.sheetnames:
        return workbook[name]
    folded = [s for s in workbook.sheetnames if s.casefold() == name.casefold()]
    return workbook[folded[0]] if folded else None


def _parse_cell(text: str) -> tuple[int, int] | None:
    """(row, column) of a coordinate like ``H14`` or ``$H$14``; None if not a real cell."""
    from openpyxl.utils import column_index_from_string

    match = _CELL_RE.match(text.strip())
    if match is None:
        return None
    column = column_index_from_string(match.group(1).upper())
    row = int(match.group(2))
    if not (1 <= row <= MAX_ROW and 1 <= column <= MAX_COLUMN):
        return None
    return row, column


def _locate(workbook: Any, issue: Issue) -> tuple[_Place | None, str]:
    """Where to mark ``issue``, and why not if it names a place that is not there."""
    from openpyxl.worksheet.worksheet import Worksheet

    if not issue.sheet:
        return None, ""
    sheet = _find_sheet(workbook, issue.sheet)
    if sheet is None:
        return None, f"sheet '{issue.sheet}'"
    if not isinstance(sheet, Worksheet):
        return None, f"chart sheet '{issue.sheet}'"
    if issue.cell:
        where = _parse_cell(issue.cell)
        if where is None:
            return None, f"cell '{issue.cell}' on '{issue.sheet}'"
        row, column = where
    elif issue.row is not None:
        if not 1 <= issue.row <= MAX_ROW:
            return None, f"row {issue.row} on '{issue.sheet}'"
        row, column = issue.row, _first_used_column(sheet, issue.row)
    else:
        return None, ""
    row, column = _merged_origin(sheet, row, column)
    from openpyxl.utils import get_column_letter

    return _Place(sheet.title, f"{get_column_letter(column)}{row}"), ""


def _first_used_column(sheet: Any, row: int) -> int:
    """The column of the first non-blank cell in ``row``, else the sheet's first column."""
    if sheet.min_row <= row <= sheet.max_row:
        for (cell,) in sheet.iter_cols(
            min_row=row, max_row=row, min_col=sheet.min_column, max_col=sheet.max_column
        ):
            value = cell.value
            if value is not None and not (isinstance(value, str) and not value.strip()):
                return int(cell.column)
    return int(sheet.min_column)


def _merged_origin(sheet: Any, row: int, column: int) -> tuple[int, int]:
    """The top-left cell of the merged range holding (row, column), or the cell itself."""
    for merged in sheet.merged_cells.ranges:
        if merged.min_row <= row <= merged.max_row and merged.min_col <= column <= merged.max_col:
            return merged.min_row, merged.min_col
    return row, column


# ---- marking cells


def _rank(issue: Issue) -> int:
    return SEVERITY_RANK.get(issue.severity, len(SEVERITY_RANK))


def _fill_for(severity: str) -> Any:
    from openpyxl.styles import PatternFill

    colour = FILLS.get(severity, FILLS["info"])
    return PatternFill("solid", fgColor=colour, bgColor=colour)


def _mark_cell(cell: Any, here: list[Issue]) -> None:
    from openpyxl.comments import Comment

    ordered = sorted(here, key=_rank)
    cell.fill = _fill_for(ordered[0].severity)
    blocks: list[str] = []
    for issue in ordered:
        lines = [f"[{issue.code}] {issue.message}"]
        if issue.hint:
            lines.append(f"Hint: {issue.hint}")
        block = "\n".join(lines)
        if block not in blocks:  # the same issue reported twice is shown once
            blocks.append(block)
    text = "\n\n".join(blocks)
    old = cell.comment
    if old is not None and old.text:
        by = f" ({old.author})" if old.author else ""
        text = f"{text}\n{SEPARATOR}\nEarlier comment{by}:\n{old.text}"
    text = _safe_text(text)
    comment = Comment(text, COMMENT_AUTHOR)
    lines_shown = sum(1 + len(line) // 48 for line in text.splitlines())
    comment.width = 360
    comment.height = max(80, min(600, 16 * lines_shown + 10))
    cell.comment = comment


# ---- the Issues sheet


def _sheet_name(workbook: Any) -> str:
    taken = {s.casefold() for s in workbook.sheetnames}
    for name in ISSUES_SHEET_NAMES:
        if name.casefold() not in taken:
            return name
    number = 2
    while f"issues {number}" in taken:
        number += 1
    return f"Issues {number}"


def _link_location(place: _Place) -> str:
    quoted = place.sheet.replace("'", "''")
    return f"'{quoted}'!{place.cell}"


def _write_issues_sheet(
    workbook: Any, issues: Sequence[Issue], places: Sequence[_Place | None]
) -> Any:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink

    sheet = workbook.create_sheet(_sheet_name(workbook), 0)
    for column, heading in enumerate(HEADINGS, start=1):
        cell = sheet.cell(row=1, column=column, value=heading)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for row, (issue, place) in enumerate(zip(issues, places, strict=True), start=2):
        for column, value in enumerate(_row_values(issue), start=1):
            cell = sheet.cell(row=row, column=column)
            _set_text(cell, value)
            cell.alignment = wrap if HEADINGS[column - 1] in ("Message", "Hint") else top
        sheet.cell(row=row, column=2).fill = _fill_for(issue.severity)
        if place is not None:
            link_cell = sheet.cell(row=row, column=4)
            if link_cell.value is None:
                _set_text(link_cell, place.cell)
            link_cell.hyperlink = Hyperlink(
                ref=link_cell.coordinate, location=_link_location(place)
            )
            link_cell.style = "Hyperlink"
            link_cell.alignment = top
    _set_widths(sheet, issues)
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(HEADINGS))
    sheet.auto_filter.ref = f"A1:{last}{len(issues) + 1}"
    _make_active(workbook, sheet)
    return sheet


def _row_values(issue: Issue) -> tuple[Any, ...]:
    """The Issues sheet row of ``issue``, in the order of :data:`HEADINGS`."""
    shown_cell = issue.cell or (f"Row {issue.row}" if issue.row is not None else None)
    return (
        issue.code,
        issue.severity,
        issue.sheet,
        shown_cell,
        issue.column,
        issue.record_id,
        issue.message,
        issue.hint,
    )


def _set_widths(sheet: Any, issues: Sequence[Issue]) -> None:
    from openpyxl.utils import get_column_letter

    longest = {h: len(h) for h in HEADINGS}
    for issue in issues[:WIDTH_SAMPLE_ROWS]:
        for heading, value in zip(HEADINGS, _row_values(issue), strict=True):
            if value is not None:
                longest[heading] = max(longest[heading], len(str(value)))
    for column, heading in enumerate(HEADINGS, start=1):
        narrowest, widest = WIDTHS[heading]
        width = max(narrowest, min(widest, longest[heading] + 2))
        sheet.column_dimensions[get_column_letter(column)].width = width


def _make_active(workbook: Any, sheet: Any) -> None:
    """Open the copy on the Issues sheet, with no other sheet selected alongside it."""
    for other in workbook.worksheets:
        other.sheet_view.tabSelected = other is sheet
    workbook.active = workbook.index(sheet)
    for view in workbook.views or ():
        view.firstSheet = 0


def _safe_text(value: Any) -> str:
    """``value`` as text Excel can hold: control characters shown, cut at the cell limit."""
    text = _ILLEGAL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - len(TRUNCATED)] + TRUNCATED
    return text


def _set_text(cell: Any, value: Any) -> None:
    """Write ``value`` as text, never as a formula; None leaves the cell blank."""
    if value is None:
        return
    text = _safe_text(value)
    cell.value = text
    if text.startswith(FORMULA_STARTS):
        cell.data_type = "s"


def _sample(items: Iterable[str], limit: int = 3) -> str:
    unique = list(dict.fromkeys(items))
    shown = ", ".join(unique[:limit])
    return shown + (f" and {len(unique) - limit} more" if len(unique) > limit else "")
