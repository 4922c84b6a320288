"""Pictures shown inside a picture: where a screenshot of a chat holds the photo that was shared.

A screenshot embeds the victim's photo at a fraction of the frame, among flat interface elements (background,
bubbles, header, input bar). Whole-image signals then see mostly interface: SSCD cosine to the original falls
to 0.1-0.35 and PDQ is unrelated (bench/matching_quality.py, "screenshot in chat"). Messaging apps stack
messages vertically with flat gaps between them, so the photo is the tall horizontal band of non-flat rows;
its extent across the band gives the box. On a patterned wallpaper (no flat rows) the photo is the largest
densely textured region instead. Signals of that box are then computed as well.

Limits: a wallpaper as densely textured as a photo defeats both (the whole-image signals and keypoint
verification still apply); two photos side by side in one band are returned as one box, and on a patterned
wallpaper only the largest photo is found.
"""

from __future__ import annotations

import cv2
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

# _on_wallpaper: a neighbourhood (DENSE_WINDOW px at WORK_SIDE) is dense when DENSE_SHARE of it is content;
# the photo's region must fill DENSE_FILL of its box, and a pattern cover WALLPAPER_SHARE to
# MAX_WALLPAPER_SHARE of the frame above, below and beside it (beside: unless the photo leaves less than EDGE
# of the width on each side). A framed one keeps EDGE of the height clear above and below.
DENSE_WINDOW = 9
DENSE_SHARE = 0.6
DENSE_FILL = 0.3
WALLPAPER_SHARE = 0.05
MAX_WALLPAPER_SHARE = 0.45
EDGE = 0.03

Box = tuple[int, int, int, int]


def embedded_pictures(image: Image.Image, limit: int = MAX_PICTURES, framed: bool = False) -> list[Box]:
    """Boxes (x, y, width, height, in the image's pixels) of the largest pictures shown among interface:
    flat rows (bands), or a sparse wallpaper pattern around one densely textured picture.

    `framed`: only pictures with interface both above and below them, as a screen shows them (bands: other
    content rows such as a header and an input bar; wallpaper: a margin of EDGE clear at the top and bottom);
    a photo with a flat sky or wall gets a box, but not that frame.
    """
    if _mostly_content(image, GLANCE_SIDE):  # most photos stop here, on a thumbnail
        return []
    f = min(1.0, WORK_SIDE / max(image.size))
    content = _content_mask(_rgb(image, WORK_SIDE))
    if content.size == 0 or content.mean() > MAX_CONTENT:
        return []
    if (wall := _on_wallpaper(content, framed)) is not None:  # first: a pattern's rows would form bands
        return [(round(wall[0] / f), round(wall[1] / f), round(wall[2] / f), round(wall[3] / f))]
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


def _on_wallpaper(content: np.ndarray, framed: bool) -> Box | None:
    """The photo on a patterned chat wallpaper (Telegram's default is faint line doodles), in mask pixels.

    The pattern leaves no flat rows, so bands cannot frame the photo; but it is sparse line art, while a
    photo is densely textured. The largest region where most of a neighbourhood is content is the photo,
    provided a pattern surrounds it (else it is a photo on a plain background, which the bands handle).
    """
    height, width = content.shape
    density = cv2.blur(content.astype(np.float32), (DENSE_WINDOW, DENSE_WINDOW))
    dense = cv2.morphologyEx((density >= DENSE_SHARE).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(dense, connectivity=8)
    if n < 2:
        return None
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h, area = (int(v) for v in stats[k][:5])
    if w < MIN_BAND_WIDTH * width or h < MIN_BAND_HEIGHT * height or w * h > MAX_BOX * width * height:
        return None
    if area < DENSE_FILL * w * h:
        return None
    if framed and (y < EDGE * height or y + h > (1 - EDGE) * height):
        return None
    # The pattern must be there above and below the photo (and beside it, unless the photo spans the
    # width), and sparse: line art, not more photo.
    around = [content[:y], content[y + h :]]
    if w < (1 - 2 * EDGE) * width:
        around.append(np.concatenate([content[y : y + h, :x], content[y : y + h, x + w :]], axis=1))
    for part in around:
        if part.size == 0 or not WALLPAPER_SHARE <= part.mean() <= MAX_WALLPAPER_SHARE:
            return None
    return (x, y, w, h)


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
    fx, fy = content.shape[1] / w, content.shape[0] / h
    rows = np.flatnonzero(content.mean(axis=1) >= CORE_SHARE)
    cols = np.flatnonzero(content.mean(axis=0) >= CORE_SHARE)
    if len(rows) == 0 or len(cols) == 0:
        return (x, y, w, h)
    y0, y1 = round(rows[0] / fy), round((rows[-1] + 1) / fy)
    x0, x1 = round(cols[0] / fx), round((cols[-1] + 1) / fx)
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
