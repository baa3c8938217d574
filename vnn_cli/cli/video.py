"""`vnn interpolate` and `vnn slowmo`."""
from __future__ import annotations

from pathlib import Path

import click

from ..core.errors import OutputError, SettingsError
from ..core.result import JobResult
from ..core.settings import ClusterSettings, one_output_rate, resolve
from ..render.batch import run_batch
from ..render.cluster import ClusterAddress, Executor, run_clip, run_files
from ..render.job import Workflow, default_slowmo_output, interpolate_video, slowmo_video
from ..render.outputs import EncodeOptions
from ..render.pair import PairResult, interpolate_pair
from ..render.pipeline import build_interpolator
from ..render.ranges import parse_frames
from ..safeguards.scenes import DEFAULT_THRESHOLD as DEFAULT_SCENE_THRESHOLD
from ..core.timing import MAX_FACTOR
from ..video.images import is_image
from ..video.media import expand_inputs, is_video
from .common import command, exit_on, model_param_option, pass_params, progress_option, runtime_options, settings_for
from .render import console, console_err, frame_progress, report_batch


def model_options(function):
    for option in reversed([
        click.option("-m", "--model", default=None, help="Model name (see `vnn models`); default: the preset's."),
        click.option("--preset", "preset", type=click.Choice(["fast", "balanced", "best"]), default=None,
                     help="fast: classical flow; balanced (default): fusion, RIFE on every pair, self-graded; best: balanced with RIFE 4.25 averaged into RIFE's candidate."),
        click.option("--weights", type=click.Path(path_type=Path), default=None, help="Weights file (default: the shipped ones)."),
        model_param_option,
        click.option("--batch-size", type=int, default=None, help="Frames synthesized per model call (a model that uses the frames around each pair takes one pair a call)."),
    ]):
        function = option(function)
    return function


def encode_options(function):
    for option in reversed([
        click.option("--codec", default=None, help="Video encoder (default: the container's: libx264 for .mp4/.mov/.mkv, libvpx-vp9 for .webm, gif for .gif)."),
        click.option("--crf", type=int, default=None, help="Quality for x264/x265: 0 lossless .. 51 worst (default 18)."),
        click.option("--encoder-preset", default=None, help="x264/x265 speed preset (default medium)."),
        click.option("--image-format", default=None, help="Format for a folder output: png (default), tiff, jpg..."),
        click.option("--depth", type=click.Choice(["source", "8"]), default=None,
                     help="Bits per channel out: as the source (default; a 10-bit video gives a 10-bit one, a 4:2:2 one 4:2:2) or 8 (8-bit 4:2:0: plays everywhere)."),
        click.option("--input-fps", "--image-fps", "image_fps", default=None,
                     help="Frame rate of an image-sequence input (default: the rate vnn recorded in its frames, else 24)."),
        click.option("--overwrite/--no-overwrite", default=None, help="Replace existing outputs (default: skip or refuse)."),
    ]):
        function = option(function)
    return function


