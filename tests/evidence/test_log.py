"""The log on SQLite and PostgreSQL: indexes, canonical bytes, concurrency, checkpoints, tamper detection."""

from __future__ import annotations

import json
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from reclaim.errors import EvidenceError
from reclaim.evidence.checkpoints import build_tree, check_log, create_checkpoint, list_checkpoints, prove
from reclaim.evidence.encoding import encode_entry, is_canonical, leaf_hash
from reclaim.evidence.keys import signing_key
from reclaim.evidence.log import append_entries, append_entry, log_size, read_entries
from reclaim.evidence.merkle import verify_consistency, verify_inclusion
from reclaim.evidence.package_format import parse_note, signature_ok
from reclaim.settings import Settings
from reclaim.store.db import Store
from reclaim.store.evidence_tables import EvidenceEntry


def test_entry_encoding_is_rfc8785_and_known() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    data = encode_entry(7, "capture", moment, {"z": 1.5, "a": "é\n", "n": None, "when": moment, "l": [3, True]})
    assert data == (
        b'{"body":{"a":"\xc3\xa9\\n","l":[3,true],"n":null,"when":"2026-01-02T03:04:05.678901Z","z":1.5},'
        b'"index":7,"kind":"capture","logged_at":"2026-01-02T03:04:05.678901Z","v":1}'
    )
    assert is_canonical(data)
    assert not is_canonical(data.replace(b'{"body"', b'{ "body"'))
    assert leaf_hash(data).hex() == __import__("hashlib").sha256(b"\x00" + data).hexdigest()


def test_appends_get_consecutive_indexes_and_rollbacks_leave_no_gap(store: Store) -> None:
    with store.transaction() as s:
        assert append_entry(s, "decision", {"match_id": 99, "status": "confirmed"}) == 0
        assert append_entries(s, [("reveal", {"media_id": 5}), ("consent", {"case_id": 1})]) == [1, 2]
    with pytest.raises(RuntimeError), store.transaction() as s:
        assert append_entry(s, "reveal", {"media_id": 6}) == 3
        raise RuntimeError("the caller's transaction fails")
    with store.transaction() as s:
        assert append_entry(s, "reveal", {"media_id": 7}) == 3
        entries = read_entries(s)
        assert log_size(s) == 4
    assert [e.index for e in entries] == [0, 1, 2, 3]
    assert [json.loads(e.entry)["body"].get("media_id") for e in entries] == [None, 5, None, 7]
    assert all(e.leaf_hash == leaf_hash(e.entry.encode()).hex() for e in entries)


def test_bad_entries_are_refused_and_nothing_is_appended(store: Store) -> None:
    with store.transaction() as s:
        append_entry(s, "capture", {"ok": True})
    for kind, body in [("capture", {"raw": b"bytes"}), ("Not A Kind", {}), ("capture", {"x": float("nan")})]:
        with pytest.raises(EvidenceError), store.transaction() as s:
            append_entry(s, kind, body)
    with store.transaction() as s:
        assert log_size(s) == 1
        assert len(read_entries(s)) == 1


def test_concurrent_writers_get_unique_gap_free_indexes(store: Store) -> None:
    per_thread, threads = 15, 4
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(per_thread):
                with store.transaction() as s:
                    append_entry(s, "capture", {"writer": n, "i": i})
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    with store.transaction() as s:
        entries = read_entries(s)
        assert log_size(s) == per_thread * threads
    assert [e.index for e in entries] == list(range(per_thread * threads))
    bodies = {(json.loads(e.entry)["body"]["writer"], json.loads(e.entry)["body"]["i"]) for e in entries}
    assert len(bodies) == per_thread * threads
    # Each writer's own entries stay in its order.
    for n in range(threads):
        mine = [json.loads(e.entry)["body"]["i"] for e in entries if json.loads(e.entry)["body"]["writer"] == n]
        assert mine == list(range(per_thread))


