"""Exchange packages (issue 6): export, verify, receive and signing, on real registers.

The source register is imported from a real canonical workbook whose personal fields hold
canary values. Packages are real zips; tampered ones are rewritten member by member, as a
forger would, so that each check is reached on its own and gives its own issue code.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from mectk.cli import cli
from mectk.errors import MectkError, UsageError
from mectk.exchange import (
    export_package,
    new_key_pair,
    receive_package,
    verify_package,
)
from mectk.exchange import package as package_module
from mectk.exchange.fields import personal_field_names
from mectk.register import list_batches
from mectk.register.exchange import current_records
from tests.exchange_support import (
    CANARIES,
    CANARY_ENTERPRISE,
    build_register,
    canary_texts,
    edit_manifest,
    read_zip,
    rehash,
    write_zip,
)


@pytest.fixture(scope="module")
def source_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_register(tmp_path_factory.mktemp("exchange"))


@pytest.fixture
def db(tmp_path: Path, source_db: Path) -> Path:
    copy = tmp_path / "register.db"
    shutil.copyfile(source_db, copy)
    return copy


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory, source_db: Path) -> Path:
    out = tmp_path_factory.mktemp("package") / "package.zip"
    export_package(source_db, out)
    return out


@pytest.fixture(scope="module")
def personal_package(tmp_path_factory: pytest.TempPathFactory, source_db: Path) -> Path:
    out = tmp_path_factory.mktemp("personal") / "personal.zip"
    export_package(source_db, out, include_personal=True)
    return out


def codes(result) -> set[str]:
    return {i.code for i in result.issues}


# ---- export ---------------------------------------------------------------------------


def test_a_default_package_holds_no_personal_value_anywhere(package: Path):
    raw = package.read_bytes()
    members = read_zip(package)
    for canary in canary_texts():
        assert canary not in raw
        for name, data in members.items():
            assert canary not in data, f"{canary!r} found in {name}"
    manifest = json.loads(members["datapackage.json"])
    assert manifest["mectk"]["personal_fields_included"] == []
    left_out = set(manifest["mectk"]["personal_fields_left_out"])
    assert {"enterprise.trading_name", "coordinator.display_name"} <= left_out
    for resource in manifest["resources"]:
        header = members[resource["path"]].split(b"\r\n", 1)[0].decode().split(",")
        assert not set(header) & set(personal_field_names(resource["name"])), resource["name"]


def test_with_personal_data_the_manifest_lists_exactly_what_is_in(personal_package: Path):
    members = read_zip(personal_package)
    manifest = json.loads(members["datapackage.json"])
    included = set(manifest["mectk"]["personal_fields_included"])
    assert "enterprise.lead_email" in included and "enterprise.notes" not in included
    everything = b"".join(members.values())
    for name, value in CANARIES.items():
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        assert (text.encode() in everything) == (name != "enterprise.notes"), name


def test_the_package_follows_the_frictionless_layout(package: Path, source_db: Path):
    manifest = json.loads(read_zip(package)["datapackage.json"])
    assert manifest["profile"] == "data-package"
    stored = current_records(source_db)
    for resource in manifest["resources"]:
        assert resource["rows"] == sum(1 for r in stored if r.kind == resource["name"])
        assert resource["hash"].startswith("sha256:")
        assert resource["schema"].endswith(".table.json")
        assert resource["jsonschema"].endswith(".schema.json")
    assert manifest["mectk"]["producer"] == {"name": "Sample Delivery CIC"}
    assert manifest["mectk"]["source_batches"] == ["1"]


def test_frictionless_validates_an_unpacked_package(package: Path, tmp_path: Path):
    frictionless = pytest.importorskip(
        "frictionless", reason="frictionless is a test extra: pip install -e '.[test]'"
    )
    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path)  # our own package, just written
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["type", "message"])[:5]
    # and it notices a wrong row, so the check above is a real one
    csv_path = tmp_path / "data" / "outcome.csv"
    csv_path.write_bytes(csv_path.read_bytes().replace(b"CS-0001", b"XX-0001", 1))
    assert not frictionless.validate(str(tmp_path / "datapackage.json")).valid


def test_a_period_keeps_its_records_and_what_they_name(source_db: Path, tmp_path: Path):
    out = tmp_path / "q1.zip"
    result = export_package(source_db, out, period="2025-04-01..2025-05-15")
    assert result.period == "2025-04-01..2025-05-15"
    checked = verify_package(out)
    assert checked.valid, checked.issues
    episodes = [r for r in checked.records if r.kind == "support_episode"]
    assert episodes and all(
        "2025-04-01" <= r.data["episode_date"] <= "2025-05-15" for r in episodes
    )
    everything = [r for r in current_records(source_db) if r.kind == "support_episode"]
    assert len(episodes) < len(everything)
    assert "outcome" not in result.counts  # the outcomes are as at 30 September
    assert (
        json.loads(read_zip(out)["datapackage.json"])["mectk"]["period"] == "2025-04-01..2025-05-15"
    )


def test_a_failed_export_leaves_nothing_behind(source_db: Path, tmp_path: Path, monkeypatch):
    out = tmp_path / "package.zip"
    out.write_bytes(b"the previous package")
    calls = []

    def failing(self, info, data, *args, **kwargs):
        calls.append(info)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return original(self, info, data, *args, **kwargs)

    original = zipfile.ZipFile.writestr
    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(MectkError) as raised:
        export_package(source_db, out)
    assert raised.value.code == "output-not-written"
    assert "No space" in raised.value.message
    assert out.read_bytes() == b"the previous package"
    assert [p.name for p in tmp_path.iterdir()] == ["package.zip"]


def test_an_empty_register_or_period_is_a_usage_error(source_db: Path, tmp_path: Path):
    with pytest.raises(UsageError, match="no records"):
        package_module.build_members(
            [], include_personal=False, producer={"name": "x"}, period=None, created="x"
        )
    with pytest.raises(UsageError, match="no register"):
        export_package(tmp_path / "missing.db", tmp_path / "p.zip")


# ---- verify ---------------------------------------------------------------------------


def test_a_fresh_package_verifies(package: Path, source_db: Path):
    result = verify_package(package)
    assert result.valid and result.exit_code == 0, result.issues
    assert sum(result.counts().values()) == len(current_records(source_db))
    document = result.as_json()
    assert document["valid"] is True and document["issues"] == []


def test_a_conditional_value_the_producer_did_not_record_is_a_warning(
    package: Path, tmp_path: Path
):
    # a trading enterprise with no services: what a council layout without a services
    # column gives (imported with field-not-in-source), not a broken package
    members = read_zip(package)
    members["data/enterprise.csv"] = members["data/enterprise.csv"].replace(
        b',"[""personal_care""]",', b",,", 1
    )
    rehash(members, "data/enterprise.csv")
    result = verify_package(write_zip(tmp_path / "p.zip", members))
    assert result.valid and result.exit_code == 0
    [issue] = result.issues
    assert (issue.code, issue.severity, issue.field) == (
        "package-value-not-recorded",
        "warning",
        "services",
    )
    assert issue.record_id == "CS-0001"
    assert "'services' would be required for 1 record(s), first at row 2" in issue.message
    shown = CliRunner().invoke(cli, ["verify", str(tmp_path / "p.zip")])
    assert shown.exit_code == 0
    assert "package-value-not-recorded" in shown.output  # a valid package's warnings are said
    # an unconditional requirement missing is still an error
    members["data/enterprise.csv"] = members["data/enterprise.csv"].replace(
        b"CS-0002,CS-CME,sole_trader,", b"CS-0002,CS-CME,,", 1
    )
    rehash(members, "data/enterprise.csv")
    broken = verify_package(write_zip(tmp_path / "q.zip", members))
    assert broken.exit_code == 1
    assert "record-invalid" in {i.code for i in broken.issues}


def _flip_in_member(members: dict[str, bytes]) -> None:
    data = members["data/locality.csv"]
    members["data/locality.csv"] = data.replace(b"North", b"Nurth", 1)  # still a valid row


def _extra_column(members: dict[str, bytes]) -> None:
    lines = members["data/locality.csv"].split(b"\r\n")
    lines = [lines[0] + b",date_of_birth"] + [ln + b",1970-01-01" if ln else ln for ln in lines[1:]]
    members["data/locality.csv"] = b"\r\n".join(lines)
    rehash(members, "data/locality.csv")


def _undeclared_personal_column(members: dict[str, bytes]) -> None:
    lines = members["data/coordinator.csv"].split(b"\r\n")
    lines = [lines[0] + b",display_name"] + [ln + b",Someone" if ln else ln for ln in lines[1:]]
    members["data/coordinator.csv"] = b"\r\n".join(lines)
    rehash(members, "data/coordinator.csv")


def _bad_code(members: dict[str, bytes]) -> None:
    members["data/enterprise.csv"] = members["data/enterprise.csv"].replace(
        b",trading,", b",open,", 1
    )
    rehash(members, "data/enterprise.csv")


def _row_removed(members: dict[str, bytes]) -> None:
    lines = members["data/outcome.csv"].split(b"\r\n")
    members["data/outcome.csv"] = b"\r\n".join(lines[:1] + lines[2:])
    rehash(members, "data/outcome.csv")


def _broken_reference(members: dict[str, bytes]) -> None:
    members["data/outcome.csv"] = members["data/outcome.csv"].replace(b"CS-0001", b"CS-9999")
    rehash(members, "data/outcome.csv")


def _duplicate_id(members: dict[str, bytes]) -> None:
    lines = members["data/locality.csv"].split(b"\r\n")
    members["data/locality.csv"] = b"\r\n".join([*lines[:2], lines[1], *lines[2:]])
    rehash(members, "data/locality.csv", rows=4)


TAMPERING = {
    "member-rewritten": (_flip_in_member, "checksum-mismatch"),
    "member-missing": (lambda m: m.pop("data/support_event.csv"), "package-member-missing"),
    "manifest-missing": (lambda m: m.pop("datapackage.json"), "package-member-missing"),
    "member-unknown": (lambda m: m.update({"extra.csv": b"a,b\r\n"}), "package-member-unknown"),
    "manifest-key-unknown": (
        lambda m: edit_manifest(m, lambda d: d["mectk"].update(purpose="marketing")),
        "package-key-unknown",
    ),
    "resource-key-unknown": (
        lambda m: edit_manifest(m, lambda d: d["resources"][0].update(owner="x")),
        "package-key-unknown",
    ),
    "manifest-invalid": (
        lambda m: edit_manifest(m, lambda d: d.pop("resources")),
        "manifest-invalid",
    ),
    "manifest-not-json": (lambda m: m.update({"datapackage.json": b"{nope"}), "manifest-invalid"),
    "personal-field-undeclarable": (
        lambda m: edit_manifest(
            m, lambda d: d["mectk"]["personal_fields_included"].append("enterprise.notes")
        ),
        "manifest-invalid",
    ),
    "schema-version": (
        lambda m: edit_manifest(m, lambda d: d["mectk"].update(schema_version="2.0.0")),
        "package-schema-version",
    ),
    "column-unknown": (_extra_column, "package-key-unknown"),
    "personal-column-undeclared": (_undeclared_personal_column, "package-key-unknown"),
    "record-invalid": (_bad_code, "record-invalid"),
    "count-mismatch": (_row_removed, "record-count-mismatch"),
    "reference-missing": (_broken_reference, "reference-missing"),
    "id-duplicate": (_duplicate_id, "id-duplicate"),
}


@pytest.mark.parametrize("case", TAMPERING)
def test_tampering_is_refused_with_its_own_code(case: str, package: Path, tmp_path: Path):
    change, code = TAMPERING[case]
    members = read_zip(package)
    change(members)
    result = verify_package(write_zip(tmp_path / "tampered.zip", members))
    assert not result.valid and result.exit_code == 1
    assert codes(result) == {code}, [i.message for i in result.issues]


def test_personal_values_never_appear_in_issues(personal_package: Path, tmp_path: Path):
    members = read_zip(personal_package)
    text = members["data/enterprise.csv"].replace(b"canary.qx7@example.org", b"canary.qx7@", 1)
    members["data/enterprise.csv"] = text
    rehash(members, "data/enterprise.csv")
    result = verify_package(write_zip(tmp_path / "p.zip", members))
    assert codes(result) == {"record-invalid"}
    assert "canary.qx7" not in json.dumps(result.as_json())
    assert any(i.field == "lead_email" for i in result.issues)


@pytest.mark.parametrize(
    "name", ["../evil.csv", "/etc/passwd", "C:/x.csv", "data/CON.csv", "a\\b.csv", "a\x00b.csv"]
)
def test_unsafe_member_paths_are_refused_before_reading(name: str, package: Path, tmp_path: Path):
    path = tmp_path / "unsafe.zip"
    shutil.copyfile(package, path)
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("x")
        info.filename = name  # as a hostile tool writes it, without zipfile's clean-up
        archive.writestr(info, b"x")
    result = verify_package(path)
    assert result.exit_code == 3 and codes(result) == {"package-unsafe-path"}


def test_a_link_member_is_refused(package: Path, tmp_path: Path):
    path = tmp_path / "link.zip"
    shutil.copyfile(package, path)
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("data/link.csv")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, b"/etc/passwd")
    result = verify_package(path)
    assert result.exit_code == 3 and codes(result) == {"package-member-link"}


def test_zip_bombs_and_too_many_members_are_refused_from_the_directory(tmp_path: Path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("datapackage.json", b"\0" * (5 * 1024 * 1024))
    result = verify_package(bomb)
    assert result.exit_code == 3 and codes(result) == {"package-too-large"}
    crowd = tmp_path / "crowd.zip"
    with zipfile.ZipFile(crowd, "w") as archive:
        for n in range(101):
            archive.writestr(f"m{n}.csv", b"")
    assert codes(verify_package(crowd)) == {"package-too-large"}


def test_a_flipped_byte_in_the_zip_is_refused(package: Path, tmp_path: Path):
    raw = bytearray(package.read_bytes())
    with zipfile.ZipFile(package) as archive:
        info = archive.getinfo("data/enterprise.csv")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0x01
    path = tmp_path / "flipped.zip"
    path.write_bytes(bytes(raw))
    result = verify_package(path)
    assert result.exit_code == 3 and codes(result) == {"package-unreadable"}
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(zlib.compress(b"hello"))
    assert codes(verify_package(not_zip)) == {"package-unreadable"}


def test_a_missing_package_is_a_usage_error(tmp_path: Path):
    with pytest.raises(UsageError):
        verify_package(tmp_path / "nothing.zip")


# ---- signing --------------------------------------------------------------------------


def test_keys_signing_and_trust(source_db: Path, tmp_path: Path):
    private, public, fingerprint = new_key_pair(tmp_path / "ours")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in private.read_bytes() and b"PUBLIC KEY" in public.read_bytes()
    with pytest.raises(UsageError, match="already exists"):
        new_key_pair(tmp_path / "ours")
    _, stranger, _ = new_key_pair(tmp_path / "stranger")
    signed = tmp_path / "signed.zip"
    assert export_package(source_db, signed, sign_key=private).signed_by == fingerprint
    trusted = verify_package(signed, trust=[public])
    assert trusted.valid and trusted.trusted and trusted.signed_by == fingerprint
    assert codes(verify_package(signed, trust=[stranger])) == {"signature-untrusted"}
    members = read_zip(signed)
    members["data/locality.csv"] = members["data/locality.csv"].replace(b"North", b"Nurth")
    rehash(members, "data/locality.csv")  # a forger fixes the hash, but cannot re-sign
    changed = verify_package(write_zip(tmp_path / "changed.zip", members), trust=[public])
    assert codes(changed) == {"signature-invalid"} and changed.exit_code == 1
    unsigned = tmp_path / "unsigned.zip"
    export_package(source_db, unsigned)
    assert codes(verify_package(unsigned, trust=[public])) == {"package-unsigned"}
    with pytest.raises(UsageError, match="Ed25519"):
        export_package(source_db, tmp_path / "x.zip", sign_key=public)


# ---- receive --------------------------------------------------------------------------


def test_receiving_into_an_empty_register_reproduces_every_record(
    personal_package: Path, source_db: Path, tmp_path: Path
):
    target = tmp_path / "partner.db"
    result = receive_package(target, personal_package)
    assert result.landed and result.exit_code == 0
    ours = {(r.kind, r.record_id): r.data for r in current_records(source_db)}
    theirs = {(r.kind, r.record_id): r.data for r in current_records(target)}
    assert set(ours) == set(theirs) and result.new == len(ours)
    for key, data in ours.items():
        expected = {k: v for k, v in data.items() if k != "notes"}
        assert theirs[key] == expected, key
    (batch,) = list_batches(target)
    assert batch.source == "receive" and batch.producer == {"name": "Sample Delivery CIC"}
    again = receive_package(target, personal_package)
    assert again.unchanged == len(ours) and again.new == again.changed == 0


def test_a_package_without_personal_data_keeps_the_registers_values(package: Path, db: Path):
    result = receive_package(db, package)
    assert result.landed and result.unchanged == sum(result.verification.counts().values())
    (current,) = [
        r for r in current_records(db, ["enterprise"]) if r.record_id == CANARY_ENTERPRISE
    ]
    assert current.data["lead_email"] == CANARIES["enterprise.lead_email"]


def _partner_package(source_db: Path, tmp_path: Path, producer: str) -> Path:
    """The partner's register: ours, with CS-0002 paused there; exported as ``producer``."""
    partner = tmp_path / f"{producer}.db"
    shutil.copyfile(source_db, partner)
    out = tmp_path / f"{producer}.zip"
    export_package(partner, out, producer=producer)
    members = read_zip(out)
    text = members["data/enterprise.csv"].decode()
    lines = text.split("\r\n")
    index = next(i for i, ln in enumerate(lines) if ln.startswith("CS-0002,"))
    lines[index] = lines[index].replace(",trading,", ",paused,", 1)
    members["data/enterprise.csv"] = "\r\n".join(lines).encode()
    rehash(members, "data/enterprise.csv")
    return write_zip(out, members)


