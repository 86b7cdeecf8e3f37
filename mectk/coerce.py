"""Turn raw spreadsheet cells into the JSON-ready values the schemas validate.

One function per value kind. Each returns the value or raises :class:`CoercionFailed`
with the catalogue code to report. Blank cells are handled by the caller and never
reach these functions. Normalisers for UK reference numbers live here too.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from mectk.schemas import FieldInfo, codelist, normalise_text

EXCEL_EPOCH = datetime.date(1899, 12, 30)
EPOCH_1904 = datetime.date(1904, 1, 1)
NUMBER_DIGITS = 12
NUMBER_LIMIT = 10**NUMBER_DIGITS
"""No figure mectk stores comes near this; larger numbers are typing slips (or attacks)."""
SERIAL_RANGE = (2, 2958465)  # 1900-01-01 .. 9999-12-31
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_FULL_MONTHS = {
    name: i
    for i, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
            "sept",
        ),
        1,
    )
}
TRUE_WORDS = frozenset({"y", "yes", "true", "1", "✓", "✔", "x", "t"})
FALSE_WORDS = frozenset({"n", "no", "false", "0", "✗", "✘", "-", "f"})


class CoercionFailed(ValueError):  # noqa: N818 - a signal, not an error type for users
    """A cell could not be read as its field's kind; ``code`` is the issue to report."""

    def __init__(self, code: str, reason: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.reason = reason


def is_blank(value: Any) -> bool:
    """True for None and for text that is empty once spaces are trimmed."""
    return value is None or (isinstance(value, str) and not value.strip())


_SPACES = re.compile(r"\s+")


def cell_text(value: Any) -> str:
    """A cell as text: spacing collapsed, whole floats without ``.0``, dates as ISO."""
    if isinstance(value, str):
        text = value.strip()
        return text if text.isprintable() and "  " not in text else _SPACES.sub(" ", text)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return _SPACES.sub(" ", str(value)).strip()


def to_date(value: Any) -> str:
    """A date as ISO text, from a date cell, an Excel serial, or day-first text."""
    return read_date(value)[0]


def read_date(
    value: Any, *, formats: tuple[str, ...] = (), date1904: bool = False
) -> tuple[str, str | None]:
    """A date as ISO text, and the code of a note to report about it (or None).

    Accepts date cells (a time part is dropped), Excel serials in the 1900 or 1904
    system (serial 60, Excel's non-existent 29/02/1900, gives ``date-serial-60``), the
    ``strptime`` ``formats`` given, then day-first UK text and ISO. A month alone
    (``April 2025``) gives its first day and ``date-estimated``. Never month-first.
    """
    if isinstance(value, datetime.datetime):
        return value.date().isoformat(), None
    if isinstance(value, datetime.date):
        return value.isoformat(), None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
            raise CoercionFailed("date-invalid")
        epoch = EPOCH_1904 if date1904 else EXCEL_EPOCH
        note = "date-serial-60" if int(value) == 60 and not date1904 else None
        return (epoch + datetime.timedelta(days=int(value))).isoformat(), note
    text = cell_text(value)
    for form in formats:
        try:
            parsed = datetime.datetime.strptime(text, form).date()  # noqa: DTZ007 - a date
        except ValueError:
            continue
        month_only = not any(d in form for d in ("%d", "%j", "%U", "%W"))
        return parsed.isoformat(), "date-estimated" if month_only else None
    day = _parse_date_text(text)
    if day is not None:
        return day.isoformat(), None
    month = _parse_month_text(text)
    if month is not None:
        return month.isoformat(), "date-estimated"
    raise CoercionFailed("date-invalid")


def _parse_month_text(text: str) -> datetime.date | None:
    m = re.fullmatch(r"([A-Za-z]{3,9})[\s\-/]+(\d{4}|\d{2})", text.strip())
    if not m or m[1][:3].lower() not in _MONTHS:
        return None
    if len(m[1]) > 3 and not _FULL_MONTHS.get(m[1].lower()):
        return None
    year = int(m[2]) + (2000 if len(m[2]) == 2 else 0)
    try:
        return datetime.date(year, _MONTHS[m[1][:3].lower()], 1)
    except ValueError:
        return None


def _parse_date_text(text: str) -> datetime.date | None:
    text = text.strip()
    m = re.fullmatch(
        r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
        r"(?:Z|[+-]\d{2}:?\d{2})?)?",
        text,
    )
    if m:
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    else:
        m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})", text)
        if m:  # always day first: never parse slash dates month-first
            day, month, year = int(m[1]), int(m[2]), int(m[3])
            year += 2000 if len(m[3]) == 2 else 0
        else:
            m = re.fullmatch(r"(\d{1,2})[\s\-]([A-Za-z]{3})[A-Za-z]*[\s\-](\d{4})", text)
            if not m or m[2].lower() not in _MONTHS:
                return None
            day, month, year = int(m[1]), _MONTHS[m[2].lower()], int(m[3])
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def to_datetime(value: Any) -> str:
    """A date and time as ISO text."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    try:
        return datetime.datetime.fromisoformat(cell_text(value)).isoformat()
    except ValueError as exc:
        raise CoercionFailed("date-invalid") from exc


def to_integer(value: Any) -> int:
    """A whole number from a number cell or digits in text."""
    if isinstance(value, bool):
        raise CoercionFailed("integer-invalid")
    if isinstance(value, int | float) and abs(value) >= NUMBER_LIMIT:
        raise CoercionFailed("out-of-range", f"numbers must be below {NUMBER_LIMIT:,}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CoercionFailed("integer-invalid")
    text = cell_text(value).replace(",", "")
    if re.fullmatch(r"[+-]?\d{1,15}(\.0+)?", text):
        return int(Decimal(text))
    if re.fullmatch(r"[+-]?\d+(\.0+)?", text):
        raise CoercionFailed("out-of-range", f"numbers must be below {NUMBER_LIMIT:,}")
    raise CoercionFailed("integer-invalid" if _is_number(text) else "number-invalid")


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def to_decimal(value: Any) -> Decimal | int:
    """A number as Decimal (ints stay int), from a number cell or text such as ``£1,250.50``."""
    if isinstance(value, bool):
        raise CoercionFailed("number-invalid")
    if isinstance(value, int):
        if abs(value) >= NUMBER_LIMIT:
            raise CoercionFailed("out-of-range", f"numbers must be below {NUMBER_LIMIT:,}")
        return value
    if isinstance(value, float):
        result = Decimal(repr(value))
    else:
        text = cell_text(value).replace(",", "").replace("£", "").strip()
        try:
            result = Decimal(text)
        except InvalidOperation as exc:
            raise CoercionFailed("number-invalid") from exc
    if not result.is_finite():
        raise CoercionFailed("number-invalid")
    if result.adjusted() >= NUMBER_DIGITS:
        raise CoercionFailed("out-of-range", f"numbers must be below {NUMBER_LIMIT:,}")
    return (
        int(result) if result == result.to_integral_value() and "." not in str(result) else result
    )


def to_boolean(value: Any) -> bool:
    """True or False from Excel booleans, Y/N, Yes/No, TRUE/FALSE, 1/0, ticks and crosses."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = normalise_text(cell_text(value))
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CoercionFailed("boolean-invalid")


