"""Validate what readers produce: every row ends up accepted, rejected with reasons, or blank.

Per row: coerce each cell to its field's kind (reporting the cell), derive read-only
fields, validate against the JSON Schema (all errors, not just the first), then structure
into the attrs model. After all rows, the registered cross-record checks run; an error
they report rejects the record it names.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import jsonschema
from attrs import define, field, frozen

from mectk.accepted import NOTHING, AcceptedRecords, as_accepted_records
from mectk.coerce import (
    PADDING,
    CoercionFailed,
    cell_text,
    coerce_scalar,
    is_blank,
    read_date,
    split_multi,
)
from mectk.converter import make_validated_converter
from mectk.errors import PluginError
from mectk.fast_check import fast_validity
from mectk.issue_log import IssueLog, as_issue_log
from mectk.issues import MASK, Issue, make_issue
from mectk.jsonio import dumps
from mectk.models import MODELS
from mectk.schemas import (
    RECORD_KINDS,
    FieldInfo,
    codelist,
    field_map,
    load_schema,
    normalise_text,
    record_schema,
    validator,
)
from mectk.sources import (
    BlankRow,
    CellProblem,
    CellRef,
    ColumnMapping,
    ColumnRule,
    ReadItem,
    SkippedRow,
    SourceRow,
)
from mectk.specs import AcceptedRecord, CheckContext, CheckSpec
from mectk.textsafety import FORMULA_STARTS, looks_like_formula


@frozen
class FileSummary:
    """One input file as the report lists it."""

    path: str
    sha256: str
    format: str
    sheets: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The file as a JSON object."""
        return {
            "path": self.path,
            "sha256": self.sha256,
            "format": self.format,
            "sheets": list(self.sheets),
        }


@define
class ValidationResult:
    """Counts, issues and accepted records of one validation run.

    ``rows_read == accepted + rejected`` always holds; blank rows are counted apart.
    """

    files: list[FileSummary] = field(factory=list)
    rows_read: int = 0
    blank_rows: int = 0
    skipped_rows: int = 0
    column_maps: list[ColumnMapping] = field(factory=list)
    accepted_records: AcceptedRecords = field(
        factory=AcceptedRecords, converter=as_accepted_records
    )
    rejected: int = 0
    issues: IssueLog = field(factory=IssueLog, converter=as_issue_log)
    checks: list[CheckSummary] = field(factory=list)

    @property
    def accepted(self) -> int:
        """Number of accepted records."""
        return len(self.accepted_records)

    @property
    def valid(self) -> bool:
        """True when no issue is an error."""
        return not self.issues.has_errors

    def record_counts(self) -> dict[str, int]:
        """Accepted records by kind."""
        return self.accepted_records.counts()

    def as_json(self, *, version: str, max_issues: int | None = None) -> dict[str, Any]:
        """The ``--json`` document of design.md section 5 (``issues`` last).

        It lists the issues in memory; :meth:`write_json` writes the same text while
        reading them one at a time.
        """
        document = self._json_head(version=version, max_issues=max_issues)
        shown = self.issues if max_issues is None else self.issues[:max_issues]
        document["issues"] = [i.as_json() for i in shown]
        return document

    def write_json(self, out: TextIO, *, version: str, max_issues: int | None = None) -> None:
        """Write ``dumps(self.as_json(...))`` to ``out``, one issue at a time."""
        head = dumps({**self._json_head(version=version, max_issues=max_issues), "issues": []})
        if not head.endswith('"issues": []\n}'):  # pragma: no cover - as_json puts it last
            msg = "the issues must be the last key of the JSON document"
            raise AssertionError(msg)
        if not self.issues or max_issues == 0:
            out.write(head)
            return
        out.write(head[: -len("[]\n}")] + "[")
        separator = "\n"
        for issue in itertools.islice(self.issues, max_issues):
            item = dumps(issue.as_json()).replace("\n", "\n    ")
            out.write(f"{separator}    {item}")
            separator = ",\n"
        out.write("\n  ]\n}")

    def _json_head(self, *, version: str, max_issues: int | None) -> dict[str, Any]:
        total = len(self.issues)
        shown = total if max_issues is None else min(total, max_issues)
        return {
            "mectk_version": version,
            "valid": self.valid,
            "files": [f.as_json() for f in self.files],
            "counts": {
                "rows_read": self.rows_read,
                "blank_rows": self.blank_rows,
                "skipped_rows": self.skipped_rows,
                "accepted": self.accepted,
                "rejected": self.rejected,
                "records": self.record_counts(),
                "issues": self.issues.counts(),
            },
            "columns": [
                {
                    "file": m.file,
                    "sheet": m.sheet,
                    "column": letter,
                    "heading": heading,
                    "field": name,
                    "matched_by": how,
                }
                for m in self.column_maps
                for letter, heading, name, how in m.columns
            ],
            "checks": [c.as_json() for c in self.checks],
            "issues_truncated": shown < total,
        }


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _shown_value(info: FieldInfo | None, raw: Any) -> Any:
    if raw is None:
        return None
    if isinstance(raw, CellProblem):
        return raw.detail  # an Excel error code, never the field's content
    if info is None or info.personal_data != "none":
        return MASK
    if raw is None or isinstance(raw, str | int | float | bool):
        return raw
    return str(raw)


