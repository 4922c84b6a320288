"""Face matching: distance distributions, a threshold table, robustness to augmentations, and scanning speed.

Run: .venv/bin/python bench/faces.py [--probes 20] [--scan 30] [--model dlib|PATH.onnx]

Data (all public domain, nothing committed): four White House portraits from the `face_recognition` 1.3.0 sdist on
PyPI, fetched by scripts/fetch_face_photos.py (three photos of person A, one of person B), and scikit-image's
`astronaut` (person C). Three people are far too few to estimate false-match rates of 1e-3 or 1e-4: the table says
how many impostor comparisons back each number, and the smallest rate they can resolve (1/n).

- Independent pairs: different photos of the same person (A: 3 pairs) and of different people (A-B, A-C, B-C).
- Augmentations (JPEG q20, downscale, blur, greyscale, rotation) of each photo, compared with every enrolled photo.
  They are the same photos transformed, NOT independent samples.
- Face-swap-like probes (tests/faces/probes.py): an enrolled face cut out, colour-matched and blended onto a
  scene without people (coffee, a cat, a rocket...), then JPEG-compressed at q40-85. "same photo" compares the probe
  with the photo it was cut from (the issue's goal); "other photo" with the person's other photos (harder).
- Scanning: a mix of probes (one face) and scenes (no face), ~0.8 MP JPEGs, one core; the baseline measured in the
  same run is the existing hashing stage (hash_media: decode + SHA-256/MD5 + PDQ with dihedral variants).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faces.probes import SCENES, probes, scene  # noqa: E402

from reclaim.faces import EnrolledFaces, FaceScanner  # noqa: E402
from reclaim.settings import FaceOptions, Limits, Settings  # noqa: E402
from reclaim.signals.face import Face, FaceModel, decode_for_faces, load_face_model  # noqa: E402
from reclaim.signals.hashing import hash_media  # noqa: E402

LIMITS = Limits()
THRESHOLDS = (0.40, 0.45, 0.50, 0.52, 0.55, 0.60, 0.65)


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


AUGMENTATIONS: dict[str, Callable[[Image.Image], bytes]] = {
    "jpeg q20": lambda im: jpeg(im, 20),
    "downscale 1/2": lambda im: jpeg(im.resize((im.width // 2, im.height // 2))),
    "downscale 1/4": lambda im: jpeg(im.resize((im.width // 4, im.height // 4))),
    "blur r2": lambda im: jpeg(im.filter(ImageFilter.GaussianBlur(2))),
    "blur r4": lambda im: jpeg(im.filter(ImageFilter.GaussianBlur(4))),
    "greyscale": lambda im: jpeg(im.convert("L")),
    "rotate 10deg": lambda im: jpeg(im.rotate(10, expand=True, fillcolor=(128, 128, 128))),
    "rotate 25deg": lambda im: jpeg(im.rotate(25, expand=True, fillcolor=(128, 128, 128))),
}


@dataclass
class Enrolled:
    name: str
    person: str
    picture: Image.Image
    face: Face


def best_face(model: FaceModel, data: bytes, max_pixels: int) -> Face | None:
    faces = [f for f in model.faces(decode_for_faces(data, LIMITS, max_pixels)) if f.embedding is not None]
    return max(faces, key=lambda f: f.side) if faces else None


def dist(model: FaceModel, a: Face, b: Face) -> float:
    assert a.embedding is not None and b.embedding is not None
    return float(model.distances(a.embedding, b.embedding[None])[0])


def compare(
    model: FaceModel,
    face: Face,
    probe_of: Enrolled,
    enrolled: list[Enrolled],
    impostor: list[float],
    same_photo: list[float],
    same_person: list[float],
) -> None:
    """Distances from a probe face to every enrolled face, sorted into impostor / same photo / same person."""
    for ref in enrolled:
        d = dist(model, face, ref.face)
        if ref.person != probe_of.person:
            impostor.append(d)
        elif ref.name == probe_of.name:
            same_photo.append(d)
        else:
            same_person.append(d)


def rate(values: list[float], threshold: float) -> str:
    if not values:
        return "-"
    return f"{100 * sum(v <= threshold for v in values) / len(values):.1f}%"


def summary(values: list[float]) -> str:
    if not values:
        return "(none)"
    return f"n={len(values):<4} min {min(values):.3f}  median {statistics.median(values):.3f}  max {max(values):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=20, help="face-swap-like probes per enrolled photo")
    parser.add_argument("--scan", type=int, default=30, help="images per scanning-speed run")
    parser.add_argument("--model", default="dlib", help="dlib, or an ArcFace .onnx path (needs --threshold)")
    parser.add_argument("--threshold", type=float, default=None)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    spec = importlib.util.spec_from_file_location("fetch", ROOT / "scripts" / "fetch_face_photos.py")
    assert spec is not None and spec.loader is not None
    fetcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetcher)
    folder = Path(fetcher.fetch())
    options = FaceOptions(model=args.model, threshold=args.threshold)
    model = load_face_model(options)
    from skimage import data as skdata

    pictures = {
        "A/obama.jpg": Image.open(folder / "obama.jpg").convert("RGB"),
        "A/obama2.jpg": Image.open(folder / "obama2.jpg").convert("RGB"),
        "A/obama3.jpg": Image.open(folder / "obama3.jpg").convert("RGB"),
        "B/biden.jpg": Image.open(folder / "biden.jpg").convert("RGB"),
        "C/astronaut": Image.fromarray(skdata.astronaut()).convert("RGB"),
    }
    enrolled: list[Enrolled] = []
    for key, picture in pictures.items():
        face = best_face(model, jpeg(picture, 95), 1_000_000)
        assert face is not None, key
        enrolled.append(Enrolled(key, key.split("/")[0], picture, face))

    print(f"model {model.name}, configured threshold {model.threshold}")
    print()
    genuine_pairs: list[float] = []
    impostor: list[float] = []
    for i, a in enumerate(enrolled):
        for b in enrolled[i + 1 :]:
            (genuine_pairs if a.person == b.person else impostor).append(dist(model, a.face, b.face))

    # Augmentations: each transformed photo against every enrolled photo.
    aug_rows = []
    aug_same: dict[str, list[float]] = {}
    aug_other: dict[str, list[float]] = {}
    for label, transform in AUGMENTATIONS.items():
        missed = 0
        for e in enrolled:
            face = best_face(model, transform(e.picture), 1_000_000)
            if face is None:
                missed += 1
                continue
            compare(model, face, e, enrolled, impostor, aug_same.setdefault(label, []), aug_other.setdefault(label, []))
        aug_rows.append((label, missed))

    # Face-swap-like probes.
    swap_same: list[float] = []
    swap_other: list[float] = []
    swap_missed = 0
    total_probes = 0
    for k, e in enumerate(enrolled):
        for probe in probes(e.picture, e.face.box, args.probes, seed=100 + k):
            total_probes += 1
            face = best_face(model, probe.jpeg, 1_000_000)
            if face is None:
                swap_missed += 1
                continue
            compare(model, face, e, enrolled, impostor, swap_same, swap_other)

    print("Distance distributions")
    print(f"  {'genuine, independent photos':<52}{summary(genuine_pairs)}")
    for label in AUGMENTATIONS:
        print(f"  {'genuine, augmentation ' + label + ' (same photo)':<52}{summary(aug_same.get(label, []))}")
        print(f"  {'genuine, augmentation ' + label + ' (other photo)':<52}{summary(aug_other.get(label, []))}")
    print(f"  {'genuine, face-swap probe vs same photo':<52}{summary(swap_same)}")
    print(f"  {'genuine, face-swap probe vs other photo':<52}{summary(swap_other)}")
    print(f"  {'impostor (all comparisons)':<52}{summary(impostor)}")
    print()
    print(f"Detection: {swap_missed} of {total_probes} face-swap probes had no detected face (counted as misses)")
    for label, missed in aug_rows:
        print(f"  augmentation {label:<16} faces not found in {missed} of {len(enrolled)} photos")
    print()

    def tmr(values: list[float], threshold: float, misses: int = 0) -> str:
        n = len(values) + misses
        return f"{100 * sum(v <= threshold for v in values) / n:.1f}%" if n else "-"

    all_aug = [d for v in aug_same.values() for d in v] + [d for v in aug_other.values() for d in v]
    n_imp = len(impostor)
    print(f"Threshold table (impostor comparisons: {n_imp}; smallest resolvable false-match rate 1/{n_imp})")
    header = (
        f"{'threshold':>10}{'swap same':>11}{'swap other':>12}{'independent':>13}{'augmented':>11}{'false match':>13}"
    )
    print(header)
    for t in sorted({*THRESHOLDS, model.threshold}):
        fm = sum(d <= t for d in impostor)
        print(
            f"{t:>10.2f}{tmr(swap_same, t, swap_missed):>11}{tmr(swap_other, t):>12}"
            f"{tmr(genuine_pairs, t):>13}{tmr(all_aug, t):>11}{f'{fm}/{n_imp}':>13}"
        )
    safe = min(impostor) if impostor else float("nan")
    hardest = max(swap_same + genuine_pairs) if swap_same else float("nan")
    print(
        f"closest impostor {safe:.3f}; farthest genuine (swap-same, independent) {hardest:.3f}; "
        f"midpoint {(safe + hardest) / 2:.3f}"
    )
    for target in (1e-3, 1e-4):
        if n_imp * target < 1:
            print(
                f"TMR at FMR {target:g}: not resolvable with {n_imp} impostor comparisons; at the largest threshold "
                f"with 0 false matches ({safe:.3f}) the swap-same TMR is {tmr(swap_same, safe - 1e-6, swap_missed)}"
            )
        else:
            allowed = int(n_imp * target)
            t = sorted(impostor)[allowed] - 1e-6
            print(f"TMR at FMR {target:g}: threshold {t:.3f}, swap-same TMR {tmr(swap_same, t, swap_missed)}")
    print()
    scan_speed(model, options, enrolled, args.scan)


def scan_speed(model: FaceModel, options: FaceOptions, enrolled: list[Enrolled], n: int) -> None:
    """Images/s of the face stage on one core, with the hashing stage as the baseline, for two detection sizes."""
    files: list[bytes] = []
    ref = enrolled[0]
    faces = probes(ref.picture, ref.face.box, n // 2, seed=999)
    for i in range(n):
        if i % 2 == 0 and faces:
            files.append(faces.pop().jpeg)
        else:
            files.append(jpeg(scene(SCENES[i % len(SCENES)]), 85))
    vectors = np.stack([e.face.embedding for e in enrolled if e.face.embedding is not None]).astype(np.float32)
    index = EnrolledFaces(model.name, vectors, [(1, 1, i) for i in range(len(vectors))])
    settings = Settings(home=Path("."))
    print(f"Scanning speed: {n} JPEGs (~0.8 MP: half with one face, half without), one core")
    print(f"{'stage':<46}{'ms/image (median)':>18}{'CPU ms/image':>14}{'images/s/core':>15}{'faces matched':>15}")
    with_face = sum(1 for i in range(n) if i % 2 == 0)

    def measure(label: str, fn: Callable[[bytes], Any], count_hits: bool) -> None:
        fn(files[0])  # warm up
        times = []
        matched = 0
        cpu0 = time.process_time()
        for data in files:
            t = time.perf_counter()
            result = fn(data)
            times.append(time.perf_counter() - t)
            matched += bool(result) if count_hits else 0
        cpu = (time.process_time() - cpu0) / len(files)
        med = statistics.median(times) * 1000
        found = f"{matched}/{with_face}" if count_hits else "-"
        print(f"{label:<46}{med:>18.1f}{cpu * 1000:>14.1f}{1 / cpu:>15.1f}{found:>15}")

    measure("baseline: hashing stage (decode, md5, sha, PDQ)", lambda d: hash_media(d, LIMITS, "image"), False)
    for max_pixels in (1_000_000, 500_000, 250_000):
        sized = replace(options, max_pixels=max_pixels)
        scanner = FaceScanner(load_face_model(sized), sized, index)
        local = replace(settings, faces=sized)
        measure(
            f"face stage, detection at {max_pixels / 1e6:.2f} MP",
            lambda d, s=scanner, c=local: s.scan(d, "image", c),
            True,
        )
    print(f"(load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; the machine is shared)")


if __name__ == "__main__":
    main()
