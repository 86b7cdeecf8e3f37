"""A short, bounded fuzz run over the sniffer and readers (totality), plus the regression
cases earlier runs found. ``bench/fuzz_readers.py`` runs the same harness for longer."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from tests.hostile.fuzzing import csv_inputs, read_any, workbook_inputs

BOUNDED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@BOUNDED
@given(workbook_inputs())
def test_any_mutated_workbook_reads_or_is_refused_cleanly(data):
    with tempfile.TemporaryDirectory() as folder:
        read_any(data, ".xlsx", Path(folder))


@BOUNDED
@given(csv_inputs())
def test_any_csv_bytes_read_or_are_refused_cleanly(data):
    with tempfile.TemporaryDirectory() as folder:
        read_any(data, ".csv", Path(folder))


# ---- regressions found by the fuzz harness


def flip_member_data(data: bytes, member: str) -> bytes:
    """``data`` with the first byte of ``member``'s compressed data flipped."""
    import io
    import struct
    import zipfile

    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    at = info.header_offset
    name_length, extra_length = struct.unpack_from("<HH", data, at + 26)
    start = at + 30 + name_length + extra_length
    return data[:start] + bytes([data[start] ^ 0xFF]) + data[start + 1 :]


def test_a_broken_deflate_stream_in_an_xml_prolog_is_archive_corrupt(tmp_path):
    """Found: zlib.error escaped the DTD check as a bare exception (exit 4)."""
    from tests.hostile.fuzzing import seed_workbook

    data = flip_member_data(seed_workbook(), "[Content_Types].xml")
    fault = read_any(data, ".xlsx", tmp_path)
    assert (fault.code, fault.context["part"]) == ("archive-corrupt", "[Content_Types].xml")