_MEMO_LIMIT = 4096
"""Distinct text values remembered per column: code lists, dates and Yes/No repeat, so
most cells are coerced once per file. The cap bounds memory."""
_MEMO_TRIAL = 256
"""A column whose first this many distinct texts took more than twice as many cells to
appear (names, ids, e-mail addresses) is not remembered at all."""

_NO_VALUES = NOTHING


class _Coerced(NamedTuple):
    """What coercing one non-blank cell gave; equal text cells of a column give the same.

    ``notes`` are (code, value shown) issues to report at the cell even when the value is
    used (``code-unmapped``, ``date-estimated``); ``failure`` is the (code, reason) that
    makes the cell bad. Multi-value results are tuples (the record gets a list).
    """

    value: Any
    notes: tuple[tuple[str, Any], ...]
    estimated: bool
    failure: tuple[str, str] | None


class _Column:
    """One field of one sheet's rows: its schema facts, its mapping rule and a memo."""

    __slots__ = (
        "blank",
        "blank_as",
        "blank_values",
        "date1904",
        "direct",
        "dotted",
        "identifier",
        "info",
        "memo",
        "pattern",
        "rule",
        "text",
        "texts",
    )

    def __init__(self, info: FieldInfo, rule: ColumnRule | None, date1904: bool) -> None:
        self.info = info
        self.rule = rule
        self.date1904 = date1904
        self.dotted = "." in info.name
        self.text = info.value_kind == "text"  # formula-looking values are noted
        # text with a schema pattern is an identifier (id, phone, company number): a number
        # cell there may have lost leading zeros in Excel, so it is noted
        self.identifier = self.text and info.pattern is not None
        self.blank: Any = None  # the value a blank cell stands for, if the mapping says
        if rule is not None and rule.blank != "unknown":
            self.blank = False if rule.blank == "no" else 0
        # text a blank cell is read as, and normalised texts that mean a blank (n/a)
        self.blank_as: str | None = rule.blank_as if rule is not None else None
        self.blank_values: frozenset[str] = rule.blank_values if rule is not None else frozenset()
        self.pattern: re.Pattern[str] | None = (
            re.compile(rule.pattern) if rule is not None and rule.pattern else None
        )
        self.memo: dict[str, _Coerced] | None = {}
        self.texts = 0  # text cells seen while the memo is on trial
        # a plain single-value field needs no notes: call its coercion directly and take
        # the full path only when it fails (to report exactly as the full path does)
        plain = (
            not info.multi
            and info.value_kind != "date"
            and not (rule and (rule.values or rule.pattern))
        )
        self.direct: Callable[[Any], Any] | None = (
            functools.partial(coerce_scalar, info=info) if plain else None
        )

    def coerce(self, raw: Any) -> _Coerced:
        """Coerce one non-blank, non-problem cell (text results are remembered)."""
        memo = self.memo
        if memo is None or type(raw) is not str:
            return self._coerce(raw)
        found = memo.get(raw)
        if found is None:
            found = self._coerce(raw)
            size = len(memo)
            if size < _MEMO_LIMIT:
                memo[raw] = found
            if size == _MEMO_TRIAL and self.texts < 2 * _MEMO_TRIAL:
                self.memo = None  # mostly distinct values: remembering them does not pay
        if len(memo) <= _MEMO_TRIAL:
            self.texts += 1
        return found

    def _coerce(self, raw: Any) -> _Coerced:
        if self.direct is not None:
            try:
                return _Coerced(self.direct(raw), (), False, None)
            except CoercionFailed:
                pass
        notes: list[tuple[str, Any]] = []
        estimated: list[bool] = []
        info, rule = self.info, self.rule
        try:
            if not info.multi:
                value = self._scalar(raw, notes, estimated)
            else:
                out: list[Any] = []
                for part in split_multi(raw, info, rule.separators if rule else ()):
                    item = self._scalar(part, notes, estimated)
                    if item is not None and item not in out:
                        out.append(item)
                value = tuple(out) or None
        except CoercionFailed as failed:
            return _Coerced(None, tuple(notes), bool(estimated), (failed.code, failed.reason))
        return _Coerced(value, tuple(notes), bool(estimated), None)

    def _scalar(self, raw: Any, notes: list[tuple[str, Any]], estimated: list[bool]) -> Any:
        info, rule = self.info, self.rule
        if rule is not None and rule.values:
            raw = rule.values.get(normalise_text(cell_text(raw)), raw)
        if self.pattern is not None and not self.pattern.fullmatch(cell_text(raw)):
            raise CoercionFailed("format-invalid")
        try:
            if info.value_kind != "date":
                return coerce_scalar(raw, info)
            formats = rule.date_formats if rule else ()
            value, note = read_date(raw, formats=formats, date1904=self.date1904)
        except CoercionFailed as failed:
            if failed.code == "code-unknown" and not info.required:
                notes.append(("code-unmapped", raw))
                return None
            raise
        if note is not None:
            notes.append((note, raw))
            if note == "date-estimated":
                estimated.append(True)
        return value


