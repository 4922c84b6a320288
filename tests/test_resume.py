"""An ingest killed with SIGKILL midway, then run again, ends in the same state as one clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from reclaim import synthetic
from reclaim.settings import load_settings
from reclaim.store.tables import IngestError, Match, Media, Room, Sighting, Signal
from reclaim.workspace import open_store

N_IMAGES = 40


def make_folder(root: Path) -> None:
    root.mkdir()
    her = synthetic.sample("astronaut")
    (root.parent / "her.jpg").write_bytes(synthetic.jpeg_bytes(her, 95))
    for i in range(N_IMAGES):
        image = synthetic.reencode(her, 30 + i) if i % 5 == 0 else synthetic.generated(i, (900, 700))
        (root / f"{i:03d}.jpg").write_bytes(synthetic.jpeg_bytes(image, 90))
    (root / "zz-broken.jpg").write_bytes(b"\xff\xd8\xff broken")


def reclaim(home: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RECLAIM_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "reclaim", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def state(home: Path) -> dict[str, object]:
    store = open_store(load_settings(home))
    try:
        with store.transaction() as s:
            return {
                "media": sorted(s.scalars(select(Media.sha256))),
                "signals": sorted(s.execute(select(Media.sha256, Signal.signal_type, Signal.value).join(Media)).all()),
                "sightings": sorted(s.execute(select(Media.sha256, Sighting.locator).join(Media)).all()),
                "matches": sorted(s.execute(select(Media.sha256, Match.method, Match.distance).join(Media)).all()),
                "errors": sorted(s.scalars(select(IngestError.locator))),
                "rooms": sorted(s.scalars(select(Room.platform_id))),
            }
    finally:
        store.close()


def prepare(home: Path, her: Path) -> None:
    for args in (("bank", "create", "her", "--kind", "protected"), ("bank", "add", "her", str(her))):
        assert reclaim(home, *args).wait(timeout=120) == 0


def test_sigkill_midway_then_rerun_equals_clean_run(tmp_path: Path) -> None:
    folder = tmp_path / "world"
    make_folder(folder)
    her = tmp_path / "her.jpg"

    clean = tmp_path / "clean"
    prepare(clean, her)
    assert reclaim(clean, "ingest", "folder", str(folder), "--room", "r").wait(timeout=300) == 0

    killed = tmp_path / "killed"
    prepare(killed, her)
    proc = reclaim(killed, "ingest", "folder", str(folder), "--room", "r")
    db = killed / "reclaim.db"
    deadline = time.monotonic() + 120
    # Wait until some, but not all, media is committed, then kill without warning.
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if db.exists() and 3 <= len(state(killed)["media"]) < N_IMAGES:  # type: ignore[arg-type]
            break
    assert proc.poll() is None, "ingest finished before it could be killed; make the folder larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    partial = state(killed)
    assert 0 < len(partial["media"]) < N_IMAGES  # type: ignore[arg-type]

    assert reclaim(killed, "ingest", "folder", str(folder), "--room", "r").wait(timeout=300) == 0
    assert state(killed) == state(clean)
