"""The frames between two images, written as image files or as a numbered folder, behind the same
safeguards as a video's pairs: across a scene cut (two unrelated pictures) the nearer image stands
in, where the judge does not trust the model the blend does."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

from ..core.atomic import atomic_files, atomic_folder
from ..core.errors import InputError, OutputError
from ..safeguards.fallback import Guarded
from ..safeguards.scenes import DEFAULT_THRESHOLD as DEFAULT_SCENE_THRESHOLD
from ..video.images import is_image, read_image, write_image
from ..video.media import is_folder_output
from ..video.output_guard import check_output, numbered
from .engine import Interpolator


@dataclass
class PairResult:
    written: list[Path]
    cut: bool = False  # the images are of different scenes: the nearer one repeated, nothing blended
    fallback: str | None = None  # why the model was not trusted: the frames are blends


def interpolate_pair(image0: Path, image1: Path, output: Path, interpolator: Interpolator,
                     times: Sequence[float] = (0.5,), overwrite: bool = False, *,
                     scene_threshold: float = DEFAULT_SCENE_THRESHOLD,
                     fallback: Literal["auto", "never"] = "auto") -> PairResult:
    """The frames between two images. One time and an image name: that file. Several times and an
    image name: NAME_1.png, NAME_2.png... A folder: the whole sequence 000000.png (image0) to the end."""
    frame0, frame1 = read_image(image0), read_image(image1)
    if frame0.shape != frame1.shape or frame0.dtype != frame1.dtype:
        raise InputError(f"{image0} and {image1} differ in size or format ({frame0.shape} {frame0.dtype} vs {frame1.shape} {frame1.dtype})")
    output = Path(output)
    inputs = (image0, image1)
    guarded = Guarded(interpolator, scene_threshold, fallback)

    def result(written: list[Path]) -> PairResult:
        return PairResult(written, guarded.cuts > 0, next(iter(guarded.fallbacks), None))

    # All of the frames appear, or none (a full disk at the fourth of five leaves nothing).
    if is_folder_output(output):
        owned = numbered("%06d", ".png")
        check_output(output, overwrite, inputs, owned=owned)
        frames = [frame0, *guarded(frame0, frame1, list(times)), frame1]
        names = [f"{i:06d}.png" for i in range(len(frames))]
        with atomic_folder(output, owned=owned) as temp:
            for name, frame in zip(names, frames):
                write_image(temp / name, frame)
        return result([output / name for name in names])
    if not is_image(output):
        raise OutputError(f"output {output} is neither an image file nor a folder")
    targets = [output] if len(times) == 1 else [output.with_name(f"{output.stem}_{i}{output.suffix}") for i in range(1, len(times) + 1)]
    for target in targets:
        check_output(target, overwrite, inputs)
    frames = guarded(frame0, frame1, list(times))
    with atomic_files(targets) as temps:
        for temp, frame in zip(temps, frames):
            write_image(temp, frame)
    return result(targets)
