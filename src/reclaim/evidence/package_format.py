"""What a checkpoint and a package look like on the wire, and the crypto both ends share. Pure: no DB, no workspace.

Checkpoint note (UTF-8 text, signed as is with Ed25519)::

    reclaim-evidence-checkpoint/v1
    key <key id: first 16 bytes of SHA-256 of the raw public key, hex>
    size <tree size>
    root <RFC 9162 tree head, hex>
    time <UTC signing time, RFC 3339>

Recipient encryption of originals ("X25519-HKDF-SHA256-AES-256-GCM/1", in the spirit of age and HPKE base mode):
one ephemeral X25519 key per package; file key = HKDF-SHA256(ikm = X25519(ephemeral, recipient),
salt = ephemeral public || recipient public, info = "reclaim-evidence-package/1 originals", 32 bytes); each original
is `RCLR` 0x01 || 12-byte random nonce || AES-256-GCM(file key, nonce, plaintext, aad = "reclaim-original/1:" ||
sha256 hex). Only the holder of the recipient's private key can open them; the ephemeral private key is discarded.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PACKAGE_FORMAT = "reclaim-evidence-package/1"
CHECKPOINT_HEADER = "reclaim-evidence-checkpoint/v1"
RECIPIENT_SCHEME = "X25519-HKDF-SHA256-AES-256-GCM/1"
RECIPIENT_INFO = b"reclaim-evidence-package/1 originals"
RECIPIENT_MAGIC = b"RCLR\x01"
NONCE = 12

MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.sig"
CHECKPOINT = "log/checkpoint.txt"
CHECKPOINT_SIG = "log/checkpoint.sig"
ENTRIES = "log/entries.jsonl"
OLDER_CHECKPOINTS = "log/checkpoints.jsonl"
SUMMARY = "summary.html"
PUBLIC_KEY = "public-key.pem"


@dataclass(frozen=True, slots=True)
class Note:
    key_id: str
    size: int
    root: bytes
    time: str


def raw_public(public_key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """How checkpoints and packages name a signing key."""
    return hashlib.sha256(raw_public(public_key)).hexdigest()[:32]


def make_note(key: str, size: int, root: bytes, time: str) -> str:
    return f"{CHECKPOINT_HEADER}\nkey {key}\nsize {size}\nroot {root.hex()}\ntime {time}\n"


def parse_note(text: str) -> Note:
    """Parse a checkpoint note; raises ValueError saying which line is wrong."""
    lines = text.split("\n")
    if len(lines) != 6 or lines[5] != "" or lines[0] != CHECKPOINT_HEADER:
        raise ValueError("it is not a reclaim-evidence-checkpoint/v1 note")
    fields: dict[str, str] = {}
    for line, name in zip(lines[1:5], ("key", "size", "root", "time"), strict=True):
        prefix = name + " "
        if not line.startswith(prefix):
            raise ValueError(f"its '{name}' line is missing")
        fields[name] = line[len(prefix) :]
    size_text = fields["size"]
    if not size_text.isdigit() or (len(size_text) > 1 and size_text[0] == "0"):
        raise ValueError("its size is not a whole number")
    root_text = fields["root"]
    if len(root_text) != 64 or root_text != root_text.lower():
        raise ValueError("its root is not 64 lowercase hex digits")
    return Note(fields["key"], int(size_text), bytes.fromhex(root_text), fields["time"])


def sign(private_key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(private_key.sign(data)).decode("ascii")


def signature_ok(public_key: Ed25519PublicKey, data: bytes, signature_b64: str) -> bool:
    """True only for a valid signature written in canonical base64 (one spelling per signature, so that no byte of
    a signature file can change unnoticed)."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        if base64.b64encode(signature).decode("ascii") != signature_b64:
            return False
        public_key.verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def signature_file_text(data: bytes) -> str | None:
    """The base64 signature inside a `.sig` file, which must be exactly the signature and one newline."""
    if not data.endswith(b"\n") or data.count(b"\n") != 1:
        return None
    try:
        return data[:-1].decode("ascii")
    except UnicodeDecodeError:
        return None


def load_signing_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; raises ValueError otherwise."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("it is not an Ed25519 public key")
    return key


def load_recipient_public_key(pem: bytes) -> X25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, X25519PublicKey):
        raise ValueError("it is not an X25519 public key (make one with `reclaim evidence keygen`)")
    return key


def load_recipient_private_key(pem: bytes) -> X25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, X25519PrivateKey):
        raise ValueError("it is not an X25519 private key")
    return key


def _file_key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    if shared == bytes(32):
        raise ValueError("the recipient key is degenerate (all-zero shared secret)")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_public + recipient_public, info=RECIPIENT_INFO)
    return hkdf.derive(shared)


def _original_aad(sha256: str) -> bytes:
    return b"reclaim-original/1:" + sha256.encode("ascii")


class RecipientSealer:
    """Encrypts a package's originals for one X25519 recipient (one ephemeral key per package)."""

    def __init__(self, recipient: X25519PublicKey) -> None:
        ephemeral = X25519PrivateKey.generate()
        self.ephemeral_public = raw_public(ephemeral.public_key())
        self.recipient_public = raw_public(recipient)
        self._key = _file_key(ephemeral.exchange(recipient), self.ephemeral_public, self.recipient_public)

    def header(self) -> dict[str, str]:
        return {
            "scheme": RECIPIENT_SCHEME,
            "ephemeral_public": base64.b64encode(self.ephemeral_public).decode(),
            "recipient_public": base64.b64encode(self.recipient_public).decode(),
            "recipient_fingerprint": hashlib.sha256(self.recipient_public).hexdigest(),
        }

    def seal(self, sha256: str, data: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE)
        return RECIPIENT_MAGIC + nonce + AESGCM(self._key).encrypt(nonce, data, _original_aad(sha256))


def open_for_recipient(identity: X25519PrivateKey, header: dict[str, str], sha256: str, sealed: bytes) -> bytes:
    """Decrypt one original sealed for `identity`; raises ValueError if it is not for this key or was altered."""
    if header.get("scheme") != RECIPIENT_SCHEME:
        raise ValueError(f"unknown encryption scheme {header.get('scheme')!r}")
    ephemeral_public = base64.b64decode(header["ephemeral_public"], validate=True)
    recipient_public = raw_public(identity.public_key())
    if base64.b64decode(header["recipient_public"], validate=True) != recipient_public:
        raise ValueError("the originals were encrypted for another recipient key")
    key = _file_key(
        identity.exchange(X25519PublicKey.from_public_bytes(ephemeral_public)), ephemeral_public, recipient_public
    )
    if not sealed.startswith(RECIPIENT_MAGIC) or len(sealed) < len(RECIPIENT_MAGIC) + NONCE + 16:
        raise ValueError("it is not a recipient-sealed original")
    nonce = sealed[len(RECIPIENT_MAGIC) : len(RECIPIENT_MAGIC) + NONCE]
    try:
        data = AESGCM(key).decrypt(nonce, sealed[len(RECIPIENT_MAGIC) + NONCE :], _original_aad(sha256))
    except InvalidTag:
        raise ValueError("it does not decrypt (altered, or sealed for another key)") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError("the decrypted bytes do not hash to the item's SHA-256")
    return data