def workflow_options(function):
    for option in reversed([
        click.option("--scene-threshold", type=float, default=None,
                     help=f"Scene-cut threshold (default {DEFAULT_SCENE_THRESHOLD}; lower finds more cuts, 0 disables): "
                          "no frame is blended across a cut, the nearer frame repeats."),
        click.option("--dedup/--no-dedup", default=None,
                     help="Drop exact and near-duplicate frames and interpolate the real motion at its own times (default off)."),
        click.option("--dedup-threshold", type=float, default=None, help="Largest difference (8-bit levels) that counts as a duplicate (default 1.5)."),
        click.option("--fallback", type=click.Choice(["auto", "never"]), default=None,
                     help="auto (default): pairs the model cannot be trusted on (huge motion, large occlusions, low confidence) get a blend."),
        click.option("--scale", type=float, default=None, help="Estimate motion at this scale, e.g. 0.5 for 4K (models that support it)."),
        click.option("--tile", type=int, default=None, help="Run the model on tiles of this many pixels (default: 1024 above 2560x1440; 0: never)."),
        click.option("--tile-overlap", type=int, default=None, help="Pixels tiles overlap, seams blended across them (default 64)."),
        click.option("--compare", type=click.Path(path_type=Path), default=None,
                     help="Also write a labelled video of the input (frames repeated) beside the result, at the output rate."),
        click.option("--compare-layout", type=click.Choice(["side", "stack"]), default=None, help="side (default) or stack (top/bottom)."),
        click.option("--start-number", type=int, default=None,
                     help="First number of a pattern input (frame_%05d.png; default: the lowest present) and of a sequence output (default 0)."),
        click.option("--deinterlace/--no-deinterlace", default=None,
                     help="Deinterlace an interlaced video first (ffmpeg bwdif, one frame per frame); default off: a warning names it."),
        click.option("--frames", default=None, metavar="FIRST-LAST",
                     help="Write only the part of the run shown during input frames FIRST to LAST (from 0), into a .mkv/.mp4/.mov "
                          "or a folder; parts of one run on many machines are put together with `vnn join`."),
    ]):
        function = option(function)
    return function


def _workflow(section, compare: Path | None = None) -> Workflow:
    return Workflow(scene_threshold=section.scene_threshold, dedup=section.dedup, dedup_threshold=section.dedup_threshold,
                    fallback=section.fallback, compare=compare if compare is not None else section.compare,
                    compare_layout=section.compare_layout, start_number=section.start_number, deinterlace=section.deinterlace,
                    frames=parse_frames(section.frames) if section.frames else None)


def _refuse_frames_for_batch(section, batch: bool) -> None:
    """A part belongs to one input's run: --frames with several inputs is refused, not applied to each."""
    if section.frames and batch:
        raise SettingsError("--frames makes a part of one input's run: give one input")


def _compare_for(section, path: Path, batch: bool) -> Path | None:
    """In a batch, --compare names a folder holding one compare video per input."""
    if section.compare is None or not batch:
        return section.compare
    return section.compare / f"{path.stem}_compare.mp4"


def _summary(result: JobResult) -> list[str]:
    """What happened on the way, one line each: only what is worth telling."""
    lines = []
    if result.variable_rate:
        lines.append("variable frame rate: followed the input's own timestamps")
    if result.resumed:
        lines.append(f"resumed: {result.resumed} frames from an interrupted run kept, not redone")
    if result.duplicates:
        lines.append(f"duplicates dropped: {result.duplicates} input frames")
    if result.cuts:
        lines.append(f"scene cuts: {result.cuts} (nearer frame repeated, nothing blended across)")
    if result.fallbacks:
        reasons = ", ".join(f"{reason} {count}" for reason, count in result.fallbacks.most_common())
        lines.append(f"fell back to a blend: {sum(result.fallbacks.values())} frames ({reasons})")
    if result.compare is not None:
        lines.append(f"compare view: {result.compare}")
    return lines + list(result.notes)


def _pair_warnings(result: PairResult, images: list[Path]) -> list[str]:
    """What a video's summary would say of the pair, as warnings: the frames are not the model's."""
    names = f"{images[0].name} and {images[1].name}"
    if result.cut:
        return [f"{names} look like different scenes (a scene cut): the nearer image repeated, nothing "
                f"blended across (--scene-threshold 0 blends them)"]
    if result.fallback:
        return [f"fell back to a blend: the model is not trusted on {names} ({result.fallback}; "
                f"--fallback never uses it anyway)"]
    return []


def _encode(section) -> EncodeOptions:
    return EncodeOptions(section.codec, section.crf, section.encoder_preset, section.image_format, section.overwrite, section.depth)


