"""The exchange pages through Starlette's test client, on real packages and real SQLite
registers: export, verify and receive (round trip, tampering, conflicts), Open Referral
UK files, CSRF, and the uploads and downloads deleted once used."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from mectk.exchange import export_package, new_key_pair, receive_package
from mectk.register import list_batches
from mectk.register.exchange import current_records
from tests.exchange_support import read_zip, rehash, write_zip


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def registered(client, sample_xlsx):
    """The client's register with the sample workbook imported through the web app."""
    run = client.run_url(client.upload(("sample-canonical.xlsx", sample_xlsx.read_bytes())))
    assert "Imported as batch 1." in client.submit(f"{run}/import").text
    return client


def _scratch(client) -> list[Path]:
    return sorted(client.app.state.workspace.root.glob("scratch-*"))


def _export(client, **fields: str) -> bytes:
    response = client.submit("/exchange/export", **fields)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    return response.content


def _manifest(package: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return json.loads(archive.read("datapackage.json"))


def _send(client, url: str, package: bytes, name: str = "package.zip", **files):
    if not client.csrf:
        client.fetch_csrf()
    parts = [("package", (name, package, "application/zip"))]
    parts += [("trust", value) for value in files.values()]
    return client.post(url, data={"csrf": client.csrf}, files=parts)


def test_the_exchange_page_leaves_personal_data_out_unless_ticked(client):
    html = client.get("/exchange").text
    box = re.search(r"<input [^>]*name=\"include_personal\"[^>]*>", html)
    assert box and "checked" not in box[0]
    assert "Leave this unticked" in html and "e-mail addresses" in html
    for path in ("/", "/validate", "/register", "/reports", "/exchange"):
        assert '<a href="/exchange"' in client.get(path).text  # in the navigation


def test_export_verify_receive_round_trip(registered, make_client, tmp_path):
    package = _export(registered, period="2025-26", producer="Worcester Care Network")
    assert _scratch(registered) == []  # the written package was deleted once sent
    manifest = _manifest(package)
    assert manifest["mectk"]["personal_fields_included"] == []
    assert manifest["mectk"]["period"] == "2025-26"

    verified = _send(registered, "/exchange/verify", package)
    assert verified.status_code == 200, verified.text
    text = _text(verified.text)
    assert "Valid." in text and "Worcester Care Network" in text
    assert "Personal fields included none" in text
    for resource in manifest["resources"]:
        assert re.search(
            rf'<th scope="row">{resource["name"]}</th><td>{resource["rows"]}</td>'
            rf"<td>{resource['rows']}</td>",
            verified.text,
        ), resource["name"]
    assert _scratch(registered) == []  # the upload was deleted once checked

    with make_client(db=str(tmp_path / "partner.db")) as partner:
        upload = _send(partner, "/exchange/receive", package)
        assert upload.status_code == 200 and upload.url.path.startswith("/exchange/receive/")
        total = sum(r["rows"] for r in manifest["resources"])
        confirm = _text(upload.text)
        assert "Will be loaded" in confirm and f"{total} records, as one new batch" in confirm
        partner_db = tmp_path / "partner.db"
        assert not partner_db.exists() or list_batches(partner_db) == []  # nothing yet
        done = partner.submit(str(upload.url.path))
        assert done.status_code == 200, done.text
        assert "Received as batch 1 in" in _text(done.text)
        assert f"{total} new, 0 changed" in _text(done.text)
        (batch,) = list_batches(tmp_path / "partner.db")
        assert batch.producer == {"name": "Worcester Care Network"}
        again = partner.submit(str(upload.url.path))  # the same upload is not received twice
        assert "Received as batch 1 in" in _text(again.text)
        assert len(list_batches(tmp_path / "partner.db")) == 1


def test_personal_data_travels_only_when_ticked(registered):
    manifest = _manifest(_export(registered, include_personal="yes"))
    assert "enterprise.trading_name" in manifest["mectk"]["personal_fields_included"]
    verified = _send(registered, "/exchange/verify", _export(registered, include_personal="yes"))
    assert "enterprise.trading_name" in verified.text.split('id="personal-included"')[1]


def test_a_tampered_package_is_refused_with_its_issue_code(registered, tmp_path):
    members = read_zip(_write(tmp_path / "good.zip", _export(registered)))
    enterprises = members["data/enterprise.csv"]
    members["data/enterprise.csv"] = enterprises.replace(b",trading,", b",paused,", 1)
    tampered = write_zip(tmp_path / "tampered.zip", members).read_bytes()

    verified = _send(registered, "/exchange/verify", tampered, name="tampered.zip")
    assert verified.status_code == 422
    assert "Not valid." in verified.text
    assert '<code class="issue-code">checksum-mismatch</code>' in verified.text
    assert "data/enterprise.csv" in verified.text and "How to fix:" in verified.text

    received = _send(registered, "/exchange/receive", tampered, name="tampered.zip")
    assert received.status_code == 422
    assert "Not valid: nothing can be loaded." in received.text
    assert "checksum-mismatch" in received.text
    assert 'id="receive"' not in received.text  # no button to load it
    refused = registered.submit(str(received.url.path))
    assert refused.status_code == 422
    assert len(list_batches(registered.app.state.settings.db)) == 1

    garbage = _send(registered, "/exchange/verify", b"not a zip at all", name="x.zip")
    assert garbage.status_code == 422 and "no readable manifest" in garbage.text


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _partner_package(
    client, tmp_path: Path, producer: str = "Neighbouring Council", status: str = "paused"
) -> bytes:
    """Our records exported as ``producer``, with CS-0002's status changed there."""
    members = read_zip(_write(tmp_path / "n.zip", _export(client, producer=producer)))
    lines = members["data/enterprise.csv"].decode().split("\r\n")
    index = next(i for i, line in enumerate(lines) if line.startswith("CS-0002,"))
    lines[index] = lines[index].replace(",trading,", f",{status},", 1)
    members["data/enterprise.csv"] = "\r\n".join(lines).encode()
    rehash(members, "data/enterprise.csv")
    return write_zip(tmp_path / f"{producer}.zip", members).read_bytes()


def _status(db: str, enterprise: str) -> str:
    (record,) = [r for r in current_records(db, ["enterprise"]) if r.record_id == enterprise]
    return str(record.data["status"])


@pytest.mark.parametrize(("prefer", "status"), [("theirs", "paused"), ("ours", "trading")])
def test_a_conflict_is_shown_field_by_field_and_decided_explicitly(
    registered, tmp_path, prefer, status
):
    db = registered.app.state.settings.db
    upload = _send(registered, "/exchange/receive", _partner_package(registered, tmp_path))
    url = str(upload.url.path)
    assert 'id="receive"' in upload.text
    # choosing before seeing the conflicts is refused
    assert registered.submit(url, prefer="theirs").status_code == 400

    refused = registered.submit(url)
    assert refused.status_code == 409
    assert "Nothing was loaded." in refused.text
    table = refused.text[refused.text.index('class="group sev-warning conflict"') :]
    assert "<code>CS-0002</code>" in table
    assert re.search(r'<tr><th scope="row">status</th><td>trading</td><td>paused</td></tr>', table)
    assert len(list_batches(db)) == 1 and _status(db, "CS-0002") == "trading"
    radios = re.findall(r'<input type="radio" name="prefer" value="(\w+)" required>', refused.text)
    assert radios == ["theirs", "ours"]  # neither chosen for the officer
    assert registered.submit(url, prefer="everything").status_code == 400

    decided = registered.submit(url, prefer=prefer)
    assert decided.status_code == 200, decided.text
    text = _text(decided.text)
    assert "Received as batch 2" in text
    assert ("1 changed" if prefer == "theirs" else "1 kept ours") in text
    assert "Conflicts, decided as you chose" in text
    assert _status(db, "CS-0002") == status


def test_a_choice_applies_only_to_the_conflicts_that_were_shown(registered, tmp_path):
    db = registered.app.state.settings.db
    upload = _send(registered, "/exchange/receive", _partner_package(registered, tmp_path))
    url = str(upload.url.path)
    assert registered.submit(url).status_code == 409  # CS-0002: trading (ours) / paused
    # meanwhile a third partner's version of CS-0002 is received (by the command line, say)
    third = tmp_path / "third" / "third.zip"
    third.parent.mkdir()
    third.write_bytes(_partner_package(registered, third.parent, "Third Council", "developing"))
    assert receive_package(db, third, prefer="theirs").landed
    batches = len(list_batches(db))

    again = registered.submit(url, prefer="theirs")
    assert again.status_code == 409 and 'id="changed"' in again.text
    assert re.search(r"<td>developing</td><td>paused</td>", again.text)
    assert len(list_batches(db)) == batches and _status(db, "CS-0002") == "developing"
    decided = registered.submit(url, prefer="theirs")
    assert "Received as batch 3" in _text(decided.text)
    assert _status(db, "CS-0002") == "paused"


def test_verify_checks_the_signature_against_an_uploaded_public_key(registered, tmp_path):
    db = registered.app.state.settings.db
    key, public, fingerprint = new_key_pair(tmp_path / "council")
    _other_key, other_public, _other = new_key_pair(tmp_path / "stranger")
    signed = tmp_path / "signed.zip"
    export_package(db, signed, sign_key=key)
    package = signed.read_bytes()

    trusted = _send(
        registered, "/exchange/verify", package, key=("council.pub", public.read_bytes())
    )
    assert trusted.status_code == 200, trusted.text
    text = _text(trusted.text)
    assert f"signed with key {fingerprint} , a key you trust" in text
    assert "signed with a key you trust (council.pub)" in text

    stranger = _send(
        registered, "/exchange/verify", package, key=("stranger.pub", other_public.read_bytes())
    )
    assert stranger.status_code == 422
    assert '<code class="issue-code">signature-untrusted</code>' in stranger.text

    unsigned = _send(
        registered,
        "/exchange/verify",
        _export(registered),
        key=("council.pub", public.read_bytes()),
    )
    assert '<code class="issue-code">package-unsigned</code>' in unsigned.text


def test_cancel_loads_nothing_and_deletes_the_upload(registered, tmp_path):
    upload = _send(registered, "/exchange/receive", _partner_package(registered, tmp_path))
    url = str(upload.url.path)
    run_id = url.rsplit("/", 1)[1]
    folder = registered.app.state.workspace.get(run_id).folder
    assert folder.exists()
    assert f'<form method="post" action="{url}/cancel"' in upload.text
    cancelled = registered.submit(f"{url}/cancel")
    assert cancelled.url.path == "/exchange" and "Cancelled: nothing was received" in cancelled.text
    assert not folder.exists()
    assert registered.get(url).status_code == 404
    assert len(list_batches(registered.app.state.settings.db)) == 1


def test_open_referral_uk_files_download_as_a_zip(registered):
    response = registered.submit("/exchange/oruk")
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
    assert any(n.endswith(".json") for n in names) and any(n.endswith(".csv") for n in names)
    assert _scratch(registered) == []


def test_a_hostile_producer_name_is_shown_as_text(registered):
    package = _export(registered, producer='<script>alert("x")</script>')
    verified = _send(registered, "/exchange/verify", package)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in verified.text
    assert "<script>alert" not in verified.text


def test_exchange_without_a_register_or_a_package_says_so(client):
    empty = client.submit("/exchange/export")
    assert empty.status_code == 400 and "Traceback" not in empty.text
    assert "there is no register" in empty.text
    oruk = client.submit("/exchange/oruk")
    assert oruk.status_code == 400 and "there is no register" in oruk.text
    assert list(client.app.state.workspace.root.glob("scratch-*")) == []  # nothing left behind
    bad = client.submit("/exchange/export", period="next week")
    assert bad.status_code == 400 and "is not a period" in bad.text
    client.fetch_csrf()
    nothing = client.post("/exchange/verify", data={"csrf": client.csrf}, files=[("x", ("", b""))])
    assert nothing.status_code == 400 and "No package chosen" in nothing.text
    assert client.get("/exchange/receive/not-a-run").status_code == 404


def test_every_exchange_form_needs_its_csrf_token(registered, tmp_path):
    package = _export(registered)
    upload = _send(registered, "/exchange/receive", package)
    url = str(upload.url.path)
    for path in ("/exchange/export", "/exchange/oruk", url, f"{url}/cancel"):
        response = registered.post(path, data={"csrf": "forged-token-of-enough-length"})
        assert response.status_code == 403, path
        assert "This form has expired" in response.text
    for path in ("/exchange/verify", "/exchange/receive"):
        response = registered.post(
            path, data={"csrf": "x"}, files=[("package", ("p.zip", package, "application/zip"))]
        )
        assert response.status_code == 403, path
    assert len(list_batches(registered.app.state.settings.db)) == 1
    assert registered.get(url).status_code == 200  # the forged cancel dropped nothing
