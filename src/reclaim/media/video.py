"""Video decoding with limits, streaming frames from memory (the bytes never touch the disk).

Frames are decoded one at a time and handed to the caller; nothing holds a whole video's frames.

Colour conversion uses swscale's accurate rounding: FFmpeg's default fast x86 YUV->RGB path moves PDQ bits on
dark and flat frames (up to 76 bits on the reference `doorknob` sample), while accurate rounding stays within
a few bits of the published vPDQ reference output. Timestamps are frame number / average frame rate, as the
reference tool prints them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np

from reclaim.errors import MediaTooLarge, UnsupportedMedia
from reclaim.settings import Limits


@dataclass(frozen=True, slots=True)
class VideoFrame:
    index: int
    timestamp: float
    rgb: np.ndarray  # height x width x 3, uint8


@dataclass(frozen=True, slots=True)
class DecodedVideo:
    """A video checked against the limits; `frames()` decodes it again each time it is iterated."""

    data: bytes
    width: int
    height: int
    duration_s: float | None
    limits: Limits

    def frames(self, seconds_per_frame: float = 0.0) -> Iterator[VideoFrame]:
        """Every frame (or every frame number divisible by `seconds_per_frame` x fps), with its time in seconds."""
        try:
            with av.open(io.BytesIO(self.data), mode="r") as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                rate = stream.average_rate or stream.guessed_rate
                fps = float(rate) if rate else 0.0
                every = max(1, int(seconds_per_frame * fps)) if fps else 1
                for index, frame in enumerate(container.decode(stream)):
                    if index >= self.limits.max_video_frames:
                        raise MediaTooLarge(
                            f"the video has more than {self.limits.max_video_frames:,} frames (the limit)"
                        )
                    ts = index / fps if fps else _seconds(frame.pts or 0, stream.time_base)
                    if ts > self.limits.max_video_seconds:
                        raise MediaTooLarge(
                            f"the video runs past {self.limits.max_video_seconds:,.0f} seconds (the limit)"
                        )
                    if index % every:
                        continue
                    rgb = frame.reformat(format="rgb24", interpolation="ACCURATE_RND").to_ndarray()
                    yield VideoFrame(index, ts, rgb)
        except av.error.FFmpegError as exc:
            raise UnsupportedMedia(f"the video is corrupt or truncated ({_ffmpeg_reason(exc)})") from exc


def _seconds(pts: int, time_base: Fraction | Any) -> float:
    return float(pts * time_base) if time_base is not None else 0.0


def _ffmpeg_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or exc.__class__.__name__


def decode_video(data: bytes, limits: Limits) -> DecodedVideo:
    """Open the container and check its declared size and length before any frame is decoded."""
    if not data:
        raise UnsupportedMedia("the file is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise MediaTooLarge(f"the file is {len(data):,} bytes, over the limit of {limits.max_bytes:,} bytes")
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise UnsupportedMedia("the file has no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            duration: float | None = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            declared_frames = int(stream.frames or 0)
    except av.error.FFmpegError as exc:
        raise UnsupportedMedia(f"not a readable video ({_ffmpeg_reason(exc)})") from exc
    if width * height > limits.max_pixels:
        raise MediaTooLarge(f"the video is {width}x{height} pixels, over the limit of {limits.max_pixels:,} pixels")
    if duration is not None and duration > limits.max_video_seconds:
        raise MediaTooLarge(f"the video lasts {duration:,.0f} s, over the limit of {limits.max_video_seconds:,.0f} s")
    if declared_frames > limits.max_video_frames:
        raise MediaTooLarge(f"the video has {declared_frames:,} frames, over the limit of {limits.max_video_frames:,}")
    return DecodedVideo(data=data, width=width, height=height, duration_s=duration, limits=limits)
