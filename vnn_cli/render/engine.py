"""Runs a model plugin on pairs of frames: padding, dtype, device, batching over times and over
pairs, recursive bisection for models that only know t = 0.5, motion at a reduced scale, and
tiling for frames too large to run whole.

What a model may declare (any_time, supports_scale, allows_half, max_motion, confidence,
uses_neighbours, pad_multiple) is listed, with each default, on `core.model_api.FrameInterpolator`.

Models that know only t = 0.5 reach other times by recursive bisection: halves, quarters, ...
up to the nearest power of two at or above the finest step asked for, then each time takes the
nearest frame of that dyadic grid (factor 3 uses 1/4 and 3/4). With neighbours, a deeper level's
sub-pair sees the grid's frames around it (real or synthesized at an earlier level), and the pair's
own neighbours where the grid ends.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from ..core.device import half_dtype
from ..core.frames import crop, join_alpha, max_value, pad_to_multiple, split_alpha, to_tensor
from ..core.model_api import FrameInterpolator, Neighbours
from ..core.model_guard import guarded, run_model
from .tiling import AUTO_TILE_ABOVE, AUTO_TILE_SIZE, DEFAULT_OVERLAP, tiled

Job = tuple[np.ndarray, np.ndarray, Sequence[float]] | tuple[np.ndarray, np.ndarray, Sequence[float], Neighbours | None]


def bisection_depth(times: Sequence[float]) -> int:
    """Levels of halving needed so the dyadic grid k/2**L comes within half a step of every time."""
    finest = min(min(t, 1 - t) for t in times)
    return max(1, math.ceil(math.log2(1 / finest))) if finest > 0 else 1


def _sub_neighbours(grid: dict[int, torch.Tensor], steps: int, left: int, span: int,
                    around: Neighbours | None) -> Neighbours | None:
    """The frames around the sub-pair (left, left + span) of a pair's dyadic grid of `steps`, in
    the sub-pair's units: the grid's frames one span out where the grid has them (the pair's own
    frames, or ones synthesized at an earlier level), else the pair's neighbours, further out."""
    if around is None:
        return None
    right = left + span
    if left - span >= 0:
        before, before_at = grid[left - span], -1.0
    else:
        before, before_at = around.before, (around.before_at * steps - left) / span
    if right + span <= steps:
        after, after_at = grid[right + span], 2.0
    else:
        after, after_at = around.after, (around.after_at * steps - left) / span
    found = Neighbours(before, after, before_at, after_at)
    return found if found else None


