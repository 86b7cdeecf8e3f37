"""Register commands of the command line: ``import``, ``batches``, ``show`` and ``diff``.

:func:`add_register_commands` adds them to the ``mectk`` click group. They follow the CLI
contract of design.md section 5: people's output through rich on stderr, one JSON
document on stdout with ``--json`` and nothing else there, and faults mapped to exit codes
by :func:`mectk.cli.guarded` (a refused re-import or a register too new is exit 2).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from mectk import __version__


def _short(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(map(str, value))
    return "" if value is None else str(value)


def add_register_commands(group: click.Group) -> None:
    """Add ``import``, ``batches``, ``show`` and ``diff`` to ``group`` (the ``mectk`` CLI)."""
    from mectk.cli import _reading_setup, read_options, render_result
    from mectk.cli_support import db_option, guarded, json_option
    from mectk.cli_support import err_console as _err
    from mectk.cli_support import print_json as _print_json

    @group.command("import")
    @click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
    @read_options
    @db_option
    @click.option("--force", is_flag=True, help="Import files already imported, as a new batch.")
    @json_option
    @guarded
    def import_command(
        files: tuple[Path, ...],
        format_name: str | None,
        mapping_file: Path | None,
        period: str | None,
        encoding: str | None,
        db: str,
        force: bool,
        as_json: bool,
    ) -> None:
        """Validate FILES and load the accepted records into the register as one batch.

        Exit 1 when the data has errors: the accepted records are still imported, the
        rejected rows are not.
        """
        from mectk.pipeline import validate_files
        from mectk.register import import_result, open_register

        registry, format_name, options = _reading_setup(format_name, mapping_file, period, encoding)
        engine = open_register(db)  # a register that cannot be used is refused before reading
        try:
            result = validate_files(registry, files, format_name=format_name, options=options)
            if not as_json:
                render_result(result, 3)
            mapping = mapping_file.name if mapping_file is not None else None
            batch = import_result(engine, result, force=force, mapping=mapping)
        finally:
            engine.dispose()
        console = _err()
        changes = batch.register_counts
        console.print(
            f"imported batch [bold]{batch.id}[/] into {escape(db)}: {changes['new']} new, "
            f"{changes['changed']} changed, {changes['unchanged']} unchanged records"
        )
        if not result.valid:
            console.print(
                f"[red]the data has errors:[/] the {result.accepted} accepted records were "
                f"imported; the {result.rejected} rejected rows were not"
            )
        if as_json:
            _print_json({**result.as_json(version=__version__), "batch": batch.as_json()})
        sys.exit(0 if result.valid else 1)

    @group.command("batches")
    @db_option
    @json_option
    @guarded
    def batches_command(db: str, as_json: bool) -> None:
        """List the import batches in the register, oldest first."""
        from mectk.register import list_batches

        found = list_batches(db)
        if as_json:
            _print_json({"batches": [b.as_json() for b in found]})
            return
        table = Table(
            "batch",
            "created (UTC)",
            "source",
            "format",
            "files",
            "new",
            "changed",
            "unchanged",
            "status",
        )
        for b in found:
            counts = b.register_counts
            table.add_row(
                str(b.id),
                b.created_at,
                b.source,
                escape(b.format),
                escape(", ".join(Path(f.path).name for f in b.files)),
                str(counts["new"]),
                str(counts["changed"]),
                str(counts["unchanged"]),
                b.status,
            )
        console = _err()
        console.print(table if found else f"no batches in {escape(db)} yet")

    @group.command("show")
    @click.argument("enterprise_id")
    @db_option
    @click.option(
        "--include-personal", is_flag=True, help="Show personal-data fields instead of ***."
    )
    @json_option
    @guarded
    def show_command(enterprise_id: str, db: str, include_personal: bool, as_json: bool) -> None:
        """Show an enterprise: current state, each version with its batch, and its cells."""
        from mectk.register import enterprise_history

        history = enterprise_history(db, enterprise_id, include_personal=include_personal)
        if as_json:
            _print_json(history.as_json())
            return
        console = _err()
        current = Table(
            "field",
            "current value",
            title=f"enterprise {escape(enterprise_id)}",
            title_justify="left",
        )
        for name, value in history.current.items():
            current.add_row(escape(name), escape(_short(value)))
        console.print(current)
        created = {b.id: b for b in history.batches}
        versions = Table(
            "version", "batch", "from", "changed", title="history", title_justify="left"
        )
        for v in history.versions:
            batch = created.get(v.batch_id)
            where = "!".join(str(p) for p in (v.source_file, v.source_sheet, v.source_row) if p)
            what = (
                ", ".join(
                    f"{c.field}: {_short(c.old) or '-'} -> {_short(c.new) or '-'}"
                    for c in v.changed
                )
                if v.version > 1
                else "first seen"
            )
            versions.add_row(
                str(v.version),
                f"{v.batch_id} ({batch.created_at if batch else '?'})",
                escape(where),
                escape(what),
            )
        console.print(versions)
        if history.related:
            related = Table(
                "kind",
                "record",
                "version",
                "batch",
                "summary",
                title="related records",
                title_justify="left",
            )
            for r in history.related:
                summary = ", ".join(
                    f"{k}={_short(r.data.get(k))}"
                    for k in ("outcome_type", "value", "as_at_date", "episode_date", "amount_gbp")
                    if r.data.get(k) is not None
                )
                related.add_row(
                    r.kind, escape(r.record_id), str(r.version), str(r.batch_id), escape(summary)
                )
            console.print(related)
        if history.versions:
            last = history.versions[-1]
            cells = ", ".join(f"{k} {c}" for k, c in sorted(last.cells.items()))
            console.print(f"[dim]cells of the current version:[/] {escape(cells)}")

    @group.command("diff")
    @click.option(
        "--since",
        "since",
        type=int,
        required=True,
        metavar="BATCH",
        help="The batch to compare the current state with.",
    )
    @db_option
    @click.option(
        "--include-personal", is_flag=True, help="Show personal-data fields instead of ***."
    )
    @json_option
    @guarded
    def diff_command(since: int, db: str, include_personal: bool, as_json: bool) -> None:
        """Enterprises added, changed (field by field) and closed since batch BATCH."""
        from mectk.register import diff_since

        diff = diff_since(db, since, include_personal=include_personal)
        if as_json:
            _print_json(diff.as_json())
            return
        console = _err()
        console.print(
            f"since batch {diff.since} (up to batch {diff.until}): {len(diff.added)} added, "
            f"{len(diff.changed)} changed, {len(diff.closed)} closed"
        )
        if diff.added:
            console.print(f"[green]added:[/] {escape(', '.join(diff.added))}")
        if diff.closed:
            console.print(f"[red]closed:[/] {escape(', '.join(diff.closed))}")
        if diff.changed:
            table = Table(
                "enterprise", "field", "old", "new", title="changed", title_justify="left"
            )
            for change in diff.changed:
                for c in change.changes:
                    table.add_row(
                        escape(change.enterprise_id),
                        escape(c.field),
                        escape(_short(c.old)),
                        escape(_short(c.new)),
                    )
            console.print(table)
