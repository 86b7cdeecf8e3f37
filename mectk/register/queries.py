"""Reading the register: batches, one enterprise's history, and changes since a batch.

Contract: every function takes a :data:`~mectk.register.connect.Db` and only reads.
"Current state" of a record is its latest version. Values of personal-data fields
(``x-personal-data`` other than ``none``) are shown as ``"***"`` unless
``include_personal`` is given; absent values stay ``None``. Decimal fields come back as
:class:`~decimal.Decimal`. An unknown enterprise or batch is a
:class:`~mectk.errors.UsageError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from attrs import frozen

from mectk.errors import UsageError
from mectk.issues import MASK
from mectk.register.connect import Db, engine_for, read_connection
from mectk.register.schema import batch_files, batches, records
from mectk.register.store import PROVENANCE_FIELDS, BatchFile, BatchSummary
from mectk.schemas import field_map, flatten

CLOSED = "closed"
_IN_CHUNK = 500


def shown(kind: str, name: str, value: Any, *, include_personal: bool) -> Any:
    """One stored value as people see it: masked when personal, Decimals as Decimal."""
    if value is None:
        return None
    info = field_map(kind).get(name)
    if info is not None and info.personal_data != "none" and not include_personal:
        return MASK
    if info is not None and info.value_kind == "decimal" and isinstance(value, str):
        return Decimal(value)
    return value


def _shown_data(kind: str, data: Mapping[str, Any], include_personal: bool) -> dict[str, Any]:
    return {
        k: shown(kind, k, v, include_personal=include_personal) for k, v in flatten(data).items()
    }


@frozen
class FieldChange:
    """One field's old and new value (masked as the query asked)."""

    field: str
    old: Any
    new: Any

    def as_json(self) -> dict[str, Any]:
        """The change as a JSON object."""
        return {"field": self.field, "old": self.old, "new": self.new}


def changes(
    kind: str, old: Mapping[str, Any], new: Mapping[str, Any], *, include_personal: bool
) -> tuple[FieldChange, ...]:
    """Field-by-field differences between two versions' data, provenance fields left out."""
    before, after = flatten(old), flatten(new)
    out = []
    for name in sorted(before.keys() | after.keys()):
        if name in PROVENANCE_FIELDS or before.get(name) == after.get(name):
            continue
        out.append(
            FieldChange(
                name,
                shown(kind, name, before.get(name), include_personal=include_personal),
                shown(kind, name, after.get(name), include_personal=include_personal),
            )
        )
    return tuple(out)


@frozen
class RecordVersion:
    """One version of one record: its data (masked), where it came from and what changed."""

    kind: str
    record_id: str
    version: int
    batch_id: int
    batch_created_at: str
    data: Mapping[str, Any]
    source_file: str | None
    source_sheet: str | None
    source_row: int | None
    cells: Mapping[str, str]
    changed: tuple[FieldChange, ...]

    def as_json(self) -> dict[str, Any]:
        """The version as a JSON object."""
        return {
            "kind": self.kind,
            "record_id": self.record_id,
            "version": self.version,
            "batch_id": self.batch_id,
            "batch_created_at": self.batch_created_at,
            "source": {
                "file": self.source_file,
                "sheet": self.source_sheet,
                "row": self.source_row,
                "cells": dict(self.cells),
            },
            "changed": [c.as_json() for c in self.changed],
            "data": dict(self.data),
        }


@frozen
class EnterpriseHistory:
    """An enterprise's current state, every version, its batches, and related records.

    ``related`` holds the current version of each other record that names the enterprise
    (outcomes such as hours snapshots, support episodes, spend lines).
    """

    enterprise_id: str
    current: Mapping[str, Any]
    versions: tuple[RecordVersion, ...]
    batches: tuple[BatchSummary, ...]
    related: tuple[RecordVersion, ...]

    def as_json(self) -> dict[str, Any]:
        """The history as a JSON object."""
        return {
            "enterprise_id": self.enterprise_id,
            "current": dict(self.current),
            "versions": [v.as_json() for v in self.versions],
            "batches": [b.as_json() for b in self.batches],
            "related": [r.as_json() for r in self.related],
        }


