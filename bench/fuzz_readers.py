"""Long fuzz run over the sniffer and readers: mutated workbooks and CSV bytes.

    python bench/fuzz_readers.py [--minutes M] [--examples N] [--target workbook|csv|both]

Runs the harness of ``tests/hostile/fuzzing.py`` (the suite runs it for a few seconds)
in rounds of ``--examples`` inputs each, with a fresh random seed per round, until
``--minutes`` have passed. The property is totality: every input is read (counts add
up) or refused with a coded fault (exit 2 or 3); any other exception is a finding.
Each finding is printed with its exception and shrunk input, and saved as
``fuzz-finding-N.bin`` in ``--out``; add it to ``tests/hostile/test_fuzz.py`` as a
regression case (preferably as a small generator, not the bytes).

Exit status: 0 when nothing was found, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the harness lives with the tests

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.hostile.fuzzing import csv_inputs, read_any, workbook_inputs  # noqa: E402


def one_round(target: str, examples: int, seed: int) -> tuple[BaseException, bytes] | None:
    """Run ``examples`` inputs; return (exception, shrunk input) for a finding, else None."""
    strategy = {"workbook": workbook_inputs(), "csv": csv_inputs()}[target]
    suffix = ".xlsx" if target == "workbook" else ".csv"
    last: list[bytes] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.just(None), strategy)
    def run(_: None, data: bytes) -> None:
        last[:] = [data]
        with tempfile.TemporaryDirectory() as folder:
            read_any(data, suffix, Path(folder))

    try:
        hypothesis_seed(seed)(run)()
    except Exception as exc:  # noqa: BLE001 - any escape is the finding
        return exc, last[0] if last else b""
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--examples", type=int, default=500, help="inputs per round")
    parser.add_argument("--target", choices=["workbook", "csv", "both"], default="both")
    parser.add_argument("--out", type=Path, default=Path(), help="folder for findings")
    args = parser.parse_args()
    targets = ["workbook", "csv"] if args.target == "both" else [args.target]
    deadline = time.monotonic() + args.minutes * 60
    findings = 0
    rounds = inputs = 0
    seed = int(time.time())
    while time.monotonic() < deadline:
        for target in targets:
            seed += 1
            found = one_round(target, args.examples, seed)
            rounds += 1
            inputs += args.examples
            if found is None:
                continue
            exc, data = found
            findings += 1
            path = args.out / f"fuzz-finding-{findings}.bin"
            path.write_bytes(data)
            print(f"finding {findings} ({target}, seed {seed}): {type(exc).__name__}: {exc}")
            traceback.print_exception(exc, limit=-6, file=sys.stdout)
            print(f"  input saved to {path} ({len(data):,} bytes)")
        print(f"{rounds} rounds, about {inputs:,} inputs, {findings} findings", flush=True)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
