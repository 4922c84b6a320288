"""PDQ agrees with ThreatExchange's reference hasher on its published vectors (tests/data/conformance, BSD)."""

from __future__ import annotations

import csv
import io

import pytest
from PIL import Image

from reclaim import synthetic
from reclaim.settings import Limits
from reclaim.signals.hashing import hash_media
from reclaim.signals.hexhash import hamming_hex
from tests.conftest import CONFORMANCE

PDQ = CONFORMANCE / "pdq"
REFERENCE = list(csv.DictReader((PDQ / "expected-dih.csv").open()))
# ThreatExchange's criterion for a correct port: within 10 bits of the reference at quality >= 80.
PORT_TOLERANCE = 10


def pdq_of(path: str) -> tuple[str, int]:
    hashed = hash_media((PDQ / path).read_bytes(), Limits())
    pdq = hashed.signals["pdq"]
    assert pdq.quality is not None
    return pdq.value, pdq.quality


@pytest.mark.parametrize("row", REFERENCE, ids=[r["path"].rsplit("/", 1)[-1] for r in REFERENCE])
def test_dihedral_images_hash_within_ten_bits_of_reference(row: dict[str, str]) -> None:
    value, quality = pdq_of(row["path"])
    assert quality >= 80
    assert hamming_hex(value, row["pdq_hex"]) <= PORT_TOLERANCE


def test_dihedral_variants_of_the_original_cover_every_orientation() -> None:
    """The seven query variants of the original are the other seven reference images' hashes."""
    hashed = hash_media((PDQ / REFERENCE[0]["path"]).read_bytes(), Limits())
    variants = hashed.query_variants["pdq"]
    for row in REFERENCE[1:]:
        assert min(hamming_hex(v, row["pdq_hex"]) for v in variants) <= PORT_TOLERANCE, row["path"]


def test_exif_rotated_photos_are_decoded_upright() -> None:
    """The exif-rotn set: orientations 6 and 8 are stored landscape and shown portrait once applied.

    (They are separate shots of one desk, 114-136 bits apart, so their hashes are not expected to agree;
    the synthetic test below checks that orientation handling itself preserves the hash.)
    """
    for n, portrait in ((1, False), (3, False), (6, True), (8, True)):
        hashed = hash_media((PDQ / f"reg-test-input/exif-rotn/exif-rotn-{n}.jpg").read_bytes(), Limits())
        assert hashed.width is not None and hashed.height is not None
        assert (hashed.height > hashed.width) is portrait, n


# EXIF orientation -> the transpose that, applied to the upright picture, gives the stored pixels.
STORED_AS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", sorted(STORED_AS))
def test_every_exif_orientation_hashes_like_the_upright_photo(orientation: int) -> None:
    upright = synthetic.sample("astronaut")
    stored = upright.transpose(STORED_AS[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=95, exif=exif)
    expected = hash_media(synthetic.jpeg_bytes(upright, 95), Limits()).signals["pdq"].value
    hashed = hash_media(buf.getvalue(), Limits())
    assert (hashed.width, hashed.height) == upright.size
    assert hamming_hex(hashed.signals["pdq"].value, expected) <= 6


@pytest.mark.parametrize(
    "edit", sorted(p.name for p in (PDQ / "bridge-mods").glob("*.jpg") if p.name != "aaa-orig.jpg")
)
def test_bridge_edits_match_the_original(edit: str) -> None:
    original, _ = pdq_of("bridge-mods/aaa-orig.jpg")
    value, _ = pdq_of(f"bridge-mods/{edit}")
    assert hamming_hex(original, value) <= 31


def test_unrelated_photos_do_not_match() -> None:
    bridge, _ = pdq_of("bridge-mods/aaa-orig.jpg")
    other, _ = pdq_of("reg-test-input/pen-and-coaster.png")
    assert hamming_hex(bridge, other) > 31
