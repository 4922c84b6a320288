"""The hashing stage: untrusted bytes in, `HashedMedia` out. Pure: no store, no global state."""

from __future__ import annotations

import hashlib

from reclaim.errors import UnsupportedMedia
from reclaim.media.image import decode_image
from reclaim.media.sniff import kind_from_bytes
from reclaim.media.video import decode_video
from reclaim.model import HashedMedia, MediaType, SignalValue
from reclaim.settings import Limits, SignalOptions
from reclaim.signals.base import Content
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
