"""What a video file holds: size, frame rate, frame count, duration, audio."""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from moviepy.video.io.ffmpeg_reader import ffmpeg_parse_infos

from ..errors import InputError

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".gif", ".ts", ".mts", ".y4m"}

# Frames larger than this would need gigabytes per frame: refuse them rather than run out of memory.
MAX_PIXELS = 16384 * 16384


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: Fraction
    n_frames: int
    duration: float
    has_audio: bool


def exact_rate(fps: float) -> Fraction:
    """ffmpeg prints 23.98 for 24000/1001: recover the NTSC fractions, keep the rest as given."""
    for base in (24, 30, 48, 60, 120, 240):
        ntsc = Fraction(base * 1000, 1001)
        if abs(fps - float(ntsc)) < 0.006:
            return ntsc
    return Fraction(fps).limit_denominator(1001)


# ffmpeg's closing lines say only that it stopped, never why: skip them when explaining.
_GENERIC_LINES = ("error opening input", "at least one output file", "error passing `ffmpeg -i`")


def _unreadable_reason(text: str) -> str:
    """One short phrase for why ffmpeg (through moviepy) could not describe a file."""
    size = re.search(r"Picture size (\d+)x(\d+) is invalid", text)
    if size:
        return f"declared frame size {size[1]}x{size[2]} is too large or invalid"
    if "Invalid data" in text or "could not find codec" in text.lower() or "moov atom not found" in text:
        return "not a video ffmpeg can read (corrupt, truncated or another kind of file)"
    if "Input #" in text and not re.search(r"Stream #\S+.*: Video:", text):
        return "has no video stream"
    if re.search(r"Stream #\S+.*: Video:", text) and "Duration: N/A" in text:
        return "no video frames found (ffmpeg reports no duration)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    useful = [line for line in lines if not line.lower().startswith(_GENERIC_LINES)]
    return (useful or lines or ["unreadable"])[-1]


def probe(path: Path) -> VideoInfo:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a video")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty")
    try:
        infos = ffmpeg_parse_infos(str(path))
    except (IOError, OSError, KeyError, ValueError, IndexError) as exc:
        raise InputError(f"{path}: {_unreadable_reason(str(exc))}") from None
    if not infos.get("video_found"):
        kind = "has only audio" if infos.get("audio_found") else "has no video stream"
        raise InputError(f"{path} {kind}: nothing to interpolate")
    width, height = infos["video_size"]
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise InputError(f"{path}: frame size {width}x{height} is not supported (at most {MAX_PIXELS:,} pixels)")
    fps = infos.get("video_fps") or 0
    if not fps or fps <= 0:
        raise InputError(f"{path}: no frame rate found")
    return VideoInfo(
        path=path,
        width=int(width),
        height=int(height),
        fps=exact_rate(float(fps)),
        n_frames=int(infos.get("video_n_frames") or 0),
        duration=float(infos.get("duration") or 0.0),
        has_audio=bool(infos.get("audio_found")),
    )
