"""Frame-rate up-conversion and slow motion of a video or an image sequence, and the frames
between two images.

Frames stream through, a few pairs at a time: a decode thread reads ahead and an encode thread
writes behind (see `overlap`), so memory does not grow with the clip. On the way, per pair of
consecutive input frames:
  - duplicates (`dedup`) are dropped and the motion is interpolated between the frames that
    really differ, each at the time it first appeared;
  - a scene cut is never interpolated across: the outputs repeat the nearer frame;
  - the fallback judge decides whether the model can be trusted on the pair; where it cannot,
    the outputs are the blend of the two frames;
  - the remaining pairs are synthesized by the model, several pairs per call; a model that uses
    neighbours also gets the input frames before and after each pair (not across a cut), so the
    stream runs one pair behind the decoder.
Each output frame k sits at its own time (k/target seconds for `--fps`, following the input's
real timestamps when its rate varies), so duration and audio stay in sync.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal, Sequence

import numpy as np

from ..core.atomic import atomic_files, atomic_folder
from .compare import Layout
from ..safeguards.dedup import DEFAULT_THRESHOLD as DEFAULT_DEDUP_THRESHOLD
from ..safeguards.dedup import is_duplicate
from .engine import Interpolator
from ..core.errors import InputError, OutputError
from ..core.progress import Progress, no_progress
from ..safeguards.fallback import Judge, decide, stand_in
from ..video.output_guard import check_output, numbered
from .outputs import EncodeOptions, OutputFrame, Outputs
from .overlap import BackgroundWriter, prefetch
from ..core.model_api import Neighbours
from ..safeguards.scenes import DEFAULT_THRESHOLD as DEFAULT_SCENE_THRESHOLD
from ..safeguards.scenes import is_scene_cut
from ..core.timing import FactorTiming, RateTiming, Timing, check_rate, output_count
from ..video.images import is_image, read_image, write_image
from ..video.media import FrameSource, SequenceSink, is_folder_output, is_sequence_output, open_source
from ..video.reader import VideoReader
from ..video.timestamps import FrameTimes, read_frame_times



@dataclass
class JobResult:
    input: Path
    output: Path
    frames_in: int = 0
    frames_out: int = 0
    fps_out: Fraction = Fraction(0)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    cuts: int = 0  # scene cuts found (no frame synthesized across them)
    duplicates: int = 0  # input frames dropped as repeats
    fallbacks: Counter = field(default_factory=Counter)  # reason -> output frames that fell back to a blend
    resumed: int = 0  # output frames an interrupted earlier run had written, not redone
    variable_rate: bool = False  # followed the input's own timestamps
    compare: Path | None = None


@dataclass(frozen=True)
class Workflow:
    """How real footage is handled (see the module's docstring)."""

    scene_threshold: float = DEFAULT_SCENE_THRESHOLD  # 0: no cut detection
    dedup: bool = False
    dedup_threshold: float = DEFAULT_DEDUP_THRESHOLD
    fallback: Literal["auto", "never"] = "auto"
    compare: Path | None = None
    compare_layout: Layout = "side"
    start_number: int | None = None  # first number of a pattern input, and of a sequence output
    overlap: bool = True  # decode and encode in their own threads
    queue_depth: int = 4


@dataclass
class Shown:
    """An input frame and when it is shown, in seconds from the first frame."""

    index: int
    time: Fraction
    frame: np.ndarray


# ---- the stream -------------------------------------------------------------------------------

def timed(frames: Iterable[np.ndarray], fps: Fraction, times: FrameTimes | None) -> Iterator[Shown]:
    for index, frame in enumerate(frames):
        if times is not None and index < len(times.times):
            seconds = times.times[index]
        elif times is not None:  # more frames decoded than stamps listed: continue at the last step
            step = times.times[-1] - times.times[-2] if len(times.times) > 1 else 1 / fps
            seconds = times.times[-1] + step * (index - len(times.times) + 1)
        else:
            seconds = Fraction(index) / fps
        yield Shown(index, seconds, frame)


def deduplicated(shown: Iterable[Shown], threshold: float, result: JobResult) -> Iterator[Shown]:
    """Frames that repeat the last kept one are dropped; the kept one keeps its own time."""
    last: Shown | None = None
    for item in shown:
        if last is not None and is_duplicate(last.frame, item.frame, threshold):
            result.duplicates += 1
            continue
        last = item
        yield item


@dataclass
class _Pair:
    left: Shown
    right: Shown
    times: list[Fraction]
    first_output: int
    mode: str = "model"  # model | cut | fallback | skip
    reason: str | None = None
    previous: "_Pair | None" = None  # the pair before it, and the one after (once decoded)
    next: "_Pair | None" = None
    cut: bool | None = None  # across a scene cut (None: not looked at yet)


class _Synthesis:
    """Decides each pair's fate and yields the outputs in order, batching the model's pairs."""

    def __init__(self, interpolator: Interpolator, timing: Timing, workflow: Workflow, result: JobResult, skip: int):
        self.interpolator, self.timing, self.workflow, self.result = interpolator, timing, workflow, result
        self.skip = skip
        judged = workflow.fallback == "auto" and getattr(interpolator.model, "needs_judge", True)
        self.judge = Judge(max_motion=interpolator.max_motion) if judged else None

    def _classify(self, pair: _Pair) -> None:
        synthesized = [t for t in pair.times if t > 0]
        if pair.first_output + len(pair.times) <= self.skip:
            pair.mode = "skip"
        elif not synthesized:
            pair.mode = "model"
        else:
            left, right = pair.left.frame, pair.right.frame
            pair.mode, pair.reason = decide(left, right, self.workflow.scene_threshold, self.judge,
                                            lambda: self.interpolator.confidence(left, right))
            pair.cut = pair.mode == "cut"
            if pair.mode == "cut":
                self.result.cuts += 1
            elif pair.mode == "fallback":
                self.result.fallbacks[pair.reason] += len(synthesized)

    def _continuous(self, pair: _Pair | None) -> bool:
        """Whether a neighbouring pair joins its frames without a scene cut."""
        if pair is None:
            return False
        if pair.cut is None:
            threshold = self.workflow.scene_threshold
            pair.cut = bool(threshold) and is_scene_cut(pair.left.frame, pair.right.frame, threshold)
        return not pair.cut

    def _neighbours(self, pair: _Pair) -> Neighbours | None:
        """The input frames around the pair, at their times in the pair's own interval."""
        if not self.interpolator.uses_neighbours:
            return None
        span = pair.right.time - pair.left.time
        before = pair.previous.left if self._continuous(pair.previous) else None
        after = pair.next.right if self._continuous(pair.next) else None
        return Neighbours(None if before is None else before.frame, None if after is None else after.frame,
                          float((before.time - pair.left.time) / span) if before else -1.0,
                          float((after.time - pair.left.time) / span) if after else 2.0)

    def _emit(self, pairs: list[_Pair]) -> Iterator[OutputFrame]:
        model_pairs = [p for p in pairs if p.mode == "model" and any(t > 0 for t in p.times)]
        made = self.interpolator.synthesize(
            [(p.left.frame, p.right.frame, [float(t) for t in p.times if t > 0], self._neighbours(p))
             for p in model_pairs])
        for pair in pairs:  # done with the frames around it: no chain of old frames is kept
            pair.previous = pair.next = None
        synthesized = {id(p): iter(frames) for p, frames in zip(model_pairs, made)}
        for pair in pairs:
            left, right = pair.left.frame, pair.right.frame
            for offset, t in enumerate(pair.times):
                if pair.first_output + offset < self.skip:
                    yield OutputFrame(None, left)
                elif t == 0:
                    yield OutputFrame(left, left)
                elif pair.mode in ("cut", "fallback"):
                    yield OutputFrame(stand_in(pair.mode, left, right, t), left)
                else:
                    yield OutputFrame(next(synthesized[id(pair)]), left)

    def outputs(self, shown: Iterable[Shown], clip_end: Callable[[Shown], Fraction]) -> Iterator[OutputFrame]:
        pending: list[_Pair] = []
        queued = 0
        next_output = 0
        previous: Shown | None = None
        last_pair: _Pair | None = None
        # The newest pair waits for the next frame (its neighbour after) before it is synthesized.
        lookahead = 1 if self.interpolator.uses_neighbours else 0
        for item in shown:
            if previous is not None:
                pair = _Pair(previous, item, self.timing.between(previous.time, item.time), next_output,
                             previous=last_pair)
                if last_pair is not None:
                    last_pair.next = pair
                last_pair = pair
                next_output += len(pair.times)
                self._classify(pair)
                pending.append(pair)
                if pair.mode == "model":
                    queued += sum(1 for t in pair.times if t > 0)
                if queued >= self.interpolator.batch_size + lookahead or len(pending) >= self.interpolator.batch_size + lookahead:
                    ready, pending = pending[:len(pending) - lookahead], pending[len(pending) - lookahead:]
                    yield from self._emit(ready)
                    queued = sum(sum(1 for t in p.times if t > 0) for p in pending if p.mode == "model")
            previous = item
        if previous is None:
            raise InputError("no frames: the input is empty")
        if previous.index == 0 and self.result.duplicates == 0:
            raise InputError("only one frame: interpolation needs at least two")
        yield from self._emit(pending)
        for offset in range(self.timing.tail(previous.time, clip_end(previous))):
            yield OutputFrame(None if next_output + offset < self.skip else previous.frame, previous.frame)


def stream(frames: Iterable[np.ndarray], interpolator: Interpolator, timing: Timing,
           on_input: Callable[[int], None] | None = None) -> Iterator[np.ndarray]:
    """The output frames, in order, for constant-rate `frames` under `timing` (no cut detection,
    no fallback: the model on every pair). Needs at least two input frames."""
    result = JobResult(Path(), Path())
    plain = Workflow(scene_threshold=0, fallback="never")

    def counted() -> Iterator[Shown]:
        for item in timed(frames, Fraction(1), None):
            if on_input:
                on_input(item.index + 1)
            yield item

    for output in _Synthesis(interpolator, timing, plain, result, 0).outputs(counted(), lambda last: last.time + 1):
        yield output.frame


# ---- one job ----------------------------------------------------------------------------------

def _fingerprint(input_path: Path, timing: Timing, out_fps: Fraction, interpolator: Interpolator, workflow: Workflow,
                 options: EncodeOptions) -> str:
    """What makes two runs the same job, so a rerun resumes only its own unfinished frames."""
    stat = Path(input_path).stat() if Path(input_path).is_file() else None
    facts = {
        "input": str(Path(input_path).resolve()), "size": stat.st_size if stat else None,
        "mtime": stat.st_mtime_ns if stat else None, "timing": repr(timing), "fps": str(out_fps),
        "model": type(interpolator.model).__name__, "params": repr(getattr(interpolator.model, "params", None)),
        "scale": interpolator.scale, "workflow": {k: str(v) for k, v in asdict(workflow).items() if k not in ("overlap", "queue_depth")},
        "format": options.image_format,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def _frame_times(source: FrameSource) -> FrameTimes | None:
    if isinstance(source, VideoReader) and not source.start and source.end is None:
        return read_frame_times(source.path)
    return getattr(source, "frame_times", None)  # an image sequence with gaps in its numbering


def _choose_timing(source_fps: Fraction, factor: int, fps: Fraction | None, follow_times: bool) -> tuple[Timing, Fraction]:
    """`--fps` wins over `--factor`; returns the timing and the output rate. With the input's own
    timestamps (variable rate, or duplicates dropped), a factor means that many times the source's
    nominal rate, each output at its own time."""
    if fps is not None:
        if fps <= source_fps:
            raise InputError(f"target rate {fps} fps is not above the source's {float(source_fps):.3f} fps")
        check_rate(fps, source_fps, f"--fps {fps}")
        return RateTiming(fps), fps
    if follow_times:
        return RateTiming(source_fps * factor), source_fps * factor
    return FactorTiming(factor), source_fps * factor


def frame_rate_timing(source_fps: Fraction, factor: int, fps: Fraction | None) -> tuple[Timing, Fraction]:
    return _choose_timing(source_fps, factor, fps, follow_times=False)


def convert(input_path: Path, output: Path, interpolator: Interpolator, timing: Timing | None, out_fps: Fraction | None,
            options: EncodeOptions, *, image_fps: Fraction | None = None, audio: bool = True,
            audio_filter: str | None = None, progress: Progress = no_progress, workflow: Workflow = Workflow(),
            choose: Callable[[Fraction, bool], tuple[Timing, Fraction]] | None = None) -> JobResult:
    """Read `input_path`, write every output frame to `output` (a video file, a folder or a
    numbered pattern). `choose(source_fps, follows_timestamps)` picks the timing once the source is
    known; otherwise `timing` and `out_fps` are used as given."""
    started = time.perf_counter()
    # A source of more than 8 bits per channel streams as 16-bit frames, so its precision reaches the output.
    source = open_source(input_path, image_fps, workflow.start_number, depth="source" if options.depth == "source" else 8)
    output = Path(output)
    # A folder output owns its numbered frames only: other files in that folder stay.
    owned = numbered("%06d", "." + options.image_format.lower().lstrip(".")) if is_folder_output(output) else None
    check_output(output, options.overwrite, (input_path,), owned=owned)
    if workflow.compare is not None:
        check_output(Path(workflow.compare), options.overwrite, (input_path,))
    frame_times = _frame_times(source)
    if choose is not None:
        timing, out_fps = choose(source.fps, frame_times is not None or workflow.dedup)
    result = JobResult(Path(input_path), output, fps_out=out_fps,
                       variable_rate=frame_times is not None and isinstance(source, VideoReader))
    result.notes += [*source.notes, *interpolator.notes]
    fps = source.fps

    def clip_end(last: Shown) -> Fraction:
        if frame_times is not None and result.frames_in == len(frame_times.times):
            return frame_times.end
        return Fraction(result.frames_in) / fps if frame_times is None else last.time + 1 / fps

    if frame_times is not None:
        total = output_count(timing, frame_times.times, frame_times.end) if not workflow.dedup or isinstance(timing, RateTiming) else None
    elif source.n_frames > 1 and (isinstance(timing, RateTiming) or not workflow.dedup):
        total = output_count(timing, [Fraction(i) / fps for i in range(source.n_frames)], Fraction(source.n_frames) / fps)
    else:
        total = None

    frames: Iterable[np.ndarray] = prefetch(source, workflow.queue_depth) if workflow.overlap else source

    def counted(shown: Iterable[Shown]) -> Iterator[Shown]:
        for item in shown:
            result.frames_in = item.index + 1
            yield item

    shown: Iterable[Shown] = counted(timed(frames, fps, frame_times))
    if workflow.dedup:
        shown = deduplicated(shown, workflow.dedup_threshold, result)

    sequence = SequenceSink(output, options.image_format, workflow.start_number or 0,
                            _fingerprint(input_path, timing, out_fps, interpolator, workflow, options),
                            fps=out_fps) if is_sequence_output(output) else None
    result.resumed = sequence.done if sequence else 0
    synthesis = _Synthesis(interpolator, timing, workflow, result, result.resumed)
    try:
        with Outputs(output, sequence, source, out_fps, options, audio, audio_filter, compare=workflow.compare,
                     compare_layout=workflow.compare_layout, model_name=type(interpolator.model).__name__.lower()) as write:
            writer = BackgroundWriter(write, workflow.queue_depth) if workflow.overlap else None
            try:
                for item in synthesis.outputs(shown, clip_end):
                    (writer or write)(item)
                    result.frames_out += 1
                    progress(result.frames_out, total)
                if writer:
                    writer.close()
            except BaseException:
                if writer:
                    writer.abort()
                raise
    except Exception:  # a failure; an interrupt leaves the partial sequence, so the same command resumes it
        if sequence is not None:
            sequence.discard()
        raise
    finally:
        close = getattr(frames, "close", None)
        if close is not None:  # stops the decode thread and its ffmpeg now, not at garbage collection
            close()
    if workflow.compare is not None:
        result.compare = Path(workflow.compare)
    result.seconds = time.perf_counter() - started
    return result


def interpolate_video(input_path: Path, output: Path, interpolator: Interpolator, *, factor: int = 2,
                      fps: Fraction | None = None, options: EncodeOptions = EncodeOptions(),
                      image_fps: Fraction | None = None, progress: Progress = no_progress,
                      workflow: Workflow = Workflow()) -> JobResult:
    """Same duration, more frames: `factor` times the rate, or exactly `fps`; the audio is kept."""

    def choose(source_fps: Fraction, follow_times: bool) -> tuple[Timing, Fraction]:
        return _choose_timing(source_fps, factor, fps, follow_times)

    return convert(input_path, output, interpolator, None, None, options, image_fps=image_fps, progress=progress,
                   workflow=workflow, choose=choose)


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
                 image_fps: Fraction | None = None, progress: Progress = no_progress,
                 workflow: Workflow = Workflow()) -> JobResult:
    """`factor` times slower, played at the source rate (or `fps`); audio dropped or stretched."""

    def choose(source_fps: Fraction, follow_times: bool) -> tuple[Timing, Fraction]:
        play_fps = fps or source_fps
        if play_fps == source_fps and not follow_times:
            return FactorTiming(factor), play_fps
        check_rate(play_fps * factor, source_fps, f"--fps {play_fps} with --factor {factor}")
        return RateTiming(play_fps * factor), play_fps

    return convert(input_path, output, interpolator, None, None, options, image_fps=image_fps,
                   audio=audio == "stretch", audio_filter=atempo_chain(1 / factor), progress=progress,
                   workflow=workflow, choose=choose)


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
    inputs = (image0, image1)
    # All of the frames appear, or none (a full disk at the fourth of five leaves nothing).
    if is_folder_output(output):
        owned = numbered("%06d", ".png")
        check_output(output, overwrite, inputs, owned=owned)
        frames = [frame0, *interpolator(frame0, frame1, list(times)), frame1]
        names = [f"{i:06d}.png" for i in range(len(frames))]
        with atomic_folder(output, owned=owned) as temp:
            for name, frame in zip(names, frames):
                write_image(temp / name, frame)
        return [output / name for name in names]
    if not is_image(output):
        raise OutputError(f"output {output} is neither an image file nor a folder")
    targets = [output] if len(times) == 1 else [output.with_name(f"{output.stem}_{i}{output.suffix}") for i in range(1, len(times) + 1)]
    for target in targets:
        check_output(target, overwrite, inputs)
    frames = interpolator(frame0, frame1, list(times))
    with atomic_files(targets) as temps:
        for temp, frame in zip(temps, frames):
            write_image(temp, frame)
    return targets
