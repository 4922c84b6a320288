"""Workspace key files: the Ed25519 checkpoint-signing key and the AES-256 evidence-hold key (both mode 0600).

Keys are created on first use with O_EXCL, so two processes starting together agree on one key. The hold key may
be wrapped by a passphrase (scrypt, N=2**15, r=8, p=1 → AES-256-GCM); set RECLAIM_HOLD_PASSPHRASE before the key
is first created to wrap it, and whenever it is used afterwards.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from reclaim.errors import EvidenceError
from reclaim.settings import Settings

SIGNING_KEY = "signing-key.pem"
HOLD_KEY = "hold-key.json"
HOLD_KEY_FORMAT = "reclaim-hold-key/1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


def evidence_dir(settings: Settings) -> Path:
    path = settings.home / "evidence"
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise EvidenceError(f"cannot create the evidence folder '{path}' ({exc.strerror}); check permissions") from exc
    return path


def write_private(path: Path, data: bytes) -> bool:
    """Create `path` with mode 0600 holding `data`; False if it already exists (someone else won the race)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The workspace's checkpoint-signing key, created on first use."""
    path = evidence_dir(settings) / SIGNING_KEY
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private(path, pem)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise EvidenceError(
            f"the signing key '{path}' cannot be read ({exc}); restore it from your backup. Never replace it "
            "silently: checkpoints already handed out were signed with it."
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise EvidenceError(f"the signing key '{path}' is not an Ed25519 key; restore the original from backup")
    return key


def public_pem(settings: Settings) -> bytes:
    return (
        signing_key(settings)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def hold_key(settings: Settings) -> bytes:
    """The 32-byte AES key that encrypts held originals; created (wrapped if a passphrase is set) on first use."""
    path = evidence_dir(settings) / HOLD_KEY
    if not path.exists():
        write_private(path, _new_hold_key_file(settings.hold_passphrase))
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise EvidenceError(f"the hold key '{path}' cannot be read ({exc.strerror}); restore it from backup") from exc
    return _unwrap(content, settings.hold_passphrase, str(path))


def _new_hold_key_file(passphrase: str | None) -> bytes:
    key = secrets.token_bytes(32)
    b64 = base64.b64encode
    doc: dict[str, str | int]
    if not passphrase:
        doc = {"format": HOLD_KEY_FORMAT, "kdf": "none", "key": b64(key).decode()}
    else:
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        kek = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode("utf-8"))
        wrapped = AESGCM(kek).encrypt(nonce, key, HOLD_KEY_FORMAT.encode())
        doc = {
            "format": HOLD_KEY_FORMAT,
            "kdf": "scrypt",
            "n": SCRYPT_N,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "salt": b64(salt).decode(),
            "nonce": b64(nonce).decode(),
            "wrapped": b64(wrapped).decode(),
        }
    return json.dumps(doc, indent=2).encode() + b"\n"


@lru_cache(maxsize=4)
def _unwrap(content: bytes, passphrase: str | None, where: str) -> bytes:
    """Cached, because scrypt is deliberately slow and ingest asks for the key once per held item."""
    try:
        doc = json.loads(content)
        if doc.get("format") != HOLD_KEY_FORMAT:
            raise ValueError("unknown format")
        if doc["kdf"] == "none":
            key = base64.b64decode(doc["key"], validate=True)
        elif doc["kdf"] == "scrypt":
            if not passphrase:
                raise EvidenceError(
                    f"the hold key '{where}' is protected by a passphrase; set RECLAIM_HOLD_PASSPHRASE and retry"
                )
            kek = Scrypt(
                salt=base64.b64decode(doc["salt"]), length=32, n=int(doc["n"]), r=int(doc["r"]), p=int(doc["p"])
            ).derive(passphrase.encode("utf-8"))
            try:
                key = AESGCM(kek).decrypt(
                    base64.b64decode(doc["nonce"]), base64.b64decode(doc["wrapped"]), HOLD_KEY_FORMAT.encode()
                )
            except InvalidTag:
                raise EvidenceError(
                    f"RECLAIM_HOLD_PASSPHRASE does not unlock the hold key '{where}'; check the passphrase"
                ) from None
        else:
            raise ValueError(f"unknown kdf {doc['kdf']!r}")
    except EvidenceError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise EvidenceError(f"the hold key '{where}' is damaged ({exc}); restore it from backup") from exc
    if len(key) != 32:
        raise EvidenceError(f"the hold key '{where}' does not hold a 256-bit key; restore it from backup")
    return key


def fsync_dir(path: Path) -> None:
    """Make a rename durable (best effort: not every filesystem allows opening a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
