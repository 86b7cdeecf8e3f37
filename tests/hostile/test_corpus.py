"""The hostile corpus (reliability.md section 4): every case gets its code and exit code.

Each generated input is validated in-process (fast) and the representative set again
through the CLI as a subprocess: no traceback, a message naming the file (and sheet,
cell and heading where they apply), the stable code, the exit code, and no output file
created or changed. Faults found while sniffing must come before any workbook parser
runs: python-calamine is booby-trapped for those cases.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mectk.errors import MectkError
from mectk.mapping import load_mapping
from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager
from tests.hostile.corpus import CASES, CSV_MAPPING, MAPPING, Case

REGISTRY = build_registry(make_plugin_manager(load_entrypoints=False))
FILE_CASES = [c for c in CASES if c.build is not None]
SENTINEL = b"an earlier output that must survive"
SNIFF_FAULTS = {
    "unsafe-xml",
    "archive-too-large",
    "archive-corrupt",
    "archive-too-many-parts",
    "file-corrupt",
    "not-a-workbook",
    "wrong-file-type",
    "workbook-encrypted",
    "legacy-xls-unsupported",
    "file-empty",
}
"""Faults that must be found from the zip directory and prologs, before parsing."""


def case_id(case: Case) -> str:
    return f"{case.number:02d}-{case.name}"


def mapping_args(case: Case, folder: Path) -> list[str]:
    if case.mapping == "canonical":
        return []
    path = folder / f"{case.mapping}.toml"
    path.write_text(MAPPING if case.mapping == "sheet" else CSV_MAPPING, encoding="utf-8")
    return ["--mapping", str(path)]


def registry_for(case: Case, folder: Path):
    args = mapping_args(case, folder)
    if not args:
        return REGISTRY, None
    mapping = load_mapping(Path(args[1]))
    return REGISTRY.with_mapping(mapping), mapping.format


def test_the_table_covers_all_forty_cases_once_each_with_a_code_and_exit():
    assert sorted({c.number for c in CASES}) == list(range(1, 41))
    for case in CASES:
        assert case.exit in (0, 1, 2, 3, 4), case
        assert case.build is not None or case.covered_by, case


@pytest.mark.parametrize("case", FILE_CASES, ids=case_id)
def test_case_in_process(case: Case, tmp_path: Path, monkeypatch):
    path = case.build(tmp_path)
    registry, format_name = registry_for(case, tmp_path)
    if case.code in SNIFF_FAULTS:
        from python_calamine import CalamineWorkbook

        def trap(*_args, **_kwargs):
            raise AssertionError("a workbook parser ran on a file that should be refused first")

        monkeypatch.setattr(CalamineWorkbook, "from_path", trap)
    if case.exit >= 2:
        with pytest.raises(MectkError) as raised:
            validate_files(registry, [path], format_name=format_name)
        fault = raised.value
        assert (fault.code, fault.exit_code) == (case.code, case.exit), fault.message
        assert path.name in fault.message
        assert fault.hint
        if case.part:
            assert fault.context.get("part") == case.part
            assert case.part in fault.message
        return
    result = validate_files(registry, [path], format_name=format_name)
    codes = [i.code for i in result.issues]
    assert (0 if result.valid else 1) == case.exit, codes
    assert result.rows_read == result.accepted + result.rejected
    if case.counts is not None:
        assert (result.accepted, result.rejected) == case.counts, codes
    if case.code is None:
        assert not [i for i in result.issues if i.severity == "error"], codes
    else:
        assert case.code in codes
        first = next(i for i in result.issues if i.code == case.code)
        assert first.file == path.name
        for attribute in ("sheet", "cell"):
            wanted = getattr(case, attribute)
            if wanted is not None:
                assert getattr(first, attribute) == wanted, first
        if case.heading is not None:
            assert first.column == case.heading, first
    for code in case.also:
        assert code in codes


CLI_CASES = [c for c in FILE_CASES if c.cli]


def run_cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mectk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("case", CLI_CASES, ids=case_id)
def test_case_through_the_cli(case: Case, tmp_path: Path):
    path = case.build(tmp_path)
    args = ["validate", str(path), "--json", *mapping_args(case, tmp_path)]
    out = tmp_path / "annotated.xlsx"
    if case.exit >= 2:
        out.write_bytes(SENTINEL)
        args += ["--annotate", str(out)]
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run_cli(args, tmp_path)
    assert done.returncode == case.exit, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert path.name in done.stderr + done.stdout
    document = json.loads(done.stdout)
    if case.exit >= 2:
        assert f"[{case.code}]" in done.stderr
        assert document["error"]["code"] == case.code
        assert document["error"]["file"] == path.name
        assert document["error"]["exit_code"] == case.exit
        assert out.read_bytes() == SENTINEL  # the earlier output is untouched
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing new
        return
    issues = document["issues"]
    if case.code:
        hit = next(i for i in issues if i["code"] == case.code)
        assert hit["file"] == path.name
        if case.cell:
            assert (hit["sheet"], hit["cell"], hit["column"]) == (
                case.sheet,
                case.cell,
                case.heading,
            )
    if case.counts is not None:
        counts = document["counts"]
        assert (counts["accepted"], counts["rejected"]) == case.counts


def test_the_zip_bomb_is_refused_in_little_time_and_memory(tmp_path: Path):
    from tests.hostile.corpus import zip_bomb_ratio

    path = zip_bomb_ratio(tmp_path)
    script = (
        "import resource, sys, time\n"
        "from pathlib import Path\n"
        "from mectk.errors import SourceError\n"
        "from mectk.pipeline import validate_files\n"
        "from mectk.plugin_manager import build_registry, make_plugin_manager\n"
        "registry = build_registry(make_plugin_manager(load_entrypoints=False))\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "start = time.perf_counter()\n"
        "try:\n"
        "    validate_files(registry, [Path(sys.argv[1])])\n"
        "except SourceError as exc:\n"
        "    print(exc.code, time.perf_counter() - start,\n"
        "          resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    code, seconds, grown_kib = done.stdout.split()
    assert code == "archive-too-large"
    assert float(seconds) < 1.0
    assert int(grown_kib) < 20 * 1024  # the 20 MiB sheet was never inflated
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # (the test ran)


def test_the_external_entity_leaks_no_local_file(tmp_path: Path):
    from mectk.jsonio import dumps
    from tests.hostile.corpus import xxe_external_entity

    path = xxe_external_entity(tmp_path)
    with pytest.raises(MectkError) as raised:
        validate_files(REGISTRY, [path])
    said = dumps(raised.value.as_json()) + str(raised.value.hint)
    secret = Path("/etc/passwd")
    if secret.exists():
        first_line = secret.read_text(encoding="utf-8", errors="replace").splitlines()[0]
        assert first_line not in said
    assert "root:" not in said


def test_a_hidden_sheet_is_named_but_its_content_never_reported(tmp_path: Path):
    from mectk.jsonio import dumps
    from tests.hostile.corpus import hidden_sheets

    result = validate_files(REGISTRY, [hidden_sheets(tmp_path)])
    report = dumps(result.as_json(version="test"))
    hidden = {i.sheet: i.message for i in result.issues if i.code == "sheet-hidden"}
    assert set(hidden) == {"Enterprises_old", "Notes"}
    assert "very hidden" in hidden["Notes"]
    assert "not read" in hidden["Notes"]
    assert "Acacia" not in report
    assert "secret old data" not in report


def test_macros_never_reach_an_output(tmp_path: Path):
    from mectk.annotate import write_annotated_copy
    from tests.hostile.corpus import macro_xlsm

    path = macro_xlsm(tmp_path)
    result = validate_files(REGISTRY, [path])
    out = tmp_path / "annotated.xlsx"
    write_annotated_copy(path, result.issues, out, file_name=path.name)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        types = archive.read("[Content_Types].xml")
    assert not [n for n in names if "vba" in n.lower()]
    assert b"macroEnabled" not in types


def test_a_1904_workbook_reads_its_dates_as_written(tmp_path: Path):
    import datetime

    from tests.hostile.corpus import dates_1904

    result = validate_files(REGISTRY, [dates_1904(tmp_path)])
    [record] = result.accepted_records
    assert record.model.status_date == datetime.date(2024, 3, 1)


def test_text_ids_keep_their_leading_zeros(tmp_path: Path):
    from tests.hostile.corpus import leading_zeros_csv

    case = next(c for c in CASES if c.name == "leading_zeros.csv")
    registry, format_name = registry_for(case, tmp_path)
    result = validate_files(registry, [leading_zeros_csv(tmp_path)], format_name=format_name)
    [record] = result.accepted_records
    assert (record.model.lead_phone, record.model.company_number) == ("07700900123", "01234567")


def test_cp1252_is_read_without_mojibake_and_the_fallback_said(tmp_path: Path):
    from tests.hostile.corpus import cp1252_csv

    case = next(c for c in CASES if c.name == "cp1252.csv")
    registry, format_name = registry_for(case, tmp_path)
    result = validate_files(registry, [cp1252_csv(tmp_path)], format_name=format_name)
    [record] = result.accepted_records
    assert record.model.trading_name == "Café, £5 \u2013 \u2018Ltd\u2019"
    [note] = [i for i in result.issues if i.code == "encoding-fallback"]
    assert note.row == 2


def test_the_mixed_encoding_file_names_the_line_and_byte_offset(tmp_path: Path):
    from tests.hostile.corpus import mixed_encoding_csv

    case = next(c for c in CASES if c.name == "mixed_encoding.csv")
    registry, format_name = registry_for(case, tmp_path)
    path = mixed_encoding_csv(tmp_path)
    with pytest.raises(MectkError) as raised:
        validate_files(registry, [path], format_name=format_name)
    offset = path.read_bytes().index(b"\x9d")
    assert "line 5,001" in raised.value.message
    assert f"byte offset {offset:,}" in raised.value.message


def test_docs_limits_lists_every_case_with_its_code_and_exit():
    text = (Path(__file__).resolve().parents[2] / "docs" / "limits.md").read_text("utf-8")
    rows = [
        [cell.strip() for cell in line.strip("|").split(" | ")]
        for line in text.splitlines()
        if line.startswith("| ") and line.split(" | ")[0][2:].strip().isdigit()
    ]
    documented = [(int(r[0]), r[1].strip("`"), r[2].strip("`"), int(r[3])) for r in rows]
    expected = [
        (
            c.number,
            c.name,
            c.code if c.code else ("none" if c.code is None else "see notes"),
            c.exit,
        )
        for c in CASES
    ]
    assert documented == expected
