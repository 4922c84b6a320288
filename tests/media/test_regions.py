"""Pictures inside a picture: the photo in a screenshot of a chat is found, photos themselves are left whole."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from reclaim import synthetic
from reclaim.matching.decide import SSCD_PROPOSE
from reclaim.media.regions import embedded_pictures, picture_core
from reclaim.settings import Limits, SignalOptions
from reclaim.signals.hashing import hash_media
from reclaim.signals.sscd import decode


def _screenshot_jpeg(picture: Image.Image) -> Image.Image:
    return Image.open(io.BytesIO(synthetic.jpeg_bytes(synthetic.chat_screenshot(picture), 80))).convert("RGB")


@pytest.mark.parametrize("name", ["astronaut", "page", "coins"])
def test_the_photo_in_a_chat_screenshot_is_boxed(name: str) -> None:
    picture = synthetic.sample(name)
    (box,) = embedded_pictures(_screenshot_jpeg(picture), limit=1)
    x, y, w, h = box
    px, py = synthetic.SCREEN_PHOTO_AT
    pw = synthetic.SCREEN_PHOTO_WIDTH
    ph = picture.height * pw // picture.width
    # The box holds the photo (its bubble and time stamp may add a margin), and little else.
    assert x <= px + 4 and y <= py + 4 and x + w >= px + pw - 4 and y + h >= py + ph - 4
    assert w * h <= 1.5 * pw * ph


@pytest.mark.parametrize("contrast", [15, 40])
def test_the_photo_on_a_doodle_wallpaper_is_boxed(contrast: int) -> None:
    # Telegram's default chat background is faint line art: no row of the screen is flat.
    picture = synthetic.sample("coffee")
    screen = synthetic.chat_screenshot(picture, wallpaper=True)
    wall = synthetic.doodle_wallpaper(10, contrast)
    screen.paste(wall.crop((0, 600, 540, 1080)), (0, 600))  # the lower half at another contrast
    shot = Image.open(io.BytesIO(synthetic.jpeg_bytes(screen, 80))).convert("RGB")
    px, py = synthetic.SCREEN_PHOTO_AT
    pw = synthetic.SCREEN_PHOTO_WIDTH
    ph = picture.height * pw // picture.width
    for framed in (False, True):
        (box,) = embedded_pictures(shot, limit=1, framed=framed)
        x, y, w, h = box
        assert x <= px + 4 and y <= py + 4 and x + w >= px + pw - 4 and y + h >= py + ph - 4
        assert w * h <= 1.8 * pw * ph


def test_a_bare_wallpaper_or_a_photo_filling_the_screen_is_no_framed_picture() -> None:
    # (A bare wallpaper may still give a loose box: that costs one more SSCD vector, never a match.)
    for seed in range(5):
        assert embedded_pictures(synthetic.doodle_wallpaper(seed), framed=True) == []
    # A photo over about 80 % of the screen is the screen's content, not a picture shown in it (the first
    # glance at a thumbnail already turns it away).
    full = synthetic.doodle_wallpaper(3)
    full.paste(synthetic.sample("gravel").resize((530, 950)), (5, 110))
    assert embedded_pictures(full) == []


@pytest.mark.parametrize("name", ["astronaut", "coffee", "gravel"])
def test_the_core_of_a_box_is_the_photo_without_bubble_or_time_stamp(name: str) -> None:
    picture = synthetic.sample(name)
    shot = _screenshot_jpeg(picture)
    (box,) = embedded_pictures(shot, limit=1)
    x, y, w, h = picture_core(shot, box)
    px, py = synthetic.SCREEN_PHOTO_AT
    pw = synthetic.SCREEN_PHOTO_WIDTH
    ph = picture.height * pw // picture.width
    # Inside the photo give or take JPEG's blur of its edge (the bubble's outline 6 px out and the time stamp
    # 12 px below are left out), and most of it (a photo's own flat edge rows may go too).
    assert px - 3 <= x and py - 3 <= y and x + w <= px + pw + 3 and y + h <= py + ph + 3
    assert w * h >= 0.6 * pw * ph


def test_dark_mode_and_two_photos_are_boxed_too() -> None:
    screen = Image.new("RGB", (720, 1560), (18, 18, 20))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, 720, 120), fill=(33, 33, 36))
    draw.rounded_rectangle((24, 160, 400, 230), 18, fill=(44, 44, 48))
    draw.text((40, 185), "who is this", fill=(220, 220, 220))
    screen.paste(synthetic.sample("coffee").resize((480, 320)), (200, 300))
    screen.paste(synthetic.sample("chelsea").resize((400, 266)), (30, 800))
    boxes = embedded_pictures(Image.open(io.BytesIO(synthetic.jpeg_bytes(screen, 75))))
    expected = [(200, 300, 480, 320), (30, 800, 400, 266)]
    assert len(boxes) == 2
    for (x, y, w, h), (ex, ey, ew, eh) in zip(boxes, expected, strict=True):
        # Each box holds its photo, with at most a thin margin (the coarse pass works at a third of the size).
        assert x <= ex + 4 and y <= ey + 4 and x + w >= ex + ew - 4 and y + h >= ey + eh - 4
        assert w * h <= 1.25 * ew * eh


@pytest.mark.parametrize(
    "image",
    [synthetic.sample("astronaut"), synthetic.sample("chelsea"), synthetic.flat(), Image.new("RGB", (2, 900))],
    ids=["portrait", "cat", "flat", "sliver"],
)
def test_photos_and_flat_images_have_no_embedded_picture(image: Image.Image) -> None:
    assert embedded_pictures(image) == []


def test_a_screenshot_carries_an_sscd_vector_of_the_photo_it_shows() -> None:
    picture = synthetic.sample("rocket")
    options, limits = SignalOptions(), Limits()
    original = decode(hash_media(synthetic.jpeg_bytes(picture), limits, None, options).signals["sscd"].value)[1]
    shot = synthetic.jpeg_bytes(synthetic.chat_screenshot(picture), 80)
    vectors = decode(hash_media(shot, limits, None, options).signals["sscd"].value)[1]
    assert len(original) == 1 and len(vectors) == 2
    whole, photo = (float(v @ original[0]) for v in vectors)
    # The whole screenshot is mostly interface, under the proposal cosine (1 - SSCD_PROPOSE): only the
    # boxed photo (the original resized and re-encoded, with its bubble's margin) makes it a candidate.
    assert whole < 1 - SSCD_PROPOSE < 0.5 < photo
    assert np.isclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3).all()


def test_a_failed_sharper_decode_falls_back_to_the_draft(monkeypatch: pytest.MonkeyPatch) -> None:
    from reclaim.errors import UnsupportedMedia
    from reclaim.signals import sscd

    def broken(*_: object, **__: object) -> None:
        raise UnsupportedMedia("the image is corrupt or truncated")

    shot = synthetic.jpeg_bytes(synthetic.chat_screenshot(synthetic.sample("rocket")), 80)
    sharp = decode(hash_media(shot, Limits(), None, SignalOptions()).signals["sscd"].value)[1]
    monkeypatch.setattr(sscd, "decode_image", broken)
    hashed = hash_media(shot, Limits(), None, SignalOptions())
    # The item keeps both vectors (the photo's from the reduced draft, close to the sharp one); nothing is lost.
    draft = decode(hashed.signals["sscd"].value)[1]
    assert len(draft) == 2 and float(draft[1] @ sharp[1]) > 0.9
    assert {"pdq", "md5", "sha256"} <= set(hashed.signals)
