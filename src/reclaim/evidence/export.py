"""Sealed evidence packages for a case or a room: manifest, entries with inclusion proofs, the latest checkpoint,
earlier checkpoints with consistency proofs, held originals and an HTML summary, all signed by the workspace key.

The package is a ZIP (members stored, not compressed) that `reclaim evidence verify` checks with only the package
and the public key; see `verify.py` for what is and is not covered.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reclaim import __version__
from reclaim.errors import EvidenceError
from reclaim.evidence import package_format as pf
from reclaim.evidence.checkpoints import build_tree, check_checkpoints, create_checkpoint, latest_checkpoint
from reclaim.evidence.encoding import canonical, utc_text
from reclaim.evidence.holds import find_case, open_original, sealed_original
from reclaim.evidence.keys import public_pem, signing_key, write_private
from reclaim.evidence.log import ANY_PLATFORM, append_entry, room_key
from reclaim.settings import Settings
from reclaim.store.evidence_tables import EvidenceCheckpoint, EvidenceEntry, HeldBlob
from reclaim.store.tables import Bank, BankEntry, Match, Media, Room, Sighting, Signal, utcnow

CHUNK = 500


@dataclass(frozen=True, slots=True)
class Scope:
    kind: str  # "case" or "room"
    media_ids: list[int]
    entry_filter: Any
    document: dict[str, Any]
    label: str


def export_package(
    session: Session,
    settings: Settings,
    out: Path,
    *,
    case: str | None = None,
    room: str | None = None,
    platform: str | None = None,
    decrypt_for: bytes | None = None,
) -> dict[str, Any]:
    """Write a sealed package for one case or one room to `out` and log the export; returns what was written."""
    if (case is None) == (room is None):
        raise EvidenceError("name exactly one of --case CASE or --room ID")
    sealer = None
    if decrypt_for is not None:
        try:
            sealer = pf.RecipientSealer(pf.load_recipient_public_key(decrypt_for))
        except ValueError as exc:
            raise EvidenceError(f"--decrypt-for must name an X25519 public key PEM file: {exc}") from exc
    scope = _case_scope(session, case) if case is not None else _room_scope(session, room or "", platform)
    indexes = sorted(session.scalars(select(EvidenceEntry.leaf_index).where(scope.entry_filter)))
    checkpoint = latest_checkpoint(session)
    needed = (indexes[-1] + 1) if indexes else 0
    if checkpoint is None or checkpoint.tree_size < needed:
        create_checkpoint(session, settings)
        checkpoint = latest_checkpoint(session)
    assert checkpoint is not None
    size = checkpoint.tree_size
    log_tree = build_tree(session, size, keep_entries=True)
    tree = log_tree.tree
    earlier = list(session.scalars(select(EvidenceCheckpoint).order_by(EvidenceCheckpoint.id)))
    check_checkpoints(settings, tree, earlier)
    indexes = [i for i in indexes if i < size]

    lines = []
    captures: dict[str, list[int]] = {}
    for i in indexes:
        text = log_tree.entries[i]
        lines.append(canonical({"index": i, "entry": text, "proof": [p.hex() for p in tree.inclusion_proof(i, size)]}))
        doc = json.loads(text)
        if doc["kind"] == "capture" and isinstance(doc["body"].get("sha256"), str):
            captures.setdefault(doc["body"]["sha256"], []).append(i)
    older = []
    for cp in earlier:
        if cp.id == checkpoint.id or cp.tree_size > size:
            continue
        proof = tree.consistency_proof(cp.tree_size, size)
        older.append(canonical({"note": cp.note, "signature": cp.signature, "consistency": [p.hex() for p in proof]}))
    items = _items(session, scope.media_ids, captures)
    held = _held(session, scope.media_ids)
    key = signing_key(settings)

    writer = _PackageWriter(out)
    try:
        # Originals first, one at a time, so a package of large videos never sits whole in memory.
        for item in items:
            sha = item["sha256"]
            if sha not in held:
                continue
            if sealer is None:
                name = f"originals/{sha}.rch"
                writer.add(name, sealed_original(settings, sha))
                item["original"] = {"file": name, "encryption": "workspace-hold-key"}
            else:
                name = f"originals/{sha}.rcr"
                writer.add(name, sealer.seal(sha, open_original(settings, sha)))
                item["original"] = {"file": name, "encryption": "recipient"}
        writer.add(pf.ENTRIES, b"".join(line + b"\n" for line in lines))
        writer.add(pf.CHECKPOINT, checkpoint.note.encode("utf-8"))
        writer.add(pf.CHECKPOINT_SIG, checkpoint.signature.encode("ascii") + b"\n")
        writer.add(pf.OLDER_CHECKPOINTS, b"".join(line + b"\n" for line in older))
        writer.add(pf.PUBLIC_KEY, public_pem(settings))
        manifest_doc: dict[str, Any] = {
            "format": pf.PACKAGE_FORMAT,
            "created_at": utc_text(utcnow()),
            "tool": f"reclaim {__version__}",
            "operator": settings.operator,
            "key_id": pf.key_id(key.public_key()),
            "scope": scope.document,
            "log": {"tree_size": size, "root": checkpoint.root_hash, "entries": indexes},
            "items": items,
            "recipient": sealer.header() if sealer else None,
        }
        writer.add(pf.SUMMARY, _summary_html(manifest_doc, scope.label).encode("utf-8"))
        manifest_doc["files"] = dict(sorted(writer.hashes.items()))
        manifest = canonical(manifest_doc)
        writer.add(pf.MANIFEST, manifest)
        writer.add(pf.MANIFEST_SIG, pf.sign(key, manifest).encode("ascii") + b"\n")
        package_sha = writer.commit()
    except BaseException:
        writer.abort()
        raise
    entry = append_entry(
        session,
        "export",
        {
            **{k: v for k, v in scope.document.items() if k in ("case_id", "case_ref", "room")},
            "scope": scope.kind,
            "package": out.name,
            "package_sha256": package_sha,
            "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
            "tree_size": size,
            "items": len(items),
            "entries": len(indexes),
            "originals": sum(1 for i in items if i["original"]),
            "recipient_fingerprint": sealer.header()["recipient_fingerprint"] if sealer else None,
            "operator": settings.operator,
        },
    )
    return {
        "package": str(out),
        "package_sha256": package_sha,
        "scope": scope.document,
        "items": len(items),
        "originals": sum(1 for i in items if i["original"]),
        "entries": len(indexes),
        "tree_size": size,
        "root": checkpoint.root_hash,
        "key_id": manifest_doc["key_id"],
        "export_entry": entry,
        "encrypted_for": sealer.header()["recipient_fingerprint"] if sealer else None,
    }


def _case_scope(session: Session, case: str) -> Scope:
    row = find_case(session, case)
    media = (
        select(Match.media_id)
        .join(BankEntry, BankEntry.id == Match.bank_entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(Bank.case_id == row.id)
    )
    media_ids = sorted(set(session.scalars(media)))
    cond = or_(EvidenceEntry.case_id == row.id, EvidenceEntry.media_id.in_(media))
    doc = {"kind": "case", "case_id": row.id, "case_ref": row.ref, "minor": row.minor}
    return Scope("case", media_ids, cond, doc, f"case {row.ref}")


def _room_scope(session: Session, platform_id: str, platform: str | None) -> Scope:
    stmt = select(Room).where(Room.platform_id == platform_id)
    if platform:
        stmt = stmt.where(Room.platform == platform)
    rooms = list(session.scalars(stmt.order_by(Room.id)))
    keys = [room_key(r.platform, r.platform_id) for r in rooms]
    if platform:
        keys.append(room_key(platform, platform_id))
    # Holds may name a room on any platform before it is seen: their entries use the platform "*".
    keys.append(room_key(ANY_PLATFORM, platform_id))
    media = select(Sighting.media_id).where(Sighting.room_id.in_([r.id for r in rooms] or [-1]))
    media_ids = sorted(set(session.scalars(media)))
    if not rooms and not session.scalar(select(EvidenceEntry.leaf_index).where(EvidenceEntry.room_key.in_(keys))):
        raise EvidenceError(
            f"no room '{platform_id}' has been ingested or held; check the id (Telegram platform id, or the folder's "
            "--room name)"
        )
    cond = or_(
        EvidenceEntry.room_key.in_(sorted(set(keys))),
        EvidenceEntry.media_id.in_(media) & (EvidenceEntry.kind != "capture"),
    )
    room_docs = [{"platform": r.platform, "platform_id": r.platform_id, "name": r.name} for r in rooms]
    doc = {"kind": "room", "room": {"platform": platform, "platform_id": platform_id}, "rooms": room_docs}
    return Scope("room", media_ids, cond, doc, f"room {platform_id}")


def _items(session: Session, media_ids: list[int], captures: dict[str, list[int]]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for i in range(0, len(media_ids), CHUNK):
        chunk = media_ids[i : i + CHUNK]
        medias = session.scalars(select(Media).where(Media.id.in_(chunk)).order_by(Media.id))
        signals: dict[int, dict[str, Any]] = {}
        for s in session.scalars(select(Signal).where(Signal.media_id.in_(chunk), Signal.signal_type != "vpdq")):
            signals.setdefault(s.media_id, {})[s.signal_type] = {"value": s.value, "quality": s.quality}
        sightings: dict[int, list[dict[str, Any]]] = {}
        sighting_rows = session.execute(
            select(Sighting, Room)
            .join(Room, Room.id == Sighting.room_id)
            .where(Sighting.media_id.in_(chunk))
            .order_by(Sighting.id)
        )
        for sg, r in sighting_rows:
            sightings.setdefault(sg.media_id, []).append(
                {
                    "room": {"platform": r.platform, "platform_id": r.platform_id, "name": r.name},
                    "locator": sg.locator,
                    "message_id": sg.message_id,
                    "seen_at": utc_text(sg.seen_at),
                }
            )
        matches: dict[int, list[dict[str, Any]]] = {}
        match_rows = session.execute(
            select(Match, Bank.name, Bank.kind)
            .join(BankEntry, BankEntry.id == Match.bank_entry_id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(Match.media_id.in_(chunk))
            .order_by(Match.id)
        )
        for m, bank_name, bank_kind in match_rows:
            matches.setdefault(m.media_id, []).append(
                {
                    "match_id": m.id,
                    "bank": bank_name,
                    "bank_kind": bank_kind,
                    "method": m.method,
                    "distance": m.distance,
                    "status": m.status,
                }
            )
        for media in medias:
            items.append(
                {
                    "media_id": media.id,
                    "sha256": media.sha256,
                    "md5": media.md5,
                    "media_type": media.media_type,
                    "size_bytes": media.size_bytes,
                    "width": media.width,
                    "height": media.height,
                    "duration_s": media.duration_s,
                    "first_seen_at": utc_text(media.first_seen_at),
                    "signals": signals.get(media.id, {}),
                    "sightings": sightings.get(media.id, []),
                    "matches": matches.get(media.id, []),
                    "capture_entries": captures.get(media.sha256, []),
                    "original": None,
                }
            )
    return items


def _held(session: Session, media_ids: list[int]) -> set[str]:
    out: set[str] = set()
    for i in range(0, len(media_ids), CHUNK):
        out |= set(session.scalars(select(HeldBlob.sha256).where(HeldBlob.media_id.in_(media_ids[i : i + CHUNK]))))
    return out


class _PackageWriter:
    """Streams members into a temporary ZIP (stored, fixed timestamps), remembering each member's SHA-256; the
    package appears under its name only when complete (rename), so a failed export leaves nothing behind."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.hashes: dict[str, str] = {}
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            self.tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
            self.zf = zipfile.ZipFile(self.tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        except OSError as exc:
            raise EvidenceError(f"cannot write the package '{out}' ({exc.strerror}); choose another --out") from exc

    def add(self, name: str, data: bytes) -> None:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o600 << 16
        try:
            self.zf.writestr(info, data)
        except OSError as exc:
            raise EvidenceError(
                f"cannot write the package '{self.out}' ({exc.strerror}); free space and retry"
            ) from exc
        self.hashes[name] = hashlib.sha256(data).hexdigest()

    def commit(self) -> str:
        try:
            self.zf.close()
            digest = hashlib.sha256()
            with self.tmp.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            os.replace(self.tmp, self.out)
        except OSError as exc:
            raise EvidenceError(
                f"cannot write the package '{self.out}' ({exc.strerror}); choose another --out"
            ) from exc
        return digest.hexdigest()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.zf.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()


def _summary_html(manifest: dict[str, Any], label: str) -> str:
    """A readable account for people: no images, only facts already in the manifest, all escaped."""
    e = html.escape
    rows = []
    for item in manifest["items"]:
        where = "<br>".join(
            e(f"{s['room']['platform']} {s['room']['name']} ({s['room']['platform_id']}) — {s['locator']}")
            for s in item["sightings"]
        )
        matched = "<br>".join(e(f"{m['bank']} ({m['method']}, {m['status']})") for m in item["matches"])
        original = e(item["original"]["encryption"]) if item["original"] else "not held"
        rows.append(
            f"<tr><td><code>{e(item['sha256'])}</code></td><td>{e(item['media_type'])}</td>"
            f"<td>{e(item['first_seen_at'])}</td><td>{where}</td><td>{matched}</td><td>{original}</td>"
            f"<td>{e(', '.join(str(i) for i in item['capture_entries']))}</td></tr>"
        )
    log = manifest["log"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evidence package: {e(label)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;
padding:4px;vertical-align:top;font-size:90%}}code{{font-size:85%}}</style></head><body>
<h1>Evidence package: {e(label)}</h1>
<p>Created {e(manifest["created_at"])} by {e(manifest["operator"])} with {e(manifest["tool"])}.
Signing key id <code>{e(manifest["key_id"])}</code>.</p>
<p>Evidence log: {len(log["entries"])} entries, each with an inclusion proof in the signed checkpoint of size
{log["tree_size"]} and root <code>{e(log["root"])}</code>.</p>
<p>Verify this package offline with <code>reclaim evidence verify PACKAGE.zip --key PUBLIC-KEY.pem</code>, using a
public key obtained from the workspace owner directly, not the copy inside the package.</p>
<h2>Items ({len(manifest["items"])})</h2>
<p>No images are shown. Originals, where held, are encrypted inside the package.</p>
<table><tr><th>SHA-256</th><th>type</th><th>first seen (UTC)</th><th>where</th><th>matched</th><th>original</th>
<th>capture entries</th></tr>
{"".join(rows)}
</table></body></html>
"""


def recipient_keygen(private_out: Path, public_out: Path) -> dict[str, str]:
    """Make an X25519 key pair for `--decrypt-for` (private key file 0600)."""
    key = X25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if public_out.exists() or not write_private(private_out, pem):
        raise EvidenceError(f"'{private_out}' or '{public_out}' already exists; choose another name")
    public_out.write_bytes(pub)
    return {
        "private_key": str(private_out),
        "public_key": str(public_out),
        "fingerprint": hashlib.sha256(pf.raw_public(key.public_key())).hexdigest(),
    }
