"""When each frame of a video is really shown, in seconds from the first frame.

A constant-rate file needs nothing but its rate. A variable-rate one (a phone recording, a screen
capture, an AVI whose dropped frames are empty packets) must be followed from its timestamps, not
from an assumed rate. Two ffmpeg passes, both streaming text: the packet list (`-c copy`, no
decoding, cheap) tells whether the rate is constant; only when it is not are the decoded frames'
timestamps listed (`-fps_mode passthrough`, the same frames the reader yields), and a file whose
decoded frames turn out evenly spaced is constant-rate after all.
"""
from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..core.errors import InputError
from .ffmpeg import ffmpeg_exe, last_line, quote_path


@dataclass(frozen=True)
class FrameTimes:
    """`times[i]` is when frame i is shown (seconds, the first at 0); `end` when the last one stops."""

    times: list[Fraction]
    end: Fraction


def _framecrc(path: Path, decode: bool) -> tuple[Fraction, list[tuple[int, int, int]]]:
    """The stream's time base and (pts, duration, size) per packet (`decode=False`) or frame."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", quote_path(path), "-map", "0:v:0", "-an", "-sn"]
    if decode:
        # A tiny picture keeps the checksums cheap; the timestamps are those of the decoded frames,
        # in the file's own time base: the encoder's default, 1/(the rate ffmpeg guesses), rounds
        # them (clips joined at 24, 30 and 15 fps: every time to a 24th, the output 2 frames long).
        cmd += ["-fps_mode", "passthrough", "-vf", "scale=8:8", "-pix_fmt", "gray", "-enc_time_base", "demux"]
    else:
        cmd += ["-c", "copy"]
    cmd += ["-f", "framecrc", "-"]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=log)
        log.seek(0)
        stderr = log.read().decode(errors="replace")
    if proc.returncode != 0:
        raise InputError(f"{path}: cannot read the frame timestamps ({last_line(stderr)})")
    time_base = Fraction(1)
    rows = []
    for line in proc.stdout.decode(errors="replace").splitlines():
        if line.startswith("#tb 0:"):
            time_base = Fraction(line.split(":", 1)[1].strip())
        elif line.startswith("0,"):
            fields = [f.strip() for f in line.split(",")]
            rows.append((int(fields[2]), int(fields[3]), int(fields[4])))
    return time_base, rows


def _is_constant(pts: list[int], sizes: list[int]) -> bool:
    if any(size == 0 for size in sizes):  # empty packets: frames the capture dropped
        return False
    steps = [b - a for a, b in zip(pts, pts[1:])]
    if not steps:
        return True
    usual = sorted(steps)[len(steps) // 2]
    # ±1 tick of rounding (1001/24000 s in a 1/12800 base), but only where a tick is a small part
    # of a frame: in a 1/30 base a 2-tick step beside 1-tick ones is a real change of rate.
    tolerance = 1 if usual >= 20 else 0
    return all(abs(step - usual) <= tolerance for step in steps)


def read_frame_times(path: Path) -> FrameTimes | None:
    """The real timestamps of a variable-rate video, or None when its rate is constant."""
    path = Path(path)
    _, packets = _framecrc(path, decode=False)
    packets.sort()
    if _is_constant([p for p, _, _ in packets], [s for _, _, s in packets]):
        return None
    time_base, frames = _framecrc(path, decode=True)
    if not frames:
        return None
    pts = [p for p, _, _ in frames]
    # Packets without timestamps (B-frames in an AVI, common with Xvid) fail the packet check, but
    # the decoded frames tell the truth: evenly spaced frames are a constant rate.
    if _is_constant(sorted(pts), [size for _, _, size in frames]):
        return None
    first = pts[0]
    times = [Fraction(p - first) * time_base for p in pts]
    steps = [b - a for a, b in zip(times, times[1:]) if b > a]
    last_duration = Fraction(frames[-1][1]) * time_base if frames[-1][1] > 0 else (min(steps) if steps else Fraction(1, 25))
    # Frames with equal or decreasing stamps (broken muxers) are nudged forward so time only grows.
    for i in range(1, len(times)):
        if times[i] <= times[i - 1]:
            times[i] = times[i - 1] + Fraction(1, 1000)
    return FrameTimes(times, times[-1] + last_duration)
