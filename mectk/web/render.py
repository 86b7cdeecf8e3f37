"""Rendering pages: the Jinja2 environment (autoescape on for every template) and helpers."""

from __future__ import annotations

from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mectk import __version__

NAV = (
    ("validate", "/validate", "Validate"),
    ("register", "/register", "Register"),
    ("reports", "/reports", "Reports"),
    ("exchange", "/exchange", "Exchange"),
)


def make_environment() -> jinja2.Environment:
    """Templates from the package, every value escaped unless a template says otherwise
    (none does: cell text is hostile)."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mectk.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["shown"] = shown
    return environment


def shown(value: Any) -> str:
    """A stored value as one line of text: lists joined, None as a dash."""
    if value is None or value == "":
        return "\u2013"  # an en dash
    if isinstance(value, list | tuple):
        return "; ".join(shown(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def page(
    request: Request, template: str, *, section: str = "", status: int = 200, **context: Any
) -> HTMLResponse:
    """Render ``template`` with the common context (CSRF token, navigation, version)."""
    environment: jinja2.Environment = request.app.state.templates
    body = environment.get_template(template).render(
        request=request,
        csrf=request.state.csrf,
        nav=NAV,
        section=section,
        version=__version__,
        **context,
    )
    return HTMLResponse(body, status_code=status)
