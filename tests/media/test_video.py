"""Untrusted videos: limits are checked before decoding, corrupt files get a clear error."""

from __future__ import annotations

import pytest

from reclaim import synthetic
from reclaim.errors import MediaTooLarge, UnsupportedMedia
from reclaim.media.video import decode_video
from reclaim.settings import Limits

CLIP = synthetic.pattern_video(seed=1, seconds=2.0, fps=10)


def test_reads_size_and_duration_and_streams_frames() -> None:
    video = decode_video(CLIP, Limits())
    assert (video.width, video.height) == (192, 144)
    assert video.duration_s == pytest.approx(2.0, abs=0.15)
    frames = list(video.frames())
    assert len(frames) == 20
    assert frames[0].rgb.shape == (144, 192, 3)
    assert [f.index for f in frames] == list(range(20))
    assert frames[-1].timestamp == pytest.approx(1.9, abs=0.05)


def test_sampling_one_frame_per_second() -> None:
    frames = list(decode_video(CLIP, Limits()).frames(seconds_per_frame=1.0))
    assert [round(f.timestamp) for f in frames] == [0, 1]


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        (Limits(max_video_seconds=1.0), "seconds|lasts"),
        (Limits(max_pixels=100 * 100), "pixels"),
        (Limits(max_bytes=100), "bytes"),
    ],
)
def test_limits_refuse_before_decoding(limits: Limits, words: str) -> None:
    with pytest.raises(MediaTooLarge, match=words):
        decode_video(CLIP, limits)


def test_frame_limit_applies_to_declared_and_decoded_frames() -> None:
    with pytest.raises(MediaTooLarge, match="20 frames"):
        decode_video(CLIP, Limits(max_video_frames=5))
    # A container may declare no frame count; decoding stops at the limit all the same.
    video = decode_video(CLIP, Limits())
    capped = type(video)(video.data, video.width, video.height, video.duration_s, Limits(max_video_frames=5))
    with pytest.raises(MediaTooLarge, match="more than 5 frames"):
        list(capped.frames())


@pytest.mark.parametrize(
    "data", [b"", CLIP[:200], b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500], ids=["empty", "cut", "header-only"]
)
def test_corrupt_videos_raise_unsupported_media(data: bytes) -> None:
    with pytest.raises(UnsupportedMedia):
        video = decode_video(data, Limits())
        if not list(video.frames()):
            raise UnsupportedMedia("no frames")
