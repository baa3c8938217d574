"""Still images and image sequences: 8- or 16-bit, gray, RGB or RGBA, any path (read through bytes,
so non-ASCII names work everywhere)."""
from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ..errors import InputError, OutputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}


def is_image(path: Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def natural_key(path: Path) -> list:
    """frame2 before frame10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def read_image(path: Path) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
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


def write_image(path: Path, image: np.ndarray) -> None:
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
            file.write(encoded.data)
    except OSError as exc:
        from ..atomic import describe_os_error

        raise describe_os_error(exc, path) from None


def list_images(folder: Path) -> list[Path]:
    return sorted((p for p in Path(folder).iterdir() if p.is_file() and is_image(p) and not p.name.startswith(".")), key=natural_key)


class ImageSequence:
    """A folder of images in natural order, read one at a time; all must share one size."""

    def __init__(self, folder: Path, fps: Fraction = Fraction(24)):
        self.path = Path(folder)
        if not self.path.is_dir():
            raise InputError(f"{self.path}: no such folder")
        self.files = list_images(self.path)
        if not self.files:
            raise InputError(f"{self.path}: no images in this folder")
        first = read_image(self.files[0])
        self.height, self.width = first.shape[:2]
        self.fps = Fraction(fps)
        self.audio = None

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
