"""How much of an input file mectk will read: one :class:`Limits` value, checked before parsing.

Every limit has a default chosen from what Excel itself can produce or what a council's
workbook plausibly holds, with the reason beside it (``docs/limits.md`` lists them). A
run may change them: :meth:`Limits.from_env` reads ``MECTK_LIMITS_<NAME>`` variables and
:meth:`Limits.with_overrides` takes ``NAME=VALUE`` pairs (the CLI's ``--limit``).

:func:`check_archive` applies the archive limits to a zip (an .xlsx workbook, or any
zip package) using only its central directory, so a zip bomb is refused before a single
member is inflated; :func:`verify_members` then inflates every member under a byte
budget, so a directory that lies about sizes is caught without unbounded memory.
:func:`check_xml_prolog` refuses XML parts that declare a DTD (entity expansion, external
entities). Faults are :class:`~mectk.errors.SourceError` values with a stable ``code``.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from attrs import frozen

from mectk.errors import MectkError, UsageError, fault

ENV_PREFIX = "MECTK_LIMITS_"
RATIO_GRACE_BYTES = 1 << 20
"""Members that inflate to less than this are never refused for their ratio: a few
kilobytes of repeated markup compress far beyond any sensible ratio and are harmless."""
PROLOG_BYTES = 1 << 16
"""How much of an XML part is searched for a DTD before the first element must start."""
READ_CHUNK = 1 << 20
DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
"""What :mod:`zipfile` raises for a damaged member: bad CRC or deflate data, a truncated
stream, an unsupported compression method, or encryption (RuntimeError)."""


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        msg = f"limit '{attribute.name}' must be a whole number of at least 1, not {value!r}"
        raise UsageError(msg, hint="See docs/limits.md for the limits and their defaults.")


@frozen
class Limits:
    """The most mectk reads from one input file; anything beyond is refused, not cut.

    Defaults and why (see ``docs/limits.md``):

    * ``archive_bytes`` 200,000,000: the total inflated size of a workbook's parts. A
      100k-row, 20-column sheet is about 30 MB of XML; 200 MB leaves room for several such
      sheets while keeping the reader's memory (python-calamine loads whole sheets) in bounds.
    * ``member_ratio`` 100: inflated size over compressed size of one part (above
      :data:`RATIO_GRACE_BYTES`). Real sheet XML compresses 5-30 times; 100 is Apache
      POI's zip-bomb threshold too.
    * ``members`` 10,000: parts in one zip. A workbook has about four per sheet.
    * ``sheets`` 500: sheets in one workbook; council workbooks have tens.
    * ``rows`` 1,048,576 and ``columns`` 16,384: Excel's own sheet size.
    * ``sheet_cells`` 20,000,000: rows x columns of one sheet's used range, because
      python-calamine allocates the whole range (about 1.5 GB at this size).
    * ``cell_chars`` 32,767: Excel's limit for one cell; longer text did not come from
      Excel and could not be written back to it.
    """

    archive_bytes: int = attrs.field(default=200_000_000, validator=_positive)
    member_ratio: int = attrs.field(default=100, validator=_positive)
    members: int = attrs.field(default=10_000, validator=_positive)
    sheets: int = attrs.field(default=500, validator=_positive)
    rows: int = attrs.field(default=1_048_576, validator=_positive)
    columns: int = attrs.field(default=16_384, validator=_positive)
    sheet_cells: int = attrs.field(default=20_000_000, validator=_positive)
    cell_chars: int = attrs.field(default=32_767, validator=_positive)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The limit names, as ``--limit`` and ``MECTK_LIMITS_<NAME>`` spell them."""
        return tuple(a.name for a in attrs.fields(cls))

    def with_overrides(self, pairs: Mapping[str, str | int]) -> Limits:
        """A copy with the named limits changed; values may be ``1_000``, ``50MB``, ``2G``.

        An unknown name or a value that is not a positive whole number is a
        :class:`~mectk.errors.UsageError`.
        """
        changes: dict[str, int] = {}
        for name, raw in pairs.items():
            key = name.strip().lower().replace("-", "_")
            if key not in self.names():
                msg = f"unknown limit '{name}'"
                raise UsageError(msg, hint="Limits: " + ", ".join(self.names()) + ".")
            changes[key] = parse_amount(raw, key)
        return attrs.evolve(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Limits:
        """The defaults, changed by any ``MECTK_LIMITS_<NAME>`` variables in ``environ``."""
        pairs = {
            key.removeprefix(ENV_PREFIX): value
            for key, value in environ.items()
            if key.startswith(ENV_PREFIX)
        }
        return cls().with_overrides(pairs)

    def as_json(self) -> dict[str, int]:
        """The limits as a JSON object (name -> value)."""
        return attrs.asdict(self)


_AMOUNT = re.compile(r"^\s*(\d[\d_]*)\s*([kmg]?)b?\s*$", re.IGNORECASE)
_SCALE = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3}


