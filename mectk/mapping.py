"""Mapping files: a council's spreadsheet layout described in TOML, read with no code.

:func:`load_mapping` parses and checks a mapping file against
``schemas/mapping.schema.json`` and against the record schemas (every field named must
exist; every mapped code must be in its code list), raising a
:class:`~mectk.errors.UsageError` that names the file and the key. :func:`mapping_reader`
turns a loaded :class:`Mapping` into an ordinary :class:`~mectk.specs.ReaderSpec`.
The keys are documented in ``docs/mapping-files.md``.
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections.abc import Iterable, Iterator
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import attrs
import jsonschema
from attrs import frozen

from mectk.coerce import CoercionFailed, cell_text, coerce_scalar, is_blank
from mectk.errors import SourceError, UsageError
from mectk.grid import open_grid
from mectk.issues import make_issue
from mectk.schemas import (
    RECORD_KINDS,
    FieldInfo,
    codelist,
    field_map,
    field_validator,
    load_schema,
    normalise_text,
)
from mectk.sources import ColumnRule, ReadItem, ReadOptions, SkippedRow, Source, SourceRow
from mectk.specs import ReaderSpec, RefineFunction
from mectk.table_reader import ColumnSpec, SnapshotSpec, TableLayout, read_table

DEFAULT_SOURCE_TYPES = ("xlsx", "xlsm", "csv")


@frozen
class SheetMapping:
    """One ``[[sheets]]`` table: which sheet, and the layout to read it by."""

    sheet: str | None
    optional: bool
    layout: TableLayout


@frozen
class Mapping:
    """A loaded, checked mapping file."""

    format: str
    title: str
    source_types: tuple[str, ...]
    sheets: tuple[SheetMapping, ...]
    identify_sheets: tuple[str, ...]
    identify_headings: tuple[str, ...]
    origin: str
    refine: RefineFunction | None = None
    """What the plugin shipping the mapping does to its rows that a mapping cannot say
    (:class:`mectk.specs.MappingSpec`)."""


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_mapping(path: Path | Traversable) -> Mapping:
    """Read and check a mapping file; every problem is a UsageError naming file and key."""
    name = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        msg = f"{name}: no such mapping file"
        raise UsageError(msg) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{name}: not a valid TOML file: {exc}"
        raise UsageError(msg, hint="See docs/mapping-files.md for the format.") from exc
    schema = load_schema("mapping")
    checker = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(checker.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{_where(e.absolute_path)}: {e.message}" for e in errors[:10]]
        msg = f"{name}: the mapping file has {len(errors)} problem(s):\n  " + "\n  ".join(lines)
        raise UsageError(msg, hint="See docs/mapping-files.md for every key.")
    return _build(data, name)


def _date(text: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


def _check_value(
    info: FieldInfo, value: Any, where: str, name: str, kind: str | None = None
) -> None:
    """Refuse a mapped or constant value the field could never accept; with ``kind``, the
    value is also checked against the field's schema (patterns, ranges)."""
    if isinstance(value, dict | list):
        msg = f"{name}: {where}: a value must be text, a number or true/false"
        raise UsageError(msg)
    try:
        coerced = coerce_scalar(value, info)
    except CoercionFailed as exc:
        allowed = ""
        if info.codelist:
            allowed = f" (one of: {', '.join(codelist(info.codelist).codes)})"
        msg = f"{name}: {where}: {value!r} is not a valid {info.title}{allowed}"
        raise UsageError(msg) from exc
    if kind is not None and "." not in info.name and not info.multi:
        error = next(iter(field_validator(kind, info.name).iter_errors(coerced)), None)
        if error is not None:
            msg = f"{name}: {where}: {value!r} is not a valid {info.title}"
            raise UsageError(msg, hint=info.hint)


def _field(kind: str, field: str, where: str, name: str) -> FieldInfo:
    info = field_map(kind).get(field)
    if info is None or info.read_only:
        msg = f"{name}: {where}: '{field}' is not a field of {kind} records"
        fields = ", ".join(f for f, i in field_map(kind).items() if not i.read_only)
        raise UsageError(msg, hint=f"The {kind} fields are: {fields}.")
    return info


BLANK_KINDS = {"no": ("boolean",), "zero": ("integer", "decimal")}


