"""The local web app (``mectk serve``): validate, import, browse the register, write reports.

Server-rendered pages on Starlette with Jinja2 templates (autoescaped), served by uvicorn.
Every page calls the same library functions as the command line; this package only reads
forms, keeps uploads in a private folder, and lays results out. See ``docs/web.md``.

:func:`create_app` builds the ASGI application from :class:`WebSettings`.
"""

from __future__ import annotations

from mectk.web.app import create_app
from mectk.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
