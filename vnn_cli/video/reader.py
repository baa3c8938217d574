"""Streaming decode: frames flow from an ffmpeg pipe one at a time, so memory does not grow with
the length of the video. Frames are decoded as stored (`-fps_mode passthrough`): a constant-rate
conversion would invent duplicate frames.

Frames come as 8-bit RGB (uint8) unless asked otherwise: with `depth="source"`, a source of more
than 8 bits per channel (10-bit HEVC, 12-bit ProRes, rgb48 ...) is decoded as 16-bit RGB (uint16,
the full 0..65535 range), so its precision survives to the output. With `alpha=True`, a source
with an alpha plane (ProRes 4444, VP9 with alpha, PNG in MOV...) is decoded as RGBA (H×W×4), as
image sequences are read. With `deinterlace=True`, an interlaced source is deinterlaced with
ffmpeg's bwdif, one frame per frame."""
from __future__ import annotations

import re
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Literal

import numpy as np

from ..core.errors import InputError
from .colour import SRGB, Colour, decode_filter, resolved
from .ffmpeg import ffmpeg_exe, last_line, quote_path
from .probe import VideoInfo, probe


def scaled_size(width: int, height: int, max_width: int | None = None, size: tuple[int, int] | None = None) -> tuple[int, int]:
    if size is not None:
        return size
    if max_width and width > max_width:
        height = max(2, round(height * max_width / width / 2) * 2)
        width = max_width
    return width, height


# What ffmpeg hands over for each depth: its raw pixel format and the numpy type of a sample.
_RAW_FORMATS = {8: ("rgb24", np.dtype(np.uint8)), 16: ("rgb48le", np.dtype("<u2"))}
_RAW_ALPHA = {8: "rgba", 16: "rgba64le"}  # the same with an alpha plane

Depth = Literal[8, 16, "source"]


def decoded_depth(depth: Depth, source_bits: int) -> int:
    """8 or 16: the bits per channel of the frames handed over."""
    if depth == "source":
        return 16 if source_bits > 8 else 8
    if depth not in _RAW_FORMATS:
        raise ValueError(f"depth must be 8, 16 or 'source', not {depth!r}")
    return int(depth)


