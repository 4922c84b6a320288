"""Hashing speed: images/s for full and fast (JPEG draft) decoding in one run, with the bits of difference.

Run: .venv/bin/python bench/hashing.py [--n 40]
Baseline and candidate are measured in the same run, on the same files, pinned to one core when possible.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time

import numpy as np
import pdqhash
from PIL import Image, ImageOps

from reclaim import synthetic
from reclaim.media.image import decode_image
from reclaim.settings import Limits
from reclaim.signals.hexhash import hamming_hex
from reclaim.signals.pdq import bits_to_hex, pdq_of_decoded


def corpus(n: int) -> list[bytes]:
    """~1 MP JPEGs (1200x850) of generated pictures and upscaled public-domain samples."""
    names = ["astronaut", "coffee", "chelsea", "rocket", "camera", "hubble_deep_field"]
    out = []
    for i in range(n):
        if i % 2:
            img = synthetic.generated(i, (1200, 850))
        else:
            img = synthetic.sample(names[(i // 2) % len(names)]).resize((1200, 850))
        out.append(synthetic.jpeg_bytes(img, 90))
    return out


def run_pdqhash(files: list[bytes]) -> tuple[list[float], list[str]]:
    """Baseline: plain Pillow decode + the official `pdqhash` binding (with its dihedral hashes)."""
    times, hashes = [], []
    for data in files:
        t = time.perf_counter()
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        bits, _quality = pdqhash.compute_dihedral(np.asarray(image))
        times.append(time.perf_counter() - t)
        hashes.append(bits_to_hex(bits[0]))
    return times, hashes


def run(files: list[bytes], fast: bool) -> tuple[list[float], list[str]]:
    times, hashes = [], []
    limits = Limits()
    for data in files:
        t = time.perf_counter()
        image = decode_image(data, limits, fast=fast)
        value, _quality, _variants = pdq_of_decoded(image)
        times.append(time.perf_counter() - t)
        hashes.append(value)
    return times, hashes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    files = corpus(args.n)
    run(files[:4], True)  # warm up
    base_t, base_h = run_pdqhash(files)
    full_t, full_h = run(files, fast=False)
    fast_t, fast_h = run(files, fast=True)
    print(f"{len(files)} JPEGs of 1200x850 (1.0 MP), one core, decode + EXIF + PDQ with dihedral variants")
    print(f"{'mode':<40}{'ms/image (median)':>18}{'images/s':>10}{'max bits vs pdqhash':>21}")
    rows = (
        ("baseline: Pillow + pdqhash", base_t, base_h),
        ("reclaim, full decode", full_t, full_h),
        ("reclaim, fast (draft) decode", fast_t, fast_h),
    )
    for name, ts, hs in rows:
        med = statistics.median(ts) * 1000
        bits = max(hamming_hex(a, b) for a, b in zip(base_h, hs, strict=True))
        print(f"{name:<40}{med:>18.2f}{1000 / med:>10.1f}{bits:>21}")
    print(f"speed-up of the fast path over the baseline: {statistics.median(base_t) / statistics.median(fast_t):.1f}x")


if __name__ == "__main__":
    main()
