"""Previews rendered on the server: blurred and greyscale unless the viewer revealed the match with a reason.

The clear image never leaves the server before a reveal: the blur is applied here, to a small copy, and only that
JPEG is sent. Previews exist only for media whose original is held under an evidence hold; everything else is
hash-only and says so.
"""

from __future__ import annotations

import io

from PIL import Image, ImageFilter

from reclaim.media.image import decode_image
from reclaim.settings import Limits

PREVIEW_SIDE = 480
BLUR_FRACTION = 0.06  # blur radius as a share of the preview's longer side: shapes stay, detail does not


def render_preview(data: bytes, limits: Limits, clear: bool) -> bytes:
    """A JPEG preview of untrusted image bytes: blurred and greyscale, or (after a reveal) clear and small."""
    decoded = decode_image(data, limits)
    img = decoded.image.copy()
    img.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.BILINEAR)
    if not clear:
        img = img.convert("L").filter(ImageFilter.GaussianBlur(radius=max(6, int(max(img.size) * BLUR_FRACTION))))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()
