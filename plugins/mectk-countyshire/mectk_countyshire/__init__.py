"""mectk_countyshire: Countyshire County Council's formats for mectk.

* input format ``county-tracker``: the CME tracker (domain.md 4.4), read by the mapping file
  ``county-tracker.toml`` refined by :func:`mectk_countyshire.tracker.refine`; mectk picks
  it by the mapping's ``identify`` section when no ``--format`` is given;
* report ``quarterly-return``: the Quarterly Monitoring Return (domain.md 4.1), in
  :mod:`mectk_countyshire.quarterly_return`;
* sample data for ``mectk demo``: programme settings and the Q1 and Q2 trackers of 2025-26.

Only mectk's public API is used (``mectk`` and the modules in ``mectk.PUBLIC_MODULES``).
"""

from __future__ import annotations

from importlib import resources

from mectk import MappingSpec, ReportFormatSpec, SampleSpec, hookimpl
from mectk_countyshire.quarterly_return import REPORT_NAME, write_quarterly_return
from mectk_countyshire.samples import write_samples
from mectk_countyshire.tracker import MAPPING_FILE, refine

__version__ = "0.1.0"


@hookimpl
def mectk_register_mappings() -> list[MappingSpec]:
    """The ``county-tracker`` layout, refined by :func:`~mectk_countyshire.tracker.refine`."""
    return [MappingSpec(resources.files("mectk_countyshire") / MAPPING_FILE, refine=refine)]


@hookimpl
def mectk_register_report_formats() -> list[ReportFormatSpec]:
    """Register the ``quarterly-return`` report."""
    return [
        ReportFormatSpec(
            name=REPORT_NAME,
            title="Countyshire Quarterly Monitoring Return (Cover, Summary, By_Locality, "
            "Enterprise_List for the council, Notes)",
            extensions=("xlsx",),
            write=write_quarterly_return,
        )
    ]


@hookimpl
def mectk_register_samples() -> list[SampleSpec]:
    """Contribute Countyshire's settings and Q1 and Q2 trackers to ``mectk demo``."""
    return [
        SampleSpec(
            name="countyshire",
            title="Countyshire County Council: CME tracker, Q1 and Q2 2025-26",
            write=write_samples,
            reports=(REPORT_NAME,),
            periods=("2025-26-Q2", "2025-26"),
        )
    ]
