"""Where a conversion's frames go: the output (a video file, or a resumable image sequence) and
the optional compare view, opened together and finished together or not at all."""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from .compare import Layout, compare_frame, compare_size
from ..core.errors import VnnWarning
from ..core.frames import to_8bit
from ..video.media import FrameSource, SequenceSink, source_streams, video_sink
from ..video.probe import Picture


@dataclass(frozen=True)
class EncodeOptions:
    codec: str | None = None  # None: the container's own (see video/containers.py)
    crf: int | None = 18
    preset: str | None = "medium"
    image_format: str = "png"
    overwrite: bool = False
    depth: str = "source"  # "8": 8-bit output from any source (a 10-bit H.264 plays in few browsers)


@dataclass
class OutputFrame:
    frame: np.ndarray | None  # None: an earlier run already wrote it
    held: np.ndarray  # the input a player would be showing at that moment (compare view)


class Outputs:
    """The output (a video, or a resumable sequence) and the optional compare video, as one
    `write(OutputFrame)`; all finish together or not at all."""

    def __init__(self, output: Path, sequence: SequenceSink | None, source: FrameSource, out_fps: Fraction,
                 options: EncodeOptions, audio: bool, audio_filter: str | None, *, compare: Path | None = None,
                 compare_layout: Layout = "side", model_name: str = "model", stretch: float = 1):
        self.output, self.sequence, self.source, self.out_fps = output, sequence, source, out_fps
        self.options, self.audio, self.audio_filter = options, audio, audio_filter
        self.compare, self.compare_layout, self.model_name = compare, compare_layout, model_name
        self.stretch = stretch  # how many times longer the output lasts (slowmo's factor)
        self._stack = None

    def __enter__(self) -> Callable[[OutputFrame], None]:
        self._stack = contextlib.ExitStack()
        stack = self._stack.__enter__()
        try:
            audio_from = self.source.audio if self.audio else None
            main = None
            if self.sequence is not None and self.source.picture.sar != 1:
                sar = self.source.picture.sar
                warnings.warn(VnnWarning(f"{self.output.name}: image files hold no pixel aspect: the frames keep the "
                                         f"source's samples, shown with square pixels (SAR {sar.numerator}:{sar.denominator} "
                                         "left out; a video output keeps it)"))
            if self.sequence is None:
                main = stack.enter_context(video_sink(self.output, self.source.width, self.source.height, self.out_fps,
                                                      codec=self.options.codec, crf=self.options.crf, preset=self.options.preset,
                                                      audio_from=audio_from, audio_filter=self.audio_filter,
                                                      colour=self.source.colour, picture=self._picture(), **self._carried()))
            side = None
            if self.compare is not None:
                width, height = compare_size(self.source.width, self.source.height, self.compare_layout)
                side = stack.enter_context(video_sink(Path(self.compare), width, height, self.out_fps,
                                                      codec=None, crf=self.options.crf, preset=self.options.preset,
                                                      audio_from=audio_from, audio_filter=self.audio_filter,
                                                      colour=self.source.colour, picture=self._picture()))
        except BaseException:
            self._stack.__exit__(None, None, None)
            raise
        labels = ("input (frames repeated)", f"interpolated ({self.model_name})")
        sequence = self.sequence
        eight_bit = self.options.depth == "8"

        def write(item: OutputFrame) -> None:
            frame = item.frame
            if frame is not None and eight_bit:  # 16-bit images in, 8-bit wanted out
                frame = to_8bit(frame)
            if sequence is not None:
                if frame is None:
                    sequence.skip()
                else:
                    sequence.write(frame)
            else:
                main(frame)
            if side is not None:
                side(compare_frame(item.held, item.frame if item.frame is not None else item.held,
                                   self.compare_layout, labels))

        return write

    def _picture(self) -> Picture:
        """The source's picture, which outputs keep; `--depth 8` asks for a video that plays
        everywhere: 4:2:0 then, whatever the source's chroma."""
        picture = self.source.picture
        return replace(picture, chroma="") if self.options.depth == "8" else picture

    def _carried(self) -> dict:
        """What the main output takes from a video source besides its frames: every audio track,
        subtitles, chapters, metadata, timecode and stream starts (see video/streams.py). The
        compare view keeps the first audio track only."""
        streams = source_streams(self.source)
        if streams is None:
            return {}
        return {"streams": streams, "audio": self.audio, "stretch": self.stretch, "source_fps": self.source.fps}

    def __exit__(self, kind, value, traceback) -> bool:
        suppressed = self._stack.__exit__(kind, value, traceback)
        if kind is None and self.sequence is not None:
            self.sequence.finish()
        return suppressed