def test_a_conflict_is_reported_field_by_field_and_lands_nothing(
    source_db: Path, db: Path, tmp_path: Path
):
    partner = _partner_package(source_db, tmp_path, "Neighbouring Council")
    before = list_batches(db)
    result = receive_package(db, partner)
    assert not result.landed and result.exit_code == 1
    (conflict,) = result.conflicts
    assert (conflict.kind, conflict.record_id) == ("enterprise", "CS-0002")
    assert [(c.field, c.old, c.new) for c in conflict.changes] == [("status", "trading", "paused")]
    assert codes(result) == {"receive-conflict"}
    assert list_batches(db) == before


@pytest.mark.parametrize(("prefer", "status"), [("theirs", "paused"), ("ours", "trading")])
def test_prefer_decides_a_conflict_explicitly(
    prefer: str, status: str, source_db: Path, db: Path, tmp_path: Path
):
    partner = _partner_package(source_db, tmp_path, "Neighbouring Council")
    result = receive_package(db, partner, prefer=prefer)  # type: ignore[arg-type]
    assert result.landed and codes(result) == {"receive-conflict-resolved"}
    assert (result.changed, result.kept_ours) == ((1, 0) if prefer == "theirs" else (0, 1))
    (current,) = [r for r in current_records(db, ["enterprise"]) if r.record_id == "CS-0002"]
    assert current.data["status"] == status


