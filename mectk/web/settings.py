"""What the web app is told at start: the register, the access token and its limits."""

from __future__ import annotations

from attrs import frozen

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
"""Host names a browser on this machine uses; the only ones accepted without a token."""


@frozen
class WebSettings:
    """Settings of one running app.

    ``token`` (when set) must come with every request. ``allowed_hosts`` are the Host
    header values accepted (None: any, which only makes sense with a token). Uploads are
    limited to ``max_upload_bytes`` per request and ``max_files`` files; validation runs
    are kept ``run_ttl_seconds`` after their last use, then deleted with their files.
    """

    db: str = "mectk.db"
    token: str | None = None
    allowed_hosts: tuple[str, ...] | None = LOOPBACK_HOSTS
    max_upload_bytes: int = 50 * 1024 * 1024
    max_files: int = 10
    run_ttl_seconds: int = 2 * 60 * 60
    max_runs: int = 20
    issues_per_page: int = 50
    examples_per_code: int = 3
    debug: bool = False
