"""The ``serve`` command: the local web app (``mectk.web``) under uvicorn.

:func:`add_web_commands` adds it to the ``mectk`` click group. The web stack (Starlette,
Jinja2, uvicorn) is imported only when the command runs, so other commands start fast.
"""

from __future__ import annotations

import ipaddress
import secrets

import click
from rich.markup import escape

from mectk.cli_support import err_console, guarded
from mectk.errors import UsageError

DEFAULT_DB = "mectk.db"
"""Same as :data:`mectk.register.DEFAULT_DB`, without importing SQLAlchemy at start-up."""


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def add_web_commands(group: click.Group) -> None:
    """Add ``serve`` to ``group`` (the ``mectk`` CLI)."""

    @group.command("serve")
    @click.option(
        "--db",
        default=DEFAULT_DB,
        show_default=True,
        envvar="MECTK_DB",
        metavar="URL",
        help="The register: an SQLAlchemy URL or a file path (SQLite); env MECTK_DB.",
    )
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
    @click.option(
        "--token",
        metavar="T",
        envvar="MECTK_TOKEN",
        help="Access token every request must carry; required (or generated) when --host "
        "is not this machine. Env MECTK_TOKEN.",
    )
    @guarded
    def serve_command(db: str, host: str, port: int, token: str | None) -> None:
        """Run the web app: validate, import, browse the register, write reports.

        It listens on 127.0.0.1 (this machine only) unless --host says otherwise; any other
        address needs an access token, generated and printed when --token is not given.
        """
        import uvicorn

        from mectk.web import WebSettings, create_app

        debug = bool(click.get_current_context().find_root().params.get("debug"))
        local = is_loopback(host)
        if token is not None and len(token) < 16:
            raise UsageError(
                "--token must be at least 16 characters", hint="Or omit it to get one."
            )
        if not local and token is None:
            token = secrets.token_urlsafe(24)
        settings = WebSettings(
            db=db,
            token=token,
            allowed_hosts=None if not local else WebSettings().allowed_hosts,
            debug=debug,
        )
        shown_host = f"[{host}]" if ":" in host else host
        address = f"http://{shown_host}:{port}/"
        console = err_console()
        console.print(f"[bold]mectk[/] web app on {escape(address)} (register {escape(db)})")
        if token is not None:
            console.print(f"open: {escape(address)}?token={escape(token)}")
            if not local:
                console.print(
                    "[yellow]listening beyond this machine:[/] traffic is not encrypted; "
                    "use it only on a network you trust"
                )
        console.print("press Ctrl+C to stop; uploads are deleted when it stops")
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level="debug" if debug else "warning",
            access_log=False,
        )
