"""`vnn extract`: frames, audio or training triplets out of videos."""
from __future__ import annotations

from pathlib import Path

import click

from ..render.batch import run_batch
from ..core.errors import OutputError
from ..core.settings import DEFAULT_SCENE_THRESHOLD, parse_size
from ..train.triplets import TripletSettings, extract_triplets, video_summary_path
from ..video.extract import audio_output, extract_audio, extract_frames, frames_output
from ..video.media import expand_inputs, is_video
from .common import command, exit_on, pass_params, progress_option, settings_for
from .render import console, frame_progress, report_batch


def _strides(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a list of whole numbers, e.g. 1,2", param_hint="--stride") from None


@command("extract", "vnn extract clip.mp4 --every 5 --resize 320x180 -o frames/")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Folder for frames or triplets (several videos: each video's frames in OUTPUT/<stem>/).")
@click.option("--every", type=int, default=None, help="Keep every Nth frame (default 1: all).")
@click.option("--start", type=float, default=None, help="Start at this time, in seconds.")
@click.option("--end", type=float, default=None, help="Stop at this time, in seconds.")
@click.option("--resize", default=None, help="Scale frames to WIDTHxHEIGHT, e.g. 320x180.")
@click.option("--audio", type=click.Path(path_type=Path), default=None,
              help="Extract the audio instead of frames, to this file (.wav, .mp3, .aac, .m4a, .flac, .ogg, .opus); "
                   "several videos: OUTPUT/<stem> with this extension.")
@click.option("--triplets/--no-triplets", default=None, help="Make a training set of frame triplets in OUTPUT.")
@click.option("--crop", type=int, default=None, help="Triplets: crop size in pixels (default 256).")
@click.option("--stride", default=None, help="Triplets: frame strides, e.g. 1,2 for (i, i+1, i+2) and (i, i+2, i+4).")
@click.option("--crops-per-triplet", type=int, default=None, help="Triplets: random crops per frame window (default 1).")
@click.option("--min-motion", type=float, default=None,
              help="Triplets: skip crops whose outer frames differ by less than this on average (0-255, default 1).")
@click.option("--scene-threshold", type=float, default=None,
              help=f"Triplets: scene-cut threshold, as interpolate's; a window across a cut is skipped "
                   f"(default {DEFAULT_SCENE_THRESHOLD}; 0 keeps all).")
@click.option("--seed", type=int, default=None, help="Triplets: seed of the random crops (default 0).")
@click.option("--image-format", default=None, help="Frames: png (default), tiff, jpg...")
@click.option("--overwrite/--no-overwrite", default=None, help="Replace existing outputs (default: skip or refuse).")
@click.option("--config", "config", type=click.Path(path_type=Path), default=None,
              help="Settings file (default: ./vnn.toml, then the user's config dir).")
@click.option("-v", "--verbose", is_flag=True, default=False, help="Show tracebacks on errors.")
@progress_option
@pass_params
def extract_command(params: dict) -> None:
    """Take videos apart: frames as an image sequence, the audio as a file, or training triplets.

    \b
      vnn extract clip.mp4 -o frames/ --start 2 --end 4      # frames 000000.png ... of 2 s to 4 s
      vnn extract clip.mp4 --audio sound.wav                  # the audio track alone
      vnn extract videos/ --triplets --stride 1,2 -o train/   # train/<stem>_000000/im1.png im2.png im3.png

    Triplets skip windows with a scene cut and near-static crops; train/triplets.json counts them.
    Several inputs, or a folder of videos, run as a batch: existing outputs are skipped, a failed
    video does not stop the others, and the exit status is 1 if any failed.
    """
    inputs: list[Path] = list(params.pop("inputs"))
    output: Path | None = params.pop("output")
    params["stride"] = _strides(params.pop("stride"))
    _, section = settings_for("extract", params)
    size = parse_size(section.resize, "extract.resize")
    videos = expand_inputs(inputs)
    batch = len(inputs) > 1 or videos != inputs
    span = {"start": section.start, "end": section.end}

    if section.triplets:
        if output is None:
            raise click.UsageError("--triplets needs -o OUTPUT, the folder for the training set")
        settings = TripletSettings(section.crop, section.stride, section.crops_per_triplet, section.min_motion,
                                   section.scene_threshold, section.seed)

        def job(video: Path, out: Path, progress):
            return extract_triplets(video, output, settings, size=size, overwrite=section.overwrite, progress=progress,
                                    **span)

        output_for = lambda video: video_summary_path(output, video)  # noqa: E731: the marker of a finished video
    elif section.audio is not None:
        def job(video: Path, out: Path, progress):
            return extract_audio(video, out, overwrite=section.overwrite, **span)

        output_for = lambda video: audio_output(section.audio, output, video, batch)  # noqa: E731
    else:
        if output is None:
            raise click.UsageError("name the folder for the frames with -o OUTPUT (or use --audio FILE)")
        if batch and (output.is_file() or is_video(output)):
            raise OutputError(f"output {output} must be a folder when there are several inputs")

        def job(video: Path, out: Path, progress):
            return extract_frames(video, out, every=section.every, size=size, image_format=section.image_format,
                                  overwrite=section.overwrite, progress=progress, **span)

        output_for = lambda video: frames_output(output, video, batch)  # noqa: E731

    def one(video: Path, out: Path):
        if section.audio is not None and not section.triplets:
            return job(video, out, None)  # one ffmpeg call: nothing to count
        with frame_progress(video.name) as progress:
            return job(video, out, progress)

    if not batch:
        result = one(videos[0], output_for(videos[0]))
        what = "audio" if "audio" in result.notes else (
            f"{result.frames_out} triplets from {result.frames_in} frames" if section.triplets
            else f"{result.frames_out} of {result.frames_in} frames")
        extra = f" ({result.notes[0]})" if section.triplets and result.notes else ""
        console.print(f"{result.output}: {what}{extra} in {result.seconds:.1f} s")
        return
    items = run_batch(videos, output_for, one, overwrite=section.overwrite)
    report_batch(items)
    exit_on(1 if any(item.status == "failed" for item in items) else 0)


COMMANDS = [extract_command]
