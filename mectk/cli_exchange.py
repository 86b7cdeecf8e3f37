"""Exchange commands of the command line: ``export``, ``verify``, ``receive`` and ``keys``.

:func:`add_exchange_commands` adds them to the ``mectk`` click group. They follow the CLI
contract of design.md section 5: people's output through rich on stderr, one JSON document
on stdout with ``--json``. ``verify`` and ``receive`` exit 1 for invalid content (or a
refused conflict), 3 for an unreadable or unsafe zip; faults map to exit codes through
:func:`mectk.cli_support.guarded`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from mectk.cli_support import db_option, err_console, guarded, json_option, print_json

_SHOWN_ISSUES = 20


def _trust_option(function: Any) -> Any:
    return click.option(
        "--trust",
        "trust",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="PUBKEY",
        help="A public key file (NAME.pub) the package must be signed with; repeatable.",
    )(function)


def _show_issues(issues: Any) -> None:
    console = err_console()
    for issue in list(issues)[:_SHOWN_ISSUES]:
        where = issue.file or ""
        if issue.row is not None:
            where += f" row {issue.row}"
        colour = {"error": "red", "warning": "yellow"}.get(issue.severity, "cyan")
        console.print(f"[{colour}]{issue.code}[/] {escape(where)}: {escape(issue.message)}")
    if len(issues) > _SHOWN_ISSUES:
        console.print(f"... and {len(issues) - _SHOWN_ISSUES} more (see --json)")


def add_exchange_commands(group: click.Group) -> None:
    """Add ``export``, ``verify``, ``receive`` and ``keys`` to ``group`` (the ``mectk`` CLI)."""

    @group.command("export")
    @click.option(
        "-o",
        "--output",
        "out",
        required=True,
        type=click.Path(path_type=Path),
        help="The package .zip (or, with --format oruk, a new folder).",
    )
    @click.option(
        "--format",
        "format_name",
        type=click.Choice(["package", "oruk"]),
        default="package",
        show_default=True,
        help="package: a mectk exchange package; oruk: Open Referral UK directory files.",
    )
    @click.option("--period", metavar="P", help="2025-26, 2025-26-Q2 or START..END.")
    @click.option(
        "--include-personal", is_flag=True, help="Carry personal-data fields (never notes)."
    )
    @click.option(
        "--sign",
        "sign_key",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="KEY",
        help="Sign with this Ed25519 private key file (from mectk keys new).",
    )
    @click.option("--producer", metavar="NAME", help="The producing organisation's name.")
    @click.option("--producer-id", metavar="ORG_ID", help="Its org-id, such as GB-COH-08123456.")
    @db_option
    @json_option
    @guarded
    def export_command(
        out: Path,
        format_name: str,
        period: str | None,
        include_personal: bool,
        sign_key: Path | None,
        producer: str | None,
        producer_id: str | None,
        db: str,
        as_json: bool,
    ) -> None:
        """Write an exchange package (or Open Referral UK files) from the register."""
        from mectk.errors import UsageError
        from mectk.exchange import export_oruk, export_package

        console = err_console()
        if format_name == "oruk":
            if period or include_personal or sign_key or producer or producer_id:
                msg = "--format oruk takes only -o and --db"
                raise UsageError(msg, hint="Consent decides what a directory listing shows.")
            oruk = export_oruk(db, out)
            console.print(
                f"wrote Open Referral UK files for {len(oruk.listed)} enterprises into "
                f"{escape(str(out))} (left out: "
                + (", ".join(f"{n} {r}" for r, n in oruk.left_out.items()) or "none")
                + ")"
            )
            if as_json:
                print_json(oruk.as_json())
            return
        result = export_package(
            db,
            out,
            period=period,
            include_personal=include_personal,
            sign_key=sign_key,
            producer=producer,
            producer_id=producer_id,
        )
        counts = ", ".join(f"{n} {k}" for k, n in result.counts.items())
        console.print(f"wrote {escape(str(out))}: {escape(counts)}")
        personal = ", ".join(result.personal_fields_included) or "none"
        console.print(f"personal fields included: {escape(personal)}")
        if result.signed_by:
            console.print(f"signed with key {result.signed_by}")
        if as_json:
            print_json(result.as_json())

    @group.command("verify")
    @click.argument("package", type=click.Path(path_type=Path))
    @_trust_option
    @json_option
    @guarded
    def verify_command(package: Path, trust: tuple[Path, ...], as_json: bool) -> None:
        """Check a package's safety, checksums, schemas, references and signature."""
        from mectk.exchange import verify_package

        result = verify_package(package, trust=trust)
        console = err_console()
        if result.valid:
            counts = ", ".join(f"{n} {k}" for k, n in result.counts().items())
            signed = f"; signed by {result.signed_by}" if result.signed_by else "; not signed"
            console.print(f"[green]valid[/]: {escape(str(package))} ({escape(counts)}{signed})")
            _show_issues(result.issues)  # warnings and notes a valid package may carry
        else:
            console.print(f"[red]not valid[/]: {escape(str(package))}")
            _show_issues(result.issues)
        if as_json:
            print_json(result.as_json())
        sys.exit(result.exit_code)

    @group.command("receive")
    @click.argument("package", type=click.Path(path_type=Path))
    @click.option(
        "--prefer",
        type=click.Choice(["theirs", "ours"]),
        help="Decide conflicts: take their version, or keep ours.",
    )
    @_trust_option
    @db_option
    @json_option
    @guarded
    def receive_command(
        package: Path, prefer: str | None, trust: tuple[Path, ...], db: str, as_json: bool
    ) -> None:
        """Verify a partner's package and load it into the register as one batch."""
        from mectk.exchange import receive_package
        from mectk.register.exchange import Prefer

        chosen: Prefer | None = (
            "theirs" if prefer == "theirs" else "ours" if prefer == "ours" else None
        )
        result = receive_package(db, package, prefer=chosen, trust=trust)
        console = err_console()
        if result.batch is not None:
            console.print(
                f"received batch [bold]{result.batch.id}[/] into {escape(db)}: "
                f"{result.new} new, {result.changed} changed, {result.unchanged} unchanged, "
                f"{result.kept_ours} kept ours"
            )
        elif not result.verification.valid:
            console.print(f"[red]not received[/]: {escape(str(package))} is not valid")
        else:
            console.print(
                f"[red]not received[/]: {len(result.conflicts)} records conflict with the "
                "register; nothing was loaded (give --prefer theirs or --prefer ours)"
            )
        _show_issues(result.issues)
        if as_json:
            print_json(result.as_json())
        sys.exit(result.exit_code)

    @group.group("keys")
    def keys_group() -> None:
        """Signing keys for exchange packages."""

    @keys_group.command("new")
    @click.argument("name", type=click.Path(path_type=Path))
    @json_option
    @guarded
    def keys_new_command(name: Path, as_json: bool) -> None:
        """Write an Ed25519 key pair: NAME.key (private, mode 0600) and NAME.pub."""
        from mectk.exchange import new_key_pair

        private, public, fingerprint = new_key_pair(name)
        err_console().print(
            f"wrote {escape(str(private))} (keep it private) and {escape(str(public))} "
            f"(give it to partners); fingerprint {fingerprint}"
        )
        if as_json:
            print_json(
                {"private_key": str(private), "public_key": str(public), "fingerprint": fingerprint}
            )
