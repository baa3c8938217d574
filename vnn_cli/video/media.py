"""One way in (a video file, a folder of images or a numbered pattern such as frame_%05d.png) and
one way out (a video file, or an image sequence), all streaming.

A video output is atomic (written under a temporary name, renamed when complete). An image-sequence
output is built in a hidden `.NAME.vnn-partial` folder beside the final one, each frame written
atomically, and moved into place when the last frame is written: an interrupted run leaves its
finished frames there, and the same command run again resumes after them instead of redoing them.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Protocol

import numpy as np

from ..atomic import atomic_file, atomic_folder, describe_os_error
from ..errors import InputError, OutputError
from ..frames import to_16bit, to_8bit
from .images import IMAGE_SUFFIXES, ImageSequence, list_images, read_image, write_image
from .probe import VIDEO_SUFFIXES
from .reader import VideoReader
from .writer import VideoWriter

FrameWriter = Callable[[np.ndarray], None]
_PATTERN = re.compile(r"%(0?\d*)d")


class FrameSource(Protocol):
    path: Path
    width: int
    height: int

    @property
    def fps(self) -> Fraction: ...

    @property
    def n_frames(self) -> int: ...

    @property
    def audio(self) -> Path | None: ...

    def __iter__(self) -> Iterator[np.ndarray]: ...


def is_video(path: Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def is_pattern(path: Path) -> bool:
    """frame_%05d.png, as ffmpeg and editors name image sequences."""
    return bool(_PATTERN.search(Path(path).name))


def _pattern_regex(name: str) -> re.Pattern:
    match = _PATTERN.search(name)
    width = match.group(1)
    digits = r"\d+" if not width or width == "0" else r"\d{%d,}" % int(width.lstrip("0") or 1)
    return re.compile(re.escape(name[: match.start()]) + f"({digits})" + re.escape(name[match.end():]) + "$")


class PatternSequence(ImageSequence):
    """The images `pattern % n` for n = start, start+1, ... up to the first gap (as ffmpeg reads
    them); the start is the lowest number present unless given."""

    def __init__(self, pattern: Path, fps: Fraction = Fraction(24), start_number: int | None = None):
        pattern = Path(pattern)
        folder = pattern.parent
        if not folder.is_dir():
            raise InputError(f"{folder}: no such folder")
        if start_number is None:
            regex = _pattern_regex(pattern.name)
            numbers = [int(m.group(1)) for m in (regex.match(p.name) for p in folder.iterdir()) if m]
            if not numbers:
                raise InputError(f"{pattern}: no images match this pattern")
            start_number = min(numbers)
        files = []
        number = start_number
        while (folder / (pattern.name % number)).is_file():
            files.append(folder / (pattern.name % number))
            number += 1
        if not files:
            raise InputError(f"{pattern}: no image numbered {start_number} (see --start-number)")
        self.path = pattern
        self.files = files
        first = read_image(files[0])
        self.height, self.width = first.shape[:2]
        self.fps = Fraction(fps)
        self.audio = None


def open_source(path: Path, image_fps: Fraction = Fraction(24), start_number: int | None = None,
                **video_options) -> FrameSource:
    """A video file, a folder of images (sorted naturally) or a numbered pattern (frame_%05d.png);
    images play at `image_fps`."""
    path = Path(path)
    if is_pattern(path):
        return PatternSequence(path, image_fps, start_number)
    if path.is_dir():
        return ImageSequence(path, image_fps)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    return VideoReader(path, **video_options)


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Batch inputs: a folder holding videos stands for each of them; a folder of images is one input."""
    expanded: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir() and not list_images(path):
            videos = sorted(p for p in path.iterdir() if p.is_file() and is_video(p) and not p.name.startswith("."))
            if not videos:
                raise InputError(f"{path}: no videos or images in this folder")
            expanded += videos
        else:
            expanded.append(path)
    return expanded


def is_folder_output(path: Path) -> bool:
    path = Path(path)
    if is_pattern(path):
        return False
    return path.is_dir() or str(path).endswith(("/", "\\")) or (path.suffix == "" and not path.exists())


def is_sequence_output(path: Path) -> bool:
    return is_folder_output(path) or is_pattern(path)


def _as_rgb(frame: np.ndarray) -> np.ndarray:
    """H×W×3: gray repeated, alpha dropped."""
    if frame.ndim == 2:
        frame = frame[:, :, None]
    if frame.shape[2] in (1, 2):
        frame = np.repeat(frame[:, :, :1], 3, axis=2)
    return frame[:, :, :3]


