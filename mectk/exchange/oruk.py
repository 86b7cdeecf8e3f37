"""Open Referral UK directory export: consenting trading enterprises as organisations and
services (the HSDS 3.0 UK profile), as JSON and as its CSV tables.

Contract of :func:`export_oruk`: reads the current enterprises of the register and lists
those whose ``status`` is ``trading`` and who consented to a directory listing
(``consent_directory`` true); every other enterprise is counted as left out, by reason.
Each listed enterprise becomes one organisation and one service (mapping in
:data:`STATUS` and ``docs/exchange.md``): names and contact details are published only
because consent was given; ``notes``, DBS and postcode fields never are. Ids are UUIDs
derived from the programme and enterprise ids, so the same enterprise keeps its ids from
one export to the next. The output folder is written whole or not at all (a temporary
folder renamed at the end); an existing non-empty folder is refused.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen

from mectk.errors import UsageError
from mectk.register.connect import Db
from mectk.register.exchange import current_records
from mectk.schemas import codelist

NAMESPACE = uuid.UUID("6f1d8f3e-2b7a-5c1e-9a47-3c0d5e8b1a20")
"""The namespace of mectk's ORUK ids (uuid5 of ``kind:programme:enterprise``)."""

STATUS: Mapping[str, str] = {
    "trading": "active",
    "paused": "temporarily closed",
    "closed": "defunct",
    "enquiry": "inactive",
    "developing": "inactive",
    "not_proceeding": "inactive",
}
"""mectk enterprise status -> ORUK service status (domain.md: status mirrors ORUK)."""

TABLES: Mapping[str, tuple[str, ...]] = {
    "organizations.csv": (
        "id", "name", "description", "email", "website", "logo", "uri", "parent_organization_id",
    ),
    "organization_identifiers.csv": (
        "id", "organization_id", "identifier_scheme", "identifier_type", "identifier",
    ),
    "services.csv": (
        "id", "organization_id", "name", "description", "url", "email", "status", "fees",
        "accreditations", "minimum_age", "maximum_age", "assured_date", "assurer_email",
        "alert", "last_modified",
    ),
    "cost_options.csv": (
        "id", "service_id", "valid_from", "valid_to", "option", "amount", "amount_description",
    ),
    "service_areas.csv": (
        "id", "service_id", "name", "extent", "extent_type", "uri", "service_area",
    ),
    "contacts.csv": ("id", "service_id", "name", "title"),
    "phones.csv": ("id", "contact_id", "number", "description"),
}  # fmt: skip
"""The UK profile's CSV tables mectk fills, with their columns in the profile's order."""

_SCHEMES = {"GB-COH": "Companies House", "GB-CHC": "Charity Commission", "GB-SC": "OSCR"}


@frozen
class OrukResult:
    """What :func:`export_oruk` wrote: the folder, its files, and who was listed or not."""

    folder: Path
    files: tuple[str, ...]
    listed: tuple[str, ...]
    left_out: Mapping[str, int]

    def as_json(self) -> dict[str, Any]:
        """The result as a JSON object."""
        return {
            "format": "oruk",
            "folder": str(self.folder),
            "files": list(self.files),
            "organizations": len(self.listed),
            "services": len(self.listed),
            "listed": list(self.listed),
            "left_out": dict(self.left_out),
        }


def _id(kind: str, *parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join((kind, *parts))))


def _labels(name: str, codes: Sequence[str]) -> str:
    found = codelist(name)
    return ", ".join(found.label(c) for c in codes)


