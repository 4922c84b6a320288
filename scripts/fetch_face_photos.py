#!/usr/bin/env python3
"""Fetch the public-domain face photos the face tests and bench/faces.py use, from the package registry.

The source distribution of `face_recognition` 1.3.0 on PyPI carries official White House portraits (works of the
US federal government, in the public domain): three distinct photos of one person and one of another. They are
downloaded with this venv's pip (the ordinary registry client), checked against pinned SHA-256 sums, and cached in
a git-ignored folder; no third-party photo is ever committed. Safe to run again: it does nothing once cached.

Usage: python scripts/fetch_face_photos.py [DEST]   (default: .test-data/faces; prints the folder)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = ROOT / ".test-data" / "faces"
SDIST = "face_recognition==1.3.0"
SDIST_SHA256 = "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec"
PHOTOS = {
    "obama.jpg": "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6",
    "obama2.jpg": "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6",
    "obama3.jpg": "76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3",
    "biden.jpg": "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c",
}
NOTICE = """Public-domain test photos (official White House portraits, works of the US federal government),
extracted from the face_recognition 1.3.0 source distribution on PyPI (tests/test_images/) by
scripts/fetch_face_photos.py. Not part of the repository; used only to test and measure face matching.
"""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cached(dest: Path = DEFAULT_DEST) -> bool:
    return all((dest / n).is_file() and _sha256(dest / n) == h for n, h in PHOTOS.items())


def fetch(dest: Path = DEFAULT_DEST) -> Path:
    """The folder holding the photos, downloading them first if needed; raises RuntimeError on failure."""
    if cached(dest):
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", SDIST, "--no-deps", "--no-binary", ":all:", "-d", tmp, "-q"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        archives = list(Path(tmp).glob("face_recognition-1.3.0.tar.gz"))
        if proc.returncode != 0 or not archives:
            raise RuntimeError(f"pip download {SDIST} failed: {proc.stderr.strip()[-500:]}")
        if _sha256(archives[0]) != SDIST_SHA256:
            raise RuntimeError(f"{archives[0].name} does not have the pinned SHA-256; refusing to use it")
        with tarfile.open(archives[0]) as tar:
            for name in PHOTOS:
                member = tar.extractfile(f"face_recognition-1.3.0/tests/test_images/{name}")
                if member is None:
                    raise RuntimeError(f"{name} is missing from {archives[0].name}")
                (dest / name).write_bytes(member.read())
    (dest / "NOTICE.txt").write_text(NOTICE, encoding="utf-8")
    bad = [n for n, h in PHOTOS.items() if _sha256(dest / n) != h]
    if bad:
        raise RuntimeError(f"unexpected content for {', '.join(bad)}")
    return dest


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DEST
    try:
        print(fetch(target))
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
