"""Frame-rate up-conversion and slow motion of a video or an image sequence, and the frames
between two images. Frames stream through: two input frames are held at a time."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .atomic import atomic_file, check_writable
from .engine import Interpolator
from .errors import InputError, OutputError
from .timing import FactorTiming, RateTiming, Timing
from .video.images import is_image, read_image, write_image
from .video.media import FrameSource, image_sink, is_folder_output, open_source, video_sink

Progress = Callable[[int, int | None], None]  # (frames written, total expected or None)


def _no_progress(done: int, total: int | None) -> None:
    pass


@dataclass
class JobResult:
    input: Path
    output: Path
    frames_in: int = 0
    frames_out: int = 0
    fps_out: Fraction = Fraction(0)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EncodeOptions:
    codec: str = "libx264"
    crf: int | None = 18
    preset: str | None = "medium"
    image_format: str = "png"
    overwrite: bool = False


def _pairs(frames: Iterable[np.ndarray]) -> Iterator[tuple[int, np.ndarray, np.ndarray | None]]:
    """(index, frame, next frame or None for the last)."""
    iterator = iter(frames)
    previous = next(iterator, None)
    index = 0
    for current in iterator:
        yield index, previous, current
        previous, index = current, index + 1
    if previous is not None:
        yield index, previous, None


def stream(frames: Iterable[np.ndarray], interpolator: Interpolator, timing: Timing,
           on_input: Callable[[int], None] | None = None) -> Iterator[np.ndarray]:
    """The output frames, in order, for `frames` under `timing`. Needs at least two input frames."""
    count = 0
    for index, frame, following in _pairs(frames):
        count = index + 1
        if on_input:
            on_input(count)
        if following is None:
            if index == 0:
                raise InputError("only one frame: interpolation needs at least two")
            for _ in range(timing.tail(index + 1)):
                yield frame
            break
        times = timing.pair(index)
        synthesized = iter(interpolator(frame, following, [float(t) for t in times if t > 0]))
        for t in times:
            yield frame if t == 0 else next(synthesized)
    if count == 0:
        raise InputError("no frames: the input is empty")


def _expected_outputs(source: FrameSource, timing: Timing) -> int | None:
    from .timing import output_count

    return output_count(timing, source.n_frames) if source.n_frames > 1 else None


def convert(input_path: Path, output: Path, interpolator: Interpolator, timing: Timing, out_fps: Fraction,
            options: EncodeOptions, *, image_fps: Fraction = Fraction(24), audio: bool = True,
            audio_filter: str | None = None, progress: Progress = _no_progress) -> JobResult:
    """Read `input_path`, write every output frame of `timing` to `output` (a video file or a folder)."""
    started = time.perf_counter()
    source = open_source(input_path, image_fps)
    output = Path(output)
    check_writable(output, options.overwrite, (Path(input_path),))
    result = JobResult(Path(input_path), output, fps_out=out_fps)
    total = _expected_outputs(source, timing)

    def count_input(n: int) -> None:
        result.frames_in = n

    frames = stream(source, interpolator, timing, count_input)
    if is_folder_output(output):
        sink = image_sink(output, options.image_format)
    else:
        audio_from = source.audio if audio else None
        sink = video_sink(output, source.width, source.height, out_fps, codec=options.codec, crf=options.crf,
                          preset=options.preset, audio_from=audio_from, audio_filter=audio_filter)
    with sink as write:
        for frame in frames:
            write(frame)
            result.frames_out += 1
            progress(result.frames_out, total)
    result.seconds = time.perf_counter() - started
    return result


def frame_rate_timing(source_fps: Fraction, factor: int, fps: Fraction | None) -> tuple[Timing, Fraction]:
    """`--fps` wins over `--factor`; returns the timing and the output rate."""
    if fps is not None:
        if fps <= source_fps:
            raise InputError(f"target rate {fps} fps is not above the source's {float(source_fps):.3f} fps")
        return RateTiming(source_fps, fps), fps
    return FactorTiming(factor), source_fps * factor


def interpolate_video(input_path: Path, output: Path, interpolator: Interpolator, *, factor: int = 2,
                      fps: Fraction | None = None, options: EncodeOptions = EncodeOptions(),
                      image_fps: Fraction = Fraction(24), progress: Progress = _no_progress) -> JobResult:
    """Same duration, more frames: `factor` times the rate, or exactly `fps`; the audio is kept."""
    source_fps = open_source(input_path, image_fps).fps
    timing, out_fps = frame_rate_timing(source_fps, factor, fps)
    return convert(input_path, output, interpolator, timing, out_fps, options, image_fps=image_fps, progress=progress)


def atempo_chain(speed: float) -> str:
    """ffmpeg's atempo keeps the pitch but takes 0.5..2 per stage: chain stages for other speeds."""
    stages = []
    while speed < 0.5:
        stages.append(0.5)
        speed /= 0.5
    stages.append(speed)
    return ",".join(f"atempo={s:.6f}" for s in stages)


def slowmo_video(input_path: Path, output: Path, interpolator: Interpolator, *, factor: int = 2,
                 fps: Fraction | None = None, audio: str = "stretch", options: EncodeOptions = EncodeOptions(),
                 image_fps: Fraction = Fraction(24), progress: Progress = _no_progress) -> JobResult:
    """`factor` times slower, played at the source rate (or `fps`); audio dropped or stretched."""
    source_fps = open_source(input_path, image_fps).fps
    play_fps = fps or source_fps
    timing = FactorTiming(factor) if play_fps == source_fps else RateTiming(source_fps, play_fps * factor)
    return convert(input_path, output, interpolator, timing, play_fps, options, image_fps=image_fps,
                   audio=audio == "stretch", audio_filter=atempo_chain(1 / factor), progress=progress)


def default_slowmo_output(input_path: Path, factor: int) -> Path:
    input_path = Path(input_path)
    if input_path.is_dir():
        return input_path.with_name(f"{input_path.name}_slowmo{factor}x")
    return input_path.with_name(f"{input_path.stem}_slowmo{factor}x.mp4")


def interpolate_pair(image0: Path, image1: Path, output: Path, interpolator: Interpolator,
                     times: Sequence[float] = (0.5,), overwrite: bool = False) -> list[Path]:
    """The frames between two images. One time and an image name: that file. Several times and an
    image name: NAME_1.png, NAME_2.png... A folder: the whole sequence 000000.png (image0) to the end."""
    frame0, frame1 = read_image(image0), read_image(image1)
    if frame0.shape != frame1.shape or frame0.dtype != frame1.dtype:
        raise InputError(f"{image0} and {image1} differ in size or format ({frame0.shape} {frame0.dtype} vs {frame1.shape} {frame1.dtype})")
    output = Path(output)
    if is_folder_output(output):
        targets = [output / f"{i:06d}.png" for i in range(len(times) + 2)]
        frames = [frame0, *interpolator(frame0, frame1, list(times)), frame1]
    else:
        if not is_image(output):
            raise OutputError(f"output {output} is neither an image file nor a folder")
        frames = interpolator(frame0, frame1, list(times))
        targets = [output] if len(times) == 1 else [output.with_name(f"{output.stem}_{i}{output.suffix}") for i in range(1, len(times) + 1)]
    for target in targets:
        check_writable(target, overwrite, (Path(image0), Path(image1)))
    for target, frame in zip(targets, frames):
        with atomic_file(target) as temp:
            write_image(temp, frame)
    return targets
