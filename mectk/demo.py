"""``mectk demo``: the main job on bundled sample data, end to end."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

from rich.console import Console

from mectk import __version__
from mectk.annotate import write_annotated_copy
from mectk.jsonio import write_json
from mectk.mapping import load_mapping
from mectk.pipeline import validate_files
from mectk.plugin_manager import Registry
from mectk.sample_data import PLANTED_ISSUES, TRACKER_PLANTED, sample_rows, write_council_tracker
from mectk.sources import ReadOptions
from mectk.template import write_workbook
from mectk.validation import ValidationResult

DEMO_PERIOD = "2025-26-Q1"
"""The quarter the bundled sample data describes."""


def run_demo(out: Path, registry: Registry, console: Console) -> ValidationResult:
    """Write the sample workbook and a blank template into ``out``, validate the sample,
    write its JSON report, and print what was found against what was planted.
    """
    out.mkdir(parents=True, exist_ok=True)
    sample = out / "sample-canonical.xlsx"
    write_workbook(sample, sample_rows())
    write_workbook(out / "template.xlsx")
    result = validate_files(registry, [sample])
    report = out / "validation-report.json"
    write_json(report, result.as_json(version=__version__))
    console.print(f"[bold]mectk demo[/] {__version__}: sample data written to {sample}")
    console.print(
        f"validated {result.rows_read} rows: {result.accepted} accepted, {result.rejected} "
        f"rejected, {result.blank_rows} blank; records {result.record_counts()}"
    )
    _planted(result, PLANTED_ISSUES, console)
    console.print(f"report: {report}")
    console.print(f"blank template: {out / 'template.xlsx'}")
    tracker = _council_tracker(out, registry, console)
    db = _register(out, [(result, None), (tracker, "county-tracker.toml")], console)
    _reports(out, db, registry, console)
    return result


def _register(
    out: Path, results: list[tuple[ValidationResult, str | None]], console: Console
) -> Path:
    """Import the accepted records into a fresh register in ``out``, one batch per file;
    return the register's path."""
    from mectk.register import import_result, list_batches

    db = out / "mectk.db"
    db.unlink(missing_ok=True)  # the demo's own register, rebuilt on every run
    for result, mapping in results:
        import_result(db, result, mapping=mapping)
    for batch in list_batches(db):
        added = batch.counts.get("register", {}).get("new", 0)
        console.print(f"register batch {batch.id}: {batch.format}, {added} records added")
    console.print(f"register: {db} (try: mectk show CS-0001 --db {db})")
    return db


def _reports(out: Path, db: Path, registry: Registry, console: Console) -> None:
    """Write every installed report format for the sample's first quarter."""
    from mectk.metrics.context import report_context
    from mectk.metrics.records import load_current
    from mectk.periods import parse_period

    period = parse_period(DEMO_PERIOD)
    context = report_context(load_current(db), period)
    for name, registered in sorted(registry.report_formats.items()):
        target = out / f"report-{name}-{period.label}.{registered.spec.extensions[0]}"
        registered.spec.write(context, target)
        console.print(f"report {name} ({registered.plugin}) for {period.label}: {target}")


def _council_tracker(out: Path, registry: Registry, console: Console) -> ValidationResult:
    """Read a council's own tracker layout through a bundled mapping file, and annotate it."""
    tracker = out / "sample-council-tracker.xlsx"
    write_council_tracker(tracker)
    mapping_file = resources.files("mectk") / "samples" / "county-tracker.toml"
    registry = registry.with_mapping(load_mapping(mapping_file), "demo")
    result = validate_files(registry, [tracker], options=ReadOptions(as_at=date(2025, 6, 30)))
    annotated = out / "sample-council-tracker-annotated.xlsx"
    write_annotated_copy(tracker, result.issues, annotated, file_name=tracker.name)
    report = out / "council-tracker-report.json"
    write_json(report, result.as_json(version=__version__))
    console.print(
        f"[bold]council tracker[/] {tracker} read by mapping {mapping_file.name}: "
        f"{result.rows_read} records, {result.accepted} accepted, {result.rejected} rejected, "
        f"{result.blank_rows} blank rows, {result.skipped_rows} skipped"
    )
    _planted(result, TRACKER_PLANTED, console)
    console.print(f"annotated copy: {annotated}; report: {report}")
    return result


def _planted(
    result: ValidationResult, planted: tuple[tuple[str, str], ...], console: Console
) -> None:
    """Say, for each planted mistake, whether validation found it."""
    found = {i.code for i in result.issues}
    for code, what in planted:
        mark = "[green]found[/]" if code in found else "[red]MISSED[/]"
        console.print(f"  {mark} {code}: {what}")
