"""The register's tables and its versioned schema migrations.

Contract:

* The ``meta`` table holds one row ``("schema_version", "<n>")``. A database with no
  tables at all is version 0 (a new register); a database that has tables but no
  ``meta`` table is not a mectk register and is refused.
* :data:`MIGRATIONS` is a list: ``MIGRATIONS[i]`` takes a register from version ``i`` to
  ``i + 1``. :func:`migrate` applies the missing steps in order, each in its own
  transaction together with the version bump, so an interrupted upgrade leaves the
  register at the last completed version. To change the schema, append a function (never
  edit a released one) and update the module-level tables below to match the new version.
* A register whose version is newer than :data:`SCHEMA_VERSION` is refused with a
  :class:`~mectk.errors.UsageError` naming both versions.
* Only SQLAlchemy Core constructs are used, so the same code runs on SQLite and
  PostgreSQL. JSON is stored as text (``sa.Text``) written by :mod:`mectk.register.store`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from mectk import __version__
from mectk.errors import UsageError

META_KEY = "schema_version"
READ_ONLY = "mectk_read_only"
"""Execution option for connections that only read: on SQLite they start with a deferred
``BEGIN`` and take no write lock, so ``mectk batches`` works while an import runs."""


def _tables_v1(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """The tables as they are at schema version 1."""
    meta = sa.Table(
        "meta",
        metadata,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    batches = sa.Table(
        "batches",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.String(32), nullable=False),  # ISO 8601 UTC, "...Z"
        sa.Column("mectk_version", sa.String(32), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),  # "import" or "receive"
        sa.Column("format", sa.String(200), nullable=False),
        sa.Column("mapping", sa.String(500), nullable=True),
        sa.Column("counts", sa.Text, nullable=False),  # JSON
        sa.Column("status", sa.String(16), nullable=False),  # "landed"
    )
    batch_files = sa.Table(
        "batch_files",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("format", sa.String(200), nullable=False),
        sa.Column("sheets", sa.Text, nullable=False),  # JSON list
        sa.Index("ix_batch_files_sha256", "sha256"),
        sa.Index("ix_batch_files_batch", "batch_id"),
    )
    records = sa.Table(
        "records",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=False),
        sa.Column("enterprise_id", sa.String(200), nullable=True),  # the enterprise it is about
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("data", sa.Text, nullable=False),  # JSON: the converter's unstructured form
        sa.Column("source_file", sa.Text, nullable=True),
        sa.Column("source_sheet", sa.Text, nullable=True),
        sa.Column("source_row", sa.Integer, nullable=True),
        sa.Column("cells", sa.Text, nullable=False),  # JSON: field -> cell ("H14")
        sa.UniqueConstraint("kind", "record_id", "version", name="uq_records_version"),
        sa.Index("ix_records_batch", "batch_id"),
        sa.Index("ix_records_enterprise", "enterprise_id"),
    )
    return {t.name: t for t in (meta, batches, batch_files, records)}


def _migration_1(connection: sa.Connection) -> None:
    """Version 0 -> 1: the initial schema (meta, batches, batch_files, records)."""
    metadata = sa.MetaData()
    _tables_v1(metadata)
    metadata.create_all(connection)


OUTCOME_COLUMNS = ("outcome_type", "as_at_date", "breakdown", "value", "period_start", "period_end")
"""Version 2: outcome fields copied out of ``records.data`` into columns of their own (NULL
for other kinds), so that the metrics read them without parsing JSON."""


def _outcome_column_defs() -> list[sa.Column[Any]]:
    return [
        sa.Column("outcome_type", sa.String(64), nullable=True),
        sa.Column("as_at_date", sa.String(32), nullable=True),  # as in data: ISO text
        sa.Column("breakdown", sa.String(200), nullable=True),
        sa.Column("value", sa.Text, nullable=True),  # as text: "12.50", "3"
        sa.Column("period_start", sa.String(32), nullable=True),
        sa.Column("period_end", sa.String(32), nullable=True),
    ]


def _tables_v2(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """The tables as they are at schema version 2: ``records`` gains the outcome columns."""
    tables = _tables_v1(metadata)
    records = tables["records"]
    for column in _outcome_column_defs():
        records.append_column(column)
    return tables


def outcome_columns(kind: str, data: Mapping[str, Any]) -> dict[str, str | None]:
    """The :data:`OUTCOME_COLUMNS` values of a record (all None unless an outcome), from
    its unstructured ``data``: text as stored in the JSON, numbers as their text."""
    if kind != "outcome":
        return dict.fromkeys(OUTCOME_COLUMNS)
    out: dict[str, str | None] = {}
    for name in OUTCOME_COLUMNS:
        value = data.get(name)
        out[name] = value if value is None or isinstance(value, str) else str(value)
    return out


def _migration_2(connection: sa.Connection) -> None:
    """Version 1 -> 2: the outcome columns on ``records``, backfilled from each outcome's
    ``data``. (No index: the metrics read every current outcome in one pass, and an index
    would only slow imports.)"""
    metadata = sa.MetaData()
    tables = _tables_v2(metadata)
    records = tables["records"]
    preparer = connection.dialect.identifier_preparer
    for name in OUTCOME_COLUMNS:
        column = records.c[name]
        kind = column.type.compile(dialect=connection.dialect)
        connection.execute(
            sa.text(
                f"ALTER TABLE {preparer.format_table(records)} "
                f"ADD COLUMN {preparer.format_column(column)} {kind}"
            )
        )
    update = (
        sa.update(records)
        .where(records.c.id == sa.bindparam("row_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in OUTCOME_COLUMNS})
    )
    query = (
        sa.select(records.c.id, records.c.data)
        .where(records.c.kind == "outcome")
        .order_by(records.c.id)
    )
    last = 0
    while True:
        chunk = connection.execute(query.where(records.c.id > last).limit(_BACKFILL_ROWS)).all()
        if not chunk:
            break
        last = chunk[-1][0]
        connection.execute(
            update,
            [
                {
                    "row_id": row_id,
                    **{
                        f"new_{k}": v
                        for k, v in outcome_columns("outcome", json.loads(data)).items()
                    },
                }
                for row_id, data in chunk
            ],
        )


_BACKFILL_ROWS = 20000


def _tables_v3(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """The tables at schema version 3: ``batches`` gains ``producer``, the organisation a
    received exchange package came from (JSON ``{"name": ..., "org_id": ...}``; NULL for
    a batch imported here from files)."""
    tables = _tables_v2(metadata)
    tables["batches"].append_column(sa.Column("producer", sa.Text, nullable=True))
    return tables


def _migration_3(connection: sa.Connection) -> None:
    """Version 2 -> 3: ``batches.producer`` (NULL for every earlier batch: imported here)."""
    metadata = sa.MetaData()
    batches = _tables_v3(metadata)["batches"]
    preparer = connection.dialect.identifier_preparer
    column = batches.c.producer
    connection.execute(
        sa.text(
            f"ALTER TABLE {preparer.format_table(batches)} "
            f"ADD COLUMN {preparer.format_column(column)} "
            f"{column.type.compile(dialect=connection.dialect)}"
        )
    )


MIGRATIONS: list[Callable[[sa.Connection], None]] = [_migration_1, _migration_2, _migration_3]
"""``MIGRATIONS[i]`` upgrades a register from version ``i`` to ``i + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The register schema version this mectk writes and reads."""

metadata = sa.MetaData()
_current = _tables_v3(metadata)
meta: sa.Table = _current["meta"]
batches: sa.Table = _current["batches"]
batch_files: sa.Table = _current["batch_files"]
records: sa.Table = _current["records"]


def read_version(connection: sa.Connection, where: str) -> int:
    """The schema version of the register behind ``connection`` (0 for an empty database)."""
    names = set(sa.inspect(connection).get_table_names())
    if "meta" not in names:
        if names:
            msg = (
                f"{where} is a database, but not a mectk register "
                f"(it has tables {', '.join(sorted(names)[:5])} and no 'meta' table)"
            )
            raise UsageError(msg, hint="Give --db a new file name or an existing register.")
        return 0
    value = connection.execute(
        sa.select(meta.c.value).where(meta.c.key == META_KEY)
    ).scalar_one_or_none()
    try:
        return int(value) if value is not None else 0
    except ValueError:
        msg = f"{where}: the register's schema version '{value}' is not a number"
        raise UsageError(msg) from None


def _write_version(connection: sa.Connection, version: int) -> None:
    updated = connection.execute(
        sa.update(meta).where(meta.c.key == META_KEY).values(value=str(version))
    )
    if updated.rowcount == 0:
        connection.execute(sa.insert(meta).values(key=META_KEY, value=str(version)))


def migrate(engine: sa.Engine, where: str) -> int:
    """Bring the register up to :data:`SCHEMA_VERSION` step by step; return the version.

    Refuses (:class:`UsageError`) a register newer than this mectk understands.
    """
    target = len(MIGRATIONS)  # == SCHEMA_VERSION; read here so tests can add a step
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        version = read_version(connection, where)  # the usual case: no lock, no change
    if version == target:
        return version
    while True:
        with engine.begin() as connection:
            version = read_version(connection, where)
            if version > target:
                msg = (
                    f"{where} has register schema version {version}, but this mectk "
                    f"({__version__}) understands versions up to {target}"
                )
                raise UsageError(
                    msg, hint="Upgrade mectk to open this register; it has not been changed."
                )
            if version == target:
                return version
            MIGRATIONS[version](connection)
            _write_version(connection, version + 1)
