"""Ed25519 signatures on exchange packages (the ``cryptography`` library).

Contract:

* :func:`new_key_pair` writes ``NAME.key`` (the private key, PKCS#8 PEM, file mode 0600
  from the moment it exists) and ``NAME.pub`` (the public key, PEM); it never overwrites.
* A signed package holds :data:`SIGNATURE_MEMBER`: JSON with the algorithm, the signer's
  public key (raw, base64) and the signature of the exact bytes of ``datapackage.json``.
  The manifest holds the sha256 of every other member, so the signature covers them all.
* :func:`check_signature` says whether the signature matches those bytes and whether the
  key is one of the trusted ones. A fingerprint is the first 16 hex digits of the sha256
  of the raw public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from attrs import frozen
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mectk.errors import UsageError

SIGNATURE_MEMBER = "signature.json"
ALGORITHM = "ed25519"
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def fingerprint(key: Ed25519PublicKey) -> str:
    """The key's fingerprint: 16 hex digits of the sha256 of its raw bytes."""
    return hashlib.sha256(key.public_bytes(*_RAW)).hexdigest()[:16]


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to a new file ``path`` (never over one) with ``mode``, whole or not."""
    if path.exists():
        msg = f"{path} already exists; mectk never overwrites a key"
        raise UsageError(msg, hint="Choose another name, or move the old key away first.")
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise UsageError(f"{path}: the folder {folder} does not exist")
    temporary = folder / f".{path.name}.{secrets.token_hex(6)}.part"
    try:
        descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write in {folder} ({exc.strerror})") from exc
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        temporary.chmod(mode)  # the umask may have taken bits away; never added any
        os.link(temporary, path)  # fails if path appeared meanwhile: never overwrites
    finally:
        temporary.unlink(missing_ok=True)


def new_key_pair(stem: Path) -> tuple[Path, Path, str]:
    """Write ``stem.key`` (0600) and ``stem.pub``; return their paths and the fingerprint."""
    private_path = stem.with_name(stem.name + ".key")
    public_path = stem.with_name(stem.name + ".pub")
    for path in (private_path, public_path):
        if path.exists():
            raise UsageError(f"{path} already exists; mectk never overwrites a key")
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(private_path, private, 0o600)
    _write_new(public_path, public, 0o644)
    return private_path, public_path, fingerprint(key.public_key())


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in ``path``; a UsageError when it is not one."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        msg = f"--sign {path}: not an unencrypted Ed25519 private key file ({exc})"
        raise UsageError(msg, hint="Make one with mectk keys new NAME.") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"--sign {path}: the key is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in ``path`` (PEM); a UsageError when it is not one."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        msg = f"--trust {path}: not an Ed25519 public key file ({exc})"
        raise UsageError(msg, hint="Give the partner's NAME.pub file.") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"--trust {path}: the key is not an Ed25519 key")
    return key


def signature_document(key: Ed25519PrivateKey, manifest: bytes) -> bytes:
    """The :data:`SIGNATURE_MEMBER` content signing ``manifest`` with ``key``."""
    public = key.public_key()
    document = {
        "algorithm": ALGORITHM,
        "signed_member": "datapackage.json",
        "public_key": base64.b64encode(public.public_bytes(*_RAW)).decode(),
        "fingerprint": fingerprint(public),
        "signature": base64.b64encode(key.sign(manifest)).decode(),
    }
    return (json.dumps(document, indent=2) + "\n").encode()


@frozen
class SignatureCheck:
    """The outcome of checking a package's signature."""

    valid: bool
    trusted: bool
    fingerprint: str | None
    problem: str | None


def check_signature(
    document: bytes, manifest: bytes, trust: Sequence[Ed25519PublicKey]
) -> SignatureCheck:
    """Whether ``document`` signs ``manifest``, and by one of the ``trust`` keys."""
    try:
        parsed = json.loads(document)
        if parsed.get("algorithm") != ALGORITHM:
            return SignatureCheck(False, False, None, "the algorithm is not ed25519")
        raw = base64.b64decode(parsed["public_key"], validate=True)
        signature = base64.b64decode(parsed["signature"], validate=True)
        key = Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        return SignatureCheck(False, False, None, f"the signature file is malformed ({exc})")
    found = fingerprint(key)
    try:
        key.verify(signature, manifest)
    except InvalidSignature:
        return SignatureCheck(False, False, found, "the signature does not match the content")
    trusted = any(t.public_bytes(*_RAW) == raw for t in trust)
    return SignatureCheck(True, trusted, found, None)
