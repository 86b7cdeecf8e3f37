"""What every page reads from the running app: settings, workspace, registry, uploads.

Contract: :func:`create_app` (``mectk.web.app``) puts one :class:`WebSettings`, one
:class:`Workspace` and one plugin :class:`Registry` on ``app.state``; pages read them only
through these typed accessors.
"""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from mectk.plugin_manager import Registry
from mectk.web.settings import WebSettings
from mectk.web.workspace import Workspace


def settings_of(request: Request) -> WebSettings:
    """The app's settings (register, limits, token)."""
    settings: WebSettings = request.app.state.settings
    return settings


def workspace_of(request: Request) -> Workspace:
    """The app's private workspace of uploads and results."""
    workspace: Workspace = request.app.state.workspace
    return workspace


def registry_of(request: Request) -> Registry:
    """The plugins' formats, checks and reports, built once when the app starts."""
    registry: Registry = request.app.state.registry
    return registry


def uploaded_files(form: FormData, field: str) -> list[UploadFile]:
    """The files actually chosen in the form's ``field`` (empty file inputs left out)."""
    return [f for f in form.getlist(field) if isinstance(f, UploadFile) and f.filename]
