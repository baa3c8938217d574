"""One conversion job: frame-rate up-conversion (`interpolate`) or slow motion (`slowmo`) of one
video or image sequence into a video file, a folder or a numbered pattern.

Frames stream through (see `stream`), a few pairs at a time: a decode thread reads ahead and an
encode thread writes behind (see `overlap`), so memory does not grow with the clip. An image
sequence output is resumable: a rerun of the same job keeps the frames an interrupted run wrote.

With `Workflow.frames` (`--frames A-B`) the job is a range run: it writes a part, the whole run's
output frames shown during input frames A to B, and records in it the source, the range and the
settings (see `parts`), for `vnn join` to put the parts together.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal

import numpy as np

from ..core.errors import SettingsError
from ..core.progress import Progress, no_progress
from ..core.result import JobResult
from ..core.timing import FactorTiming, RateTiming, Timing, check_rate, output_count
from ..safeguards.dedup import DEFAULT_THRESHOLD as DEFAULT_DEDUP_THRESHOLD
from ..safeguards.scenes import DEFAULT_THRESHOLD as DEFAULT_SCENE_THRESHOLD
from ..video.media import FrameSource, SequenceSink, is_folder_output, is_sequence_output, open_source
from ..video.output_guard import check_output, numbered
from ..video.reader import VideoReader
from ..video.timestamps import FrameTimes, read_frame_times
from .compare import Layout
from .engine import Interpolator
from .outputs import EncodeOptions, Outputs
from .overlap import BackgroundWriter, prefetch
from .parts import PartRecord, check_part_output, source_identity, unmarked, write_record
from .stream import FrameRange, Outside, Shown, Synthesis, Window, deduplicated, timed
from ..video.containers import choose_codec


@dataclass(frozen=True)
class Workflow:
    """How real footage is handled (see `stream`), and where the job's extra outputs go."""

    scene_threshold: float = DEFAULT_SCENE_THRESHOLD  # 0: no cut detection
    dedup: bool = False
    dedup_threshold: float = DEFAULT_DEDUP_THRESHOLD
    fallback: Literal["auto", "never"] = "auto"
    compare: Path | None = None
    compare_layout: Layout = "side"
    start_number: int | None = None  # first number of a pattern input, and of a sequence output
    overlap: bool = True  # decode and encode in their own threads
    queue_depth: int = 4
    deinterlace: bool = False  # an interlaced video's fields made into frames first (bwdif)
    frames: FrameRange | None = None  # a range run: only the outputs of these input frames (a part)