class _Plan:
    """How to check the rows of one kind read with one set of column rules."""

    __slots__ = ("columns", "date1904", "infos", "kind", "rules")

    def __init__(self, kind: str, rules: Mapping[str, ColumnRule], date1904: bool) -> None:
        self.kind = kind
        self.rules = rules  # held so that its id, part of the cache key, stays unique
        self.date1904 = date1904
        self.infos = field_map(kind)
        self.columns: dict[str, _Column] = {}

    def column(self, name: str, row: SourceRow) -> _Column:
        info = self.infos.get(name)
        if info is None:
            msg = (
                f"the reader of {row.file or 'a file'} gave {row.kind} records a field "
                f"'{name}', which {row.kind} records do not have"
            )
            raise PluginError(msg, hint="This is a bug in the format's plugin.")
        column = self.columns[name] = _Column(info, self.rules.get(name), self.date1904)
        return column


@functools.cache
def _read_only(kind: str) -> tuple[str, ...]:
    return tuple(n for n, i in field_map(kind).items() if i.read_only)


@define
class _Grouped:
    """The first row of a sheet that gives one grouped issue for a field, and how many
    rows did (``shown`` is the value to report there; ``context`` fills the message)."""

    first: SourceRow
    info: FieldInfo | None
    record_id: str | None
    shown: Any
    context: dict[str, Any]
    count: int = 1
    last: SourceRow | None = None

    def __attrs_post_init__(self) -> None:
        self.last = self.first


_NUMBER_TYPES = (int, float)
"""Cell value types that are numbers (``bool`` is not one of them)."""


