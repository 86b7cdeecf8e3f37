"""Uniform access to the cells of a workbook or CSV file, sheet by sheet.

A :class:`Grid` yields each sheet's rows as ``(row number, cells)`` with cells starting
at column A, up to the last non-empty row (never ``max_row``). Workbooks are read with
python-calamine; one bounded byte-level pass over each sheet's XML finds what calamine
does not report: hidden rows, Excel error values (``#REF!``) and formulas saved without
a cached value, which calamine would show as blank. Those cells become
:class:`CellProblem` values so that validation reports them at their cell.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import re
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from attrs import frozen

from mectk.errors import SourceError, UsageError, fault
from mectk.issues import Issue, make_issue
from mectk.limits import DAMAGED, Limits
from mectk.sources import CellProblem, ReadOptions, Source

CSV_SNIFF_BYTES = 65536
CSV_FIELD_LIMIT = 1 << 20
"""Longest CSV field parsed at all; longer stops the read (``csv-malformed``). Fields
longer than the ``cell_chars`` limit but within this become ``cell-too-long`` issues."""
CHUNK = 1 << 20
MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@frozen
class SheetFacts:
    """What the byte-level pass found in one sheet: hidden rows, problem cells, and the
    extent of the used range (rows from the row tags, columns from ``<dimension>``)."""

    hidden_rows: frozenset[int] = frozenset()
    problems: Mapping[tuple[int, int], CellProblem] = {}
    last_row: int = 0
    last_column: int = 0
    serial60: frozenset[tuple[int, int]] = frozenset()
    """(row, column) of numeric cells holding 60: Excel's phantom 29/02/1900 when the cell
    is date-formatted, which python-calamine folds silently into 28/02/1900."""


class Grid(Protocol):
    """Rows of cells by sheet. CSV files have one sheet whose name is None."""

    sheet_names: tuple[str | None, ...]
    date1904: bool
    notices: list[Issue]

    def rows(self, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
        """(1-based row number, cells from column A) for each row to the last used one."""
        ...

    def merged_ranges(self, sheet: str | None) -> list[tuple[int, int, int, int]]:
        """Merged ranges as 1-based (first row, first column, last row, last column)."""
        ...

    def hidden_rows(self, sheet: str | None) -> frozenset[int]:
        """Row numbers hidden in Excel."""
        ...


def open_grid(source: Source, options: ReadOptions) -> Grid:
    """Open a sniffed workbook or CSV file as a :class:`Grid`."""
    if source.source_type in ("xlsx", "xlsm"):
        return WorkbookGrid(source, options.limits)
    if source.source_type == "csv":
        return CsvGrid(source, options)
    msg = f"{source.display_name}: cannot be read as a table; it looks like {source.describe()}"
    raise SourceError(msg)


class WorkbookGrid:
    """A workbook read with python-calamine, plus the byte-level facts calamine omits."""

    def __init__(self, source: Source, limits: Limits | None = None) -> None:
        from python_calamine import CalamineWorkbook

        self.source = source
        self.limits = limits or Limits()
        try:
            self._book = CalamineWorkbook.from_path(str(source.path))
        except Exception as exc:
            raise fault("file-corrupt", file=source.display_name, detail=str(exc)) from exc
        self.sheet_names: tuple[str | None, ...] = tuple(self._book.sheet_names)
        self.notices: list[Issue] = []
        self._parts, self.date1904 = _workbook_parts(source.path)
        self._facts: dict[str, SheetFacts] = {}
        self._merged: dict[str, list[tuple[int, int, int, int]]] = {}

    def _sheet(self, sheet: str | None) -> Any:
        try:
            return self._book.get_sheet_by_name(sheet or "")
        except Exception as exc:
            msg = f"{self.source.display_name}: sheet '{sheet}' cannot be read ({exc})"
            raise SourceError(
                msg,
                hint="Open it in Excel and save a fresh copy.",
                code="file-corrupt",
                context={"file": self.source.display_name, "sheet": sheet},
            ) from exc

    def facts(self, sheet: str | None) -> SheetFacts:
        """Hidden rows and problem cells of ``sheet`` (scanned once, then cached)."""
        key = sheet or ""
        if key not in self._facts:
            part = self._parts.get(key)
            self._facts[key] = (
                _scan_sheet(self.source.path, part, self.source.display_name)
                if part
                else SheetFacts()
            )
        return self._facts[key]

    def rows(self, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
        facts = self.facts(sheet)
        check_extent(
            self.source.display_name, sheet, facts.last_row, facts.last_column, self.limits
        )
        data = self._sheet(sheet)
        self._merged[sheet or ""] = _merged_of(data)  # so merged_ranges need not load it again
        start = data.start
        pad = [""] * (start[1] if start else 0)
        problems = self.facts(sheet).problems
        serial60: dict[int, list[int]] = {}
        for sixty_row, sixty_column in facts.serial60:
            serial60.setdefault(sixty_row, []).append(sixty_column)
        by_row: dict[int, list[tuple[int, CellProblem]]] = {}
        for (problem_row, column), problem in problems.items():
            by_row.setdefault(problem_row, []).append((column, problem))
        last_row = 0
        for index, cells in enumerate(data.iter_rows()):
            number = index + 1
            last_row = number
            row = pad + list(cells) if pad else list(cells)
            limit_text(row, self.limits.cell_chars)
            if serial60 and number in serial60:
                for column in serial60[number]:
                    if column <= len(row) and row[column - 1] == PHANTOM_FOLDED:
                        row[column - 1] = 60  # coercion reports date-serial-60
            for column, problem in by_row.pop(number, ()):
                row.extend([""] * (column - len(row)))
                row[column - 1] = problem
            yield number, row
        for number in sorted(n for n in by_row if n > last_row):
            extra: list[Any] = []
            for column, problem in by_row[number]:
                extra.extend([""] * (column - len(extra)))
                extra[column - 1] = problem
            yield number, extra

    def merged_ranges(self, sheet: str | None) -> list[tuple[int, int, int, int]]:
        found = self._merged.get(sheet or "")
        return found if found is not None else _merged_of(self._sheet(sheet))

    def hidden_rows(self, sheet: str | None) -> frozenset[int]:
        return self.facts(sheet).hidden_rows


def _merged_of(data: Any) -> list[tuple[int, int, int, int]]:
    ranges = data.merged_cell_ranges or []
    return [(r1 + 1, c1 + 1, r2 + 1, c2 + 1) for (r1, c1), (r2, c2) in ranges]


def check_extent(file: str, sheet: str | None, rows: int, columns: int, limits: Limits) -> None:
    """Refuse a sheet whose used range breaks ``limits`` (``sheet-too-large``), before it is
    loaded: python-calamine allocates the whole range."""
    cells = rows * max(columns, 1)
    broken = [
        f"more than the limit of {limit:,} {what} (limit {name})"
        for value, limit, what, name in (
            (rows, limits.rows, "rows", "rows"),
            (columns, limits.columns, "columns", "columns"),
            (cells, limits.sheet_cells, "cells", "sheet_cells"),
        )
        if value > limit
    ]
    if broken:
        raise fault(
            "sheet-too-large",
            file=file,
            sheet=sheet if sheet is not None else "",
            rows=f"{rows:,}",
            columns=f"{columns:,}",
            detail=f"{cells:,} cells, " + "; ".join(broken),
        )


def limit_text(row: list[Any], limit: int) -> None:
    """Replace each text cell of ``row`` longer than ``limit`` by a ``cell-too-long`` problem."""
    for index, value in enumerate(row):
        if value.__class__ is str and len(value) > limit:
            row[index] = CellProblem(
                "cell-too-long",
                f"{len(value):,} characters, more than the {limit:,} a cell may hold "
                "(limit cell_chars)",
            )


def _workbook_parts(path: Path) -> tuple[dict[str, str], bool]:
    """Sheet name -> zip member of its XML, and whether the workbook uses the 1904 system."""
    from defusedxml import ElementTree

    try:
        with zipfile.ZipFile(path) as archive:
            workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, OSError):
        return {}, False
    except Exception as exc:
        raise fault(
            "unsafe-xml", file=path.name, part="xl/workbook.xml", detail=type(exc).__name__
        ) from exc
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{PKG_REL_NS}Relationship")}
    parts: dict[str, str] = {}
    for sheet in workbook.iter(f"{MAIN_NS}sheet"):
        target = targets.get(sheet.get(f"{REL_NS}id"), "")
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl", target))
        parts[sheet.get("name", "")] = member
    props = workbook.find(f"{MAIN_NS}workbookPr")
    date1904 = props is not None and props.get("date1904", "0").lower() in ("1", "true")
    return parts, date1904


_ROW_TAG = re.compile(rb"<row\b([^>]*)>")
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_FORMULA = rb"<f\b[^>]*?(?:/>|>[^<]*</f>)"
_ERROR_CELL = re.compile(
    rb'<c\b[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*?\bt="e"[^>]*>\s*(?:'
    + _FORMULA
    + rb")?\s*<v>([^<]*)</v>"
)
_BARE_FORMULA = re.compile(
    rb'<c\b([^>]*?)\br="([A-Z]{1,3})(\d+)"([^>]*)>\s*'
    + _FORMULA
    + rb"\s*(?:<v\s*/>|<v></v>)?\s*</c>"
)
_TEXT_RESULT = re.compile(rb'\bt="str"')
_SIXTY = re.compile(
    rb'<c\b(?![^>]*\bt="(?!n")[^"]*")[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*>\s*<v>60</v>'
)
PHANTOM_FOLDED = datetime.date(1900, 2, 28)
_DIMENSION = re.compile(rb'<dimension\b[^>]*\bref="(?:[A-Z]{1,3}\d+:)?([A-Z]{1,3})(\d+)"')


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + (char - 64)
    return number


def _scan_sheet(path: Path, member: str, file: str) -> SheetFacts:
    """One streaming pass over a sheet's XML bytes for hidden rows and problem cells.

    A damaged part (bad checksum, false size) is ``archive-corrupt``."""
    hidden: set[int] = set()
    sixty: set[tuple[int, int]] = set()
    problems: dict[tuple[int, int], CellProblem] = {}
    last_row = last_column = 0
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
            carry = b""
            first = True
            while chunk := handle.read(CHUNK):
                if first:
                    dimension = _DIMENSION.search(chunk)
                    if dimension:
                        last_column = _column_number(dimension.group(1))
                    first = False
                data = carry + chunk
                cut = data.rfind(b"</row>")
                if cut < 0:
                    carry = data
                    continue
                cut += len(b"</row>")
                last_row = max(last_row, _scan_block(data[:cut], hidden, problems, sixty))
                carry = data[cut:]
            last_row = max(last_row, _scan_block(carry, hidden, problems, sixty))
    except KeyError:
        return SheetFacts()
    except DAMAGED as exc:
        detail = str(exc) or type(exc).__name__
        raise fault("archive-corrupt", file=file, part=member, detail=detail) from exc
    return SheetFacts(frozenset(hidden), problems, last_row, last_column, frozenset(sixty))


def _scan_block(
    block: bytes,
    hidden: set[int],
    problems: dict[tuple[int, int], CellProblem],
    sixty: set[tuple[int, int]],
) -> int:
    """Record hidden rows and problem cells in ``block``; return its last row number."""
    last_row = 0
    for match in _ROW_TAG.finditer(block):
        attrs = match.group(1)
        number = _ROW_NUMBER.search(attrs)
        if number:
            last_row = max(last_row, int(number.group(1)))
            if _HIDDEN.search(attrs):
                hidden.add(int(number.group(1)))
    if b"<v>60</v>" in block:
        for match in _SIXTY.finditer(block):
            sixty.add((int(match.group(2)), _column_number(match.group(1))))
    for match in _ERROR_CELL.finditer(block):
        key = (int(match.group(2)), _column_number(match.group(1)))
        problems[key] = CellProblem("cell-error", match.group(3).decode("utf-8", "replace"))
    for match in _BARE_FORMULA.finditer(block):
        attrs = match.group(1) + match.group(4)
        if _TEXT_RESULT.search(attrs) and b"<v></v>" in match.group(0):
            continue  # a formula whose saved result is the empty text
        key = (int(match.group(3)), _column_number(match.group(2)))
        problems.setdefault(key, CellProblem("formula-not-calculated", "formula"))
    return last_row


class CsvGrid:
    """A CSV file as a one-sheet grid: encoding checked first, delimiter sniffed."""

    def __init__(self, source: Source, options: ReadOptions) -> None:
        self.source = source
        self.limits = options.limits
        self.sheet_names: tuple[str | None, ...] = (None,)
        self.date1904 = False
        self.notices: list[Issue] = []
        self.encoding = self._choose_encoding(options.encoding)
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
        with source.path.open(encoding=self.encoding, newline="") as handle:
            sample = handle.read(CSV_SNIFF_BYTES)
        self.dialect: Any = _dialect(sample)

    def _refuse(self, bad: tuple[int, str, int], encoding: str, advice: str) -> SourceError:
        error = fault(
            "encoding-error",
            file=self.source.display_name,
            line=f"{bad[0]:,}",
            byte=bad[1],
            offset=f"{bad[2]:,}",
            encoding=encoding,
            advice=advice,
        )
        assert isinstance(error, SourceError)
        return error

    def _choose_encoding(self, wanted: str | None) -> str:
        name = self.source.display_name
        if wanted:
            try:
                info = codecs.lookup(wanted)
            except LookupError as exc:
                msg = f"unknown encoding '{wanted}'"
                raise UsageError(msg, hint="Use an encoding such as utf-8 or cp1252.") from exc
            if not getattr(info, "_is_text_encoding", True):
                msg = f"'{wanted}' is not a text encoding"
                raise UsageError(msg, hint="Use an encoding such as utf-8 or cp1252.")
            bad = _first_bad_byte(self.source.path, wanted)
            if bad:
                raise self._refuse(bad, wanted, "Check --encoding, or save the file as UTF-8.")
            return wanted
        if self.source.head.startswith((b"\xff\xfe", b"\xfe\xff")):
            wanted = "utf-16"  # Excel's "Unicode text": the byte-order mark says so
            bad = _first_bad_byte(self.source.path, wanted)
            if bad:
                raise self._refuse(bad, "UTF-16", "Save the file again as CSV UTF-8.")
            return wanted
        bad = _first_bad_byte(self.source.path, "utf-8-sig")
        if bad is None:
            return "utf-8-sig"
        if _first_bad_byte(self.source.path, "cp1252") is None:
            self.notices.append(
                make_issue("encoding-fallback", file=name, row=bad[0], detail=bad[1])
            )
            return "cp1252"
        raise self._refuse(
            bad,
            "UTF-8 or Windows-1252",
            "Save the file as CSV UTF-8, or give --encoding if you know its encoding.",
        )

    def rows(self, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
        """Rows numbered as a spreadsheet shows them: a quoted cell over several lines is
        one row. Broken quoting or an oversized field is ``csv-malformed``; more rows or
        columns than the limits allow is ``sheet-too-large``; text longer than
        ``cell_chars`` becomes a ``cell-too-long`` problem at its cell."""
        file = self.source.display_name
        limits = self.limits
        with self.source.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, self.dialect, strict=True)
            number = 0
            try:
                for cells in reader:
                    number += 1
                    if number > limits.rows or len(cells) > limits.columns:
                        check_extent(file, "", number, len(cells), limits)
                    if len(max(cells, key=len, default="")) > limits.cell_chars:
                        limit_text(cells, limits.cell_chars)
                    yield number, cells
            except csv.Error as exc:
                raise fault(
                    "csv-malformed",
                    file=file,
                    row=f"{number + 1:,}",
                    line=f"{reader.line_num:,}",
                    detail=str(exc),
                ) from exc

    def merged_ranges(self, sheet: str | None) -> list[tuple[int, int, int, int]]:
        return []

    def hidden_rows(self, sheet: str | None) -> frozenset[int]:
        return frozenset()


def _dialect(sample: str) -> Any:
    """The CSV dialect whose delimiter splits the most lines into the same number of fields.

    Counting over the first lines (not one line) copes with banner rows above the header
    and with commas in footnotes, which mislead ``csv.Sniffer``.
    """
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    best, best_score = ",", 0
    for delimiter in (",", ";", "\t", "|"):
        counts = Counter(line.count(delimiter) for line in lines)
        fields, agreeing = max(counts.items(), key=lambda item: (item[1], item[0]), default=(0, 0))
        score = agreeing * (fields > 0) * 1000 + fields
        if score > best_score:
            best, best_score = delimiter, score

    class Sniffed(csv.excel):
        delimiter = best

    return Sniffed


def _first_bad_byte(path: Path, encoding: str) -> tuple[int, str, int] | None:
    """(line number, byte, byte offset) of the first byte that does not decode, or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                start = min(max(exc.start, 0), len(chunk) - 1)
                line += chunk[:start].count(b"\n")
                return line, f"0x{chunk[start]:02X}", offset + start
            line += text.count("\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            shown = f"0x{exc.object[exc.start]:02X}" if exc.object else "end of file"
            return line, shown, offset
    return None
