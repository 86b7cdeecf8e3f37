"""``mectk serve`` as a subprocess: it binds where told, prints (or generates) the access
token for a non-loopback address, and the rest of the CLI does not load the web stack."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

MECTK = [sys.executable, "-m", "mectk"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args, **_kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _serve(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [*MECTK, "serve", "--db", str(tmp_path / "r.db"), *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "MECTK_TOKEN": ""} if "MECTK_TOKEN" in os.environ else None,
    )
    lines: list[str] = []
    assert process.stderr is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl+C" in line:
            break
    return process, lines


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            _status(url)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail(f"the server at {url} did not start")


def test_serve_beyond_loopback_generates_and_requires_a_token(tmp_path):
    port = _free_port()
    process, lines = _serve(["--host", "0.0.0.0", "--port", str(port)], tmp_path)
    try:
        text = "".join(lines)
        opening = next((line for line in lines if line.startswith("open: ")), None)
        assert opening is not None, text
        token = opening.strip().split("?token=", 1)[1]
        assert len(token) >= 24
        assert "not encrypted" in text
        base = f"http://127.0.0.1:{port}/"
        _wait_until_up(base)
        assert _status(base) == 403
        assert _status(f"{base}?token=wrong") == 403
        assert _status(f"{base}?token={token}") == 303
        assert _status(base, {"Authorization": f"Bearer {token}"}) == 200
    finally:
        process.terminate()
        process.wait(timeout=20)


def _private_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("mectk-web-*"))


def test_serve_on_loopback_needs_no_token_and_cleans_up_when_stopped(tmp_path):
    port = _free_port()
    before = _private_folders()
    process, lines = _serve(["--port", str(port)], tmp_path)
    try:
        assert not any(line.startswith("open: ") for line in lines), lines
        _wait_until_up(f"http://127.0.0.1:{port}/")
        assert _status(f"http://127.0.0.1:{port}/validate") == 200
        made = _private_folders() - before
        assert len(made) == 1
        assert stat.S_IMODE(next(iter(made)).stat().st_mode) == 0o700
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C
        process.wait(timeout=20)
    assert process.stderr is not None
    assert "Traceback" not in process.stderr.read()
    assert not made & _private_folders()  # the upload folder went with the server


def test_a_short_token_is_a_usage_error():
    done = subprocess.run(
        [*MECTK, "serve", "--token", "short"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "at least 16 characters" in done.stderr


def test_other_commands_do_not_import_the_web_stack():
    code = (
        "import sys, mectk.cli; "
        "print(sorted(m for m in ('starlette', 'jinja2', 'uvicorn', 'multipart', 'mectk.web') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
