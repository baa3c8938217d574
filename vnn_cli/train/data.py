"""Training and validation data: videos or folders of triplets, turned into random training crops.

Sources are video files, folders of videos, or folders of triplet subfolders (`im1.png im2.png
im3.png`, as `vnn extract --triplets` writes them). A training example is three frames of one shot
(frames i, i+k, i+n of a video, so t = k/n, with n = 2·stride) under random crops, 2× reductions,
flips, 90° turns, colour-channel order and time reversal. Examples that cross a scene cut or hardly
move are skipped. A batch is a pure function of (seed, step), so a resumed run sees exactly the data
an uninterrupted one would have seen. Validation holds out whole videos, never frames of a
training video.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
import torch

from ..core.errors import InputError
from ..core.frames import split_alpha, to_8bit, to_tensor
from ..eval.protocol import drop_frame_triplets, load_eval_frames, read_frames
from ..safeguards.scenes import DEFAULT_THRESHOLD, is_scene_cut
from ..video.images import read_image
from ..video.media import is_video

TRIPLET_NAMES = ("im1.png", "im2.png", "im3.png")

@dataclass
class Clip:
    """Frames of one source in memory; a triplet folder is a 3-frame clip with only t = 0.5."""

    name: str
    frames: list[np.ndarray]
    triplet: bool = False


def is_triplet_folder(path: Path) -> bool:
    return path.is_dir() and all((path / name).is_file() for name in TRIPLET_NAMES)


def find_sources(paths: Sequence[Path]) -> list[Path]:
    """Expand folders into the videos and triplet folders they hold, sorted for a stable order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise InputError(f"training data {path} does not exist")
        if path.is_file():
            if not is_video(path):
                raise InputError(f"training data {path} is not a video")
            found.append(path)
        elif is_triplet_folder(path):
            found.append(path)
        else:
            inside = sorted(p for p in path.rglob("*") if (p.is_file() and is_video(p)) or is_triplet_folder(p))
            if not inside:
                raise InputError(f"folder {path} holds no videos and no triplet folders ({', '.join(TRIPLET_NAMES)})")
            found.extend(inside)
    return found


def _read_rgb8(path: Path) -> np.ndarray:
    """A triplet's image as training uses every frame: 8-bit RGB (gray repeated, alpha dropped)."""
    return to_8bit(split_alpha(read_image(path))[0])


def load_clip(path: Path, min_side: int = 0, max_width: int | None = 1280) -> Clip:
    """A source in memory; frames smaller than `min_side` are enlarged so that a crop fits."""
    if is_triplet_folder(path):
        frames, triplet, name = [_read_rgb8(path / n) for n in TRIPLET_NAMES], True, f"{path.parent.name}/{path.name}"
    else:
        frames, triplet, name = read_frames(path, max_width=max_width), False, path.name
    if len(frames) < 3:
        raise InputError(f"{path}: fewer than 3 distinct frames")
    height, width = frames[0].shape[:2]
    if min(height, width) < min_side:
        factor = min_side / min(height, width)
        size = (max(min_side, round(width * factor)), max(min_side, round(height * factor)))
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in frames]
    return Clip(name, frames, triplet)


def _thumb(frame: np.ndarray) -> np.ndarray:
    return cv2.resize(frame, (96, 96), interpolation=cv2.INTER_AREA).astype(np.float32)


