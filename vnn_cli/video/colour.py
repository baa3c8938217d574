"""The colour of a video: the matrix that turns its YUV samples into RGB, its primaries, its
transfer and its range, as the source is tagged. The reader decodes with them and the writer
encodes with the same and tags the output alike, so a player shows the output's colours as it
showed the source's (a BT.709 source re-encoded with BT.601 and no tags shifts every colour).

An untagged source is read as players read it: BT.601 below 720 lines, BT.709 from 720 up, in
limited range; the output is then tagged with that guess, so no player guesses otherwise.

HDR10 sources also carry the mastering display's colour volume and the content's light levels,
which a player needs to map PQ to its own screen. They live in the frames' side data, not in the
stream's description, so they are read from the first decoded frame, and only for PQ and HLG
sources.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from .ffmpeg import ffmpeg_exe, quote_path

# ffmpeg's name of a colour space (a frame's tag) -> the matrix the scale filter knows it by.
_SCALE_MATRIX = {"bt709": "bt709", "bt470bg": "bt601", "smpte170m": "smpte170m", "fcc": "fcc",
                 "smpte240m": "smpte240m", "bt2020nc": "bt2020", "bt2020c": "bt2020"}
_RANGES = {"tv", "pc"}
HD_LINES = 720  # from here up an untagged video is BT.709, below it BT.601


@dataclass(frozen=True)
class Colour:
    """ffmpeg's names (`bt709`, `bt470bg`, `smpte170m`, `bt2020nc`, `smpte2084`...); "" untagged."""

    matrix: str = ""
    primaries: str = ""
    transfer: str = ""
    range: str = ""  # "tv" (limited) or "pc" (full)
    mastering_display: str = ""  # HDR10, as x265 takes it: G(x,y)B(x,y)R(x,y)WP(x,y)L(max,min), "" none
    content_light: str = ""  # HDR10 MaxCLL,MaxFALL in cd/m², "" none

    @property
    def hdr_metadata(self) -> bool:
        return bool(self.mastering_display or self.content_light)

    @property
    def tagged(self) -> bool:
        return bool(self.matrix)

    def describe(self) -> str:
        names = [self.matrix or "untagged", self.primaries, self.transfer, self.range]
        return "/".join(n for n in names if n)


# What an RGB source (images) becomes in a YUV video: BT.709 with sRGB's transfer.
SRGB = Colour("bt709", "bt709", "iec61966-2-1", "tv")


def parse_colour(pix_fmt_field: str) -> Colour:
    """The tags in the pixel-format field of `ffmpeg -i`'s stream line: `yuv420p(tv, bt709,
    progressive)` (all three the same), `yuv420p(tv, bt709/unknown/unknown, progressive)`
    (space/primaries/transfer), `yuv420p(progressive)` (none)."""
    inside = re.search(r"\((.*)\)", pix_fmt_field)
    if not inside:
        return Colour()
    parts = [p.strip() for p in inside[1].split(",")]
    colour_range = next((p for p in parts if p in _RANGES), "")
    names = next((p for p in parts if "/" in p or p in _SCALE_MATRIX or p in ("rgb", "ycgco", "ictcp")), "")
    matrix, primaries, transfer = (names.split("/") + ["", ""])[:3] if "/" in names else (names, names, names)
    known = lambda name: "" if name in ("unknown", "reserved", "unspecified") else name  # noqa: E731
    return Colour(known(matrix), known(primaries), known(transfer), colour_range)


def resolved(colour: Colour, height: int) -> tuple[Colour, str | None]:
    """The colour to decode and encode with, and a note when the matrix or range was guessed."""
    guessed = []
    if not colour.matrix:
        colour = replace(colour, matrix="bt709" if height >= HD_LINES else "smpte170m")
        guessed.append(f"{'BT.709' if height >= HD_LINES else 'BT.601'} ({height} lines)")
    if not colour.range:
        colour = replace(colour, range="tv")
    note = f"no colour matrix tagged: read as {guessed[0]}, and the output tagged so" if guessed else None
    return colour, note


def decode_filter(colour: Colour) -> str | None:
    """The scale options that read YUV with the source's matrix and range (None: RGB or a matrix
    the scaler does not know, left to ffmpeg)."""
    matrix = _SCALE_MATRIX.get(colour.matrix)
    if matrix is None:
        return None
    return f"in_color_matrix={matrix}:in_range={colour.range or 'tv'}"


def encode_filter(colour: Colour) -> str:
    """The filters that turn RGB into YUV with `colour`'s matrix and range and tag the frames with
    all of it, which the encoder writes into the stream."""
    matrix = _SCALE_MATRIX.get(colour.matrix, "bt709")
    tags = [f"colorspace={colour.matrix}" if colour.matrix in _SCALE_MATRIX else "colorspace=bt709",
            f"range={colour.range or 'tv'}"]
    if colour.primaries:
        tags.append(f"color_primaries={colour.primaries}")
    if colour.transfer:
        tags.append(f"color_trc={colour.transfer}")
    return f"scale=out_color_matrix={matrix}:out_range={colour.range or 'tv'},setparams={':'.join(tags)}"


HDR_TRANSFERS = ("smpte2084", "arib-std-b67")  # PQ (HDR10) and HLG


def _chromaticity(value: str) -> int:
    return round(float(value) / 0.00002)  # x265's unit for a CIE 1931 coordinate


def read_hdr_metadata(path: Path, colour: Colour) -> Colour:
    """`colour` with the mastering-display and content-light metadata of the first frame of an
    HDR source (unchanged for SDR ones): ffmpeg shows a frame's side data, not a stream's."""
    if colour.transfer not in HDR_TRANSFERS:
        return colour
    text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", quote_path(path), "-map", "0:v:0", "-frames:v", "1",
                           "-vf", "showinfo", "-f", "null", "-"], capture_output=True).stderr.decode(errors="replace")
    display = ""
    mastering = re.search(r"Mastering display metadata: .*?r\(([\d.]+)[, ]+([\d.]+)\) g\(([\d.]+)[, ]+([\d.]+)\) "
                          r"b\(([\d.]+)[, ]+([\d.]+)\) wp\(([\d.]+)[, ]+([\d.]+)\) "
                          r"min_luminance=([\d.]+), max_luminance=([\d.]+)", text)
    if mastering:
        rx, ry, gx, gy, bx, by, wx, wy = (_chromaticity(v) for v in mastering.groups()[:8])
        low, high = (round(float(v) / 0.0001) for v in mastering.groups()[8:])
        display = f"G({gx},{gy})B({bx},{by})R({rx},{ry})WP({wx},{wy})L({high},{low})"
    light = re.search(r"Content light level metadata: MaxCLL=(\d+), MaxFALL=(\d+)", text)
    return replace(colour, mastering_display=display, content_light=f"{light[1]},{light[2]}" if light else "")


def hdr_encoder_args(colour: Colour, codec: str) -> list[str] | None:
    """The encoder options that write the HDR10 metadata (None: `codec` cannot hold it)."""
    if not colour.hdr_metadata:
        return []
    if codec != "libx265":
        return None
    params = ["hdr10=1", "repeat-headers=1", "log-level=error"]
    if colour.mastering_display:
        params.append(f"master-display={colour.mastering_display}")
    if colour.content_light:
        params.append(f"max-cll={colour.content_light}")
    return ["-x265-params", ":".join(params)]
