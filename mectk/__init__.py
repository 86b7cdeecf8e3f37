"""mectk: the micro-enterprise community toolkit.

Public API for plugin authors: import from here, never from private modules.
"""

from __future__ import annotations

__version__ = "0.1.0"

from mectk.errors import MectkError, PluginError, SourceError, UsageError
from mectk.hookspecs import hookimpl
from mectk.issues import Issue, make_issue
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.sources import BlankRow, CellRef, ReadItem, ReadOptions, Source, SourceRow
from mectk.specs import (
    AcceptedRecord,
    CheckContext,
    CheckSpec,
    MappingSpec,
    ReaderSpec,
    ReportContext,
    ReportFormatSpec,
)

__all__ = [
    "AcceptedRecord",
    "BlankRow",
    "CellRef",
    "CheckContext",
    "CheckSpec",
    "Issue",
    "MappingSpec",
    "MectkError",
    "PluginError",
    "ReadItem",
    "ReadOptions",
    "ReaderSpec",
    "ReportContext",
    "ReportFormatSpec",
    "Source",
    "SourceError",
    "SourceRow",
    "UsageError",
    "__version__",
    "build_registry",
    "hookimpl",
    "make_issue",
    "make_plugin_manager",
]
