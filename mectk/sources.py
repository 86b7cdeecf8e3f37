"""What readers produce: located rows, blank rows, and the sniffed description of a file.

A reader turns a file into a stream of :data:`ReadItem`: one :class:`SourceRow` per record
found (raw cell values keyed by field name, with where each came from), one
:class:`BlankRow` per empty row inside the data, and :class:`~mectk.issues.Issue` objects
for problems it can see itself (a missing column, an unknown heading).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from attrs import field, frozen

from mectk.issues import Issue
from mectk.limits import Limits

SourceType = Literal["xlsx", "xlsm", "ods", "ole", "html", "csv", "zip", "empty", "binary", "pdf"]

SOURCE_DESCRIPTIONS: Mapping[str, str] = {
    "xlsx": "an Excel workbook (.xlsx)",
    "xlsm": "a macro-enabled Excel workbook (.xlsm)",
    "ods": "an OpenDocument spreadsheet (.ods)",
    "ole": "an OLE compound file (a legacy .xls workbook, or an encrypted or labelled workbook)",
    "html": "an HTML page (often a web export saved with a spreadsheet extension)",
    "csv": "plain text (CSV or similar)",
    "zip": "a zip archive that is not a workbook",
    "empty": "an empty file",
    "binary": "a binary file of unknown type",
    "pdf": "a PDF document",
}
"""How mectk describes each sniffed file type to a person."""


@frozen
class Source:
    """An input file as sniffed from its content, not its extension.

    ``sheet_names`` is filled for workbooks, and ``hidden_sheets`` holds (name, ``hidden``
    or ``very hidden``) for those hidden in Excel; ``head`` holds the first bytes read.
    """

    path: Path
    source_type: SourceType
    head: bytes = field(repr=False)
    sheet_names: tuple[str, ...] = ()
    detail: str = ""
    label: str = ""
    hidden_sheets: tuple[tuple[str, str], ...] = ()

    @property
    def display_name(self) -> str:
        """The file as issues name it: its name, or ``label`` (the path as given) when two
        inputs share a name."""
        return self.label or self.path.name

    def describe(self) -> str:
        """What the file looks like, in words for a person."""
        text = SOURCE_DESCRIPTIONS[self.source_type]
        return f"{text}: {self.detail}" if self.detail else text


@frozen
class CellRef:
    """Where one value came from. ``column`` is a letter (``H``); ``heading`` its heading text."""

    sheet: str | None
    row: int | None
    column: str | None
    heading: str | None

    @property
    def cell(self) -> str | None:
        """The A1-style cell reference, such as ``H14``, when row and column are known."""
        if self.row is None or self.column is None:
            return None
        return f"{self.column}{self.row}"


@frozen
class CellProblem:
    """A cell whose content cannot be used: an Excel error value or an uncached formula.

    Readers put it in place of the cell's value; validation reports ``code`` at the cell.
    """

    code: str
    detail: str

    def __str__(self) -> str:
        return self.detail


@frozen
class ColumnRule:
    """How to read one column's cells, as a mapping file says.

    ``values`` maps normalised cell text to the value to use instead (a code, true/false
    or a number). ``blank`` says what an empty cell means: ``unknown`` (no value),
    ``no`` (false) or ``zero`` (0); it is never assumed. ``date_formats`` are
    ``strptime`` formats tried before the built-in UK forms; ``separators`` split
    multi-value cells; ``blank_values`` are normalised cell texts that mean the cell is
    empty (``n/a``), read as blank before ``blank_as`` or ``blank`` apply.
    """

    values: Mapping[str, Any] = field(factory=dict)
    blank: Literal["unknown", "no", "zero"] = "unknown"
    date_formats: tuple[str, ...] = ()
    separators: tuple[str, ...] = ()
    pattern: str | None = None
    """A regular expression the cell's text must match whole (``format-invalid`` if not)."""
    blank_as: str | None = None
    """Text an empty cell is read as (then mapped by ``values``), when a layout's own rule
    gives blanks a meaning, such as a blank 1/0 flag meaning 0."""
    blank_values: frozenset[str] = frozenset()


class RowCells(Mapping[str, CellRef]):
    """The cells of one row, made on demand from the sheet's columns (no object per cell)."""

    __slots__ = ("_columns", "_row")

    def __init__(self, columns: Mapping[str, CellRef], row: int) -> None:
        self._columns = columns
        self._row = row

    def __getitem__(self, name: str) -> CellRef:
        column = self._columns[name]
        return CellRef(column.sheet, self._row, column.column, column.heading)

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


@frozen
class SourceRow:
    """One record as read: raw values keyed by (dotted) field name, with their cells.

    ``kind`` is a key of :data:`mectk.schemas.RECORD_KINDS`. Values are the reader's typed
    cells (str, int, float, bool, date, datetime) and have not been checked.
    """

    kind: str
    sheet: str | None
    row: int | None
    values: Mapping[str, Any]
    cells: Mapping[str, CellRef]
    file: str = ""
    sheet_columns: Mapping[str, CellRef] = field(factory=dict)
    rules: Mapping[str, ColumnRule] = field(factory=dict)
    date1904: bool = False
    extras: Mapping[str, Any] = field(factory=dict)
    """Raw cells of the layout's extra columns, by heading: values that feed no field,
    for the format's own code (a mapping's ``extra_columns``); None when blank."""
    extra_cells: Mapping[str, CellRef] = field(factory=dict)
    """Where each of ``extras`` came from."""

    @property
    def source_ref(self) -> str:
        """``file!sheet!row`` (or as much of it as is known), stored on the record."""
        parts = [p for p in (self.file, self.sheet, str(self.row) if self.row else "") if p]
        return "!".join(parts)


@frozen
class BlankRow:
    """An empty row inside the data: counted apart, never a record."""

    sheet: str | None
    row: int | None


@frozen
class SkippedRow:
    """A row the layout says is not data (a TOTAL row, footnotes below the table)."""

    sheet: str | None
    row: int | None
    reason: str


@frozen
class ColumnMapping:
    """Which heading became which field on one sheet, and how it matched."""

    file: str
    sheet: str | None
    columns: tuple[tuple[str, str, str, str], ...]
    """(column letter, heading, field, matched by) for each recognised column."""


@frozen
class ReadOptions:
    """Options a reader may use. Readers ignore what they do not understand.

    ``as_at`` is the date snapshot columns without a date of their own apply to
    (from ``--period``: the period's last day; without it, the pipeline gives each file
    the last day of the quarter its name gives, if any). ``limits`` bound what is read
    (:class:`mectk.limits.Limits`; ``--limit`` and ``MECTK_LIMITS_*`` on the command line).
    """

    encoding: str | None = None
    as_at: datetime.date | None = None
    limits: Limits = field(factory=Limits)


ReadItem = SourceRow | BlankRow | SkippedRow | ColumnMapping | Issue
"""What a reader yields."""
