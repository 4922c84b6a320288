"""Evidence holds: originals of media sighted in a held room or matching a held case are kept, encrypted.

Without a hold no bytes are ever stored. Held originals live under `<home>/evidence/held/<aa>/<sha256>.rch`,
addressed by the SHA-256 of the plaintext: `RCLH` 0x01, a 12-byte nonce, then AES-256-GCM ciphertext and tag with
the associated data `reclaim-held/1:<sha256>` (so a file renamed to another address fails to decrypt).
Removing a hold stops new preservation; it never deletes what was already kept.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Collection
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from reclaim.errors import EvidenceError, HoldNotFound
from reclaim.evidence.encoding import utc_text
from reclaim.evidence.keys import evidence_dir, fsync_dir, hold_key
from reclaim.evidence.log import append_entry
from reclaim.settings import Settings
from reclaim.sources.base import RoomRef
from reclaim.store.evidence_tables import EvidenceHold, HeldBlob
from reclaim.store.tables import Case, Room, utcnow

MAGIC = b"RCLH\x01"
NONCE = 12


def blob_path(settings: Settings, sha256: str) -> Path:
    return evidence_dir(settings) / "held" / sha256[:2] / f"{sha256}.rch"


def _aad(sha256: str) -> bytes:
    return f"reclaim-held/1:{sha256}".encode()


def active_hold(
    session: Session, platform: str, platform_id: str, case_ids: Collection[int] = ()
) -> EvidenceHold | None:
    """The oldest active hold covering the room or one of the cases, if any."""
    cond: ColumnElement[bool] = and_(
        EvidenceHold.scope == "room",
        EvidenceHold.platform_id == platform_id,
        or_(EvidenceHold.platform.is_(None), EvidenceHold.platform == platform),
    )
    if case_ids:
        cond = or_(cond, (EvidenceHold.scope == "case") & EvidenceHold.case_id.in_(list(case_ids)))
    stmt = select(EvidenceHold).where(EvidenceHold.removed_at.is_(None), cond).order_by(EvidenceHold.id).limit(1)
    return session.scalar(stmt)


def keep_if_held(
    session: Session,
    settings: Settings,
    room: RoomRef,
    media_id: int,
    sha256: str,
    data: bytes,
    case_ids: Collection[int] = (),
) -> bool:
    """Keep `data` encrypted if a hold covers the room or a case; True when the original is (now) kept."""
    hold = active_hold(session, room.platform, room.platform_id, case_ids)
    if hold is None:
        return False
    if hashlib.sha256(data).hexdigest() != sha256:
        raise EvidenceError(f"media {media_id}: the bytes to preserve do not hash to {sha256}; nothing was kept")
    path = blob_path(settings, sha256)
    existing = session.scalar(select(HeldBlob).where(HeldBlob.sha256 == sha256))
    if existing is not None and path.is_file():
        return True
    _write_blob(settings, path, sha256, data)
    if existing is None:
        session.add(HeldBlob(sha256=sha256, media_id=media_id, hold_id=hold.id, size_bytes=len(data)))
        session.flush()
    return True


def _write_blob(settings: Settings, path: Path, sha256: str, data: bytes) -> None:
    nonce = secrets.token_bytes(NONCE)
    sealed = MAGIC + nonce + AESGCM(hold_key(settings)).encrypt(nonce, data, _aad(sha256))
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, sealed)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        raise EvidenceError(
            f"cannot write the held original {sha256[:16]}… under '{path.parent}' ({exc.strerror}); free space or "
            "fix permissions, then ingest again"
        ) from exc


def sealed_original(settings: Settings, sha256: str) -> bytes:
    """The held file exactly as stored (still encrypted)."""
    path = blob_path(settings, sha256)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise EvidenceError(
            f"the held original {sha256[:16]}… is missing from '{path.parent}' ({exc.strerror}); restore the "
            "workspace's evidence folder from backup"
        ) from exc


def open_original(settings: Settings, sha256: str) -> bytes:
    """Decrypt a held original and check that it still hashes to its address."""
    sealed = sealed_original(settings, sha256)
    if not sealed.startswith(MAGIC) or len(sealed) < len(MAGIC) + NONCE + 16:
        raise EvidenceError(f"the held original {sha256[:16]}… is not a Reclaim held file; it was altered")
    nonce = sealed[len(MAGIC) : len(MAGIC) + NONCE]
    try:
        data = AESGCM(hold_key(settings)).decrypt(nonce, sealed[len(MAGIC) + NONCE :], _aad(sha256))
    except InvalidTag:
        raise EvidenceError(
            f"the held original {sha256[:16]}… does not decrypt with this workspace's hold key; it was altered or "
            "the key file was replaced"
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise EvidenceError(f"the held original {sha256[:16]}… no longer hashes to its address; it was altered")
    return data


def find_case(session: Session, case: str) -> Case:
    """A case by its reference (or its numeric id)."""
    row = session.scalar(select(Case).where(Case.ref == case))
    if row is None and case.isdigit():
        row = session.get(Case, int(case))
    if row is None:
        raise EvidenceError(f"no case '{case}'; list cases with `reclaim case list` and use its reference")
    return row


def add_hold(
    session: Session,
    settings: Settings,
    *,
    room: str | None = None,
    platform: str | None = None,
    case: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Create a hold on a room (by platform id, which may not have been seen yet) or on a case; logged."""
    if (room is None) == (case is None):
        raise EvidenceError("name exactly one of --room ID or --case CASE")
    hold_key(settings)  # create (and, with a passphrase, wrap) the key now, not during an ingest
    if room is not None:
        if not room.strip():
            raise EvidenceError("--room needs the room's platform id (Telegram) or its --room name (folder)")
        hold = EvidenceHold(scope="room", platform=platform or None, platform_id=room, note=note)
        case_row = None
    else:
        assert case is not None
        case_row = find_case(session, case)
        hold = EvidenceHold(scope="case", case_id=case_row.id, note=note)
    hold.created_by = settings.operator
    duplicate = _same_active(session, hold)
    if duplicate is not None:
        return hold_json(session, duplicate)
    session.add(hold)
    session.flush()
    append_entry(session, "hold", _hold_body("add", hold, case_row, settings.operator))
    return hold_json(session, hold)


