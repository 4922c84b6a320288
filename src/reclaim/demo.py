"""`reclaim demo`: a small synthetic world run end to end, with the truth known so the output can be judged.

A protected person's own photos (public-domain samples) are enrolled hash-only; the world holds derived
copies of some (re-encoded, resized, flipped, captioned, cropped, partly repainted), a re-encoded copy of a
known clip, and unrelated images. The demo ingests the world and prints what matched, and what did not;
then it ingests a Telegram export in which a bot answers a photo request, and shows the request → output pair.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from reclaim import banks, synthetic
from reclaim.errors import WorkspaceError
from reclaim.output import stdout, table
from reclaim.pipeline import ingest
from reclaim.review.queue import list_matches
from reclaim.rooms.listings import list_pairs
from reclaim.rooms.telegram_ingest import ingest_export
from reclaim.settings import Settings, load_settings
from reclaim.sources.folder import FolderSource
from reclaim.sources.telegram_export import TelegramExport
from reclaim.synthetic_telegram import ExportWriter, message, service
from reclaim.workspace import open_store

MARKER = ".reclaim-demo"
DEFAULT_DIR = Path("reclaim-demo")
HER_PHOTOS = {"astronaut": "her photo 1 (astronaut)", "coffee": "her photo 2 (coffee)", "chelsea": "her photo 3 (cat)"}
UNRELATED_SAMPLES = ("camera", "rocket", "hubble_deep_field", "immunohistochemistry", "coins", "horse")


@dataclass(frozen=True, slots=True)
class Planted:
    path: str  # relative to the world folder
    source: str | None  # enrolled note it derives from, or None for unrelated items
    edit: str


def _prepare(root: Path) -> None:
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise WorkspaceError(
                f"'{root}' exists and was not made by the demo; choose an empty or new folder with --keep"
            )
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("made by `reclaim demo`; safe to delete\n", encoding="utf-8")


def build_world(root: Path) -> tuple[list[Path], Path, list[Planted]]:
    """Write her photos, a known clip and the world of rooms; return what was planted where."""
    mine, world = root / "her-photos", root / "world"
    planted: list[Planted] = []
    mine.mkdir()
    for name in HER_PHOTOS:
        (mine / f"{name}.jpg").write_bytes(synthetic.jpeg_bytes(synthetic.sample(name), 95))
    clip = root / "known-clip.mp4"
    clip.write_bytes(synthetic.pattern_video(seed=7))

    rooms = {"room-1": world / "room-1", "room-2": world / "room-2"}
    for d in rooms.values():
        d.mkdir(parents=True)
    edits = list(synthetic.EDITS.items())
    for i, (name, note) in enumerate(HER_PHOTOS.items()):
        for j, (label, edit) in enumerate(edits):
            if (i + j) % 2:  # spread the derivatives over photos and rooms
                continue
            room = "room-1" if j % 2 == 0 else "room-2"
            rel = f"{room}/{name}-{label.split(' ')[0]}-{j}.jpg"
            (world / rel).write_bytes(synthetic.jpeg_bytes(edit(synthetic.sample(name)), 85))
            planted.append(Planted(rel, note, label))
    # The same derivative posted again in another room: one media item, two sightings.
    first = planted[0]
    (world / "room-2" / "repost.jpg").write_bytes((world / first.path).read_bytes())
    planted.append(Planted("room-2/repost.jpg", first.source, f"{first.edit}, reposted"))
    (world / "room-2/clip-reupload.mp4").write_bytes(synthetic.reencode_video(clip.read_bytes()))
    planted.append(Planted("room-2/clip-reupload.mp4", "known clip", "re-encoded smaller"))
    for k, name in enumerate(UNRELATED_SAMPLES):
        rel = f"room-{1 + k % 2}/other-{name}.jpg"
        (world / rel).write_bytes(synthetic.jpeg_bytes(synthetic.sample(name), 85))
        planted.append(Planted(rel, None, "unrelated sample"))
    for seed in range(6):
        rel = f"room-{1 + seed % 2}/generated-{seed}.png"
        (world / rel).write_bytes(synthetic.png_bytes(synthetic.generated(100 + seed)))
        planted.append(Planted(rel, None, "unrelated generated"))
    (world / "room-1/blank.png").write_bytes(synthetic.png_bytes(synthetic.flat()))
    planted.append(Planted("room-1/blank.png", None, "flat (low PDQ quality)"))
    (world / "room-1/broken.jpg").write_bytes(synthetic.jpeg_bytes(synthetic.sample("camera"))[:3000])
    return sorted(mine.iterdir()), clip, planted


def run_demo(keep: Path | None) -> None:
    root = (keep or DEFAULT_DIR).resolve()
    _prepare(root)
    stdout.print(f"Building a synthetic world in [bold]{root}[/] …")
    her_photos, clip, planted = build_world(root)
    settings = load_settings(root / "workspace")
    store = open_store(settings)
    with store.transaction() as session:
        banks.create_bank(session, "her-photos", "protected", note="a protected person's own photos (demo)")
        for path in her_photos:
            banks.add_files(session, "her-photos", [path], settings.limits, HER_PHOTOS[path.stem])
        banks.create_bank(session, "known-clips", "known", note="confirmed items, to catch re-uploads (demo)")
        banks.add_files(session, "known-clips", [clip], settings.limits, "known clip")
    stdout.print(f"Enrolled {len(her_photos)} photos and 1 clip, hash-only (no image bytes are stored).")

    summaries = [
        ingest(store, FolderSource(room_dir, room_dir.name, settings.limits.max_bytes), settings)
        for room_dir in sorted((root / "world").iterdir())
    ]
    with store.transaction() as session:
        found = list_matches(session)
        notes = {
            e["id"]: e["note"] for b in ("her-photos", "known-clips") for e in banks.show_bank(session, b)["entries"]
        }
    store.close()

    matched_paths: dict[str, tuple[str, str, float]] = {}
    for m in found:
        for s in m["sightings"]:
            matched_paths[f"{s['room']}/{s['path']}"] = (notes[m["bank_entry_id"]], m["method"], m["distance"])
    by_path = {p.path: p for p in planted}
    table(
        "Matches",
        ["item", "what it is", "matched", "by", "distance"],
        [
            (path, by_path[path].edit if path in by_path else "?", note, method, f"{dist:g}")
            for path, (note, method, dist) in sorted(matched_paths.items())
        ],
    )
    _print_truth(
        planted, matched_paths, summaries[0].errors + summaries[1].errors, sum(s.low_quality for s in summaries)
    )
    _telegram_room(root, settings)
    stdout.print(
        f"\nWorkspace: [bold]{settings.home}[/]  (world: {root / 'world'})\n"
        "Try next:\n"
        f"  reclaim --home {settings.home} matches --json\n"
        f"  reclaim --home {settings.home} rooms\n"
        f"  reclaim --home {settings.home} pairs --json\n"
        f"  reclaim --home {settings.home} bank show her-photos\n"
        f"  reclaim --home {settings.home} bank export her-photos --format pytx\n"
        f"  reclaim hash {her_photos[0]} --json"
    )


def _telegram_room(root: Path, settings: Settings) -> None:
    """A Telegram Desktop export of a renamed room where a bot answers a photo request with a derivative."""
    export = root / "telegram-export"
    her = synthetic.sample("astronaut")
    t0 = 1_724_000_000
    with ExportWriter(export) as writer, writer.chat(4242, "private_supergroup", "3반 지인방 (demo)") as chat:
        chat.write(service(1, t0, "Kim", "user101", "create_channel", title="지인방"))
        chat.write(service(2, t0 + 60, "Kim", "user101", "edit_group_title", title="3반 지인방 (demo)"))
        request = chat.media("photo_1.jpg", synthetic.jpeg_bytes(synthetic.caption(her, "who is she"), 90))
        output = chat.media("photo_2.jpg", synthetic.jpeg_bytes(synthetic.reencode(synthetic.flip(her)), 80))
        chat.write(message(3, t0 + 120, "Kim", "user101", "make her", photo=request))
        chat.write(message(4, t0 + 150, "FakerBot", "user900", "done", photo=output))
        chat.write(
            message(
                5,
                t0 + 200,
                "Lee",
                "user102",
                "",
                photo="(File not included. Change data exporting settings to download.)",
            )
        )
    store = open_store(settings)
    summary = ingest_export(store, TelegramExport(export, settings.limits.max_bytes), settings)
    with store.transaction() as session:
        pairs = list_pairs(session)
        matched = {m["media_sha256"]: m for m in list_matches(session)}
    store.close()
    stdout.print(
        f"\nTelegram export: {summary.rooms} room, {summary.messages} messages, {summary.new_media} media, "
        f"{summary.missing_media} not in the export, {summary.pairs} request → output pair(s)."
    )
    for pair in pairs:
        match = matched.get(pair["output"]["media_sha256"])
        stdout.print(
            f"  message {pair['output']['message_id']} (a bot's output) was made from message "
            f"{pair['source']['message_id']} ({pair['rule']}, {pair['evidence'].get('seconds'):g} s later)"
            + (f"; it matches her photos by {match['method']}." if match else "; it matched no bank.")
        )


def _print_truth(
    planted: list[Planted], matched: dict[str, tuple[str, str, float]], errors: list[dict[str, str]], low: int
) -> None:
    derived = [p for p in planted if p.source is not None]
    unrelated = [p for p in planted if p.source is None]
    hits = [p for p in derived if p.path in matched and matched[p.path][0] == p.source]
    false = [p for p in unrelated if p.path in matched]
    missed = [p for p in derived if p not in hits]
    stdout.print(
        f"\nFound {len(hits)} of {len(derived)} planted copies; {len(false)} false matches among "
        f"{len(unrelated)} unrelated items; {low} low-quality item(s) flagged, not matched on PDQ; "
        f"{len(errors)} unreadable item(s) reported ({', '.join(e['path'] for e in errors)})."
    )
    if missed:
        stdout.print(
            "Missed (the planted derivatives no method found): " + ", ".join(f"{p.path} ({p.edit})" for p in missed)
        )
