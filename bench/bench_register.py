"""Import speed of the register, against a bare ``executemany`` of the same rows.

    python bench/bench_register.py [--records N] [--repeat R]

1. Builds N accepted enterprise records (default 100000) the way validation hands them
   over: attrs models made by the converter, each with its source row and cells.
2. Times :func:`mectk.register.import_result` into a new SQLite register: unstructuring,
   canonical JSON and hashing, the re-import check, the latest-version lookup and the
   chunked ``executemany`` inside one transaction.
3. Times, in the same run, a bare ``sqlite3`` ``executemany`` of exactly the rows the
   register wrote (read back from it) into the same table in a fresh file, in one
   transaction: the floor for storing those rows at all.
4. Times a second import of the same records (every record unchanged, ``force``): the
   cost of deciding that nothing changed.

Prints records per second and the ratio register / bare executemany. Target: at least
50000 records/s for the import; compare ratios, not seconds, across machines.
"""

from __future__ import annotations

import argparse
import datetime
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from mectk.converter import make_converter
from mectk.models import Enterprise
from mectk.register import import_result, open_register
from mectk.register.schema import records
from mectk.schemas import field_map
from mectk.sources import CellRef, RowCells, SourceRow
from mectk.specs import AcceptedRecord
from mectk.validation import FileSummary, ValidationResult

D = datetime.date


def _enterprise(i: int) -> dict[str, Any]:
    return {
        "enterprise_id": f"E-{i:06d}",
        "programme_id": "CS-CME",
        "trading_name": f"Enterprise {i}",
        "legal_form": "sole_trader",
        "independent": True,
        "status": "trading",
        "status_date": "2025-01-01",
        "origin": "new",
        "first_contact_date": "2024-06-01",
        "launch_date": "2024-09-01",
        "services": ["companionship_social", "shopping_errands"],
        "provides_personal_care": False,
        "cqc_status": "not_required_no_regulated_activity",
        "locality_id": "L-NORTH",
        "base_postcode": "WR5 2NP",
        "base_postcode_district": "WR5",
        "paid_workers": 1 + i % 3,
        "price_amount_gbp": f"{18 + i % 5}.50",
        "price_unit": "per_hour",
        "lead_email": f"owner{i}@example.org",
        "source_system": "canonical",
        "source_ref": f"bench.xlsx!Enterprises!{i + 1}",
    }


def make_result(n: int) -> ValidationResult:
    """N accepted enterprises with their rows and cells, as validation produces them."""
    converter = make_converter()
    names = [name for name in field_map("enterprise") if not name.startswith("source_")]
    columns = {
        name: CellRef("Enterprises", None, _letter(index), name) for index, name in enumerate(names)
    }
    result = ValidationResult()
    result.files.append(FileSummary("bench.xlsx", "0" * 64, "canonical", ("Enterprises",)))
    for i in range(1, n + 1):
        model = converter.structure(_enterprise(i), Enterprise)
        row = SourceRow(
            "enterprise",
            "Enterprises",
            i + 1,
            {},
            RowCells(columns, i + 1),
            file="bench.xlsx",
            sheet_columns=columns,
        )
        result.accepted_records.append(AcceptedRecord("enterprise", model, row))
    result.rows_read = n
    return result


def _letter(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def bare_executemany(rows: list[tuple[Any, ...]], path: Path) -> float:
    """Seconds to insert ``rows`` into a fresh copy of the records table, one transaction."""
    engine = open_register(path)  # same DDL, same indexes
    engine.dispose()
    names = [c.name for c in records.columns]
    sql = f"INSERT INTO records ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("INSERT INTO batches VALUES (1, 'x', 'x', 'x', 'x', NULL, '{}', 'x')")
    start = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(sql, rows)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs")
    args = parser.parse_args()
    n = args.records
    start = time.perf_counter()
    result = make_result(n)
    print(f"built {n} accepted records in {time.perf_counter() - start:.1f} s")
    best_import = best_again = best_bare = float("inf")
    with tempfile.TemporaryDirectory() as folder:
        for attempt in range(args.repeat):
            db = Path(folder) / f"register-{attempt}.db"
            start = time.perf_counter()
            summary = import_result(db, result)
            best_import = min(best_import, time.perf_counter() - start)
            assert summary.counts["register"]["new"] == n, summary.counts
            start = time.perf_counter()
            again = import_result(db, result, force=True)
            best_again = min(best_again, time.perf_counter() - start)
            assert again.counts["register"]["unchanged"] == n, again.counts
            engine = sa.create_engine(f"sqlite:///{db}")
            with engine.connect() as connection:
                rows = [tuple(r) for r in connection.execute(sa.select(records))]
            engine.dispose()
            assert len(rows) == n
            best_bare = min(best_bare, bare_executemany(rows, Path(folder) / f"bare-{attempt}.db"))
    print(f"register import_result:  {best_import:6.2f} s  {n / best_import:9,.0f} records/s")
    print(f"bare sqlite3 executemany: {best_bare:6.2f} s  {n / best_bare:9,.0f} records/s")
    print(f"re-import, all unchanged: {best_again:6.2f} s  {n / best_again:9,.0f} records/s")
    print(
        f"ratio register / bare executemany: {best_import / best_bare:.1f}x; "
        f"target at least 50,000 records/s: {'met' if n / best_import >= 50_000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
