"""A hypothesis-driven fuzz harness over the sniffer and the readers.

Inputs are mutations of real seeds: a canonical workbook (its zip bytes flipped, cut or
padded; or one member's XML mutated and re-zipped), and CSV text (random bytes, quotes,
delimiters, encodings). The property is *totality*: reading any input either returns a
:class:`~mectk.validation.ValidationResult` whose counts add up, or raises a
:class:`~mectk.errors.MectkError` with an exit code of 2 or 3. Anything else (a bare
``KeyError``, ``zipfile.BadZipFile``, a calamine panic...) is a finding; each one found
becomes a regression example in ``tests/hostile/test_fuzz.py``.

``tests/hostile/test_fuzz.py`` runs a short bounded search in the suite;
``bench/fuzz_readers.py`` runs a long one.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from mectk.errors import MectkError
from mectk.mapping import load_mapping
from mectk.pipeline import validate_files
from mectk.plugin_manager import Registry, build_registry, make_plugin_manager
from tests.hostile.corpus import CSV_MAPPING, HEADINGS, canonical_rows, xlsx


@cache
def seed_workbook() -> bytes:
    return xlsx([HEADINGS, *canonical_rows(3)])


@cache
def registries() -> tuple[Registry, Registry]:
    """(canonical, csv mapping) registries, built once."""
    base = build_registry(make_plugin_manager(load_entrypoints=False))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_text(CSV_MAPPING, encoding="utf-8")
        mapped = base.with_mapping(load_mapping(path))
    return base, mapped


def _members(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def _rezip(data: bytes, member: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, content if name == member else source.read(name))
    return out.getvalue()


@st.composite
def byte_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few bytes flipped, a slice cut out, or bytes inserted."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if how == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif how == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        else:
            del data[at:]
    return bytes(data)


XML_NOISE = st.sampled_from(
    [
        b"<!DOCTYPE x>",
        b'<c r="ZZZ999999" t="e"><v>#REF!</v></c>',
        b'<row r="0">',
        b'<row r="99999999999"/>',
        b'<c r="A1" t="s"><v>999999</v></c>',
        b"</sheetData>",
        b'<dimension ref="A1:XFD1048576"/>',
        b"&amp;&lt;&#0;",
        b"<v>60</v>",
        b"\xff\xfe",
    ]
)


@st.composite
def workbook_inputs(draw: st.DrawFn) -> bytes:
    """A mutated canonical workbook: raw zip bytes, or one member's XML."""
    seed = seed_workbook()
    if draw(st.booleans()):
        return draw(byte_mutation(seed))
    member = draw(st.sampled_from(_members(seed)))
    content = zipfile.ZipFile(io.BytesIO(seed)).read(member)
    if draw(st.booleans()):
        content = draw(byte_mutation(content))
    else:
        at = draw(st.integers(0, len(content)))
        content = content[:at] + draw(XML_NOISE) + content[at:]
    return _rezip(seed, member, content)


CSV_PIECES = st.sampled_from(
    [
        ",",
        ";",
        "\t",
        '"',
        '""',
        "\n",
        "\r\n",
        "\r",
        "enterprise_id",
        "name",
        "stage",
        "E1",
        "1",
        "=1+1",
        "\ufeff",
        "\x00",
        "é",
        "\u202e",
        "x" * 40_000,
    ]
)


@st.composite
def csv_inputs(draw: st.DrawFn) -> bytes:
    """CSV-ish bytes: a header and rows built from awkward pieces, in some encoding."""
    header = "enterprise_id,name,stage\n" if draw(st.booleans()) else ""
    body = "".join(draw(st.lists(CSV_PIECES, max_size=40)))
    text = header + body
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = draw(byte_mutation(data)) if data else data
    return data


def read_any(data: bytes, suffix: str, folder: Path) -> Any:
    """Validate ``data`` as a file named ``input{suffix}``; return the result or the fault.

    Raises whatever mectk raises that is not a :class:`MectkError` (the finding).
    """
    canonical, mapped = registries()
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    registry, format_name = (mapped, "hostile") if suffix == ".csv" else (canonical, None)
    try:
        result = validate_files(registry, [path], format_name=format_name)
    except MectkError as fault:
        assert fault.exit_code in (2, 3), (fault.exit_code, fault.message)
        assert fault.message
        return fault
    assert result.rows_read == result.accepted + result.rejected
    return result
