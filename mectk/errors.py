"""Faults, as opposed to problems in the data.

Bad data never raises: it becomes an :class:`mectk.issues.Issue` in the report. These
exceptions are for faults that stop a run, and each carries the CLI exit code it maps to::

    MectkError                    exit 4 unless a subclass says otherwise
    ├── UsageError                exit 2: bad options, missing file, unknown format
    ├── SourceError               exit 3: input unreadable or unsafe (wrong type, corrupt)
    └── PluginError               exit 4: a plugin raised, or two plugins clash
        └── DuplicateNameError    two plugins registered the same format or check name
"""

from __future__ import annotations


class MectkError(Exception):
    """Base of every fault mectk raises on purpose; ``exit_code`` is the CLI's exit status."""

    exit_code = 4

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(MectkError):
    """The command line or configuration is wrong (exit 2)."""

    exit_code = 2


class SourceError(MectkError):
    """An input file cannot be read safely: wrong type, corrupt, encrypted or too large (exit 3)."""

    exit_code = 3


class PluginError(MectkError):
    """A plugin failed in a hook, or returned something mectk cannot use (exit 4)."""

    exit_code = 4


class DuplicateNameError(PluginError):
    """Two plugins registered the same name for a format or check."""
