"""Speed and memory on fixed frame sizes, and the whole `vnn interpolate` pipeline on a real clip.

Fixed sizes use synthetic frames (a smooth texture panning under a moving square), so every method
sees the same content at each size. A method runs once untimed (warm-up: lazy allocations, caches,
OpenCV and torch start-up), then `runs` times; the median time gives the frames per second.
minterpolate is timed by whole ffmpeg runs on the same frames, per frame it predicted (start-up
cancelled out, see `minterpolate_speed`).

End to end, a few seconds of a real clip go through ffmpeg alone, through ffmpeg's minterpolate
and through `vnn interpolate`, each timed as a whole, to the same output: twice the rate, libx264.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..render.engine import Interpolator
from ..core.errors import PeerError, describe
from ..render.job import interpolate_video
from ..render.outputs import EncodeOptions
from ..video.ffmpeg import run_ffmpeg
from ..video.probe import probe
from ..video.writer import VideoWriter
from .memory import ChildPeak, PeakMemory
from .peers import MINTERPOLATE_FILTER, run_minterpolate

# The size the speed targets speak of (README): 720p.
TARGET_SIZE = "1280x720"
# Frames fed to ffmpeg in the two timed minterpolate runs (see `minterpolate_speed`): it predicts
# the frames between all but the last pair, so 1 and 5 frames, 4 of difference.
MINTERPOLATE_SHORT_RUN = 3
MINTERPOLATE_LONG_RUN = 7
# The end-to-end rows the targets read (see `end_to_end`).
MINTERPOLATE_E2E = "ffmpeg decode + minterpolate + encode"


def preset_run(preset: str) -> str:
    return f"vnn interpolate --preset {preset}"


def synthetic_frames(width: int, height: int, count: int, speed: int = 3, seed: int = 0) -> list[np.ndarray]:
    """`count` frames of a textured scene panning left by `speed` px a frame, a square moving right."""
    rng = np.random.default_rng(seed)
    wide = width + speed * count
    coarse = rng.random((max(2, height // 24), max(2, wide // 24), 3)).astype(np.float32)
    texture = cv2.resize(coarse, (wide, height), interpolation=cv2.INTER_CUBIC) * 160 + 40
    texture += rng.normal(0, 6, texture.shape).astype(np.float32)  # fine detail for the matchers
    texture = np.clip(texture, 0, 255).astype(np.uint8)
    side = max(4, min(width, height) // 6)
    frames = []
    for i in range(count):
        frame = np.ascontiguousarray(texture[:, i * speed : i * speed + width])
        x = (width // 8 + i * speed * 2) % max(1, width - side)
        frame[height // 3 : height // 3 + side, x : x + side] = (250, 220, 30)
        frames.append(frame)
    return frames


@dataclass
class Speed:
    method: str
    size: str
    fps: float | None = None
    seconds: float | None = None  # median time for one predicted frame
    peak_mib: float | None = None
    runs: int = 0
    error: str | None = None


def model_speed(interpolator: Interpolator, method: str, width: int, height: int, runs: int) -> Speed:
    """One warm-up, then `runs` timed predictions, each on a pair it has not seen (a model may
    remember what it computed for a frame, as in a video; a repeated pair would cost it nothing)."""
    frames = synthetic_frames(width, height, 2 * runs + 3)
    pairs = [(frames[i], frames[i + 2]) for i in range(0, 2 * runs + 1, 2)]
    with PeakMemory(interpolator.device) as peak:
        interpolator(*pairs[0], [0.5])  # warm-up
        times = []
        for frame0, frame1 in pairs[1:]:
            started = time.perf_counter()
            interpolator(frame0, frame1, [0.5])
            times.append(time.perf_counter() - started)
    median = statistics.median(times)
    return Speed(method, f"{width}x{height}", 1 / median, median, peak.mib, runs)


def minterpolate_speed(width: int, height: int, runs: int) -> Speed:
    """Seconds per predicted frame from the difference between a long and a short ffmpeg run:
    process start-up, pipe set-up and the filter's look-ahead at the end cancel out, so ffmpeg is
    charged only for the frames themselves."""
    frames = synthetic_frames(width, height, 2 * MINTERPOLATE_LONG_RUN)[::2]
    run_minterpolate(frames[:MINTERPOLATE_SHORT_RUN])  # warm-up: the binary and its libraries into the page cache
    times, whole, peaks = [], [], []
    for _ in range(runs):
        short = run_minterpolate(frames[:MINTERPOLATE_SHORT_RUN])
        long = run_minterpolate(frames)
        predicted = len(long.frames) // 2
        if predicted == 0:
            raise PeerError(f"minterpolate predicted no frames at {width}x{height}")
        extra_frames = predicted - len(short.frames) // 2
        extra_seconds = long.seconds - short.seconds
        peaks += [p for p in (short.peak_mib, long.peak_mib) if p is not None]
        whole.append(long.seconds / predicted)
        if extra_frames > 0 and extra_seconds > 0:  # noise can invert the difference on tiny frames
            times.append(extra_seconds / extra_frames)
    median = statistics.median(times or whole)  # the whole runs, start-up and all, only if no difference is usable
    return Speed("minterpolate", f"{width}x{height}", 1 / median, median, max(peaks, default=None), runs)


@dataclass
class Throughput:
    """One way of turning `input_frames` of a clip into `output_frames` (twice the rate)."""

    what: str
    input_frames: int
    output_frames: int
    seconds: float
    interpolated_fps: float | None  # new frames made per second of wall time (None: the run failed)
    output_fps: float | None  # frames written per second of wall time
    error: str | None = None
    notes: str = ""  # what the pipeline did besides synthesizing (fallbacks to a blend, scene cuts)
    # Peak memory, MiB: an ffmpeg row's whole process; a vnn row's growth of the process during the
    # job (the model's weights, loaded before, not counted: see `memory.PeakMemory`). None: unknown.
    peak_mib: float | None = None
    # New frames the model itself made (not the copies at scene cuts, nor blends it fell back to);
    # None: not counted (the ffmpeg rows).
    model_frames: int | None = None


def trim_clip(source: list[np.ndarray], fps, folder: Path) -> Path:
    """The frames as an ordinary H.264 file, so decoding costs what a user's clip costs."""
    height, width = source[0].shape[:2]
    path = Path(folder) / "e2e_source.mp4"
    writer = VideoWriter(path, width, height, fps, crf=18, preset="veryfast")
    for frame in source:
        writer.write(frame)
    writer.close()
    return path