def as_rgb8(frame: np.ndarray) -> np.ndarray:
    """What an 8-bit video encoder takes: 8-bit RGB (16-bit scaled down, gray repeated, alpha dropped)."""
    return to_8bit(_as_rgb(frame))


def as_rgb16(frame: np.ndarray) -> np.ndarray:
    """What a deep video encoder takes: 16-bit RGB (8-bit scaled up, gray repeated, alpha dropped)."""
    return to_16bit(_as_rgb(frame))


@contextlib.contextmanager
def video_sink(path: Path, width: int, height: int, fps: Fraction, **options) -> Iterator[FrameWriter]:
    """The encoder starts on the first frame: 16-bit frames (a 10-bit video, a 16-bit image
    sequence) are encoded with more than 8 bits where the codec allows it, 8-bit frames exactly as
    ever."""
    with atomic_file(Path(path)) as temp:
        writer: VideoWriter | None = None

        def start(depth: int) -> VideoWriter:
            nonlocal writer
            writer = VideoWriter(temp, width, height, fps, depth=depth, **options)
            return writer

        def write(frame: np.ndarray) -> None:
            encoder = writer or start(16 if frame.dtype == np.uint16 else 8)
            encoder.write(as_rgb16(frame) if encoder.depth == 16 else as_rgb8(frame))

        try:
            yield write
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        (writer or start(8)).close()


class SequenceSink:
    """Numbered images into a folder, resumable. `done` is how many leading frames an earlier,
    interrupted run of the same job (same `fingerprint`) already wrote; `write` numbers the frames
    from there on, and `finish` moves the whole sequence into place."""

    def __init__(self, output: Path, image_format: str = "png", start_number: int = 0, fingerprint: str = ""):
        output = Path(output)
        if is_pattern(output):
            self.folder, self.pattern = output.parent, output.stem
            suffix = output.suffix
        else:
            self.folder, self.pattern = output, "%06d"
            suffix = "." + image_format.lower().lstrip(".")
        if suffix.lower() not in IMAGE_SUFFIXES:
            raise OutputError(f"image format '{suffix[1:]}' is not supported; use one of {', '.join(sorted(s[1:] for s in IMAGE_SUFFIXES))}")
        self.suffix = suffix
        self.start_number = start_number
        self.partial = self.folder.with_name(f".{self.folder.name}.vnn-partial")
        self.done = 0
        self.index = 0
        manifest = self.partial / ".vnn-job.json"
        try:
            if self.partial.is_dir() and manifest.is_file() and json.loads(manifest.read_text()).get("job") == fingerprint:
                while (self.partial / self.name(self.done)).is_file():
                    self.done += 1
            else:
                shutil.rmtree(self.partial, ignore_errors=True)
                self.partial.mkdir(parents=True)
                manifest.write_text(json.dumps({"job": fingerprint}))
        except OSError as exc:
            raise describe_os_error(exc, self.partial) from None

    def name(self, index: int) -> str:
        return f"{self.pattern % (self.start_number + index)}{self.suffix}"

    def skip(self) -> None:
        """Count a frame an earlier run already wrote."""
        self.index += 1

    def write(self, frame: np.ndarray) -> None:
        target = self.partial / self.name(self.index)
        temp = self.partial / f".writing{self.suffix}"
        write_image(temp, frame)
        os.replace(temp, target)  # a frame is there whole or not at all
        self.index += 1

    def discard(self) -> None:
        """A failed job leaves nothing behind (an interrupted one keeps its frames to resume)."""
        shutil.rmtree(self.partial, ignore_errors=True)

    def finish(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for index in range(self.index):
                name = self.name(index)
                os.replace(self.partial / name, self.folder / name)
            shutil.rmtree(self.partial, ignore_errors=True)
        except OSError as exc:
            raise describe_os_error(exc, self.folder) from None


@contextlib.contextmanager
def image_sink(folder: Path, image_format: str = "png", start_number: int = 0, pattern: str = "%06d") -> Iterator[FrameWriter]:
    """Frames numbered from `start_number` as `pattern`; moved into `folder` when all are written
    (all or nothing: for a sequence that resumes, see `SequenceSink`)."""
    suffix = "." + image_format.lower().lstrip(".")
    if suffix not in IMAGE_SUFFIXES:
        raise InputError(f"image format '{image_format}' is not supported; use one of {', '.join(sorted(s[1:] for s in IMAGE_SUFFIXES))}")
    with atomic_folder(Path(folder)) as temp:
        index = start_number

        def write(frame: np.ndarray) -> None:
            nonlocal index
            write_image(temp / f"{pattern % index}{suffix}", frame)
            index += 1

        yield write
