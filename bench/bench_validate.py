"""Validation time and memory of ``mectk validate``, against bare python-calamine and frictionless.

    python bench/bench_validate.py [--rows N] [--rss-rows M] [--quick] [--repeat R]

1. Writes an Enterprises sheet of ``--rows`` rows (default 100000) x 17 canonical columns,
   strings in the shared-strings table and dates as date cells, as Excel saves them. Every
   ``--bad-every``-th row (default 100) has one planted mistake, so the run also exercises
   the error path and its counts can be checked.
2. Times, each in a fresh process: iterating the sheet with python-calamine and nothing
   else; ``mectk validate FILE --json``; and ``frictionless validate FILE`` when the
   ``frictionless`` package is importable (or ``--frictionless-cmd`` names one).
3. Times the schema check alone on 10k of the same records: jsonschema's ``iter_errors``
   against :func:`mectk.fast_check.fast_validity`.
4. Measures peak RSS of the bare reader and of ``mectk validate`` at ``--rss-rows`` rows
   (default 500000), each run as the only child of a fresh helper process that reads
   ``getrusage(RUSAGE_CHILDREN).ru_maxrss``.

Prints seconds, rows per second, and three ratios with their targets: mectk / calamine
time (at most 1.5x), frictionless / mectk time (at least 10x) and mectk - calamine peak
RSS (at most +100 MB). Compare ratios, not seconds, across machines. ``--quick`` runs at
10000 rows and 20000 rows for RSS.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import resource
import shlex
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

SHEET = "Enterprises"
RAISED_LIMITS = ("--limit", "archive_bytes=2G")
"""The 500k-row workbook's parts inflate to about 350 MB, above the default reading limit
(``archive_bytes``, 200 MB; docs/limits.md): raised so that the bench measures reading it."""
COLUMNS = (
    "enterprise_id",
    "programme_id",
    "trading_name",
    "legal_form",
    "independent",
    "status",
    "status_date",
    "origin",
    "first_contact_date",
    "services",
    "cqc_status",
    "locality_id",
    "base_postcode",
    "paid_workers",
    "price_amount_gbp",
    "price_unit",
    "lead_email",
)
EXCEL_EPOCH = datetime.date(1899, 12, 30)
LEGAL_FORMS = ("sole_trader", "partnership", "limited_company", "cic")
SERVICES = (
    "home_help_domestic",
    "meals_cooking",
    "shopping_errands",
    "companionship_social",
    "gardening_home_maintenance",
)
OUTWARD = ("WR5", "WR1", "B12", "GL50", "HR4", "SW1A", "M1", "LS6")
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
BAD_CELLS = (  # (column, value) of the planted mistakes, in turn
    ("price_amount_gbp", 18.505),
    ("status_date", "30/02/2025"),
    ("base_postcode", "WR5 2NPX"),
    ("legal_form", "Sole traders inc"),
)


# ------------------------------------------------------------------------------ the data


def enterprise(n: int) -> dict[str, Any]:
    """Row ``n`` as the validated record it should become (codes, ISO dates, Decimals)."""
    first = datetime.date(2023, 1, 2) + datetime.timedelta(days=n % 700)
    status = ("trading", "trading", "developing", "enquiry")[n % 4]
    record: dict[str, Any] = {
        "enterprise_id": f"B-{n:07d}",
        "programme_id": "BENCH",
        "trading_name": f"Bench Care {n}",
        "legal_form": LEGAL_FORMS[n % 2],  # sole trader or partnership: no company number
        "independent": True,
        "status": status,
        "status_date": (first + datetime.timedelta(days=30 + n % 200)).isoformat(),
        "origin": "established" if status == "trading" else ("new", "established")[n % 2],
        "first_contact_date": first.isoformat(),
        "services": [SERVICES[n % 5], SERVICES[(n + 2) % 5]] if n % 3 else [SERVICES[n % 5]],
        "cqc_status": ("unknown", "not_required_no_regulated_activity")[n % 2],
        "locality_id": f"L{n % 12 + 1}",
        "base_postcode": f"{OUTWARD[n % 8]} {n % 10}{_letters(n // 10)}",
        "paid_workers": n % 5,
        "price_amount_gbp": Decimal(15 + n % 10) + Decimal(n % 4 * 25) / 100,
        "price_unit": "per_hour",
        "lead_email": f"lead{n}@example.org",
    }
    return record


def _letters(n: int) -> str:
    return INWARD_LETTERS[n % 20] + INWARD_LETTERS[n // 20 % 20]


def cells(n: int, bad_every: int) -> list[Any]:
    """Row ``n`` as a person would type it: labels, date cells, Yes/No, ``;`` lists."""
    from mectk.schemas import field_map

    infos = field_map("enterprise")
    record = enterprise(n)
    out: list[Any] = []
    for name in COLUMNS:
        value = record[name]
        info = infos[name]
        if info.codelist:
            value = "; ".join(_label(info.codelist, v) for v in _as_list(value))
        elif info.value_kind == "date":
            value = datetime.date.fromisoformat(value)
        elif info.value_kind == "boolean":
            value = "Yes" if value else "No"
        elif isinstance(value, Decimal):
            value = float(value)
        out.append(value)
    if bad_every and n % bad_every == bad_every - 1:
        column, value = BAD_CELLS[n // bad_every % len(BAD_CELLS)]
        out[COLUMNS.index(column)] = value
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _label(list_name: str, code: str) -> str:
    from mectk.schemas import codelist

    return codelist(list_name).label(code)


def headings() -> list[str]:
    from mectk.schemas import field_map

    infos = field_map("enterprise")
    return [infos[name].title for name in COLUMNS]


# ------------------------------------------------------------------------------ writing

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
<Override PartName="/xl/sharedStrings.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>\
</Types>"""
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PKG_REL}">\
<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>\
</Relationships>"""
_WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">\
<sheets><sheet name="{SHEET}" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PKG_REL}">\
<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>\
<Relationship Id="rId3" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>\
</Relationships>"""
_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_MAIN}">\
<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>\
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write_xlsx(path: Path, rows: Iterator[Sequence[Any]], count: int) -> None:
    """Write one sheet the way Excel stores it: shared strings, date cells with a style.

    A few dozen lines of XML, streamed into the zip: openpyxl's write-only mode takes
    about 15 s per 100k rows, which would dominate a 500k-row run.
    """
    strings: dict[str, int] = {}
    letters = [_column_letter(i) for i in range(len(COLUMNS))]
    last = f"{letters[-1]}{count + 1}"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<worksheet xmlns="{_MAIN}"><dimension ref="A1:{last}"/><sheetData>'.encode()
            )
            chunk: list[str] = []
            for number, row in enumerate(rows, 1):
                parts = [f'<row r="{number}">']
                for letter, value in zip(letters, row, strict=True):
                    ref = f"{letter}{number}"
                    if isinstance(value, str):
                        index = strings.setdefault(value, len(strings))
                        parts.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
                    elif isinstance(value, datetime.date):
                        serial = (value - EXCEL_EPOCH).days
                        parts.append(f'<c r="{ref}" s="1"><v>{serial}</v></c>')
                    elif value is not None:
                        parts.append(f'<c r="{ref}"><v>{value!r}</v></c>')
                parts.append("</row>")
                chunk.append("".join(parts))
                if len(chunk) >= 2000:
                    sheet.write("".join(chunk).encode())
                    chunk.clear()
            sheet.write(("".join(chunk) + "</sheetData></worksheet>").encode())
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as table:
            size = len(strings)
            table.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<sst xmlns="{_MAIN}" count="{size}" uniqueCount="{size}">'.encode()
            )
            batch = [f"<si><t>{escape(text)}</t></si>" for text in strings]
            table.write(("".join(batch) + "</sst>").encode())


def write_openpyxl(path: Path, rows: Iterator[Sequence[Any]]) -> None:
    """The same sheet through openpyxl's write-only mode (slower; for cross-checking)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    for row in rows:
        out = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
            out.append(cell)
        sheet.append(out)
    book.save(path)


