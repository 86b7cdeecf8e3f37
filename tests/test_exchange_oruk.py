"""Open Referral UK export (issue 6): consenting trading enterprises as organisations and
services, validated against the official UK profile schemas when they are beside the
repository (../shared/external-data/openreferraluk-uk-profile/)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mectk.errors import UsageError
from mectk.exchange import export_oruk
from tests.exchange_support import CANARIES, build_register

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / ".." / "shared" / "external-data" / "openreferraluk-uk-profile"


def official(relative: str) -> Any:
    path = PROFILE / relative
    if not path.is_file():
        pytest.skip(f"the Open Referral UK profile is not beside the repository ({path})")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def oruk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("oruk")
    db = build_register(folder)
    result = export_oruk(db, folder / "directory")
    assert result.listed == ("CS-0001", "CS-0002")
    assert result.left_out == {"no directory consent": 6, "not trading": 2}
    return folder / "directory"


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("document", "schema"),
    [
        ("services.json", "schema/compiled/service.json"),
        ("organizations.json", "schema/compiled/organization.json"),
    ],
)
def test_the_json_validates_against_the_official_schemas(oruk: Path, document: str, schema: str):
    validator = jsonschema.Draft202012Validator(
        official(schema), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    items = json.loads((oruk / document).read_text(encoding="utf-8"))
    assert len(items) == 2
    for item in items:
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(item)]
        assert not errors, errors
    broken = {**items[0], "id": "not-a-uuid"}  # the schemas do refuse what they should
    assert list(validator.iter_errors(broken))


def test_the_csv_tables_follow_the_official_data_package(oruk: Path):
    package = official("datapackage.json")
    tables = {r["path"]: r["schema"]["fields"] for r in package["resources"]}
    ids: dict[str, set[str]] = {}
    for path in sorted(p.name for p in oruk.glob("*.csv")):
        declared = tables[path]
        found = rows(oruk, path)
        with (oruk / path).open(encoding="utf-8", newline="") as handle:
            assert next(csv.reader(handle)) == [f["name"] for f in declared]
        for field in declared:
            if field.get("constraints", {}).get("required"):
                assert all(r[field["name"]] for r in found), (path, field["name"])
        ids[path] = {r["id"] for r in found}
        assert len(ids[path]) == len(found), f"{path}: ids repeat"
    services = rows(oruk, "services.csv")
    assert {s["organization_id"] for s in services} <= ids["organizations.csv"]
    assert {s["status"] for s in services} == {"active"}
    for table in ("cost_options.csv", "service_areas.csv", "contacts.csv"):
        assert {r["service_id"] for r in rows(oruk, table)} <= ids["services.csv"]
    assert {r["contact_id"] for r in rows(oruk, "phones.csv")} <= ids["contacts.csv"]


def test_the_mapping(oruk: Path):
    services = {s["name"]: s for s in json.loads((oruk / "services.json").read_text())}
    first = services[CANARIES["enterprise.trading_name"]]
    assert first["email"] == CANARIES["enterprise.lead_email"]  # consent given
    assert first["contacts"][0]["name"] == CANARIES["enterprise.lead_name"]
    assert first["cost_options"][0]["amount"] == 19
    assert first["organization"]["name"] == CANARIES["enterprise.legal_name"]
    free = next(s for n, s in services.items() if n != CANARIES["enterprise.trading_name"])
    assert free["cost_options"][0]["amount"] == 0
    assert [a["name"] for a in free["service_areas"]] == ["The Vale"]
    phones = rows(oruk, "phones.csv")
    assert [p["number"] for p in phones] == [CANARIES["enterprise.lead_phone"]]


def test_no_one_without_consent_and_no_private_field_is_published(oruk: Path):
    everything = "".join(p.read_text(encoding="utf-8") for p in oruk.iterdir())
    for n in range(3, 13):  # enterprises without consent
        assert f"owner{n}@example.org" not in everything
        assert f"Sample Enterprise {n}" not in everything
    for name in ("notes", "base_postcode", "dbs_check_date", "consent_date"):
        value = CANARIES[f"enterprise.{name}"]
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        assert text not in everything


def test_the_folder_is_new_and_written_whole(oruk: Path, tmp_path: Path):
    with pytest.raises(UsageError, match="not an empty folder"):
        export_oruk(tmp_path / "none.db", oruk)
    listing = sorted(p.name for p in oruk.parent.iterdir())
    assert not [n for n in listing if n.endswith(".part")]


def test_export_format_oruk_on_the_command_line(oruk: Path, tmp_path: Path):
    db = next(oruk.parent.glob("source.db"))
    done = subprocess.run(
        [sys.executable, "-m", "mectk", "export", "--format", "oruk", "-o", "dir",
         "--db", str(db), "--json"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["organizations"] == 2
    assert (tmp_path / "dir" / "services.json").read_bytes() == (
        oruk / "services.json"
    ).read_bytes()