def _same_active(session: Session, hold: EvidenceHold) -> EvidenceHold | None:
    stmt = select(EvidenceHold).where(EvidenceHold.removed_at.is_(None), EvidenceHold.scope == hold.scope)
    if hold.scope == "room":
        stmt = stmt.where(EvidenceHold.platform_id == hold.platform_id)
        stmt = stmt.where(
            EvidenceHold.platform.is_(None) if hold.platform is None else EvidenceHold.platform == hold.platform
        )
    else:
        stmt = stmt.where(EvidenceHold.case_id == hold.case_id)
    return session.scalar(stmt.limit(1))


def remove_hold(session: Session, settings: Settings, hold_id: int) -> dict[str, Any]:
    """End a hold (kept originals stay); logged. Removing an ended hold changes nothing."""
    hold = session.get(EvidenceHold, hold_id)
    if hold is None:
        raise HoldNotFound(f"no evidence hold #{hold_id}; see `reclaim hold list --all`")
    if hold.removed_at is None:
        hold.removed_at = utcnow()
        hold.removed_by = settings.operator
        session.flush()
        case_row = session.get(Case, hold.case_id) if hold.case_id is not None else None
        append_entry(session, "hold", _hold_body("remove", hold, case_row, settings.operator))
    return hold_json(session, hold)


def list_holds(session: Session, include_removed: bool = False) -> list[dict[str, Any]]:
    stmt = select(EvidenceHold).order_by(EvidenceHold.id)
    if not include_removed:
        stmt = stmt.where(EvidenceHold.removed_at.is_(None))
    return [hold_json(session, h) for h in session.scalars(stmt)]


def _hold_body(action: str, hold: EvidenceHold, case: Case | None, operator: str) -> dict[str, Any]:
    body: dict[str, Any] = {"action": action, "hold_id": hold.id, "scope": hold.scope, "operator": operator}
    if hold.scope == "room":
        body["room"] = {"platform": hold.platform, "platform_id": hold.platform_id}
    if case is not None:
        body["case_id"] = case.id
        body["case_ref"] = case.ref
    if hold.note:
        body["note"] = hold.note
    return body


def hold_json(session: Session, hold: EvidenceHold) -> dict[str, Any]:
    kept = session.scalar(select(func.count(HeldBlob.id)).where(HeldBlob.hold_id == hold.id)) or 0
    case_ref = session.scalar(select(Case.ref).where(Case.id == hold.case_id)) if hold.case_id is not None else None
    seen = None
    if hold.scope == "room":
        stmt = select(Room.id).where(Room.platform_id == hold.platform_id)
        if hold.platform is not None:
            stmt = stmt.where(Room.platform == hold.platform)
        seen = session.scalar(stmt.limit(1)) is not None
    return {
        "id": hold.id,
        "scope": hold.scope,
        "platform": hold.platform,
        "platform_id": hold.platform_id,
        "case": case_ref,
        "note": hold.note,
        "created_at": utc_text(hold.created_at) if hold.created_at else None,
        "created_by": hold.created_by,
        "removed_at": utc_text(hold.removed_at) if hold.removed_at else None,
        "removed_by": hold.removed_by,
        "room_seen": seen,
        "originals_kept": int(kept),
    }
