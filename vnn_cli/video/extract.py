"""Take videos apart: frames as an image sequence, the audio track as a file, or a training set of
frame triplets. Frames stream from the decoder; every output is written atomically.

Triplet layout (the training code reads exactly this):

    DIR/<video stem>_<index:06d>/im1.png im2.png im3.png   frames i, i+s, i+2s (one random crop)
    DIR/<video stem>.triplets.json                         what that video gave (also marks it done)
    DIR/triplets.json                                      the counts of every video in DIR
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
import zlib
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..core.atomic import TEMP_MARK, atomic_file, describe_os_error
from ..core.progress import Progress, no_progress
from ..core.errors import InputError, OutputError, SettingsError
from .output_guard import check_output, numbered
from ..render.interpolate import JobResult
from ..safeguards.scenes import DEFAULT_THRESHOLD as DEFAULT_SCENE_THRESHOLD, is_scene_cut
from .ffmpeg import quote_path, run_ffmpeg
from .images import is_image, write_image
from .media import image_sink, is_video
from .probe import probe
from .reader import VideoReader


# The encoder each audio file extension gets: the muxer follows from the extension itself.
AUDIO_CODECS = {
    ".wav": ["-c:a", "pcm_s16le"],
    ".mp3": ["-c:a", "libmp3lame", "-q:a", "2"],
    ".aac": ["-c:a", "aac", "-b:a", "192k"],
    ".m4a": ["-c:a", "aac", "-b:a", "192k"],
    ".flac": ["-c:a", "flac"],
    ".ogg": ["-c:a", "libvorbis", "-q:a", "5"],
    ".opus": ["-c:a", "libopus", "-b:a", "128k"],
}
SUMMARY_NAME = "triplets.json"
VIDEO_SUMMARY_SUFFIX = ".triplets.json"
TRIPLET_NAMES = ("im1.png", "im2.png", "im3.png")


def check_span(start: float | None, end: float | None) -> None:
    if start is not None and end is not None and end <= start:
        raise SettingsError(f"invalid setting extract.end = {end}: it must be after --start ({start} s)")


def _open(video: Path, start: float | None, end: float | None, size: tuple[int, int] | None) -> VideoReader:
    check_span(start, end)
    reader = VideoReader(Path(video), start=start, end=end, size=size)
    duration = reader.info.duration
    if start and duration and start >= duration:
        raise InputError(f"{video}: --start {start:g} s is past the end of the video ({duration:.2f} s)")
    return reader


def _expected(reader: VideoReader, start: float | None, end: float | None) -> int | None:
    """Frames the decoder should hand over, for the progress bar (an estimate when cut by time)."""
    total = reader.n_frames
    if not total:
        return None
    if start is None and end is None:
        return total
    seconds = (end if end is not None else reader.info.duration) - (start or 0)
    return max(0, min(total, round(seconds * float(reader.fps))))


def _folder_ready(folder: Path, video: Path, image_format: str, overwrite: bool) -> None:
    """A frames folder may exist empty (the user made it); with files in it, only with --overwrite."""
    if folder.is_file() or (not folder.is_dir() and (is_video(folder) or is_image(folder))):
        raise OutputError(f"output {folder} is a file name: frames go into a folder")
    check_output(folder, overwrite, (video,), owned=numbered("%06d", "." + image_format.lower().lstrip(".")))


def extract_frames(video: Path, output: Path, *, every: int = 1, start: float | None = None, end: float | None = None,
                   size: tuple[int, int] | None = None, image_format: str = "png", overwrite: bool = False,
                   progress: Progress = no_progress) -> JobResult:
    """Every `every`-th frame between `start` and `end` seconds, as OUTPUT/000000.png, 000001.png..."""
    if every < 1:
        raise SettingsError(f"invalid setting extract.every = {every}: it must be at least 1")
    started = time.perf_counter()
    output = Path(output)
    reader = _open(video, start, end, size)
    _folder_ready(output, Path(video), image_format, overwrite)
    result = JobResult(Path(video), output, fps_out=reader.fps / every)
    total = _expected(reader, start, end)
    with image_sink(output, image_format, fps=reader.fps / every) as write:
        for index, frame in enumerate(reader):
            result.frames_in = index + 1
            if index % every == 0:
                write(frame)
                result.frames_out += 1
            progress(result.frames_in, total)
    result.seconds = time.perf_counter() - started
    return result


def extract_audio(video: Path, output: Path, *, start: float | None = None, end: float | None = None,
                  overwrite: bool = False) -> JobResult:
    """The first audio track to `output`, encoded by its extension (.wav, .mp3, .aac, .m4a, .flac...)."""
    started = time.perf_counter()
    video, output = Path(video), Path(output)
    suffix = output.suffix.lower()
    if suffix not in AUDIO_CODECS:
        raise OutputError(f"audio output {output.name}: use one of {', '.join(AUDIO_CODECS)} as its extension")
    check_span(start, end)
    info = probe(video)
    if not info.has_audio:
        raise InputError(f"{video} has no audio track")
    check_output(output, overwrite, (video,))
    args = ["-v", "error", "-y"]
    if start:
        args += ["-ss", f"{start:.6f}"]
    args += ["-i", quote_path(video)]
    if end is not None:
        args += ["-t", f"{end - (start or 0):.6f}"]
    args += ["-map", "0:a:0", "-vn", "-sn", *AUDIO_CODECS[suffix]]
    with atomic_file(output) as temp:
        run_ffmpeg([*args, quote_path(temp)], OutputError, f"extracting the audio of {video.name}")
    return JobResult(video, output, seconds=time.perf_counter() - started, notes=["audio"])


@dataclass
class TripletSettings:
    crop: int = 256
    strides: Sequence[int] = (1,)
    crops_per_triplet: int = 1
    min_motion: float = 1.0  # mean absolute difference of the outer frames, 0-255 units
    scene_threshold: float = DEFAULT_SCENE_THRESHOLD  # the same rule as interpolate's (vnn_cli/scenes.py); 0: off
    seed: int = 0


@dataclass
class TripletCounts:
    frames: int = 0
    windows: int = 0  # frame windows (i, i+s, i+2s) seen, over all strides
    triplets: int = 0  # triplet folders written (windows x crops that passed)
    skipped_static: int = 0  # crops whose outer frames barely differ
    skipped_cuts: int = 0  # windows with a scene cut inside
    crop: list[int] = field(default_factory=list)  # [width, height] of the crops written
    strides: list[int] = field(default_factory=list)


def _windows(frames: Iterator[np.ndarray], strides: Sequence[int], scene_threshold: float,
             counts: TripletCounts) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray, bool]]:
    """(stride, first, middle, last, crosses a cut) for each window, holding 2*max(stride)+1 frames."""
    span = 2 * max(strides)
    held: deque[np.ndarray] = deque(maxlen=span + 1)
    cuts: deque[bool] = deque(maxlen=span)  # cuts[-1]: between the newest frame and the one before
    for index, frame in enumerate(frames):
        if held:
            cuts.append(is_scene_cut(held[-1], frame, scene_threshold))
        held.append(frame)
        counts.frames = index + 1
        for stride in strides:
            if index < 2 * stride:
                continue
            crosses = any(list(cuts)[len(cuts) - 2 * stride:])
            yield stride, held[-1 - 2 * stride], held[-1 - stride], frame, crosses


def _video_seed(seed: int, stem: str) -> np.random.Generator:
    # The video's name joins the seed so its crops do not depend on which other videos share the batch.
    return np.random.default_rng([seed, zlib.crc32(stem.encode())])


def _triplet_names(stem: str) -> re.Pattern:
    """What one video writes in the triplets folder (and replaces with --overwrite)."""
    return re.compile(re.escape(stem) + r"_\d{6}|" + re.escape(stem + VIDEO_SUMMARY_SUFFIX) + "|" + re.escape(SUMMARY_NAME))


def _own_triplet_dirs(folder: Path, stem: str) -> list[Path]:
    pattern = re.compile(re.escape(stem) + r"_\d{6}")
    return [p for p in folder.iterdir() if p.is_dir() and pattern.fullmatch(p.name)] if folder.is_dir() else []


def video_summary_path(output: Path, video: Path) -> Path:
    return Path(output) / f"{Path(video).stem}{VIDEO_SUMMARY_SUFFIX}"


def _update_summary(output: Path, stem: str, counts: TripletCounts) -> None:
    """DIR/triplets.json: per-video counts and their totals, over every video extracted into DIR."""
    path = output / SUMMARY_NAME
    videos: dict[str, dict] = {}
    if path.exists():
        try:
            videos = json.loads(path.read_text()).get("videos", {})
        except (ValueError, AttributeError):
            videos = {}  # a damaged summary is rebuilt from this run on
    videos[stem] = asdict(counts)
    keys = ("frames", "windows", "triplets", "skipped_static", "skipped_cuts")
    totals = {key: sum(v.get(key, 0) for v in videos.values()) for key in keys}
    summary = {"layout": "<video stem>_<index:06d>/im1.png im2.png im3.png", **totals,
               "videos": dict(sorted(videos.items()))}
    with atomic_file(path) as temp:
        temp.write_text(json.dumps(summary, indent=2) + "\n")


def extract_triplets(video: Path, output: Path, settings: TripletSettings = TripletSettings(), *,
                     start: float | None = None, end: float | None = None, size: tuple[int, int] | None = None,
                     overwrite: bool = False, progress: Progress = no_progress) -> JobResult:
    """Training triplets from one video into OUTPUT (shared by every video of a batch).

    Windows of frames (i, i+s, i+2s) for each stride s; each gives `crops_per_triplet` random crops
    (seeded). A window with a scene cut between any two of its consecutive frames is skipped, and so
    is a crop whose outer frames differ by less than `min_motion` on average (nothing to learn).
    """
    started = time.perf_counter()
    video, output = Path(video), Path(output)
    strides = sorted(set(settings.strides))
    if not strides or min(strides) < 1:
        raise SettingsError(f"invalid setting extract.stride = {list(settings.strides)}: strides must be 1 or more")
    if output.is_file() or (not output.is_dir() and (is_video(output) or is_image(output))):
        raise OutputError(f"output {output} is a file name: triplets go into a folder")
    marker = video_summary_path(output, video)
    if marker.exists() and not overwrite:
        raise OutputError(f"triplets of {video.name} exist in {output}; use --overwrite to replace them")
    # The folder is shared by every video of a batch, so its being there is no clash (this video's
    # own triplets were checked just above); only the names this video writes there count.
    check_output(output, True, (video,), owned=_triplet_names(video.stem))
    reader = _open(video, start, end, size)
    total = _expected(reader, start, end)
    crop_w, crop_h = min(settings.crop, reader.width), min(settings.crop, reader.height)
    counts = TripletCounts(crop=[crop_w, crop_h], strides=strides)
    rng = _video_seed(settings.seed, video.stem)
    stem = video.stem
    result = JobResult(video, output, fps_out=reader.fps)
    # Written beside OUTPUT and moved in when the video is done: whole videos appear, never half of one.
    temp = output.parent / f".{output.name}.{stem}{TEMP_MARK}-{os.getpid()}"
    try:
        temp.mkdir(parents=True, exist_ok=True)
        for stride, first, middle, last, crosses in _windows(iter(reader), strides, settings.scene_threshold, counts):
            counts.windows += 1
            progress(counts.frames, total)
            if crosses:
                counts.skipped_cuts += 1
                continue
            for _ in range(settings.crops_per_triplet):
                y = int(rng.integers(0, reader.height - crop_h + 1))
                x = int(rng.integers(0, reader.width - crop_w + 1))
                region = (slice(y, y + crop_h), slice(x, x + crop_w))
                a, b, c = first[region], middle[region], last[region]
                motion = float(np.mean(np.abs(a.astype(np.int16) - c.astype(np.int16))))
                if motion < settings.min_motion:
                    counts.skipped_static += 1
                    continue
                folder = temp / f"{stem}_{counts.triplets:06d}"
                folder.mkdir()
                for name, image in zip(TRIPLET_NAMES, (a, b, c)):
                    write_image(folder / name, image)
                counts.triplets += 1
        if counts.frames == 0:
            raise InputError(f"{video}: no frames in the chosen span")
        progress(counts.frames, counts.frames)
        _replace_triplets(output, stem, temp)
    except OSError as exc:
        raise describe_os_error(exc, output) from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    with atomic_file(marker) as temp_marker:
        temp_marker.write_text(json.dumps({"video": str(video), **asdict(counts)}, indent=2) + "\n")
    _update_summary(output, stem, counts)
    result.frames_in, result.frames_out = counts.frames, counts.triplets
    result.notes = [f"{counts.skipped_static} static, {counts.skipped_cuts} across cuts skipped"]
    result.seconds = time.perf_counter() - started
    return result


def _replace_triplets(output: Path, stem: str, fresh: Path) -> None:
    """Move this video's new triplet folders into OUTPUT, after removing its old ones (an overwrite)."""
    try:
        output.mkdir(parents=True, exist_ok=True)
        for old in _own_triplet_dirs(output, stem):
            shutil.rmtree(old)
        for folder in sorted(fresh.iterdir()):
            os.replace(folder, output / folder.name)
    except OSError as exc:
        raise describe_os_error(exc, output) from None


def frames_output(output: Path, video: Path, batch: bool) -> Path:
    """Where a video's frames go: OUTPUT itself, or OUTPUT/<stem>/ in a batch."""
    return Path(output) / Path(video).stem if batch else Path(output)


def audio_output(audio: Path, output: Path | None, video: Path, batch: bool) -> Path:
    """A single video: the file named. A batch: OUTPUT/<stem> with the named file's extension."""
    if not batch:
        return Path(audio)
    if output is None:
        raise OutputError("several videos: name the output folder with -o for their audio files")
    name = Path(audio).name
    suffix = name if name.startswith(".") and "." not in name[1:] else Path(audio).suffix  # '--audio .wav' too
    return Path(output) / f"{Path(video).stem}{suffix}"
