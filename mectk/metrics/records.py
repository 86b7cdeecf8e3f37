"""The register's current records, as the metrics read them.

Contract: :func:`load_current` reads every record kind the metrics use and keeps only the
latest version of each record (its current state). Values are the converter's
unstructured form: dates as ISO text, decimals as text, programme settings nested
(``council.name``). Nothing is masked; metrics never leave the core unaggregated.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from attrs import frozen

from mectk.register.connect import Db, engine_for, read_connection
from mectk.register.schema import records

KINDS = (
    "programme",
    "locality",
    "enterprise",
    "support_episode",
    "support_event",
    "outcome",
    "spend_line",
    "target",
)
DEFAULT_FY_START_MONTH = 4
DEFAULT_SUPPRESSION_THRESHOLD = 5

Record = Mapping[str, Any]


@frozen
class CurrentRecords:
    """The latest version of every record of the kinds metrics use, by kind."""

    by_kind: Mapping[str, Sequence[Record]]

    def of(self, kind: str) -> Sequence[Record]:
        """Current records of ``kind`` (empty when there are none)."""
        return self.by_kind.get(kind, ())

    @property
    def programme(self) -> Record:
        """The programme settings (the first programme record), or an empty mapping."""
        found = self.of("programme")
        return found[0] if found else {}

    @property
    def fy_start_month(self) -> int:
        """The programme's first month of the financial year (default April)."""
        return int(self.programme.get("fy_start_month") or DEFAULT_FY_START_MONTH)

    @property
    def suppression_threshold(self) -> int:
        """The programme's small-number threshold (default 5)."""
        value = self.programme.get("suppression_threshold")
        return int(value) if value is not None else DEFAULT_SUPPRESSION_THRESHOLD


def load_current(db: Db) -> CurrentRecords:
    """Every current record (latest version) of :data:`KINDS` in the register at ``db``.

    A missing SQLite register is a :class:`~mectk.errors.UsageError` (nothing is created).
    """
    with engine_for(db, create=False) as engine, read_connection(engine) as connection:
        return read_current(connection)


def read_current(connection: sa.Connection, kinds: Sequence[str] = KINDS) -> CurrentRecords:
    """Every current record (latest version) of ``kinds``, read on an open connection."""
    query = (
        sa.select(records.c.kind, records.c.data)
        .where(records.c.kind.in_(kinds), latest_only(connection, kinds))
        .order_by(records.c.kind, records.c.record_id)
    )
    return _by_kind(connection.execute(query).all())


def is_latest() -> sa.ColumnElement[bool]:
    """True for a row of ``records`` that is its record's latest version (no later one)."""
    later = records.alias("later")
    return ~sa.exists().where(
        later.c.kind == records.c.kind,
        later.c.record_id == records.c.record_id,
        later.c.version > records.c.version,
    )


def latest_only(connection: sa.Connection, kinds: Sequence[str]) -> sa.ColumnElement[bool]:
    """:func:`is_latest`, or true when no record of ``kinds`` has a second version (every
    row is then its record's latest, and the per-row check is skipped)."""
    probe = (
        sa.select(sa.literal(1)).where(records.c.kind.in_(kinds), records.c.version > 1).limit(1)
    )
    return is_latest() if connection.execute(probe).first() is not None else sa.true()


def _by_kind(rows: Iterable[tuple[str, str]]) -> CurrentRecords:
    out: dict[str, list[Record]] = {k: [] for k in KINDS}
    loads = json.loads
    for kind, data in rows:
        out[kind].append(loads(data))
    return CurrentRecords({k: tuple(v) for k, v in out.items()})


def day(value: Any) -> datetime.date | None:
    """A stored date (ISO text) as a date; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def number(value: Any) -> Decimal:
    """A stored number (int, or Decimal written as text) as a Decimal; None is 0."""
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))
