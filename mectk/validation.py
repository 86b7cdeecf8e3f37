"""Validate what readers produce: every row ends up accepted, rejected with reasons, or blank.

Per row: coerce each cell to its field's kind (reporting the cell), derive read-only
fields, validate against the JSON Schema (all errors, not just the first), then structure
into the attrs model. After all rows, the registered cross-record checks run; an error
they report rejects the record it names.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import jsonschema
from attrs import define, field, frozen

from mectk.coerce import (
    CoercionFailed,
    cell_text,
    coerce_scalar,
    is_blank,
    read_date,
    split_multi,
)
from mectk.converter import make_converter
from mectk.errors import PluginError
from mectk.fast_check import fast_validity
from mectk.issues import MASK, Issue, make_issue
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
    accepted_records: list[AcceptedRecord] = field(factory=list)
    rejected: int = 0
    issues: list[Issue] = field(factory=list)
    checks: list[CheckSummary] = field(factory=list)

    @property
    def accepted(self) -> int:
        """Number of accepted records."""
        return len(self.accepted_records)

    @property
    def valid(self) -> bool:
        """True when no issue is an error."""
        return not any(i.severity == "error" for i in self.issues)

    def record_counts(self) -> dict[str, int]:
        """Accepted records by kind."""
        return dict(Counter(r.kind for r in self.accepted_records))

    def as_json(self, *, version: str, max_issues: int | None = None) -> dict[str, Any]:
        """The ``--json`` document of design.md section 5."""
        shown = self.issues if max_issues is None else self.issues[:max_issues]
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
                "issues": dict(Counter(i.code for i in self.issues)),
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
            "issues_truncated": len(shown) < len(self.issues),
            "issues": [i.as_json() for i in shown],
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


@define
class _RowState:
    """What checking one row gathers: its issues and the fields given as estimates."""

    row: SourceRow
    record_id: str | None
    issues: list[Issue] = field(factory=list)
    estimated: set[str] = field(factory=set)


@define
class _Absent:
    """The first record of a sheet that needs a field its layout has no column for."""

    first: SourceRow
    info: FieldInfo | None
    record_id: str | None
    reason: str
    count: int = 1
    last: SourceRow | None = None

    def __attrs_post_init__(self) -> None:
        self.last = self.first


class _RowChecker:
    """Validates one row at a time; holds the converter and per-kind field maps."""

    def __init__(self, source_system: str) -> None:
        self.converter = make_converter()
        self.source_system = source_system
        self.absent: dict[tuple[str, str | None, str, str], _Absent] = {}

    def _note_absent(
        self, row: SourceRow, name: str, info: FieldInfo | None, record_id: str | None, reason: str
    ) -> None:
        """Count a record that needs field ``name``, which its sheet has no column for."""
        key = (row.file, row.sheet, row.kind, name)
        noted = self.absent.get(key)
        if noted is None:
            self.absent[key] = _Absent(row, info, record_id, reason)
        elif noted.last is not row:
            noted.count += 1
            noted.last = row

    def absent_issues(self) -> list[Issue]:
        """One ``field-not-in-source`` warning per (file, sheet, kind, field) noted: at the
        first record that needed it, with the number of records that did."""
        return [
            self._issue(
                "field-not-in-source",
                noted.first,
                key[3],
                noted.info,
                None,
                noted.record_id,
                reason=noted.reason,
                count=noted.count,
            )
            for key, noted in self.absent.items()
        ]

    def check(self, row: SourceRow) -> tuple[AcceptedRecord | None, list[Issue]]:
        infos = field_map(row.kind)
        record_id = self._record_id(row)
        state = _RowState(row, record_id)
        issues = state.issues
        bad_fields: set[str] = set()
        data: dict[str, Any] = {}
        for name, raw in row.values.items():
            info = infos.get(name)
            if info is None:
                msg = (
                    f"the reader of {row.file or 'a file'} gave {row.kind} records a field "
                    f"'{name}', which {row.kind} records do not have"
                )
                raise PluginError(msg, hint="This is a bug in the format's plugin.")
            rule = row.rules.get(name)
            if isinstance(raw, CellProblem):
                bad_fields.add(name)
                issues.append(self._issue(raw.code, row, name, info, raw, record_id))
                continue
            if (
                rule is not None
                and rule.blank_values
                and not is_blank(raw)
                and normalise_text(cell_text(raw)) in rule.blank_values
            ):
                raw = None  # the mapping says this text means an empty cell (N/A)
            if is_blank(raw) and rule is not None and rule.blank_as is not None:
                raw = rule.blank_as  # the layout's own rule: read a blank as this text
            if is_blank(raw):
                if rule is not None and rule.blank != "unknown":
                    data[name] = False if rule.blank == "no" else 0
                continue
            try:
                value = self._coerce(state, raw, info, rule)
            except CoercionFailed as failed:
                bad_fields.add(name)
                issues.append(
                    self._issue(failed.code, row, name, info, raw, record_id, reason=failed.reason)
                )
                continue
            if value is not None:
                data[name] = value
        for name in state.estimated:
            if f"{name}_estimated" in infos:
                data.setdefault(f"{name}_estimated", True)
        self._derive(row, data)
        nested = _nest(data)
        reported: set[tuple[str, str]] = set()
        errors = () if fast_validity(row.kind)(nested) else validator(row.kind).iter_errors(nested)
        for error in errors:
            for name, issue in self._schema_issues(error, row, record_id, nested):
                # one "required" error per missing field, each listing them all: report once
                if name not in bad_fields and (issue.code, name) not in reported:
                    reported.add((issue.code, name))
                    issues.append(issue)
        if any(i.severity == "error" for i in issues):
            return None, issues
        model: Any = self.converter.structure(nested, MODELS[row.kind])
        # the model holds the values now; keep only where they came from
        return AcceptedRecord(
            row.kind, model, attrs.evolve(row, values={}, extras={}, extra_cells={})
        ), issues

    @staticmethod
    def _record_id(row: SourceRow) -> str | None:
        raw = row.values.get(RECORD_KINDS[row.kind].id_field)
        if is_blank(raw) or isinstance(raw, CellProblem):
            return None
        return cell_text(raw)

    def _coerce(self, state: _RowState, raw: Any, info: FieldInfo, rule: ColumnRule | None) -> Any:
        if not info.multi:
            return self._scalar(state, raw, info, rule)
        out: list[Any] = []
        for part in split_multi(raw, info, rule.separators if rule else ()):
            value = self._scalar(state, part, info, rule)
            if value is not None and value not in out:
                out.append(value)
        return out or None

    def _scalar(self, state: _RowState, raw: Any, info: FieldInfo, rule: ColumnRule | None) -> Any:
        row, record_id = state.row, state.record_id
        if rule is not None and rule.values:
            raw = rule.values.get(normalise_text(cell_text(raw)), raw)
        if rule is not None and rule.pattern and not re.fullmatch(rule.pattern, cell_text(raw)):
            raise CoercionFailed("format-invalid")
        try:
            if info.value_kind != "date":
                return coerce_scalar(raw, info)
            formats = rule.date_formats if rule else ()
            value, note = read_date(raw, formats=formats, date1904=row.date1904)
        except CoercionFailed as failed:
            if failed.code == "code-unknown" and not info.required:
                state.issues.append(
                    self._issue("code-unmapped", row, info.name, info, raw, record_id)
                )
                return None
            raise
        if note is not None:
            state.issues.append(self._issue(note, row, info.name, info, raw, record_id))
            if note == "date-estimated":
                state.estimated.add(info.name)
        return value

    def _derive(self, row: SourceRow, data: dict[str, Any]) -> None:
        infos = field_map(row.kind)
        for name in [n for n, i in infos.items() if i.read_only]:
            data.pop(name, None)
        if "source_system" in infos:
            data["source_system"] = self.source_system
        if "source_ref" in infos and row.source_ref:
            data["source_ref"] = row.source_ref[:300]
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
                    self._note_absent(row, name, info, record_id, reason)
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
    by_kind: Mapping[str, Sequence[AcceptedRecord]]

    def records(self, kind: str) -> Sequence[AcceptedRecord]:
        return self.by_kind.get(kind, ())


def validate_items(
    items: Iterable[ReadItem],
    *,
    source_system: str,
    result: ValidationResult | None = None,
) -> ValidationResult:
    """Validate one reader's stream into ``result`` (a new one if None) and return it."""
    result = result if result is not None else ValidationResult()
    checker = _RowChecker(source_system)
    for item in items:
        if isinstance(item, BlankRow):
            result.blank_rows += 1
        elif isinstance(item, SkippedRow):
            result.skipped_rows += 1
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
        elif isinstance(item, Issue):
            result.issues.append(item)
        else:
            result.rows_read += 1
            accepted, issues = checker.check(item)
            result.issues.extend(issues)
            if accepted is None:
                result.rejected += 1
            else:
                result.accepted_records.append(accepted)
    result.issues.extend(checker.absent_issues())
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
    by_kind: dict[str, list[AcceptedRecord]] = {}
    for record in result.accepted_records:
        by_kind.setdefault(record.kind, []).append(record)
    context = _Context(by_kind)
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
    kept = []
    for record in result.accepted_records:
        model_id = getattr(record.model, RECORD_KINDS[record.kind].id_field, None)
        key = _record_key(record.row.file, record.row.sheet, record.row.row, model_id)
        if key in rejected:
            result.rejected += 1
        else:
            kept.append(record)
    result.accepted_records = kept