def _rule(info: FieldInfo, spec: dict[str, Any], where: str, name: str) -> ColumnRule:
    values = {}
    for text, value in spec.get("values", {}).items():
        _check_value(info, value, f"{where}.values.{text}", name)
        values[normalise_text(text)] = value
    blank = spec.get("blank", "unknown")
    if blank in BLANK_KINDS and info.value_kind not in BLANK_KINDS[blank]:
        msg = (
            f"{name}: {where}.blank: '{blank}' does not fit {info.title}, which is "
            f"{'a list of ' if info.multi else ''}{info.value_kind} values"
        )
        raise UsageError(msg, hint="'no' is for yes/no columns, 'zero' for numbers.")
    for form in spec.get("date_formats", ()):
        try:
            datetime.datetime.strptime(datetime.date(2025, 4, 1).strftime(form), form)  # noqa: DTZ007
        except ValueError as exc:
            msg = f"{name}: {where}.date_formats: '{form}' is not a date format ({exc})"
            raise UsageError(msg, hint="Use strptime codes such as %d/%m/%Y or %B %Y.") from exc
    blank_as = spec.get("blank_as")
    if blank_as is not None and blank != "unknown":
        msg = f"{name}: {where}: give blank or blank_as, not both"
        hint = "blank_as is the text a blank cell is read as; blank is for yes/no and numbers."
        raise UsageError(msg, hint=hint)
    if blank_as is not None:
        mapped = values.get(normalise_text(blank_as), blank_as)
        _check_value(info, mapped, f"{where}.blank_as", name)
    pattern = spec.get("pattern")
    if pattern is not None:
        _compile(pattern, f"{where}.pattern", name)
    return ColumnRule(
        values=values,
        blank=spec.get("blank", "unknown"),
        date_formats=tuple(spec.get("date_formats", ())),
        separators=tuple(spec.get("separators", ())),
        pattern=pattern,
        blank_as=blank_as,
        blank_values=frozenset(normalise_text(t) for t in spec.get("blank_values", ())),
    )


