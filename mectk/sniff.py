"""Tell what a file is from its bytes, never from its extension."""

from __future__ import annotations

import zipfile
from pathlib import Path

from mectk.errors import SourceError, UsageError
from mectk.sources import Source, SourceType

HEAD_BYTES = 8192
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


def check_input_path(path: Path) -> None:
    """Refuse a path that does not name a readable file (exit 2, one clear line)."""
    if not path.exists():
        msg = f"{path}: no such file"
        raise UsageError(msg, hint="Check the file name and folder.")
    if path.is_dir():
        msg = f"{path}: is a folder, not a file"
        raise UsageError(msg, hint="Name the spreadsheet inside the folder.")
    if not path.is_file():
        msg = f"{path}: is not a regular file"
        raise UsageError(msg)


def sniff(path: Path) -> Source:
    """Describe ``path`` by content: workbook type and sheet names, or what else it is."""
    check_input_path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        msg = f"{path.name}: cannot be opened ({exc.strerror})"
        raise SourceError(msg) from exc
    source_type, detail = _classify(path, head)
    sheets: tuple[str, ...] = ()
    if source_type in ("xlsx", "xlsm"):
        sheets = _workbook_sheet_names(path)
    return Source(path=path, source_type=source_type, head=head, sheet_names=sheets, detail=detail)


def _classify(path: Path, head: bytes) -> tuple[SourceType, str]:
    if not head:
        return "empty", ""
    if head.startswith(OLE_MAGIC):
        return "ole", _ole_detail(path)
    if head.startswith(ZIP_MAGIC):
        return _zip_type(path)
    if head.startswith(b"%PDF"):
        return "pdf", ""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv", "UTF-16 text"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) and (
        b"<html" in stripped[:2048] or b"<table" in stripped[:2048]
    ):
        return "html", ""
    if _looks_like_text(head):
        return "csv", ""
    return "binary", ""


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "cp1252"):
        try:
            head.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding == "utf-8" and exc.start > len(head) - 4:
                return True  # a multi-byte character cut by the read limit
            continue
        return True
    return False


def _ole_detail(path: Path) -> str:
    with path.open("rb") as handle:
        blob = handle.read(1 << 20)
    if "EncryptedPackage".encode("utf-16-le") in blob:
        return "it is encrypted (password-protected or sensitivity-labelled)"
    if "Workbook".encode("utf-16-le") in blob or "Book".encode("utf-16-le") in blob:
        return "it is a legacy .xls workbook"
    return "its contents are not a workbook mectk can read"


def _zip_type(path: Path) -> tuple[SourceType, str]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return "zip", "the archive is corrupt or truncated"
    if "xl/workbook.xml" in names:
        return ("xlsm", "") if "xl/vbaProject.bin" in names else ("xlsx", "")
    if "content.xml" in names and "mimetype" in names:
        return "ods", ""
    return "zip", ""


def _workbook_sheet_names(path: Path) -> tuple[str, ...]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        msg = f"{path.name}: the workbook is corrupt and cannot be opened ({exc})"
        raise SourceError(msg, hint="Open it in Excel and save a fresh copy.") from exc
    return tuple(workbook.sheet_names)
