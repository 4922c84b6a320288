"""The Telegram commands as a person runs them: JSON shapes, exit codes, and SIGKILL midway then re-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from tests.telegram_worlds import PLATFORM_ID, write_world

from reclaim import synthetic
from reclaim.settings import load_settings
from reclaim.store.room_tables import ActorName, MediaLink, Message, MessageMedia, RoomTitle
from reclaim.store.tables import IngestError, Match, Media, Sighting
from reclaim.synthetic_telegram import ExportWriter, message, service
from reclaim.workspace import open_store

RECLAIM = [sys.executable, "-m", "reclaim"]
N_REQUESTS = 30


def run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RECLAIM_HOME": str(home), "COLUMNS": "200"}
    proc = subprocess.run([*RECLAIM, *args], capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def run_json(home: Path, *args: str) -> Any:
    return json.loads(run(home, *args, "--json").stdout)


def test_ingest_rooms_actors_pairs_and_matches_json(tmp_path: Path) -> None:
    world = write_world(tmp_path / "w")
    home = tmp_path / "home"
    run(home, "bank", "create", "her", "--kind", "protected")
    run(home, "bank", "add", "her", str(world.her))
    summary = run_json(home, "ingest", "telegram-export", str(world.root))
    assert {"files", "new_media", "duplicates", "errors", "matches", "rooms", "messages"} <= set(summary)
    assert (summary["rooms"], summary["messages"]) == (1, world.expected_messages)

    [room] = run_json(home, "rooms")
    assert set(room) >= {
        "id", "platform", "type", "titles", "messages", "media", "missing_media", "actors",
        "first_message_at", "last_message_at", "participants_count",
    }  # fmt: skip
    assert room["id"] == PLATFORM_ID and room["first_message_at"].endswith("Z")

    actors = run_json(home, "actors", "--room", PLATFORM_ID)
    assert all(set(a) >= {"id", "names", "is_bot", "rooms", "messages", "media"} for a in actors)
    assert len(actors) == 3

    pairs = run_json(home, "pairs")
    assert {p["rule"] for p in pairs} == {"reply", "bot_window"}

    matches = run_json(home, "matches")
    telegram = [m for m in matches if m["sightings"][0]["room"] == PLATFORM_ID]
    assert telegram and all(isinstance(s["message_id"], int) for m in telegram for s in m["sightings"])

    human = run(home, "rooms")
    assert "3반 지인방 v2" in human.stdout

    missing = run(home, "actors", "--room", "-100999", check=False)
    assert missing.returncode != 0 and "no room has the id" in missing.stderr and "Traceback" not in missing.stderr
    not_export = run(home, "ingest", "telegram-export", str(tmp_path), check=False)
    assert not_export.returncode != 0 and "result.json" in not_export.stderr


def make_export(root: Path) -> None:
    """Requests and bot outputs, large enough photos that the ingest can be killed halfway."""
    t = 1_700_000_000
    with ExportWriter(root) as export, export.chat(888, "private_supergroup", "room") as chat:
        chat.write(service(1, t, "Kim", "user1", "create_channel", title="room"))
        for i in range(N_REQUESTS):
            base = synthetic.generated(i, (1000, 800))
            request = chat.media(f"photo_{i}_a.jpg", synthetic.jpeg_bytes(base, 90))
            output = chat.media(f"photo_{i}_b.jpg", synthetic.jpeg_bytes(synthetic.caption(base), 85))
            who = f"user{10 + i % 4}"
            chat.write(message(10 + 2 * i, t + 100 * i, f"U{i % 4}", who, "", photo=request))
            chat.write(message(11 + 2 * i, t + 100 * i + 20, "FakerBot", "user999", "", photo=output))
        chat.write(message(500, t + 99_999, "Kim", "user1", "", photo="(File unavailable, please try again later)"))


def state(home: Path) -> dict[str, object]:
    store = open_store(load_settings(home))
    try:
        with store.transaction() as s:
            return {
                "media": sorted(s.scalars(select(Media.sha256))),
                "sightings": sorted(s.execute(select(Media.sha256, Sighting.locator).join(Media)).all()),
                "matches": sorted(s.execute(select(Media.sha256, Match.method).join(Media)).all()),
                "messages": sorted(s.scalars(select(Message.message_id))),
                "message_media": sorted(s.execute(select(MessageMedia.message_id, MessageMedia.status)).all()),
                "links": sorted(s.execute(select(MediaLink.message_id, MediaLink.source_message_id)).all()),
                "titles": sorted(s.scalars(select(RoomTitle.title))),
                "names": sorted(s.scalars(select(ActorName.name))),
                "errors": sorted(s.scalars(select(IngestError.locator))),
            }
    finally:
        store.close()


def test_sigkill_midway_then_rerun_equals_clean_run(tmp_path: Path) -> None:
    root = tmp_path / "export"
    make_export(root)
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    run(clean, "ingest", "telegram-export", str(root))

    proc = subprocess.Popen(
        [*RECLAIM, "ingest", "telegram-export", str(root)],
        env={**os.environ, "RECLAIM_HOME": str(killed)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if (killed / "reclaim.db").exists():
            try:
                done = len(state(killed)["media"])  # type: ignore[arg-type]
            except Exception:  # the schema may still be migrating
                continue
            if 4 <= done < 2 * N_REQUESTS:
                break
    assert proc.poll() is None, "the ingest finished before it could be killed; make the export larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    partial = state(killed)
    assert 0 < len(partial["media"]) < 2 * N_REQUESTS  # type: ignore[arg-type]

    run(killed, "ingest", "telegram-export", str(root))
    assert state(killed) == state(clean)
    assert len(state(clean)["links"]) == N_REQUESTS  # type: ignore[arg-type]


def test_monitor_without_api_credentials_says_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_TG_")}
    proc = subprocess.run(
        [*RECLAIM, "monitor", "telegram", "@some_room", "--once"],
        capture_output=True,
        text=True,
        env={**env, "RECLAIM_HOME": str(tmp_path / "home")},
        timeout=120,
    )
    assert proc.returncode != 0
    assert "RECLAIM_TG_API_ID" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "home" / "telegram.session").exists()  # nothing logged in, nothing written