def _money(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def _service(e: Mapping[str, Any], org_id: str, localities: Mapping[str, str]) -> dict[str, Any]:
    key = (str(e.get("programme_id")), str(e["enterprise_id"]))
    service_id = _id("service", *key)
    services = list(e.get("services") or [])
    groups = list(e.get("client_groups") or [])
    parts = [f"Offers: {_labels('service', services)}." if services else ""]
    if groups:
        parts.append(f"Supports: {_labels('client_group', groups)}.")
    if e.get("accepts_direct_payments"):
        parts.append("Accepts Direct Payments.")
    service: dict[str, Any] = {
        "id": service_id,
        "organization_id": org_id,
        "name": str(e["trading_name"]),
        "description": " ".join(p for p in parts if p) or "Community micro-enterprise.",
        "status": STATUS[str(e["status"])],
    }
    if e.get("website"):
        service["url"] = e["website"]
    if e.get("lead_email"):
        service["email"] = e["lead_email"]
    if e.get("quality_standard") and e["quality_standard"] != "none":
        service["accreditations"] = codelist("quality_standard").label(e["quality_standard"])
    unit = e.get("price_unit")
    if e.get("price_amount_gbp") is not None or unit == "free":
        option: dict[str, Any] = {"id": _id("cost_option", *key), "service_id": service_id}
        option["amount"] = 0 if unit == "free" else _money(e["price_amount_gbp"])
        if unit:
            option["option"] = codelist("price_unit").label(unit)
            option["amount_description"] = f"£ {codelist('price_unit').label(unit).lower()}"
        service["cost_options"] = [option]
    area_ids = list(e.get("service_area_localities") or []) or [e.get("locality_id")]
    service["service_areas"] = [
        {
            "id": _id("service_area", *key, str(a)),
            "service_id": service_id,
            "name": localities.get(str(a), str(a)),
            "service_area": localities.get(str(a), str(a)),
        }
        for a in area_ids
        if a
    ]
    if e.get("lead_name"):
        service["contacts"] = [
            {"id": _id("contact", *key), "service_id": service_id, "name": e["lead_name"]}
        ]
    return service


def _organization(e: Mapping[str, Any]) -> dict[str, Any]:
    key = (str(e.get("programme_id")), str(e["enterprise_id"]))
    org_id = _id("organization", *key)
    form = codelist("legal_form").label(str(e["legal_form"]))
    org: dict[str, Any] = {
        "id": org_id,
        "name": str(e.get("legal_name") or e["trading_name"]),
        "description": f"{form}; a community micro-enterprise.",
    }
    if e.get("website"):
        org["website"] = e["website"]
    if e.get("lead_email"):
        org["email"] = e["lead_email"]
    if e.get("org_id"):
        prefix, _, identifier = str(e["org_id"]).rpartition("-")
        org["organization_identifiers"] = [
            {
                "id": _id("organization_identifier", *key),
                "organization_id": org_id,
                "identifier_scheme": prefix,
                "identifier_type": _SCHEMES.get(prefix, prefix),
                "identifier": identifier,
            }
        ]
    return org


def _reason(e: Mapping[str, Any]) -> str | None:
    if e.get("status") != "trading":
        return "not trading"
    if e.get("consent_directory") is not True:
        return "no directory consent"
    if not e.get("trading_name"):
        return "no trading name"
    return None


def _csv(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buffer.getvalue()


def _tables(
    orgs: Sequence[Mapping[str, Any]], services: Sequence[Mapping[str, Any]], phones: list[Any]
) -> dict[str, list[Mapping[str, Any]]]:
    return {
        "organizations.csv": list(orgs),
        "organization_identifiers.csv": [
            i for o in orgs for i in o.get("organization_identifiers", ())
        ],
        "services.csv": list(services),
        "cost_options.csv": [c for s in services for c in s.get("cost_options", ())],
        "service_areas.csv": [a for s in services for a in s.get("service_areas", ())],
        "contacts.csv": [c for s in services for c in s.get("contacts", ())],
        "phones.csv": phones,
    }


def build_oruk(
    records: Sequence[Mapping[str, Any]], localities: Mapping[str, str]
) -> tuple[
    list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[str, int], list[str]
]:
    """Organisations, services, phones, left-out counts and listed ids from enterprises."""
    orgs: list[dict[str, Any]] = []
    services: list[dict[str, Any]] = []
    phones: list[dict[str, Any]] = []
    left_out: dict[str, int] = {}
    listed: list[str] = []
    for e in records:
        reason = _reason(e)
        if reason is not None:
            left_out[reason] = left_out.get(reason, 0) + 1
            continue
        org = _organization(e)
        service = _service(e, org["id"], localities)
        orgs.append(org)
        services.append(service)
        listed.append(str(e["enterprise_id"]))
        if e.get("lead_phone") and service.get("contacts"):
            contact = service["contacts"][0]
            phones.append(
                {"id": _id("phone", contact["id"]), "contact_id": contact["id"],
                 "number": e["lead_phone"]}
            )  # fmt: skip
    return orgs, services, phones, left_out, listed


def export_oruk(db: Db, folder: Path) -> OrukResult:
    """Write the ORUK directory files into ``folder`` (module contract)."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        msg = f"-o {folder}: exists and is not an empty folder"
        raise UsageError(msg, hint="Give a new folder name for the Open Referral UK files.")
    parent = folder.parent if str(folder.parent) else Path()
    if not parent.is_dir():
        raise UsageError(f"-o {folder}: the folder {parent} does not exist")
    found = current_records(db, ["enterprise", "locality"])
    localities = {
        r.record_id: str(r.data.get("name") or r.record_id) for r in found if r.kind == "locality"
    }
    enterprises = [r.data for r in found if r.kind == "enterprise"]
    orgs, services, phones, left_out, listed = build_oruk(enterprises, localities)
    by_org = {s["organization_id"]: s for s in services}
    documents = {
        "services.json": [
            {**s, "organization": _org_only(o)} for s, o in zip(services, orgs, strict=True)
        ],
        "organizations.json": [{**o, "services": [_service_only(by_org[o["id"]])]} for o in orgs],
    }
    files: dict[str, str] = {
        name: json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        for name, doc in documents.items()
    }
    for name, rows in _tables(orgs, services, phones).items():
        files[name] = _csv(TABLES[name], rows)
    temporary = parent / f".{folder.name}.{uuid.uuid4().hex[:12]}.part"
    temporary.mkdir()
    try:
        for name, text in files.items():
            (temporary / name).write_text(text, encoding="utf-8", newline="")
        if folder.exists():
            folder.rmdir()
        temporary.rename(folder)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return OrukResult(folder, tuple(sorted(files)), tuple(listed), left_out)


def _org_only(org: Mapping[str, Any]) -> dict[str, Any]:
    return dict(org)


def _service_only(service: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in service.items() if k != "organization"}
