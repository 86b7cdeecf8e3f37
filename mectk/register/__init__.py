"""The register: where validated records are kept between runs (design.md section 6).

A database reached through SQLAlchemy Core: an SQLite file by default (``./mectk.db``),
or any SQLAlchemy URL (the same code runs on PostgreSQL). Every import is a batch with its
files, their sha256, format, mapping, counts and time; records keep every version with
the batch and cells they came from; the current state of a record is its latest version.

Public functions:

* :func:`open_register` create or upgrade a register, return its engine;
* :func:`import_result` load a validation result's accepted records as one batch;
* :func:`list_batches`, :func:`enterprise_history`, :func:`diff_since` read it.

The register imports the model layer and the validation result types, never readers,
metrics, reports or the command line.
"""

from __future__ import annotations

from mectk.register.connect import DEFAULT_DB, Db, open_register
from mectk.register.queries import (
    EnterpriseChange,
    EnterpriseHistory,
    FieldChange,
    RecordVersion,
    RegisterDiff,
    diff_since,
    enterprise_history,
    list_batches,
)
from mectk.register.schema import SCHEMA_VERSION
from mectk.register.store import BatchFile, BatchSummary, import_result

__all__ = [
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "BatchFile",
    "BatchSummary",
    "Db",
    "EnterpriseChange",
    "EnterpriseHistory",
    "FieldChange",
    "RecordVersion",
    "RegisterDiff",
    "diff_since",
    "enterprise_history",
    "import_result",
    "list_batches",
    "open_register",
]
