"""Hashing speed: images/s for full and fast (JPEG draft) decoding in one run, with the bits of difference.

Run: .venv/bin/python bench/hashing.py [--n 40]
Baseline and candidate are measured in the same run, on the same files, pinned to one core when possible.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from reclaim import synthetic
from reclaim.media.image import decode_image
from reclaim.settings import Limits
from reclaim.signals.hexhash import hamming_hex
from reclaim.signals.pdq import pdq_of_image


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


def run(files: list[bytes], fast: bool) -> tuple[list[float], list[str]]:
    times, hashes = [], []
    limits = Limits()
    for data in files:
        t = time.perf_counter()
        image = decode_image(data, limits, fast=fast)
        value, _quality, _variants = pdq_of_image(image.image)
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
    full_t, full_h = run(files, fast=False)
    fast_t, fast_h = run(files, fast=True)
    bits = [hamming_hex(a, b) for a, b in zip(full_h, fast_h, strict=True)]
    print(f"{len(files)} JPEGs of 1200x850 (1.0 MP), one core, decode + EXIF + PDQ with dihedral variants")
    print(f"{'mode':<22}{'ms/image (median)':>18}{'images/s':>10}{'max bits vs full':>18}")
    for name, ts, b in (("full decode", full_t, [0]), ("fast (draft) decode", fast_t, bits)):
        med = statistics.median(ts) * 1000
        print(f"{name:<22}{med:>18.2f}{1000 / med:>10.1f}{max(b):>18}")
    print(f"speed-up: {statistics.median(full_t) / statistics.median(fast_t):.2f}x")


if __name__ == "__main__":
    main()
