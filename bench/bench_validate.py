"""Validation throughput on the canonical workbook, as a ratio to bare python-calamine.

    python bench/bench_validate.py [ROWS]

Writes a canonical workbook with ROWS enterprise rows (default 20000) into a temporary
folder, then times, in this same run: (a) iterating every row with python-calamine and
nothing else, (b) ``validate_files`` (read, coerce, JSON Schema, cattrs, checks). Prints
seconds, rows per second and the ratio b/a. Compare ratios, not seconds, across machines.
"""

from __future__ import annotations

import datetime
import sys
import tempfile
import time
from pathlib import Path

from python_calamine import CalamineWorkbook

from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.template import write_workbook


def enterprise(n: int) -> dict[str, object]:
    return {
        "enterprise_id": f"B-{n:06d}", "programme_id": "BENCH", "trading_name": f"Bench {n}",
        "legal_form": "sole_trader", "independent": True, "status": "trading",
        "status_date": datetime.date(2025, 4, 1), "origin": "established",
        "first_contact_date": datetime.date(2025, 1, 2), "services": ["home_help_domestic"],
        "cqc_status": "unknown", "locality_id": "L1", "base_postcode": "WR5 2NP",
        "paid_workers": 1 + n % 4, "price_amount_gbp": 18.5, "lead_email": f"b{n}@example.org",
    }


def bare_calamine(path: Path) -> int:
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Enterprises")
    return sum(1 for _ in sheet.iter_rows())


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.xlsx"
        write_workbook(path, {"enterprise": [enterprise(n) for n in range(rows)]})
        registry = build_registry(make_plugin_manager(load_entrypoints=False))
        start = time.perf_counter()
        bare_calamine(path)
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        result = validate_files(registry, [path])
        measured = time.perf_counter() - start
    assert result.accepted == rows, result.issues[:3]
    print(f"rows                 {rows}")
    print(f"calamine iteration   {baseline:.2f} s  ({rows / baseline:,.0f} rows/s)")
    print(f"mectk validate       {measured:.2f} s  ({rows / measured:,.0f} rows/s)")
    print(f"ratio                {measured / baseline:.1f}x the bare reader")


if __name__ == "__main__":
    main()
