"""mectk-unitary: a unitary council's micro-provider register and its contract KPI scorecard.

* Input format ``unitary-register`` (domain.md 4.5): the mapping file
  ``unitary-register.toml`` plus :func:`mectk_unitary.refine.refine` for what a mapping
  cannot say; mectk picks it for a workbook with the Providers, Contacts, Events and
  Closures sheets when no ``--format`` is given.
* Report ``kpi-scorecard`` (domain.md 4.2): :mod:`mectk_unitary.scorecard`.
* Sample files for ``mectk demo``: :mod:`mectk_unitary.samples`.
"""

from __future__ import annotations

from importlib import resources

from mectk import MappingSpec, ReportFormatSpec, SampleSpec, hookimpl
from mectk_unitary.refine import refine
from mectk_unitary.samples import write_samples
from mectk_unitary.scorecard import NAME as SCORECARD
from mectk_unitary.scorecard import write_scorecard

FORMAT_NAME = "unitary-register"
MAPPING_FILE = "unitary-register.toml"


@hookimpl
def mectk_register_mappings() -> list[MappingSpec]:
    """The register workbook's layout, refined by :func:`~mectk_unitary.refine.refine`."""
    return [MappingSpec(resources.files("mectk_unitary") / MAPPING_FILE, refine=refine)]


@hookimpl
def mectk_register_report_formats() -> list[ReportFormatSpec]:
    """The contract KPI scorecard."""
    return [
        ReportFormatSpec(
            name=SCORECARD,
            title="Contract KPI scorecard (targets vs cumulative actuals, RAG)",
            extensions=("xlsx",),
            write=write_scorecard,
        )
    ]


@hookimpl
def mectk_register_samples() -> list[SampleSpec]:
    """The unitary council's settings and its Q1 and Q2 2025-26 workbooks."""
    return [
        SampleSpec(
            name="unitary",
            title="Unitary council: micro-provider register and KPI scorecard",
            write=write_samples,
            reports=(SCORECARD,),
            periods=("2025-26-Q2",),
        )
    ]
