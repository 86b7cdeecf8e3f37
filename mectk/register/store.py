"""Writing to the register: one import batch per validation result, whole or not at all.

Contract of :func:`import_result`:

* Every accepted record of the result is considered; the batch (its row in ``batches``,
  its files and its record versions) is written inside ONE transaction. If anything fails,
  or the process dies, nothing of the batch is left behind.
* A record whose content equals its latest version adds nothing; a new or changed record
  adds version ``latest + 1`` (1 for a new one). Content means the converter's
  unstructured data without the provenance fields ``source_ref`` and ``source_system``,
  which change with the file name: the same enterprise in next quarter's workbook is not
  a new version unless a field changed. Nothing is ever updated or deleted.
* A file whose sha256 is already in a landed batch is refused with a
  :class:`~mectk.errors.UsageError` naming that batch, unless ``force`` is given.
* Rows are written with ``executemany`` in chunks of :data:`CHUNK_ROWS`.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import operator
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from attrs import frozen

from mectk import __version__
from mectk.converter import make_converter
from mectk.errors import UsageError
from mectk.register.connect import Db, engine_for
from mectk.register.schema import batch_files, batches, outcome_columns, records
from mectk.schemas import RECORD_KINDS
from mectk.sources import CellRef, RowCells, SourceRow
from mectk.validation import FileSummary

if TYPE_CHECKING:
    from mectk.specs import AcceptedRecord
    from mectk.validation import ValidationResult

CHUNK_ROWS = 5000
PROVENANCE_FIELDS = ("source_ref", "source_system")
"""Model fields that say where a record was read, not what it says; not part of content."""

PAUSE_ENV = "MECTK_TEST_PAUSE_AFTER_ROWS"
"""TEST HOOK, for the durability test only: when set to N, the import prints
``mectk-test: paused`` on stderr and sleeps for an hour after writing N record rows inside
its transaction, so that a test can kill the process with SIGKILL mid-import. Never set it
in real use."""


BatchFile = FileSummary
"""One file of a batch, as validation summarised it (path as given, sha256, format, sheets)."""


@frozen
class BatchSummary:
    """One import batch: when, by which mectk, from which files, and what it changed.

    ``counts`` holds the validation counts and, under ``register``, how many record
    versions the batch added (``new``, ``changed``) and how many records it left
    ``unchanged``. ``producer`` is the organisation a received exchange package came from
    (``{"name": ..., "org_id": ...}``), None for files imported here.
    """

    id: int
    created_at: str
    mectk_version: str
    source: str
    format: str
    mapping: str | None
    status: str
    counts: Mapping[str, Any]
    files: tuple[BatchFile, ...]
    producer: Mapping[str, Any] | None = None

    @property
    def register_counts(self) -> Mapping[str, int]:
        """``new``, ``changed`` and ``unchanged`` record counts."""
        found = self.counts.get("register", {})
        return {k: int(found.get(k, 0)) for k in ("new", "changed", "unchanged")}

    def as_json(self) -> dict[str, Any]:
        """The batch as a JSON object."""
        return {
            "id": self.id,
            "created_at": self.created_at,
            "mectk_version": self.mectk_version,
            "source": self.source,
            "format": self.format,
            "mapping": self.mapping,
            "status": self.status,
            "counts": dict(self.counts),
            "files": [f.as_json() for f in self.files],
            "producer": dict(self.producer) if self.producer is not None else None,
        }


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact; the converter structures it back into a Decimal
    msg = f"cannot store {type(value).__name__} in the register"
    raise TypeError(msg)


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
)
_encode = _ENCODER.encode


def dumps(value: Any) -> str:
    """Canonical JSON as the register stores it: sorted keys, compact, Decimals as text."""
    return _encode(value)


def _has(data: Mapping[str, Any], name: str) -> bool:
    """Whether unstructured ``data`` holds the (dotted) field ``name``."""
    node: Any = data
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


class _CellsCache:
    """Cells as stored: ``{field: column letter}`` for a row of a table (the cell is in
    the record's ``source_row``), or ``{field: "H14"}`` when a record's cells lie on
    several rows (programme settings). The JSON text of a table row depends only on the
    sheet's columns and which fields the record has, so it is made once per such pair.
    """

    def __init__(self) -> None:
        self._letters: dict[int, tuple[Mapping[str, CellRef], dict[str, str]]] = {}
        self._texts: dict[tuple[int, tuple[str, ...]], str] = {}

    def text(self, row: SourceRow, data: Mapping[str, Any]) -> str:
        columns = row.sheet_columns
        if (
            columns
            and isinstance(row.cells, RowCells)
            and len(row.cells) == len(columns)
            and self._letters_of(row)
        ):
            key = (id(columns), tuple(data))
            found = self._texts.get(key)
            if found is None:
                letters = self._letters_of(row)
                present = {n: c for n, c in letters.items() if _has(data, n)}
                found = self._texts[key] = _encode(present)
            return found
        cells = {
            name: (ref.column if ref.row == row.row else f"{ref.column}{ref.row}")
            for name, ref in row.cells.items()
            if ref.row is not None and ref.column and _has(data, name)
        }
        return _encode(cells)

    def _letters_of(self, row: SourceRow) -> dict[str, str]:
        columns = row.sheet_columns
        cached = self._letters.get(id(columns))
        if cached is None or cached[0] is not columns:
            # a table row's cells are its sheet's columns at its row: check once per sheet
            letters: dict[str, str] = {}
            for name, ref in row.cells.items():
                column = columns.get(name)
                if column is None or ref.row != row.row or ref.column != column.column:
                    letters = {}
                    break
                if ref.column:
                    letters[name] = ref.column
            cached = self._letters[id(columns)] = (columns, letters)
        return cached[1]


def _provenance_json(ref: str | None, system: str | None) -> str:
    parts = []
    if ref is not None:
        parts.append(f'"source_ref":{_encode(ref)}')
    if system is not None:
        parts.append(f'"source_system":{_encode(system)}')
    return ",".join(parts)


def _prepare(accepted: Iterable[AcceptedRecord]) -> list[dict[str, Any]]:
    """Unstructure, serialise and hash every record, outside the transaction.

    Returns one row for ``records`` per record, without ``batch_id`` and ``version``.
    """
    converter = make_converter()
    hooks: dict[type, Any] = {}
    id_fields = {name: kind.id_field for name, kind in RECORD_KINDS.items()}
    cells = _CellsCache()
    out: list[dict[str, Any]] = []
    sha = hashlib.sha256
    encode = _encode
    for record in accepted:
        model_type = type(record.model)
        unstructure = hooks.get(model_type)
        if unstructure is None:
            unstructure = hooks[model_type] = converter.get_unstructure_hook(model_type)
        data: dict[str, Any] = unstructure(record.model)
        ref = data.pop("source_ref", None)
        system = data.pop("source_system", None)
        content = encode(data)
        digest = sha(content.encode()).hexdigest()
        if ref is not None or system is not None:
            # appended after the sorted content; the hash covers the content only
            extra = _provenance_json(ref, system)
            content = f"{content[:-1]},{extra}}}" if len(content) > 2 else f"{{{extra}}}"
        row = record.row
        record_id = str(data[id_fields[record.kind]])
        out.append(
            {
                "kind": record.kind,
                "record_id": record_id,
                "enterprise_id": (
                    record_id if record.kind == "enterprise" else data.get("enterprise_id")
                ),
                "content_hash": digest,
                "data": content,
                "source_file": row.file or None,
                "source_sheet": row.sheet,
                "source_row": row.row,
                "cells": cells.text(row, data),
                **outcome_columns(record.kind, data),
            }
        )
    return out


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _refuse_known_files(connection: sa.Connection, hashes: Sequence[str]) -> None:
    query = (
        sa.select(batch_files.c.path, batch_files.c.sha256, batches.c.id, batches.c.created_at)
        .join(batches, batches.c.id == batch_files.c.batch_id)
        .where(batch_files.c.sha256.in_(hashes), batches.c.status == "landed")
        .order_by(batches.c.id)
    )
    earlier = connection.execute(query).first()
    if earlier is None:
        return
    msg = (
        f"a file with the same content (sha256 {earlier.sha256[:12]}...) was already "
        f"imported in batch {earlier.id} on {earlier.created_at} as {earlier.path}"
    )
    raise UsageError(msg, hint="Give --force to import it again as a new batch.")


def _latest(
    connection: sa.Connection, kinds: Sequence[str]
) -> dict[tuple[str, str], tuple[int, str]]:
    """(kind, record_id) -> (latest version, its content hash), for the given kinds."""
    top = (
        sa.select(
            records.c.kind, records.c.record_id, sa.func.max(records.c.version).label("version")
        )
        .where(records.c.kind.in_(kinds))
        .group_by(records.c.kind, records.c.record_id)
        .subquery()
    )
    query = sa.select(
        records.c.kind, records.c.record_id, records.c.version, records.c.content_hash
    ).join(
        top,
        sa.and_(
            records.c.kind == top.c.kind,
            records.c.record_id == top.c.record_id,
            records.c.version == top.c.version,
        ),
    )
    return {(k, r): (v, h) for k, r, v, h in connection.execute(query)}


def _pause_after() -> int | None:
    value = os.environ.get(PAUSE_ENV)
    return int(value) if value else None


def _insert_records(connection: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """``executemany`` the rows in chunks, straight to the driver.

    The statement is compiled by SQLAlchemy for the connection's dialect (so its SQL and
    parameter style are the database's own); the values are plain ``str``, ``int`` and
    ``None``, which need no type processing. This halves the cost per row against
    ``connection.execute(insert, dicts)`` (bench/bench_register.py).
    """
    if not rows:
        return
    compiled = records.insert().compile(dialect=connection.dialect, column_keys=list(rows[0]))
    sql = str(compiled)
    positions = compiled.positiontup or []
    getter = operator.itemgetter(*positions) if compiled.positional and positions else None
    pause = _pause_after()
    size = min(CHUNK_ROWS, pause) if pause else CHUNK_ROWS
    written = 0
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        if getter is not None:
            connection.exec_driver_sql(sql, [getter(r) for r in chunk])
        else:
            connection.exec_driver_sql(sql, chunk)
        written += len(chunk)
        if pause is not None and written >= pause:  # TEST HOOK, see PAUSE_ENV
            sys.stderr.write(f"mectk-test: paused after {written} rows\n")
            sys.stderr.flush()
            time.sleep(3600)


def _land(
    db: Db,
    result: ValidationResult,
    prepared: list[dict[str, Any]],
    files: tuple[BatchFile, ...],
    formats: str,
    force: bool,
    mapping: str | None,
) -> tuple[dict[str, Any], int, str]:
    """Write one batch in one transaction; return its counts, id and time."""
    with engine_for(db) as engine, engine.begin() as connection:
        if not force and files:
            _refuse_known_files(connection, [f.sha256 for f in files])
        kinds = sorted({p["kind"] for p in prepared})
        latest = _latest(connection, kinds) if kinds else {}
        rows: list[dict[str, Any]] = []
        new = changed = unchanged = 0
        for item in prepared:
            key = (item["kind"], item["record_id"])
            before = latest.get(key)
            if before is not None and before[1] == item["content_hash"]:
                unchanged += 1
                continue
            if before is None:
                new += 1
                version = 1
            else:
                changed += 1
                version = before[0] + 1
            latest[key] = (version, item["content_hash"])
            item["version"] = version
            rows.append(item)
        counts = {
            "rows_read": result.rows_read,
            "blank_rows": result.blank_rows,
            "skipped_rows": result.skipped_rows,
            "accepted": result.accepted,
            "rejected": result.rejected,
            "records": result.record_counts(),
            "register": {"new": new, "changed": changed, "unchanged": unchanged},
        }
        created = _utc_now()
        inserted = connection.execute(
            batches.insert().values(
                created_at=created,
                mectk_version=__version__,
                source="import",
                format=formats,
                mapping=mapping,
                counts=dumps(counts),
                status="landed",
            )
        )
        batch_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
        if files:
            connection.execute(
                batch_files.insert(),
                [
                    {
                        "batch_id": batch_id,
                        "path": f.path,
                        "sha256": f.sha256,
                        "format": f.format,
                        "sheets": dumps(list(f.sheets)),
                    }
                    for f in files
                ],
            )
        for item in rows:
            item["batch_id"] = batch_id
        _insert_records(connection, rows)
    return counts, batch_id, created


def import_result(
    db: Db, result: ValidationResult, *, force: bool = False, mapping: str | None = None
) -> BatchSummary:
    """Load the accepted records of ``result`` into the register at ``db`` as one batch.

    ``mapping`` is the name of the mapping file the files were read by, kept with the
    batch. Returns the landed batch. Raises :class:`UsageError` for a file already
    imported (unless ``force``) and for a register that cannot be opened.
    """
    prepared = _prepare(result.accepted_records)
    files = tuple(result.files)
    formats = ", ".join(dict.fromkeys(f.format for f in files)) or "none"
    try:
        counts, batch_id, created = _land(db, result, prepared, files, formats, force, mapping)
    except sa.exc.IntegrityError as exc:
        msg = (
            "another import changed the register at the same time; "
            f"nothing was imported ({exc.orig})"
        )
        raise UsageError(msg, hint="Run the import again.") from exc
    except sa.exc.OperationalError as exc:
        msg = f"the register is busy or cannot be written; nothing was imported ({exc.orig})"
        raise UsageError(msg, hint="Wait for the other import to finish, then run again.") from exc
    return BatchSummary(
        id=int(batch_id),
        created_at=created,
        mectk_version=__version__,
        source="import",
        format=formats,
        mapping=mapping,
        status="landed",
        counts=counts,
        files=files,
    )