def test_checkpoints_are_signed_never_rewritten_and_consistent(store: Store, settings: Settings) -> None:
    with store.transaction() as s:
        append_entries(s, [("capture", {"i": i}) for i in range(5)])
        first = create_checkpoint(s, settings)
    with store.transaction() as s:
        append_entries(s, [("capture", {"i": i}) for i in range(5, 12)])
        second = create_checkpoint(s, settings)
        rows = list_checkpoints(s)
        tree = build_tree(s, 12).tree
    assert [r.id for r in rows] == [first["id"], second["id"]]
    assert rows[0].note == first["note"] and rows[0].signature == first["signature"]
    public = signing_key(settings).public_key()
    for cp in (first, second):
        assert signature_ok(public, cp["note"].encode(), cp["signature"])
    note1, note2 = parse_note(first["note"]), parse_note(second["note"])
    assert (note1.size, note2.size) == (5, 12)
    verify_consistency(5, 12, tree.consistency_proof(5, 12), note1.root, note2.root)
    key_file = settings.home / "evidence" / "signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_log_altered_behind_reclaims_back_is_never_re_signed(store: Store, settings: Settings) -> None:
    with store.transaction() as s:
        append_entries(s, [("capture", {"i": i}) for i in range(4)])
        create_checkpoint(s, settings)
    # An administrator disables the database's guards, edits an entry and even recomputes its stored leaf hash.
    drop_guards(store)
    forged = encode_entry(2, "capture", datetime.now(UTC), {"i": 200})
    with store.transaction() as s:
        s.execute(
            update(EvidenceEntry)
            .where(EvidenceEntry.leaf_index == 2)
            .values(entry=forged.decode(), leaf_hash=leaf_hash(forged).hex())
        )
    with store.transaction() as s, pytest.raises(EvidenceError, match="no longer matches checkpoint"):
        create_checkpoint(s, settings)
    # Editing the text alone is caught by the leaf hash; deleting one leaves a gap.
    with store.transaction() as s:
        s.execute(update(EvidenceEntry).where(EvidenceEntry.leaf_index == 1).values(entry='{"x":1}'))
    with store.transaction() as s, pytest.raises(EvidenceError, match="entry 1 no longer matches"):
        create_checkpoint(s, settings)
    with store.transaction() as s:
        s.execute(text("DELETE FROM evidence_entry WHERE leaf_index = 0"))
    with store.transaction() as s, pytest.raises(EvidenceError, match="entry 0 is missing"):
        create_checkpoint(s, settings)
    with store.transaction() as s:
        assert len(list_checkpoints(s)) == 1


def drop_guards(store: Store) -> None:
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE evidence_entry DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER evidence_entry_no_update"))
            conn.execute(text("DROP TRIGGER evidence_entry_no_delete"))


def test_the_database_refuses_edits_of_the_log(store: Store, settings: Settings) -> None:
    with store.transaction() as s:
        append_entries(s, [("capture", {"i": i}) for i in range(3)])
        create_checkpoint(s, settings)
    attempts = [
        "UPDATE evidence_entry SET kind = 'x' WHERE leaf_index = 1",
        "DELETE FROM evidence_entry WHERE leaf_index = 2",
        "UPDATE evidence_checkpoint SET tree_size = 1",
        "DELETE FROM evidence_checkpoint",
        "UPDATE evidence_head SET size = 1",
        "DELETE FROM evidence_head",
    ]
    if store.engine.dialect.name == "postgresql":
        attempts += ["TRUNCATE evidence_entry", "TRUNCATE evidence_checkpoint"]
    for sql in attempts:
        with pytest.raises(DBAPIError, match=r"append-only|only grows"), store.transaction() as s:
            s.execute(text(sql))
    with store.transaction() as s:
        assert log_size(s) == 3 and len(read_entries(s)) == 3 and len(list_checkpoints(s)) == 1


def test_signing_key_is_created_once(tmp_path: Path, settings: Settings) -> None:
    a = signing_key(settings)
    b = signing_key(settings)
    assert a.public_key().public_bytes_raw() == b.public_key().public_bytes_raw()


def test_proofs_for_a_checkpoint_holder_and_log_check(store: Store, settings: Settings) -> None:
    with store.transaction() as s:
        append_entries(s, [("capture", {"i": i}) for i in range(6)])
        old = create_checkpoint(s, settings)
        append_entries(s, [("capture", {"i": i}) for i in range(6, 11)])
        new = create_checkpoint(s, settings)
        inclusion = prove(s, index=4)
        consistency = prove(s, first=6)
        assert check_log(s, settings) == {"ok": True, "tree_size": 11, "root": new["root"], "checkpoints_checked": 2}
        with pytest.raises(EvidenceError):
            prove(s, index=11)
        with pytest.raises(EvidenceError):
            prove(s, index=1, first=1)
        with pytest.raises(EvidenceError):
            prove(s, first=3, size=12)
    assert inclusion["tree_size"] == 11 and inclusion["root"] == new["root"]
    verify_inclusion(
        leaf_hash(inclusion["entry"].encode()),
        4,
        11,
        [bytes.fromhex(p) for p in inclusion["proof"]],
        bytes.fromhex(new["root"]),
    )
    assert consistency["first_root"] == old["root"]
    verify_consistency(
        6, 11, [bytes.fromhex(p) for p in consistency["proof"]], bytes.fromhex(old["root"]), bytes.fromhex(new["root"])
    )
