"""mectk_countyshire: Countyshire County Council's formats for mectk.

* input format ``county-tracker``: the CME tracker (domain.md 4.4), read by a mapping file
  plus the Python in :mod:`mectk_countyshire.tracker`;
* report ``quarterly-return``: the Quarterly Monitoring Return (domain.md 4.1), in
  :mod:`mectk_countyshire.quarterly_return`;
* sample data for ``mectk demo``: programme settings and the Q1 and Q2 trackers of 2025-26.

Only mectk's public API is used (``mectk`` and the modules in ``mectk.PUBLIC_MODULES``).
"""

from __future__ import annotations

from mectk import ReaderSpec, ReportFormatSpec, SampleSpec, Source, hookimpl
from mectk_countyshire.quarterly_return import REPORT_NAME, write_quarterly_return
from mectk_countyshire.samples import write_samples
from mectk_countyshire.tracker import FORMAT_NAME, identify, read_tracker, tracker_mapping

__version__ = "0.1.0"


@hookimpl
def mectk_register_readers() -> list[ReaderSpec]:
    """Register the ``county-tracker`` input format."""
    return [
        ReaderSpec(
            name=FORMAT_NAME,
            title=tracker_mapping().title,
            read=read_tracker,
            source_types=("xlsx",),
            record_kinds=("enterprise", "outcome"),
            description="Countyshire's CME tracker: mapping file county-tracker.toml plus "
            "status, services and events in Python.",
        )
    ]


@hookimpl
def mectk_identify_reader(source: Source) -> str | None:
    """Claim workbooks with a Tracker sheet holding the tracker's own headings."""
    return FORMAT_NAME if identify(source) else None


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