class _RowChecker:
    """Validates one row at a time; holds the converter and a plan per kind and rules."""

    def __init__(self, source_system: str) -> None:
        self.converter = make_validated_converter()
        self.source_system = source_system
        self._plans: dict[tuple[str, int, bool], _Plan] = {}
        self._structure: dict[str, Any] = {}
        self.grouped: dict[tuple[str, str | None, str | None, str, str], _Grouped] = {}

    def _plan(self, row: SourceRow) -> _Plan:
        rules = row.rules
        key = (row.kind, id(rules) if rules else 0, row.date1904)
        plan = self._plans.get(key)
        if plan is None or (rules and plan.rules is not rules):
            if len(self._plans) >= 64:  # readers that make rules per row: stay bounded
                self._plans.clear()
            plan = self._plans[key] = _Plan(row.kind, rules, row.date1904)
        return plan

    def _note(
        self,
        code: str,
        row: SourceRow,
        name: str,
        info: FieldInfo | None,
        record_id: str | None,
        shown: Any = None,
        **context: Any,
    ) -> None:
        """Count a row that gives grouped issue ``code`` for field ``name``; the first
        row's ``shown`` value and ``context`` are the ones reported."""
        key = (code, row.file, row.sheet, row.kind, name)
        noted = self.grouped.get(key)
        if noted is None:
            self.grouped[key] = _Grouped(row, info, record_id, shown, context)
        elif noted.last is not row:
            noted.count += 1
            noted.last = row

    def grouped_issues(self) -> list[Issue]:
        """One issue per (code, file, sheet, kind, field) noted, at the first row that gave
        it, with the number of rows that did: ``field-not-in-source`` (records needing a
        field the layout has no column for), ``number-in-text-column`` and
        ``formula-like-text``."""
        return [
            self._issue(
                key[0],
                noted.first,
                key[4],
                noted.info,
                noted.shown,
                noted.record_id,
                count=noted.count,
                **noted.context,
            )
            for key, noted in self.grouped.items()
        ]

    def _note_formula(
        self, row: SourceRow, info: FieldInfo, text: str, record_id: str | None
    ) -> None:
        """Note a text value that a spreadsheet would run as a formula."""
        noted = self.grouped.get(("formula-like-text", row.file, row.sheet, row.kind, info.name))
        if noted is not None:  # the common repeat: count it, nothing else to work out
            if noted.last is not row:
                noted.count += 1
                noted.last = row
            return
        first = _first(row, info.name)
        self._note("formula-like-text", row, info.name, info, record_id, text, first=first)

    def _note_number(
        self, row: SourceRow, column: _Column, raw: Any, value: Any, record_id: str | None
    ) -> None:
        """Note a number cell in an identifier column; say what its format's rule did."""
        info = column.info
        key = ("number-in-text-column", row.file, row.sheet, row.kind, info.name)
        if key in self.grouped:  # only the first cell's details are reported
            self._note(key[0], row, info.name, info, record_id)
            return
        text = cell_text(raw)  # 1234567, not 1234567.0: the number as Excel shows it
        padding = PADDING.get(info.format_name or "")
        detail = ""
        if padding:
            detail = f"; {padding}"
            if isinstance(value, str) and value != text and info.personal_data == "none":
                detail += f" ({text} was read as {value})"
        self._note(
            key[0],
            row,
            info.name,
            info,
            record_id,
            text,
            first=_first(row, info.name),
            detail=detail,
        )

    def check(self, row: SourceRow) -> tuple[AcceptedRecord | None, list[Issue]]:
        plan = self._plan(row)
        columns = plan.columns
        record_id = self._record_id(row)
        issues: list[Issue] = []
        bad_fields: set[str] = set()
        estimated: list[str] = []
        data: dict[str, Any] = {}
        dotted = False
        for name, raw in row.values.items():
            column = columns.get(name) or plan.column(name, row)
            if raw is None or (type(raw) is str and not raw.strip()):
                blank = True
            elif isinstance(raw, CellProblem):
                bad_fields.add(name)
                issues.append(self._issue(raw.code, row, name, column.info, raw, record_id))
                continue
            else:  # a blank str subclass, or a text the mapping says means blank (N/A)
                blank = (type(raw) is not str and is_blank(raw)) or (
                    bool(column.blank_values)
                    and normalise_text(cell_text(raw)) in column.blank_values
                )
            if blank:
                raw = column.blank_as  # None unless the layout reads a blank as some text
                if raw is None or is_blank(raw):
                    if column.blank is not None:
                        data[name] = column.blank
                    continue
            value, notes, is_estimate, failure = column.coerce(raw)
            if column.text:  # what reading did to text: numbers, formula-looking values
                if type(raw) is not str and column.identifier and type(raw) in _NUMBER_TYPES:
                    self._note_number(row, column, raw, value, record_id)
                if value is not None and (
                    type(value) is not str or value.startswith(FORMULA_STARTS)
                ):
                    formula = _formula_item(value)
                    if formula is not None:
                        self._note_formula(row, column.info, formula, record_id)
            for code, shown in notes:
                issues.append(self._issue(code, row, name, column.info, shown, record_id))
            if is_estimate:
                estimated.append(name)
            if failure is not None:
                bad_fields.add(name)
                issues.append(
                    self._issue(
                        failure[0], row, name, column.info, raw, record_id, reason=failure[1]
                    )
                )
                continue
            if value is not None:
                data[name] = list(value) if column.info.multi else value
                dotted = dotted or column.dotted
        infos = plan.infos
        for name in estimated:
            if f"{name}_estimated" in infos:
                data.setdefault(f"{name}_estimated", True)
        self._derive(row, data)
        nested = _nest(data) if dotted else data
        reported: set[tuple[str, str]] = set()
        errors = () if fast_validity(row.kind)(nested) else validator(row.kind).iter_errors(nested)
        for error in errors:
            for name, issue in self._schema_issues(error, row, record_id, nested):
                # one "required" error per missing field, each listing them all: report once
                if name not in bad_fields and (issue.code, name) not in reported:
                    reported.add((issue.code, name))
                    issues.append(issue)
        if issues and any(i.severity == "error" for i in issues):
            return None, issues
        structure = self._structure.get(row.kind)
        if structure is None:
            structure = self._structure[row.kind] = self.converter.get_structure_hook(
                MODELS[row.kind]
            )
        model: Any = structure(nested, MODELS[row.kind])
        # the model holds the values now; keep only where they came from
        kept = SourceRow(
            row.kind,
            row.sheet,
            row.row,
            _NO_VALUES,
            row.cells,
            row.file,
            row.sheet_columns,
            row.rules,
            row.date1904,
            _NO_VALUES,  # extra columns feed the format's own code, not the record
            _NO_VALUES,
        )
        return AcceptedRecord(row.kind, model, kept), issues

    @staticmethod
    def _record_id(row: SourceRow) -> str | None:
        raw = row.values.get(RECORD_KINDS[row.kind].id_field)
        if is_blank(raw) or isinstance(raw, CellProblem):
            return None
        return cell_text(raw)

    def _derive(self, row: SourceRow, data: dict[str, Any]) -> None:
        infos = field_map(row.kind)
        for name in _read_only(row.kind):
            data.pop(name, None)
        if "source_system" in infos:
            data["source_system"] = self.source_system
        if "source_ref" in infos:
            source_ref = row.source_ref
            if source_ref:
                data["source_ref"] = source_ref[:300]
        if row.kind == "enterprise":
            _derive_enterprise(data)

    def _issue(
        self,
        code: str,
        row: SourceRow,
        name: str,
        info: FieldInfo | None,
        raw: Any,
        record_id: str | None,
        **extra: Any,
    ) -> Issue:
        cell = row.cells.get(name) or row.sheet_columns.get(name)
        heading = (cell.heading if cell else None) or (info.title if info else name)
        allowed = ""
        if info is not None and info.codelist:
            labels = codelist(info.codelist).labels
            allowed = ", ".join(labels.values())
        reference = cell or CellRef(row.sheet, row.row, None, None)
        return make_issue(
            code,
            file=row.file or None,
            sheet=reference.sheet or row.sheet,  # a cell from another sheet (an update row)
            cell=reference.cell,
            row=reference.row if reference.row is not None else row.row,
            column=heading,
            field=name,
            record_id=record_id,
            value=_shown_value(info, raw),
            kind=RECORD_KINDS[row.kind].title.lower(),
            allowed=allowed,
            field_hint=(info.hint if info and info.hint else "Check the value."),
            **extra,
        )

    def _schema_issues(
        self,
        error: jsonschema.ValidationError,
        row: SourceRow,
        record_id: str | None,
        data: Mapping[str, Any],
    ) -> Iterator[tuple[str, Issue]]:
        infos = field_map(row.kind)
        path = [p for p in error.absolute_path if isinstance(p, str)]
        if error.validator == "required":
            present = error.instance if isinstance(error.instance, dict) else {}
            conditional = "then" in error.schema_path
            reason = _condition_text(row.kind, list(error.schema_path)) if conditional else ""
            for missing in error.validator_value:
                if missing in present:
                    continue
                name = ".".join([*path, missing])
                info = infos.get(name)
                code = "value-conditionally-required" if conditional else "value-required"
                if conditional and not _in_layout(row, name):
                    # a warning once per sheet and field, counted (validate_items adds it)
                    self._note("field-not-in-source", row, name, info, record_id, reason=reason)
                    continue
                yield (
                    name,
                    self._issue(
                        code, row, name, info, row.values.get(name), record_id, reason=reason
                    ),
                )
            return
        name = ".".join(path)
        info = infos.get(name)
        raw = row.values.get(name, error.instance)
        personal = info is None or info.personal_data != "none"
        code, reason = _schema_code(error, row.kind, list(error.schema_path), personal)
        yield name, self._issue(code, row, name, info, raw, record_id, reason=reason)


