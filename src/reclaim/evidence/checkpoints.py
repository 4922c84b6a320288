"""Signed checkpoints: the workspace key signs (tree size, root, UTC time). Checkpoints are only ever inserted.

Before signing, every earlier checkpoint is checked against the entries as they are now (its signature, and its
root recomputed from the entries' own bytes): a log altered behind Reclaim's back is refused, never re-signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.errors import EvidenceError
from reclaim.evidence.encoding import leaf_hash, utc_text
from reclaim.evidence.keys import signing_key
from reclaim.evidence.log import log_size
from reclaim.evidence.merkle import MerkleTree
from reclaim.evidence.package_format import key_id, make_note, parse_note, sign, signature_ok
from reclaim.settings import Settings
from reclaim.store.evidence_tables import EvidenceCheckpoint, EvidenceEntry
from reclaim.store.tables import utcnow


@dataclass(frozen=True, slots=True)
class LogTree:
    """The log's Merkle tree at one size, built from the entries' canonical bytes."""

    tree: MerkleTree
    entries: dict[int, str]


def build_tree(session: Session, size: int, keep_entries: bool = False) -> LogTree:
    """Recompute every leaf hash of the first `size` entries from their stored bytes, checking the stored hashes."""
    rows = session.execute(
        select(EvidenceEntry.leaf_index, EvidenceEntry.entry, EvidenceEntry.leaf_hash)
        .where(EvidenceEntry.leaf_index < size)
        .order_by(EvidenceEntry.leaf_index)
    )
    leaves: list[bytes] = []
    kept: dict[int, str] = {}
    for index, entry, stored in rows:
        if index != len(leaves):
            raise EvidenceError(
                f"evidence log entry {len(leaves)} is missing; the database was altered outside Reclaim. Restore it "
                "from backup and compare with the last checkpoint you exported."
            )
        h = leaf_hash(entry.encode("utf-8"))
        if h.hex() != stored:
            raise EvidenceError(
                f"evidence log entry {index} no longer matches its leaf hash; the database was altered outside "
                "Reclaim. Restore it from backup."
            )
        leaves.append(h)
        if keep_entries:
            kept[index] = entry
    if len(leaves) != size:
        raise EvidenceError(
            f"the evidence log should hold {size} entries but holds {len(leaves)}; the database was altered "
            "outside Reclaim. Restore it from backup."
        )
    return LogTree(MerkleTree(leaves), kept)


def checkpoint_json(row: EvidenceCheckpoint) -> dict[str, Any]:
    return {
        "id": row.id,
        "tree_size": row.tree_size,
        "root": row.root_hash,
        "signed_at": utc_text(row.signed_at),
        "key_id": row.key_id,
        "note": row.note,
        "signature": row.signature,
    }


def list_checkpoints(session: Session) -> list[EvidenceCheckpoint]:
    return list(session.scalars(select(EvidenceCheckpoint).order_by(EvidenceCheckpoint.id)))


def latest_checkpoint(session: Session) -> EvidenceCheckpoint | None:
    stmt = select(EvidenceCheckpoint).order_by(EvidenceCheckpoint.tree_size.desc(), EvidenceCheckpoint.id.desc())
    return session.scalar(stmt.limit(1))


def check_checkpoints(settings: Settings, tree: MerkleTree, checkpoints: list[EvidenceCheckpoint]) -> None:
    """Every earlier checkpoint must be signed by this workspace and describe a prefix of `tree`."""
    public = signing_key(settings).public_key()
    for cp in checkpoints:
        if not signature_ok(public, cp.note.encode("utf-8"), cp.signature):
            raise EvidenceError(f"checkpoint #{cp.id} is not signed by this workspace's key; it was altered")
        note = parse_note(cp.note)
        if note.size != cp.tree_size or note.root.hex() != cp.root_hash:
            raise EvidenceError(f"checkpoint #{cp.id} does not match its signed note; it was altered")
        if cp.tree_size > tree.size or tree.root(cp.tree_size) != note.root:
            raise EvidenceError(
                f"the evidence log no longer matches checkpoint #{cp.id} (size {cp.tree_size}); entries were "
                "altered or removed outside Reclaim. Restore the database from backup."
            )


def create_checkpoint(session: Session, settings: Settings) -> dict[str, Any]:
    """Sign the log as it is now (after checking it against every earlier checkpoint) and store the checkpoint."""
    size = log_size(session)
    tree = build_tree(session, size).tree
    check_checkpoints(settings, tree, list_checkpoints(session))
    key = signing_key(settings)
    now = utcnow()
    kid = key_id(key.public_key())
    root = tree.root()
    note = make_note(kid, size, root, utc_text(now))
    row = EvidenceCheckpoint(
        tree_size=size,
        root_hash=root.hex(),
        signed_at=now,
        key_id=kid,
        note=note,
        signature=sign(key, note.encode("utf-8")),
    )
    session.add(row)
    session.flush()
    return checkpoint_json(row)


def check_log(session: Session, settings: Settings) -> dict[str, Any]:
    """Recompute the log from its entries and check it against every checkpoint, signing nothing."""
    size = log_size(session)
    tree = build_tree(session, size).tree
    checkpoints = list_checkpoints(session)
    check_checkpoints(settings, tree, checkpoints)
    return {"ok": True, "tree_size": size, "root": tree.root().hex(), "checkpoints_checked": len(checkpoints)}


def prove(
    session: Session, *, index: int | None = None, first: int | None = None, size: int | None = None
) -> dict[str, Any]:
    """An inclusion proof (entry `index`) or a consistency proof (from size `first`) in the tree of `size` entries
    (default: the latest checkpoint's size), with that tree's root, for someone who holds a checkpoint."""
    if (index is None) == (first is None):
        raise EvidenceError("ask for exactly one of --index N (inclusion) or --from SIZE (consistency)")
    if size is None:
        latest = latest_checkpoint(session)
        if latest is None:
            raise EvidenceError("there is no checkpoint yet; run `reclaim evidence checkpoint` or pass --size")
        size = latest.tree_size
    current = log_size(session)
    if not 0 <= size <= current:
        raise EvidenceError(f"the log has {current} entries; --size must be between 0 and {current}")
    tree = build_tree(session, size, keep_entries=index is not None)
    doc: dict[str, Any] = {"tree_size": size, "root": tree.tree.root().hex()}
    if index is not None:
        if not 0 <= index < size:
            raise EvidenceError(f"entry {index} is not in a tree of {size} entries")
        doc.update(
            kind="inclusion",
            index=index,
            entry=tree.entries[index],
            leaf_hash=leaf_hash(tree.entries[index].encode("utf-8")).hex(),
            proof=[p.hex() for p in tree.tree.inclusion_proof(index, size)],
        )
    else:
        assert first is not None
        if not 0 <= first <= size:
            raise EvidenceError(f"--from must be between 0 and {size}")
        doc.update(
            kind="consistency",
            first_size=first,
            first_root=tree.tree.root(first).hex(),
            proof=[p.hex() for p in tree.tree.consistency_proof(first, size)],
        )
    return doc
