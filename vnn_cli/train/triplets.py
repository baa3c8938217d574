"""A training set of frame triplets cut out of videos: windows of frames (i, i+s, i+2s), random
crops of them, none across a scene cut and none where nothing moves. Frames stream from the
decoder; each video's triplets appear whole or not at all.

Layout (the training code reads exactly this):

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
from ..core.errors import InputError, OutputError, SettingsError
from ..core.progress import Progress, no_progress
from ..core.result import JobResult
from ..safeguards.scenes import DEFAULT_THRESHOLD as DEFAULT_SCENE_THRESHOLD, is_scene_cut
from ..video.extract import expected_frames, open_span
from ..video.images import is_image, write_image
from ..video.media import is_video
from ..video.output_guard import check_output

SUMMARY_NAME = "triplets.json"
VIDEO_SUMMARY_SUFFIX = ".triplets.json"
TRIPLET_NAMES = ("im1.png", "im2.png", "im3.png")


@dataclass
class TripletSettings:
    crop: int = 256
    strides: Sequence[int] = (1,)
    crops_per_triplet: int = 1
    min_motion: float = 1.0  # mean absolute difference of the outer frames, 0-255 units
    scene_threshold: float = DEFAULT_SCENE_THRESHOLD  # the same rule as interpolate's (safeguards/scenes.py); 0: off
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
    reader = open_span(video, start, end, size)
    total = expected_frames(reader, start, end)
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
