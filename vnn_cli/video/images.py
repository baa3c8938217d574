"""Still images and image sequences: 8- or 16-bit, gray, RGB or RGBA, any path (read through bytes,
so non-ASCII names work everywhere)."""
from __future__ import annotations

import re
import threading
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from PIL import Image

from ..core.errors import InputError, OutputError
from .colour import SRGB
from .probe import MAX_PIXELS, SQUARE
from .sequences import frame_numbers, numbering_times, sequence_rate, tag_rate

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}


def is_image(path: Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def natural_key(path: Path) -> list:
    """frame2 before frame10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


_PILLOW_LIMIT = threading.Lock()


def declared_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file's header, nothing decoded; None when Pillow cannot tell (OpenCV
    may still read the file)."""
    # Pillow's own bomb check (179 M pixels) would refuse before telling the size: it is lifted for
    # the header read, under a lock as it is a global, so that the limit applied is vnn's, as for videos.
    with _PILLOW_LIMIT:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            with Image.open(path) as image:
                return image.size
        except Exception:  # Pillow's plugins fail in many ways on files they do not know
            return None
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def check_size(path: Path) -> None:
    """Refuse, before decoding, an image whose header declares more pixels than a video frame may have."""
    size = declared_size(path)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise InputError(f"{path}: image size {size[0]}x{size[1]} is not supported (at most {MAX_PIXELS:,} pixels)")


def read_image(path: Path) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    check_size(path)
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise InputError(f"{path}: not an image that can be read")
    if image.dtype not in (np.uint8, np.uint16):
        raise InputError(f"{path}: {image.dtype} pixels are not supported (8- or 16-bit only)")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return image


def write_image(path: Path, image: np.ndarray, fps: Fraction | None = None) -> None:
    """`fps`: the rate of the sequence the image belongs to, recorded in PNG and JPEG files."""
    path = Path(path)
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    if path.suffix.lower() in (".jpg", ".jpeg", ".webp") and image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)  # these formats have no 16-bit mode
    ok, encoded = cv2.imencode(path.suffix.lower(), image)
    if not ok:
        raise OutputError(f"cannot encode {path.name} as {path.suffix}")
    try:  # a plain file write, not ndarray.tofile: numpy's error drops the errno (ENOSPC, EROFS...)
        with open(path, "wb") as file:
            file.write(tag_rate(encoded.tobytes(), path.suffix, fps) if fps is not None else encoded.data)
    except OSError as exc:
        from ..core.atomic import describe_os_error

        raise describe_os_error(exc, path) from None


def list_images(folder: Path) -> list[Path]:
    return sorted((p for p in Path(folder).iterdir() if p.is_file() and is_image(p) and not p.name.startswith(".")), key=natural_key)


class ImageSequence:
    """A folder of images in natural order, read one at a time; all must share one size. They play
    at `fps`, else at the rate recorded in them, else 24 fps; a gap in their numbering is
    followed as missing frames (`frame_times`; see `sequences`). `notes` tells what was assumed."""

    def __init__(self, folder: Path, fps: Fraction | None = None):
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError(f"{folder}: no such folder")
        files = list_images(folder)
        if not files:
            raise InputError(f"{folder}: no images in this folder")
        self._open(folder, files, frame_numbers([f.name for f in files]), fps)

    def _open(self, path: Path, files: list[Path], numbers: list[int] | None, fps: Fraction | None) -> None:
        self.path = path
        self.files = files
        first = read_image(files[0])
        self.height, self.width = first.shape[:2]
        self.audio = None
        self.colour = SRGB  # RGB images: a video made of them is BT.709 with sRGB's transfer
        self.picture = SQUARE  # square pixels, progressive; their alpha comes with each frame
        self.fps, origin = sequence_rate(files[0], fps)
        self.notes: list[str] = []
        if origin == "default":
            self.notes.append(f"image sequence played at {self.fps} fps, the default: give --input-fps for its own rate")
        elif origin == "recorded":
            self.notes.append(f"image sequence played at {float(self.fps):g} fps, as vnn recorded in its frames")
        self.frame_times, gaps = numbering_times(numbers, self.fps)
        if gaps:
            self.notes.append(gaps)

    @property
    def n_frames(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[np.ndarray]:
        for file in self.files:
            image = read_image(file)
            if image.shape[:2] != (self.height, self.width):
                raise InputError(
                    f"{file}: size {image.shape[1]}x{image.shape[0]} differs from the sequence's "
                    f"{self.width}x{self.height} (first image {self.files[0].name})"
                )
            yield image
