"""Sealed packages: export, offline verification, and a verifier that fails on any change to covered bytes."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from reclaim import banks, cases
from reclaim.errors import EvidenceError
from reclaim.evidence import holds
from reclaim.evidence import package_format as pf
from reclaim.evidence.checkpoints import create_checkpoint
from reclaim.evidence.export import export_package, recipient_keygen
from reclaim.evidence.keys import public_pem
from reclaim.evidence.log import append_entry
from reclaim.evidence.verify import open_originals, verify_package
from reclaim.pipeline import ingest
from reclaim.settings import Settings, load_settings
from reclaim.sources.folder import FolderSource
from reclaim.store.db import Store
from reclaim.workspace import open_store
from tests.worlds import write_world


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def rezip(files: dict[str, bytes], order: list[str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in order or list(files):
            zf.writestr(name, files[name])
    return buf.getvalue()


@pytest.fixture
def world(tmp_path: Path, store: Store, settings: Settings) -> dict[str, object]:
    return build_world(tmp_path, store, settings)


def build_world(tmp_path: Path, store: Store, settings: Settings) -> dict[str, object]:
    """A case whose protected bank matched two items, held originals, a room hold, and some later entries."""
    files = write_world(tmp_path / "world")
    with store.transaction() as s:
        cases.create_case(s, "case-7", "I agree to hash matching.", "caseworker", "hashes")
        banks.add_files(s, cases.bank_name("case-7"), [files["her"]], settings.limits, None)
        holds.add_hold(s, settings, case="case-7")
        holds.add_hold(s, settings, room="room-x")
    with store.transaction() as s:
        create_checkpoint(s, settings)  # an earlier checkpoint the package must prove consistent
    ingest(store, FolderSource(tmp_path / "world", "room-x"), settings)
    with store.transaction() as s:
        append_entry(s, "decision", {"match_id": 1, "status": "confirmed", "operator": "reviewer"})
    recipient = recipient_keygen(tmp_path / "court.key", tmp_path / "court.pub")
    return {"files": files, "recipient": recipient, "pub": public_pem(settings)}


def export(store: Store, settings: Settings, out: Path, **kwargs: object) -> dict[str, object]:
    with store.transaction() as s:
        return export_package(s, settings, out, **kwargs)  # type: ignore[arg-type]


def test_case_package_verifies_offline_and_carries_everything(
    tmp_path: Path, store: Store, settings: Settings, world: dict[str, object]
) -> None:
    out = tmp_path / "case.zip"
    result = export(store, settings, out, case="case-7")
    assert result["items"] == 2 and result["originals"] == 2
    data = out.read_bytes()
    report = verify_package(data, world["pub"])  # type: ignore[arg-type]
    assert report.ok, report.problems
    assert report.key_source == "given" and report.items == 2 and report.earlier_checkpoints == 1
    manifest = json.loads(members(data)[pf.MANIFEST])
    kinds = [json.loads(json.loads(line)["entry"])["kind"] for line in members(data)[pf.ENTRIES].splitlines()]
    assert {"consent", "hold", "capture", "decision"} <= set(kinds)
    assert all(item["capture_entries"] and item["matches"] for item in manifest["items"])
    assert all(item["original"]["encryption"] == "workspace-hold-key" for item in manifest["items"])
    html = members(data)[pf.SUMMARY].decode()
    assert "case-7" in html and "<img" not in html
    # The export itself is logged, and the next package (room scope) carries it as a chain-of-custody event.
    room = tmp_path / "room.zip"
    export(store, settings, room, room="room-x")
    room_members = members(room.read_bytes())
    room_kinds = [json.loads(json.loads(x)["entry"])["kind"] for x in room_members[pf.ENTRIES].splitlines()]
    assert room_kinds.count("capture") == 4 and "hold" in room_kinds
    assert verify_package(room.read_bytes(), world["pub"]).ok  # type: ignore[arg-type]


def test_recipient_encryption_round_trip(
    tmp_path: Path, store: Store, settings: Settings, world: dict[str, object]
) -> None:
    recipient = world["recipient"]
    assert isinstance(recipient, dict)
    out = tmp_path / "for-court.zip"
    export(store, settings, out, case="case-7", decrypt_for=Path(recipient["public_key"]).read_bytes())
    data = out.read_bytes()
    identity = Path(recipient["private_key"]).read_bytes()
    report = verify_package(data, world["pub"], identity)  # type: ignore[arg-type]
    assert report.ok and report.originals_decrypted == 2
    opened = open_originals(data, world["pub"], identity)  # type: ignore[arg-type]
    files = world["files"]
    assert isinstance(files, dict)
    assert set(opened.values()) == {files["reencoded"].read_bytes(), files["flipped"].read_bytes()}
    other = recipient_keygen(tmp_path / "other.key", tmp_path / "other.pub")
    wrong = verify_package(data, world["pub"], Path(other["private_key"]).read_bytes())  # type: ignore[arg-type]
    assert not wrong.ok and "another recipient" in " ".join(wrong.problems)


def test_bad_exports_are_refused_and_write_nothing(tmp_path: Path, store: Store, settings: Settings) -> None:
    out = tmp_path / "x.zip"
    for kwargs in ({}, {"case": "nope"}, {"room": "never-seen"}, {"case": "a", "room": "b"}):
        with pytest.raises(EvidenceError):
            export(store, settings, out, **kwargs)
    with pytest.raises(EvidenceError, match="X25519"):
        export(store, settings, out, room="r", decrypt_for=public_pem(settings))
    assert not out.exists()


@pytest.fixture
def package(tmp_path: Path, store: Store, settings: Settings, world: dict[str, object]) -> bytes:
    out = tmp_path / "pkg.zip"
    export(store, settings, out, case="case-7")
    return out.read_bytes()


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """One package (SQLite-built: the bytes do not depend on the back-end) shared by the fuzz tests."""
    tmp = tmp_path_factory.mktemp("fuzz")
    settings = load_settings(tmp / "home", f"sqlite:///{tmp / 'reclaim.db'}")
    store = open_store(settings)
    try:
        world = build_world(tmp, store, settings)
        export(store, settings, tmp / "pkg.zip", case="case-7")
    finally:
        store.close()
    pub = world["pub"]
    assert isinstance(pub, bytes)
    return (tmp / "pkg.zip").read_bytes(), pub


def problems(data: bytes, key: bytes) -> list[str]:
    report = verify_package(data, key)
    assert report.ok is (not report.problems)
    return report.problems


def test_named_failures(tmp_path: Path, package: bytes, world: dict[str, object], settings: Settings) -> None:
    key = world["pub"]
    assert isinstance(key, bytes)
    files = members(package)
    # Truncated package.
    assert "not a readable ZIP" in problems(package[: len(package) // 2], key)[0]
    # Wrong key.
    other = tmp_path / "other-home"
    wrong_key = public_pem(Settings(home=other))
    found = problems(package, wrong_key)
    assert any("signature does not verify" in p for p in found) and any("wrong key" in p for p in found)
    # Not a key at all.
    assert "not an Ed25519 public key" in problems(package, b"-----BEGIN NONSENSE-----")[0]
    # Reordered entries.
    lines = files[pf.ENTRIES].splitlines(keepends=True)
    swapped = dict(files, **{pf.ENTRIES: b"".join([lines[1], lines[0], *lines[2:]])})
    found = problems(rezip(swapped), key)
    assert any("reordered" in p for p in found) and any("entries.jsonl does not match" in p for p in found)
    # A member removed, a member added.
    found = problems(rezip({k: v for k, v in files.items() if k != pf.SUMMARY}), key)
    assert any("summary.html is listed in the manifest but missing" in p for p in found)
    found = problems(rezip(dict(files, **{"extra.txt": b"hello"})), key)
    assert any("extra.txt is in the package but not in the manifest" in p for p in found)
    # The same member twice (a second copy after the real one).
    doubled = io.BytesIO(package)
    with pytest.warns(UserWarning), zipfile.ZipFile(doubled, "a") as zf:
        zf.writestr(pf.SUMMARY, b"<p>other</p>")
    assert any("appears 2 times" in p for p in problems(doubled.getvalue(), key))


def test_a_proof_for_another_tree_size_fails(
    tmp_path: Path, store: Store, settings: Settings, package: bytes, world: dict[str, object]
) -> None:
    key = world["pub"]
    assert isinstance(key, bytes)
    with store.transaction() as s:
        append_entry(s, "reveal", {"media_id": 1, "operator": "reviewer"})
        create_checkpoint(s, settings)
    newer = tmp_path / "newer.zip"
    export(store, settings, newer, case="case-7")
    new_files = members(newer.read_bytes())
    old_files = members(package)
    # Put the newer (validly signed) checkpoint into the older package: its proofs are for another size.
    mixed = dict(old_files)
    mixed[pf.CHECKPOINT], mixed[pf.CHECKPOINT_SIG] = new_files[pf.CHECKPOINT], new_files[pf.CHECKPOINT_SIG]
    found = problems(rezip(mixed), key)
    assert any("another tree size" in p for p in found)
    assert any("is not proved in the checkpoint" in p for p in found)


def test_verify_needs_no_workspace(tmp_path: Path, package: bytes, world: dict[str, object]) -> None:
    import subprocess
    import sys

    pkg, key = tmp_path / "p.zip", tmp_path / "k.pem"
    pkg.write_bytes(package)
    key.write_bytes(world["pub"])  # type: ignore[arg-type]
    home = tmp_path / "no-such-home"
    env = {"RECLAIM_HOME": str(home), "RECLAIM_DB": "postgresql+psycopg://nobody@127.0.0.1:1/none", "PATH": ""}
    cmd = [sys.executable, "-m", "reclaim", "evidence", "verify", str(pkg), "--key", str(key), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True
    assert not home.exists()
    bad = bytearray(package)
    bad[len(bad) // 3] ^= 0x10
    pkg.write_bytes(bytes(bad))
    proc = subprocess.run(cmd[:-1], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert "FAILED verification" in proc.stderr and "Traceback" not in proc.stderr


def _member_data_ranges(data: bytes) -> list[tuple[str, int, int]]:
    """(name, start, end) of each stored member's bytes inside the ZIP file."""
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            header = info.header_offset
            name_len = int.from_bytes(data[header + 26 : header + 28], "little")
            extra_len = int.from_bytes(data[header + 28 : header + 30], "little")
            start = header + 30 + name_len + extra_len
            out.append((info.filename, start, start + info.compress_size))
    return out