def pipeline_throughput(clip: Path, interpolator: Interpolator, what: str, folder: Path) -> Throughput:
    """`vnn interpolate CLIP --factor 2` as the command runs it: decode, model, encode (defaults)."""
    output = Path(folder) / f"e2e_{what.replace(' ', '_')}.mp4"
    with PeakMemory(interpolator.device) as peak:
        result = interpolate_video(clip, output, interpolator, factor=2, options=EncodeOptions(overwrite=True))
    made = result.frames_out - result.frames_in
    return Throughput(what, result.frames_in, result.frames_out, result.seconds, made / result.seconds,
                      result.frames_out / result.seconds, notes=_job_notes(result), peak_mib=peak.mib,
                      model_frames=result.synthesized)


def _job_notes(result) -> str:
    """Frames the model did not make are part of the story a throughput tells."""
    notes = [f"{count} frames fell back to a blend ({reason})" for reason, count in getattr(result, "fallbacks", {}).items()]
    if getattr(result, "cuts", 0):
        notes.append(f"{result.cuts} scene cuts")
    if getattr(result, "duplicates", 0):
        notes.append(f"{result.duplicates} repeated frames dropped")
    return "; ".join([*notes, *getattr(result, "notes", [])])


def _encode_args(frames_out: int) -> list[str]:
    """The output side of both ffmpeg rows: `vnn interpolate`'s default codec and settings."""
    options = EncodeOptions()
    return ["-frames:v", str(frames_out), "-c:v", options.codec or "libx264", "-crf", str(options.crf),
            "-preset", options.preset, "-pix_fmt", "yuv420p"]


