"""What an ffmpeg pixel format is: its depth (from ffmpeg's own table), its chroma subsampling
and whether it has an alpha plane (from its name). The prober describes a source with these, the
writer chooses an encoder's format with them."""
from __future__ import annotations

import functools
import re
import subprocess

from .ffmpeg import ffmpeg_exe


@functools.lru_cache(maxsize=1)
def _pix_fmt_depths() -> dict[str, int]:
    """ffmpeg's table (`ffmpeg -pix_fmts`): each pixel format and its deepest component, in bits."""
    listing = subprocess.run([ffmpeg_exe(), "-hide_banner", "-pix_fmts"], capture_output=True, text=True).stdout
    depths = {}
    for line in listing.splitlines():
        match = re.match(r"^[IOHPB.]{5}\s+(\w+)\s+\d+\s+\d+\s+([\d-]+)\s*$", line)
        if match:
            depths[match[1]] = max(int(bits) for bits in match[2].split("-"))
    return depths


def pix_fmt_bits(pix_fmt: str) -> int:
    """Bits per channel of an ffmpeg pixel format (8 for unknown names and for formats below 8,
    such as the monochrome ones, which decode to 8-bit RGB)."""
    return max(8, _pix_fmt_depths().get(pix_fmt, 8))


# Pixel formats with an alpha plane (yuva420p, rgba64le, gbrap12le, ya16le, ayuv64le...).
_ALPHA_PIX_FMT = re.compile(r"^(yuva|gbrap|ya\d|ayuv|vuya|rgba|bgra|argb|abgr)")
# Chroma subsampling of the packed and semi-planar YUV formats, whose names do not spell it.
_CHROMA_FAMILIES = (("420", r"^(nv12|nv21|p01\d|p016)"), ("422", r"^(nv16|nv20|p21\d|p216|y21\d|yuyv|uyvy|yvyu)"),
                    ("444", r"^(nv24|nv42|p41\d|p416|ayuv|vuy|xv\d)"))


# Pixel formats with no chroma to convert: RGB, palettes, gray (and gray with alpha).
_RGB_PIX_FMT = re.compile(r"^(rgb|bgr|gbr|argb|abgr|0rgb|0bgr|x2rgb|x2bgr|pal8|gray|ya\d|monow|monob)")


def pix_fmt_is_rgb(pix_fmt: str) -> bool:
    """True for RGB, palette and gray formats, where no colour matrix applies."""
    return bool(_RGB_PIX_FMT.match(pix_fmt))


def pix_fmt_alpha(pix_fmt: str) -> bool:
    return bool(_ALPHA_PIX_FMT.match(pix_fmt))


def pix_fmt_chroma(pix_fmt: str) -> str:
    """"420", "422", "444"... for a YUV pixel format (yuv422p10le, yuvj444p, nv12); "" for RGB, gray, palettes."""
    planar = re.match(r"^yuva?j?(4[0-4][0-4])p", pix_fmt)
    if planar:
        return planar[1]
    return next((chroma for chroma, family in _CHROMA_FAMILIES if re.match(family, pix_fmt)), "")
