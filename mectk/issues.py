"""Data problems: the stable issue-code catalogue and the :class:`Issue` value object.

Every problem mectk finds in input data is an :class:`Issue` whose ``code`` is one of
:data:`CATALOGUE`. Codes are stable: tools and councils match on them. Each code has a
severity, a message template (``str.format`` fields from the issue's context) and a hint.
``docs/issue-codes.md`` documents every code (a test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from attrs import frozen

Severity = Literal["error", "warning", "info"]
MASK = "***"


@frozen
class IssueType:
    """A catalogue entry: what an issue code means and what to do about it."""

    code: str
    severity: Severity
    title: str
    message: str
    hint: str


def _t(code: str, severity: Severity, title: str, message: str, hint: str) -> IssueType:
    return IssueType(code, severity, title, message, hint)


CATALOGUE: Mapping[str, IssueType] = {
    t.code: t
    for t in (
        # ---- files and sheets
        _t(
            "no-known-sheets",
            "error",
            "No sheet this format knows",
            "None of the workbook's sheets ({sheets}) is one the {format} format reads.",
            "Check that you chose the right --format, or start from mectk template.",
        ),
        _t(
            "sheet-not-found",
            "error",
            "Sheet not found",
            "The workbook has no sheet '{sheet}', which the {format} format needs "
            "(its sheets: {sheets}).",
            "Check that this is the right file and format, or rename the sheet.",
        ),
        _t(
            "header-not-found",
            "error",
            "Header row not found",
            "No header row with the expected column headings was found on {place}{detail}.",
            "Put the column headings from the template in one row above the data.",
        ),
        _t(
            "column-missing",
            "error",
            "Required column is missing",
            "The column '{column}' is required but {place} has no such heading.",
            "Add a column headed '{column}' (copy it from mectk template).",
        ),
        _t(
            "column-unknown",
            "warning",
            "Column not recognised",
            "The column '{column}' does not match any field and was ignored.",
            "Rename it to a heading from the template, or remove it.",
        ),
        _t(
            "column-duplicate",
            "error",
            "Column heading used twice",
            "The heading '{column}' appears more than once; only the first was read.",
            "Give each column a distinct heading.",
        ),
        _t(
            "setting-unknown",
            "warning",
            "Setting not recognised",
            "The setting '{column}' on sheet '{sheet}' does not match any programme field.",
            "Use the setting names from the template's Programme sheet.",
        ),
        _t(
            "macros-ignored",
            "warning",
            "Macros ignored",
            "The workbook contains macros; mectk read its cells and ignored the macros.",
            "Nothing to do: macros are never run or kept by mectk.",
        ),
        _t(
            "rows-hidden",
            "info",
            "Hidden rows were read",
            "Rows hidden in Excel on sheet '{sheet}': {count}. They were read like the others.",
            "Unhide them in Excel to check them, or delete rows that should not be imported.",
        ),
        _t(
            "encoding-fallback",
            "warning",
            "Not UTF-8; read as Windows-1252",
            "Not valid UTF-8 (line {row}, byte {detail}); the file was read as Windows-1252.",
            "Check that accented letters and £ signs look right, or save the file as UTF-8.",
        ),
        _t(
            "as-at-missing",
            "error",
            "Snapshot columns have no date",
            "The snapshot columns ({column}) on {place} have no as-at date, so they were not read.",
            "Give --period (its last day is used), name the quarter in the file name (such as "
            "2025-26 Q2), or give an as_at date in the mapping file.",
        ),
        _t(
            "row-skipped",
            "info",
            "Row skipped by the layout",
            "Row {row} was skipped: {reason}.",
            "Nothing to do if this is a total or note row.",
        ),
        # ---- cell values
        _t(
            "value-required",
            "error",
            "Required value is missing",
            "'{column}' is required but is blank.",
            "Fill in '{column}'.",
        ),
        _t(
            "value-conditionally-required",
            "error",
            "Value required by another field",
            "'{column}' is required here: {reason}.",
            "Fill in '{column}', or correct the field that makes it required.",
        ),
        _t(
            "format-invalid",
            "error",
            "Value does not have the expected format",
            "'{value}' is not a valid {column}.",
            "{field_hint}",
        ),
        _t(
            "cell-error",
            "error",
            "Excel error value",
            "The cell holds the Excel error {value}, not a value.",
            "Fix the formula or type the value in.",
        ),
        _t(
            "formula-not-calculated",
            "error",
            "Formula without a saved result",
            "The cell holds a formula whose result was never saved, so its value is unknown.",
            "Open the file in Excel, let it calculate, and save it again; or type the value in.",
        ),
        _t(
            "date-estimated",
            "info",
            "Date given as a month only",
            "'{value}' in '{column}' is a month only; its first day was used, marked estimated.",
            "Enter the exact date as DD/MM/YYYY if it is known.",
        ),
        _t(
            "date-serial-60",
            "warning",
            "29 February 1900 does not exist",
            "Serial 60 in '{column}' is Excel's non-existent 29/02/1900; read as 28/02/1900.",
            "Enter the real date as DD/MM/YYYY.",
        ),
        _t(
            "date-invalid",
            "error",
            "Not a date",
            "'{value}' in '{column}' is not a date mectk can read.",
            "Enter the date as DD/MM/YYYY (day first), for example 01/04/2025.",
        ),
        _t(
            "number-invalid",
            "error",
            "Not a number",
            "'{value}' in '{column}' is not a number.",
            "Enter a number only, without words or units.",
        ),
        _t(
            "integer-invalid",
            "error",
            "Not a whole number",
            "'{value}' in '{column}' is not a whole number.",
            "Enter a whole number such as 3.",
        ),
        _t(
            "boolean-invalid",
            "error",
            "Not yes or no",
            "'{value}' in '{column}' is not yes or no.",
            "Enter Yes or No (Y/N, TRUE/FALSE and 1/0 are also understood).",
        ),
        _t(
            "code-unknown",
            "error",
            "Value is not in the code list",
            "'{value}' is not one of the allowed values for '{column}'.",
            "Choose one of: {allowed}.",
        ),
        _t(
            "code-unmapped",
            "warning",
            "Value not in the code list; left blank",
            "'{value}' is not an allowed value for optional field '{column}' and was left out.",
            "Choose one of: {allowed}.",
        ),
        _t(
            "out-of-range",
            "error",
            "Value out of range",
            "{value} in '{column}' is out of range: {reason}.",
            "Check the figure; it may have been typed into the wrong column.",
        ),
        _t(
            "too-long",
            "error",
            "Text too long",
            "The text in '{column}' is too long: {reason}.",
            "Shorten the text.",
        ),
        _t(
            "too-few-values",
            "error",
            "A value is needed",
            "'{column}' needs at least one value here: {reason}.",
            "Fill in at least one value.",
        ),
        _t(
            "value-duplicate-item",
            "error",
            "Value listed twice",
            "A value is listed more than once in '{column}'.",
            "List each value once.",
        ),
        _t(
            "value-invalid",
            "error",
            "Value not allowed",
            "'{value}' is not allowed in '{column}': {reason}.",
            "{field_hint}",
        ),
        # ---- records
        _t(
            "id-duplicate",
            "error",
            "Record id used twice",
            "The {kind} id '{record_id}' is used more than once; first used at {first}.",
            "Give every record its own id, or delete the repeated row.",
        ),
        # ---- cross-record rules
        _t(
            "reference-missing",
            "error",
            "Referenced record not found",
            "'{value}' in '{column}' is not the id of an accepted {target}{scope}.",
            "Add the {target}, correct the id, or fix the issues that rejected the {target}.",
        ),
        _t(
            "date-order",
            "error",
            "Dates in the wrong order",
            "{value} in '{column}' {reason}.",
            "Correct whichever date is wrong, or split a period that crosses a financial year.",
        ),
        _t(
            "date-implausible",
            "error",
            "Date outside the plausible range",
            "{value} in '{column}' is {reason}.",
            "Check the year; dates are read day first (DD/MM/YYYY).",
        ),
        _t(
            "status-inconsistent",
            "error",
            "Figure does not fit the enterprise's status",
            "{value} in '{column}' does not fit the status of enterprise '{enterprise}', "
            "which is {status}.",
            "Enterprises at enquiry or developing stage, or not proceeding, deliver no support: "
            "correct the enterprise's status or this figure.",
        ),
        _t(
            "launch-repeated",
            "error",
            "Enterprise launched more than once",
            "Enterprise '{enterprise}' already has an Enterprise launched outcome: {first}.",
            "Keep one Enterprise launched outcome per enterprise and delete the others.",
        ),
        _t(
            "not-independent",
            "error",
            "Enterprise is not independent",
            "Enterprise '{record_id}' is recorded as not independent in '{column}'.",
            "Only enterprises that are not part of a larger organisation are eligible: "
            "correct '{column}' or remove the enterprise.",
        ),
        _t(
            "over-micro-cap",
            "warning",
            "Enterprise above the programme's micro cap",
            "Enterprise '{record_id}' has {amount} {basis}, above the programme's "
            "micro-enterprise cap of {cap}.",
            "It can still be reported as a graduated enterprise; check the figure if it has "
            "not grown.",
        ),
        _t(
            "duplicate-enterprise",
            "error",
            "Enterprise recorded twice",
            "Enterprise '{record_id}' has the same {column} as enterprise '{first_id}' at {first}.",
            "Merge the two records into the first one and delete this row.",
        ),
        _t(
            "possible-duplicate",
            "warning",
            "Possible duplicate enterprise",
            "Enterprise '{record_id}' has the same trading name and base postcode as "
            "enterprise '{first_id}' at {first}.",
            "If they are the same enterprise, merge the two records; otherwise ignore this.",
        ),
        _t(
            "episode-duplicate",
            "warning",
            "Support episode entered twice",
            "Support episode '{record_id}' repeats episode '{first_id}' at {first}: same "
            "enterprise, co-ordinator, date, support type and duration.",
            "If it is a double entry, delete this row.",
        ),
        _t(
            "outcome-duplicate",
            "error",
            "Outcome recorded twice",
            "Outcome '{record_id}' repeats outcome '{first_id}' at {first}: {reason}.",
            "Keep one of the two outcomes and delete the other.",
        ),
        _t(
            "out-of-plausible-range",
            "warning",
            "Value outside the plausible range",
            "{value} in '{column}' is implausible: {reason}.",
            "Check the figure; it may be in the wrong column or the wrong unit.",
        ),
        _t(
            "funding-exceeds-total",
            "error",
            "Funding breakdown exceeds the total",
            "People supported by funding route for enterprise '{enterprise}' as at {as_at} "
            "add up to {by_funding}, more than the {value} people supported per week.",
            "Correct the breakdown or the weekly total; the breakdown cannot exceed the total.",
        ),  # ---- hostile inputs and limits (faults carry these codes too: mectk.errors.fault)
        _t(
            "file-empty",
            "error",
            "File is empty",
            "{file}: the file is empty (0 bytes).",
            "Check that the download or copy finished; save the file again from Excel.",
        ),
        _t(
            "file-corrupt",
            "error",
            "File is damaged",
            "{file}: the file is incomplete or damaged, so it is not a valid .xlsx workbook "
            "({detail}).",
            "Download it again, or open it in Excel and save a fresh copy.",
        ),
        _t(
            "not-a-workbook",
            "error",
            "Zip archive is not a workbook",
            "{file}: this is a zip archive but not an Excel workbook ({detail}).",
            "Open the file in Excel and save it as an .xlsx workbook.",
        ),
        _t(
            "wrong-file-type",
            "error",
            "File is not of the type its name says",
            "{file}: {expected} was expected, but the file holds {looks_like}.",
            "{advice}",
        ),
        _t(
            "workbook-encrypted",
            "error",
            "Workbook is encrypted",
            "{file}: the workbook is encrypted (password-protected or carrying a sensitivity "
            "label).",
            "Remove the password or label in Excel (File > Info), save, and try again. mectk "
            "never asks for passwords.",
        ),
        _t(
            "legacy-xls-unsupported",
            "error",
            "Legacy .xls workbook",
            "{file}: this is a legacy .xls workbook (Excel 97-2003), which mectk does not read.",
            "Open it in Excel and save it as an .xlsx workbook.",
        ),
        _t(
            "format-not-recognised",
            "error",
            "No format recognises the file",
            "{file}: no installed format recognises this file; it looks like {looks_like}."
            "{declined}",
            "Give --format NAME (see mectk formats), or start from mectk template.",
        ),
        _t(
            "unsafe-xml",
            "error",
            "Unsafe XML in the workbook",
            "{file}: the part {part} holds unsafe XML: {detail}.",
            "Spreadsheet XML never needs a DTD. Do not open the file; ask the sender for a fresh "
            "copy saved by Excel.",
        ),
        _t(
            "archive-too-large",
            "error",
            "Workbook inflates beyond the limits",
            "{file}: the workbook is too large to read safely: {detail}.",
            "If the file is genuine, raise the limit with --limit NAME=VALUE or MECTK_LIMITS_NAME"
            " (docs/limits.md); otherwise do not open it.",
        ),
        _t(
            "archive-too-many-parts",
            "error",
            "Workbook has too many parts",
            "{file}: the archive has {count} parts, more than the limit of {limit} (limit "
            "members).",
            "If the file is genuine, raise the limit with --limit members=N (docs/limits.md); "
            "otherwise do not open it.",
        ),
        _t(
            "archive-corrupt",
            "error",
            "Workbook part is damaged",
            "{file}: the part {part} is damaged or its recorded size is false ({detail}).",
            "Download it again, or open it in Excel and save a fresh copy.",
        ),
        _t(
            "too-many-sheets",
            "error",
            "Workbook has too many sheets",
            "{file}: the workbook has {count} sheets, more than the limit of {limit} (limit "
            "sheets).",
            "Delete the sheets that are not needed, or raise the limit with --limit sheets=N "
            "(docs/limits.md).",
        ),
        _t(
            "sheet-too-large",
            "error",
            "Sheet is larger than the limits",
            "{file}: sheet '{sheet}' spans {rows} rows by {columns} columns; {detail}.",
            "Delete stray cells far below or to the right of the data (Ctrl+End shows the last "
            "used cell), then save again; or raise the limit (docs/limits.md).",
        ),
        _t(
            "encoding-error",
            "error",
            "Text is not in a known encoding",
            "{file}: line {line} has a byte that is not valid {encoding} ({byte}, byte offset "
            "{offset}).",
            "{advice}",
        ),
        _t(
            "csv-malformed",
            "error",
            "CSV row cannot be read",
            "{file}: row {row} (line {line}) cannot be read as CSV: {detail}.",
            "Check the quotes in that row; a quoted cell must end with a closing quote.",
        ),
        _t(
            "defusedxml-missing",
            "error",
            "XML guard missing",
            "defusedxml is not installed (or openpyxl is told not to use it), so workbooks cannot"
            " be read safely.",
            "Reinstall mectk with its dependencies (defusedxml is required), and unset "
            "OPENPYXL_DEFUSEDXML.",
        ),
        _t(
            "output-not-written",
            "error",
            "Output could not be written",
            "{file}: could not be written ({detail}); nothing was written and any earlier file is"
            " unchanged.",
            "Free some disk space, close the file if it is open in Excel, or choose a folder "
            "you can write to; then run again.",
        ),
        _t(
            "cell-too-long",
            "error",
            "Cell longer than the limit",
            "The cell in '{column}' is too long: {value}.",
            "Shorten the text; a cell longer than Excel allows did not come from Excel.",
        ),
        _t(
            "cells-without-heading",
            "warning",
            "Values in columns without a heading",
            "{count} row(s) hold values to the right of the last heading (first at {cell}); "
            "those cells were not read.",
            "Give the column a heading from the template, or delete the stray values.",
        ),
        _t(
            "sheet-empty",
            "warning",
            "Sheet is empty",
            "The sheet '{sheet}' has no cells, so no records were read from it.",
            "Check that this is the right file, or fill in the sheet.",
        ),
        _t(
            "sheet-hidden",
            "warning",
            "Hidden sheet",
            "The sheet '{sheet}' is {state} in Excel; {read}.",
            "Unhide the sheet in Excel if it should be read, or delete it if it holds old or "
            "private data.",
        ),
        # ---- unitary (update sheets of mapping files)
        _t(
            "update-target-missing",
            "error",
            "Nothing to update",
            "Row {row} on {place} updates {kind} '{record_id}', but no earlier sheet of the "
            "file has that {kind}.",
            "Check the id in '{column}' against the sheet that lists them, or add the record "
            "there.",
        ),
        _t(
            "field-not-in-source",
            "warning",
            "Required field not in this layout",
            "'{column}' would be required for {count} {kind} record(s) in {place} ({reason}), "
            "but this layout has no such column, so none is rejected for it.",
            "Nothing to fix in the file. Add the value in the register later, or add the column "
            "to the layout (or ask for it in the export) if the council starts to record it.",
        ),
        # ---- exchange packages
        _t(
            "package-unreadable",
            "error",
            "Package cannot be read",
            "{file}: the package cannot be read: {detail}.",
            "Ask the sender for the package again; it may have been damaged on the way.",
        ),
        _t(
            "package-unsafe-path",
            "error",
            "Unsafe path in the package",
            "The package member '{file}' has an unsafe path: {reason}.",
            "Do not unpack this package by hand; ask the sender to write it again with mectk "
            "export.",
        ),
        _t(
            "package-member-link",
            "error",
            "Link in the package",
            "The package member '{file}' is a symbolic link.",
            "Exchange packages hold plain files only; ask the sender to write it again with "
            "mectk export.",
        ),
        _t(
            "package-too-large",
            "error",
            "Package too large to open safely",
            "The package is too large to open safely: {detail}.",
            "Ask the sender to split the export by --period, or check that this is the file you "
            "expected.",
        ),
        _t(
            "package-member-missing",
            "error",
            "File missing from the package",
            "The package has no '{file}', which it needs.",
            "Ask the sender for the whole package again.",
        ),
        _t(
            "package-member-unknown",
            "error",
            "Unlisted file in the package",
            "The package holds '{file}', which its manifest does not list.",
            "Only files listed (with their sha256) in datapackage.json may travel; ask the "
            "sender why it is there.",
        ),
        _t(
            "checksum-mismatch",
            "error",
            "File changed since it was packaged",
            "'{file}' does not match its sha256 in the manifest (expected {expected}..., found "
            "{actual}...).",
            "The package was changed or damaged after it was written; ask the sender for it again.",
        ),
        _t(
            "manifest-invalid",
            "error",
            "Manifest is not valid",
            "datapackage.json is not valid at {where}: {reason}.",
            "Ask the sender to write the package again with mectk export.",
        ),
        _t(
            "package-key-unknown",
            "error",
            "Unknown key in the package",
            "'{key}' at {where} in {file} is not allowed by the package schema.",
            "Exchange packages refuse keys their schemas do not define; check the field name or "
            "the sender's mectk version.",
        ),
        _t(
            "record-invalid",
            "error",
            "Record does not follow its schema",
            "In {file}, row {row}: {reason}.",
            "Ask the sender to correct the record and export again; the package is not received.",
        ),
        _t(
            "package-value-not-recorded",
            "warning",
            "Conditionally required value not recorded",
            "In {file}: '{field}' would be required for {count} record(s), first at row {row}, "
            "but the producer did not record it.",
            "Nothing to fix in the package: the producer's source has no such column. Ask them "
            "to record it if you need it.",
        ),
        _t(
            "record-count-mismatch",
            "error",
            "Record count differs from the manifest",
            "{file} holds {found} records; the manifest declares {declared}.",
            "The package was changed after it was written; ask the sender for it again.",
        ),
        _t(
            "signature-invalid",
            "error",
            "Signature does not match",
            "The package's signature is not valid: {reason}.",
            "The package was changed after it was signed, or the signature file is damaged; do "
            "not trust it.",
        ),
        _t(
            "signature-untrusted",
            "error",
            "Signed by a key you do not trust",
            "The package is signed by key {key}, which is not one of the keys given with --trust.",
            "Check with the sender which key they sign with, and give its .pub file to --trust.",
        ),
        _t(
            "package-unsigned",
            "error",
            "Package not signed",
            "The package has no signature, but --trust asks for one.",
            "Ask the sender to export with --sign KEY, or verify without --trust.",
        ),
        _t(
            "package-schema-version",
            "error",
            "Package from another schema version",
            "The package follows interchange schema version {theirs}; this mectk reads "
            "version {ours}.",
            "Upgrade mectk (or ask the sender to) so that both use the same major version.",
        ),
        _t(
            "receive-conflict",
            "error",
            "Record differs from the register's",
            "{kind} '{record_id}' from {producer} differs from the register's version (from "
            "{ours}) in: {fields}.",
            "Nothing was received. Give --prefer theirs to take their versions, or --prefer ours "
            "to keep yours.",
        ),
        _t(
            "receive-conflict-resolved",
            "info",
            "Conflict decided by --prefer",
            "{kind} '{record_id}' from {producer} differed from the register's version (from "
            "{ours}) in: {fields}; {resolution} kept.",
            "Nothing to do: --prefer decided it; mectk show lists every version.",
        ),
        # ---- metro: area codes
        _t(
            "area-code-invalid",
            "warning",
            "Not an area code of the expected kind",
            "'{value}' in '{column}' is not {expected}.",
            "Check the code against the ONS register (9 characters, such as E08000025).",
        ),
        _t(
            "ward-not-in-la",
            "warning",
            "Ward outside the local authority",
            "Ward '{value}' in '{column}' {reason}.",
            "Check the ward and local authority codes; the ONS ward to local authority "
            "lookup gives the authority of each ward.",
        ),
        # ---- as-at date from the file name
        _t(
            "as-at-from-file-name",
            "info",
            "Figures dated by the quarter in the file name",
            "Snapshot figures in '{file}' without a date of their own are taken as at "
            "{date}, the last day of {quarter}, the quarter its name gives.",
            "Nothing to do if that is the file's quarter; otherwise give --period (its last "
            "day is used instead).",
        ),
        # ---- text coercion: identifiers stored as numbers, formula-looking text
        _t(
            "number-in-text-column",
            "warning",
            "Number in an identifier column",
            "{count} cell(s) of '{column}' in {place} held a number, not text (first at "
            "{first}: {value}), so a leading zero Excel dropped cannot be seen; they were "
            "read as text{detail}.",
            "Format the column as Text in Excel and re-type the values with their leading "
            "zeros, or check them against where they came from.",
        ),
        _t(
            "formula-like-text",
            "info",
            "Text that looks like a formula",
            "{count} value(s) of '{column}' in {place} begin like a spreadsheet formula (=, +, "
            "-, @, a tab or a line return; first at {first}: {value}); they were kept as text, "
            "exactly as written.",
            "Nothing to do if the text is meant. CSV files mectk writes put an apostrophe "
            "before such text so that spreadsheets show it rather than run it; xlsx files "
            "store it as text.",
        ),
    )
}
"""Every issue code mectk itself emits. Plugins may add their own codes through checks."""


@frozen
class Issue:
    """One problem found in the data, located as precisely as the source allows.

    ``value`` is already masked (``"***"``) when the field holds personal data.
    ``row`` is 1-based as the spreadsheet shows it; ``cell`` is like ``H14``.
    """

    code: str
    severity: Severity
    message: str
    hint: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None
    record_id: str | None = None
    value: Any = None

    def as_json(self) -> dict[str, Any]:
        """The issue as a JSON object for the ``--json`` report (all keys always present)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "record_id": self.record_id,
            "value": self.value,
        }


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def fill_template(template: str, context: Mapping[str, Any]) -> str:
    """``template`` filled from ``context`` (None as empty, unknown fields as ``?``)."""
    sheet = context.get("sheet")
    place = f"sheet '{sheet}'" if sheet else "the file"
    fill = _Blank({"place": place, **{k: ("" if v is None else v) for k, v in context.items()}})
    return template.format_map(fill)


def make_issue(code: str, *, severity: Severity | None = None, **context: Any) -> Issue:
    """Build an :class:`Issue` from catalogue ``code``, filling its templates from ``context``.

    Location keys (``file``, ``sheet``, ``cell``, ``row``, ``column``, ``field``,
    ``record_id``, ``value``) are copied onto the issue; any other key only feeds the
    message and hint templates. Pass ``value`` already masked for personal fields.
    """
    kind = CATALOGUE[code]
    sheet = context.get("sheet")
    place = f"sheet '{sheet}'" if sheet else "the file"
    fill = _Blank({"place": place, **{k: ("" if v is None else v) for k, v in context.items()}})
    location = {
        k: context.get(k)
        for k in ("file", "sheet", "cell", "row", "column", "field", "record_id", "value")
    }
    return Issue(
        code=code,
        severity=severity or kind.severity,
        message=kind.message.format_map(fill),
        hint=kind.hint.format_map(fill),
        **location,
    )
