"""What a video file holds: size, frame rate, frame count, duration, audio."""
from __future__ import annotations

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
        text = str(exc)
        reason = "not a video ffmpeg can read" if "Invalid data" in text or "could not find" in text.lower() else text.splitlines()[-1] if text else "unreadable"
        raise InputError(f"{path}: {reason}") from None
    if not infos.get("video_found"):
        kind = "has only audio" if infos.get("audio_found") else "has no video stream"
        raise InputError(f"{path} {kind}: nothing to interpolate")
    width, height = infos["video_size"]
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise InputError(f"{path}: frame size {width}x{height} is not supported")
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