def ffmpeg_throughput(clip: Path, frames_in: int, folder: Path) -> Throughput:
    """A plain ffmpeg decode and encode to the same output: twice the rate (frames repeated),
    the same codec and settings as `vnn interpolate`'s defaults. What the pipeline cannot beat."""
    rate = probe(clip).fps * 2
    frames_out = 2 * frames_in - 1
    output = Path(folder) / "e2e_ffmpeg.mp4"
    started = time.perf_counter()
    with ChildPeak() as peak:
        run_ffmpeg(["-y", "-i", str(clip), "-vf", f"fps={rate.numerator}/{rate.denominator}", *_encode_args(frames_out),
                    str(output)], PeerError, "ffmpeg decode + encode", started=peak.watch)
    seconds = time.perf_counter() - started
    return Throughput("ffmpeg decode + encode", frames_in, frames_out, seconds, (frames_out - frames_in) / seconds,
                      frames_out / seconds, peak_mib=peak.mib)


def minterpolate_throughput(clip: Path, frames_in: int, folder: Path) -> Throughput:
    """The peer's whole job in one ffmpeg process: decode, minterpolate (the options the quality
    comparison uses) to twice the rate, encode as the plain row does. The frames written are
    counted in the file afterwards, not assumed."""
    rate = probe(clip).fps * 2
    frames_out = 2 * frames_in - 1
    # minterpolate looks one frame ahead, so it stops short of the last pair; one copy of the last
    # frame lets it reach it, and the output ends on the last input frame as `vnn interpolate`'s does.
    chain = f"tpad=stop_mode=clone:stop=1,{MINTERPOLATE_FILTER.format(fps=f'{rate.numerator}/{rate.denominator}')}"
    output = Path(folder) / "e2e_minterpolate.mp4"
    started = time.perf_counter()
    with ChildPeak() as peak:
        run_ffmpeg(["-y", "-i", str(clip), "-vf", chain, *_encode_args(frames_out), str(output)], PeerError,
                   "ffmpeg minterpolate", started=peak.watch)
    seconds = time.perf_counter() - started
    written = probe(output).n_frames
    return Throughput(MINTERPOLATE_E2E, frames_in, written, seconds, (written - frames_in) / seconds, written / seconds,
                      peak_mib=peak.mib)


def failed(what: str, frames_in: int, error: str) -> Throughput:
    return Throughput(what, frames_in, 0, 0.0, None, None, error=error, notes=f"failed: {error}")


def _attempt(what: str, frames_in: int, measure) -> Throughput:
    """One row's failure (a preset without weights, ffmpeg refusing) is that row's result."""
    try:
        return measure()
    except Exception as exc:
        return failed(what, frames_in, describe(exc))


def end_to_end(source: list[np.ndarray], fps, runs: dict[str, Interpolator | str]) -> list[Throughput]:
    """The clip through ffmpeg alone, through ffmpeg's minterpolate, then through `vnn interpolate`
    as each row of `runs` names it, with its interpolator (or why it cannot run)."""
    frames_in = len(source)
    with tempfile.TemporaryDirectory(prefix="vnn-bench-") as folder:
        folder = Path(folder)
        clip = trim_clip(source, fps, folder)
        results = [ffmpeg_throughput(clip, frames_in, folder),
                   _attempt(MINTERPOLATE_E2E, frames_in, lambda: minterpolate_throughput(clip, frames_in, folder))]
        for what, interpolator in runs.items():
            if isinstance(interpolator, str):
                results.append(failed(what, frames_in, interpolator))
            else:
                results.append(_attempt(what, frames_in, lambda: pipeline_throughput(clip, interpolator, what, folder)))
    return results
