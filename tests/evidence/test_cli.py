"""The evidence and hold commands: JSON shapes, exit codes, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.worlds import write_world

RECLAIM = [sys.executable, "-m", "reclaim"]


def run(home: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RECLAIM_HOME": str(home), "RECLAIM_OPERATOR": "analyst-3"}
    env.pop("RECLAIM_DB", None)
    proc = subprocess.run([*RECLAIM, *args], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def run_json(home: Path, *args: str) -> Any:
    return json.loads(run(home, *args, "--json").stdout)


def test_hold_ingest_checkpoint_export_verify(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_world(tmp_path / "world")
    hold = run_json(home, "hold", "add", "--room", "room-x", "--note", "request 17")
    assert hold["scope"] == "room" and hold["platform_id"] == "room-x" and hold["created_by"] == "analyst-3"
    assert hold["room_seen"] is False and hold["removed_at"] is None
    run(home, "ingest", "folder", str(tmp_path / "world"), "--room", "room-x")
    listed = run_json(home, "hold", "list")
    assert [h["originals_kept"] for h in listed] == [4]

    log = run_json(home, "evidence", "log", "--since", "1")
    assert log["size"] == 5 and [e["index"] for e in log["entries"]] == [1, 2, 3, 4]
    entry = log["entries"][0]
    assert set(entry) == {"index", "kind", "leaf_hash", "entry"} and entry["kind"] == "capture"
    assert entry["entry"]["body"]["operator"] == "analyst-3"

    cp = run_json(home, "evidence", "checkpoint")
    assert cp["tree_size"] == 5 and set(cp) == {"id", "tree_size", "root", "signed_at", "key_id", "note", "signature"}
    assert run_json(home, "evidence", "checkpoints") == [cp]
    assert run_json(home, "evidence", "check")["checkpoints_checked"] == 1
    proof = json.loads(run(home, "evidence", "proof", "--index", "2").stdout)
    assert proof["kind"] == "inclusion" and proof["root"] == cp["root"] and len(proof["proof"]) == 3
    assert [e["index"] for e in run_json(home, "evidence", "log", "--kind", "hold")["entries"]] == [0]
    pem = run(home, "evidence", "pubkey").stdout
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    run(home, "evidence", "pubkey", "--out", str(tmp_path / "pub.pem"))
    assert (tmp_path / "pub.pem").read_text() == pem

    keys = run_json(tmp_path / "elsewhere", "evidence", "keygen", str(tmp_path / "court"))
    assert Path(keys["private_key"]).stat().st_mode & 0o777 == 0o600
    pkg = tmp_path / "room.zip"
    out = run_json(
        home, "evidence", "export", "--room", "room-x", "--out", str(pkg), "--decrypt-for", keys["public_key"]
    )
    assert out["items"] == 4 and out["originals"] == 4 and out["encrypted_for"] == keys["fingerprint"]
    assert out["export_entry"] == 5

    report = run_json(
        tmp_path / "nowhere", "evidence", "verify", str(pkg), "--key", str(tmp_path / "pub.pem"),
        "--identity", keys["private_key"],
    )  # fmt: skip
    assert report["ok"] is True and report["originals_decrypted"] == 4 and report["key"]["source"] == "given"
    opened = run_json(
        tmp_path / "nowhere", "evidence", "open", str(pkg), "--key", str(tmp_path / "pub.pem"),
        "--identity", keys["private_key"], "--out", str(tmp_path / "opened"),
    )  # fmt: skip
    assert len(opened["originals"]) == 4
    assert not (tmp_path / "nowhere").exists()

    data = bytearray(pkg.read_bytes())
    data[data.index(b'"format":"reclaim-evidence-package/1"') + 12] ^= 0x01  # inside manifest.json
    pkg.write_bytes(bytes(data))
    failed = run(home, "evidence", "verify", str(pkg), "--key", str(tmp_path / "pub.pem"), code=2)
    assert "FAILED verification" in failed.stderr and "manifest.json" in failed.stderr
    as_json = json.loads(
        run(home, "evidence", "verify", str(pkg), "--key", str(tmp_path / "pub.pem"), "--json", code=2).stdout
    )
    assert as_json["ok"] is False and as_json["problems"]

    removed = run_json(home, "hold", "remove", str(hold["id"]))
    assert removed["removed_by"] == "analyst-3"
    assert run_json(home, "hold", "list") == []
    missing = run(home, "hold", "remove", "99", code=1)
    assert "no evidence hold #99" in missing.stderr
    bad = run(home, "evidence", "export", "--case", "nobody", "--out", str(tmp_path / "x.zip"), code=1)
    assert "no case 'nobody'" in bad.stderr and not (tmp_path / "x.zip").exists()