def _plan(inputs: list[Path], output: Path | None) -> tuple[list[Path], bool]:
    """The inputs to process, and whether they run as a batch (several, or a folder of videos)."""
    expanded = expand_inputs(inputs)
    batch = len(inputs) > 1 or expanded != inputs
    if batch and output is not None and (output.is_file() or is_video(output)):
        raise OutputError(f"output {output} must be a folder when there are several inputs")
    return expanded, batch


def _run(inputs: list[Path], batch: bool, output_for, job, overwrite: bool) -> None:
    """One input: errors propagate as one line. A batch: failures collected, a summary table."""
    if not batch:
        output = output_for(inputs[0])
        with frame_progress(inputs[0].name) as progress:
            result = job(inputs[0], output, progress)
        console.print(f"{result.output}: {result.frames_in} → {result.frames_out} frames at "
                      f"{float(result.fps_out):.3f} fps in {result.seconds:.1f} s")
        for line in _summary(result):
            console.print(f"  {line}")
        return

    def one(path: Path, output: Path):
        with frame_progress(path.name) as progress:
            return job(path, output, progress)

    items = run_batch(inputs, output_for, one, overwrite=overwrite)
    report_batch(items)
    exit_on(1 if any(item.status == "failed" for item in items) else 0)


def cluster_option(function):
    return click.option("--cluster", default=None, metavar="ADDRESS",
                        help="Run across a Ray cluster: auto, ray://HOST:PORT, or local:N (N workers here); inputs and "
                             "outputs on storage every node sees. Needs pip install 'vnn[cluster]'; [cluster] in vnn.toml.")(function)


def _cluster_settings(params: dict) -> ClusterSettings:
    """`--cluster` over `[cluster]` in vnn.toml and VNN_CLUSTER_*; an address of None runs here."""
    flag = params.pop("cluster")
    if flag is not None:
        ClusterAddress.parse(flag)  # its refusal names --cluster, where the settings' would say address
    _, cluster = resolve("cluster", {"address": flag}, params.get("config"), check_env=False)  # settings_for checks it
    return cluster


def _on_cluster(command: str, cluster: ClusterSettings, runtime, section, inputs: list[Path], batch: bool,
                output_for) -> None:
    """The job across the cluster (render/cluster.py): one clip in ranges, or a batch one file a task."""
    if section.frames or (section.compare is not None and not batch):  # a part has no compare view of its own
        raise SettingsError(f"--cluster runs whole jobs in parts: {'--frames' if section.frames else '--compare'} is for a run here")
    executor = Executor(ClusterAddress.parse(cluster.address), cluster.workers, cluster.range_frames,
                        gpu=runtime.device.startswith("cuda"))
    audio = getattr(section, "audio", "stretch")
    if not batch:
        with frame_progress(inputs[0].name) as progress:
            result = run_clip(executor, inputs[0], output_for(inputs[0]), runtime, section, command=command,
                              options=_encode(section), workflow=_workflow(section), audio=audio, progress=progress)
    else:
        with frame_progress(f"{len(inputs)} inputs") as progress:
            result = run_files(executor, [(path, output_for(path)) for path in inputs], runtime, section,
                               command=command, options=_encode(section), audio=audio, progress=progress,
                               workflow_for=lambda path: _workflow(section, _compare_for(section, path, batch)))
    where = f"{result.workers} worker{'s' * (result.workers != 1)} on {len(result.nodes)} node{'s' * (len(result.nodes) != 1)}"
    console.print(f"{result.output}: {result.frames_out} frames in {result.seconds:.1f} s, {where}"
                  if not batch else f"{len(inputs) - result.resumed} outputs in {result.seconds:.1f} s, {where}")
    if result.resumed:
        console.print(f"  resumed: {result.resumed} {'outputs' if batch else 'parts'} of an earlier run kept, not redone")
    if result.retried:
        console.print(f"  retried: {result.retried} {'inputs' if batch else 'ranges'} whose worker died ran again")


