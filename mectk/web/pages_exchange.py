"""Exchange pages: export a package (or the Open Referral UK files), verify an uploaded
package, and receive one into the register with its conflicts decided explicitly.

Every page calls :mod:`mectk.exchange` as the command line does; this module only keeps
the uploads privately, lays results out and sends files. Receiving goes: upload (the
package is verified and kept as a run) -> a confirmation of what will be loaded -> receive;
on conflicts nothing is loaded and the page shows them field by field with an explicit
choice (take theirs, keep ours, or cancel). A choice applies only to the conflicts shown:
if the register changed in between, the new conflicts are shown instead.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from mectk.exchange import (
    ReceiveResult,
    VerifyResult,
    export_oruk,
    export_package,
    receive_package,
    verify_package,
)
from mectk.register.exchange import Conflict, Prefer
from mectk.web.render import page
from mectk.web.security import RefusedError, read_form
from mectk.web.state import settings_of, uploaded_files, workspace_of
from mectk.web.workspace import Run, Upload, safe_name

CHUNK = 1 << 20
ZIP = "application/zip"


@frozen
class PackageSummary:
    """What a package's manifest says, read defensively (an invalid one may say anything)."""

    producer: str | None
    org_id: str | None
    created: str | None
    period: str | None
    resources: tuple[tuple[str, int | None], ...]
    personal_included: tuple[str, ...]
    personal_left_out: tuple[str, ...]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def summarise(manifest: Mapping[str, Any] | None) -> PackageSummary | None:
    """The manifest's producer, creation time, period, resources with their row counts and
    personal fields; None when the package has no readable manifest."""
    if manifest is None:
        return None
    own = manifest.get("mectk")
    own = own if isinstance(own, dict) else {}
    producer = own.get("producer")
    producer = producer if isinstance(producer, dict) else {}
    listed = manifest.get("resources")
    resources = [r for r in listed if isinstance(r, dict)] if isinstance(listed, list) else []
    return PackageSummary(
        producer=_text(producer.get("name")),
        org_id=_text(producer.get("org_id")),
        created=_text(manifest.get("created")),
        period=_text(own.get("period")),
        resources=tuple(
            (
                str(r.get("name", "?")),
                r["rows"] if isinstance(r.get("rows"), int) else None,
            )
            for r in resources
        ),
        personal_included=_texts(own.get("personal_fields_included")),
        personal_left_out=_texts(own.get("personal_fields_left_out")),
    )


async def _keep(upload: UploadFile, folder: Path) -> Upload:
    """Write ``upload`` into a random subfolder of the private ``folder``."""
    name = safe_name(upload.filename or "upload")
    inner = folder / secrets.token_hex(8)
    inner.mkdir(mode=0o700)
    path = inner / name
    with path.open("wb") as handle:
        while chunk := await upload.read(CHUNK):
            handle.write(chunk)
    return Upload(name, path)


async def _package_uploads(form: FormData, folder: Path, limit: int) -> list[Upload]:
    """The uploaded package, then the trusted public keys, kept in ``folder``."""
    packages = uploaded_files(form, "package")
    if len(packages) != 1:
        raise RefusedError(400, "No package chosen", "Choose one package (.zip) to check.")
    keys = uploaded_files(form, "trust")
    if len(keys) + 1 > limit:
        msg = f"At most {limit} files can be sent at once."
        raise RefusedError(413, "Too many files", msg, "Send fewer public keys.")
    return [await _keep(packages[0], folder), *[await _keep(k, folder) for k in keys]]


async def exchange_form(request: Request) -> Response:
    """The exchange page: export, verify and receive forms."""
    return page(
        request,
        "exchange.html",
        section="exchange",
        db=settings_of(request).db,
        cancelled=request.query_params.get("cancelled") == "1",
    )


