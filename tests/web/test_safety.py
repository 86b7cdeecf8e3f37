"""The web app's safety rules: host, access token, CSRF, upload limits, private uploads,
escaping of hostile cell text, the Content-Security-Policy and error pages."""

from __future__ import annotations

import csv
import io
import re
import stat
import time

import pytest

from mectk.sample_data import sample_rows
from mectk.template import write_workbook
from mectk.web.security import CSP

HOSTILE = '<script>alert("x")</script>'
FORMULA = '=HYPERLINK("http://example.invalid","x")'


@pytest.fixture(scope="module")
def hostile_xlsx(tmp_path_factory):
    """The sample workbook with script and formula text in enterprise id cells."""
    rows = {kind: [dict(r) for r in found] for kind, found in sample_rows().items()}
    rows["enterprise"][0]["enterprise_id"] = HOSTILE
    rows["enterprise"][1]["enterprise_id"] = FORMULA
    path = tmp_path_factory.mktemp("hostile") / "hostile.xlsx"
    write_workbook(path, rows)
    return path


def test_every_response_carries_the_security_headers(client, sample_xlsx):
    responses = [
        client.get("/"),
        client.get("/static/style.css"),
        client.get("/no/such/page"),
        client.get("/register"),
        client.upload(("s.xlsx", sample_xlsx.read_bytes())),
        client.post("/validate", data={"csrf": "wrong"}),
    ]
    for response in responses:
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP


def test_pages_have_no_inline_script_or_style(client, sample_xlsx):
    response = client.upload(("s.xlsx", sample_xlsx.read_bytes()))
    for html in (response.text, client.get("/").text, client.get("/reports").text):
        assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/app.js" defer>']
        assert " style=" not in html and "<style" not in html
        assert not re.search(r"<[^>]+\son[a-z]+=", html)
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_hostile_cell_text_is_escaped_everywhere(client, hostile_xlsx):
    response = client.upload(("hostile.xlsx", hostile_xlsx.read_bytes()))
    assert response.status_code == 200
    url = client.run_url(response)
    pages = [response.text, client.get(f"{url}/issues").text]
    assert any("&lt;script&gt;" in html for html in pages)
    for html in pages:
        assert HOSTILE not in html and "<script>alert" not in html
    text = client.get(f"{url}/issues.csv").content.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert f"'{FORMULA}" in cells  # kept as text, never run as a formula
    assert not any(c.startswith(("=", "+", "@")) for c in cells)


def test_loopback_only_answers_requests_addressed_to_this_machine(make_client):
    with make_client(allowed_hosts=("127.0.0.1", "localhost")) as local:
        assert local.get("/", headers={"host": "127.0.0.1:8000"}).status_code == 200
        assert local.get("/", headers={"host": "localhost:8000"}).status_code == 200
        refused = local.get("/", headers={"host": "attacker.example:8000"})
        assert refused.status_code == 400 and "Host not allowed" in refused.text


def test_with_a_token_every_request_must_carry_it(make_client):
    token = "t0ken-for-tests-0123456789"
    with make_client(token=token, allowed_hosts=None) as guarded:
        for path in ("/", "/static/style.css", "/validate", "/register"):
            refused = guarded.get(path)
            assert refused.status_code == 403 and "access token" in refused.text
        assert guarded.get("/?token=wrong").status_code == 403
        first = guarded.get(f"/validate?token={token}", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/validate"
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        # the cookie now carries it
        assert guarded.get("/validate").status_code == 200
        guarded.cookies.clear()
        assert guarded.get("/").status_code == 403
        bearer = guarded.get("/", headers={"authorization": f"Bearer {token}"})
        assert bearer.status_code == 200


def test_forms_need_the_csrf_token(client, sample_xlsx):
    content = sample_xlsx.read_bytes()
    for csrf in (None, "", "forged-value-forged-value-forged"):
        data = {} if csrf is None else {"csrf": csrf}
        response = client.post("/validate", data=data, files=[("files", ("s.xlsx", content))])
        assert response.status_code == 403 and "This form has expired" in response.text
    url = client.run_url(client.upload(("s.xlsx", content)))
    forged = client.post(f"{url}/import", data={"csrf": "forged-value-forged-value-forged"})
    assert forged.status_code == 403
    assert client.get("/register/batches").status_code == 404  # nothing was imported
    report = client.post("/reports", data={"report": "summary:xlsx", "period": "2025-26"})
    assert report.status_code == 403


def test_upload_limits_say_what_to_do(make_client, sample_xlsx):
    content = sample_xlsx.read_bytes()
    with make_client(max_upload_bytes=len(content) // 2, max_files=2) as small:
        big = small.upload(("s.xlsx", content))
        assert big.status_code == 413
        assert "Upload too large" in big.text and "at most" in big.text
    with make_client(max_files=2) as few:
        many = few.upload(*[(f"s{n}.xlsx", content) for n in range(3)])
        assert many.status_code == 413
        assert "At most 2 files" in many.text


def test_uploads_are_private_randomly_named_and_deleted(make_client, sample_xlsx):
    content = sample_xlsx.read_bytes()
    with make_client(max_runs=1) as limited:
        app = limited.app
        root = app.state.workspace.root
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
        first = limited.run_url(limited.upload(("same.xlsx", content), ("same.xlsx", content)))
        run = app.state.workspace.get(first.rsplit("/", 1)[1])
        names = [u.name for u in run.uploads]
        assert names == ["same.xlsx", "same (2).xlsx"]
        for upload in run.uploads:
            folder = upload.path.parent
            assert folder.parent == run.folder and len(folder.name) == 16
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700
            assert upload.path.read_bytes() == content
        assert stat.S_IMODE(run.folder.stat().st_mode) == 0o700
        limited.upload(("other.xlsx", content))
        assert not run.folder.exists()  # beyond max_runs the oldest run is deleted
        assert limited.get(first).status_code == 404
    assert not root.exists()  # everything is deleted when the app stops


def test_expired_runs_are_deleted(make_client, sample_xlsx):
    with make_client(run_ttl_seconds=0) as quick:
        url = quick.run_url(quick.upload(("s.xlsx", sample_xlsx.read_bytes())))
        time.sleep(0.01)
        assert quick.get(url).status_code == 404
        assert list(quick.app.state.workspace.root.iterdir()) == []


def test_upload_names_cannot_escape_the_private_folder(client, sample_xlsx):
    response = client.upload(("../../etc/passwd.xlsx", sample_xlsx.read_bytes()))
    assert response.status_code == 200
    run = client.app.state.workspace.get(client.run_url(response).rsplit("/", 1)[1])
    upload = run.uploads[0]
    assert upload.name == "passwd.xlsx"
    assert upload.path.resolve().is_relative_to(client.app.state.workspace.root.resolve())


def test_an_internal_error_shows_no_traceback(client, monkeypatch):
    import mectk.web.pages_register as pages

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(pages, "list_batches", broken)
    response = client.get("/register/batches")
    assert response.status_code == 500
    assert "Internal error" in response.text and "RuntimeError" in response.text
    assert "Traceback" not in response.text and "secret detail" not in response.text
    assert response.headers["content-security-policy"] == CSP
