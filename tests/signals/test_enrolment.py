"""Enrolling a screenshot enrols the picture it shows; every other image is enrolled whole."""

from __future__ import annotations

from reclaim import synthetic
from reclaim.settings import Limits, SignalOptions
from reclaim.signals.hashing import hash_for_enrolment, hash_media
from reclaim.signals.hexhash import hamming_hex
from reclaim.signals.keypoints import decode as decode_keypoints
from reclaim.signals.sscd import decode as decode_sscd

ENROL = SignalOptions(keypoints=True)


def test_a_screenshot_enrols_the_picture_it_shows_and_keeps_its_own_bytes_hashes() -> None:
    photo = synthetic.sample("coffee")
    data = synthetic.png_bytes(synthetic.chat_screenshot(photo))
    hashed, box = hash_for_enrolment(data, Limits(), None, ENROL)
    whole = hash_media(data, Limits(), None, ENROL)
    alone = hash_media(synthetic.png_bytes(photo), Limits(), None, ENROL)
    assert box is not None
    x, y, w, h = box
    px, py = synthetic.SCREEN_PHOTO_AT
    assert abs(x - px) <= 8 and abs(y - py) <= 8 and abs(w - synthetic.SCREEN_PHOTO_WIDTH) <= 16
    # An exact re-share of the screenshot still matches by its bytes.
    assert (hashed.sha256, hashed.md5) == (whole.sha256, whole.md5)
    # PDQ and SSCD now describe the photo: near the photo's own, far from the whole screenshot's.
    assert hamming_hex(hashed.signals["pdq"].value, alone.signals["pdq"].value) <= 31
    assert hamming_hex(whole.signals["pdq"].value, alone.signals["pdq"].value) > 31
    cos = float(decode_sscd(hashed.signals["sscd"].value)[1][0] @ decode_sscd(alone.signals["sscd"].value)[1][0])
    assert cos >= 0.9 and len(decode_sscd(hashed.signals["sscd"].value)[1]) == 1
    # Keypoints are the picture's: its size, none from the chat around it.
    assert decode_keypoints(hashed.signals["keypoints"].value)[0] == (w, h)
    assert hashed.query_variants == {}


def test_photos_and_photos_with_a_flat_background_are_enrolled_whole() -> None:
    for image in (synthetic.sample("astronaut"), synthetic.sample("clock"), synthetic.generated(3)):
        data = synthetic.png_bytes(image)
        hashed, box = hash_for_enrolment(data, Limits(), None, ENROL)
        assert box is None
        assert hashed.signals == hash_media(data, Limits(), None, ENROL).signals
