"""PDQ computed in numpy from a possibly DCT-downscaled decode, faithful to the reference algorithm.

The reference hasher (and `pdqhash`) runs two box-filter passes (Jarosz) over the full-resolution luma and
samples the result at 64x64, then takes a 16x16 DCT. Most of its time goes to filtering every full-size pixel.
Here the two passes and the sampling are one banded linear map per axis, built for the original size `N` and
summed over the `s`x`s` blocks a JPEG draft decode averages, so a 1/2, 1/4 or 1/8 decode keeps the reference
kernel. Measured: within 2 bits of `pdqhash` on full-size input (bench/hashing.py, tests/signals/test_pdq_numpy.py).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_K = np.arange(1, 17)[:, None]
_X = np.arange(64)[None, :]
# Rows 1..16 of the 64-point DCT-II: PDQ drops the DC term.
DCT16 = (np.sqrt(2 / 64) * np.cos(np.pi / 128 * _K * (2 * _X + 1))).astype(np.float32)
# Mirroring the 64x64 buffer along an axis flips the sign of odd-numbered DCT terms (k = 1, 3, ...).
_MIRROR = np.where(np.arange(1, 17) % 2 == 1, -1.0, 1.0).astype(np.float32)
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
MIN_HASHABLE_SIDE = 5


@lru_cache(maxsize=512)
def axis_weights(n_full: int, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """For an axis of `n_full` original pixels decoded at 1/`scale`: (tap indices, weights), each 64 x K."""
    window = (n_full + 127) // 128
    half = (window + 2) // 2

    def bounds(i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.maximum(i - (window - half), 0), np.minimum(i + half - 1, n_full - 1)

    samples = ((np.arange(64) + 0.5) * n_full / 64).astype(int)
    lo1, hi1 = bounds(samples)
    taps1 = lo1[:, None] + np.arange(window)  # first-pass taps, 64 x window
    lo2, hi2 = bounds(np.minimum(taps1, n_full - 1))
    taps2 = np.broadcast_to((lo1 - (window - half))[:, None, None] + np.arange(2 * window), (64, window, 2 * window))
    w1 = (taps1 <= hi1[:, None]) / (hi1 - lo1 + 1)[:, None]
    w2 = ((taps2 >= lo2[..., None]) & (taps2 <= hi2[..., None])) / (hi2 - lo2 + 1)[..., None]
    weights = w1[..., None] * w2
    n_decoded = -(-n_full // scale)
    cells = np.arange(64)[:, None, None] * n_decoded + np.clip(taps2, 0, n_full - 1) // scale
    dense = np.bincount(cells.ravel(), weights.ravel(), 64 * n_decoded).reshape(64, n_decoded)
    first = (dense != 0).argmax(1)
    width = int((n_decoded - (dense[:, ::-1] != 0).argmax(1) - first).max())
    idx = np.minimum(first, n_decoded - width)[:, None] + np.arange(width)
    return idx, np.take_along_axis(dense, idx, 1).astype(np.float32)


def dct_of_rgb(rgb: np.ndarray, full_size: tuple[int, int], scale: int) -> tuple[np.ndarray, int]:
    """The 16x16 PDQ DCT and the quality (0-100) of an RGB image decoded at 1/`scale` of `full_size` (w, h)."""
    width, height = full_size
    if min(width, height) < MIN_HASHABLE_SIDE:
        return np.zeros((16, 16), dtype=np.float32), 0
    luma = rgb.astype(np.float32) @ LUMA
    rows_idx, rows_w = axis_weights(height, scale)
    cols_idx, cols_w = axis_weights(width, scale)
    by_rows = (rows_w[:, None, :] @ luma[rows_idx])[:, 0]  # 64 x decoded width
    buffer = np.einsum("rck,ck->rc", by_rows[:, cols_idx], cols_w)  # 64 x 64
    gradient = (
        np.abs(np.trunc((buffer[:-1] - buffer[1:]) * 100 / 255)).sum()
        + np.abs(np.trunc((buffer[:, :-1] - buffer[:, 1:]) * 100 / 255)).sum()
    )
    quality = min(int(gradient) // 90, 100)
    return DCT16 @ buffer @ DCT16.T, quality


def hash_of_dct(dct: np.ndarray) -> str:
    """Bits above the median, packed as the reference prints them (coefficient 0 is the last bit)."""
    bits = (dct > np.median(dct)).ravel()[::-1]
    return np.packbits(bits).tobytes().hex()


def dihedral_dcts(dct: np.ndarray) -> list[np.ndarray]:
    """The DCT of the image and of its seven rotations and mirror images, without recomputing anything."""
    out = []
    for d in (dct, dct.T):
        out += [d, d * _MIRROR[None, :], d * _MIRROR[:, None], d * _MIRROR[:, None] * _MIRROR[None, :]]
    return out
