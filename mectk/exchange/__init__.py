"""Exchange packages between partners, and the Open Referral UK directory export.

Library API (used by the command line, the web app and the demo):

* :func:`export_package` writes a package zip from the register -> :class:`ExportResult`;
* :func:`verify_package` checks one -> :class:`VerifyResult` (``.valid``, ``.exit_code``,
  ``.issues``, ``.as_json()``);
* :func:`receive_package` verifies and lands one in the register -> :class:`ReceiveResult`;
* :func:`new_key_pair` writes an Ed25519 key pair for signing;
* :func:`export_oruk` writes the Open Referral UK directory files -> :class:`OrukResult`.

The package layout, the personal-data rules and the checks are in ``docs/exchange.md``.
Exchange uses the register and the model; it never imports readers, reports or faces.
"""

from __future__ import annotations

from mectk.exchange.oruk import OrukResult, export_oruk
from mectk.exchange.package import ExportResult, export_package
from mectk.exchange.receive import ReceiveResult, receive_package
from mectk.exchange.signing import new_key_pair
from mectk.exchange.verify import PackageRecord, VerifyResult, verify_package

__all__ = [
    "ExportResult",
    "OrukResult",
    "PackageRecord",
    "ReceiveResult",
    "VerifyResult",
    "export_oruk",
    "export_package",
    "new_key_pair",
    "receive_package",
    "verify_package",
]
