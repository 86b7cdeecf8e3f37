"""Tell what a file is from its bytes, never from its extension; refuse hostile workbooks.

:func:`sniff` classifies a file by its first bytes. A zip is checked against the
:class:`~mectk.limits.Limits` from its directory before anything is inflated, then every
XML part's prolog is searched for a DTD and every part is inflated under its declared
size (checksums checked), all before a workbook reader parses a byte. :func:`refusal`
turns a file no reader can take into the fault with the right code (``file-empty``,
``workbook-encrypted``, ``wrong-file-type``...).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from mectk.errors import MectkError, SourceError, UsageError, fault
from mectk.limits import (
    DAMAGED,
    Limits,
    check_archive,
    check_xml_prolog,
    require_defusedxml,
    verify_members,
)
from mectk.sources import Source, SourceType

HEAD_BYTES = 8192
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTED = "it is encrypted (password-protected or sensitivity-labelled)"
LEGACY_XLS = "it is a legacy .xls workbook"
ZIP_CORRUPT = "the archive is corrupt or truncated"
NO_CONTENT_TYPES = "it has no [Content_Types].xml"
NO_WORKBOOK = "it has no xl/workbook.xml"
WORKBOOK_TYPES = ("xlsx", "xlsm")
_CLAIMED = {".xlsx": "an Excel workbook (.xlsx)", ".xlsm": "an Excel workbook (.xlsm)"}
_CLAIMED_TEXT = {".csv": "CSV text", ".tsv": "tab-separated text", ".txt": "text"}


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


def sniff(path: Path, limits: Limits | None = None) -> Source:
    """Describe ``path`` by content: workbook type and sheet names, or what else it is.

    A workbook that breaks ``limits`` (default :class:`Limits`), declares a DTD in any
    XML part, or has a damaged part is refused here with a coded
    :class:`~mectk.errors.SourceError`, before any reader parses it.
    """
    check_input_path(path)
    limits = limits or Limits()
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        msg = f"{path.name}: cannot be opened ({exc.strerror})"
        raise SourceError(msg, context={"file": path.name}) from exc
    source_type, detail = _classify(path, head, limits)
    sheets: tuple[str, ...] = ()
    hidden: tuple[tuple[str, str], ...] = ()
    if source_type in WORKBOOK_TYPES:
        sheets, hidden = _workbook_sheets(path)
        if len(sheets) > limits.sheets:
            raise fault(
                "too-many-sheets",
                file=path.name,
                count=f"{len(sheets):,}",
                limit=f"{limits.sheets:,}",
            )
    return Source(
        path=path,
        source_type=source_type,
        head=head,
        sheet_names=sheets,
        detail=detail,
        hidden_sheets=hidden,
    )


def refusal(source: Source, expected: str, advice: str) -> MectkError:
    """The coded fault for ``source`` when no reader can take it.

    ``expected`` says what was wanted (``an Excel workbook (.xlsx)``); ``advice`` is the
    hint when the file is simply of another type.
    """
    file = source.display_name
    kind, detail = source.source_type, source.detail
    if kind == "empty":
        return fault("file-empty", file=file)
    if kind == "ole" and detail == ENCRYPTED:
        return fault("workbook-encrypted", file=file)
    if kind == "ole" and detail == LEGACY_XLS:
        return fault("legacy-xls-unsupported", file=file)
    if kind == "zip" and detail == ZIP_CORRUPT:
        return fault("file-corrupt", file=file, detail=detail)
    if kind == "zip":
        return fault("not-a-workbook", file=file, detail=detail or "no workbook parts")
    return fault(
        "wrong-file-type", file=file, expected=expected, looks_like=source.describe(), advice=advice
    )


def claimed_type(source: Source) -> str | None:
    """What the file's extension promises, when its content says otherwise; else None."""
    suffix = source.path.suffix.lower()
    if suffix in _CLAIMED and source.source_type not in WORKBOOK_TYPES:
        return _CLAIMED[suffix]
    if suffix in _CLAIMED_TEXT and source.source_type != "csv":
        return _CLAIMED_TEXT[suffix]
    return None


def _classify(path: Path, head: bytes, limits: Limits) -> tuple[SourceType, str]:
    if not head:
        return "empty", ""
    if head.startswith(OLE_MAGIC):
        return "ole", _ole_detail(path)
    if head.startswith(ZIP_MAGIC):
        return _zip_type(path, limits)
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
        return ENCRYPTED
    if "Workbook".encode("utf-16-le") in blob or "Book".encode("utf-16-le") in blob:
        return LEGACY_XLS
    return "its contents are not a workbook mectk can read"


def _zip_type(path: Path, limits: Limits) -> tuple[SourceType, str]:
    try:
        archive = zipfile.ZipFile(path)
    except DAMAGED:
        return "zip", ZIP_CORRUPT
    with archive:
        members = check_archive(archive, path.name, limits)
        names = {info.filename for info in members}
        if "xl/workbook.xml" in names:
            if "[Content_Types].xml" not in names:
                return "zip", NO_CONTENT_TYPES
            require_defusedxml()
            for info in members:
                if info.filename.endswith((".xml", ".rels", ".vml")):
                    check_xml_prolog(archive, path.name, info.filename)
            verify_members(archive, path.name, members)
            return ("xlsm", "") if "xl/vbaProject.bin" in names else ("xlsx", "")
        if "content.xml" in names and "mimetype" in names:
            return "ods", ""
    return "zip", NO_WORKBOOK


def _workbook_sheets(path: Path) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The sheet names, and (name, ``hidden`` or ``very hidden``) for each hidden sheet."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        metadata = workbook.sheets_metadata
    except Exception as exc:
        raise fault("file-corrupt", file=path.name, detail=str(exc)) from exc
    states = {"Hidden": "hidden", "VeryHidden": "very hidden"}
    hidden = tuple(
        (m.name, states[str(m.visible).rpartition(".")[2]])
        for m in metadata
        if str(m.visible).rpartition(".")[2] in states
    )
    return tuple(workbook.sheet_names), hidden