def make_workbook(path: Path, count: int, bad_every: int, writer: str) -> float:
    """Write the bench workbook of ``count`` data rows; return the seconds it took."""
    start = time.perf_counter()
    rows = iter([headings(), *(cells(n, bad_every) for n in range(count))])
    if writer == "openpyxl":
        write_openpyxl(path, rows)
    else:
        write_xlsx(path, rows, count)
    return time.perf_counter() - start


# ------------------------------------------------------------------------------ measuring


def bare_calamine(path: Path) -> int:
    """Iterate every row of the sheet with python-calamine and nothing else."""
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SHEET)
    return sum(1 for _ in sheet.iter_rows())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(
    cmd: Sequence[str], *, check_codes: tuple[int, ...] = (0,), cwd: Path | None = None
) -> tuple[float, str]:
    """Run ``cmd``; return its wall time and stdout. Raise on an unexpected exit code.

    The CPU seconds it used (user + system) are added to ``CPU_SECONDS[cmd]``'s list.
    """
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=cwd)
    elapsed = time.perf_counter() - start
    CPU_SECONDS.setdefault(tuple(cmd), []).append(_children_cpu() - cpu)
    if done.returncode not in check_codes:
        msg = f"{shlex.join(cmd)} exited {done.returncode}:\n{done.stderr[-2000:]}"
        raise RuntimeError(msg)
    return elapsed, done.stdout