@dataclass
class TrainingSet:
    """Candidate (clip, first frame, span) examples and the augmentations that make batches."""

    clips: list[Clip]
    crop: int
    strides: Sequence[int] = (1, 2)
    min_motion: float = 1.0  # mean absolute difference (0-255) between the outer frames, on thumbnails
    scene_threshold: float = DEFAULT_THRESHOLD
    motion_crops: float = 0.0  # share of crops centred where the frames differ, the rest anywhere
    candidates: list[tuple[int, int, int]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=lambda: {"static": 0, "scene cut": 0})

    def __post_init__(self) -> None:
        for c, clip in enumerate(self.clips):
            if clip.triplet:
                self.candidates.append((c, 0, 2))
                continue
            thumbs = [_thumb(f) for f in clip.frames]
            cuts = [is_scene_cut(a, b, self.scene_threshold) for a, b in zip(clip.frames, clip.frames[1:])]
            for stride in self.strides:
                span = 2 * stride
                for i in range(len(clip.frames) - span):
                    if any(cuts[i : i + span]):
                        self.skipped["scene cut"] += 1
                    elif float(np.mean(np.abs(thumbs[i] - thumbs[i + span]))) < self.min_motion:
                        self.skipped["static"] += 1
                    else:
                        self.candidates.append((c, i, span))
        if not self.candidates:
            raise InputError("no usable training examples: every one is static or crosses a scene cut")

    def example(self, rng: np.random.Generator):
        """(frame0, frame1, target, t): crops of an augmented triplet (augmented whole, then cropped)."""
        c, first, span = self.candidates[rng.integers(len(self.candidates))]
        clip = self.clips[c]
        middle = span // 2 if span == 2 or rng.random() < 0.5 else int(rng.integers(1, span))
        frames = [clip.frames[first], clip.frames[first + middle], clip.frames[first + span]]
        t = middle / span
        height, width = frames[0].shape[:2]
        if min(height, width) >= 2 * self.crop and rng.random() < 0.3:  # a 2× reduction: smaller motion
            frames = [cv2.resize(f, (width // 2, height // 2), interpolation=cv2.INTER_AREA) for f in frames]
        if rng.random() < 0.5:
            frames = [f[:, ::-1] for f in frames]
        if rng.random() < 0.5:
            frames = [f[::-1] for f in frames]
        turns = int(rng.integers(4))
        if turns:
            frames = [np.rot90(f, turns) for f in frames]
        order = rng.permutation(3)
        frames = [f[:, :, order] for f in frames]
        if rng.random() < 0.5:
            frames, t = frames[::-1], 1 - t
        height, width = frames[0].shape[:2]
        if self.motion_crops and rng.random() < self.motion_crops:
            y, x = _motion_corner(frames, self.crop, rng)
        else:
            y = int(rng.integers(height - self.crop + 1))
            x = int(rng.integers(width - self.crop + 1))
        frames = [f[y : y + self.crop, x : x + self.crop] for f in frames]
        return frames[0], frames[2], frames[1], t

    def batch(self, seed: int, step: int, size: int):
        """(frame0, frame1, target, t): N×3×crop×crop floats in [0, 1] and N times."""
        rng = np.random.default_rng([seed, step])
        examples = [self.example(rng) for _ in range(size)]

        def stack(index: int) -> torch.Tensor:
            return to_tensor([e[index] for e in examples], "cpu")

        return stack(0), stack(1), stack(2), torch.tensor([e[3] for e in examples], dtype=torch.float32)


def _motion_corner(frames: list[np.ndarray], crop: int, rng: np.random.Generator) -> tuple[int, int]:
    """A crop's top-left corner, its centre drawn with probability by how much the middle frame
    differs from the outer ones there. Moving things are often a small part of the picture (people
    far off, a ball): uniform crops mostly show still background, where there is nothing to learn."""
    step = 4  # a coarse map is enough to place a crop
    before, middle, after = (f[::step, ::step].astype(np.float32) for f in frames)
    change = (np.abs(middle - before) + np.abs(middle - after)).sum(axis=2).ravel() + 1e-3
    centre = int(rng.choice(change.size, p=change / change.sum()))
    map_width = middle.shape[1]
    height, width = frames[0].shape[:2]
    cy, cx = (centre // map_width) * step, (centre % map_width) * step
    y = min(max(cy - crop // 2, 0), height - crop)
    x = min(max(cx - crop // 2, 0), width - crop)
    return y, x


@dataclass
class ValidationClip:
    name: str
    triplets: list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def load_validation(paths: Sequence[Path], frames: int = 21, max_width: int | None = 1280) -> list[ValidationClip]:
    """The drop-frame protocol's triplets of each validation video (a triplet folder is itself one)."""
    clips = []
    for path in paths:
        if is_triplet_folder(path):
            a, b, c = (_read_rgb8(path / n) for n in TRIPLET_NAMES)
            clips.append(ValidationClip(f"{path.parent.name}/{path.name}", [(a, b, c)]))
        else:
            clips.append(ValidationClip(path.name, drop_frame_triplets(load_eval_frames(path, frames, max_width=max_width))))
    return clips


def split_sources(data: Sequence[Path], val: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """Training and validation sources. Without explicit validation data, the last whole video
    (or triplet folder) is held out; a source named in both is refused."""
    train, held = find_sources(data), find_sources(val) if val else []
    if not held:
        if len(train) < 2:
            raise InputError("validation needs a whole video (or triplet folder) of its own: give --val or more data")
        train, held = train[:-1], train[-1:]
    overlap = {p.resolve() for p in train} & {p.resolve() for p in held}
    if overlap:
        raise InputError(f"{sorted(overlap)[0]} is both training and validation data")
    return train, held


def load_training_set(paths: Sequence[Path], crop: int, strides: Sequence[int], min_motion: float,
                      scene_threshold: float = DEFAULT_THRESHOLD, progress: Callable[[int, int], None] | None = None,
                      motion_crops: float = 0.0) -> TrainingSet:
    clips = []
    for i, path in enumerate(paths):
        clips.append(load_clip(path, min_side=crop))
        if progress:
            progress(i + 1, len(paths))
    return TrainingSet(clips, crop, list(strides), min_motion, scene_threshold, motion_crops)