@command("interpolate", "vnn interpolate clip.mp4 --factor 2 -o smooth.mp4")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Video file, image file (two-image input) or folder (image sequence; batch).")
@click.option("-f", "--factor", type=int, default=None, help=f"Output frames per input frame, 2 to {MAX_FACTOR} (default 2).")
@click.option("--fps", default=None,
              help=f"Exact target rate instead of --factor (not both), e.g. 60 or 60000/1001; at most {MAX_FACTOR} times the source's.")
@click.option("--time", "time_", type=float, default=None, help="Two images: the time of the frame to make (default 0.5).")
@click.option("--times", default=None, help="Two images: several times, e.g. 0.25,0.5,0.75.")
@click.option("--count", type=int, default=None, help="Two images: N evenly spaced frames between them.")
@model_options
@workflow_options
@encode_options
@progress_option
@cluster_option
@runtime_options
@pass_params
def interpolate_command(params: dict) -> None:
    """Raise the frame rate of videos or image sequences, or make the frames between two images.

    A video keeps its duration and its audio: --factor N (any N >= 2) turns M frames into
    (M-1)*N+1 at N times the rate (as a folder: output frame N*k is input frame k); --fps
    TARGET (60, 119.88, 60000/1001 ...) puts output frame k at exactly k/TARGET seconds, each
    synthesized at its own t between the two inputs around it. Models that take any t are called
    at those times; models that only know t=0.5 reach other times by recursive bisection up to
    the nearest power of two, then take the nearest time (factor 3: 1/4 and 3/4).
    Variable-frame-rate input is followed from its own timestamps.

    Real footage: scene cuts are detected and never blended across; --dedup drops repeated
    frames; --fallback auto blends the pairs the model cannot be trusted on. The run reports
    how many of each. Image sequences: a folder or a pattern (frames/f_%05d.png), 16-bit
    PNG/TIFF kept 16-bit, alpha carried from the nearer input frame; a sequence output resumes
    where an interrupted run stopped. Several inputs, or a folder of videos, run as a batch.
    """
    inputs: list[Path] = list(params.pop("inputs"))
    output: Path = params.pop("output")
    pair = len(inputs) == 2 and all(is_image(p) for p in inputs)
    _refuse_idle_options(params, pair=pair)
    times = _times(params.pop("time_"), params.pop("times"), params.pop("count"))
    if times is not None:
        params["times"] = times
    cluster = _cluster_settings(params)
    runtime, section = settings_for("interpolate", params)
    one_output_rate(section, params["factor"], params["fps"])
    if pair and section.frames:
        raise SettingsError("--frames is for a video or a sequence; two images make their frames in one run")
    if pair and cluster.address:
        raise SettingsError("--cluster is for videos and sequences; two images make their frames in one run here")
    if pair:
        interpolator = build_interpolator(runtime, section, section.batch_size)
        result = interpolate_pair(inputs[0], inputs[1], output, interpolator, section.times, section.overwrite,
                                  scene_threshold=section.scene_threshold, fallback=section.fallback)
        for path in result.written:
            console.print(str(path))
        for line in _pair_warnings(result, inputs):
            console_err.print(f"vnn: warning: {line}", markup=False, highlight=False, soft_wrap=True)
        return
    inputs, batch = _plan(inputs, output)
    _refuse_frames_for_batch(section, batch)

    def output_for(path: Path) -> Path:
        if not batch:
            return output
        return output / (path.name if path.is_dir() else f"{path.stem}.mp4")

    _refuse_idle_options(params, outputs=[output_for(path) for path in inputs])
    if cluster.address:
        return _on_cluster("interpolate", cluster, runtime, section, inputs, batch, output_for)
    interpolator = build_interpolator(runtime, section, section.batch_size).configure(section.scale, section.tile, section.tile_overlap)

    def job(path: Path, out: Path, progress):
        return interpolate_video(path, out, interpolator, factor=section.factor, fps=section.fps, options=_encode(section),
                                 image_fps=section.image_fps, progress=progress,
                                 workflow=_workflow(section, _compare_for(section, path, batch)))

    _run(inputs, batch, output_for, job, section.overwrite)


