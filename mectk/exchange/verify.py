"""Checking an exchange package before anyone trusts it (design.md section 8).

Contract of :func:`verify_package`: never raises for a bad package (only a missing file is
a :class:`~mectk.errors.UsageError`); it returns a :class:`VerifyResult` whose issues each
carry their own code, and ``exit_code`` 3 when the container is unreadable or unsafe
(:mod:`mectk.exchange.zipsafe`), 1 when the content is invalid, 0 when valid. Checked in
order: the zip's safety, the manifest against ``manifest.schema.json`` (unknown keys are
``package-key-unknown``) and its schema version's major number
(``package-schema-version``), the signature (``signature-invalid``; with ``trust`` keys,
``package-unsigned`` and ``signature-untrusted``), members missing or undeclared, every
sha256 and size, every record against its kind's package JSON Schema (unknown columns and
personal columns the manifest does not declare are ``package-key-unknown``), duplicate
ids, declared row counts, and references between records. Values of personal fields
never appear in messages.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
from attrs import frozen
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mectk import __version__
from mectk.errors import UsageError
from mectk.exchange.fields import (
    CellError,
    carried,
    decode_cell,
    is_personal,
    personal_field_names,
    profile_schema,
)
from mectk.exchange.references import REFERENCES
from mectk.exchange.signing import SIGNATURE_MEMBER, check_signature, load_public_key
from mectk.exchange.zipsafe import UnsafePackage, read_members
from mectk.issues import MASK, Issue, make_issue
from mectk.schemas import (
    RECORD_KINDS,
    FieldInfo,
    StrictValidator,
    fields,
    inline_schema,
    schema_version,
    unflatten,
)

MANIFEST_MEMBER = "datapackage.json"
CONTAINER_CODES = frozenset(
    {"package-unreadable", "package-unsafe-path", "package-member-link", "package-too-large"}
)
_CHECKER = jsonschema.Draft202012Validator.FORMAT_CHECKER


@functools.cache
def manifest_validator() -> jsonschema.protocols.Validator:
    """A validator for ``datapackage.json`` against ``manifest.schema.json``."""
    return StrictValidator(inline_schema("manifest"), format_checker=_CHECKER)


@functools.lru_cache(maxsize=64)
def _record_validator(kind: str, personal: frozenset[str]) -> jsonschema.protocols.Validator:
    return StrictValidator(profile_schema(kind, personal), format_checker=_CHECKER)


@frozen
class PackageRecord:
    """One record read from a package: its data as the package holds it (nested objects,
    numbers as Decimal), the member and spreadsheet-style row it was on."""

    kind: str
    record_id: str
    data: Mapping[str, Any]
    member: str
    row: int


@frozen
class VerifyResult:
    """What :func:`verify_package` found."""

    path: Path
    sha256: str
    valid: bool
    exit_code: int
    issues: tuple[Issue, ...]
    manifest: Mapping[str, Any] | None
    records: tuple[PackageRecord, ...]
    signed_by: str | None
    trusted: bool

    @property
    def personal_fields(self) -> frozenset[str]:
        """The personal fields the manifest says the package carries (``kind.field``)."""
        if self.manifest is None:
            return frozenset()
        return frozenset(self.manifest.get("mectk", {}).get("personal_fields_included", ()))

    @property
    def producer(self) -> Mapping[str, Any] | None:
        """The producer the manifest names."""
        if self.manifest is None:
            return None
        found: Mapping[str, Any] | None = self.manifest.get("mectk", {}).get("producer")
        return found

    def counts(self) -> dict[str, int]:
        """Records read, by kind."""
        out: dict[str, int] = {}
        for record in self.records:
            out[record.kind] = out.get(record.kind, 0) + 1
        return out

    def as_json(self) -> dict[str, Any]:
        """The result as a JSON object (the ``mectk verify --json`` document)."""
        return {
            "mectk_version": __version__,
            "package": str(self.path),
            "sha256": self.sha256,
            "valid": self.valid,
            "exit_code": self.exit_code,
            "producer": dict(self.producer) if self.producer else None,
            "signed_by": self.signed_by,
            "trusted": self.trusted,
            "personal_fields_included": sorted(self.personal_fields),
            "records": self.counts(),
            "issues": [i.as_json() for i in self.issues],
        }


class _Check:
    """The state of one verification: members, issues found, records read."""

    def __init__(self, members: Mapping[str, bytes]) -> None:
        self.members = members
        self.issues: list[Issue] = []
        self.records: list[PackageRecord] = []
        self._not_recorded: dict[tuple[str, str], list[Any]] = {}

    def add(self, code: str, **context: Any) -> None:
        self.issues.append(make_issue(code, **context))

    def not_recorded(self, member: str, field: str, row: int, record_id: str | None) -> None:
        """Count a conditional value a record lacks; one warning per member and field
        (at its first record) is added by :meth:`flush_not_recorded`."""
        first = self._not_recorded.setdefault((member, field), [row, record_id, 0])
        first[2] += 1

    def flush_not_recorded(self) -> None:
        """Add the counted ``package-value-not-recorded`` warnings, one per field."""
        for (member, field), (row, record_id, count) in self._not_recorded.items():
            self.add(
                "package-value-not-recorded",
                file=member,
                row=row,
                record_id=record_id,
                field=field,
                count=count,
            )
        self._not_recorded.clear()


def _where(path: Sequence[Any]) -> str:
    return "/".join(str(p) for p in path) or "(top level)"


def _check_manifest(check: _Check, manifest: Any) -> bool:
    """Schema errors as issues; True when the manifest can be relied on for the rest."""
    sound = True
    for error in sorted(manifest_validator().iter_errors(manifest), key=lambda e: list(e.path)):
        if error.validator == "additionalProperties":
            known = error.schema.get("properties", {})
            extra = sorted(k for k in error.instance if k not in known)
            for key in extra:
                check.add(
                    "package-key-unknown", file=MANIFEST_MEMBER, key=key, where=_where(error.path)
                )
        else:
            sound = False
            check.add(
                "manifest-invalid",
                file=MANIFEST_MEMBER,
                where=_where(error.path),
                reason=error.message,
            )
    if not sound:
        return False
    for resource in manifest["resources"]:
        if resource["format"] != "csv":
            check.add(
                "manifest-invalid",
                file=MANIFEST_MEMBER,
                where="resources",
                reason=f"resource '{resource['name']}' is not csv",
            )
            sound = False
    names = [r["name"] for r in manifest["resources"]]
    for name in names:
        if name not in RECORD_KINDS or names.count(name) > 1:
            check.add(
                "manifest-invalid",
                file=MANIFEST_MEMBER,
                where="resources",
                reason=f"resource '{name}' is not a record kind, or is listed twice",
            )
            sound = False
    theirs = str(manifest["mectk"]["schema_version"])
    if theirs.split(".")[0] != schema_version().split(".")[0]:
        check.add("package-schema-version", file=MANIFEST_MEMBER, theirs=theirs,
                  ours=schema_version())  # fmt: skip
        sound = False
    known_personal = {f"{k}.{n}" for k in RECORD_KINDS for n in personal_field_names(k)}
    for name in manifest["mectk"]["personal_fields_included"]:
        if name not in known_personal:
            check.add(
                "manifest-invalid",
                file=MANIFEST_MEMBER,
                where="mectk/personal_fields_included",
                reason=f"'{name}' is not a personal field a package may carry",
            )
            sound = False
    listed = {f["path"] for f in manifest["mectk"].get("schema_files", ())}
    for resource in manifest["resources"]:
        for key in ("schema", "jsonschema"):
            if key in resource and resource[key] not in listed:
                check.add(
                    "manifest-invalid",
                    file=MANIFEST_MEMBER,
                    where="resources",
                    reason=f"{resource[key]} is not listed in mectk/schema_files",
                )
                sound = False
    return sound


def _check_members(check: _Check, manifest: Mapping[str, Any]) -> None:
    declared: dict[str, tuple[str, int | None]] = {
        r["path"]: (r["hash"], r.get("bytes")) for r in manifest["resources"]
    }
    for entry in manifest["mectk"].get("schema_files", ()):
        declared[entry["path"]] = (entry["hash"], None)
    expected = {MANIFEST_MEMBER, SIGNATURE_MEMBER, *declared}
    for name in sorted(set(check.members) - expected):
        check.add("package-member-unknown", file=name)
    for name, (digest, size) in sorted(declared.items()):
        data = check.members.get(name)
        if data is None:
            check.add("package-member-missing", file=name)
            continue
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != digest or (size is not None and size != len(data)):
            check.add("checksum-mismatch", file=name, expected=digest[:19], actual=actual[:19])


def _check_signature(check: _Check, trust: Sequence[Ed25519PublicKey]) -> tuple[str | None, bool]:
    document = check.members.get(SIGNATURE_MEMBER)
    if document is None:
        if trust:
            check.add("package-unsigned", file=SIGNATURE_MEMBER)
        return None, False
    outcome = check_signature(document, check.members[MANIFEST_MEMBER], trust)
    if not outcome.valid:
        check.add("signature-invalid", file=SIGNATURE_MEMBER, reason=outcome.problem)
    elif trust and not outcome.trusted:
        check.add("signature-untrusted", file=SIGNATURE_MEMBER, key=outcome.fingerprint)
    return outcome.fingerprint, outcome.valid and outcome.trusted


def _shown(info: FieldInfo | None, value: Any) -> Any:
    return MASK if info is not None and is_personal(info) else value


def _read_resource(
    check: _Check, kind: str, member: str, declared_rows: int, personal: frozenset[str]
) -> None:
    data = check.members.get(member)
    if data is None:
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        check.add(
            "record-invalid",
            file=member,
            row=1,
            record_id=None,
            field=None,
            reason=f"the file is not UTF-8 (byte {exc.start})",
        )
        return
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, [])
    allowed = {f.name: f for f in carried(kind, personal)}
    every = {f.name: f for f in fields(kind)}
    columns: list[FieldInfo | None] = []
    for name in header:
        info = allowed.get(name)
        if info is None or header.count(name) > 1:
            extra = every.get(name)
            why = (
                "a personal field the manifest does not declare"
                if extra is not None and is_personal(extra)
                else "not a field of this record kind"
                if info is None
                else "used twice"
            )
            check.add("package-key-unknown", file=member, key=name, where=f"header ({why})")
            info = None
        columns.append(info)
    id_field = RECORD_KINDS[kind].id_field
    validator = _record_validator(kind, personal)
    first_seen: dict[str, int] = {}
    count = 0
    for number, cells in enumerate(rows, start=2):
        count += 1
        record_id = (
            cells[header.index(id_field)]
            if id_field in header and len(cells) == len(header)
            else None
        )
        if len(cells) != len(header):
            check.add(
                "record-invalid",
                file=member,
                row=number,
                record_id=record_id,
                field=None,
                reason=f"it has {len(cells)} cells, the header {len(header)}",
            )
            continue
        flat: dict[str, Any] = {}
        for info, text in zip(columns, cells, strict=True):
            if info is None or text == "":
                continue
            try:
                flat[info.name] = decode_cell(info, text)
            except CellError as exc:
                check.add(
                    "record-invalid",
                    file=member,
                    row=number,
                    record_id=record_id,
                    field=info.name,
                    column=info.name,
                    value=_shown(info, text),
                    reason=f"'{info.name}' {exc}",
                )
        record = unflatten(flat)
        for error in validator.iter_errors(record):
            _schema_issue(check, kind, member, number, record_id, error)
        if record_id:
            if record_id in first_seen:
                check.add(
                    "id-duplicate",
                    file=member,
                    row=number,
                    record_id=record_id,
                    kind=RECORD_KINDS[kind].title.lower(),
                    first=f"{member} row {first_seen[record_id]}",
                )
                continue
            first_seen[record_id] = number
            check.records.append(PackageRecord(kind, record_id, record, member, number))
    check.flush_not_recorded()
    if count != declared_rows:
        check.add("record-count-mismatch", file=member, declared=declared_rows, found=count)


def _schema_issue(
    check: _Check,
    kind: str,
    member: str,
    row: int,
    record_id: str | None,
    error: jsonschema.ValidationError,
) -> None:
    path = ".".join(str(p) for p in error.absolute_path)
    info = {f.name: f for f in fields(kind)}.get(path.split(".")[0] if path else "")
    dotted = {f.name: f for f in fields(kind)}.get(path)
    if error.validator == "additionalProperties":
        for key in sorted(set(error.instance) - set(error.schema.get("properties", {}))):
            check.add("package-key-unknown", file=member, row=row, key=key, where=path or kind)
        return
    if error.validator == "required" and "then" in error.relative_schema_path:
        # A conditional requirement (if/then) the producer's source could not record:
        # mectk accepts such records on import with field-not-in-source, so a package
        # carries them, and the receiver is told rather than refused.
        missing = error.message.removesuffix(" is a required property").strip("'")
        check.not_recorded(member, ".".join(filter(None, [path, missing])), row, record_id)
        return
    if error.validator == "required":
        reason = error.message.replace(" is a required property", " is required")
    elif (dotted or info) is not None and is_personal(dotted or info):  # type: ignore[arg-type]
        reason = f"'{path}' does not meet its schema rule '{error.validator}'"
    else:
        reason = f"'{path}': {error.message}"
    check.add(
        "record-invalid",
        file=member,
        row=row,
        record_id=record_id,
        field=path or None,
        column=path or None,
        reason=reason,
    )


def _check_references(check: _Check) -> None:
    ids: dict[str, set[str]] = {}
    for record in check.records:
        ids.setdefault(record.kind, set()).add(record.record_id)
    for record in check.records:
        for kind, field, target in REFERENCES:
            if kind != record.kind or target not in ids:
                continue
            value = record.data.get(field)
            for item in value if isinstance(value, list) else [value]:
                if item is not None and str(item) not in ids[target]:
                    check.add(
                        "reference-missing",
                        file=record.member,
                        row=record.row,
                        record_id=record.record_id,
                        field=field,
                        column=field,
                        value=item,
                        target=RECORD_KINDS[target].title.lower(),
                        scope=" in the package",
                    )


def _result(
    path: Path, digest: str, check: _Check, manifest: Any, signer: str | None, trusted: bool
) -> VerifyResult:
    codes = {i.code for i in check.issues}
    errors = any(i.severity == "error" for i in check.issues)
    exit_code = 3 if codes & CONTAINER_CODES else 1 if errors else 0
    return VerifyResult(
        path=path,
        sha256=digest,
        valid=exit_code == 0,
        exit_code=exit_code,
        issues=tuple(check.issues),
        manifest=manifest if isinstance(manifest, dict) else None,
        records=tuple(check.records),
        signed_by=signer,
        trusted=trusted,
    )


def _keys(trust: Sequence[Path | Ed25519PublicKey]) -> list[Ed25519PublicKey]:
    return [t if isinstance(t, Ed25519PublicKey) else load_public_key(Path(t)) for t in trust]


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def verify_package(path: Path, *, trust: Sequence[Path | Ed25519PublicKey] = ()) -> VerifyResult:
    """Check the package at ``path`` as the module says; ``trust`` holds the public keys
    (files or keys) a signature must come from (none: any valid signature is accepted)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file", hint="Give the path of a package .zip file.")
    keys = _keys(trust)
    digest = _digest(path)
    try:
        members = read_members(path)
    except UnsafePackage as exc:
        check = _Check({})
        check.issues.extend(exc.issues)
        return _result(path, digest, check, None, None, False)
    check = _Check(members)
    raw = members.get(MANIFEST_MEMBER)
    if raw is None:
        check.add("package-member-missing", file=MANIFEST_MEMBER)
        return _result(path, digest, check, None, None, False)
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        check.add(
            "manifest-invalid",
            file=MANIFEST_MEMBER,
            where="(top level)",
            reason=f"it is not JSON ({exc})",
        )
        return _result(path, digest, check, None, None, False)
    signer, trusted = _check_signature(check, keys)
    if not _check_manifest(check, manifest):
        return _result(path, digest, check, manifest, signer, trusted)
    _check_members(check, manifest)
    personal = frozenset(manifest["mectk"]["personal_fields_included"])
    for resource in manifest["resources"]:
        _read_resource(check, resource["name"], resource["path"], resource["rows"], personal)
    _check_references(check)
    return _result(path, digest, check, manifest, signer, trusted)
