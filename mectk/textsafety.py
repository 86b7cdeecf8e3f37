"""Text that a spreadsheet would run as a formula, and CSV output that never lets it.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
run as a formula by Excel and LibreOffice when a CSV file is opened (CSV injection). In
xlsx output such text is written with the string data type; in CSV output it is prefixed
with an apostrophe, which spreadsheets show as text and do not run.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from mectk.atomic import atomic_output

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-][\d\s,]*\d(?:\.\d+)?")


def looks_like_formula(text: str) -> bool:
    """True for text a spreadsheet would run as a formula (``=1+1``, ``@SUM(A1)``, ``-``),
    but not for a signed number (``-5``, ``+44 7700 900123``), which is only a number
    (CSV output escapes both alike)."""
    return text.startswith(FORMULA_STARTS) and _SIGNED_NUMBER.fullmatch(text) is None


def csv_safe(value: Any) -> Any:
    """``value`` as a CSV cell: formula-looking text gets a leading apostrophe; numbers,
    dates and None pass unchanged (None becomes an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV file (UTF-8 with a byte-order mark, so Excel reads it as UTF-8)
    whole or not at all, every cell through :func:`csv_safe`."""
    with (
        atomic_output(path) as temporary,
        temporary.open("w", encoding="utf-8-sig", newline="") as handle,
    ):
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([csv_safe(h) for h in header])
        for row in rows:
            writer.writerow([csv_safe(v) for v in row])
