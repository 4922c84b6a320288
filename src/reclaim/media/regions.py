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
# picture_core: drop this share of the box's short side (at least CORE_MARGIN_PX) at every edge, then sparse
# outer rows and columns (less than CORE_SHARE content); a core under CORE_MIN_AREA of the box is not trusted.
CORE_MARGIN = 0.03
CORE_MARGIN_PX = 4
CORE_SHARE = 0.4
CORE_MIN_AREA = 0.5

Box = tuple[int, int, int, int]


def embedded_pictures(image: Image.Image, limit: int = MAX_PICTURES, framed: bool = False) -> list[Box]:
    """Boxes (x, y, width, height, in the image's pixels) of the largest pictures framed by flat interface.

    `framed`: only pictures with interface (other content rows: a header, an input bar) both above and
    below them, as a screen shows them; a photo with a flat sky or wall gets a box, but not that frame.
    """
    if _mostly_content(image, GLANCE_SIDE):  # most photos stop here, on a thumbnail
        return []
    f = min(1.0, WORK_SIDE / max(image.size))
    content = _content_mask(_rgb(image, WORK_SIDE))
    if content.size == 0 or content.mean() > MAX_CONTENT:
        return []
    rows = content.mean(axis=1) > ROW_SHARE
    height, width = content.shape
    found: list[tuple[int, Box]] = []
    bands = _bands(rows, max(1, round(BAND_GAP * height)))
    for k, (y0, y1) in enumerate(bands):
        if y1 - y0 < MIN_BAND_HEIGHT * height or (framed and not 0 < k < len(bands) - 1):
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


def picture_core(image: Image.Image, box: Box) -> Box:
    """The part of a box that is the picture itself, without the bubble around it or the time stamp below.

    Used where interface must not count as content (what a screenshot enrols): the box's edges (the
    bubble's outline, the photo's corners against it) and the sparse rows at its top and bottom (a time
    stamp, a caption line) look the same in every screenshot of one app.
    """
    x, y, w, h = box
    m = max(CORE_MARGIN_PX, round(CORE_MARGIN * min(w, h)))
    x, y, w, h = x + m, y + m, w - 2 * m, h - 2 * m
    if w < 3 or h < 3:
        return box
    content = _content_mask(_rgb(image.crop((x, y, x + w, y + h)), WORK_SIDE))
    f = content.shape[1] / w
    rows = np.flatnonzero(content.mean(axis=1) >= CORE_SHARE)
    cols = np.flatnonzero(content.mean(axis=0) >= CORE_SHARE)
    if len(rows) == 0 or len(cols) == 0:
        return (x, y, w, h)
    y0, y1 = round(rows[0] / f), round((rows[-1] + 1) / f)
    x0, x1 = round(cols[0] / f), round((cols[-1] + 1) / f)
    if (x1 - x0) * (y1 - y0) < CORE_MIN_AREA * w * h:  # a smooth picture: keep it whole rather than guess
        return (x, y, w, h)
    return (x + x0, y + y0, x1 - x0, y1 - y0)


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
