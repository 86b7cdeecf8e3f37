"""Write output files whole or not at all: write to a temporary file, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mectk.errors import UsageError


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched.
    A missing or read-only folder is a :class:`~mectk.errors.UsageError` (exit 2).
    """
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        msg = f"{path}: the folder {folder} does not exist"
        raise UsageError(msg)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        msg = f"{path}: cannot write in {folder} ({exc.strerror})"
        raise UsageError(msg) from exc
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
