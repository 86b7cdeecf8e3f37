"""Writing an exchange package (design.md section 8).

Contract of :func:`export_package`: reads the current records of the register, keeps
those of the period when one is given, and writes ONE zip atomically (temporary file,
then rename) holding:

* ``datapackage.json``: a Frictionless Data Package; one resource per record kind present
  (path, format ``csv``, Table Schema, JSON Schema, ``sha256:`` hash, bytes, rows) and
  mectk's manifest under ``mectk`` (mectk and schema versions, producer, period, source
  batches, the personal fields included and left out, the schema files' hashes);
* ``data/<kind>.csv``: the records (cells as :mod:`mectk.exchange.fields` says);
* ``schemas/<kind>.schema.json`` (JSON Schema) and ``schemas/<kind>.table.json`` (Table
  Schema);
* ``signature.json`` when a signing key is given.

Personal fields are left out unless ``include_personal``; free-text notes never travel.
A period keeps dated records (support episodes and events, outcomes, spend lines) of the
period, enterprises first contacted by its end, every record they name, and all programme
settings. The manifest is checked against its own schema before anything is written.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen

from mectk import __version__
from mectk.atomic import atomic_output
from mectk.errors import UsageError
from mectk.exchange.fields import (
    carried,
    encode_cell,
    personal_field_names,
    profile_text,
    table_schema,
)
from mectk.exchange.references import REFERENCES, SETTINGS_KINDS
from mectk.exchange.signing import SIGNATURE_MEMBER, load_private_key, signature_document
from mectk.periods import Period, parse_period
from mectk.register.connect import Db
from mectk.register.exchange import StoredRecord, current_records
from mectk.schemas import RECORD_KINDS, flatten, schema_version

MANIFEST_MEMBER = "datapackage.json"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_DATED = {
    "support_episode": ("episode_date",),
    "support_event": ("event_date",),
    "outcome": ("as_at_date", "period_end", "period_start"),
}


@frozen
class ExportResult:
    """What :func:`export_package` wrote."""

    path: Path
    sha256: str
    counts: Mapping[str, int]
    personal_fields_included: tuple[str, ...]
    producer: Mapping[str, str]
    period: str | None
    signed_by: str | None
    manifest: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The result as a JSON object."""
        return {
            "mectk_version": __version__,
            "package": str(self.path),
            "sha256": self.sha256,
            "producer": dict(self.producer),
            "period": self.period,
            "records": dict(self.counts),
            "personal_fields_included": list(self.personal_fields_included),
            "signed_by": self.signed_by,
        }


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "producer"


def _default_producer(found: Sequence[StoredRecord]) -> dict[str, str]:
    for record in found:
        if record.kind == "programme":
            data = record.data
            name = data.get("delivery_org_name") or flatten(data).get("council.name")
            if name:
                return {"name": str(name)}
    msg = "the register holds no programme settings to name the producer"
    raise UsageError(msg, hint="Give --producer 'Your organisation'.")


def _in_period(record: StoredRecord, period: Period) -> bool | None:
    """True/False for a dated record; None for a kind the period does not select on."""
    data = record.data
    if record.kind == "spend_line":
        year = data.get("financial_year")
        quarter = data.get("quarter")
        if not year:
            return False
        try:
            spent = parse_period(f"{year}-Q{quarter}" if quarter else str(year))
        except UsageError:  # a year such as 2025-27 matches the schema but is no year
            return False
        return spent.start <= period.end and spent.end >= period.start
    names = _DATED.get(record.kind)
    if names is None:
        return None
    for name in names:
        value = data.get(name)
        if value:
            return period.start <= datetime.date.fromisoformat(str(value)[:10]) <= period.end
    return False


def select_records(found: Sequence[StoredRecord], period: Period | None) -> list[StoredRecord]:
    """The records a package for ``period`` carries (all when no period), in kind order."""
    if period is None:
        return list(found)
    keep: dict[tuple[str, str], StoredRecord] = {}
    by_id = {(r.kind, r.record_id): r for r in found}
    for record in found:
        first = record.data.get("first_contact_date") if record.kind == "enterprise" else None
        if (
            record.kind in SETTINGS_KINDS
            or _in_period(record, period)
            or (first and datetime.date.fromisoformat(str(first)) <= period.end)
        ):
            keep[(record.kind, record.record_id)] = record
    pending = list(keep.values())
    while pending:  # every record a kept record names, and what that one names
        record = pending.pop()
        for kind, field, target in REFERENCES:
            if kind != record.kind:
                continue
            values = record.data.get(field)
            for value in values if isinstance(values, list) else [values]:
                named = by_id.get((target, str(value))) if value is not None else None
                if named is not None and (target, named.record_id) not in keep:
                    keep[(target, named.record_id)] = named
                    pending.append(named)
    return sorted(keep.values(), key=lambda r: (list(RECORD_KINDS).index(r.kind), r.record_id))


