"""Streaming encode through an ffmpeg pipe, with the audio of another file muxed in; the video and
audio encoders are the container's own unless asked otherwise (see `containers`).

Frames go in as 8-bit RGB (rgb24), or as 16-bit RGB (rgb48le) for a `depth` above 8 when the
encoder can store more than 8 bits: then libx264/libx265 encode 10-bit 4:2:0 (4:4:4 for odd
sizes), VP9 and AV1 10-bit 4:2:0, and other encoders take their own deepest match, chosen by ffmpeg. An encoder limited to
8 bits gets 8-bit frames, as from an 8-bit source.

The source's picture (`Picture`) is kept: its pixel aspect (setsar), its chroma subsampling where
the encoder takes it, and RGBA frames' alpha where the encoder and container hold it
(`containers.output_pix_fmt`); a warning says what could not be kept."""
from __future__ import annotations

import functools
import re
import subprocess
import tempfile
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..core.atomic import final_name
from ..core.errors import OutputError, VnnWarning
from .colour import SRGB, Colour, encode_filter, hdr_encoder_args
from .containers import CHROMA_WORDS, alpha_pix_fmt, choose_codec, coarser, ffmpeg_cause, encodes_yuv, odd_needs_444, output_pix_fmt, video_args
from .ffmpeg import ffmpeg_exe, quote_path
from .probe import SQUARE, Picture, pix_fmt_bits, pix_fmt_chroma
from .streams import SourceStreams, muxing

_OS_CAUSES = (("No space left on device", "no space left on the device"), ("Disk quota exceeded", "no space left on the device"),
              ("Read-only file system", "read-only file system"), ("Permission denied", "permission denied"),
              ("File too large", "file too large for this file system or limit"))

_YUV_CODECS = {"libx264", "libx265", "libopenh264", "h264_nvenc", "hevc_nvenc", "libvpx-vp9", "libaom-av1", "libsvtav1"}
# For those, the deep formats to ask for, in order of preference (4:4:4 for odd sizes, as in 8 bits).
_DEEP_420 = ("yuv420p10le", "p010le")
_DEEP_444 = ("yuv444p10le", "yuv444p16le")
# What the frames are piped as: (bits, channels) -> ffmpeg's raw pixel format.
_RAW_INPUT = {(8, 3): "rgb24", (16, 3): "rgb48le", (8, 4): "rgba", (16, 4): "rgba64le"}


@functools.lru_cache(maxsize=None)
def encoder_pix_fmts(codec: str) -> tuple[str, ...]:
    """The pixel formats `codec` accepts, as `ffmpeg -h encoder=CODEC` lists them (none listed:
    unknown encoder, or one that does not say)."""
    text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-h", f"encoder={codec}"], capture_output=True, text=True).stdout
    listed = re.search(r"Supported pixel formats:(.*)", text)
    return tuple(listed[1].split()) if listed else ()


def deep_pix_fmt(codec: str, width: int, height: int) -> str | None:
    """How `codec` stores more than 8 bits per channel: the pixel format to ask for ("" lets ffmpeg
    pick the encoder's best match for 16-bit RGB), or None when it cannot."""
    supported = encoder_pix_fmts(codec)
    if codec in _YUV_CODECS:
        odd = width % 2 or height % 2
        wanted = _DEEP_444 if odd and odd_needs_444(codec) else _DEEP_420
        return next((f for f in wanted if f in supported), None)
    return "" if any(pix_fmt_bits(f) > 8 for f in supported) else None


