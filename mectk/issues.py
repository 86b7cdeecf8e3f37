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
            "Give --period (its last day is used), or an as_at date in the mapping file.",
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
        ),
        # ---- council layouts (countyshire)
        _t(
            "field-not-in-source",
            "warning",
            "Required field not in this layout",
            "'{column}' is required here ({reason}), but this file's layout has no such column.",
            "The record was kept. Record the value where the council keeps it, or add the "
            "column to the layout.",
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
