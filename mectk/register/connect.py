"""Opening a register: ``--db`` text to an SQLAlchemy engine, migrated to the current schema.

Contract: :func:`open_register` accepts an SQLAlchemy URL (``sqlite:///x.db``,
``postgresql+psycopg://...``) or a plain file path (an SQLite file, created when missing)
and returns an engine whose register is at :data:`~mectk.register.schema.SCHEMA_VERSION`.
Every problem opening it is a :class:`~mectk.errors.UsageError` (exit 2) naming the
database. On SQLite, each transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time,
DDL inside the transaction), except on connections from :func:`read_connection`, and
foreign keys are enforced.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from mectk.errors import UsageError
from mectk.register.schema import READ_ONLY, migrate

DEFAULT_DB = "mectk.db"
"""The register used when ``--db`` is not given: ``./mectk.db``."""

Db = str | Path | sa.Engine
"""What the register functions accept: a URL, a path, or an engine from open_register."""


def _url(db: str | Path) -> sa.URL:
    text = str(db)
    if "://" in text:
        try:
            return sa.make_url(text)
        except sa.exc.ArgumentError as exc:
            msg = f"--db: '{text}' is not a database URL ({exc})"
            raise UsageError(msg, hint="For example sqlite:///mectk.db, or a file path") from exc
    path = Path(text)
    if not path.name or path.is_dir():
        msg = f"--db: '{text}' is a folder; give a file name for the register"
        raise UsageError(msg, hint="For example --db registers/mectk.db")
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        msg = f"--db: the folder {folder} does not exist"
        raise UsageError(msg)
    return sa.URL.create("sqlite", database=str(path))


def _sqlite_transactions(engine: sa.Engine) -> None:
    """pysqlite's own transaction handling defers BEGIN and commits before DDL; take it over."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def open_register(db: str | Path, *, create: bool = True) -> sa.Engine:
    """An engine on the register at ``db``, created or upgraded to the current schema.

    With ``create=False`` a missing SQLite file is a :class:`UsageError` instead of a new
    register (commands that only read do not leave an empty ``mectk.db`` behind).
    """
    url = _url(db)
    name = url.database
    missing = url.get_backend_name() == "sqlite" and name and not Path(name).is_file()
    if not create and missing and name != ":memory:":
        msg = f"there is no register at {db}"
        raise UsageError(msg, hint="Import files first (mectk import FILE), or give --db.")
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        msg = f"--db {db}: cannot use this database ({exc})"
        raise UsageError(msg, hint="Is the database driver installed?") from exc
    if url.get_backend_name() == "sqlite":
        _sqlite_transactions(engine)
    try:
        migrate(engine, str(db))
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        msg = f"--db {db}: cannot open the register ({exc.orig})"
        hint = "Check that it is a register and that you may write it."
        raise UsageError(msg, hint=hint) from exc
    except BaseException:
        engine.dispose()
        raise
    return engine


@contextlib.contextmanager
def engine_for(db: Db, *, create: bool = True) -> Iterator[sa.Engine]:
    """Yield ``db`` if it is an engine; otherwise open it, and dispose of it afterwards."""
    if isinstance(db, sa.Engine):
        yield db
        return
    engine = open_register(db, create=create)
    try:
        yield engine
    finally:
        engine.dispose()


def read_connection(engine: sa.Engine) -> sa.Connection:
    """A connection for reading only (``with read_connection(engine) as connection:``)."""
    return engine.connect().execution_options(**{READ_ONLY: True})