@frozen
class EnterpriseChange:
    """An enterprise changed since the baseline batch: its fields, old and new."""

    enterprise_id: str
    version_then: int
    version_now: int
    changes: tuple[FieldChange, ...]

    def as_json(self) -> dict[str, Any]:
        """The change as a JSON object."""
        return {
            "enterprise_id": self.enterprise_id,
            "version_then": self.version_then,
            "version_now": self.version_now,
            "changes": [c.as_json() for c in self.changes],
        }


@frozen
class RegisterDiff:
    """Enterprises added, changed and closed after batch ``since`` (up to the latest)."""

    since: int
    until: int
    added: tuple[str, ...]
    changed: tuple[EnterpriseChange, ...]
    closed: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The diff as a JSON object."""
        return {
            "since_batch": self.since,
            "until_batch": self.until,
            "added": list(self.added),
            "changed": [c.as_json() for c in self.changed],
            "closed": list(self.closed),
        }


def _summaries(connection: sa.Connection, ids: Iterable[int] | None) -> list[BatchSummary]:
    query = sa.select(batches).order_by(batches.c.id)
    files_query = sa.select(batch_files).order_by(batch_files.c.id)
    if ids is not None:
        wanted = sorted(set(ids))
        query = query.where(batches.c.id.in_(wanted))
        files_query = files_query.where(batch_files.c.batch_id.in_(wanted))
    files: dict[int, list[BatchFile]] = {}
    for f in connection.execute(files_query):
        files.setdefault(f.batch_id, []).append(
            BatchFile(f.path, f.sha256, f.format, tuple(json.loads(f.sheets)))
        )
    return [
        BatchSummary(
            id=b.id,
            created_at=b.created_at,
            mectk_version=b.mectk_version,
            source=b.source,
            format=b.format,
            mapping=b.mapping,
            status=b.status,
            counts=json.loads(b.counts),
            files=tuple(files.get(b.id, ())),
            producer=json.loads(b.producer) if b.producer else None,
        )
        for b in connection.execute(query)
    ]


def list_batches(db: Db) -> list[BatchSummary]:
    """Every batch, oldest first, with its files and counts."""
    with engine_for(db, create=False) as engine, read_connection(engine) as connection:
        return _summaries(connection, None)


def _full_cells(stored: Mapping[str, str], row: int | None) -> dict[str, str]:
    """Stored cells are a column letter (the cell is on the record's row) or a full cell."""
    return {
        name: f"{cell}{row}" if cell.isalpha() and row is not None else cell
        for name, cell in stored.items()
    }


def _version(
    row: Any, created: str, changed: tuple[FieldChange, ...], personal: bool
) -> RecordVersion:
    return RecordVersion(
        kind=row.kind,
        record_id=row.record_id,
        version=row.version,
        batch_id=row.batch_id,
        batch_created_at=created,
        data=_shown_data(row.kind, json.loads(row.data), personal),
        source_file=row.source_file,
        source_sheet=row.source_sheet,
        source_row=row.source_row,
        cells=_full_cells(json.loads(row.cells), row.source_row),
        changed=changed,
    )


def enterprise_history(
    db: Db, enterprise_id: str, *, include_personal: bool = False
) -> EnterpriseHistory:
    """The current state and full history of one enterprise; UsageError if unknown."""
    with engine_for(db, create=False) as engine, read_connection(engine) as connection:
        query = (
            sa.select(records, batches.c.created_at)
            .join(batches, batches.c.id == records.c.batch_id)
            .where(records.c.enterprise_id == enterprise_id)
            .order_by(records.c.kind, records.c.record_id, records.c.version)
        )
        rows = list(connection.execute(query))
        own = [r for r in rows if r.kind == "enterprise" and r.record_id == enterprise_id]
        if not own:
            msg = f"no enterprise '{enterprise_id}' in the register"
            raise UsageError(msg, hint="Enterprise ids are as in the spreadsheet, e.g. WCC-0042.")
        versions = []
        previous: dict[str, Any] = {}
        for row in own:
            data = json.loads(row.data)
            diff = (
                changes("enterprise", previous, data, include_personal=include_personal)
                if previous
                else ()
            )
            versions.append(_version(row, row.created_at, diff, include_personal))
            previous = data
        latest: dict[tuple[str, str], Any] = {}
        for row in rows:
            if row.kind != "enterprise":
                latest[(row.kind, row.record_id)] = row  # ordered by version: last wins
        related = tuple(
            _version(r, r.created_at, (), include_personal)
            for r in sorted(latest.values(), key=lambda r: (r.kind, r.record_id))
        )
        used = {r.batch_id for r in own} | {r.batch_id for r in related}
        return EnterpriseHistory(
            enterprise_id=enterprise_id,
            current=versions[-1].data,
            versions=tuple(versions),
            batches=tuple(_summaries(connection, used)),
            related=related,
        )


def _latest_versions(connection: sa.Connection, kind: str, until: int | None) -> dict[str, int]:
    query = sa.select(records.c.record_id, sa.func.max(records.c.version)).where(
        records.c.kind == kind
    )
    if until is not None:
        query = query.where(records.c.batch_id <= until)
    query = query.group_by(records.c.record_id)
    return {rid: int(v) for rid, v in connection.execute(query)}


def _data_of(
    connection: sa.Connection, kind: str, wanted: Mapping[str, set[int]]
) -> dict[tuple[str, int], dict[str, Any]]:
    out: dict[tuple[str, int], dict[str, Any]] = {}
    ids = sorted(wanted)
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        query = sa.select(records.c.record_id, records.c.version, records.c.data).where(
            records.c.kind == kind, records.c.record_id.in_(chunk)
        )
        for rid, version, data in connection.execute(query):
            if version in wanted[rid]:
                out[(rid, version)] = json.loads(data)
    return out


def diff_since(db: Db, batch_id: int, *, include_personal: bool = False) -> RegisterDiff:
    """Enterprises added, changed (field by field) and closed after batch ``batch_id``.

    The baseline is each enterprise's latest version in batches up to and including
    ``batch_id``; it is compared with the current state. UsageError if the batch is unknown.
    """
    kind = "enterprise"
    with engine_for(db, create=False) as engine, read_connection(engine) as connection:
        known = connection.execute(
            sa.select(batches.c.id).where(batches.c.id == batch_id)
        ).scalar_one_or_none()
        if known is None:
            msg = f"no batch {batch_id} in the register"
            raise UsageError(msg, hint="See mectk batches for the batch numbers.")
        until = connection.execute(sa.select(sa.func.max(batches.c.id))).scalar_one()
        then = _latest_versions(connection, kind, batch_id)
        now = _latest_versions(connection, kind, None)
        moved = {rid: v for rid, v in now.items() if then.get(rid) != v}
        wanted: dict[str, set[int]] = {}
        for rid, v in moved.items():
            wanted.setdefault(rid, set()).add(v)
            if rid in then:
                wanted[rid].add(then[rid])
        data = _data_of(connection, kind, wanted)
    added = tuple(sorted(rid for rid in moved if rid not in then))
    changed = []
    closed = []
    for rid in sorted(moved):
        new = data[(rid, moved[rid])]
        old = data[(rid, then[rid])] if rid in then else None
        if old is not None:
            found = changes(kind, old, new, include_personal=include_personal)
            changed.append(EnterpriseChange(rid, then[rid], moved[rid], found))
        if new.get("status") == CLOSED and (old is None or old.get("status") != CLOSED):
            closed.append(rid)
    return RegisterDiff(
        since=batch_id, until=int(until), added=added, changed=tuple(changed), closed=tuple(closed)
    )
