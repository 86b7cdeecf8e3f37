"""The register's side of exchange packages: reading current records out, landing a
partner's records in.

Contract:

* :func:`current_records` reads the latest version of every record (optionally of some
  kinds) with the batch it came from and that batch's producer.
* :func:`land_received` writes the records of one received package as ONE batch
  (``source = "receive"``, ``producer`` = the package's producer), whole or not at all.
  For each incoming record, fields the package could not carry (``Incoming.sent`` does not
  name them, such as personal fields left out) keep the register's current values; the
  result is compared with the current version by content (provenance fields left out):

  - equal: nothing is added (``unchanged``);
  - new record, or the current version came from the same producer: a new version;
  - the current version came from another producer (or was imported here) and differs:
    a :class:`Conflict`, reported field by field (personal values masked). With
    ``prefer=None`` nothing at all is written; ``"theirs"`` adds their version,
    ``"ours"`` keeps the current one. Nothing is ever overwritten silently.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import sqlalchemy as sa
from attrs import frozen

from mectk import __version__
from mectk.errors import UsageError
from mectk.register.connect import Db, engine_for, read_connection
from mectk.register.queries import FieldChange, changes
from mectk.register.schema import batch_files, batches, outcome_columns, records
from mectk.register.store import PROVENANCE_FIELDS, BatchFile, BatchSummary, dumps
from mectk.schemas import flatten, unflatten

Prefer = Literal["theirs", "ours"]
RECEIVE_FORMAT = "mectk-package"


@frozen
class StoredRecord:
    """The latest version of one record, with its batch and that batch's producer name
    (None when the batch was imported here from files)."""

    kind: str
    record_id: str
    version: int
    batch_id: int
    data: Mapping[str, Any]
    producer: str | None


def _producer_name(text: str | None) -> str | None:
    if not text:
        return None
    name = json.loads(text).get("name")
    return str(name) if name is not None else None


def _latest_query(kinds: Sequence[str] | None) -> sa.Select[Any]:
    later = records.alias("later")
    newest = ~sa.exists().where(
        later.c.kind == records.c.kind,
        later.c.record_id == records.c.record_id,
        later.c.version > records.c.version,
    )
    query = (
        sa.select(
            records.c.kind,
            records.c.record_id,
            records.c.version,
            records.c.batch_id,
            records.c.data,
            batches.c.producer,
        )
        .join(batches, batches.c.id == records.c.batch_id)
        .where(newest)
        .order_by(records.c.kind, records.c.record_id)
    )
    if kinds is not None:
        query = query.where(records.c.kind.in_(list(kinds)))
    return query


def _read_latest(connection: sa.Connection, kinds: Sequence[str] | None) -> list[StoredRecord]:
    return [
        StoredRecord(k, r, int(v), int(b), json.loads(d), _producer_name(p))
        for k, r, v, b, d, p in connection.execute(_latest_query(kinds))
    ]


def current_records(db: Db, kinds: Sequence[str] | None = None) -> list[StoredRecord]:
    """The latest version of every record (of ``kinds`` when given), by kind and id.

    A missing SQLite register is a :class:`~mectk.errors.UsageError` (nothing is created).
    """
    with engine_for(db, create=False) as engine, read_connection(engine) as connection:
        return _read_latest(connection, kinds)


@frozen
class Incoming:
    """One record of a received package in the register's form (dotted fields unflattened).

    ``sent`` names every (dotted) field the package could carry for this kind: a field not
    named keeps the register's value. ``member`` and ``row`` say where it was read.
    """

    kind: str
    record_id: str
    data: Mapping[str, Any]
    sent: frozenset[str]
    member: str
    row: int


@frozen
class Conflict:
    """A record whose current version came from another producer and differs from theirs.

    ``resolution``: ``refused`` (nothing written), ``theirs`` or ``ours``.
    """

    kind: str
    record_id: str
    ours_from: str | None
    changes: tuple[FieldChange, ...]
    resolution: str

    def as_json(self) -> dict[str, Any]:
        """The conflict as a JSON object (personal values masked)."""
        return {
            "kind": self.kind,
            "record_id": self.record_id,
            "ours_from": self.ours_from or "imported here",
            "resolution": self.resolution,
            "fields": [{"field": c.field, "ours": c.old, "theirs": c.new} for c in self.changes],
        }


@frozen
class LandOutcome:
    """What :func:`land_received` did: the batch (None when conflicts refused it)."""

    batch: BatchSummary | None
    new: int
    changed: int
    unchanged: int
    kept_ours: int
    conflicts: tuple[Conflict, ...]


def merged_data(
    ours: Mapping[str, Any] | None, theirs: Mapping[str, Any], sent: frozenset[str]
) -> dict[str, Any]:
    """Their record, plus our values of the fields their package could not carry."""
    if ours is None:
        return dict(theirs)
    flat = {k: v for k, v in flatten(ours).items() if k not in sent}
    flat.update(flatten(theirs))
    return unflatten(flat)


def content_hash(data: Mapping[str, Any]) -> str:
    """The sha256 the register keys record content on (provenance fields left out)."""
    content = {k: v for k, v in data.items() if k not in PROVENANCE_FIELDS}
    return hashlib.sha256(dumps(content).encode()).hexdigest()


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def land_received(
    db: Db,
    incoming: Sequence[Incoming],
    *,
    producer: Mapping[str, Any],
    package: BatchFile,
    prefer: Prefer | None = None,
    counts: Mapping[str, Any] | None = None,
) -> LandOutcome:
    """Land ``incoming`` as one batch from ``producer`` (see the module contract).

    A register that is busy or changed by another writer meanwhile is a
    :class:`~mectk.errors.UsageError`; nothing is landed then.
    """
    try:
        return _land(db, incoming, producer, package, prefer, counts)
    except sa.exc.IntegrityError as exc:
        msg = f"another writer changed the register at the same time; nothing landed ({exc.orig})"
        raise UsageError(msg, hint="Run the receive again.") from exc
    except sa.exc.OperationalError as exc:
        msg = f"the register is busy or cannot be written; nothing landed ({exc.orig})"
        raise UsageError(msg, hint="Wait for the other import to finish, then run again.") from exc


def _land(
    db: Db,
    incoming: Sequence[Incoming],
    producer: Mapping[str, Any],
    package: BatchFile,
    prefer: Prefer | None,
    counts: Mapping[str, Any] | None,
) -> LandOutcome:
    name = str(producer["name"])
    with engine_for(db) as engine, engine.begin() as connection:
        kinds = sorted({i.kind for i in incoming})
        latest = {(s.kind, s.record_id): s for s in _read_latest(connection, kinds)}
        rows: list[dict[str, Any]] = []
        conflicts: list[Conflict] = []
        new = changed = unchanged = kept = 0
        for item in incoming:
            ours = latest.get((item.kind, item.record_id))
            data = merged_data(ours.data if ours else None, item.data, item.sent)
            digest = content_hash(data)
            if ours is not None and content_hash(ours.data) == digest:
                unchanged += 1
                continue
            if ours is not None and ours.producer != name:
                found = changes(item.kind, ours.data, data, include_personal=False)
                resolution = prefer or "refused"
                conflicts.append(
                    Conflict(item.kind, item.record_id, ours.producer, found, resolution)
                )
                if prefer != "theirs":
                    kept += prefer == "ours"
                    continue
            if ours is None:
                new += 1
            else:
                changed += 1
            rows.append(
                {
                    "kind": item.kind,
                    "record_id": item.record_id,
                    "version": (ours.version + 1) if ours else 1,
                    "enterprise_id": (
                        item.record_id if item.kind == "enterprise" else data.get("enterprise_id")
                    ),
                    "content_hash": digest,
                    "data": dumps(data),
                    "source_file": package.path,
                    "source_sheet": item.member,
                    "source_row": item.row,
                    "cells": "{}",
                    **outcome_columns(item.kind, data),
                }
            )
        if any(c.resolution == "refused" for c in conflicts):
            return LandOutcome(None, 0, 0, 0, 0, tuple(conflicts))
        register_counts = {"new": new, "changed": changed, "unchanged": unchanged}
        all_counts = {
            **(counts or {}),
            "register": register_counts,
            "kept_ours": kept,
            "conflicts": len(conflicts),
        }
        created = _utc_now()
        inserted = connection.execute(
            batches.insert().values(
                created_at=created,
                mectk_version=__version__,
                source="receive",
                format=RECEIVE_FORMAT,
                mapping=None,
                counts=dumps(all_counts),
                status="landed",
                producer=dumps(dict(producer)),
            )
        )
        batch_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
        connection.execute(
            batch_files.insert().values(
                batch_id=batch_id,
                path=package.path,
                sha256=package.sha256,
                format=package.format,
                sheets=dumps(list(package.sheets)),
            )
        )
        for row in rows:
            row["batch_id"] = batch_id
        if rows:
            connection.execute(records.insert(), rows)
    batch = BatchSummary(
        id=batch_id,
        created_at=created,
        mectk_version=__version__,
        source="receive",
        format=RECEIVE_FORMAT,
        mapping=None,
        status="landed",
        counts=all_counts,
        files=(package,),
        producer=dict(producer),
    )
    return LandOutcome(batch, new, changed, unchanged, kept, tuple(conflicts))
