"""Small generated worlds for the storage, pipeline and CLI tests (synthetic, non-sexual images only)."""

from __future__ import annotations

from pathlib import Path

from reclaim import synthetic


def write_world(root: Path) -> dict[str, Path]:
    """Her photo, two derivatives, an unrelated image, a flat image, and three bad files."""
    root.mkdir(parents=True, exist_ok=True)
    her = synthetic.sample("astronaut")
    files = {
        "her": root.parent / "her.jpg",
        "reencoded": root / "a" / "copy-q40.jpg",
        "flipped": root / "a" / "copy-flipped.jpg",
        "unrelated": root / "b" / "rocket.jpg",
        "flat": root / "b" / "blank.png",
        "empty": root / "bad" / "empty.jpg",
        "text": root / "bad" / "notes.png",
        "truncated": root / "bad" / "cut.jpg",
    }
    for p in files.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    files["her"].write_bytes(synthetic.jpeg_bytes(her, 95))
    files["reencoded"].write_bytes(synthetic.jpeg_bytes(synthetic.reencode(her), 80))
    files["flipped"].write_bytes(synthetic.jpeg_bytes(synthetic.flip(her), 85))
    files["unrelated"].write_bytes(synthetic.jpeg_bytes(synthetic.sample("rocket"), 85))
    files["flat"].write_bytes(synthetic.png_bytes(synthetic.flat()))
    files["empty"].write_bytes(b"")
    files["text"].write_text("not an image\n")
    files["truncated"].write_bytes(synthetic.jpeg_bytes(synthetic.sample("coffee"))[:3000])
    (root / "README.txt").write_text("ignored: not media\n")
    return files
