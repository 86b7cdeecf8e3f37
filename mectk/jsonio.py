"""JSON output: Decimals as JSON numbers, everything else that JSON lacks as text."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from mectk.atomic import atomic_output


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


def dumps(document: Any) -> str:
    """``document`` as indented JSON text, non-ASCII kept as is."""
    return json.dumps(document, indent=2, ensure_ascii=False, default=_default)


def write_json(path: Path, document: Any) -> None:
    """Write ``document`` to ``path`` whole or not at all."""
    with atomic_output(path) as temporary:
        temporary.write_text(dumps(document) + "\n", encoding="utf-8")
