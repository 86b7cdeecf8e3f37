"""Quarterly metrics over a large register, against a bare read of the same rows.

    python bench/bench_report.py [--enterprises 100000] [--outcomes-per 10] [--quick]

Builds a register of N enterprises, each with ``--outcomes-per`` monthly hours-per-week
snapshots (100k x 10 = 1M outcome rows by default), then times, in the same run:
(a) a bare ``SELECT data FROM records`` of every row with the sqlite3 module and
nothing else, and (b) :func:`mectk.metrics.compute_measures` for 2025-26-Q2. Prints
seconds and the ratio b/a; issue 4's target is (b) under 2 s at the default size.
"""

from __future__ import annotations

import argparse
import datetime
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_register import make_result

from mectk.converter import make_converter
from mectk.metrics import compute_measures
from mectk.models import Outcome
from mectk.periods import parse_period
from mectk.register import import_result
from mectk.specs import AcceptedRecord


def add_outcomes(result, per: int) -> None:
    """``per`` monthly hours snapshots for every enterprise, from April 2025."""
    converter = make_converter()
    enterprises = list(result.accepted_records)
    for record in enterprises:
        eid = record.model.enterprise_id
        for month in range(per):
            year, index = divmod(3 + month, 12)
            as_at = datetime.date(2025 + year, index + 1, 28)
            model = converter.structure(
                {
                    "outcome_id": f"{eid}-h-{as_at.isoformat()}",
                    "programme_id": "CS-CME",
                    "enterprise_id": eid,
                    "outcome_type": "hours_per_week",
                    "value": 5 + month,
                    "as_at_date": as_at.isoformat(),
                    "evidence_source": "enterprise_self_report",
                },
                Outcome,
            )
            result.accepted_records.append(AcceptedRecord("outcome", model, record.row))


def bare_read(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    connection = sqlite3.connect(path)
    rows = connection.execute("SELECT data FROM records").fetchall()
    connection.close()
    return time.perf_counter() - start, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--outcomes-per", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="10k enterprises")
    args = parser.parse_args()
    n = 10_000 if args.quick else args.enterprises
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        result = make_result(n)
        add_outcomes(result, args.outcomes_per)
        start = time.perf_counter()
        import_result(db, result)
        loaded = time.perf_counter() - start
        records = len(result.accepted_records)
        del result
        baseline, rows = bare_read(db)
        period = parse_period("2025-26-Q2")
        start = time.perf_counter()
        table = compute_measures(db, period)
        measured = time.perf_counter() - start
    print(
        f"register             {n:,} enterprises, {records - n:,} outcomes "
        f"(imported in {loaded:.1f} s)"
    )
    print(f"bare read of rows    {baseline:.2f} s  ({rows:,} rows)")
    print(f"quarterly measures   {measured:.2f} s  ({len(table.rows)} measures)")
    print(
        f"ratio                {measured / baseline:.1f}x the bare read; "
        f"target under 2 s: {'met' if measured < 2 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
