"""The private folder for uploads and the validation runs kept for the session.

The folder is made with mode 0700 under the system's temporary folder. Each upload lands
in a subfolder with a random name (so two uploads never meet and no name can be
guessed); the file keeps its own base name, cleaned, so issues name the file the officer
chose. A run (its uploads, its result, files written for download) is deleted when it
has not been used for ``ttl`` seconds, when more than ``max_runs`` are kept, and when
the app stops.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from attrs import define, field

from mectk.sources import ReadOptions

if TYPE_CHECKING:
    from mectk.exchange import ReceiveResult, VerifyResult
    from mectk.register import BatchSummary
    from mectk.validation import ValidationResult

_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+-]+")
MAX_NAME = 120


def safe_name(name: str, default: str = "upload") -> str:
    """The base name of an uploaded file, with only harmless characters kept."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")
    if len(cleaned) > MAX_NAME:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = f"{stem[: MAX_NAME - len(ext) - 1]}.{ext}" if dot and len(ext) < 10 else ""
        cleaned = cleaned or base[:MAX_NAME]
    return cleaned or default


@define
class Upload:
    """One uploaded file: its cleaned name (as issues name it) and where it is kept."""

    name: str
    path: Path
    source_type: str = ""


@define
class Run:
    """One validation run, or one package being received, kept for the session."""

    id: str
    folder: Path
    uploads: list[Upload] = field(factory=list)
    mapping_name: str | None = None
    chosen: list[str] = field(factory=list)
    """Per file, in words: which format was used and why."""
    result: ValidationResult | None = None
    options: ReadOptions = field(factory=ReadOptions)
    batch: BatchSummary | None = None
    verification: VerifyResult | None = None
    """For a package to receive (``uploads``: the package, then trusted keys): its check."""
    received: ReceiveResult | None = None
    """The last attempt to receive it: landed, or refused on conflicts."""
    last_used: float = field(factory=time.monotonic)

    def new_path(self, name: str) -> Path:
        """A fresh path for ``name`` inside this run, in a random subfolder of its own."""
        folder = self.folder / secrets.token_hex(8)
        folder.mkdir(mode=0o700)
        return folder / safe_name(name)


class Workspace:
    """The app's private temporary folder and its runs (thread-safe)."""

    def __init__(self, ttl: int, max_runs: int) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mectk-web-"))
        self.root.chmod(0o700)
        self.ttl = ttl
        self.max_runs = max_runs
        self._runs: dict[str, Run] = {}
        self._lock = threading.Lock()

    def new_run(self) -> Run:
        """A new, empty run with its own folder."""
        self.expire()
        run_id = secrets.token_urlsafe(16)
        folder = self.root / run_id
        folder.mkdir(mode=0o700)
        run = Run(run_id, folder)
        with self._lock:
            self._runs[run_id] = run
            extra = sorted(self._runs.values(), key=lambda r: r.last_used)[: -self.max_runs]
        for old in extra:
            self.drop(old.id)
        return run

    def get(self, run_id: str) -> Run | None:
        """The run ``run_id``, or None when it never existed or has expired."""
        self.expire()
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None:
                run.last_used = time.monotonic()
            return run

    def drop(self, run_id: str) -> None:
        """Forget a run and delete its files."""
        with self._lock:
            run = self._runs.pop(run_id, None)
        if run is not None:
            shutil.rmtree(run.folder, ignore_errors=True)

    def expire(self) -> None:
        """Delete the runs unused for longer than the time to live."""
        now = time.monotonic()
        with self._lock:
            old = [r.id for r in self._runs.values() if now - r.last_used > self.ttl]
        for run_id in old:
            self.drop(run_id)

    def scratch(self) -> Path:
        """A new private folder for one response's files (the caller deletes it)."""
        folder = self.root / f"scratch-{secrets.token_hex(8)}"
        folder.mkdir(mode=0o700)
        return folder

    def close(self) -> None:
        """Delete everything: every run and the folder itself."""
        with self._lock:
            self._runs.clear()
        shutil.rmtree(self.root, ignore_errors=True)