def _formula_item(value: Any) -> str | None:
    """The text (or first list item) a spreadsheet would run as a formula, if any."""
    if type(value) is str:
        return value if looks_like_formula(value) else None
    if isinstance(value, tuple):
        return next((v for v in value if isinstance(v, str) and looks_like_formula(v)), None)
    return None


def _first(row: SourceRow, name: str) -> str:
    """Where field ``name`` of ``row`` is, as a message says it: ``F2``, else ``row 2``."""
    cell = row.cells.get(name)
    where = cell.cell if cell is not None else None
    return where or f"row {row.row}"


def _in_layout(row: SourceRow, name: str) -> bool:
    """Whether the row's sheet has a column for field ``name`` (always, for readers that
    give no sheet columns: they are not judged by layout)."""
    if not row.sheet_columns:
        return True
    return name in row.sheet_columns or name in row.cells or name in row.values


_SCHEMA_CODES = {
    "pattern": "format-invalid",
    "format": "date-invalid",
    "minimum": "out-of-range",
    "maximum": "out-of-range",
    "exclusiveMinimum": "out-of-range",
    "exclusiveMaximum": "out-of-range",
    "maxLength": "too-long",
    "minItems": "too-few-values",
    "uniqueItems": "value-duplicate-item",
}


def _schema_code(
    error: jsonschema.ValidationError, kind: str, schema_path: list[Any], personal: bool
) -> tuple[str, str]:
    """The issue code and a reason for a schema error; the reason never quotes a personal
    value (jsonschema's own messages quote the value)."""
    keyword = str(error.validator)
    code = _SCHEMA_CODES.get(keyword, "value-invalid")
    reason = {
        "minimum": f"the smallest allowed is {error.validator_value}",
        "maximum": f"the largest allowed is {error.validator_value}",
        "exclusiveMinimum": f"it must be more than {error.validator_value}",
        "exclusiveMaximum": f"it must be less than {error.validator_value}",
        "maxLength": f"at most {error.validator_value} characters are allowed",
        "multipleOf": "at most 2 decimal places are allowed",
        "minItems": _condition_text(kind, schema_path) if "then" in schema_path else "",
    }.get(keyword, f"it fails the '{keyword}' rule" if personal else error.message)
    return code, reason


