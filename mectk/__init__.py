"""mectk: the micro-enterprise community toolkit.

Public API for plugin authors: import from here and from these documented modules,
never from others:

* :mod:`mectk.metrics`: measures, periods' year to date, suppression, current records;
* :mod:`mectk.periods`: parsing ``2025-26``, ``2025-26-Q2`` and date ranges;
* :mod:`mectk.reportkit`: writing report workbooks safely (text stays text, atomic saves);
* :mod:`mectk.textsafety`: formula-safe CSV;
* :mod:`mectk.mapping`: loading mapping files and reading with them (for a reader that
  adds to what a mapping can say);
* :mod:`mectk.coerce`: turning cell values into dates, numbers and text as mectk does.

:func:`write_canonical_workbook` writes the canonical workbook (programme settings,
targets, records, spend lines), for example the sample files a plugin contributes to
``mectk demo``.

:data:`PUBLIC_MODULES` lists them; a test holds the bundled plugins to it.
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
    SampleFile,
    SampleSpec,
)
from mectk.template import write_workbook as write_canonical_workbook

PUBLIC_MODULES = (
    "mectk.metrics",
    "mectk.periods",
    "mectk.reportkit",
    "mectk.textsafety",
    "mectk.mapping",
    "mectk.coerce",
)
"""Modules besides ``mectk`` itself that plugins may import (their documented names)."""

__all__ = [
    "PUBLIC_MODULES",
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
    "SampleFile",
    "SampleSpec",
    "Source",
    "SourceError",
    "SourceRow",
    "UsageError",
    "__version__",
    "build_registry",
    "hookimpl",
    "make_issue",
    "make_plugin_manager",
    "write_canonical_workbook",
]
