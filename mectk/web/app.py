"""The ASGI application: routes, the safety middleware, error pages and shutdown."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mectk.errors import MectkError, PluginError, SourceError
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.web import pages_exchange, pages_register, pages_reports, pages_validate
from mectk.web.render import make_environment, page
from mectk.web.security import (
    ASGIApp,
    GuardMiddleware,
    Message,
    Receive,
    RefusedError,
    Scope,
    Send,
)
from mectk.web.settings import WebSettings
from mectk.web.workspace import Workspace

log = logging.getLogger("mectk.web")


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RefusedError)
    return page(
        request,
        "error.html",
        status=exc.status,
        title=exc.title,
        message=exc.message,
        hint=exc.hint,
    )


async def _fault(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MectkError)
    status = 500 if isinstance(exc, PluginError) else 422 if isinstance(exc, SourceError) else 400
    titles = {400: "That cannot be done", 422: "The file cannot be read", 500: "A plugin failed"}
    return page(
        request,
        "error.html",
        status=status,
        title=titles[status],
        message=exc.message,
        hint=exc.hint,
    )


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
    return page(
        request,
        "error.html",
        status=exc.status_code,
        title="Not found" if exc.status_code == 404 else "Request refused",
        message=message,
        hint=None,
    )


async def _internal(request: Request, exc: Exception) -> Response:
    settings: WebSettings = request.app.state.settings
    if settings.debug:
        log.exception("internal error")
    return page(
        request,
        "error.html",
        status=500,
        title="Internal error",
        message=f"mectk failed ({type(exc).__name__}); nothing was changed by this request.",
        hint="Start the server with 'mectk --debug serve' to see the traceback in its terminal.",
    )


class CatchAll:
    """Any other exception becomes the internal-error page (no traceback unless --debug)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started or scope["type"] != "http":
                raise
            response = await _internal(Request(scope), exc)
            await response(scope, receive, send)


def create_app(settings: WebSettings | None = None) -> Starlette:
    """The web app for ``settings``; its private upload folder is deleted on shutdown."""
    settings = settings or WebSettings()
    workspace = Workspace(settings.run_ttl_seconds, settings.max_runs)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            workspace.close()

    routes = [
        Route("/", pages_validate.home),
        *pages_validate.ROUTES,
        *pages_register.ROUTES,
        *pages_reports.ROUTES,
        *pages_exchange.ROUTES,
        Mount("/static", StaticFiles(packages=[("mectk.web", "static")]), name="static"),
    ]
    app = Starlette(
        debug=False,
        routes=routes,
        middleware=[Middleware(GuardMiddleware, settings=settings), Middleware(CatchAll)],
        exception_handlers={
            RefusedError: _problem,
            MectkError: _fault,
            HTTPException: _http,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.workspace = workspace
    app.state.registry = build_registry(make_plugin_manager())
    app.state.templates = make_environment()
    return app
