"""What a video file holds: size, frame rate, frame count, duration, audio, bits per channel, colour,
and how its picture is stored (`Picture`: pixel aspect, chroma subsampling, alpha, field order).

Everything comes from one `ffmpeg -i` description, parsed here: moviepy's parser reads the size,
rate and duration; the pixel format (yuv420p10le, rgb48le...) is read from the same text and its
depth looked up in ffmpeg's own table of pixel formats."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from moviepy.video.io.ffmpeg_reader import FFmpegInfosParser

from ..core.errors import InputError
from .colour import Colour, parse_colour, read_hdr_metadata
from .ffmpeg import ffmpeg_exe, quote_path
from .pixfmt import pix_fmt_alpha, pix_fmt_bits, pix_fmt_chroma, pix_fmt_is_rgb
from .streams import SourceStreams, parse_streams

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".gif", ".ts", ".mts", ".y4m"}

# Frames larger than this would need gigabytes per frame: refuse them rather than run out of memory.
MAX_PIXELS = 16384 * 16384


@dataclass(frozen=True)
class Picture:
    """How the picture is stored, beyond its size and colour: what an output must keep, or say it
    could not, to show the same picture."""

    sar: Fraction = Fraction(1)  # sample (pixel) aspect ratio, width over height: 4:3 for DVD-style 16:9 in 4:3 frames
    chroma: str = ""  # YUV chroma subsampling: "420", "422", "444" (also "411", "440", "410"); "" for RGB, gray or unknown
    alpha: bool = False  # the stream has an alpha plane (decoded and carried)
    field_order: str = "progressive"  # ffmpeg's words: "progressive", "top first", "bottom first"; "" unknown
    decoder: str = ""  # the decoder that reads the alpha plane where ffmpeg's own drops it (VP8/VP9 in WebM)

    @property
    def interlaced(self) -> bool:
        return self.field_order.startswith(("top", "bottom"))

    @property
    def top_first(self) -> bool:
        return self.field_order.startswith("top")


SQUARE = Picture()  # RGB images: square pixels, progressive, no subsampling


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: Fraction
    n_frames: int
    duration: float
    has_audio: bool
    pix_fmt: str = ""  # as the decoder outputs it, e.g. yuv420p10le; "" when ffmpeg does not say
    bits: int = 8  # per channel: 10 for yuv420p10le, 16 for rgb48le
    rotation: int = 0  # degrees a player turns the stored picture (phones): width and height are as shown
    colour: Colour = Colour()  # the matrix, primaries, transfer and range it is tagged with
    picture: Picture = SQUARE  # pixel aspect, chroma subsampling, alpha, field order
    streams: SourceStreams | None = None  # every stream, chapters, metadata, timecode (see streams)

    @property
    def is_yuv(self) -> bool:
        """Stored as luma and chroma (nearly all video), where the colour matrix matters; not RGB,
        a palette or gray."""
        return not pix_fmt_is_rgb(self.pix_fmt)


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


def _split_top_level(text: str) -> list[str]:
    """'h264 (High 10) (avc1 / 0x31), yuv420p10le(tv, progressive), 64x48' -> its three fields."""
    fields, depth, current = [], 0, ""
    for char in text:
        depth += (char in "([") - (char in ")]")
        if char == "," and depth == 0:
            fields.append(current.strip())
            current = ""
        else:
            current += char
    return fields + [current.strip()]


def _pix_fmt_field(description: str) -> str:
    """The first video stream's pixel-format field in `ffmpeg -i` text: `yuv420p(tv, bt709, progressive)`."""
    stream = re.search(r"Stream #\S+.*?: Video: (.*)", description)
    fields = _split_top_level(stream[1]) if stream else []
    return fields[1] if len(fields) > 1 else ""


def stream_pix_fmt(description: str) -> str:
    """The pixel format of the first video stream (the one the reader decodes) in `ffmpeg -i` text."""
    name = re.match(r"\w+", _pix_fmt_field(description))
    return name[0] if name and name[0] != "none" else ""


def _video_block(description: str) -> str:
    """The first video stream's lines in `ffmpeg -i` text: its stream line and its metadata."""
    block = re.search(r"Stream #\S+.*?: Video: .*?(?=\n\s*Stream #|\Z)", description, re.S)
    return block[0] if block else ""


def stream_rotation(description: str) -> int:
    """Degrees (0, 90, 180, 270) the first video stream is turned for display, from its display
    matrix ("Display Matrix: rotation of -90.00 degrees"; older ffmpeg: "displaymatrix: ...").
    A bare `rotate` tag is not trusted: ffmpeg turns the decoded frames by the matrix alone."""
    turn = re.search(r"display ?matrix: rotation of (-?[\d.]+)", _video_block(description), re.I)
    return round(float(turn[1]) / 90) * 90 % 360 if turn else 0


