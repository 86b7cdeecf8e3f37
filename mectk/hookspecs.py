"""Every hook a mectk plugin can implement.

Plugins are found through the ``mectk`` entry-point group and implement hooks with
:data:`hookimpl`::

    # pyproject.toml
    [project.entry-points.mectk]
    leeds = "mectk_leeds"

    # mectk_leeds/__init__.py
    from mectk import hookimpl, ReaderSpec

    @hookimpl
    def mectk_register_readers():
        return [ReaderSpec(name="leeds-tracker", title="Leeds tracker", read=read_tracker)]

Hooks are called with keyword arguments only; an implementation may accept fewer
arguments than the spec (pluggy's opt-in arguments). Hooks only ever gain parameters.
There are no per-row hooks.
"""

from __future__ import annotations

import pluggy

from mectk.sources import Source
from mectk.specs import CheckSpec, MappingSpec, ReaderSpec, ReportFormatSpec, SampleSpec

PROJECT_NAME = "mectk"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marker for plugin hook implementations: ``@hookimpl``."""

# ---------------------------------------------------------------------------------------
# registration: called once when the registry is built; every result is collected
# ---------------------------------------------------------------------------------------


@hookspec
def mectk_register_readers() -> list[ReaderSpec]:  # type: ignore[empty-body]
    """Return the input formats this plugin reads.

    Called once per run, when mectk builds its registry. Every implementation is called
    and the lists are joined. A format name registered by two plugins is an error that
    names both plugins.

    :returns: a list of :class:`mectk.ReaderSpec` (empty if none).

    .. versionadded:: 0.1
    """


@hookspec
def mectk_register_checks() -> list[CheckSpec]:  # type: ignore[empty-body]
    """Return cross-record checks that run after schema validation.

    Called once per run; every implementation is called and the lists joined. Check
    names must be unique across plugins.

    :returns: a list of :class:`mectk.CheckSpec` (empty if none).

    .. versionadded:: 0.1
    """


@hookspec
def mectk_register_mappings() -> list[MappingSpec]:  # type: ignore[empty-body]
    """Return mapping files (TOML) this plugin ships; each becomes an input format.

    Called once per run; every implementation is called and the lists joined. Each file
    is checked as ``mectk validate --mapping`` checks it, and its ``format`` name must be
    unique across plugins. A mapping's ``identify`` section lets mectk pick it for a file
    when no ``--format`` is given.

    :returns: a list of :class:`mectk.MappingSpec` (empty if none).

    .. versionadded:: 0.1
    """


@hookspec
def mectk_register_report_formats() -> list[ReportFormatSpec]:  # type: ignore[empty-body]
    """Return the reports this plugin writes (``mectk report NAME``).

    Called once per run; every implementation is called and the lists joined. A report
    name registered by two plugins is an error that names both plugins. A report's
    ``write`` receives a :class:`mectk.ReportContext` (computed metrics, programme
    settings and the period, never records or spreadsheets) and must apply small-number
    suppression to what it writes.

    :returns: a list of :class:`mectk.ReportFormatSpec` (empty if none).

    .. versionadded:: 0.1
    """


@hookspec
def mectk_register_samples() -> list[SampleSpec]:  # type: ignore[empty-body]
    """Return sample data this plugin contributes to ``mectk demo``.

    Called once per run; every implementation is called and the lists joined. A sample
    name registered by two plugins is an error that names both plugins. The demo calls
    each sample's ``write`` with a fresh folder, reads and imports the files it returns
    into that sample's own register, then writes the sample's ``reports`` for each of its
    ``periods``.

    :returns: a list of :class:`mectk.SampleSpec` (empty if none).

    .. versionadded:: 0.2
    """


# ---------------------------------------------------------------------------------------
# resolution: stops at the first non-None result
# ---------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def mectk_identify_reader(source: Source) -> str | None:
    """Name the registered reader that recognises ``source``, or return None.

    Called when the user gives no ``--format``. ``source`` has been sniffed from its
    content (``source.source_type``, ``source.sheet_names``, ``source.head``). Return a
    format name only when sure; a file that is not yours gives None, never an exception.
    Stops at the first non-None result.

    :param source: the sniffed input file.
    :returns: a registered reader name, or None.

    .. versionadded:: 0.1
    """
