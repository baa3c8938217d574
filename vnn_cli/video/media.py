"""One way in (a video file or a folder of images) and one way out (a video file or a folder of
images), both streaming and both atomic."""
from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Protocol

import numpy as np

from ..atomic import atomic_file, atomic_folder
from ..errors import InputError
from .images import ImageSequence, IMAGE_SUFFIXES, list_images, write_image
from .probe import VIDEO_SUFFIXES
from .reader import VideoReader
from .writer import VideoWriter

FrameWriter = Callable[[np.ndarray], None]


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


def open_source(path: Path, image_fps: Fraction = Fraction(24), **video_options) -> FrameSource:
    """A video file, or a folder of images (sorted naturally, played at `image_fps`)."""
    path = Path(path)
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
    return path.is_dir() or str(path).endswith(("/", "\\")) or (path.suffix == "" and not path.exists())


@contextlib.contextmanager
def video_sink(path: Path, width: int, height: int, fps: Fraction, **options) -> Iterator[FrameWriter]:
    with atomic_file(Path(path)) as temp:
        writer = VideoWriter(temp, width, height, fps, **options)
        try:
            yield writer.write
        except BaseException:
            writer.abort()
            raise
        writer.close()


@contextlib.contextmanager
def image_sink(folder: Path, image_format: str = "png", start_number: int = 0, pattern: str = "%06d") -> Iterator[FrameWriter]:
    """Frames numbered from `start_number` as `pattern.format`; moved into `folder` when all are written."""
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
