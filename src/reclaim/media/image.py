"""Image decoding with limits, EXIF orientation applied, and JPEG DCT-domain downscaling for speed.

PDQ reduces every image to 64x64 luminance, so decoding a 12 MP photo at full size is wasted work. JPEG
draft mode lets libjpeg decode at 1/2, 1/4 or 1/8 scale inside the DCT. We use it while the decoded image
keeps at least `DRAFT_MIN_SIDE` pixels on its short side, and record the scale so that PDQ can apply the
reference filter for the original size (signals/pdq_numpy.py); hashes stay within 2 bits of a full decode
(tests/signals/test_pdq_numpy.py, bench/hashing.py).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from reclaim.errors import MediaTooLarge, UnsupportedMedia
from reclaim.settings import Limits

# Short side kept by draft decoding; below this, DCT scaling starts to move PDQ bits.
DRAFT_MIN_SIDE = 256


@dataclass(frozen=True, slots=True)
class DecodedImage:
    image: Image.Image  # RGB, orientation applied
    width: int  # original pixel size, orientation applied
    height: int
    format: str
    scale: int = 1  # the image was decoded at 1/scale of its original size (JPEG draft)


def decode_image(data: bytes, limits: Limits, *, fast: bool = True, draft_pixels: int | None = None) -> DecodedImage:
    """Decode untrusted bytes into an RGB image, refusing anything over the limits.

    JPEGs are draft-decoded (`fast`) so the short side stays >= DRAFT_MIN_SIDE (what PDQ needs), or, with
    `draft_pixels`, so at least that many pixels remain (what face detection needs).
    """
    if not data:
        raise UnsupportedMedia("the file is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise MediaTooLarge(f"the file is {len(data):,} bytes, over the limit of {limits.max_bytes:,} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > limits.max_pixels:
                raise MediaTooLarge(
                    f"the image is {width}x{height} pixels, over the limit of {limits.max_pixels:,} pixels"
                    " (possible decompression bomb)"
                )
            fmt = img.format or "unknown"
            scale = 1
            if fast and fmt == "JPEG":
                if draft_pixels is not None:
                    wanted = next((s for s in (8, 4, 2) if width * height / (s * s) >= draft_pixels), 1)
                else:
                    wanted = next((s for s in (8, 4, 2) if min(width, height) // s >= DRAFT_MIN_SIDE), 1)
                if wanted > 1:
                    img.draft("RGB", (-(-width // wanted), -(-height // wanted)))
                    scale = next(s for s in (8, 4, 2, 1) if img.size == (-(-width // s), -(-height // s)))
            img.load()
            oriented = ImageOps.exif_transpose(img)
            rgb = _to_rgb(oriented)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaTooLarge(f"the image is too large to decode safely ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedMedia(f"not a recognised image format ({_describe(data)})") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnsupportedMedia(f"the image is corrupt or truncated ({exc})") from exc
    turned = oriented.size == (img.size[1], img.size[0]) and img.size[0] != img.size[1]
    return DecodedImage(
        image=rgb, width=height if turned else width, height=width if turned else height, format=fmt, scale=scale
    )


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _describe(data: bytes) -> str:
    """A short, content-free description of what the bytes look like, for error messages."""
    head = data[:512]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return f"{len(data):,} bytes of unrecognised binary data"
    return f"{len(data):,} bytes of text"
