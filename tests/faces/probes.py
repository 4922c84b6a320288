"""Face-swap-like probes for tests and bench/faces.py: test-only code, never part of the installed package.

A probe is a face cut out of a public-domain photo with a feathered oval mask, colour-matched to where it goes,
blended onto a public-domain scene WITHOUT people (scikit-image's coffee, chelsea the cat, rocket, ...), then
JPEG-compressed. It reproduces what matters to a matcher (a face lifted from one picture into another: new
surroundings, new colours, new scale, compression) without composing any picture of a person.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from skimage import data

from reclaim.signals.face import FaceBox

SCENES = ("coffee", "chelsea", "rocket", "hubble_deep_field", "retina", "brick", "grass", "gravel")


@dataclass(frozen=True)
class Probe:
    jpeg: bytes
    box: FaceBox  # where the face was put
    scene: str


def scene(name: str, long_side: int = 1024) -> Image.Image:
    img = Image.fromarray(np.asarray(getattr(data, name)())).convert("RGB")
    f = long_side / max(img.size)
    return img.resize((round(img.width * f), round(img.height * f)), Image.Resampling.BILINEAR)


def blend_face(
    photo: Image.Image, face: FaceBox, onto: Image.Image, side: int, at: tuple[int, int], quality: int
) -> bytes:
    """Lift `face` (its box, enlarged 1.4x) out of `photo`, match its colours to the target area, blend, JPEG."""
    cx, cy = face.x + face.w / 2, face.y + face.h / 2
    half = max(face.w, face.h) * 0.7
    crop = photo.convert("RGB").crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half)))
    size = round(side * 1.4)
    crop = crop.resize((size, size), Image.Resampling.LANCZOS)
    x, y = at
    target = onto.crop((x, y, x + size, y + size))
    src = np.asarray(crop, dtype=np.float32)
    dst = np.asarray(target, dtype=np.float32)
    # Colour transfer: move the face's per-channel mean and spread part of the way towards the target area's.
    matched = (src - src.mean((0, 1))) / (src.std((0, 1)) + 1e-6)
    goal_mean = 0.6 * src.mean((0, 1)) + 0.4 * dst.mean((0, 1))
    goal_std = 0.7 * src.std((0, 1)) + 0.3 * dst.std((0, 1))
    matched = np.clip(matched * goal_std + goal_mean, 0, 255).astype(np.uint8)
    mask = Image.new("L", (size, size), 0)
    m = size * 0.12
    ImageDraw.Draw(mask).ellipse((m, m * 0.6, size - m, size - m * 0.4), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(size * 0.05))
    out = onto.copy()
    out.paste(Image.fromarray(matched), (x, y), mask)
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def probes(photo: Image.Image, face: FaceBox, count: int, seed: int) -> list[Probe]:
    """`count` probes of one face on random scenes, sizes (90-260 px), places and JPEG qualities (40-85)."""
    rng = random.Random(seed)
    out: list[Probe] = []
    for _ in range(count):
        name = rng.choice(SCENES)
        onto = scene(name)
        side = rng.randint(90, 260)
        size = round(side * 1.4)
        x = rng.randint(0, max(0, onto.width - size))
        y = rng.randint(0, max(0, onto.height - size))
        quality = rng.randint(40, 85)
        jpeg = blend_face(photo, face, onto, side, (x, y), quality)
        out.append(Probe(jpeg, FaceBox(x, y, size, size), name))
    return out
