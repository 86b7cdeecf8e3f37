"""Write the canonical workbook: a blank template, or one filled with records.

Headings are schema titles; every heading has a comment with the field's description;
code-list and yes/no columns get Excel dropdowns; personal-data columns are coloured and
say so. Text that Excel would run as a formula is always written as text. A list item
holding ``;`` or a line break (which separate the items of a multi-value cell) is refused,
never written to come back as two items.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from mectk.atomic import atomic_output
from mectk.errors import UsageError
from mectk.issues import MASK
from mectk.schemas import RECORD_KINDS, FieldInfo, codelist, codelist_names, fields
from mectk.textsafety import FORMULA_STARTS

DROPDOWN_ROWS = 5000
LISTS_SHEET = "Lists"
DATE_FORMAT = "DD/MM/YYYY"
FILLS = {"none": "DDEBF7", "personal": "FCE4D6", "special": "F4B084"}
PD_WORDS = {
    "none": "",
    "personal": "PERSONAL DATA: left out of exchange packages unless asked for.",
    "special": "SPECIAL CATEGORY DATA: keep to the minimum; never exported by default.",
}

Rows = Mapping[str, Sequence[Mapping[str, Any]]]
ITEM_SEPARATORS = (";", "\n")
"""What separates the items of a multi-value cell (``mectk.coerce.split_multi``)."""


class MultiValueItemError(UsageError):
    """A list item that holds an item separator (:data:`ITEM_SEPARATORS`), so that the
    workbook would be read back with more items than were written (exit 2)."""


def template_fields(kind: str) -> list[FieldInfo]:
    """Fields that get a column (or setting row): everything a person enters."""
    return [f for f in fields(kind) if not f.read_only]


def write_workbook(path: Path, rows: Rows | None = None) -> None:
    """Write the canonical workbook to ``path`` atomically, with ``rows`` per kind if given.

    Row values may be codes or labels, dates, numbers, booleans or lists; they are written
    as a person would type them (labels, DD/MM/YYYY dates, Yes/No, ``;``-separated lists).
    Raises :class:`MultiValueItemError`, writing nothing, when a list item holds ``;`` or
    a line break.
    """
    from openpyxl import Workbook

    rows = rows or {}
    workbook = Workbook()
    about = workbook.active
    about.title = "About"
    list_ranges = _write_lists(workbook)
    _write_about(about)
    for kind in RECORD_KINDS.values():
        sheet = workbook.create_sheet(kind.sheet)
        if kind.name == "programme":
            programme = rows.get("programme") or [{}]
            _write_settings(sheet, programme[0], list_ranges, path.name)
        else:
            _write_table(sheet, kind.name, rows.get(kind.name, ()), list_ranges, path.name)
    workbook.move_sheet(LISTS_SHEET, offset=len(workbook.sheetnames))
    with atomic_output(path) as temporary:
        workbook.save(temporary)


def _write_lists(workbook: Any) -> dict[str, str]:
    sheet = workbook.create_sheet(LISTS_SHEET)
    sheet.sheet_state = "hidden"
    ranges: dict[str, str] = {}
    from openpyxl.utils import get_column_letter

    for index, name in enumerate(codelist_names(), start=1):
        letter = get_column_letter(index)
        labels = list(codelist(name).labels.values())
        sheet.cell(row=1, column=index, value=name)
        for offset, label in enumerate(labels, start=2):
            sheet.cell(row=offset, column=index, value=label)
        ranges[name] = f"{LISTS_SHEET}!${letter}$2:${letter}${len(labels) + 1}"
    return ranges


def _write_about(sheet: Any) -> None:
    from openpyxl.styles import Font, PatternFill

    lines = [
        ("mectk canonical workbook", None),
        (
            "Fill one sheet per kind of record. Each heading has a note saying what goes in it.",
            None,
        ),
        ("Dates: DD/MM/YYYY, day first. Yes/No columns: Yes or No; blank means not known.", None),
        (
            "Columns with several values: separate them with ';' or put each on its own "
            "line (Alt+Enter); a value itself cannot hold ';'.",
            None,
        ),
        ("Check it with: mectk validate THIS-FILE.xlsx", None),
        ("", None),
        ("Heading colours", None),
        ("Ordinary field", "none"),
        ("Personal data: left out of exchange packages unless asked for", "personal"),
        ("Special category data: keep to the minimum", "special"),
        ("Bold heading: required", None),
    ]
    for row, (text, pd) in enumerate(lines, start=1):
        cell = sheet.cell(row=row, column=1, value=text)
        if row == 1:
            cell.font = Font(bold=True, size=14)
        if pd:
            cell.fill = PatternFill("solid", fgColor=FILLS[pd])
    sheet.column_dimensions["A"].width = 90


def _comment(info: FieldInfo) -> Any:
    from openpyxl.comments import Comment

    parts = [info.description]
    if info.required:
        parts.append("Required.")
    if info.multi:
        parts.append("Several values: separate with ';'.")
    if info.default is not None:
        parts.append(f"Blank means {info.default}.")
    if PD_WORDS[info.personal_data]:
        parts.append(PD_WORDS[info.personal_data])
    comment = Comment("\n".join(parts), "mectk")
    comment.width, comment.height = 300, 150
    return comment


def _dropdown(info: FieldInfo, list_ranges: Mapping[str, str]) -> Any | None:
    from openpyxl.worksheet.datavalidation import DataValidation

    if info.value_kind == "code" and info.codelist:
        formula = f"={list_ranges[info.codelist]}"
    elif info.value_kind == "boolean":
        formula = '"Yes,No"'
    else:
        return None
    validation = DataValidation(type="list", formula1=formula, allow_blank=True)
    validation.showErrorMessage = not info.multi
    validation.error = f"Choose a value from the list for {info.title}."
    validation.errorTitle = info.title
    return validation


def _style_heading(cell: Any, info: FieldInfo) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    cell.fill = PatternFill("solid", fgColor=FILLS[info.personal_data])
    cell.font = Font(bold=info.required)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    cell.comment = _comment(info)


def _write_table(
    sheet: Any,
    kind: str,
    rows: Sequence[Mapping[str, Any]],
    list_ranges: Mapping[str, str],
    file: str,
) -> None:
    from openpyxl.utils import get_column_letter

    infos = template_fields(kind)
    id_field = RECORD_KINDS[kind].id_field
    for column, info in enumerate(infos, start=1):
        _style_heading(sheet.cell(row=1, column=column, value=info.title), info)
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = max(14, min(40, len(info.title) + 4))
        validation = _dropdown(info, list_ranges)
        if validation is not None:
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{DROPDOWN_ROWS}")
        for row_number, record in enumerate(rows, start=2):
            if info.name in record:
                target = sheet.cell(row=row_number, column=column)
                _write_value(target, info, record[info.name], file, record.get(id_field))
    sheet.freeze_panes = "A2"


def _write_settings(
    sheet: Any, record: Mapping[str, Any], list_ranges: Mapping[str, str], file: str
) -> None:
    from openpyxl.styles import Font

    for column, heading in enumerate(("Setting", "Value", "Description"), start=1):
        sheet.cell(row=1, column=column, value=heading).font = Font(bold=True)
    for row_number, info in enumerate(template_fields("programme"), start=2):
        label = sheet.cell(row=row_number, column=1, value=info.title)
        _style_heading(label, info)
        sheet.cell(row=row_number, column=3, value=_comment(info).text.replace("\n", " "))
        validation = _dropdown(info, list_ranges)
        if validation is not None:
            sheet.add_data_validation(validation)
            validation.add(f"B{row_number}")
        if info.name in record:
            target = sheet.cell(row=row_number, column=2)
            _write_value(target, info, record[info.name], file, record.get("programme_id"))
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 30
    sheet.column_dimensions["C"].width = 90
    sheet.freeze_panes = "B2"


def _display(info: FieldInfo, value: Any) -> Any:
    if info.value_kind == "code" and info.codelist and isinstance(value, str):
        cl = codelist(info.codelist)
        return cl.label(value) if value in cl.labels else value
    if info.value_kind == "boolean" and isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return float(value)
    return value


def _joined(cell: Any, info: FieldInfo, items: Sequence[Any], file: str, record_id: Any) -> str:
    """The items of a multi-value field as one ``; ``-separated cell; an item holding a
    separator raises :class:`MultiValueItemError` naming the file, cell and record."""
    texts = [str(_display(info, v)) for v in items]
    for text in texts:
        if any(separator in text for separator in ITEM_SEPARATORS):
            shown = text if info.personal_data == "none" else MASK
            msg = (
                f"{file}: sheet '{cell.parent.title}' cell {cell.coordinate} ('{info.title}' "
                f"of record '{record_id}'): the item {shown!r} holds ';' or a line break, "
                "which separate the values of a multi-value cell, so it would be read back "
                "as more than one value"
            )
            raise MultiValueItemError(
                msg,
                hint="Take the ';' or line break out of the item (a ',' or 'and' reads the "
                "same), or give its parts as separate items.",
                context={"file": file, "sheet": cell.parent.title, "cell": cell.coordinate},
            )
    return "; ".join(texts)


def _write_value(cell: Any, info: FieldInfo, value: Any, file: str, record_id: Any) -> None:
    if isinstance(value, list | tuple):
        value = _joined(cell, info, value, file, record_id)
    else:
        value = _display(info, value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.value = value
        cell.data_type = "s"
        return
    cell.value = value
    if isinstance(value, datetime.date):
        cell.number_format = DATE_FORMAT
