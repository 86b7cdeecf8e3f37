"""The ``mectk`` command line: thin wrappers that call the engines and map faults to exits.

People read rich output on stderr; ``--json`` prints one JSON document on stdout.
Exit codes: 0 valid, 1 data errors, 2 usage, 3 unreadable input, 4 internal or plugin.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape
from rich.table import Table

from mectk import __version__
from mectk.cli_exchange import add_exchange_commands
from mectk.cli_plugin import add_plugin_commands
from mectk.cli_register import add_register_commands
from mectk.cli_report import add_report_commands
from mectk.cli_support import err_console, guarded, print_json
from mectk.cli_web import add_web_commands
from mectk.errors import UsageError
from mectk.plugin_manager import Registry, build_registry, make_plugin_manager
from mectk.sources import ReadOptions
from mectk.validation import ValidationResult

F = TypeVar("F", bound=Callable[..., Any])
EXIT_OK, EXIT_DATA = 0, 1
LIMITS_KEY = "mectk.limits"


def _registry() -> Registry:
    return build_registry(make_plugin_manager())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mectk")
@click.option("--debug", is_flag=True, help="Show tracebacks for faults.")
def cli(debug: bool) -> None:
    """mectk: council spreadsheets in, validated records, reports and exchange files out."""


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@guarded
def plugins_command(as_json: bool) -> None:
    """List installed plugins: distribution, version, what each registered, and its hooks."""
    infos = _registry().plugins()
    if as_json:
        print_json({"plugins": [p.as_json() for p in infos]})
        return
    table = Table("plugin", "distribution", "version", "registers", "hooks")
    for p in infos:
        registers = (
            ("formats", p.readers),
            ("checks", p.checks),
            ("reports", p.report_formats),
            ("samples", p.samples),
        )
        table.add_row(
            escape(p.name),
            escape(p.distribution),
            escape(p.version),
            escape("; ".join(f"{what}: {', '.join(names)}" for what, names in registers if names)),
            ", ".join(h.removeprefix("mectk_") for h in p.hooks),
        )
    err_console().print(table)


@cli.command("formats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@guarded
def formats_command(as_json: bool) -> None:
    """List input formats (readers), report formats and checks by name."""
    registry = _registry()
    readers: list[dict[str, Any]] = [
        {
            "name": n,
            "title": r.spec.title,
            "plugin": r.plugin,
            "source_types": list(r.spec.source_types),
            "record_kinds": list(r.spec.record_kinds),
            "description": r.spec.description,
        }
        for n, r in sorted(registry.readers.items())
    ]
    checks: list[dict[str, Any]] = [
        {
            "name": n,
            "title": r.spec.title,
            "plugin": r.plugin,
            "codes": list(r.spec.codes),
            "category": r.spec.category,
            "importance": r.spec.importance,
        }
        for n, r in sorted(registry.checks.items())
    ]
    reports: list[dict[str, Any]] = [
        {
            "name": n,
            "title": r.spec.title,
            "plugin": r.plugin,
            "extensions": list(r.spec.extensions),
        }
        for n, r in sorted(registry.report_formats.items())
    ]
    if as_json:
        print_json({"readers": readers, "reports": reports, "checks": checks})
        return
    table = Table("kind", "name", "plugin", "title")
    for reader in readers:
        title = " - ".join(t for t in (reader["title"], reader["description"]) if t)
        table.add_row("reader", reader["name"], reader["plugin"], escape(title))
    for report in reports:
        title = f"{report['title']} ({', '.join(report['extensions'])})"
        table.add_row("report", report["name"], report["plugin"], escape(title))
    for check in checks:
        table.add_row("check", check["name"], check["plugin"], escape(check["title"]))
    err_console().print(table)


@cli.command("template")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@guarded
def template_command(out: Path) -> None:
    """Write a blank canonical workbook to OUT.xlsx."""
    from mectk.template import write_workbook

    write_workbook(out)
    err_console().print(f"wrote {escape(str(out))}")


def _limits_option(context: click.Context, _: click.Parameter, pairs: tuple[str, ...]) -> None:
    """Store the run's :class:`~mectk.limits.Limits` (env, then ``--limit``) for
    :func:`_reading_setup`."""
    from mectk.limits import Limits

    changes: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(
                f"'{pair}' is not NAME=VALUE", param_hint="--limit or MECTK_LIMITS_*"
            )
        changes[name] = value
    try:
        context.meta[LIMITS_KEY] = Limits.from_env(os.environ).with_overrides(changes)
    except UsageError as exc:
        raise click.BadParameter(exc.message, param_hint="--limit or MECTK_LIMITS_*") from exc


def read_options(function: F) -> F:
    """The options shared by every command that reads input files."""
    options = [
        click.option(
            "--format",
            "format_name",
            metavar="NAME",
            help="Input format (see mectk formats); identified from the file if omitted.",
        ),
        click.option(
            "--mapping",
            "mapping_file",
            metavar="FILE.toml",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Read the files by this mapping file (docs/mapping-files.md).",
        ),
        click.option(
            "--period",
            metavar="P",
            help="Reporting period (2025-26, 2025-26-Q2 or START..END); snapshot "
            "columns without a date are dated at its end (without it, at the end of the "
            "quarter a file's name gives, such as 2025-26 Q2).",
        ),
        click.option(
            "--encoding",
            metavar="NAME",
            help="Text encoding of CSV files (default: UTF-8, else Windows-1252).",
        ),
        click.option(
            "--limit",
            "limits",
            metavar="NAME=VALUE",
            multiple=True,
            expose_value=False,
            callback=_limits_option,
            help="Change a reading limit, such as archive_bytes=500MB or sheets=2000 "
            "(docs/limits.md; env MECTK_LIMITS_NAME). Repeatable.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@cli.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, exists=False))
@read_options
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report on stdout.")
@click.option(
    "--annotate",
    "annotate_out",
    metavar="OUT.xlsx",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a copy of the workbook with bad cells marked and an Issues sheet.",
)
@click.option(
    "--max-errors",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="JSON: list at most N issues (counts stay complete). Terminal: show N examples "
    "of each issue code (default 3).",
)
@guarded
def validate_command(
    files: tuple[Path, ...],
    format_name: str | None,
    mapping_file: Path | None,
    period: str | None,
    encoding: str | None,
    as_json: bool,
    annotate_out: Path | None,
    max_errors: int | None,
) -> None:
    """Read and validate FILES, changing nothing. Exit 1 when the data has errors."""
    from mectk.pipeline import validate_files

    registry, format_name, options = _reading_setup(format_name, mapping_file, period, encoding)
    if annotate_out is not None and len(files) != 1:
        msg = "--annotate takes exactly one input file"
        raise UsageError(msg)
    if annotate_out is not None and (not annotate_out.name or annotate_out.is_dir()):
        msg = f"--annotate needs a file name, not '{annotate_out}'"
        raise UsageError(msg, hint="For example: --annotate checked.xlsx")
    result = validate_files(registry, files, format_name=format_name, options=options)
    if annotate_out is not None:
        _annotate(files[0], result, annotate_out)
    if as_json:
        result.write_json(sys.stdout, version=__version__, max_issues=max_errors)
        sys.stdout.write("\n")
    else:
        render_result(result, max_errors if max_errors is not None else 3)
    sys.exit(EXIT_OK if result.valid else EXIT_DATA)


def _reading_setup(
    format_name: str | None, mapping_file: Path | None, period: str | None, encoding: str | None
) -> tuple[Registry, str | None, ReadOptions]:
    from mectk.mapping import load_mapping
    from mectk.periods import parse_period

    registry = _registry()
    if mapping_file is not None:
        mapping = load_mapping(mapping_file)
        if format_name is not None and format_name != mapping.format:
            msg = (
                f"--mapping reads the '{mapping.format}' format, but --format names "
                f"'{format_name}'; give one or the other"
            )
            raise UsageError(msg)
        registry = registry.with_mapping(mapping)
        format_name = mapping.format
    as_at = parse_period(period).end if period is not None else None
    limits = click.get_current_context().meta.get(LIMITS_KEY)
    if limits is None:
        from mectk.limits import Limits

        limits = Limits.from_env(os.environ)
    return registry, format_name, ReadOptions(encoding=encoding, as_at=as_at, limits=limits)


def _annotate(source: Path, result: ValidationResult, out: Path) -> None:
    from mectk.annotate import write_annotated_copy

    summary = write_annotated_copy(source, result.issues, out, file_name=source.name)
    console = err_console()
    console.print(
        f"annotated copy: {escape(str(out))} ({summary.cells_marked} cells marked, "
        f"{summary.issues_listed} issues listed)"
    )
    for note in summary.notes:
        console.print(f"[dim]note:[/] {escape(note)}")


def render_result(result: ValidationResult, examples: int) -> None:
    """Print counts, then issues grouped by code with their first ``examples``, on stderr."""
    console = err_console()
    for f in result.files:
        console.print(f"[bold]{escape(f.path)}[/] read as [cyan]{escape(f.format)}[/]")
    console.print(
        f"rows read {result.rows_read}: [green]accepted {result.accepted}[/], "
        f"[red]rejected {result.rejected}[/]; blank rows {result.blank_rows}, "
        f"skipped rows {result.skipped_rows}"
    )
    groups: dict[str, list[Any]] = {}  # the first examples of each code, not every issue
    for issue in result.issues:
        shown = groups.setdefault(issue.code, [])
        if len(shown) < max(examples, 1):
            shown.append(issue)
    totals = result.issues.counts()
    order = {"error": 0, "warning": 1, "info": 2}
    for code, issues in sorted(groups.items(), key=lambda g: (order[g[1][0].severity], g[0])):
        first = issues[0]
        colour = {"error": "red", "warning": "yellow", "info": "blue"}[first.severity]
        table = Table(
            title=f"[{colour}]{first.severity}[/] {escape(code)}: {totals[code]}",
            title_justify="left",
            show_edge=False,
        )
        for heading in ("where", "record", "message"):
            table.add_column(heading)
        for issue in issues[:examples]:
            place = issue.cell or (f"row {issue.row}" if issue.row else None)
            where = "!".join(str(p) for p in (issue.file, issue.sheet, place) if p)
            table.add_row(escape(where), escape(issue.record_id or ""), escape(issue.message))
        console.print(table)
        console.print(f"  [dim]hint:[/] {escape(first.hint)}")
        if totals[code] > examples:
            console.print(f"  ... and {totals[code] - examples} more (--json lists them all)")
    console.print("[green]valid[/]" if result.valid else "[red]the data has errors[/]")


@cli.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("mectk-demo"),
    show_default=True,
    help="Folder for the demo output: one folder per sample inside it.",
)
@guarded
def demo_command(out: Path) -> None:
    """Run the main job on every installed plugin's sample data, into --out.

    For each sample: validate its files, write reports and annotated copies, import them
    into the sample's own register and write its reports; then list every output.
    """
    from mectk.demo import run_demo

    run_demo(out, _registry(), err_console())


add_register_commands(cli)
add_report_commands(cli)
add_plugin_commands(cli)
add_web_commands(cli)
add_exchange_commands(cli)


def main() -> None:
    """Entry point of the ``mectk`` script."""
    cli(prog_name="mectk")
