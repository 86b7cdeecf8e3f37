"""Shared set-up for the exchange tests: a register imported from a real canonical
workbook whose personal fields hold canary values, and helpers to rewrite packages."""

from __future__ import annotations

import datetime
import hashlib
import json
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mectk.pipeline import validate_files
from mectk.plugin_manager import build_registry, make_plugin_manager
from mectk.register import import_result
from mectk.sample_data import sample_rows
from mectk.template import write_workbook

D = datetime.date
CANARIES: dict[str, Any] = {
    "enterprise.trading_name": "Canary Trading Qx7",
    "enterprise.legal_name": "Canary Legal Qx7",
    "enterprise.lead_name": "Canary Lead Qx7",
    "enterprise.lead_email": "canary.qx7@example.org",
    "enterprise.lead_phone": "01632960777",
    "enterprise.base_postcode": "WR9 9QZ",
    "enterprise.dbs_check_date": D(2019, 2, 17),
    "enterprise.consent_date": D(2018, 3, 19),
    "enterprise.notes": "Canary notes Qx7",
    "coordinator.display_name": "Canary Coordinator Qx7",
    "spend_line.supplier_name": "Canary Supplier Qx7",
}
"""A canary value in every personal field that can hold one (booleans are checked by
their column instead)."""
CANARY_ENTERPRISE = "CS-0001"


def canary_texts() -> list[bytes]:
    """Every canary as the bytes it would appear as in a package."""
    out = []
    for value in CANARIES.values():
        text = value.isoformat() if isinstance(value, D) else str(value)
        out.append(text.encode())
    out.append(b"WR99QZ")
    return out


def canary_rows() -> dict[str, list[dict[str, Any]]]:
    rows = sample_rows()
    first = next(e for e in rows["enterprise"] if e["enterprise_id"] == CANARY_ENTERPRISE)
    for name, value in CANARIES.items():
        kind, field = name.split(".")
        if kind == "enterprise":
            first[field] = value
    first.update(dbs_checked=True, consent_directory=True, website="https://example.org/x")
    second = next(e for e in rows["enterprise"] if e["enterprise_id"] == "CS-0002")
    second.update(consent_directory=True, price_unit="free", service_area_localities=["L-VALE"])
    rows["coordinator"][0]["display_name"] = CANARIES["coordinator.display_name"]
    rows["spend_line"][0]["supplier_name"] = CANARIES["spend_line.supplier_name"]
    return rows


def build_register(folder: Path) -> Path:
    """A register with the canary sample imported from a real canonical workbook."""
    workbook = folder / "canary.xlsx"
    write_workbook(workbook, canary_rows())
    result = validate_files(build_registry(make_plugin_manager()), [workbook])
    db = folder / "source.db"
    import_result(db, result)
    return db


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist()}


def write_zip(path: Path, members: Mapping[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def rehash(members: dict[str, bytes], member: str, *, rows: int | None = None) -> None:
    """Make the manifest agree with ``member``'s (changed) bytes, as a forger would."""
    manifest = json.loads(members["datapackage.json"])
    for resource in manifest["resources"]:
        if resource["path"] == member:
            resource["hash"] = "sha256:" + hashlib.sha256(members[member]).hexdigest()
            resource["bytes"] = len(members[member])
            if rows is not None:
                resource["rows"] = rows
    members["datapackage.json"] = json.dumps(manifest).encode()


def edit_manifest(members: dict[str, bytes], change: Callable[[dict[str, Any]], None]) -> None:
    manifest = json.loads(members["datapackage.json"])
    change(manifest)
    members["datapackage.json"] = json.dumps(manifest).encode()
