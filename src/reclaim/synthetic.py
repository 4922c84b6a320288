"""Synthetic, non-sexual test media: public-domain scikit-image samples, generated images and videos, and the
derivative edits Reclaim must see through (re-encode, resize, flip, caption bar, flat repaint, crop).

Used by the demo, the tests and the benchmarks. It only degrades copies of bundled sample images; it never
synthesises or alters a person's likeness beyond these mechanical edits.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps


def sample(name: str) -> Image.Image:
    """A scikit-image bundled sample (public domain or CC0) as RGB."""
    from skimage import data

    array = getattr(data, name)()
    image = Image.fromarray(array)
    return image.convert("RGB")


def generated(seed: int, size: tuple[int, int] = (512, 384)) -> Image.Image:
    """A textured synthetic picture: overlapping shapes on a gradient, distinct per seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack(
        [
            (np.sin(xx / rng.uniform(20, 90) + rng.uniform(0, 6)) + 1) * 127,
            (np.cos(yy / rng.uniform(20, 90) + rng.uniform(0, 6)) + 1) * 127,
            (np.sin((xx + yy) / rng.uniform(30, 120)) + 1) * 127,
        ],
        axis=-1,
    ).astype(np.uint8)
    image = Image.fromarray(base)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        x1, y1 = x0 + int(rng.integers(30, w // 2)), y0 + int(rng.integers(30, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    return image.filter(ImageFilter.GaussianBlur(1.5))


def flat(value: int = 128, size: tuple[int, int] = (256, 256)) -> Image.Image:
    """A featureless image: PDQ quality is low, so it must be flagged rather than matched."""
    return Image.new("RGB", size, (value, value, value))


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


# --- derivative edits -------------------------------------------------------------------------------------


def reencode(image: Image.Image, quality: int = 40) -> Image.Image:
    return Image.open(io.BytesIO(jpeg_bytes(image, quality))).convert("RGB")


def resize(image: Image.Image, factor: float = 0.5) -> Image.Image:
    return image.resize(
        (max(1, int(image.width * factor)), max(1, int(image.height * factor))), Image.Resampling.LANCZOS
    )


def flip(image: Image.Image) -> Image.Image:
    return ImageOps.mirror(image)


def caption(image: Image.Image, text: str = "look who this is", bar_fraction: float = 0.12) -> Image.Image:
    """A black caption bar with white text under the picture, as meme and chat tools add."""
    bar = max(12, int(image.height * bar_fraction))
    out = Image.new("RGB", (image.width, image.height + bar), (0, 0, 0))
    out.paste(image, (0, 0))
    ImageDraw.Draw(out).text((8, image.height + bar // 4), text, fill=(255, 255, 255))
    return out


def repaint(image: Image.Image, fraction: float, colour: tuple[int, int, int] = (200, 160, 140)) -> Image.Image:
    """Cover `fraction` of the area with a flat block in the lower middle (a crude stand-in for a repaint)."""
    out = image.copy()
    w, h = out.size
    side = fraction**0.5
    bw, bh = int(w * side), int(h * side)
    x0, y0 = (w - bw) // 2, h - bh - h // 20
    ImageDraw.Draw(out).rectangle((x0, max(0, y0), x0 + bw, max(0, y0) + bh), fill=colour)
    return out


SCREEN_SIZE = (540, 1170)
SCREEN_PHOTO_AT = (20, 220)
SCREEN_PHOTO_WIDTH = 335


def chat_screenshot(image: Image.Image, minute: int = 10, wallpaper: bool = False) -> Image.Image:
    """The picture as a phone screenshot of a chat shows it: header, a text bubble, the photo at 62 % of the
    screen width (top-left at SCREEN_PHOTO_AT) in a bubble with a time stamp, the input bar. `wallpaper`:
    on a gradient with faint line doodles (as Telegram's default) instead of a flat background."""
    w, h = SCREEN_SIZE
    screen = doodle_wallpaper(minute) if wallpaper else Image.new("RGB", (w, h), (235, 238, 242))
    d = ImageDraw.Draw(screen)
    d.rectangle((0, 0, w, 90), fill=(40, 120, 200))
    d.text((80, 35), "Group chat  ·  1,204 members", fill=(255, 255, 255))
    d.rounded_rectangle((20, 120, 360, 190), 16, fill=(255, 255, 255))
    d.text((36, 145), "look who this is lol", fill=(20, 20, 20))
    pw = SCREEN_PHOTO_WIDTH
    ph = int(image.height * pw / image.width)
    x, top = SCREEN_PHOTO_AT
    d.rounded_rectangle((x - 6, top - 6, x + pw + 6, top + ph + 40), 14, fill=(255, 255, 255))
    screen.paste(image.convert("RGB").resize((pw, ph), Image.Resampling.BILINEAR), (x, top))
    d.text((x + 6, top + ph + 12), f"12:{minute % 60:02d}  ✓✓", fill=(120, 120, 120))
    d.rounded_rectangle((20, h - 80, w - 20, h - 30), 20, fill=(255, 255, 255))
    return screen


def doodle_wallpaper(seed: int, contrast: int = 15) -> Image.Image:
    """A chat background: a soft gradient with hundreds of small circles and strokes a little darker."""
    rng = np.random.default_rng(seed)
    w, h = SCREEN_SIZE
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([150 + 40 * yy / h, 190 + 20 * xx / w, 130 + 30 * (xx + yy) / (w + h)], -1).astype(np.uint8)
    screen = Image.fromarray(base)
    d = ImageDraw.Draw(screen)
    for _ in range(400):
        x, y, size = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(8, 22))
        colour = tuple(int(c) - contrast for c in base[y, x])
        if rng.random() < 0.5:
            d.ellipse((x, y, x + size, y + size), outline=colour, width=2)
        else:
            d.line((x, y, x + size, y + int(rng.integers(-size, size))), fill=colour, width=2)
    return screen


def crop(image: Image.Image, keep: float = 0.9) -> Image.Image:
    w, h = image.size
    cw, ch = int(w * keep), int(h * keep)
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return image.crop((x0, y0, x0 + cw, y0 + ch))


EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "re-encoded (JPEG q40)": reencode,
    "resized to 50 %": resize,
    "flipped": flip,
    "captioned": caption,
    "cropped to 90 %": crop,
    "repainted 10 %": lambda im: repaint(im, 0.10),
    "repainted 30 %": lambda im: repaint(im, 0.30),
}


# --- video -----------------------------------------------------------------------------------------------


def pattern_video(seed: int, seconds: float = 2.0, fps: int = 10, size: tuple[int, int] = (192, 144)) -> bytes:
    """An MP4 of a generated picture drifting slowly: a stand-in for a clip, with no people in it."""
    base = np.asarray(generated(seed, (size[0] * 2, size[1] * 2)))
    return _encode_frames(
        (base[i : i + size[1], i : i + size[0]] for i in range(int(seconds * fps))), fps, size, bit_rate=800_000
    )


def reencode_video(data: bytes, scale: float = 0.75, bit_rate: int = 200_000) -> bytes:
    """Decode and encode again smaller and at a lower bit rate, as a re-upload would."""
    frames: list[np.ndarray] = []
    fps = 10
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        if stream.average_rate:
            fps = round(float(stream.average_rate))
        for frame in container.decode(stream):
            img = Image.fromarray(frame.to_ndarray(format="rgb24"))
            w, h = int(img.width * scale) // 2 * 2, int(img.height * scale) // 2 * 2
            frames.append(np.asarray(img.resize((w, h), Image.Resampling.BILINEAR)))
    return _encode_frames(iter(frames), fps, (frames[0].shape[1], frames[0].shape[0]), bit_rate=bit_rate)


def _encode_frames(frames: object, fps: int, size: tuple[int, int], bit_rate: int) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = bit_rate
        for array in frames:  # type: ignore[attr-defined]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()