def _compile(pattern: str, where: str, name: str, groups: tuple[str, ...] = ()) -> None:
    """Refuse a regular expression that does not compile or lacks a needed named group."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        msg = f"{name}: {where}: '{pattern}' is not a regular expression ({exc})"
        raise UsageError(msg, hint="See docs/mapping-files.md for examples.") from exc
    missing = [g for g in groups if g not in compiled.groupindex]
    if missing:
        msg = f"{name}: {where}: '{pattern}' has no named group {', '.join(missing)}"
        hint = "Name the groups, as in hrs_wk_(?P<year>\\d{4})_(?P<month>\\d{2})."
        raise UsageError(msg, hint=hint)


def _build(data: dict[str, Any], name: str) -> Mapping:
    sheets = []
    outcome_types = codelist("outcome_type")
    for index, raw in enumerate(data["sheets"]):
        kind = raw["record"]
        at = f"sheets[{index}]"
        constants: dict[str, Any] = {}
        sheet_constants = raw.get("constants", {})
        for field, value in {**data.get("constants", {}), **sheet_constants}.items():
            where = f"{at}.constants" if field in sheet_constants else "constants"
            if field not in field_map(kind):
                if field in sheet_constants:
                    _field(kind, field, where, name)
                continue
            _check_value(_field(kind, field, where, name), value, f"{where}.{field}", name, kind)
            constants[field] = value
        columns = []
        for field, spec in raw.get("columns", {}).items():
            info = _field(kind, field, f"{at}.columns", name)
            spec = {"heading": spec} if isinstance(spec, str) else spec
            rule = _rule(info, spec, f"{at}.columns.{field}", name)
            columns.append(ColumnSpec(field, (spec["heading"], *spec.get("aliases", ())), rule))
        snapshots = []
        seen_measures: set[tuple[str, str | None, str | None]] = set()
        for position, spec in enumerate(raw.get("snapshots", [])):
            where = f"{at}.snapshots[{position}]"
            if spec["outcome_type"] not in outcome_types.codes:
                msg = (
                    f"{name}: {where}.outcome_type: '{spec['outcome_type']}' is not an outcome type"
                )
                raise UsageError(msg, hint=f"Use one of: {', '.join(outcome_types.codes)}.")
            outcome = field_map("outcome")
            for key in ("breakdown", "evidence_source"):
                if key in spec:
                    _check_value(outcome[key], spec[key], f"{where}.{key}", name)
            if "heading" not in spec and "heading_pattern" not in spec:
                msg = f"{name}: {where}: give a heading or a heading_pattern"
                raise UsageError(msg, hint="See docs/mapping-files.md, snapshots.")
            if "heading_pattern" in spec:
                _compile(
                    spec["heading_pattern"], f"{where}.heading_pattern", name, ("year", "month")
                )
            measure = (
                spec["outcome_type"],
                spec.get("breakdown"),
                spec.get("as_at") or spec.get("heading_pattern"),
            )
            if measure in seen_measures:
                msg = (
                    f"{name}: {where}: another snapshot column on this sheet already gives "
                    f"{spec['outcome_type']} {spec.get('breakdown') or ''} for the same date"
                )
                raise UsageError(msg, hint="Give each snapshot column its own breakdown or as_at.")
            seen_measures.add(measure)
            snapshots.append(
                SnapshotSpec(
                    headings=tuple(h for h in (spec.get("heading"), *spec.get("aliases", ())) if h),
                    pattern=spec.get("heading_pattern"),
                    outcome_type=spec["outcome_type"],
                    evidence_source=spec.get("evidence_source", "enterprise_self_report"),
                    breakdown=spec.get("breakdown"),
                    as_at=_date(spec.get("as_at")),
                    rule=_rule(outcome["value"], spec, where, name),
                )
            )
        for position, pattern in enumerate(raw.get("extra_columns", ())):
            _compile(pattern, f"{at}.extra_columns[{position}]", name)
        layout = TableLayout(
            kind=kind,
            header_rows=tuple(raw.get("header_rows", ())),
            columns=tuple(columns),
            constants=constants,
            skip_values={k: tuple(v) for k, v in raw.get("skip_values", {}).items()},
            stop_at_first_blank=raw.get("stop_at_first_blank", False),
            snapshots=tuple(snapshots),
            as_at=_date(raw.get("as_at") or data.get("as_at")),
            schema_headings=False,
            ignored_headings=tuple(raw.get("ignore_columns", ())),
            extra_columns=tuple(raw.get("extra_columns", ())),
            as_at_column=(raw["as_at_column"],) if "as_at_column" in raw else (),
            updates=raw.get("updates", False),
        )
        sheets.append(SheetMapping(raw.get("sheet"), raw.get("optional", False), layout))
    identify = data.get("identify", {})
    return Mapping(
        format=data["format"],
        title=data.get("title", data["format"]),
        source_types=tuple(data.get("source_types", DEFAULT_SOURCE_TYPES)),
        sheets=tuple(sheets),
        identify_sheets=tuple(identify.get("sheets", ())),
        identify_headings=tuple(identify.get("headings", ())),
        origin=name,
    )


def read_with_mapping(mapping: Mapping, source: Source, options: ReadOptions) -> Iterator[ReadItem]:
    """Read every sheet the mapping names; a missing sheet is an error unless optional.

    When a sheet ``updates`` a record kind, what earlier sheets of that kind yield is held
    back until the updates are applied (:func:`apply_updates`); with a ``refine`` function,
    every item passes through it."""
    items = _read_sheets(mapping, source, options)
    if any(s.layout.updates for s in mapping.sheets):
        items = apply_updates(mapping, items)
    if mapping.refine is not None:
        items = mapping.refine(items, source, options)
    return items


def _read_sheets(mapping: Mapping, source: Source, options: ReadOptions) -> Iterator[ReadItem]:
    grid = open_grid(source, options)
    yield from grid.notices
    file = source.display_name
    by_name = {normalise_text(n): n for n in grid.sheet_names if n is not None}
    for sheet_mapping in mapping.sheets:
        layout = sheet_mapping.layout
        if options.as_at and layout.as_at is None:
            layout = _with_as_at(layout, options.as_at)
        if source.source_type == "csv":
            yield from read_table(grid, None, layout, file)
            continue
        wanted = sheet_mapping.sheet or ""
        actual = by_name.get(normalise_text(wanted))
        if actual is None:
            if not sheet_mapping.optional:
                yield make_issue(
                    "sheet-not-found",
                    file=file,
                    sheet=wanted,
                    sheets=", ".join(n for n in grid.sheet_names if n),
                    format=mapping.format,
                )
            continue
        yield from read_table(grid, actual, layout, file)


def apply_updates(mapping: Mapping, items: Iterator[ReadItem]) -> Iterator[ReadItem]:
    """Apply the rows of ``updates`` sheets to the records read before them.

    Items of the updated kinds from other sheets are held back, in order. Each update row
    finds the held record with the same id: its non-blank values (and their cells, so an
    issue points at the update's own cell) replace the record's, and the update row is
    counted as a skipped row saying which record it went into. An update row whose id no
    earlier sheet has is an ``update-target-missing`` error.
    """
    updating = {
        normalise_text(s.sheet or ""): s.layout.kind for s in mapping.sheets if s.layout.updates
    }
    kinds = set(updating.values())
    held: list[ReadItem] = []
    by_id: dict[tuple[str, str], int] = {}
    for item in items:
        if isinstance(item, SourceRow) and normalise_text(item.sheet or "") in updating:
            yield from _apply_update(item, held, by_id)
        elif isinstance(item, SourceRow) and item.kind in kinds:
            record_id = item.values.get(RECORD_KINDS[item.kind].id_field)
            if not is_blank(record_id):
                by_id[(item.kind, cell_text(record_id))] = len(held)
            held.append(item)
        elif held:
            held.append(item)
        else:
            yield item
    yield from held


def _apply_update(
    update: SourceRow, held: list[ReadItem], by_id: dict[tuple[str, str], int]
) -> Iterator[ReadItem]:
    id_field = RECORD_KINDS[update.kind].id_field
    raw_id = update.values.get(id_field)
    record_id = "" if is_blank(raw_id) else cell_text(raw_id)
    position = by_id.get((update.kind, record_id))
    if position is None:
        cell = update.cells.get(id_field)
        yield make_issue(
            "update-target-missing",
            file=update.file or None,
            sheet=update.sheet,
            row=update.row,
            cell=cell.cell if cell else None,
            column=cell.heading if cell else None,
            field=id_field,
            record_id=record_id or None,
            kind=RECORD_KINDS[update.kind].title.lower(),
        )
        yield SkippedRow(update.sheet, update.row, f"no record {record_id or '(blank)'} to update")
        return
    target = held[position]
    assert isinstance(target, SourceRow)  # by_id only points at rows
    changes = {k: v for k, v in update.values.items() if not is_blank(v) and k != id_field}
    cells = {**dict(target.cells), **{k: update.cells[k] for k in changes if k in update.cells}}
    rules = {**target.rules, **{k: update.rules[k] for k in changes if k in update.rules}}
    held[position] = attrs.evolve(
        target, values={**target.values, **changes}, cells=cells, rules=rules
    )
    where = f"{target.sheet} row {target.row}" if target.sheet else f"row {target.row}"
    yield SkippedRow(update.sheet, update.row, f"applied to {record_id} ({where})")


def _with_as_at(layout: TableLayout, as_at: datetime.date) -> TableLayout:
    return attrs.evolve(layout, as_at=as_at)


def mapping_reader(mapping: Mapping) -> ReaderSpec:
    """An ordinary reader spec that reads files by ``mapping`` (and its ``refine``)."""

    def read(source: Source, options: ReadOptions) -> Iterator[ReadItem]:
        return read_with_mapping(mapping, source, options)

    return ReaderSpec(
        name=mapping.format,
        title=mapping.title,
        read=read,
        source_types=mapping.source_types,  # type: ignore[arg-type]
        record_kinds=tuple(dict.fromkeys(s.layout.kind for s in mapping.sheets)),
        description=f"mapping file {mapping.origin}",
    )


HEADING_ROWS_LOOKED_AT = 20
"""Identification looks for a mapping's headings in this many rows from the top."""


@frozen
class Verdict:
    """Whether a mapping claims a file, and why (or why not), in words for people."""

    claimed: bool
    reason: str


def _quoted(texts: Iterable[str]) -> str:
    return ", ".join(f"'{t}'" for t in texts)


def mapping_verdict(mapping: Mapping, source: Source) -> Verdict:
    """Whether ``source`` has every identifying sheet and heading of ``mapping``, and the
    reason: what matched, or the first thing that did not."""
    if source.source_type not in mapping.source_types:
        kinds = " or ".join(mapping.source_types)
        return Verdict(False, f"it reads {kinds} files, and this is {source.source_type}")
    if not mapping.identify_sheets and not mapping.identify_headings:
        return Verdict(False, "its mapping has no [identify] section")
    names = {normalise_text(n) for n in source.sheet_names}
    missing = [s for s in mapping.identify_sheets if normalise_text(s) not in names]
    if missing:
        holder = "a CSV file has" if source.source_type == "csv" else "the workbook has"
        return Verdict(False, f"{holder} no sheet {_quoted(missing)}")
    found_sheets = f"sheet {_quoted(mapping.identify_sheets)}" if mapping.identify_sheets else ""
    if not mapping.identify_headings:
        return Verdict(True, f"it has {found_sheets}")
    sheet = mapping.sheets[0].sheet if source.source_type != "csv" else None
    try:
        grid = open_grid(source, ReadOptions())
        actual = next(
            (
                n
                for n in grid.sheet_names
                if n is None or normalise_text(n) == normalise_text(sheet or "")
            ),
            None,
        )
        seen: set[str] = set()
        for number, cells in grid.rows(actual):
            seen.update(normalise_text(str(c)) for c in cells if isinstance(c, str))
            if number >= HEADING_ROWS_LOOKED_AT:
                break
    except SourceError:
        return Verdict(False, "its sheet could not be read")
    where = f"sheet '{sheet}'" if sheet else "the file"
    absent = [h for h in mapping.identify_headings if normalise_text(h) not in seen]
    if absent:
        return Verdict(
            False,
            f"headings {_quoted(absent)} not in the first {HEADING_ROWS_LOOKED_AT} rows of {where}",
        )
    return Verdict(True, f"{where} has the headings {_quoted(mapping.identify_headings)}")


def mapping_claims(mapping: Mapping, source: Source) -> bool:
    """True when ``source`` has every identifying sheet and heading of ``mapping``."""
    return mapping_verdict(mapping, source).claimed
