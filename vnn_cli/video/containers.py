"""What each output container gets: its video encoder, pixel format and audio encoder.

A container only holds some codecs (WebM: VP8, VP9 or AV1 with Opus or Vorbis; GIF: a palette and
no sound), and a player only plays some pixel formats (4:2:0 for H.264, VP9 and AV1: left alone,
ffmpeg would pick RGB VP9 or 4:4:4 H.264, which most players refuse). A combination that cannot
work is refused here, in one line, before anything is encoded."""
from __future__ import annotations

import difflib
import functools
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..core.atomic import final_name
from ..core.errors import OutputError
from .ffmpeg import ffmpeg_exe


@dataclass(frozen=True)
class Container:
    name: str
    codec: str  # the default video encoder
    audio: str | None  # the audio encoder; None: the container holds no sound
    holds: str | None = None  # a regex on encoder names: the only ones it takes (None: ffmpeg decides)
    holds_text: str = ""  # the same in words, for the error


_MP4 = Container("MP4", "libx264", "aac")
CONTAINERS = {
    ".mp4": _MP4, ".m4v": _MP4, ".mov": Container("QuickTime", "libx264", "aac"),
    ".mkv": Container("Matroska", "libx264", "aac"), ".ts": Container("MPEG-TS", "libx264", "aac"),
    ".mts": Container("MPEG-TS", "libx264", "aac"), ".flv": Container("FLV", "libx264", "aac"),
    ".avi": Container("AVI", "libx264", "libmp3lame"),  # AAC in AVI plays in few players
    ".webm": Container("WebM", "libvpx-vp9", "libopus", r"vpx|vp8|vp9|av1", "VP8, VP9 or AV1 video (libvpx-vp9, libvpx, libsvtav1, libaom-av1)"),
    ".gif": Container("GIF", "gif", None, r"^gif$", "only GIF frames (codec gif)"),
    ".mpg": Container("MPEG-PS", "mpeg2video", "mp2", r"^mpeg[12]video$", "MPEG-1 or MPEG-2 video"),
    ".mpeg": Container("MPEG-PS", "mpeg2video", "mp2", r"^mpeg[12]video$", "MPEG-1 or MPEG-2 video"),
    ".wmv": Container("ASF", "wmv2", "wmav2"),
    ".y4m": Container("YUV4MPEG", "wrapped_avframe", None, r"^(wrapped_avframe|rawvideo)$", "uncompressed video only"),
}

# Delivery codecs: 4:2:0, the only chroma layout every player decodes. H.264 and H.265 refuse an
# odd size in 4:2:0: there 4:4:4 keeps it exact rather than cropping it (VP9, AV1 take it in 4:2:0).
_YUV420 = re.compile(r"264(?!rgb)|265|hevc|vpx|vp8|vp9|av1|mpeg4|xvid|mpeg[12]video|wmv|wrapped_avframe")
_ODD_444 = re.compile(r"264|265|hevc")
_PRESETS = {"libx264", "libx265"}  # "medium", "veryfast"... mean something only to these
_CRF = re.compile(r"^(libx264|libx265|libvpx|libvpx-vp9|libaom-av1|libsvtav1)$")


def odd_needs_444(codec: str) -> bool:
    return bool(_ODD_444.search(codec))


def container_for(path: Path) -> Container:
    suffix = Path(path).suffix.lower()
    if suffix not in CONTAINERS:
        known = ", ".join(sorted(CONTAINERS))
        raise OutputError(f"cannot write {final_name(Path(path)).name}: '{suffix or 'no extension'}' is not a video format vnn "
                          f"writes; use one of {known}, or a folder for an image sequence")
    return CONTAINERS[suffix]


@functools.lru_cache(maxsize=1)
def video_encoders() -> frozenset[str]:
    """The video encoders of the bundled ffmpeg (`ffmpeg -encoders`)."""
    text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return frozenset(m[1] for m in re.finditer(r"^ V\S{5} (\S+)", text, re.M))


def choose_codec(path: Path, codec: str | None) -> tuple[Container, str]:
    """The container of `path` and the video encoder to use: `codec`, or the container's default.
    An encoder ffmpeg lacks, or one the container cannot hold, is an `OutputError`."""
    container = container_for(path)
    codec = codec or container.codec
    name = final_name(Path(path)).name
    encoders = video_encoders()
    if encoders and codec not in encoders:
        close = difflib.get_close_matches(codec, sorted(encoders), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `ffmpeg -encoders` lists them"
        raise OutputError(f"video codec '{codec}' is not an encoder of the bundled ffmpeg{hint}")
    if container.holds and not re.search(container.holds, codec):
        raise OutputError(f"cannot write {name}: {container.name} holds {container.holds_text}, not {codec}; "
                          f"leave out --codec for {container.codec}")
    return container, codec


def encodes_yuv(codec: str, supported: tuple[str, ...]) -> bool:
    """Whether `codec` stores YUV (and so needs a colour matrix): the delivery codecs vnn gives
    4:2:0 or 4:4:4, and any encoder that takes no RGB (ProRes, DNxHD...); not GIF, PNG or RGB FFV1."""
    if codec == "gif":
        return False
    if _YUV420.search(codec):
        return True
    return bool(supported) and not any(re.match(r"(rgb|bgr|gbr|argb|abgr|0rgb|0bgr|pal8|gray|monow|monob|ya)", f)
                                       for f in supported)


def video_args(codec: str, width: int, height: int, supported: tuple[str, ...], deep: str | None,
               crf: int | None, preset: str | None) -> list[str]:
    """ffmpeg's output options for the video stream, after `-c:v CODEC`."""
    if codec == "gif":
        # A palette per frame (stats_mode=single, new=1) streams; one palette for the whole clip
        # would hold every frame in memory until the last.
        return ["-filter:v", "split[a][b];[a]palettegen=stats_mode=single[p];[b][p]paletteuse=new=1"]
    args = []
    if _YUV420.search(codec):
        even = width % 2 == 0 and height % 2 == 0
        pix_fmt = deep or ("yuv444p" if not even and odd_needs_444(codec) and "yuv444p" in supported else "yuv420p")
        args += ["-pix_fmt", pix_fmt]
    if crf is not None and _CRF.match(codec):
        args += ["-crf", str(crf)]
        if "vpx" in codec or codec == "libaom-av1":
            args += ["-b:v", "0"]  # constant quality: without it, crf is only a cap on a bitrate target
    if "vpx" in codec:
        args += ["-deadline", "good", "-cpu-used", "4", "-row-mt", "1"]  # libvpx's default is very slow
    if preset and codec in _PRESETS:
        args += ["-preset", preset]
    return args


_CAUSES = ("not currently supported in container", "only vp8 or vp9", "unknown encoder", "incorrect codec parameters",
           "invalid pixel format", "not supported by the encoder", "does not support", "width must be", "height must be", "not divisible by")


def ffmpeg_cause(log: str) -> str:
    """The line of an ffmpeg log that says why an encode failed (its last line is most often a
    consequence, "Nothing was written..."), without its `[muxer @ 0x...]` prefix."""
    lines = [re.sub(r"^\[[^\]]*\]\s*", "", line.strip()) for line in log.splitlines() if line.strip()]
    for line in lines:
        if any(cause in line.lower() for cause in _CAUSES):
            return line
    return lines[-1] if lines else "no message"
