"""The reports page: choose a report format, file type, period and audience; download it."""

from __future__ import annotations

import shutil
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from mectk.errors import MectkError, PluginError, UsageError
from mectk.metrics import load_current, report_context
from mectk.periods import parse_period
from mectk.plugin_manager import Registry
from mectk.web.render import page
from mectk.web.security import read_form
from mectk.web.state import registry_of, settings_of, workspace_of
from mectk.web.workspace import safe_name

PROFILES = (
    ("external", "External: small numbers suppressed, nothing listed by enterprise"),
    ("council", "Council: for the council's own use"),
)
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "csv": "text/csv",
}


def _choices(registry: Registry) -> list[tuple[str, str]]:
    """(value, label) for every report and file type: ``summary:xlsx``."""
    return [
        (f"{name}:{ext}", f"{found.spec.title} ({name}, .{ext}) from {found.plugin}")
        for name, found in sorted(registry.report_formats.items())
        for ext in found.spec.extensions
    ]


async def reports_form(request: Request) -> Response:
    """The report form."""
    registry = registry_of(request)
    settings = settings_of(request)
    return page(
        request,
        "reports.html",
        section="reports",
        choices=_choices(registry),
        profiles=PROFILES,
        db=settings.db,
    )


def _write(
    registry: Registry, db: str, report: str, period_text: str, profile: str, folder: Path
) -> Path:
    name, _, extension = report.partition(":")
    found = registry.report_formats.get(name)
    if found is None or extension not in found.spec.extensions:
        msg = f"there is no report '{report}'"
        raise UsageError(msg, hint="Choose a report from the list.")
    if not period_text:
        raise UsageError(
            "choose a period", hint="Use 2025-26, 2025-26-Q2 or 2025-04-01..2025-06-30."
        )
    period = parse_period(period_text)
    context = report_context(
        load_current(db), period, profile="council" if profile == "council" else "external"
    )
    out = folder / safe_name(f"report-{name}-{period.label}.{extension}")
    try:
        found.spec.write(context, out)
    except MectkError:
        raise
    except Exception as exc:
        msg = f"plugin '{found.plugin}' failed writing report '{name}': {exc!r}"
        raise PluginError(msg, hint="Start the server with 'mectk --debug serve'.") from exc
    return out


async def reports_submit(request: Request) -> Response:
    """Write the chosen report from the register and send it as a download."""
    settings = settings_of(request)
    workspace = workspace_of(request)
    form = await read_form(request, settings)
    fields = {k: str(form.get(k) or "").strip() for k in ("report", "period", "profile")}
    folder = workspace.scratch()
    try:
        out = await run_in_threadpool(
            _write,
            registry_of(request),
            settings.db,
            fields["report"],
            fields["period"],
            fields["profile"],
            folder,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    extension = out.suffix.lstrip(".")
    return FileResponse(
        out,
        media_type=MEDIA_TYPES.get(extension, "application/octet-stream"),
        filename=out.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


ROUTES = [
    Route("/reports", reports_form, methods=["GET"]),
    Route("/reports", reports_submit, methods=["POST"]),
]