class VideoReader:
    """Iterate to get H×W×3 RGB frames; `info` tells the source's size, rate, audio, bit depth and picture.

    `depth`: 8 (the default: uint8, what the benchmark, the protocol and training expect), 16
    (uint16) or "source" (uint16 when the source has more than 8 bits per channel, else uint8).
    `alpha`: H×W×4 RGBA frames when the source has an alpha plane (`self.channels` tells).
    `deinterlace`: an interlaced source's fields are made into frames first (bwdif), one a frame."""

    def __init__(self, path: Path, *, start: float | None = None, end: float | None = None,
                 max_width: int | None = None, size: tuple[int, int] | None = None, depth: Depth = 8,
                 alpha: bool = False, deinterlace: bool = False):
        self.path = Path(path)
        self.info: VideoInfo = probe(self.path)
        self.start, self.end = start, end
        self.width, self.height = scaled_size(self.info.width, self.info.height, max_width, size)
        self.depth = decoded_depth(depth, self.info.bits)
        self._raw_format, self.dtype = _RAW_FORMATS[self.depth]
        self.picture = self.info.picture
        self.channels = 4 if alpha and self.picture.alpha else 3
        if self.channels == 4:
            self._raw_format = _RAW_ALPHA[self.depth]
        self.notes: list[str] = []
        # Only a source that says it is interlaced is deinterlaced: a progressive one is left as it is.
        self.deinterlace = deinterlace and self.picture.interlaced
        if self.deinterlace:
            self.notes.append(f"{self.path.name}: deinterlaced ({self.picture.field_order.split()[0]} field first, bwdif)")
        # The colour the frames are decoded with, and the output is encoded and tagged with.
        self.colour: Colour = SRGB
        if self.info.is_yuv:
            self.colour, guess = resolved(self.info.colour, self.info.height)
            if guess:
                self.notes.append(f"{self.path.name}: {guess}")

    @property
    def fps(self) -> Fraction:
        return self.info.fps

    @property
    def n_frames(self) -> int:
        return self.info.n_frames

    @property
    def audio(self) -> Path | None:
        return self.path if self.info.has_audio else None

    def _command(self) -> list[str]:
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error"]
        if self.start:
            cmd += ["-ss", f"{self.start:.6f}"]
        if self.channels == 4 and self.picture.decoder:  # ffmpeg's own VP8/VP9 decoder drops the alpha plane
            cmd += ["-c:v", self.picture.decoder]
        cmd += ["-i", quote_path(self.path)]
        if self.end is not None:
            cmd += ["-t", f"{self.end - (self.start or 0):.6f}"]
        cmd += ["-map", "0:v:0", "-an", "-sn"]
        scale = [f"{self.width}:{self.height}:flags=area"] if (self.width, self.height) != (self.info.width, self.info.height) else []
        matrix = decode_filter(self.colour) if self.info.is_yuv else None
        filters = []
        if self.deinterlace:  # on the stored fields, before any scaling; send_frame: one frame per frame
            parity = "tff" if self.picture.top_first else "bff"
            filters.append(f"bwdif=mode=send_frame:parity={parity}:deint=all")
        if scale or matrix:
            filters.append("scale=" + ":".join(scale + [matrix] if matrix else scale))
        if filters:
            cmd += ["-vf", ",".join(filters)]
        return cmd + ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", self._raw_format, "-"]

    def __iter__(self) -> Iterator[np.ndarray]:
        frame_bytes = self.width * self.height * self.channels * self.dtype.itemsize
        count = 0
        with tempfile.TemporaryFile() as log:
            proc = subprocess.Popen(self._command(), stdout=subprocess.PIPE, stderr=log, bufsize=frame_bytes)
            try:
                while True:
                    buffer = bytearray(frame_bytes)
                    got = proc.stdout.readinto(buffer)
                    while got and got < frame_bytes:  # a pipe may hand over a frame in pieces
                        more = proc.stdout.readinto(memoryview(buffer)[got:])
                        if not more:
                            break
                        got += more
                    if got != frame_bytes:
                        break
                    count += 1
                    # native uint16 (no copy on little-endian machines), as torch and OpenCV need it
                    frame = np.frombuffer(buffer, self.dtype).astype(self.dtype.newbyteorder("="), copy=False)
                    yield frame.reshape(self.height, self.width, self.channels)
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.stdout.close()
                returncode = proc.wait()
            log.seek(0)
            stderr = log.read().decode(errors="replace")
        damage = damage_report(stderr)
        if returncode not in (0, -9) or (returncode == 0 and count == 0):
            if damage:
                raise InputError(f"{self.path}: truncated or corrupt: no frame could be decoded ({damage})")
            reason = last_line(stderr) if stderr.strip() else "no frames decoded"
            raise InputError(f"{self.path}: cannot decode video ({reason})")
        # ffmpeg exits 0 on a truncated file ("partial file", "File ended prematurely"): fewer frames
        # than the container declares, with a complaint, means frames were lost, not a short video.
        whole_file = self.start is None and self.end is None
        if whole_file and stderr.strip() and count < self.info.n_frames:
            raise InputError(f"{self.path}: truncated or corrupt: decoded {count} of {self.info.n_frames} frames "
                             f"({damage or last_line(stderr)})")


_DAMAGE_SIGNS = ("partial file", "ended prematurely", "invalid data", "corrupt", "truncat", "end of file",
                 "error while decoding", "invalid nal", "moov atom not found", "missing picture")


def damage_report(stderr: str) -> str:
    """ffmpeg's first line that tells of a damaged file, without its `[demuxer @ 0x...]` prefix."""
    for line in stderr.splitlines():
        text = re.sub(r"^\[[^\]]*\]\s*", "", line.strip())
        if any(sign in text.lower() for sign in _DAMAGE_SIGNS):
            return text
    return ""