class Interpolator:
    """`interpolator(frame0, frame1, [t, ...])` -> the frames at those times, as numpy arrays;
    `interpolator.synthesize([(frame0, frame1, times), ...])` does several pairs in shared batches;
    a job's optional fourth item, `Neighbours` of numpy frames, reaches models that use them.

    Alpha is not interpolated: it is carried from the nearer input frame (t < 0.5: frame0).
    16-bit frames stay 16-bit: the model sees floats, the result is rounded back to the input's type.
    """

    def __init__(self, model: FrameInterpolator, device: torch.device | str = "cpu", half: bool = False,
                 batch_size: int = 4, scale: float = 1.0, tile: int | None = None, tile_overlap: int = DEFAULT_OVERLAP):
        self.device = torch.device(device)
        self.notes: list[str] = []
        if half and not model.allows_half:
            self.notes.append(f"{type(model).__name__} runs in float32: it does not allow half precision")
            half = False
        self.dtype = half_dtype(self.device) if half else torch.float32
        self.model = model.to(self.device, self.dtype).eval()
        if self.device.type in ("cpu", "cuda"):
            self.model = self.model.to(memory_format=torch.channels_last)
        self.batch_size = batch_size
        self.supports_scale = bool(model.supports_scale)
        self.uses_neighbours = bool(model.uses_neighbours)
        self._pin = self.device.type == "cuda"
        self.configure(scale, tile, tile_overlap)

    @property
    def pairs_per_call(self) -> int:
        """How many pairs a pipeline gathers for one `synthesize` call: `batch_size`, but one for a
        model that uses neighbours. Such a model runs each pair alone anyway (each has its own
        neighbours), so gathering more only holds their frames: at 1920×1080 the default's whole
        process peaked at 2.5 GiB with four pairs gathered, 1.9 GiB with one, no slower."""
        return 1 if self.uses_neighbours else self.batch_size

    def configure(self, scale: float = 1.0, tile: int | None = None, tile_overlap: int = DEFAULT_OVERLAP) -> "Interpolator":
        """Motion at `scale` (models that support it); tiles of `tile` pixels (None: only frames
        above 2560×1440, 0: never) overlapping by `tile_overlap`."""
        self.scale = float(scale)
        self.tile = tile
        self.tile_overlap = tile_overlap
        if self.scale != 1.0 and not self.supports_scale:
            self.notes.append(f"{type(self.model).__name__} estimates no motion at another scale: --scale ignored")
        return self

    # ---- what the model declares -------------------------------------------------------------
    @property
    def max_motion(self) -> float | None:
        """The model's motion range in full-resolution pixels (reduced-scale motion reaches further)."""
        limit = self.model.max_motion
        if limit is None:
            return None
        return float(limit) / (self.scale if self.supports_scale else 1.0)

    @property
    def has_confidence(self) -> bool:
        return self.model.has_confidence()

    @torch.inference_mode()
    def confidence(self, frame0: np.ndarray, frame1: np.ndarray) -> float | None:
        if not self.has_confidence:
            return None
        x0, x1 = self._tensor(split_alpha(frame0)[0]), self._tensor(split_alpha(frame1)[0])
        x0, _ = pad_to_multiple(x0, self.model.pad_multiple)
        x1, _ = pad_to_multiple(x1, self.model.pad_multiple)
        trust = guarded(type(self.model), "confidence",
                        lambda: float(torch.as_tensor(self.model.confidence(x0, x1)).float().min()))
        return trust if math.isfinite(trust) else 0.0  # NaN trust is no trust: the pair falls back to a blend

    # ---- tensors -----------------------------------------------------------------------------
    def _tensor(self, colour: np.ndarray) -> torch.Tensor:
        return to_tensor(colour, self.device, self.dtype, pin=self._pin)

    def _batch(self, colours: list[np.ndarray]) -> torch.Tensor:
        """A batch of frames; several times of one pair share one frame as a view, and different
        frames are stacked as integers (a quarter of the bytes of floats) before the conversion."""
        if all(c is colours[0] for c in colours):
            return self._tensor(colours[0]).expand(len(colours), -1, -1, -1)
        return self._tensor(np.stack(colours))

    def _forward(self, x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor, neighbours: Neighbours | None = None) -> torch.Tensor:
        """Every model call goes through here: failures name the plugin, outputs are checked."""
        extra = {}
        if self.supports_scale and self.scale != 1.0:
            extra["scale"] = self.scale
        if neighbours:
            extra["neighbours"] = neighbours
        return run_model(self.model, x0, x1, t, **extra)

    @staticmethod
    def _stack(frames: list[torch.Tensor]) -> torch.Tensor:
        """One batch; several times of one pair share the frame as a view instead of copies."""
        if all(f is frames[0] for f in frames):
            return frames[0].expand(len(frames), -1, -1, -1)
        return torch.cat(frames)

    def _forward_chunked(self, lefts: list[torch.Tensor], rights: list[torch.Tensor], ts: list[float],
                         neighbours: list[Neighbours | None] | None = None) -> list[torch.Tensor]:
        """One model call per `batch_size` items; returns one 1×3×H×W tensor per item. An item
        with neighbours runs on its own (each has its own)."""
        neighbours = neighbours or [None] * len(ts)
        out: list[torch.Tensor] = []
        start = 0
        while start < len(ts):
            stop = start + 1
            if not neighbours[start]:  # a batch, up to the next item with neighbours
                while stop < min(len(ts), start + self.batch_size) and not neighbours[stop]:
                    stop += 1
            t = torch.tensor(ts[start:stop], device=self.device, dtype=self.dtype)
            out.extend(self._forward(self._stack(lefts[start:stop]), self._stack(rights[start:stop]), t,
                                     neighbours[start]).split(1))
            start = stop
        return out

    @torch.inference_mode()
    def predict_many(self, pairs: list[tuple]) -> list[torch.Tensor]:
        """Tensor pairs (1×3×H×W, same size) -> per pair a len(times)×3×H×W tensor. A pair is
        (frame0, frame1, times) or (frame0, frame1, times, Neighbours of tensors or None)."""
        multiple = self.model.pad_multiple
        padded = []
        for x0, x1, times, *rest in pairs:
            p0, size = pad_to_multiple(x0, multiple)
            p1, _ = pad_to_multiple(x1, multiple)
            around = rest[0] if rest and self.uses_neighbours else None
            around = around.map(lambda x: pad_to_multiple(x, multiple)[0]) if around else None
            padded.append((p0, p1, list(times), around))
        if self.model.any_time:
            lefts, rights, ts, owner, around_items = [], [], [], [], []
            for index, (p0, p1, times, around) in enumerate(padded):
                for t in times:
                    lefts.append(p0), rights.append(p1), ts.append(float(t)), owner.append(index)
                    around_items.append(around)
            flat = self._forward_chunked(lefts, rights, ts, around_items)
            grouped: list[list[torch.Tensor]] = [[] for _ in padded]
            for index, frame in zip(owner, flat):
                grouped[index].append(frame)
        else:
            grouped = self._bisect_many(padded)
        return [crop(torch.cat(frames), size) for frames in grouped]

    @torch.inference_mode()
    def predict(self, frame0: torch.Tensor, frame1: torch.Tensor, times: Sequence[float],
                neighbours: Neighbours | None = None) -> torch.Tensor:
        """Tensor in, tensor out: 1×3×H×W each, returns len(times)×3×H×W."""
        return self.predict_many([(frame0, frame1, times, neighbours)])[0]

    def _bisect_many(self, padded: list[tuple]) -> list[list[torch.Tensor]]:
        """The dyadic grid of every pair filled level by level, each level's midpoints of all the
        pairs batched together; with neighbours, each sub-pair gets the grid's frames around it
        (the pair's own neighbours at its ends)."""
        grids, depths = [], []
        for p0, p1, times, _ in padded:
            steps = 2 ** bisection_depth(times)
            grids.append({0: p0, steps: p1})
            depths.append(steps)
        span_of = list(depths)
        while any(span > 1 for span in span_of):
            lefts, rights, where, around = [], [], [], []
            for index, (grid, steps) in enumerate(zip(grids, depths)):
                span = span_of[index]
                if span <= 1:
                    continue
                for left in range(0, steps, span):
                    lefts.append(grid[left]), rights.append(grid[left + span]), where.append((index, left + span // 2))
                    around.append(_sub_neighbours(grid, steps, left, span, padded[index][3]))
                span_of[index] = span // 2
            for (index, position), frame in zip(where, self._forward_chunked(lefts, rights, [0.5] * len(lefts), around)):
                grids[index][position] = frame
        return [[grid[min(max(round(t * steps), 1), steps - 1)] for t in times]
                for grid, steps, (_, _, times, _) in zip(grids, depths, padded)]

    # ---- numpy frames ------------------------------------------------------------------------
    def _tile_size(self, height: int, width: int) -> int:
        if self.tile is None:
            return AUTO_TILE_SIZE if height * width > AUTO_TILE_ABOVE else 0
        return self.tile

    def _to_numpy(self, frames: torch.Tensor, dtype: np.dtype) -> list[np.ndarray]:
        """N×3×H×W floats -> N frames H×W×3 of `dtype`, rounded and clipped. 8-bit output is
        converted on the device in channels_last order, so the host copy is the frame itself."""
        dtype = np.dtype(dtype)
        scale = max_value(dtype)
        scaled = frames.float().mul(scale).clamp_(0, scale).round_()
        if dtype == np.uint8:
            host = scaled.to(torch.uint8, memory_format=torch.channels_last).permute(0, 2, 3, 1).to("cpu")
            return list(host.numpy())
        return list(scaled.permute(0, 2, 3, 1).to("cpu").numpy().astype(dtype))

    def _run_whole(self, jobs: list[tuple[np.ndarray, np.ndarray, list[float], Neighbours | None]]) -> list[list[np.ndarray]]:
        dtype = jobs[0][0].dtype
        if not self.model.any_time or any(around for *_, around in jobs):
            pairs = [(self._tensor(c0), self._tensor(c1), times, around.map(self._tensor) if around else None)
                     for c0, c1, times, around in jobs]
            return [self._to_numpy(out, dtype) for out in self.predict_many(pairs)]
        items = [(index, c0, c1, t) for index, (c0, c1, times, _) in enumerate(jobs) for t in times]
        results: list[list[np.ndarray]] = [[] for _ in jobs]
        multiple = self.model.pad_multiple
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            x0, size = pad_to_multiple(self._batch([c0 for _, c0, _, _ in chunk]), multiple)
            x1, _ = pad_to_multiple(self._batch([c1 for _, _, c1, _ in chunk]), multiple)
            t = torch.tensor([t for _, _, _, t in chunk], device=self.device, dtype=self.dtype)
            frames = self._to_numpy(crop(self._forward(x0, x1, t), size), dtype)
            for (index, _, _, _), frame in zip(chunk, frames):
                results[index].append(frame)
        return results

    def _run_tiled(self, colour0: np.ndarray, colour1: np.ndarray, times: list[float], tile: int,
                   neighbours: Neighbours | None = None) -> list[np.ndarray]:
        def run(tile0: np.ndarray, tile1: np.ndarray, window: tuple[slice, slice]) -> list[np.ndarray]:
            around = neighbours.map(lambda frame: self._tensor(frame[window])) if neighbours else None
            out = self.predict(self._tensor(tile0), self._tensor(tile1), times, around)
            return list(out.float().permute(0, 2, 3, 1).to("cpu").numpy())

        scale = max_value(colour0.dtype)
        sums = tiled(colour0, colour1, times, run, tile, self.tile_overlap)
        frames = []
        while sums:  # in place, one full-size float image freed after each
            total = sums.pop(0)
            np.clip(total, 0, 1, out=total)
            total *= scale
            frames.append(np.rint(total, out=total).astype(colour0.dtype))
        return frames

    def _colours(self, jobs: Sequence[Job]) -> list[list[np.ndarray]]:
        prepared = []
        for f0, f1, times, *rest in jobs:
            around = rest[0] if rest and self.uses_neighbours else None
            around = around.map(lambda f: split_alpha(f)[0]) if around else None
            prepared.append((split_alpha(f0)[0], split_alpha(f1)[0], [float(t) for t in times], around))
        height, width = prepared[0][0].shape[:2]
        while True:
            tile = self._tile_size(height, width)
            try:
                if tile and (height > tile or width > tile):
                    return [self._run_tiled(c0, c1, times, tile, around) for c0, c1, times, around in prepared]
                return self._run_whole(prepared)
            except torch.cuda.OutOfMemoryError:
                # Out of GPU memory: smaller tiles from now on, rather than failing the job.
                torch.cuda.empty_cache()
                smaller = max(256, (tile or max(height, width)) // 2)
                if tile and smaller >= tile:
                    raise
                self.tile = smaller
                self.notes.append(f"out of GPU memory: tiles of {smaller} px from then on")

    @torch.inference_mode()
    def synthesize(self, jobs: Sequence[Job]) -> list[list[np.ndarray]]:
        """Several pairs at once (batched together): per pair, its frames at its times."""
        jobs = [job for job in jobs]
        if not jobs:
            return []
        colours = self._colours(jobs)
        results = []
        for (frame0, frame1, times, *_), frames in zip(jobs, colours):
            alpha0, alpha1 = split_alpha(frame0)[1], split_alpha(frame1)[1]
            results.append([join_alpha(c, alpha0 if t < 0.5 else alpha1, frame0) for c, t in zip(frames, times)])
        return results

    def __call__(self, frame0: np.ndarray, frame1: np.ndarray, times: Sequence[float],
                 neighbours: Neighbours | None = None) -> list[np.ndarray]:
        return self.synthesize([(frame0, frame1, times, neighbours)])[0]
