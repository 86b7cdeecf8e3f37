"""Opening a package zip safely: every member checked before any byte is decompressed.

Contract of :func:`read_members`: returns ``{member name: bytes}`` for a zip that is safe,
or raises :class:`UnsafePackage` holding every problem found, each an issue with its own
code (design.md section 5 exit 3: unreadable or unsafe):

* ``package-unreadable``: not a zip, corrupt directory, an encrypted member, a member
  whose data fails its CRC or does not decompress;
* ``package-unsafe-path``: an absolute path, a drive letter, a backslash, a ``..`` or
  empty component, a NUL or control character, a Windows device name, a name used twice;
* ``package-member-link``: a symbolic link;
* ``package-too-large``: more than :data:`MAX_MEMBERS` members, a member or the total over
  :data:`MAX_MEMBER_BYTES` / :data:`MAX_TOTAL_BYTES` uncompressed, or a compression ratio
  over :data:`MAX_RATIO` (checked from the directory first, then while reading, so a
  directory that lies about sizes is caught too).

Nothing is ever extracted to disk.
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from pathlib import Path

from mectk.issues import Issue, make_issue

MAX_MEMBERS = 100
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200
_RATIO_FLOOR = 1024 * 1024  # small members may compress well; ratio applies above 1 MB
_DEVICES = re.compile(r"(?i)^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafePackage(Exception):  # noqa: N818 (a condition, not an error of mectk)
    """The zip cannot be read safely; ``issues`` says why (each with its own code)."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(i.message for i in issues))
        self.issues = issues


def unsafe_reason(name: str) -> str | None:
    """Why member path ``name`` is unsafe, or None when it is a plain relative path."""
    if _CONTROL.search(name):
        return "it contains a control character"
    if "\\" in name:
        return "it contains a backslash"
    if name.startswith("/"):
        return "it is absolute"
    if re.match(r"^[A-Za-z]:", name):
        return "it starts with a drive letter"
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "it has an empty, '.' or '..' component"
    if any(_DEVICES.match(p) for p in parts):
        return "it names a Windows device"
    return None


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


def _check_directory(path: Path, infos: list[zipfile.ZipInfo]) -> list[Issue]:
    where = path.name
    issues: list[Issue] = []
    if len(infos) > MAX_MEMBERS:
        issues.append(
            make_issue(
                "package-too-large",
                file=where,
                detail=f"{len(infos)} members, more than {MAX_MEMBERS}",
            )
        )
        return issues
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.orig_filename  # before zipfile cut it at a NUL byte
        reason = unsafe_reason(name)
        if reason is None and name in seen:
            reason = "the name is used twice"
        seen.add(name)
        shown = name.replace("\x00", "\\0")
        if reason is not None:
            issues.append(make_issue("package-unsafe-path", file=shown, reason=reason))
            continue
        if _is_link(info):
            issues.append(make_issue("package-member-link", file=shown))
            continue
        if info.flag_bits & 0x1:
            issues.append(make_issue("package-unreadable", file=shown, detail="it is encrypted"))
            continue
        total += info.file_size
        if info.file_size > MAX_MEMBER_BYTES:
            detail = f"{shown} is {info.file_size} bytes uncompressed"
            issues.append(make_issue("package-too-large", file=shown, detail=detail))
        elif info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            detail = f"{shown} would expand {info.file_size // max(info.compress_size, 1)} times"
            issues.append(make_issue("package-too-large", file=shown, detail=detail))
    if total > MAX_TOTAL_BYTES:
        detail = f"{total} bytes uncompressed in all"
        issues.append(make_issue("package-too-large", file=where, detail=detail))
    return issues


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes, never more than its directory entry says (plus one)."""
    limit = min(info.file_size, MAX_MEMBER_BYTES)
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        msg = "it holds more data than its directory entry says"
        raise zipfile.BadZipFile(msg)
    return data


def read_members(path: Path) -> dict[str, bytes]:
    """Every member of the zip at ``path``, by name, checked as the module says."""
    where = path.name
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise UnsafePackage(
            [make_issue("package-unreadable", file=where, detail=f"it is not a zip ({exc})")]
        ) from exc
    with archive:
        infos = archive.infolist()
        issues = _check_directory(path, infos)
        if issues:
            raise UnsafePackage(issues)
        members: dict[str, bytes] = {}
        for info in infos:
            try:
                members[info.filename] = _read(archive, info)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
                issues.append(make_issue("package-unreadable", file=info.filename, detail=f"{exc}"))
        if issues:
            raise UnsafePackage(issues)
    return members