def _csv(kind: str, records: Iterable[StoredRecord], personal: frozenset[str]) -> bytes:
    columns = carried(kind, personal)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    for record in records:
        flat = flatten(record.data)
        writer.writerow([encode_cell(c, flat.get(c.name)) for c in columns])
    return buffer.getvalue().encode("utf-8")


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json_bytes(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def build_members(
    records: Sequence[StoredRecord],
    *,
    include_personal: bool,
    producer: Mapping[str, str],
    period: str | None,
    created: str,
) -> dict[str, bytes]:
    """Every member of the package except the signature, ``datapackage.json`` included."""
    kinds = [k for k in RECORD_KINDS if any(r.kind == k for r in records)]
    if not kinds:
        msg = "there are no records to export" + (f" for {period}" if period else "")
        raise UsageError(msg, hint="Import files first, or choose another --period.")
    personal = frozenset(
        f"{k}.{n}" for k in kinds for n in personal_field_names(k) if include_personal
    )
    left_out = sorted(
        f"{k}.{n}" for k in kinds for n in personal_field_names(k) if f"{k}.{n}" not in personal
    )
    members: dict[str, bytes] = {}
    resources: list[dict[str, Any]] = []
    schema_files: list[dict[str, str]] = []
    for kind in kinds:
        mine = [r for r in records if r.kind == kind]
        data = _csv(kind, mine, personal)
        json_path, table_path = f"schemas/{kind}.schema.json", f"schemas/{kind}.table.json"
        foreign = [
            (field, target, RECORD_KINDS[target].id_field)
            for source, field, target in REFERENCES
            if source == kind and target in kinds and not _is_list(kind, field)
        ]
        members[json_path] = profile_text(kind, personal).encode("utf-8")
        members[table_path] = _json_bytes(table_schema(kind, carried(kind, personal), foreign))
        members[f"data/{kind}.csv"] = data
        schema_files += [{"path": p, "hash": _sha(members[p])} for p in (json_path, table_path)]
        resources.append(
            {
                "name": kind,
                "path": f"data/{kind}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": table_path,
                "jsonschema": json_path,
                "hash": _sha(data),
                "bytes": len(data),
                "rows": len(mine),
            }
        )
    day = created[:10]
    mectk: dict[str, Any] = {
        "mectk_version": __version__,
        "schema_version": schema_version(),
        "producer": dict(producer),
        "source_batches": [str(b) for b in sorted({r.batch_id for r in records})],
        "personal_fields_included": sorted(personal),
        "personal_fields_left_out": left_out,
        "formula_escaped": True,
        "schema_files": schema_files,
    }
    if period is not None:
        mectk["period"] = period
    manifest = {
        "profile": "data-package",
        "name": f"mectk-{_slug(producer['name'])}-{day}",
        "title": f"mectk exchange package from {producer['name']}",
        "created": created,
        "resources": resources,
        "mectk": mectk,
    }
    _check_manifest(manifest)
    members[MANIFEST_MEMBER] = _json_bytes(manifest)
    return members


def _is_list(kind: str, field: str) -> bool:
    return any(f.name == field and f.multi for f in carried(kind, frozenset()))


def _check_manifest(manifest: Mapping[str, Any]) -> None:
    from mectk.exchange.verify import manifest_validator

    errors = sorted(manifest_validator().iter_errors(manifest), key=str)
    if errors:  # a fault in mectk, not in the data
        msg = f"mectk built a manifest that fails its own schema: {errors[0].message}"
        raise RuntimeError(msg)


def write_zip(out: Path, members: Mapping[str, bytes]) -> str:
    """Write ``members`` into the zip ``out`` atomically; return its sha256."""
    with atomic_output(out) as temporary:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(members, key=lambda n: (n != MANIFEST_MEMBER, n)):
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, members[name])
        digest = hashlib.sha256(temporary.read_bytes()).hexdigest()
    return digest


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def export_package(
    db: Db,
    out: Path,
    *,
    period: str | None = None,
    include_personal: bool = False,
    sign_key: Path | None = None,
    producer: str | None = None,
    producer_id: str | None = None,
) -> ExportResult:
    """Write the exchange package ``out`` from the register at ``db`` (module contract).

    ``producer`` names the producing organisation (default: the programme's delivery
    organisation, else its council); ``sign_key`` is an Ed25519 private key file. A missing
    register, an empty selection or a bad key is a :class:`UsageError`.
    """
    key = load_private_key(sign_key) if sign_key is not None else None
    parsed = parse_period(period) if period is not None else None
    found = current_records(db)
    who = {"name": producer} if producer else _default_producer(found)
    if producer_id:
        who["org_id"] = producer_id
    chosen = select_records(found, parsed)
    members = build_members(
        chosen,
        include_personal=include_personal,
        producer=who,
        period=parsed.label if parsed else None,
        created=_utc_now(),
    )
    signed_by = None
    if key is not None:
        members[SIGNATURE_MEMBER] = signature_document(key, members[MANIFEST_MEMBER])
        signed_by = json.loads(members[SIGNATURE_MEMBER])["fingerprint"]
    digest = write_zip(out, members)
    manifest = json.loads(members[MANIFEST_MEMBER])
    counts = {r["name"]: int(r["rows"]) for r in manifest["resources"]}
    return ExportResult(
        path=out,
        sha256=digest,
        counts=counts,
        personal_fields_included=tuple(manifest["mectk"]["personal_fields_included"]),
        producer=who,
        period=parsed.label if parsed else None,
        signed_by=signed_by,
        manifest=manifest,
    )
