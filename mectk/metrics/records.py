"""The register's current records, as the metrics read them.

Contract: :func:`load_current` reads every record kind the metrics use and keeps only the
latest version of each record (its current state). Values are the converter's
unstructured form: dates as ISO text, decimals as text, programme settings nested
(``council.name``). Nothing is masked; metrics never leave the core unaggregated.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from attrs import frozen

from mectk.register.connect import Db, engine_for, read_connection
from mectk.register.schema import records

KINDS = ("programme", "locality", "enterprise", "support_episode", "support_event", "outcome")
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
    latest = (
        sa.select(records.c.kind, records.c.record_id, sa.func.max(records.c.version).label("v"))
        .where(records.c.kind.in_(KINDS))
        .group_by(records.c.kind, records.c.record_id)
        .subquery()
    )
    query = (
        sa.select(records.c.kind, records.c.data)
        .join(
            latest,
            sa.and_(
                records.c.kind == latest.c.kind,
                records.c.record_id == latest.c.record_id,
                records.c.version == latest.c.v,
            ),
        )
        .order_by(records.c.kind, records.c.record_id)
    )
    out: dict[str, list[Record]] = {k: [] for k in KINDS}
    with engine_for(db, create=False) as engine, read_connection(engine) as connection:
        for kind, data in connection.execute(query):
            out[kind].append(json.loads(data))
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
