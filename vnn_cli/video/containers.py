"""What each output container gets: its video encoder, pixel format and audio encoder.

A container only holds some codecs (WebM: VP8, VP9 or AV1 with Opus or Vorbis; GIF: a palette and
no sound), and a player only plays some pixel formats (4:2:0 for H.264, VP9 and AV1: left alone,
ffmpeg would pick RGB VP9 or 4:4:4 H.264, which most players refuse). A combination that cannot
work is refused here, in one line, before anything is encoded.

What the source's picture is kept as (`output_pix_fmt`): its chroma subsampling where the encoder
takes it (a 4:2:2 or 4:4:4 source stays so, in H.264 too, though fewer players play those), and its
alpha plane where the encoder and container hold one (`alpha_pix_fmt`)."""
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
from .pixfmt import pix_fmt_alpha, pix_fmt_bits, pix_fmt_chroma, pix_fmt_is_rgb


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
    return bool(supported) and not any(pix_fmt_is_rgb(f) for f in supported)


# The YUV encoders that keep an alpha plane, and its format. VP8 and VP9 take it in 8-bit 4:2:0 only
# (deeper or 4:4:4 alpha is "not widely supported": refused), stored beside the picture by WebM and
# Matroska alone. ProRes 4444 holds 4:4:4 and up to 16 bits of alpha.
_ALPHA_YUV = {"prores_ks": "yuva444p10le", "libvpx-vp9": "yuva420p", "libvpx": "yuva420p"}
_ALPHA_SIDE = ("WebM", "Matroska")


def alpha_pix_fmt(container: Container, codec: str, supported: tuple[str, ...]) -> str | None:
    """The pixel format that keeps an alpha plane in `codec` ("": ffmpeg's choice for RGBA frames,
    for RGB encoders that hold alpha: PNG, QuickTime RLE, FFV1...), or None where it is lost."""
    if codec in _ALPHA_YUV:
        side_by_side = "vpx" in codec
        fits = _ALPHA_YUV[codec] in supported and (not side_by_side or container.name in _ALPHA_SIDE)
        return _ALPHA_YUV[codec] if fits else None
    if codec == "gif" or encodes_yuv(codec, supported):
        return None
    return "" if any(pix_fmt_alpha(f) for f in supported) else None


CHROMA_WORDS = {"444": "4:4:4", "422": "4:2:2", "440": "4:4:0", "420": "4:2:0", "411": "4:1:1", "410": "4:1:0"}
_CHROMA_DETAIL = {"444": 4, "422": 2, "440": 2, "420": 1, "411": 1, "410": 0}  # chroma samples kept per 4 luma


def coarser(chroma: str, than: str) -> bool:
    """Whether `chroma` keeps less colour detail than `than` ("" for either: unknown or RGB, not coarser)."""
    return bool(chroma and than) and _CHROMA_DETAIL.get(chroma, 4) < _CHROMA_DETAIL.get(than, 4)


def output_pix_fmt(codec: str, width: int, height: int, supported: tuple[str, ...], deep: str | None,
                   chroma: str = "", alpha: str | None = None) -> str | None:
    """The pixel format to encode with; None leaves it to ffmpeg (RGB encoders, and YUV ones given
    no chroma to keep). `deep`: the deep format chosen (`writer.deep_pix_fmt`), None for 8 bits;
    `chroma`: the source's subsampling ("420", "422", "444"; "": RGB images); `alpha`: the format
    keeping the alpha plane (`alpha_pix_fmt`), which wins."""
    if alpha:
        return alpha
    if _YUV420.search(codec):
        # 4:2:0 unless the source is 4:2:2 or 4:4:4 and the encoder takes that; H.264/H.265 take
        # an odd size in 4:4:4 only.
        odd = (width % 2 or height % 2) and odd_needs_444(codec)
        wanted = "444" if odd else chroma if chroma in ("422", "444") else "420"
        if deep:
            kept = f"yuv{wanted}p10le"
            return kept if kept in supported else deep
        kept = f"yuv{wanted}p"
        return kept if kept in supported else "yuv420p"
    if chroma and encodes_yuv(codec, supported):
        # ProRes, DNxHD...: the source's subsampling at the depth of the frames where there is one.
        same = [f for f in supported if pix_fmt_chroma(f) == chroma and not pix_fmt_alpha(f)]
        same.sort(key=lambda f: (pix_fmt_bits(f) > 8) != (deep is not None))
        return same[0] if same else None
    return None


def video_args(codec: str, pix_fmt: str | None, crf: int | None, preset: str | None, filters: list[str] = ()) -> list[str]:
    """ffmpeg's output options for the video stream, after `-c:v CODEC`; `pix_fmt` from
    `output_pix_fmt`, `filters` the writer's (colour, pixel aspect), in one `-filter:v`."""
    filters = list(filters)
    if codec == "gif":
        # A palette per frame (stats_mode=single, new=1) streams; one palette for the whole clip
        # would hold every frame in memory until the last.
        filters.append("split[a][b];[a]palettegen=stats_mode=single[p];[b][p]paletteuse=new=1")
    args = ["-filter:v", ",".join(filters)] if filters else []
    if codec == "gif":
        return args
    if pix_fmt:
        args += ["-pix_fmt", pix_fmt]
        if codec == "prores_ks" and pix_fmt_alpha(pix_fmt):
            args += ["-profile:v", "4444"]  # the ProRes profile that holds alpha (auto picks it too: say so)
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