def test_every_single_bit_flip_in_member_bytes_fails(fuzz_target: tuple[bytes, bytes]) -> None:
    """Every third byte of the small members and a stride over the originals, one bit each, in the raw ZIP."""
    package, key = fuzz_target
    ranges = _member_data_ranges(package)
    covered = [(name, i) for name, start, end in ranges for i in range(start, end)]
    # Every byte of the small members; a stride over the originals (their bytes are all alike to the checks).
    small = [(n, i) for n, i in covered if not n.startswith("originals/")]
    large = [(n, i) for n, i in covered if n.startswith("originals/")][::97]
    for name, i in small[::3] + large:
        bad = bytearray(package)
        bad[i] ^= 1 << (i % 8)
        assert problems(bytes(bad), key), f"a flip at byte {i} of {name} went unnoticed"


def test_flips_outside_member_bytes_never_crash(fuzz_target: tuple[bytes, bytes]) -> None:
    package, key = fuzz_target
    inside = {i for _, start, end in _member_data_ranges(package) for i in range(start, end)}
    for i in range(len(package)):
        if i in inside:
            continue
        bad = bytearray(package)
        bad[i] ^= 0x04
        verify_package(bytes(bad), key)  # ok or a named failure: never an exception


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_content_mutation_of_any_member_fails(fuzz_target: tuple[bytes, bytes], data: st.DataObject) -> None:
    """Rewrite a member with valid ZIP CRCs (so only Reclaim's own checks can catch it)."""
    package, key = fuzz_target
    files = members(package)
    name = data.draw(st.sampled_from(sorted(files)))
    content = bytearray(files[name])
    how = data.draw(st.sampled_from(["flip", "truncate", "append", "replace"]))
    if how == "flip" and content:
        i = data.draw(st.integers(0, len(content) - 1))
        content[i] ^= 1 << data.draw(st.integers(0, 7))
    elif how == "truncate" and content:
        del content[data.draw(st.integers(0, len(content) - 1)) :]
    elif how == "append":
        content += data.draw(st.binary(min_size=1, max_size=8))
    else:
        content = bytearray(data.draw(st.binary(max_size=64)))
    if bytes(content) == files[name]:
        return
    if name == pf.PUBLIC_KEY:
        # Not covered on purpose: the verifier is given the key; the package's copy is only a convenience.
        assert verify_package(rezip(dict(files, **{name: bytes(content)})), key).problems == [
            "public-key.pem does not match its SHA-256 in the manifest: it was altered"
        ]
        return
    assert problems(rezip(dict(files, **{name: bytes(content)})), key)
