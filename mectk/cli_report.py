"""Report command of the command line: ``mectk report NAME --period P -o OUT``.

:func:`add_report_commands` adds it to the ``mectk`` click group. It follows the CLI
contract of design.md section 5: people's output through rich on stderr, one JSON document
on stdout with ``--json``. An unknown report name, an output extension the report does not
write, a bad period or a missing register is exit 2; a report plugin that fails is exit 4
naming the plugin.

Faults go through :func:`mectk.cli_support.guarded`, like every other command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from mectk.cli_support import db_option, err_console, guarded, json_option, print_json
from mectk.errors import MectkError


def add_report_commands(group: click.Group) -> None:
    """Add ``report`` to ``group`` (the ``mectk`` CLI)."""

    @group.command("report")
    @click.argument("name")
    @click.option(
        "--period",
        required=True,
        metavar="P",
        help="2025-26, 2025-26-Q2 or 2025-04-01..2025-06-30.",
    )
    @db_option
    @click.option(
        "-o",
        "--output",
        "out",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The report file; its extension picks the file type.",
    )
    @click.option(
        "--profile",
        type=click.Choice(["external", "council"]),
        default="external",
        show_default=True,
        help="Who the report is for: external (suppressed, nothing listed) or council.",
    )
    @json_option
    @guarded
    def report_command(
        name: str, period: str, db: str, out: Path, profile: str, as_json: bool
    ) -> None:
        """Write report NAME for period P from the register into OUT."""
        from mectk.errors import PluginError, UsageError
        from mectk.metrics import load_current, report_context
        from mectk.periods import parse_period
        from mectk.plugin_manager import build_registry, make_plugin_manager

        registry = build_registry(make_plugin_manager())
        found = registry.report_formats.get(name)
        if found is None:
            known = ", ".join(sorted(registry.report_formats)) or "none"
            msg = f"there is no report called '{name}'"
            raise UsageError(msg, hint=f"Reports: {known}.")
        spec = found.spec
        extension = out.suffix.lower().lstrip(".")
        if extension not in spec.extensions:
            msg = f"-o {out}: the '{name}' report writes {', '.join(spec.extensions)} files"
            raise UsageError(msg, hint=f"Name the output file .{spec.extensions[0]}.")
        parsed = parse_period(period)
        records = load_current(db)
        context = report_context(
            records, parsed, profile="council" if profile == "council" else "external"
        )
        try:
            spec.write(context, out)
        except MectkError:
            raise
        except Exception as exc:
            msg = f"plugin '{found.plugin}' failed writing report '{name}': {exc!r}"
            raise PluginError(msg, hint="Run with --debug for the traceback.") from exc
        err_console().print(
            f"wrote report [bold]{escape(name)}[/] for {escape(parsed.label)} to {escape(str(out))}"
        )
        if as_json:
            document: dict[str, Any] = {
                "report": name,
                "plugin": found.plugin,
                "format": extension,
                "output": str(out),
                "period": {
                    "label": parsed.label,
                    "start": parsed.start.isoformat(),
                    "end": parsed.end.isoformat(),
                },
                "suppression_threshold": context.suppression_threshold,
                "profile": context.profile,
            }
            print_json(document)