def _refuse_idle_options(params: dict, *, pair: bool | None = None, outputs: list[Path] | None = None) -> None:
    """Options given on the command line that would do nothing for these inputs and outputs are
    refused, not ignored: the user meant something by them. `pair`: whether the inputs are two
    images; `outputs`: every output of a video or sequence run."""
    if pair is False:
        for flag, key in (("--time", "time_"), ("--times", "times"), ("--count", "count")):
            if params.get(key) is not None:
                raise SettingsError(f"{flag} is for two images (vnn interpolate a.png b.png); "
                                    f"a video or a sequence takes --factor or --fps")
    if params.get("image_format") is None:
        return
    if pair:  # the frames take the output file's suffix, or PNG in a folder
        raise SettingsError("--image-format is for sequence outputs of a video or a sequence; the frames between two "
                            "images take the output's suffix (mid.jpg)")
    if outputs and all(is_video(path) for path in outputs):
        raise SettingsError(f"--image-format is for image-sequence outputs: {outputs[0]} is a video")


def _times(time_: float | None, times: str | None, count: int | None) -> list[float] | None:
    given = [x is not None for x in (time_, times, count)]
    if sum(given) > 1:
        raise click.UsageError("use only one of --time, --times and --count")
    if time_ is not None:
        return [time_]
    if times is not None:
        try:
            return [float(part) for part in times.split(",") if part.strip()]
        except ValueError:
            raise click.BadParameter(f"'{times}' is not a list of numbers", param_hint="--times") from None
    if count is not None:
        if count < 1:
            raise click.BadParameter("must be at least 1", param_hint="--count")
        return [(i + 1) / (count + 1) for i in range(count)]
    return None


@command("slowmo", "vnn slowmo clip.mp4 --factor 4   # writes clip_slowmo4x.mp4")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Video file or folder (default: beside the input, named after it and the factor).")
@click.option("-f", "--factor", type=int, default=None, help="How many times slower (default 2).")
@click.option("--fps", default=None, help="Play the result at this rate instead of the source's.")
@click.option("--audio", type=click.Choice(["drop", "stretch"]), default=None,
              help="stretch (default): slowed, pitch kept (ffmpeg atempo); drop: no audio.")
@model_options
@workflow_options
@encode_options
@progress_option
@cluster_option
@runtime_options
@pass_params
def slowmo_command(params: dict) -> None:
    """Make videos or image sequences N times slower by synthesizing the frames between.

    N input frames become (N-1)*factor+1 frames played at the source rate (or --fps).
    """
    inputs: list[Path] = list(params.pop("inputs"))
    output: Path | None = params.pop("output")
    cluster = _cluster_settings(params)
    runtime, section = settings_for("slowmo", params)
    inputs, batch = _plan(inputs, output)
    _refuse_frames_for_batch(section, batch)
    if section.frames and output is None:
        raise SettingsError("--frames writes a part: name it with -o (parts/part_1000.mkv)")

    def output_for(path: Path) -> Path:
        if output is None:
            return default_slowmo_output(path, section.factor)
        if not batch:
            return output
        return output / default_slowmo_output(path, section.factor).name

    _refuse_idle_options(params, outputs=[output_for(path) for path in inputs])
    if cluster.address:
        return _on_cluster("slowmo", cluster, runtime, section, inputs, batch, output_for)
    interpolator = build_interpolator(runtime, section, section.batch_size).configure(section.scale, section.tile, section.tile_overlap)

    def job(path: Path, out: Path, progress):
        return slowmo_video(path, out, interpolator, factor=section.factor, fps=section.fps, audio=section.audio,
                            options=_encode(section), image_fps=section.image_fps, progress=progress,
                            workflow=_workflow(section, _compare_for(section, path, batch)))

    _run(inputs, batch, output_for, job, section.overwrite)


COMMANDS = [interpolate_command, slowmo_command]
