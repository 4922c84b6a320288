"""Keypoints and geometric verification: derivatives verify with the right region; unrelated pictures do not."""

from __future__ import annotations

from functools import cache

import pytest
from PIL import Image, ImageOps

from reclaim import synthetic
from reclaim.errors import InvalidSignal
from reclaim.matching.decide import MIN_INLIERS
from reclaim.matching.verify import verify
from reclaim.signals.keypoints import (
    QUERY_KEYPOINTS,
    QUERY_WORK_SIDE,
    REFERENCE_KEYPOINTS,
    KeypointsSignal,
    decode,
    keypoints_of,
    mirrored,
)

KP = KeypointsSignal()


@cache
def reference() -> str:
    value = keypoints_of(synthetic.sample("astronaut"), REFERENCE_KEYPOINTS)
    assert value is not None
    return value


def query(image: Image.Image) -> str:
    value = keypoints_of(image, QUERY_KEYPOINTS, side=QUERY_WORK_SIDE)
    assert value is not None
    return value


def test_value_holds_size_positions_and_descriptors() -> None:
    (w, h), pts, desc = decode(reference())
    assert (w, h) == (512, 512)
    assert 100 <= len(pts) <= REFERENCE_KEYPOINTS and desc.shape == (len(pts), 128)
    assert pts.min() >= 0 and pts[:, 0].max() < w and pts[:, 1].max() < h
    assert KP.validate(reference().upper()) == reference()


def test_a_crop_verifies_and_reports_the_part_of_the_original_it_shows() -> None:
    original = synthetic.sample("astronaut")
    crop = original.crop((100, 50, 400, 350))  # 300 x 300 of 512 x 512
    result = verify(reference(), query(synthetic.resize(crop, 1.5)))
    assert result is not None and result.inliers >= MIN_INLIERS
    x, y, w, h = result.region
    assert abs(x - 100) <= 8 and abs(y - 50) <= 8 and abs(w - 300) <= 12 and abs(h - 300) <= 12


def test_a_repaint_verifies_on_what_survives() -> None:
    result = verify(reference(), query(synthetic.repaint(synthetic.sample("astronaut"), 0.4)))
    assert result is not None and result.inliers >= MIN_INLIERS


def test_mirror_images_verify_through_permuted_descriptors() -> None:
    flipped = query(ImageOps.mirror(synthetic.sample("astronaut")))
    straight = verify(reference(), flipped)
    assert straight is None or straight.inliers < MIN_INLIERS
    result = verify(reference(), mirrored(flipped))
    assert result is not None and result.inliers >= 100


@pytest.mark.parametrize("name", ["coffee", "rocket", "brick", "page"])
def test_unrelated_pictures_do_not_verify(name: str) -> None:
    result = verify(reference(), query(synthetic.sample(name)))
    assert result is None or result.inliers < MIN_INLIERS


def test_enrolled_keypoints_are_spread_so_a_corner_crop_keeps_its_share() -> None:
    # Texture only in the left half: the strongest keypoints all lie there, so without spreading a crop of
    # the right half would keep almost none of them.
    picture = synthetic.sample("astronaut").copy()
    picture.paste(synthetic.generated(7, (256, 512)), (256, 0))
    n = 160
    spread = decode(keypoints_of(picture, n, spread=True) or "")[1]
    strongest = decode(keypoints_of(picture, n) or "")[1]
    assert len(spread) == len(strongest) == n
    right = [int((pts[:, 0] >= 256).sum()) for pts in (spread, strongest)]
    assert right[0] >= 2 * max(1, right[1]) and right[0] >= 20


def test_flat_pictures_have_no_keypoints() -> None:
    assert keypoints_of(synthetic.flat(), REFERENCE_KEYPOINTS) is None


@pytest.mark.parametrize("bad", ["", "00000000" * 2, "00000200" + "00000200" + "ab" * 10, "00000000" * 2 + "0" * 264])
def test_refuses_malformed_values(bad: str) -> None:
    with pytest.raises(InvalidSignal):
        KP.validate(bad)