def parse_amount(raw: str | int, name: str = "limit") -> int:
    """``raw`` as a positive whole number: digits with optional ``_`` and a k/M/G suffix."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        match = _AMOUNT.match(str(raw))
        if not match:
            msg = f"limit '{name}': '{raw}' is not a whole number (such as 5000, 50MB or 2G)"
            raise UsageError(msg)
        value = int(match.group(1).replace("_", "")) * _SCALE[match.group(2).lower()]
    if value < 1:
        msg = f"limit '{name}' must be at least 1"
        raise UsageError(msg)
    return value


def check_archive(archive: zipfile.ZipFile, file: str, limits: Limits) -> list[zipfile.ZipInfo]:
    """Refuse ``archive`` if its directory breaks ``limits``; return its members.

    Only the central directory is read: member count, total declared size and each
    member's declared ratio. The declared sizes may lie; :func:`verify_members` catches that.
    """
    members = archive.infolist()
    if len(members) > limits.members:
        raise fault(
            "archive-too-many-parts",
            file=file,
            count=f"{len(members):,}",
            limit=f"{limits.members:,}",
        )
    total = 0
    for info in members:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_GRACE_BYTES and ratio > limits.member_ratio:
            raise fault(
                "archive-too-large",
                file=file,
                part=info.filename,
                detail=f"the part {info.filename} inflates {ratio:,.0f} times "
                f"(limit member_ratio={limits.member_ratio:,})",
            )
    if total > limits.archive_bytes:
        raise fault(
            "archive-too-large",
            file=file,
            detail=f"its parts inflate to {total:,} bytes (limit archive_bytes="
            f"{limits.archive_bytes:,})",
        )
    return members


def verify_members(archive: zipfile.ZipFile, file: str, members: Iterable[zipfile.ZipInfo]) -> None:
    """Inflate every member in chunks, checking its CRC and its declared size.

    Memory stays at one chunk: :mod:`zipfile` stops at the declared size, so a member
    whose data is longer than declared fails its checksum. Either is ``archive-corrupt``.
    """
    for info in members:
        if info.is_dir():
            continue
        seen = 0
        try:
            with archive.open(info) as handle:
                while chunk := handle.read(READ_CHUNK):  # stops at the declared size,
                    seen += len(chunk)  # then the checksum of what was read must match
        except DAMAGED as exc:
            raise fault(
                "archive-corrupt",
                file=file,
                part=info.filename,
                detail=str(exc) or type(exc).__name__,
            ) from exc
        if seen != info.file_size:
            raise fault(
                "archive-corrupt",
                file=file,
                part=info.filename,
                detail=f"{seen:,} bytes where {info.file_size:,} were declared",
            )


_FIRST_ELEMENT = re.compile(rb"<(?![?!])")


def check_xml_prolog(archive: zipfile.ZipFile, file: str, member: str) -> None:
    """Refuse an XML part whose prolog declares a DTD (``<!DOCTYPE`` or ``<!ENTITY``).

    Spreadsheet XML never needs one; a DTD is how entity-expansion ("billion laughs") and
    external-entity attacks start. Only the bytes before the first element are searched.
    """
    try:
        with archive.open(member) as handle:
            head = handle.read(PROLOG_BYTES)
    except KeyError:
        return
    except DAMAGED as exc:
        detail = str(exc) or type(exc).__name__
        raise fault("archive-corrupt", file=file, part=member, detail=detail) from exc
    start = _FIRST_ELEMENT.search(head)
    prolog = head[: start.start()] if start else head
    upper = prolog.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise fault("unsafe-xml", file=file, part=member, detail="it declares a DTD (<!DOCTYPE>)")
    if start is None and len(head) == PROLOG_BYTES:
        raise fault(
            "unsafe-xml",
            file=file,
            part=member,
            detail=f"no element starts in its first {PROLOG_BYTES:,} bytes",
        )


def require_defusedxml() -> None:
    """Refuse to read workbooks unless defusedxml guards openpyxl's XML parsing.

    mectk depends on defusedxml; a build without it (or with openpyxl told not to use
    it) is a fault (exit 4), never a quiet loss of the guard.
    """
    try:
        import defusedxml  # noqa: F401
        from openpyxl.xml import DEFUSEDXML
    except ImportError:
        DEFUSEDXML = False  # noqa: N806 - the name openpyxl uses
    if not DEFUSEDXML:
        raise fault("defusedxml-missing", error=MectkError)
