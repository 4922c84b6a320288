"""Untrusted images: each bad input gets one clear, typed error; good input decodes upright in RGB."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from reclaim import synthetic
from reclaim.errors import MediaTooLarge, UnsupportedMedia
from reclaim.media.image import decode_image
from reclaim.settings import Limits


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: a decompression bomb's calling card."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_decodes_rgb_with_original_size() -> None:
    img = synthetic.generated(1, (640, 480))
    decoded = decode_image(synthetic.jpeg_bytes(img), Limits())
    assert decoded.image.mode == "RGB"
    assert (decoded.width, decoded.height) == (640, 480)
    assert decoded.format == "JPEG"


def test_large_jpeg_is_draft_decoded_but_reports_full_size() -> None:
    img = synthetic.generated(2, (2400, 1600))
    decoded = decode_image(synthetic.jpeg_bytes(img), Limits())
    assert (decoded.width, decoded.height) == (2400, 1600)
    assert decoded.scale == 4
    assert decoded.image.size == (600, 400)
    assert min(decoded.image.size) >= 256


def test_transparent_png_is_flattened_on_white() -> None:
    img = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    decoded = decode_image(buf.getvalue(), Limits())
    assert decoded.image.getpixel((10, 10)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"", UnsupportedMedia, "empty"),
        (b"hello, I am text\n", UnsupportedMedia, "text"),
        (b"\x80\x81\xfe\xff" * 100, UnsupportedMedia, "binary"),
        (synthetic.jpeg_bytes(synthetic.generated(3))[:2000], UnsupportedMedia, "truncated"),
        (png_claiming_size(100_000, 100_000), MediaTooLarge, "decompression bomb"),
    ],
    ids=["empty", "text", "binary-junk", "truncated-jpeg", "bomb"],
)
def test_bad_images_raise_clear_errors(data: bytes, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        decode_image(data, Limits())


def test_byte_and_pixel_limits_are_configurable() -> None:
    data = synthetic.jpeg_bytes(synthetic.generated(4, (400, 300)))
    with pytest.raises(MediaTooLarge, match="bytes"):
        decode_image(data, Limits(max_bytes=len(data) - 1))
    with pytest.raises(MediaTooLarge, match="pixels"):
        decode_image(data, Limits(max_pixels=400 * 300 - 1))
    assert decode_image(data, Limits(max_pixels=400 * 300)).width == 400
