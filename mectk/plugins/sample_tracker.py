"""Built-in plugin ``sample-tracker``: a simplified county tracker for ``mectk demo``.

It ships the mapping file ``mectk/samples/county-tracker.toml`` (format
``sample-county-tracker``, used only when named: it has no ``identify`` section, so it never
claims a council's real tracker) and a sample tracker written by code, with planted
mistakes. It shows a council layout read by a mapping file alone.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from mectk.hookspecs import hookimpl
from mectk.specs import MappingSpec, SampleFile, SampleSpec

MAPPING_FILE = "county-tracker.toml"


def write_sample(folder: Path) -> list[SampleFile]:
    """The sample council tracker, to be read by the bundled mapping file."""
    from mectk.sample_data import write_tracker_sample

    return write_tracker_sample(folder)


@hookimpl
def mectk_register_mappings() -> list[MappingSpec]:
    """Register the sample tracker's mapping file."""
    return [MappingSpec(resources.files("mectk") / "samples" / MAPPING_FILE)]


@hookimpl
def mectk_register_samples() -> list[SampleSpec]:
    """Contribute the sample council tracker to ``mectk demo``."""
    return [
        SampleSpec(
            name="sample-tracker",
            title="A simplified county tracker read by a mapping file, five quirks planted",
            write=write_sample,
            reports=("summary",),
            periods=("2025-26-Q1",),
        )
    ]
