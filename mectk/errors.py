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

from collections.abc import Mapping
from typing import Any


class MectkError(Exception):
    """Base of every fault mectk raises on purpose; ``exit_code`` is the CLI's exit status."""

    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code
        """A stable code from :data:`mectk.issues.CATALOGUE` when the fault has one."""
        self.context = dict(context or {})
        """Where the fault is: ``file``, ``sheet``, ``cell``, ``part`` as they apply."""

    def as_json(self) -> dict[str, Any]:
        """The fault as the ``error`` object of a ``--json`` document."""
        return {
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "exit_code": self.exit_code,
            **{k: self.context.get(k) for k in ("file", "sheet", "cell", "part")},
        }


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


def fault(code: str, *, error: type[MectkError] = SourceError, **context: Any) -> MectkError:
    """A fault of class ``error`` whose message and hint come from catalogue ``code``.

    ``context`` fills the templates; its ``file``, ``sheet``, ``cell`` and ``part`` keys
    also say where the fault is.
    """
    from mectk.issues import CATALOGUE, fill_template

    kind = CATALOGUE[code]
    return error(
        fill_template(kind.message, context),
        hint=fill_template(kind.hint, context),
        code=code,
        context={k: v for k, v in context.items() if k in ("file", "sheet", "cell", "part")},
    )