def _condition_text(kind: str, schema_path: list[Any]) -> str:
    """Describe the ``if`` that made a ``then`` apply, such as "Status is Closed"."""
    node: Any = record_schema(kind)
    try:
        for part in schema_path[: schema_path.index("then")]:
            node = node[part]
    except (KeyError, IndexError, TypeError, ValueError):
        return "another field requires it"
    infos = field_map(kind)
    parts = []
    for name, cond in node.get("if", {}).get("properties", {}).items():
        info = infos.get(name)
        values = cond.get("enum") or ([cond["const"]] if "const" in cond else [])
        if info and info.codelist:
            values = [codelist(info.codelist).label(v) for v in values]
        title = info.title if info else name
        parts.append(f"{title} is {' or '.join(map(str, values))}")
    return " and ".join(parts) or "another field requires it"


def _nest(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        target = out
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return out


_POSTCODE = re.compile(load_schema("common")["$defs"]["postcode"]["pattern"])


def _derive_enterprise(data: dict[str, Any]) -> None:
    """Fill an enterprise's read-only fields from valid source fields only."""
    services = data.get("services")
    if services is not None:
        data["provides_personal_care"] = "personal_care" in services
    postcode = data.get("base_postcode")
    if isinstance(postcode, str) and _POSTCODE.fullmatch(postcode):
        data["base_postcode_district"] = postcode.split(" ", 1)[0]
    charity, company = data.get("charity_number"), data.get("company_number")
    if isinstance(charity, str):
        prefix = (
            "GB-SC"
            if charity.startswith("SC")
            else ("GB-NIC" if charity.startswith("NIC") else "GB-CHC")
        )
        number = charity[3:] if charity.startswith("NIC") else charity
        data["org_id"] = f"{prefix}-{number}"
    elif isinstance(company, str):
        data["org_id"] = f"GB-COH-{company}"


def _file_of(result: ValidationResult) -> str | None:
    return Path(result.files[-1].path).name if result.files else None


@frozen
class _Context:
    store: AcceptedRecords

    def records(self, kind: str) -> Sequence[AcceptedRecord]:
        return self.store.of_kind(kind)


def validate_items(
    items: Iterable[ReadItem],
    *,
    source_system: str,
    result: ValidationResult | None = None,
) -> ValidationResult:
    """Validate one reader's stream into ``result`` (a new one if None) and return it."""
    result = result if result is not None else ValidationResult()
    checker = _RowChecker(source_system)
    counts = [0, 0, 0, 0]  # rows read, rejected, blank, skipped: added to result at the end
    accept = result.accepted_records.append
    add_issues = result.issues.extend
    try:
        for item in items:
            if isinstance(item, SourceRow):
                counts[0] += 1
                accepted, issues = checker.check(item)
                if issues:
                    add_issues(issues)
                if accepted is None:
                    counts[1] += 1
                else:
                    accept(accepted)
            elif isinstance(item, BlankRow):
                counts[2] += 1
            elif isinstance(item, SkippedRow):
                counts[3] += 1
                result.issues.append(
                    make_issue(
                        "row-skipped",
                        file=_file_of(result),
                        sheet=item.sheet,
                        row=item.row,
                        reason=item.reason,
                    )
                )
            elif isinstance(item, ColumnMapping):
                result.column_maps.append(item)
            else:
                result.issues.append(item)
    finally:
        result.rows_read += counts[0]
        result.rejected += counts[1]
        result.blank_rows += counts[2]
        result.skipped_rows += counts[3]
    result.issues.extend(checker.grouped_issues())
    return result


@frozen
class CheckSummary:
    """How one check went: issues raised and the share of its records it flagged."""

    name: str
    title: str
    category: str
    importance: str
    issues: int
    records_flagged: int
    records_checked: int

    def as_json(self) -> dict[str, Any]:
        """The summary as a JSON object, with ``percentage`` of records flagged."""
        share = 100 * self.records_flagged / self.records_checked if self.records_checked else 0
        return {
            "name": self.name,
            "title": self.title,
            "category": self.category,
            "importance": self.importance,
            "count": self.issues,
            "records_flagged": self.records_flagged,
            "records_checked": self.records_checked,
            "percentage": round(share, 1),
        }


def _record_key(
    file: str | None, sheet: str | None, row: int | None, record_id: str | None
) -> tuple[str | None, str | None, int | None, str | None]:
    return (file or None, sheet, row, record_id)


def _guarded_run(check: CheckSpec, owner: str, context: CheckContext) -> list[Issue]:
    try:
        return list(check.run(context))
    except Exception as exc:
        msg = f"check '{check.name}' (plugin '{owner}') failed: {exc!r}"
        raise PluginError(msg, hint="Run with --debug for the traceback.") from exc


def run_checks(
    result: ValidationResult, checks: Iterable[CheckSpec | tuple[str, CheckSpec]]
) -> None:
    """Run cross-record checks; an error they report moves the named record to rejected.

    ``checks`` are specs, or (plugin name, spec) pairs so that a failing check is named
    with its plugin.
    """
    context = _Context(result.accepted_records)
    rejected: set[tuple[str | None, str | None, int | None, str | None]] = set()
    for item in checks:
        owner, check = item if isinstance(item, tuple) else ("?", item)
        flagged: set[tuple[str | None, str | None, int | None, str | None]] = set()
        count = 0
        for issue in _guarded_run(check, owner, context):
            count += 1
            result.issues.append(issue)
            key = _record_key(issue.file, issue.sheet, issue.row, issue.record_id)
            flagged.add(key)
            if issue.severity == "error":
                rejected.add(key)
        checked = sum(len(context.records(k)) for k in check.kinds)
        result.checks.append(
            CheckSummary(
                check.name,
                check.title,
                check.category,
                check.importance,
                count,
                len(flagged),
                checked,
            )
        )
    if not rejected:
        return

    def named(record: AcceptedRecord) -> bool:
        model_id = getattr(record.model, RECORD_KINDS[record.kind].id_field, None)
        return _record_key(record.row.file, record.row.sheet, record.row.row, model_id) in rejected

    result.rejected += result.accepted_records.remove_where(named)
