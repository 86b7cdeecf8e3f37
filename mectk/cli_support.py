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
EXIT_INTERRUPTED = 130
"""Ctrl+C, as shells report a process stopped by SIGINT."""


def err_console() -> Console:
    """A rich console on stderr, for people."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(document: Any) -> None:
    """Print one JSON document on stdout, for machines."""
    click.echo(dumps(document))


def guarded(command: F) -> F:
    """Turn faults into one clear message and an exit code; tracebacks only with --debug.

    A coded fault prints ``error [code]: message``; with ``--json`` it also prints
    ``{"error": {...}}`` on stdout (:meth:`~mectk.errors.MectkError.as_json`). Ctrl+C
    exits 130 saying nothing was written (outputs are atomic).
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(click.get_current_context().find_root().params.get("debug"))
        try:
            return command(*args, **kwargs)
        except MectkError as exc:
            if debug:
                raise
            console = err_console()
            code = " " + escape(f"[{exc.code}]") if exc.code else ""
            console.print(f"[bold red]error{code}:[/] {escape(exc.message)}")
            if exc.hint:
                console.print(f"[dim]hint:[/] {escape(exc.hint)}")
            if exc.code and kwargs.get("as_json"):
                print_json({"error": exc.as_json()})
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            if debug:
                raise
            err_console().print(
                "[bold red]interrupted:[/] stopped before finishing; no output file was "
                "written or changed"
            )
            sys.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            if debug:
                raise
            err_console().print(f"[bold red]internal error:[/] {escape(repr(exc))}")
            err_console().print("[dim]hint:[/] run again with --debug for the traceback")
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]