def to_code(value: Any, list_name: str) -> str:
    """The code for a code, label or alias (any case and spacing) in ``list_name``."""
    found = codelist(list_name).lookup(cell_text(value))
    if found is None:
        raise CoercionFailed("code-unknown")
    return found


def _postcode(text: str) -> str:
    compact = _SPACES.sub("", text).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def _company_number(text: str) -> str:
    compact = _SPACES.sub("", text).upper()
    return compact.zfill(8) if compact.isdigit() and len(compact) < 8 else compact


def _charity_number(text: str) -> str:
    compact = _SPACES.sub("", text).upper()
    if compact.startswith("NIC"):
        return compact
    if compact.startswith("NI") and compact[2:].isdigit():
        return "NIC" + compact[2:]
    return compact


def _phone(text: str) -> str:
    return re.sub(r"[\s()\-]", "", text)


def _upper_compact(text: str) -> str:
    return _SPACES.sub("", text).upper()


NORMALISERS: Mapping[str, Callable[[str], str]] = {
    "postcode": _postcode,
    "postcode_district": _upper_compact,
    "company_number": _company_number,
    "charity_number": _charity_number,
    "phone": _phone,
    "cqc_id": lambda t: _SPACES.sub("", t),
    "gss_council": _upper_compact,
    "gss_locality": _upper_compact,
    "gss_region": _upper_compact,
}
"""Normalisers applied to text fields by the schema definition they use (domain 2.8)."""


PADDING: Mapping[str, str] = {
    "company_number": "numbers of fewer than 8 digits were padded with zeros to 8, "
    "as Companies House numbers are",
}
"""What a normaliser in :data:`NORMALISERS` does to a number that lost its leading zeros."""


def to_text(value: Any, format_name: str | None) -> str:
    """Text with spacing collapsed and, for UK reference formats, normalised."""
    text = cell_text(value)
    normaliser = NORMALISERS.get(format_name or "")
    return normaliser(text) if normaliser else text


def coerce_scalar(value: Any, info: FieldInfo) -> Any:
    """One non-blank cell value as the JSON-ready value of ``info``'s kind."""
    kind = info.value_kind
    if kind == "date":
        return to_date(value)
    if kind == "datetime":
        return to_datetime(value)
    if kind == "integer":
        return to_integer(value)
    if kind == "decimal":
        return to_decimal(value)
    if kind == "boolean":
        return to_boolean(value)
    if kind == "code":
        return to_code(value, info.codelist or "")
    return to_text(value, info.format_name)


def split_multi(value: Any, info: FieldInfo, separators: tuple[str, ...] = ()) -> list[str]:
    """Split a multi-value cell on ``;``, new lines and any ``separators`` given; for codes
    also on ``,`` and ``/`` when a part is not itself a known label
    (``Cleaning, shopping / companionship``).
    """
    pattern = "|".join(re.escape(s) for s in (";", "\n", *separators))
    text = value if isinstance(value, str) else cell_text(value)  # keep its line breaks
    parts = [cell_text(p) for p in re.split(pattern, text) if p.strip()]
    if info.value_kind != "code" or info.codelist is None:
        return parts
    cl = codelist(info.codelist)
    out: list[str] = []
    for part in parts:
        if cl.lookup(part) is not None:
            out.append(part)
        else:
            out.extend(p.strip() for p in re.split(r"[,/]", part) if p.strip())
    return out
