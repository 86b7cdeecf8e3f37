"""Plugin-author commands of the command line: ``mectk plugin new NAME``.

:func:`add_plugin_commands` adds the ``plugin`` group to the ``mectk`` click group
(``mectk plugins`` lists installed plugins; ``mectk plugin ...`` helps write one).
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape


def add_plugin_commands(group: click.Group) -> None:
    """Add ``plugin new`` to ``group`` (the ``mectk`` CLI)."""
    from mectk.cli_support import err_console, guarded

    @group.group("plugin")
    def plugin_group() -> None:
        """Write your own plugin: a council's formats, reports and demo samples."""

    @plugin_group.command("new")
    @click.argument("name")
    @click.option(
        "--dir",
        "parent",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(),
        show_default=True,
        help="Folder to write the new distribution mectk-NAME into (it must exist).",
    )
    @guarded
    def new_command(name: str, parent: Path) -> None:
        """Write a new plugin distribution mectk-NAME, ready to install and test.

        It holds a mapping-based reader (TOML), a report format, a samples hook for mectk
        demo, tests and a README, and uses only mectk's public API. NAME is lower-case
        letters, digits and hyphens, such as leeds or north-yorkshire. Nothing existing
        is overwritten.
        """
        from mectk.scaffold import new_plugin

        made = new_plugin(name, parent)
        console = err_console()
        console.print(
            f"wrote plugin [bold]{escape(made.names['distribution'])}[/] in "
            f"{escape(str(made.folder))}/:"
        )
        for file in made.files:
            console.print(f"  {escape(file)}")
        console.print(
            escape(f"next: cd {made.folder} && pip install -e '.[test]' && python -m pytest")
        )
        console.print(
            f"then: mectk formats lists {escape(made.names['format'])} and "
            f"{escape(made.names['report'])}; mectk demo runs its sample. "
            "Writing plugins: docs/writing-plugins.md"
        )
