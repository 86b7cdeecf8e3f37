"""Shared fixtures of the web app tests: sample files, an app on a fresh register, a client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mectk.sample_data import sample_rows, write_council_tracker
from mectk.template import write_workbook
from mectk.web import WebSettings, create_app

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="session")
def sample_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The canonical sample workbook with the demo's planted mistakes."""
    path = tmp_path_factory.mktemp("samples") / "sample-canonical.xlsx"
    write_workbook(path, sample_rows())
    return path


@pytest.fixture(scope="session")
def council_xlsx(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """The demo's council tracker and the bytes of its mapping file."""
    path = tmp_path_factory.mktemp("council") / "council-tracker.xlsx"
    write_council_tracker(path)
    mapping = (resources.files("mectk") / "samples" / "county-tracker.toml").read_bytes()
    return path, mapping


class Client(TestClient):
    """A test client that knows the page's CSRF token and posts forms with it."""

    csrf: str = ""

    def fetch_csrf(self) -> str:
        page = self.get("/validate")
        found = CSRF.search(page.text)
        assert found, "the upload form carries a CSRF field"
        self.csrf = found[1]
        return self.csrf

    def upload(
        self,
        *files: tuple[str, bytes],
        mapping: tuple[str, bytes] | None = None,
        follow: bool = True,
        **fields: str,
    ) -> Any:
        """Post the upload form with ``files`` (name, content) and form ``fields``."""
        if not self.csrf:
            self.fetch_csrf()
        parts = [("files", file) for file in files]
        if mapping is not None:
            parts.append(("mapping", mapping))
        data = {"csrf": self.csrf, **fields}
        return self.post("/validate", data=data, files=parts, follow_redirects=follow)

    @staticmethod
    def run_url(response: Any) -> str:
        """The results page a finished upload landed on."""
        url = str(response.url)
        found = re.search(r"/runs/[A-Za-z0-9_-]+", url)
        assert found, url
        return found[0]

    def submit(self, url: str, **fields: str) -> Any:
        """Post a form (with the CSRF field) and follow its redirect."""
        if not self.csrf:
            self.fetch_csrf()
        return self.post(url, data={"csrf": self.csrf, **fields})


def _make_client(tmp_path: Path, **settings: object) -> Client:
    options: dict[str, object] = {
        "db": str(tmp_path / "register.db"),
        "allowed_hosts": ("testserver",),
        **settings,
    }
    app = create_app(WebSettings(**options))  # type: ignore[arg-type]
    return Client(app, raise_server_exceptions=False)


@pytest.fixture
def make_client(tmp_path: Path) -> Any:
    """A factory: a client of an app with these settings (entered with ``with``)."""
    return lambda **settings: _make_client(tmp_path, **settings)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with _make_client(tmp_path) as c:
        yield c
