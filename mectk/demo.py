"""``mectk demo``: the main job, end to end, on the sample data every plugin contributes.

Every sample registered through ``mectk_register_samples`` runs in name order, each in
its own folder ``<out>/<sample name>/``, rebuilt on every run:

1. the sample's files are written there by its plugin;
2. each file is validated with its format (or, without one, the format that identifies
   it) and its read options; its JSON validation report is written beside it and, for a
   workbook with errors, an annotated copy; each planted mistake is shown found or MISSED;
3. each file is imported as one batch into the sample's own register, ``mectk.db``;
4. each of the sample's reports is written for each of its periods;
5. an exchange package of the register is written, personal data left out, and verified
   as a partner receiving it would.

Every step adds the files it wrote to the sample's :class:`Output` list, and the demo
ends with a table of them all. A sample that fails is reported and the others still run;
the demo then fails naming it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from attrs import define, field, frozen
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mectk import __version__
from mectk.errors import MectkError, PluginError, UsageError
from mectk.jsonio import write_json
from mectk.periods import Period, parse_period
from mectk.plugin_manager import Registered, Registry
from mectk.specs import SampleFile, SampleSpec
from mectk.validation import ValidationResult

MARKER = ".mectk-demo"
"""Written into each sample folder; only folders holding it are ever cleared."""
REGISTER = "mectk.db"
PACKAGE = "exchange-package.zip"
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ANNOTATABLE = ("xlsx", "xlsm")


@frozen
class Output:
    """One file the demo wrote: what it is, where, and a short note (counts, why not)."""

    what: str
    path: Path | None
    note: str = ""


@frozen
class Planted:
    """A mistake a plugin planted in a sample file, and whether validation found it."""

    file: str
    code: str
    what: str
    found: bool


@define
class SampleRun:
    """What the demo did with one sample; ``error`` says why when the sample failed, and
    ``fault`` is the exception (chained to the demo's own, so ``--debug`` shows it)."""

    name: str
    plugin: str
    folder: Path
    outputs: list[Output] = field(factory=list)
    results: list[tuple[SampleFile, ValidationResult]] = field(factory=list)
    planted: list[Planted] = field(factory=list)
    error: str | None = None
    fault: MectkError | None = field(default=None, repr=False)


def run_demo(out: Path, registry: Registry, console: Console) -> list[SampleRun]:
    """Run every registered sample into ``out`` and print a summary of every output.

    Raises :class:`UsageError` when no plugin contributes a sample or ``out`` cannot be
    used, and :class:`PluginError` naming the samples that failed, after the others ran.
    """
    if not registry.samples:
        msg = "no installed plugin contributes sample data to the demo"
        raise UsageError(msg, hint="Check MECTK_DISABLE_PLUGINS, and mectk plugins.")
    if out.exists() and not out.is_dir():
        msg = f"--out {out} is a file, not a folder"
        raise UsageError(msg, hint="Give a folder for the demo's output.")
    console.print(
        f"[bold]mectk demo[/] {__version__}: {len(registry.samples)} sample(s) into "
        f"{escape(str(out))}"
    )
    runs = [
        _run_sample(out, registered, registry, console)
        for _, registered in sorted(registry.samples.items())
    ]
    _print_summary(runs, console)
    failed = [r for r in runs if r.error is not None]
    if failed:
        names = ", ".join(f"'{r.name}' (plugin '{r.plugin}')" for r in failed)
        msg = f"{len(failed)} sample(s) failed: {names}"
        hint = "See the error above each; the other samples ran."
        raise PluginError(msg, hint=hint) from failed[0].fault
    return runs


def _run_sample(
    out: Path, registered: Registered[SampleSpec], registry: Registry, console: Console
) -> SampleRun:
    spec, plugin = registered.spec, registered.plugin
    run = SampleRun(name=spec.name, plugin=plugin, folder=out / spec.name)
    console.print(f"\n[bold]{escape(spec.name)}[/] ({escape(plugin)}): {escape(spec.title)}")
    try:
        _check_name(spec.name, plugin)
        _fresh_folder(run.folder)
        files, others = _write_files(spec, plugin, run.folder)
        db = run.folder / REGISTER
        for file in files:
            result = _validate(registry, file, run, console)
            _import(registry, db, result)
        run.outputs.extend(Output("also written", path, "not imported") for path in others)
        _register_output(db, run, console)
        _write_reports(spec, registry, db, run, console)
        _write_package(db, run, console)
    except MectkError as exc:
        run.error, run.fault = exc.message, exc
        console.print(f"[bold red]sample {escape(spec.name)} failed:[/] {escape(exc.message)}")
        if exc.hint:
            console.print(f"[dim]hint:[/] {escape(exc.hint)}")
    return run


def _check_name(name: str, plugin: str) -> None:
    if not _NAME.match(name):
        msg = (
            f"plugin '{plugin}' registered the sample name {name!r}; a sample name is "
            "lower-case letters, digits and single hyphens (it names a folder)"
        )
        raise PluginError(msg)


def _fresh_folder(folder: Path) -> None:
    """Empty ``folder`` for the sample, removing it only if an earlier demo wrote it."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        msg = f"{folder} is in the way of the demo and is not a folder it wrote"
        raise UsageError(msg, hint="Move it away, or give --out another folder.")
    if folder.exists():
        if not (folder / MARKER).is_file() and any(folder.iterdir()):
            msg = f"{folder} already exists and was not written by mectk demo"
            raise UsageError(msg, hint="Move it away, or give --out another folder.")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text(
        "Written by mectk demo, which rebuilds this folder on every run.\n", encoding="utf-8"
    )


def _write_files(
    spec: SampleSpec, plugin: str, folder: Path
) -> tuple[list[SampleFile], list[Path]]:
    """The files the plugin wrote to import, and the others it wrote beside them."""
    try:
        files = list(spec.write(folder))
    except MectkError:
        raise
    except Exception as exc:
        msg = f"plugin '{plugin}' failed writing sample '{spec.name}': {exc!r}"
        raise PluginError(msg, hint="Run with --debug for the traceback.") from exc
    if not files:
        msg = f"plugin '{plugin}' wrote no sample files for sample '{spec.name}'"
        raise PluginError(msg, hint="A sample's write returns the files it wrote.")
    resolved = folder.resolve()
    for file in files:
        if not isinstance(file, SampleFile):
            msg = f"plugin '{plugin}' returned {type(file).__name__} for a sample file"
            raise PluginError(msg, hint="Return a list of mectk.SampleFile.")
        if resolved not in file.path.resolve().parents or not file.path.is_file():
            msg = f"plugin '{plugin}' returned {file.path}, not a file in the sample's folder"
            raise PluginError(msg)
    returned = {f.path.resolve() for f in files}
    others = [
        p for p in sorted(folder.iterdir()) if p.name != MARKER and p.resolve() not in returned
    ]
    return files, others


def _validate(
    registry: Registry, file: SampleFile, run: SampleRun, console: Console
) -> ValidationResult:
    from mectk.pipeline import validate_files

    result = validate_files(registry, [file.path], format_name=file.format, options=file.options)
    run.results.append((file, result))
    fmt = result.files[0].format
    counts = (
        f"{result.rows_read} records: {result.accepted} accepted, {result.rejected} rejected; "
        f"{result.blank_rows} blank, {result.skipped_rows} skipped rows"
    )
    run.outputs.append(
        Output("sample file", file.path, f"{result.accepted} accepted, {result.rejected} rejected")
    )
    console.print(f"{escape(file.path.name)} read as [cyan]{escape(fmt)}[/]: {counts}")
    found = {i.code for i in result.issues}
    for code, what in file.planted:
        planted = Planted(file.path.name, code, what, code in found)
        run.planted.append(planted)
        mark = "[green]found[/]" if planted.found else "[red]MISSED[/]"
        console.print(f"  {mark} {escape(code)}: {escape(what)}")
    report = file.path.with_name(f"{file.path.stem}-validation.json")
    write_json(report, result.as_json(version=__version__))
    errors = sum(1 for i in result.issues if i.severity == "error")
    run.outputs.append(Output("validation report", report, f"{len(result.issues)} issues"))
    if errors:
        run.outputs.append(_annotate(file.path, result, errors))
    return result


def _annotate(path: Path, result: ValidationResult, errors: int) -> Output:
    from mectk.annotate import write_annotated_copy
    from mectk.sniff import sniff

    source_type = sniff(path).source_type
    if source_type not in _ANNOTATABLE:
        return Output("annotated workbook", None, f"{errors} errors; none for a {source_type} file")
    annotated = path.with_name(f"{path.stem}-annotated.xlsx")
    summary = write_annotated_copy(path, result.issues, annotated, file_name=path.name)
    return Output("annotated workbook", annotated, f"{summary.cells_marked} cells marked")


def _import(registry: Registry, db: Path, result: ValidationResult) -> None:
    from mectk.register import import_result

    fmt = result.files[0].format
    mapping = registry.mappings.get(fmt)
    import_result(db, result, mapping=mapping.spec.origin if mapping else None)


def _register_output(db: Path, run: SampleRun, console: Console) -> None:
    from mectk.register import list_batches

    batches = list_batches(db)
    added = sum(b.counts.get("register", {}).get("new", 0) for b in batches)
    note = f"{len(batches)} batch(es), {added} records"
    run.outputs.append(Output("register", db, note))
    example = next(
        (
            record.model.enterprise_id
            for _, result in run.results
            for record in result.accepted_records
            if record.kind == "enterprise"
        ),
        None,
    )
    hint = f" (try: mectk show {example} --db {db})" if example else ""
    console.print(f"register {escape(str(db))}: {note}{escape(hint)}")


def _write_reports(
    spec: SampleSpec, registry: Registry, db: Path, run: SampleRun, console: Console
) -> None:
    from mectk.metrics import load_current, report_context

    if not spec.reports:
        return
    periods = [_period(label, spec, run.plugin) for label in spec.periods]
    records = load_current(db)
    for name in spec.reports:
        found = registry.report_formats.get(name)
        if found is None:
            run.outputs.append(Output(f"report {name}", None, "not installed: skipped"))
            console.print(f"[yellow]report {escape(name)} is not installed: skipped[/]")
            continue
        for period in periods:
            target = run.folder / f"report-{name}-{period.label}.{found.spec.extensions[0]}"
            try:
                found.spec.write(report_context(records, period), target)
            except MectkError:
                raise
            except Exception as exc:
                msg = f"plugin '{found.plugin}' failed writing report '{name}': {exc!r}"
                raise PluginError(msg, hint="Run with --debug for the traceback.") from exc
            run.outputs.append(Output(f"report {name}", target, period.label))
            console.print(
                f"report {escape(name)} for {escape(period.label)}: {escape(str(target))}"
            )


def _write_package(db: Path, run: SampleRun, console: Console) -> None:
    """Export the sample's register as a package without personal data, and verify it."""
    from mectk.exchange import export_package, verify_package
    from mectk.metrics import load_current

    target = run.folder / PACKAGE
    # a sample without programme settings has no delivery organisation to name
    producer = None if load_current(db).programme else f"mectk demo sample '{run.name}'"
    exported = export_package(db, target, producer=producer)
    verified = verify_package(target)
    if not verified.valid:
        codes = ", ".join(sorted({i.code for i in verified.issues}))
        msg = f"the demo's own exchange package {target} did not verify ({codes})"
        raise MectkError(msg, hint="Run mectk verify on it to see every issue.")
    records = sum(exported.counts.values())
    personal = "with" if exported.personal_fields_included else "no"
    note = f"{records} records, {personal} personal data, verified"
    run.outputs.append(Output("exchange package", target, note))
    console.print(f"exchange package {escape(str(target))}: {note}")


def _period(label: str, spec: SampleSpec, plugin: str) -> Period:
    try:
        return parse_period(label)
    except UsageError as exc:
        msg = (
            f"plugin '{plugin}' lists the period {label!r} for sample '{spec.name}': {exc.message}"
        )
        raise PluginError(msg) from exc


def _print_summary(runs: Sequence[SampleRun], console: Console) -> None:
    """One row per output: each sample's folder, then its files by name within it."""
    table = Table(
        "sample", "output", "file", "notes", title="mectk demo outputs", title_justify="left"
    )
    table.columns[2].overflow = "fold"  # a path is never cut short
    for run in runs:
        table.add_row(escape(run.name), "folder", escape(f"{run.folder}/"), escape(run.plugin))
        if run.error is not None:
            table.add_row("", "[red]failed[/]", "", escape(run.error))
            continue
        for output in run.outputs:
            where = "-" if output.path is None else _within(output.path, run.folder)
            table.add_row("", escape(output.what), escape(where), escape(output.note))
        if run.planted:
            missed = sum(1 for p in run.planted if not p.found)
            status = f"{len(run.planted) - missed} of {len(run.planted)} found"
            table.add_row("", "planted mistakes", "", f"[red]{status}[/]" if missed else status)
    console.print()
    console.print(table)


def _within(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)
