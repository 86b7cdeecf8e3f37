"""What every command-line module shares: the stderr console, JSON on stdout, and the
fault wrapper that maps :class:`~mectk.errors.MectkError` to exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from mectk.errors import MectkError
from mectk.jsonio import dumps

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERNAL = 4


def err_console() -> Console:
    """A rich console on stderr, for people."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(document: Any) -> None:
    """Print one JSON document on stdout, for machines."""
    click.echo(dumps(document))


def guarded(command: F) -> F:
    """Turn faults into one clear message and an exit code; tracebacks only with --debug."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(click.get_current_context().find_root().params.get("debug"))
        try:
            return command(*args, **kwargs)
        except MectkError as exc:
            if debug:
                raise
            console = err_console()
            console.print(f"[bold red]error:[/] {escape(exc.message)}")
            if exc.hint:
                console.print(f"[dim]hint:[/] {escape(exc.hint)}")
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if debug:
                raise
            err_console().print(f"[bold red]internal error:[/] {escape(repr(exc))}")
            err_console().print("[dim]hint:[/] run again with --debug for the traceback")
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]
