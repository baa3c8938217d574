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
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Protocol

import numpy as np

from ..core.atomic import atomic_file, atomic_folder, describe_os_error, publish_folder, signals_held
from ..core.errors import InputError, OutputError, VnnWarning
from ..core.frames import to_16bit, to_8bit
from .colour import Colour
from .containers import choose_codec
from .images import IMAGE_SUFFIXES, ImageSequence, list_images, natural_key, write_image
from .probe import VIDEO_SUFFIXES, Picture
from .reader import VideoReader
from .streams import SourceStreams
from .writer import VideoWriter

FrameWriter = Callable[[np.ndarray], None]
_PATTERN = re.compile(r"%(0?\d*)d")


class FrameSource(Protocol):
    path: Path
    width: int
    height: int
    notes: list[str]  # what was assumed or followed on the way in, one line each
    colour: Colour  # what the frames were decoded with, and outputs are encoded and tagged with
    picture: Picture  # pixel aspect, chroma subsampling, alpha, field order: what outputs keep

    @property
    def fps(self) -> Fraction: ...

    @property
    def n_frames(self) -> int: ...

    @property
    def audio(self) -> Path | None: ...

    def __iter__(self) -> Iterator[np.ndarray]: ...


def source_streams(source: FrameSource) -> SourceStreams | None:
    """A video source's streams besides its frames (see streams.py); None for images."""
    info = getattr(source, "info", None)
    return getattr(info, "streams", None)


