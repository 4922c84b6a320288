"""The hashing stage: untrusted bytes in, `HashedMedia` out. Pure: no store, no global state."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace

from reclaim.errors import UnsupportedMedia
from reclaim.media.image import decode_image
from reclaim.media.regions import Box, embedded_pictures, picture_core
from reclaim.media.sniff import kind_from_bytes
from reclaim.media.video import decode_video
from reclaim.model import HashedMedia, MediaType, SignalValue
from reclaim.settings import Limits, SignalOptions
from reclaim.signals.base import Content
from reclaim.signals.cryptographic import ExactDigest
from reclaim.signals.registry import SIGNAL_TYPES


def media_type_of(data: bytes, claimed: MediaType | None) -> MediaType:
    """Trust the bytes over the name; fall back to the name for containers the sniffer does not know."""
    sniffed = kind_from_bytes(data[:16])
    if sniffed is not None:
        return sniffed
    if claimed is None:
        raise UnsupportedMedia("not a recognised image or video format")
    return claimed


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hash_media(
    data: bytes, limits: Limits, claimed: MediaType | None = None, options: SignalOptions | None = None
) -> HashedMedia:
    """Decode within `limits` and compute every signal that applies. Raises UnsupportedMedia for bad input.

    `options` picks the optional signals (SSCD model or off; keypoints for enrolment); default: SSCD distilled.
    """
    options = options or SignalOptions()
    if not data:
        raise UnsupportedMedia("the file is empty (0 bytes)")
    media_type = media_type_of(data, claimed)
    if media_type == "image":
        image = decode_image(data, limits)
        content = Content(data=data, media_type="image", image=image, options=options)
        width, height, duration = image.width, image.height, None
    else:
        video = decode_video(data, limits)
        content = Content(data=data, media_type="video", video=video, options=options)
        width, height, duration = video.width, video.height, video.duration_s
    signals: dict[str, SignalValue] = {}
    variants: dict[str, tuple[str, ...]] = {}
    for signal_type in SIGNAL_TYPES:
        if media_type not in signal_type.media_types:
            continue
        computed = signal_type.compute(content)
        if computed is not None:
            signals[signal_type.name] = computed.value
            if computed.query_variants:
                variants[signal_type.name] = computed.query_variants
    return HashedMedia(
        sha256=signals["sha256"].value,
        md5=signals["md5"].value,
        media_type=media_type,
        size_bytes=len(data),
        width=width,
        height=height,
        duration_s=duration,
        signals=signals,
        query_variants=variants,
    )


def hash_for_enrolment(
    data: bytes,
    limits: Limits,
    claimed: MediaType | None = None,
    options: SignalOptions | None = None,
    whole: bool = False,
) -> tuple[HashedMedia, Box | None]:
    """Signals to enrol, and the box of the picture they describe when the image is a screenshot of one.

    A victim may only have her photo as a screenshot of the chat it was posted in. Every screenshot of that
    app shares its header, bubbles and input bar, so whole-screenshot signals would match them all (PDQ
    distance 14 between two unrelated photos in one frame, bench/matching_quality.py). A screenshot framed
    by interface above and below enrols the picture it shows (media/regions.picture_core); the file's own
    digests are kept, so an exact re-share still matches. `whole`: enrol the image as it is.
    """
    if whole or media_type_of(data, claimed) != "image":
        return hash_media(data, limits, claimed, options), None
    draft = decode_image(data, limits)  # the PDQ draft: enough to see the screen's layout
    boxes = embedded_pictures(draft.image, limit=1, framed=True)
    if not boxes:
        return hash_media(data, limits, claimed, options), None
    image = decode_image(data, limits, fast=False).image  # the picture at full resolution
    f = image.width / draft.image.width
    bx, by, bw, bh = boxes[0]
    x, y, w, h = box = picture_core(image, (round(bx * f), round(by * f), round(bw * f), round(bh * f)))
    buf = io.BytesIO()
    image.crop((x, y, x + w, y + h)).save(buf, "PNG")
    # A lossless crop of a JPEG can be larger than the file itself, which already passed the limits.
    crop_limits = replace(limits, max_bytes=max(limits.max_bytes, buf.tell()))
    shown = hash_media(buf.getvalue(), crop_limits, "image", options)
    content = Content(data=data, media_type="image")
    digests = {t.name: t.compute(content).value for t in SIGNAL_TYPES if isinstance(t, ExactDigest)}
    signals = {**shown.signals, **digests}
    return (
        replace(
            shown,
            sha256=signals["sha256"].value,
            md5=signals["md5"].value,
            size_bytes=len(data),
            width=image.width,
            height=image.height,
            signals=signals,
            query_variants={},
        ),
        box,
    )
