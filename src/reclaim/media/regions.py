"""Pictures shown inside a picture: where a screenshot of a chat holds the photo that was shared.

A screenshot embeds the victim's photo at a fraction of the frame, among flat interface elements (background,
bubbles, header, input bar). Whole-image signals then see mostly interface: SSCD cosine to the original falls
to 0.1-0.35 and PDQ is unrelated (bench/matching_quality.py, "screenshot in chat"). Messaging apps stack
messages vertically with flat gaps between them, so the photo is the tall horizontal band of non-flat rows;
its extent across the band gives the box. Signals of that box are then computed as well.

Limits: a textured chat wallpaper leaves no flat rows (nothing is found, and the whole-image signals and
keypoint verification still apply); two photos side by side in one band are returned as one box.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# Work on a copy whose long side is at most this (interface gaps stay several pixels tall); a first glance at
# GLANCE_SIDE turns away pictures that are mostly content (photos) for a fraction of the cost.
WORK_SIDE = 512
GLANCE_SIDE = 160
# A pixel is "content" when its 3x3 neighbourhood spans at least this many grey levels in some channel.
CONTENT_RANGE = 10
# A row is content when more than this share of it is; a column of a band, likewise.
ROW_SHARE = 0.02
COLUMN_SHARE = 0.05
# Frames that are mostly content are photos, not screenshots.
MAX_CONTENT = 0.5
# Flat gaps shorter than this share of the height do not split a band (text lines inside a document photo).
BAND_GAP = 0.012
# A band must be at least this tall and wide (shares of the frame) and cover at most MAX_BOX of it.
MIN_BAND_HEIGHT = 0.08
MIN_BAND_WIDTH = 0.2
MAX_BOX = 0.8
MAX_PICTURES = 2

Box = tuple[int, int, int, int]


def embedded_pictures(image: Image.Image, limit: int = MAX_PICTURES) -> list[Box]:
    """Boxes (x, y, width, height, in the image's pixels) of the largest pictures framed by flat interface."""
    if _mostly_content(image, GLANCE_SIDE):  # most photos stop here, on a thumbnail
        return []
    f = min(1.0, WORK_SIDE / max(image.size))
    content = _content_mask(_rgb(image, WORK_SIDE))
    if content.size == 0 or content.mean() > MAX_CONTENT:
        return []
    rows = content.mean(axis=1) > ROW_SHARE
    height, width = content.shape
    found: list[tuple[int, Box]] = []
    for y0, y1 in _bands(rows, max(1, round(BAND_GAP * height))):
        if y1 - y0 < MIN_BAND_HEIGHT * height:
            continue
        cols = np.flatnonzero(content[y0:y1].mean(axis=0) > COLUMN_SHARE)
        if len(cols) == 0:
            continue
        x0, x1 = int(cols[0]), int(cols[-1]) + 1
        area = (x1 - x0) * (y1 - y0)
        if x1 - x0 < MIN_BAND_WIDTH * width or area > MAX_BOX * width * height:
            continue
        box = (round(x0 / f), round(y0 / f), round((x1 - x0) / f), round((y1 - y0) / f))
        found.append((area, box))
    found.sort(key=lambda item: -item[0])
    return [box for _, box in found[:limit]]


def _rgb(image: Image.Image, side: int) -> np.ndarray:
    """The image as int16 RGB, reduced so its long side is at most `side`."""
    w, h = image.size
    f = min(1.0, side / max(w, h))
    small = image.convert("RGB")
    if f < 1.0:
        small = small.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BILINEAR)
    return np.asarray(small, dtype=np.int16)


def _mostly_content(image: Image.Image, side: int) -> bool:
    content = _content_mask(_rgb(image, side))
    return content.size == 0 or bool(content.mean() > MAX_CONTENT)


def _content_mask(rgb: np.ndarray) -> np.ndarray:
    """True where the 3x3 neighbourhood is not flat (max - min over it, in any channel)."""
    if rgb.shape[0] < 3 or rgb.shape[1] < 3:
        return np.zeros((0, 0), dtype=bool)
    h, w = rgb.shape[0] - 2, rgb.shape[1] - 2
    shifted = [rgb[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    spread = np.max(shifted, axis=0) - np.min(shifted, axis=0)
    inner = spread.max(axis=2) >= CONTENT_RANGE
    return np.pad(inner, 1, mode="edge")


def _bands(rows: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """Runs [start, stop) of content rows, joining runs separated by fewer than `gap` flat rows."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], rows.astype(np.int8), [0]])))
    runs = list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
    merged: list[tuple[int, int]] = []
    for start, stop in runs:
        if merged and start - merged[-1][1] < gap:
            merged[-1] = (merged[-1][0], stop)
        else:
            merged.append((start, stop))
    return merged