def is_video(path: Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def is_pattern(path: Path) -> bool:
    """frame_%05d.png, as ffmpeg and editors name image sequences. `%d` in a name is only a hint: an
    existing file is that file (`pct%d.mp4`), and a video's name is a video, never a sequence."""
    path = Path(path)
    return bool(_PATTERN.search(path.name)) and not is_video(path) and not path.is_file()


def _pattern_regex(name: str) -> re.Pattern:
    match = _PATTERN.search(name)
    width = match.group(1)
    digits = r"\d+" if not width or width == "0" else r"\d{%d,}" % int(width.lstrip("0") or 1)
    return re.compile(re.escape(name[: match.start()]) + f"({digits})" + re.escape(name[match.end():]) + "$")


class PatternSequence(ImageSequence):
    """The images `pattern % n` for n = start and up, in numeric order; the start is the lowest
    number present unless given. A gap in the numbering is followed as missing frames, not read as
    the end of the sequence (ffmpeg stops there, silently dropping the rest)."""

    def __init__(self, pattern: Path, fps: Fraction | None = None, start_number: int | None = None):
        pattern = Path(pattern)
        folder = pattern.parent
        if not folder.is_dir():
            raise InputError(f"{folder}: no such folder")
        regex = _pattern_regex(pattern.name)
        found = {}
        for path in folder.iterdir():
            match = regex.match(path.name)
            # the name the pattern gives that number (frame_%04d.png: 0012, not 00012)
            if match and pattern.name % int(match[1]) == path.name and path.is_file():
                found[int(match[1])] = path
        if not found:
            raise InputError(f"{pattern}: no images match this pattern")
        if start_number is None:
            start_number = min(found)
        if start_number not in found:
            raise InputError(f"{pattern}: no image numbered {start_number} (see --start-number)")
        numbers = sorted(n for n in found if n >= start_number)
        self._open(pattern, [found[n] for n in numbers], numbers, fps)


def open_source(path: Path, image_fps: Fraction | None = None, start_number: int | None = None,
                **video_options) -> FrameSource:
    """A video file, a folder of images (sorted naturally) or a numbered pattern (frame_%05d.png);
    images play at `image_fps`, else at the rate recorded in them, else 24 fps."""
    path = Path(path)
    if is_pattern(path):
        return PatternSequence(path, image_fps, start_number)
    if path.is_dir():
        return ImageSequence(path, image_fps)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    # A conversion carries alpha as image sequences do (RGBA frames).
    reader = VideoReader(path, **{"alpha": True, **video_options})
    if reader.picture.interlaced and not reader.deinterlace:
        order = reader.picture.field_order.split()[0]
        warnings.warn(VnnWarning(f"{path.name} is interlaced ({order} field first): its fields are interpolated as frames, "
                                 f"combing and all; --deinterlace makes progressive frames of them first (bwdif)"))
    if image_fps is not None:
        reader.notes.append(f"--input-fps is for image sequences: the video keeps its own {float(reader.fps):g} fps")
    return reader


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Batch inputs: a folder holding videos stands for each of them, any images beside them left
    out with a warning (a stray thumbnail must not turn a batch into a one-frame sequence); a
    folder of images only is one input, an image sequence."""
    expanded: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            expanded.append(path)
            continue
        entries = sorted((p for p in path.iterdir() if not p.name.startswith(".")), key=natural_key)  # hidden: nobody's input
        videos = [p for p in entries if p.is_file() and is_video(p)]
        images = list_images(path)
        if not videos and not images:
            raise InputError(f"{path}: no videos or images in this folder")
        if not videos:
            expanded.append(path)
            continue
        # Everything else is named in one line, so a file the batch did not take is never a surprise.
        others = [p.name + ("/" if p.is_dir() else "") for p in entries if p not in videos]
        if others:
            shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            hint = f"; for the images as a sequence, give a pattern such as {path / 'frame_%05d.png'}" if images else ""
            warnings.warn(VnnWarning(
                f"{path}: {len(others)} entr{'ies' if len(others) > 1 else 'y'} that are not videos ignored ({shown}): "
                f"a folder with videos is a batch of its videos, not of its subfolders{hint}"))
        expanded += videos
    return expanded


def is_folder_output(path: Path) -> bool:
    path = Path(path)
    if is_pattern(path):
        return False
    return path.is_dir() or str(path).endswith(("/", "\\")) or (path.suffix == "" and not path.exists())


def is_sequence_output(path: Path) -> bool:
    return is_folder_output(path) or is_pattern(path)


def _as_rgb(frame: np.ndarray, alpha: bool = False) -> np.ndarray:
    """H×W×3: gray repeated, alpha dropped; with `alpha`, H×W×4 (RGBA) when the frame has alpha."""
    if frame.ndim == 2:
        frame = frame[:, :, None]
    kept = frame[:, :, -1:] if alpha and frame.shape[2] in (2, 4) else frame[:, :, :0]
    if frame.shape[2] in (1, 2):
        frame = np.repeat(frame[:, :, :1], 3, axis=2)
    return np.concatenate([frame[:, :, :3], kept], axis=2) if kept.shape[2] else frame[:, :, :3]


def has_alpha(frame: np.ndarray) -> bool:
    return frame.ndim == 3 and frame.shape[2] in (2, 4)


def as_rgb8(frame: np.ndarray, alpha: bool = False) -> np.ndarray:
    """What an 8-bit video encoder takes: 8-bit RGB (16-bit scaled down, gray repeated, alpha
    dropped unless asked for)."""
    return to_8bit(_as_rgb(frame, alpha))


def as_rgb16(frame: np.ndarray, alpha: bool = False) -> np.ndarray:
    """What a deep video encoder takes: 16-bit RGB (8-bit scaled up, gray repeated, alpha dropped
    unless asked for)."""
    return to_16bit(_as_rgb(frame, alpha))


@contextlib.contextmanager
def video_sink(path: Path, width: int, height: int, fps: Fraction, **options) -> Iterator[FrameWriter]:
    """The encoder starts on the first frame: 16-bit frames (a 10-bit video, a 16-bit image
    sequence) are encoded with more than 8 bits where the codec allows it, 8-bit frames exactly as
    ever. A container that cannot hold the codec is refused now, before any frame is made."""
    choose_codec(Path(path), options.get("codec"))
    with atomic_file(Path(path)) as temp:
        writer: VideoWriter | None = None

        def start(depth: int, alpha: bool = False) -> VideoWriter:
            nonlocal writer
            writer = VideoWriter(temp, width, height, fps, depth=depth, alpha=alpha, **options)
            return writer

        def write(frame: np.ndarray) -> None:
            encoder = writer or start(16 if frame.dtype == np.uint16 else 8, has_alpha(frame))
            alpha = encoder.channels == 4
            encoder.write(as_rgb16(frame, alpha) if encoder.depth == 16 else as_rgb8(frame, alpha))

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

    def __init__(self, output: Path, image_format: str = "png", start_number: int = 0, fingerprint: str = "",
                 fps: Fraction | None = None):
        output = Path(output)
        self.fps = fps  # recorded in the frames, so that reading them back keeps the rate
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
        write_image(temp, frame, self.fps)
        os.replace(temp, target)  # a frame is there whole or not at all
        self.index += 1

    def discard(self) -> None:
        """A failed job leaves nothing behind (an interrupted one keeps its frames to resume)."""
        shutil.rmtree(self.partial, ignore_errors=True)

    def finish(self) -> None:
        """The sequence appears under its name whole: a new folder in one rename; in an existing
        one (--overwrite), the old frames of this name that the new run lacks go with it."""
        owned = _pattern_regex(f"{self.pattern}{self.suffix}")
        try:
            for leftover in (self.partial / ".vnn-job.json", self.partial / f".writing{self.suffix}"):
                leftover.unlink(missing_ok=True)
            with signals_held():  # a signal must not leave the emptied work folder to "resume"
                publish_folder(self.partial, self.folder, owned=owned)
                shutil.rmtree(self.partial, ignore_errors=True)
        except OSError as exc:
            raise describe_os_error(exc, self.folder) from None


@contextlib.contextmanager
def image_sink(folder: Path, image_format: str = "png", start_number: int = 0, pattern: str = "%06d",
               fps: Fraction | None = None) -> Iterator[FrameWriter]:
    """Frames numbered from `start_number` as `pattern`; moved into `folder` when all are written
    (all or nothing: for a sequence that resumes, see `SequenceSink`), with their rate `fps` recorded
    in them."""
    suffix = "." + image_format.lower().lstrip(".")
    if suffix not in IMAGE_SUFFIXES:
        raise InputError(f"image format '{image_format}' is not supported; use one of {', '.join(sorted(s[1:] for s in IMAGE_SUFFIXES))}")
    # Only the frames of this name are the sequence's: in an existing folder, older ones beyond the
    # new count go, other files stay.
    with atomic_folder(Path(folder), owned=_pattern_regex(f"{pattern}{suffix}")) as temp:
        index = start_number

        def write(frame: np.ndarray) -> None:
            nonlocal index
            write_image(temp / f"{pattern % index}{suffix}", frame, fps)
            index += 1

        yield write