def _fingerprint(input_path: Path, timing: Timing, out_fps: Fraction, interpolator: Interpolator, workflow: Workflow,
                 options: EncodeOptions) -> str:
    """What makes two runs the same job, so a rerun resumes only its own unfinished frames."""
    stat = Path(input_path).stat() if Path(input_path).is_file() else None
    # a whole run's fingerprint is as before `frames` existed: its unfinished sequences still resume
    facts = {
        "input": str(Path(input_path).resolve()), "size": stat.st_size if stat else None,
        "mtime": stat.st_mtime_ns if stat else None, "timing": repr(timing), "fps": str(out_fps),
        "model": type(interpolator.model).__name__, "params": repr(getattr(interpolator.model, "params", None)),
        "scale": interpolator.scale,
        "workflow": {k: str(v) for k, v in asdict(workflow).items()
                     if k not in ("overlap", "queue_depth") and not (k == "frames" and v is None)},
        "format": options.image_format,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def _part_settings(output: Path, timing: Timing, out_fps: Fraction, interpolator: Interpolator, workflow: Workflow,
                   options: EncodeOptions, audio: bool, audio_filter: str | None, stretch: float) -> dict:
    """Everything that makes two runs' frames (and the join's audio) the same, by name, so that the
    join can say which setting differs between two parts. The device is not among them: a farm's
    machines may differ (a model's results may then differ in their last bits)."""
    video = not is_sequence_output(output)
    ignored = ("overlap", "queue_depth", "frames", "compare", "compare_layout")
    return {
        "timing": repr(timing), "fps": str(out_fps), "model": type(interpolator.model).__name__,
        "params": repr(getattr(interpolator.model, "params", None)), "scale": str(interpolator.scale),
        "batch_size": str(interpolator.batch_size), "precision": str(interpolator.dtype).replace("torch.", ""),
        "tile": str(interpolator.tile), "tile_overlap": str(interpolator.tile_overlap),
        **{k: str(v) for k, v in asdict(workflow).items() if k not in ignored},
        "container": output.suffix.lower() if video else "folder",
        "codec": choose_codec(output, options.codec)[1] if video else options.image_format,
        "crf": str(options.crf), "encoder_preset": str(options.preset), "depth": options.depth,
        "audio": str(audio), "audio_filter": str(audio_filter), "stretch": str(stretch),
    }


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
            raise SettingsError(f"target rate {fps} fps is not above the source's {float(source_fps):.3f} fps")
        check_rate(fps, source_fps, f"--fps {fps}")
        return RateTiming(fps), fps
    if follow_times:
        return RateTiming(source_fps * factor), source_fps * factor
    return FactorTiming(factor), source_fps * factor


def convert(input_path: Path, output: Path, interpolator: Interpolator, timing: Timing | None, out_fps: Fraction | None,
            options: EncodeOptions, *, image_fps: Fraction | None = None, audio: bool = True,
            audio_filter: str | None = None, progress: Progress = no_progress, workflow: Workflow = Workflow(),
            choose: Callable[[Fraction, bool], tuple[Timing, Fraction]] | None = None, stretch: float = 1) -> JobResult:
    """Read `input_path`, write every output frame to `output` (a video file, a folder or a
    numbered pattern). `choose(source_fps, follows_timestamps)` picks the timing once the source is
    known; otherwise `timing` and `out_fps` are used as given. `stretch`: how many times longer
    the output lasts (slowmo's factor), for the streams carried over (audio starts, subtitles,
    chapters)."""
    started = time.perf_counter()
    # A source of more than 8 bits per channel streams as 16-bit frames, so its precision reaches the output.
    source = open_source(input_path, image_fps, workflow.start_number, depth="source" if options.depth == "source" else 8,
                         deinterlace=workflow.deinterlace)
    output = Path(output)
    window = Window(workflow.frames) if workflow.frames is not None else None
    if window is not None:
        check_part_output(output)
        if workflow.compare is not None:
            raise SettingsError("--compare is for whole runs, not --frames parts")
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
    interpolator.model.work_notes()  # what it says of earlier jobs is not this one's
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
    if window is not None:  # before dedup: a range counts every decoded frame
        shown = window.watch(shown)
    if workflow.dedup:
        shown = deduplicated(shown, workflow.dedup_threshold, result)

    sequence = SequenceSink(output, options.image_format, workflow.start_number or 0,
                            _fingerprint(input_path, timing, out_fps, interpolator, workflow, options),
                            fps=out_fps) if is_sequence_output(output) else None
    result.resumed = sequence.done if sequence else 0
    synthesis = Synthesis(interpolator, timing, workflow.scene_threshold, workflow.fallback, result, result.resumed,
                          window)
    # A video part is encoded beside its name and appears under it once its record is in; it holds
    # the video only: the join adds the source's audio and the rest.
    target = unmarked(output) if window is not None and sequence is None else output
    before = 0  # a range run: the whole run's outputs before the range
    if window is not None:
        total = None
    try:
        with Outputs(target, sequence, source, out_fps, options, audio and window is None, audio_filter, compare=workflow.compare,
                     compare_layout=workflow.compare_layout, model_name=type(interpolator.model).__name__.lower(),
                     stretch=stretch) as write:
            writer = BackgroundWriter(write, workflow.queue_depth) if workflow.overlap else None
            try:
                for item in synthesis.outputs(shown, clip_end):
                    if isinstance(item, Outside):
                        before += 1
                        if sequence is not None:  # counted, so the part's frames keep the whole run's numbers
                            (writer or write)(item)
                        continue
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
    if window is not None:
        last = window.last_index if window.end is None else workflow.frames.last
        record = PartRecord(source_identity(input_path), (workflow.frames.first, last), (before, before + result.frames_out),
                            window.end is None,
                            _part_settings(output, timing, out_fps, interpolator, workflow, options, audio, audio_filter, stretch))
        write_record(target, output, record)
    if workflow.compare is not None:
        result.compare = Path(workflow.compare)
    result.notes += interpolator.model.work_notes()
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
                   workflow=workflow, choose=choose, stretch=factor)


def default_slowmo_output(input_path: Path, factor: int) -> Path:
    input_path = Path(input_path)
    if input_path.is_dir():
        return input_path.with_name(f"{input_path.name}_slowmo{factor}x")
    return input_path.with_name(f"{input_path.stem}_slowmo{factor}x.mp4")
