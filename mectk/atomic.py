"""Write output files whole or not at all: write to a temporary file, then rename."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from mectk.errors import MectkError, UsageError, fault

WRITE_FAILURES = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM}
)
"""OSError numbers that mean the output could not be written (disk full, file too large,
read-only or locked): reported as ``output-not-written`` rather than as a crash."""


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched.
    A missing or read-only folder is a :class:`~mectk.errors.UsageError` (exit 2); a
    write that fails part-way (disk full, file size limit, a locked file) is the fault
    ``output-not-written`` (exit 4), which says nothing was written.
    """
    if not path.name or path.name in (".", ".."):
        msg = f"'{path}' is not a file name"
        raise UsageError(msg)
    if path.is_dir():
        msg = f"{path}: is a folder; give a file name"
        raise UsageError(msg)
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        msg = f"{path}: the folder {folder} does not exist"
        raise UsageError(msg)
    temporary = folder / f".{path.name}.{secrets.token_hex(6)}.part"
    try:  # created like any new file (the umask applies), never over an existing one
        os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as exc:
        msg = f"{path}: cannot write in {folder} ({exc.strerror})"
        raise UsageError(msg) from exc
    try:
        yield temporary
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        if exc.errno not in WRITE_FAILURES:
            raise
        raise fault(
            "output-not-written", error=MectkError, file=str(path), detail=exc.strerror or exc
        ) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
