"""Range runs: one machine of many makes the part of a conversion that covers input frames A to B
(`--frames A-B`), and `vnn join` (see `join`) puts the parts together. The parts joined are the
whole run's frames, bit for bit: a range run reads the source from its first frame and decides
every pair as the whole run does (see `stream`), making and writing only its own outputs.

What it costs: each range run decodes (and judges, for the fallback) the source from its start to
just past its range; the model runs only on the range's batches. With N ranges the decoding is
about N/2 times a whole run's, the model's work the same.
"""
from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Literal

from ..core.errors import SettingsError
from ..core.progress import Progress, no_progress
from ..core.result import JobResult
from .engine import Interpolator
from .job import Workflow, interpolate_video, slowmo_video
from .outputs import EncodeOptions
from .stream import FrameRange

__all__ = ["FrameRange", "parse_frames", "run_range"]


def parse_frames(text: str) -> FrameRange:
    """'1000-1999' -> FrameRange(1000, 1999): input frames numbered from 0, both ends included."""
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", str(text))
    if not match:
        raise SettingsError(f"--frames {text}: use FIRST-LAST, input frames numbered from 0, e.g. 1000-1999")
    first, last = int(match[1]), int(match[2])
    if last < first:
        raise SettingsError(f"--frames {text}: the last frame comes before the first")
    return FrameRange(first, last)


def run_range(input_path: Path, part: Path, interpolator: Interpolator, frames: FrameRange | str, *,
              command: Literal["interpolate", "slowmo"] = "interpolate", factor: int = 2, fps: Fraction | None = None,
              audio: Literal["drop", "stretch"] = "stretch", options: EncodeOptions = EncodeOptions(),
              image_fps: Fraction | None = None, progress: Progress = no_progress,
              workflow: Workflow = Workflow()) -> JobResult:
    """Write the part of `command`'s run on `input_path` that covers input `frames` ('A-B' or a
    FrameRange) into `part`: a .mkv/.mp4/.mov video (lossless: `EncodeOptions(codec="ffv1")` in a
    .mkv) or a folder of frames numbered as in the whole run. The part records the source, the range
    and the settings for `join.join_parts`. `audio` (slowmo) is what the join will do with the sound."""
    if isinstance(frames, str):
        frames = parse_frames(frames)
    workflow = replace(workflow, frames=frames)
    if command == "interpolate":
        return interpolate_video(input_path, part, interpolator, factor=factor, fps=fps, options=options,
                                 image_fps=image_fps, progress=progress, workflow=workflow)
    if command == "slowmo":
        return slowmo_video(input_path, part, interpolator, factor=factor, fps=fps, audio=audio, options=options,
                            image_fps=image_fps, progress=progress, workflow=workflow)
    raise SettingsError(f"unknown command {command!r}: interpolate or slowmo")