class VideoWriter:
    """`write` H×W×3 RGB frames: uint8, or uint16 when `depth` (what the frames hold) is above 8
    and the encoder keeps it (`self.depth` tells: 16, or 8 after falling back). A YUV encoder gets
    them converted with `colour` (the source's; None: RGB images, as BT.709 with sRGB's transfer),
    and the stream is tagged with it.

    `alpha`: the frames come H×W×4 (RGBA); their alpha is written where the encoder and container
    hold it (`self.channels` tells: 4, or 3 after a warning). `picture`: the source's (None: RGB
    images): its pixel aspect and its chroma subsampling are kept where the encoder can."""

    def __init__(self, path: Path, width: int, height: int, fps: Fraction, *, codec: str | None = None,
                 crf: int | None = 18, preset: str | None = "medium", audio_from: Path | None = None,
                 audio_filter: str | None = None, depth: int = 8, colour: Colour | None = None,
                 streams: SourceStreams | None = None, audio: bool = True, stretch: float = 1,
                 source_fps: Fraction | None = None, alpha: bool = False, picture: Picture | None = None):
        self.path = Path(path)
        self.size = (height, width)
        container, codec = choose_codec(self.path, codec)  # codec None: the container's own
        picture = picture or SQUARE
        supported = encoder_pix_fmts(codec)
        name = final_name(self.path).name
        alpha_fmt = alpha_pix_fmt(container, codec, supported) if alpha else None
        if alpha and alpha_fmt is None:
            warnings.warn(VnnWarning(f"{name}: {codec} in {container.name} holds no alpha: the alpha plane is left out "
                                     f"(ProRes 4444 with --codec prores_ks, VP9 in .webm, or a PNG or TIFF sequence keep it)"))
        self.channels = 4 if alpha_fmt is not None else 3
        deep = deep_pix_fmt(codec, width, height) if depth > 8 else None
        if alpha_fmt and pix_fmt_bits(alpha_fmt) <= 8:
            deep = None  # VP9 holds alpha in 8 bits only: the alpha plane matters more than the extra bits
        pix_fmt = output_pix_fmt(codec, width, height, supported, deep, picture.chroma, alpha_fmt)
        kept = pix_fmt_chroma(pix_fmt or "")
        if coarser(kept, picture.chroma):
            warnings.warn(VnnWarning(f"{name}: {codec} does not take the source's {CHROMA_WORDS[picture.chroma]} chroma: "
                                     f"written {CHROMA_WORDS.get(kept, kept)}"))
        self.depth = 16 if deep is not None else 8
        self.dtype = np.dtype("<u2") if self.depth == 16 else np.dtype(np.uint8)
        # `streams`: the source's own, carried over (see streams.muxing) in place of `audio_from`'s first track
        self._chapters = None
        mux = None
        if streams is not None:
            self._chapters = tempfile.NamedTemporaryFile("w", suffix=".ffmeta", delete=False) if streams.chapters else None
            mux = muxing(streams, container, audio=audio, audio_filter=audio_filter, stretch=stretch, source_fps=source_fps,
                         out_fps=fps, chapters_path=Path(self._chapters.name) if self._chapters else None)
            if self._chapters is not None:
                with self._chapters:
                    self._chapters.write(mux.chapters or "")
            for line in mux.left_out:
                warnings.warn(VnnWarning(f"{final_name(self.path).name}: {line}"))
            audio_from = None
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", *(mux.video_input if mux else []),
               "-f", "rawvideo", "-pix_fmt", _RAW_INPUT[self.depth, self.channels], "-s", f"{width}x{height}",
               "-framerate", f"{fps.numerator}/{fps.denominator}", "-i", "-"]
        if audio_from is not None and container.audio is None:
            warnings.warn(VnnWarning(f"{final_name(self.path).name}: {container.name} holds no sound: the audio is left out"))
        if audio_from is not None and container.audio is not None:
            cmd += ["-i", quote_path(Path(audio_from)), "-map", "0:v:0", "-map", "1:a:0?", "-c:a", container.audio, "-b:a", "192k"]
            if audio_filter:
                cmd += ["-filter:a", audio_filter]
        if mux is not None:
            cmd += mux.inputs + mux.outputs
        filters = [encode_filter(colour or SRGB)] if encodes_yuv(codec, supported) else []
        if picture.sar != 1:  # anamorphic (DVD, HDV): the pixels keep their shape, the picture its width
            filters.append(f"setsar={picture.sar.numerator}/{picture.sar.denominator}")
        cmd += ["-c:v", codec, *video_args(codec, pix_fmt, crf, preset, filters)]
        hdr = hdr_encoder_args(colour or SRGB, codec)
        if hdr is None:
            warnings.warn(VnnWarning(f"{name}: {codec} cannot hold the source's HDR10 mastering-display and light-level "
                                     "metadata: left out (--codec libx265 keeps them)"))
        cmd += hdr or []
        cmd += ["-movflags", "+faststart"] if self.path.suffix.lower() in (".mp4", ".mov", ".m4v") else []
        cmd += [quote_path(self.path)]
        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)

    def _failure(self) -> OutputError:
        self._proc.wait()
        self._log.seek(0)
        log = self._log.read().decode(errors="replace")
        name = final_name(self.path)
        # ffmpeg's last line is often a consequence ("Nothing was written"); the cause is earlier.
        for cause, phrase in _OS_CAUSES:
            if cause in log:
                return OutputError(f"cannot write {name}: {phrase}")
        return OutputError(f"encoding {name.name} failed: {ffmpeg_cause(log)}")

    def write(self, frame: np.ndarray) -> None:
        if frame.shape[:2] != self.size:
            raise OutputError(f"frame of size {frame.shape[1]}x{frame.shape[0]} does not fit the video's {self.size[1]}x{self.size[0]}")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame[:, :, :self.channels], dtype=self.dtype).data)
        except (BrokenPipeError, OSError):
            raise self._failure() from None

    def close(self) -> None:
        try:
            self._proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            if self._proc.wait() != 0:
                raise self._failure()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        self._log.close()
        if self._chapters is not None:
            Path(self._chapters.name).unlink(missing_ok=True)

    def abort(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._cleanup()
