"""Receiving a partner's exchange package into the register.

Contract of :func:`receive_package`: verifies the package first (:func:`verify_package`);
an invalid package lands nothing and its issues are returned. A valid one lands as ONE
batch whose provenance is the package's producer (:func:`mectk.register.exchange.land_received`):
records are compared with the register's current versions; fields the package does not
carry (personal data left out) keep the register's values; a record whose current version
came from another producer and differs is a conflict, reported field by field, and
without ``prefer`` nothing at all is landed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mectk import __version__
from mectk.exchange.fields import carried, register_form
from mectk.exchange.verify import VerifyResult, verify_package
from mectk.issues import Issue, make_issue
from mectk.register.connect import Db
from mectk.register.exchange import (
    RECEIVE_FORMAT,
    Conflict,
    Incoming,
    Prefer,
    land_received,
)
from mectk.register.store import BatchFile, BatchSummary


@frozen
class ReceiveResult:
    """What :func:`receive_package` did. ``batch`` is None when nothing was landed."""

    verification: VerifyResult
    batch: BatchSummary | None
    new: int
    changed: int
    unchanged: int
    kept_ours: int
    conflicts: tuple[Conflict, ...]
    issues: tuple[Issue, ...]

    @property
    def landed(self) -> bool:
        """Whether the records were landed."""
        return self.batch is not None

    @property
    def exit_code(self) -> int:
        """0 landed; the verification's exit code (1 or 3) when invalid; 1 on conflicts."""
        if not self.verification.valid:
            return self.verification.exit_code
        return 0 if self.landed else 1

    def as_json(self) -> dict[str, Any]:
        """The result as a JSON object (the ``mectk receive --json`` document)."""
        return {
            "mectk_version": __version__,
            "package": str(self.verification.path),
            "valid": self.verification.valid,
            "landed": self.landed,
            "producer": dict(self.verification.producer or {}) or None,
            "records": self.verification.counts(),
            "register": {
                "new": self.new,
                "changed": self.changed,
                "unchanged": self.unchanged,
                "kept_ours": self.kept_ours,
            },
            "conflicts": [c.as_json() for c in self.conflicts],
            "batch": self.batch.as_json() if self.batch is not None else None,
            "issues": [i.as_json() for i in self.issues],
        }


def _conflict_issue(conflict: Conflict, producer: str) -> Issue:
    code = "receive-conflict" if conflict.resolution == "refused" else "receive-conflict-resolved"
    return make_issue(
        code,
        kind=conflict.kind.replace("_", " ").capitalize(),
        record_id=conflict.record_id,
        producer=producer,
        ours=conflict.ours_from or "imported here",
        fields=", ".join(c.field for c in conflict.changes),
        resolution=f"{conflict.resolution}'s" if conflict.resolution != "ours" else "ours",
    )


def receive_package(
    db: Db,
    path: Path,
    *,
    prefer: Prefer | None = None,
    trust: Sequence[Path | Ed25519PublicKey] = (),
) -> ReceiveResult:
    """Verify the package at ``path`` and land it in the register at ``db`` (module
    contract). ``trust`` is passed to :func:`verify_package`."""
    checked = verify_package(Path(path), trust=trust)
    if not checked.valid:
        return ReceiveResult(checked, None, 0, 0, 0, 0, (), checked.issues)
    personal = checked.personal_fields
    sent = {
        kind: frozenset(f.name for f in carried(kind, personal))
        for kind in {r.kind for r in checked.records}
    }
    incoming = [
        Incoming(r.kind, r.record_id, register_form(r.data), sent[r.kind], r.member, r.row)
        for r in checked.records
    ]
    producer: Mapping[str, Any] = checked.producer or {"name": "unknown"}
    members = [r["path"] for r in (checked.manifest or {}).get("resources", ())]
    package = BatchFile(str(path), checked.sha256, RECEIVE_FORMAT, tuple(members))
    counts = {
        "rows_read": len(incoming),
        "blank_rows": 0,
        "accepted": len(incoming),
        "rejected": 0,
        "records": checked.counts(),
    }
    outcome = land_received(
        db, incoming, producer=producer, package=package, prefer=prefer, counts=counts
    )
    name = str(producer.get("name"))
    issues = tuple(_conflict_issue(c, name) for c in outcome.conflicts)
    return ReceiveResult(
        checked,
        outcome.batch,
        outcome.new,
        outcome.changed,
        outcome.unchanged,
        outcome.kept_ours,
        outcome.conflicts,
        (*checked.issues, *issues),
    )
