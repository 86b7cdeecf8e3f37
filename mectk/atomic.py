"""Write output files whole or not at all: write to a temporary file, then rename."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from mectk.errors import UsageError


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched.
    A missing or read-only folder is a :class:`~mectk.errors.UsageError` (exit 2).
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
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