CPU_SECONDS: dict[tuple[str, ...], list[float]] = {}
"""CPU seconds of each run of each command: on a busy machine, compare these too."""


def cpu_of(cmd: Sequence[str]) -> float:
    """The least CPU time a run of ``cmd`` took."""
    return min(CPU_SECONDS[tuple(cmd)])


def best_of(repeat: int, cmd: Sequence[str], **kw: Any) -> tuple[float, str]:
    results = [run(cmd, **kw) for _ in range(repeat)]
    return min(r[0] for r in results), results[-1][1]


def peak_rss_mb(cmd: Sequence[str], check_codes: tuple[int, ...]) -> float:
    """Peak RSS of ``cmd`` in MB, as the only child of a fresh helper process."""
    helper = [sys.executable, __file__, "--peak-rss-of", json.dumps(list(cmd))]
    helper += ["--peak-rss-codes", ",".join(map(str, check_codes))]
    _, out = run(helper)
    return int(out.strip()) / 1024  # ru_maxrss is in KiB on Linux


def _peak_rss_helper(cmd_json: str, codes: str) -> None:
    cmd = json.loads(cmd_json)
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    if done.returncode not in {int(c) for c in codes.split(",")}:
        sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
        sys.exit(f"{shlex.join(cmd)} exited {done.returncode}")
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def frictionless_command(option: str | None) -> list[str] | None:
    if option:
        return shlex.split(option)
    if importlib.util.find_spec("frictionless") is not None:
        return [sys.executable, "-m", "frictionless"]
    return None


