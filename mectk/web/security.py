"""The safety rules every request passes: host, access token, body size, CSRF, headers.

:class:`GuardMiddleware` wraps the whole app (static files too):

* the Host header must be one of ``allowed_hosts`` (a page from another site cannot
  reach a server on 127.0.0.1 through DNS rebinding);
* with a token, every request carries it: ``?token=`` on the first visit (answered with
  a redirect that stores it in an HttpOnly, SameSite=Strict cookie), the cookie, or an
  ``Authorization: Bearer`` header;
* a request body must state its length, at most ``max_upload_bytes``;
* each browser gets a random CSRF cookie; every form that changes or writes anything
  sends it back in a hidden field, checked by :func:`read_form`;
* every response gets a strict Content-Security-Policy (no inline script or style, nothing
  from another origin), ``nosniff``, no framing, no referrer, and is never cached.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData, MutableHeaders
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from mectk.web.settings import WebSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_COOKIE = "mectk_token"
CSRF_COOKIE = "mectk_csrf"
CSRF_FIELD = "csrf"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
}
BODY_METHODS = ("POST", "PUT", "PATCH")


class RefusedError(Exception):
    """A request the app refuses, with the page to show: status, title, message, hint."""

    def __init__(self, status: int, title: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.hint = hint


def _plain_page(status: int, title: str, message: str) -> Response:
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>"
        f"{html.escape(title)} - mectk</title></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(message)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status)


def _host_name(value: str) -> str:
    if value.startswith("["):
        return value.split("]", 1)[0] + "]"
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class GuardMiddleware:
    """Applies the module's rules to every HTTP request before the app sees it."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refused = self._refusal(request)
        csrf = request.cookies.get(CSRF_COOKIE) or ""
        new_csrf = len(csrf) < 20
        if new_csrf:
            csrf = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf"] = csrf

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if new_csrf:
                    headers.append(
                        "set-cookie",
                        f"{CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict",
                    )
            await send(message)

        if refused is not None:
            await refused(scope, receive, guarded_send)
            return
        await self.app(scope, receive, guarded_send)

    def _refusal(self, request: Request) -> Response | None:
        settings = self.settings
        if settings.allowed_hosts is not None:
            host = _host_name(request.headers.get("host", ""))
            if host not in settings.allowed_hosts:
                return _plain_page(
                    400,
                    "Host not allowed",
                    "This mectk server only answers requests addressed to this machine "
                    "(127.0.0.1 or localhost).",
                )
        if settings.token is not None:
            refused = self._token_refusal(request, settings.token)
            if refused is not None:
                return refused
        if request.method in BODY_METHODS:
            length = request.headers.get("content-length")
            if length is None or not length.isdigit():
                return _plain_page(411, "Length required", "The request did not say its size.")
            if int(length) > settings.max_upload_bytes:
                limit = settings.max_upload_bytes / (1024 * 1024)
                return _plain_page(
                    413,
                    "Upload too large",
                    f"The files sent add up to {int(length) / (1024 * 1024):.1f} MB; this "
                    f"server takes at most {limit:.0f} MB at once. Send fewer or smaller files.",
                )
        return None

    @staticmethod
    def _token_refusal(request: Request, token: str) -> Response | None:
        given = request.query_params.get("token")
        if given is not None and secrets.compare_digest(given, token):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", path="/")
            return response
        cookie = request.cookies.get(TOKEN_COOKIE, "")
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if any(v and secrets.compare_digest(v, token) for v in (cookie, bearer)):
            return None
        return _plain_page(
            403,
            "Access token needed",
            "This mectk server needs its access token. Open the address that "
            "'mectk serve' printed when it started (it ends in ?token=...).",
        )


async def read_form(request: Request, settings: WebSettings, *, files: int = 0) -> FormData:
    """The request's form, read within the upload limits and with its CSRF field checked.

    ``files`` is the most files the form may carry. Raises :class:`RefusedError`.
    """
    try:
        form = await request.form(max_files=files, max_fields=100)
    except MultiPartException as exc:
        if "files" in str(exc).lower():
            msg = f"At most {settings.max_files} files can be sent at once."
            raise RefusedError(413, "Too many files", msg, "Send them in smaller groups.") from exc
        raise RefusedError(400, "The form could not be read", str(exc)) from exc
    given = form.get(CSRF_FIELD)
    expected = str(request.state.csrf)
    if not isinstance(given, str) or not secrets.compare_digest(given, expected):
        await form.close()
        raise RefusedError(
            403,
            "This form has expired",
            "The form was not sent from this app's page, or the page is too old.",
            "Go back, reload the page and send the form again.",
        )
    return form
