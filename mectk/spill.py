"""An append-only temporary file of pickled batches, for results too big to keep in memory.

The file is unnamed (``tempfile.TemporaryFile``): the operating system deletes it when it
is closed or the process ends, and no other program can open it by name. Only this
process writes it, so reading it back with ``pickle`` loads nothing from outside.
Reads and writes hold a lock (a seek then a read), so threads may share one file: the web
app serves pages of one kept result from several request threads.
"""

from __future__ import annotations

import pickle
import tempfile
import threading
from typing import IO, Any


class SpillFile:
    """Batches of Python objects written once and read back any number of times."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._size = 0
        self._lock = threading.Lock()

    def write(self, batch: list[Any]) -> tuple[int, int]:
        """Append ``batch``; return its (offset, size) for :meth:`read`."""
        blob = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="mectk-")  # noqa: SIM115 - kept open
            self._file.seek(self._size)
            self._file.write(blob)
            where = (self._size, len(blob))
            self._size += len(blob)
        return where

    def read(self, where: tuple[int, int]) -> list[Any]:
        """The batch written at ``where``."""
        offset, size = where
        with self._lock:
            if self._file is None:
                msg = "nothing was written"
                raise ValueError(msg)
            self._file.seek(offset)
            blob = self._file.read(size)
        batch: list[Any] = pickle.loads(blob)  # written by write() above
        return batch

    def close(self) -> None:
        """Delete the file now rather than when this object is collected."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
                self._size = 0