def _download(path: Path, folder: Path) -> FileResponse:
    return FileResponse(
        path,
        media_type=ZIP,
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


async def export_submit(request: Request) -> Response:
    """Write a package from the register (personal data only when ticked) and send it."""
    settings = settings_of(request)
    form = await read_form(request, settings)
    fields = {k: str(form.get(k) or "").strip() for k in ("period", "producer", "producer_id")}
    include_personal = form.get("include_personal") == "yes"
    folder = workspace_of(request).scratch()
    label = safe_name(fields["period"], "") if fields["period"] else ""
    out = folder / ("package" + (f"-{label}" if label else "") + ".zip")
    try:
        await run_in_threadpool(
            lambda: export_package(
                settings.db,
                out,
                period=fields["period"] or None,
                include_personal=include_personal,
                producer=fields["producer"] or None,
                producer_id=fields["producer_id"] or None,
            )
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return _download(out, folder)


def _oruk_zip(db: str, folder: Path) -> Path:
    """The Open Referral UK files written by :func:`export_oruk`, zipped for download."""
    written = export_oruk(db, folder / "open-referral-uk")
    archive = shutil.make_archive(str(folder / "open-referral-uk"), "zip", written.folder)
    return Path(archive)


async def oruk_submit(request: Request) -> Response:
    """Write the Open Referral UK directory files and send them as one zip."""
    settings = settings_of(request)
    await read_form(request, settings)
    folder = workspace_of(request).scratch()
    try:
        out = await run_in_threadpool(_oruk_zip, settings.db, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return _download(out, folder)


async def verify_submit(request: Request) -> Response:
    """Check an uploaded package (against uploaded public keys, if any); show the result.
    The uploads are deleted once checked."""
    settings = settings_of(request)
    form = await read_form(request, settings, files=settings.max_files)
    folder = workspace_of(request).scratch()
    try:
        uploads = await _package_uploads(form, folder, settings.max_files)
        result = await run_in_threadpool(
            lambda: verify_package(uploads[0].path, trust=[u.path for u in uploads[1:]])
        )
        return _verify_page(request, result, uploads)
    finally:
        await form.close()
        shutil.rmtree(folder, ignore_errors=True)


def _verify_page(request: Request, result: VerifyResult, uploads: Sequence[Upload]) -> Response:
    return page(
        request,
        "verify.html",
        section="exchange",
        name=uploads[0].name,
        keys=[u.name for u in uploads[1:]],
        result=result,
        summary=summarise(result.manifest),
        status=200 if result.valid else 422,
    )


async def receive_upload(request: Request) -> Response:
    """Keep an uploaded package privately, verify it, and go to its confirmation page."""
    settings = settings_of(request)
    form = await read_form(request, settings, files=settings.max_files)
    workspace = workspace_of(request)
    run = workspace.new_run()
    try:
        run.uploads = await _package_uploads(form, run.folder, settings.max_files)
        run.verification = await run_in_threadpool(
            lambda: verify_package(run.uploads[0].path, trust=[u.path for u in run.uploads[1:]])
        )
    except BaseException:
        workspace.drop(run.id)
        raise
    finally:
        await form.close()
    return RedirectResponse(f"/exchange/receive/{run.id}", status_code=303)


def _receiving(request: Request) -> tuple[Run, VerifyResult]:
    run = workspace_of(request).get(request.path_params["run_id"])
    if run is None or run.verification is None:
        raise RefusedError(
            404,
            "This package is no longer here",
            "An uploaded package is kept for a while after its last use, then deleted.",
            "Upload the package again.",
        )
    return run, run.verification


async def receive_page(request: Request) -> Response:
    """The confirmation (what will be loaded), the conflict report, or what was received."""
    run, verification = _receiving(request)
    received = run.received
    status = 422 if not verification.valid else 409 if received and not received.landed else 200
    return page(
        request,
        "receive.html",
        section="exchange",
        status=status,
        run=run,
        name=run.uploads[0].name,
        keys=[u.name for u in run.uploads[1:]],
        result=verification,
        summary=summarise(verification.manifest),
        received=received,
        changed=request.query_params.get("changed") == "1",
        db=settings_of(request).db,
    )


def _prefer(value: str) -> Prefer | None:
    if value == "theirs":
        return "theirs"
    if value == "ours":
        return "ours"
    if value:
        raise RefusedError(400, "No such choice", "Choose 'take theirs' or 'keep ours'.")
    return None


async def receive_submit(request: Request) -> Response:
    """Receive the package: without a choice, conflicts load nothing and are shown; with
    one (after the officer has seen them), they are decided as chosen."""
    run, verification = _receiving(request)
    settings = settings_of(request)
    form = await read_form(request, settings)
    prefer = _prefer(str(form.get("prefer") or ""))
    done = run.received
    if verification.valid and not (done is not None and done.landed):
        if prefer is not None and (done is None or not done.conflicts):
            raise RefusedError(
                400,
                "Nothing to decide yet",
                "A choice between their version and ours is made after seeing the conflicts.",
                "Go back and receive the package first.",
            )
        shown = done.conflicts if done is not None else ()
        result: ReceiveResult = await run_in_threadpool(_receive, settings.db, run, prefer, shown)
        run.received = result
        if prefer is not None and not result.landed:
            return RedirectResponse(f"/exchange/receive/{run.id}?changed=1", status_code=303)
    return RedirectResponse(f"/exchange/receive/{run.id}", status_code=303)


def _seen(conflicts: Sequence[Conflict]) -> list[Any]:
    return [{**c.as_json(), "resolution": None} for c in conflicts]


def _receive(db: str, run: Run, prefer: Prefer | None, shown: Sequence[Conflict]) -> ReceiveResult:
    """Receive the run's package. A choice applies only to the conflicts the officer saw:
    when the register has changed since and they differ, nothing is loaded and the new
    conflicts are returned to be shown."""
    path, trust = run.uploads[0].path, [u.path for u in run.uploads[1:]]
    if prefer is not None:
        again = receive_package(db, path, trust=trust)
        if again.landed or _seen(again.conflicts) != _seen(shown):
            return again
    return receive_package(db, path, prefer=prefer, trust=trust)


async def receive_cancel(request: Request) -> Response:
    """Forget the uploaded package (deleting it); nothing is loaded."""
    run, _verification = _receiving(request)
    await read_form(request, settings_of(request))
    workspace_of(request).drop(run.id)
    return RedirectResponse("/exchange?cancelled=1", status_code=303)


ROUTES = [
    Route("/exchange", exchange_form, methods=["GET"]),
    Route("/exchange/export", export_submit, methods=["POST"]),
    Route("/exchange/oruk", oruk_submit, methods=["POST"]),
    Route("/exchange/verify", verify_submit, methods=["POST"]),
    Route("/exchange/receive", receive_upload, methods=["POST"]),
    Route("/exchange/receive/{run_id}", receive_page, methods=["GET"]),
    Route("/exchange/receive/{run_id}", receive_submit, methods=["POST"]),
    Route("/exchange/receive/{run_id}/cancel", receive_cancel, methods=["POST"]),
]