def schema_check_times(count: int, bad_every: int) -> tuple[float, float, int]:
    """Seconds for jsonschema ``iter_errors`` and for ``fast_validity`` on ``count`` records.

    The records are the rows as validation sees them, every ``bad_every``-th with a price
    of 3 decimal places.
    """
    from mectk.fast_check import fast_validity
    from mectk.schemas import validator

    records = [enterprise(n) for n in range(count)]
    for n, record in enumerate(records):
        if bad_every and n % bad_every == bad_every - 1:
            record["price_amount_gbp"] = Decimal("18.505")
        record["source_system"] = "bench"
        record["provides_personal_care"] = False
        record["base_postcode_district"] = record["base_postcode"].split(" ")[0]
    slow, fast = validator("enterprise"), fast_validity("enterprise")
    start = time.perf_counter()
    failures = sum(1 for r in records if next(slow.iter_errors(r), None) is not None)
    middle = time.perf_counter()
    fast_failures = sum(1 for r in records if not fast(r))
    end = time.perf_counter()
    if failures != fast_failures:
        msg = f"fast_validity found {fast_failures} invalid records, jsonschema {failures}"
        raise AssertionError(msg)
    return middle - start, end - middle, failures


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rss-rows", type=int, default=500_000)
    parser.add_argument("--quick", action="store_true", help="10000 rows, 20000 for RSS")
    parser.add_argument("--repeat", type=int, default=1, help="best of R timed runs")
    parser.add_argument("--bad-every", type=int, default=100, help="0: no planted mistakes")
    parser.add_argument("--writer", choices=("xml", "openpyxl"), default="xml")
    parser.add_argument("--frictionless-cmd", help='e.g. "/opt/fl/bin/frictionless"')
    parser.add_argument("--keep", type=Path, help="write the workbooks here and keep them")
    parser.add_argument("--peak-rss-of", help=argparse.SUPPRESS)
    parser.add_argument("--peak-rss-codes", default="0", help=argparse.SUPPRESS)
    parser.add_argument("--read-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peak_rss_of:
        _peak_rss_helper(args.peak_rss_of, args.peak_rss_codes)
        return
    if args.read_only:
        bare_calamine(args.read_only)
        return
    if args.quick:
        args.rows, args.rss_rows = 10_000, 20_000

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        report(args, folder)


def report(args: argparse.Namespace, folder: Path) -> None:
    rows = args.rows
    bad = rows // args.bad_every if args.bad_every else 0
    path = folder / f"bench-{rows}.xlsx"
    wrote = make_workbook(path, rows, args.bad_every, args.writer)
    print(f"workbook             {rows} rows x {len(COLUMNS)} columns, {bad} planted mistakes")
    print(f"                     {path.stat().st_size / 1e6:.1f} MB, written in {wrote:.1f} s")

    start = time.perf_counter()
    counted = bare_calamine(path)
    in_process = time.perf_counter() - start
    if counted != rows + 1:
        msg = f"calamine read {counted} rows, expected {rows + 1}"
        raise AssertionError(msg)
    reader = [sys.executable, __file__, "--read-only", str(path)]
    calamine_s, _ = best_of(args.repeat, reader)
    mectk = [sys.executable, "-m", "mectk", "validate", str(path), "--json", *RAISED_LIMITS]
    mectk_s, out = best_of(args.repeat, mectk, check_codes=(0, 1))
    counts = json.loads(out)["counts"]
    if (counts["rows_read"], counts["rejected"]) != (rows, bad):
        msg = f"mectk counted {counts}, expected {rows} rows and {bad} rejected"
        raise AssertionError(msg)

    calamine_cpu, mectk_cpu = cpu_of(reader), cpu_of(mectk)
    print(
        f"calamine iteration   {calamine_s:6.2f} s  ({rows / calamine_s:,.0f} rows/s), "
        f"CPU {calamine_cpu:.2f} s"
    )
    print(f"                     {in_process:6.2f} s  in-process, without interpreter start")
    print(
        f"mectk validate       {mectk_s:6.2f} s  ({rows / mectk_s:,.0f} rows/s), "
        f"CPU {mectk_cpu:.2f} s"
    )
    print(f"                     {counts['accepted']} accepted, {counts['rejected']} rejected")
    friction = frictionless_command(args.frictionless_cmd)
    friction_s: float | None = None
    friction_cpu = 0.0
    if friction is None:
        print(
            "frictionless         skipped: not importable "
            "(pip install 'frictionless[excel]', or give --frictionless-cmd)"
        )
    else:
        # frictionless refuses paths outside its working folder as "not safe".
        command = [*friction, "validate", "--json", path.name]
        friction_s, out = best_of(args.repeat, command, check_codes=(0, 1), cwd=path.parent)
        stats = json.loads(out)["tasks"][0]["stats"]
        if stats.get("rows") != rows:
            msg = f"frictionless read {stats.get('rows')} rows, expected {rows}: {out[:500]}"
            raise AssertionError(msg)
        friction_cpu = cpu_of(command)
        print(
            f"frictionless         {friction_s:6.2f} s  ({rows / friction_s:,.0f} rows/s), "
            f"CPU {friction_cpu:.2f} s"
        )
        print(f"                     {stats['errors']} errors (types inferred from the data)")

    sample = min(rows, 10_000)
    slow_s, fast_s, invalid = schema_check_times(sample, args.bad_every)
    print(
        f"schema check, {sample} records: jsonschema iter_errors {slow_s:.2f} s, "
        f"fast_validity {fast_s:.3f} s ({slow_s / fast_s:.0f}x), {invalid} invalid"
    )

    rss_rows = args.rss_rows
    rss_path = path
    if rss_rows != rows:
        rss_path = folder / f"bench-{rss_rows}.xlsx"
        wrote = make_workbook(rss_path, rss_rows, args.bad_every, args.writer)
        print(f"workbook for RSS     {rss_rows} rows, written in {wrote:.1f} s")
    reader_rss = peak_rss_mb([sys.executable, __file__, "--read-only", str(rss_path)], (0,))
    mectk_rss = peak_rss_mb(
        [sys.executable, "-m", "mectk", "validate", str(rss_path), "--json", *RAISED_LIMITS],
        (0, 1),
    )
    print(f"peak RSS, {rss_rows} rows: calamine {reader_rss:.0f} MB, mectk {mectk_rss:.0f} MB")

    print()
    ratio = mectk_s / calamine_s
    print(
        f"mectk / calamine time       {ratio:5.2f}x   target <= 1.5x   {_verdict(ratio <= 1.5)}"
        f"   (CPU time: {mectk_cpu / calamine_cpu:.2f}x)"
    )
    if friction_s is None:
        print("frictionless / mectk time     n/a    target >= 10x    skipped")
    else:
        ratio = friction_s / mectk_s
        print(
            f"frictionless / mectk time   {ratio:5.1f}x   target >= 10x    {_verdict(ratio >= 10)}"
            f"   (CPU time: {friction_cpu / mectk_cpu:.1f}x)"
        )
    extra = mectk_rss - reader_rss
    print(
        f"mectk - calamine peak RSS  {extra:+6.0f} MB  target <= +100 MB {_verdict(extra <= 100)}"
    )


if __name__ == "__main__":
    main()