def stream_picture(description: str, pix_fmt: str, rotation: int = 0) -> Picture:
    """How the first video stream's picture is stored, from `ffmpeg -i` text: `[SAR 16:15 DAR 4:3]`
    (or the same without brackets), the field order in the pixel-format parentheses
    (`yuv420p(tv, bt709, top first)`), and alpha: the pixel format's, or for VP8/VP9 in WebM,
    where ffmpeg's own decoder reports yuv420p and drops the plane, the `alpha_mode : 1` metadata."""
    block = _video_block(description)
    stream_line = block.split("\n", 1)[0]
    sar = re.search(r"SAR (\d+):(\d+)", stream_line)
    aspect = Fraction(int(sar[1]), int(sar[2])) if sar and int(sar[1]) and int(sar[2]) else Fraction(1)
    if rotation in (90, 270):  # turned upright, a wide pixel stands tall
        aspect = 1 / aspect
    inside = re.search(r"\((.*)\)", _pix_fmt_field(description))
    orders = [p.strip() for p in inside[1].split(",") if re.match(r"\s*(progressive|top|bottom)", p)] if inside else []
    decoder = ""
    codec = re.match(r"Stream #\S+.*?: Video: (\w+)", stream_line)
    if codec and codec[1] in ("vp8", "vp9") and re.search(r"^\s*alpha_mode\s*:\s*1\s*$", block, re.M):
        decoder = "libvpx-vp9" if codec[1] == "vp9" else "libvpx"
    return Picture(sar=aspect, chroma=pix_fmt_chroma(pix_fmt), alpha=pix_fmt_alpha(pix_fmt) or bool(decoder),
                   field_order=orders[0] if orders else "", decoder=decoder)


def _for_moviepy(description: str) -> str:
    """The text moviepy's parser can read: ffmpeg 7+ nests a timecode track's streams under a
    `Stream group #0:0: Track Reference:` line (moviepy stops there: "t.mov: timecode : 01:00:10:05"),
    and moviepy warns with the whole text at each subtitle or attachment stream. So: group lines
    out, their streams moved back out, and only the video and audio streams left in."""
    kept, dropping, nested = [], False, False
    for line in description.splitlines():
        indent = len(line) - len(line.lstrip())
        if line.lstrip().startswith("Stream group #"):
            nested, dropping = True, False
            continue
        if nested and indent <= 2:
            nested = False
        if nested:
            line, indent = line[2:], indent - 2
        if re.match(r"\s*Stream #", line):
            dropping = not re.search(r": (Video|Audio):", line)
        elif indent <= 2:
            dropping = False
        if not dropping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _describe(path: Path) -> str:
    """What `ffmpeg -i` says of the file (it exits 1 for want of an output: the text is the point)."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", quote_path(path)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc.stderr.decode("utf8", errors="ignore")


def probe(path: Path) -> VideoInfo:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a video")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty")
    description = _describe(path)
    try:
        infos = FFmpegInfosParser(_for_moviepy(description), str(path), fps_source="fps", check_duration=True).parse()
    except Exception:  # moviepy's parser fails in many ways on text that describes no video
        raise InputError(f"{path}: {_unreadable_reason(description)}") from None
    if not infos.get("video_found"):
        kind = "has only audio" if infos.get("audio_found") else "has no video stream"
        raise InputError(f"{path} {kind}: nothing to interpolate")
    width, height = infos["video_size"]
    rotation = stream_rotation(description)
    if rotation in (90, 270):  # ffmpeg decodes the picture upright: a quarter turn swaps the sides
        width, height = height, width
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise InputError(f"{path}: frame size {width}x{height} is not supported (at most {MAX_PIXELS:,} pixels)")
    fps = infos.get("video_fps") or 0
    if not fps or fps <= 0:
        raise InputError(f"{path}: no frame rate found")
    pix_fmt = stream_pix_fmt(description)
    return VideoInfo(
        path=path,
        width=int(width),
        height=int(height),
        fps=exact_rate(float(fps)),
        n_frames=int(infos.get("video_n_frames") or 0),
        duration=float(infos.get("duration") or 0.0),
        has_audio=bool(infos.get("audio_found")),
        pix_fmt=pix_fmt,
        bits=pix_fmt_bits(pix_fmt),
        rotation=rotation,
        colour=read_hdr_metadata(path, parse_colour(_pix_fmt_field(description))),
        picture=stream_picture(description, pix_fmt, rotation),
        streams=parse_streams(description, path),
    )