def test_the_same_producer_updates_its_own_records_without_conflict(
    source_db: Path, tmp_path: Path
):
    target = tmp_path / "partner.db"
    first = tmp_path / "first.zip"
    export_package(source_db, first, producer="Neighbouring Council")
    assert receive_package(target, first).new > 0
    update = _partner_package(source_db, tmp_path, "Neighbouring Council")
    result = receive_package(target, update)
    assert result.landed and result.changed == 1 and not result.conflicts


def test_an_invalid_package_lands_nothing(package: Path, db: Path, tmp_path: Path):
    members = read_zip(package)
    _bad_code(members)
    before = list_batches(db)
    result = receive_package(db, write_zip(tmp_path / "bad.zip", members))
    assert not result.landed and result.exit_code == 1 and list_batches(db) == before


# ---- the command line -----------------------------------------------------------------


def mectk(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mectk", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_export_verify_receive_on_the_command_line(source_db: Path, tmp_path: Path):
    keys = mectk("keys", "new", "council", "--json", cwd=tmp_path)
    assert keys.returncode == 0, keys.stderr
    exported = mectk(
        "export", "-o", "p.zip", "--db", str(source_db), "--sign", "council.key", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["signed_by"] == json.loads(keys.stdout)["fingerprint"]
    verified = mectk("verify", "p.zip", "--trust", "council.pub", "--json", cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["trusted"] is True
    received = mectk("receive", "p.zip", "--db", "partner.db", "--json", cwd=tmp_path)
    assert received.returncode == 0, received.stderr
    document = json.loads(received.stdout)
    assert document["landed"] and document["register"]["new"] == sum(document["records"].values())
    members = read_zip(tmp_path / "p.zip")
    members["extra.csv"] = b"x"
    write_zip(tmp_path / "bad.zip", members)
    bad = mectk("verify", "bad.zip", cwd=tmp_path)
    assert bad.returncode == 1 and "package-member-unknown" in bad.stderr
    assert "Traceback" not in bad.stderr
    (tmp_path / "junk.zip").write_bytes(b"not a zip at all")
    junk = mectk("receive", "junk.zip", "--db", "partner.db", "--json", cwd=tmp_path)
    assert junk.returncode == 3
    assert json.loads(junk.stdout)["issues"][0]["code"] == "package-unreadable"
