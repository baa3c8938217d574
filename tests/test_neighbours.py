"""Quadratic motion through the frames around a pair: the pipeline hands a model that uses
neighbours the input frames before and after each pair (never across a scene cut, at their real
times when duplicates were dropped), and the default model places accelerating motion where it
really is at t = 0.5, which two frames cannot tell."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from conftest import landscape, write_clip
from vnn_cli import FrameInterpolator, Neighbours
from vnn_cli.nn.candidates import classical
from vnn_cli.render.engine import Interpolator
from vnn_cli.render.job import Workflow, interpolate_video
from vnn_cli.eval.metrics import psnr
from vnn_cli.core.frames import to_tensor
from vnn_cli.core.model_api import as_time_tensor
from vnn_cli.video.images import write_image
from vnn_cli.nn.weights import load_model
from vnn_cli.safeguards.scenes import is_scene_cut

pytestmark = pytest.mark.usefixtures("builtin_plugins")


class Recorder(FrameInterpolator):
    """Blends, and notes what neighbours each pair came with."""

    any_time = False
    uses_neighbours = True

    def __init__(self):
        super().__init__()
        self.seen: list[tuple[float, bool, bool, float, float]] = []

    def forward(self, frame0, frame1, t, neighbours=None):
        around = neighbours or Neighbours()
        self.seen.append((round(float(frame0.mean()) * 255 / 20) * 20,  # the grey level, to the nearest 20
                           around.before is not None, around.after is not None,
                          around.before_at, around.after_at))
        return (frame0 + frame1) / 2


def flat_frames(levels: list[int]) -> list[np.ndarray]:
    """Frames told apart by their grey level (so a recorded pair names itself), with a little
    texture so no two count as duplicates or as a cut unless meant to."""
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 3, (48, 64, 1)).astype(np.int16)
    return [np.clip(level + texture, 0, 255).astype(np.uint8).repeat(3, axis=2) for level in levels]


def test_pipeline_gives_neighbours_but_not_across_a_cut(tmp_path: Path):
    # Two shots of six frames with a cut between frames 5 and 6: pairs 0-4 and 6-10 reach the model.
    first, second = landscape(1, 48, 64), landscape(2, 48, 64)
    frames = [np.roll(first, 2 * i, axis=1) for i in range(6)] + [np.roll(second, 2 * i, axis=1) for i in range(6)]
    clip = write_clip(tmp_path / "cut.mp4", frames, 25)
    model = Recorder()
    result = interpolate_video(clip, tmp_path / "out.mp4", Interpolator(model), factor=2)
    assert result.cuts == 1
    flags = [(before, after) for _, before, after, _, _ in model.seen]
    assert flags == [(False, True), (True, True), (True, True), (True, True), (True, False),
                     (False, True), (True, True), (True, True), (True, True), (True, False)]
    assert all((b_at, a_at) == (-1.0, 2.0) for _, _, _, b_at, a_at in model.seen)


def test_neighbours_at_their_real_times_when_a_duplicate_is_dropped(tmp_path: Path):
    # Frame 2 repeats frame 1 exactly: dropped, so the pair (1, 3) spans two intervals and the
    # pair (3, 4) has its neighbour before two of its own intervals back.
    levels = [60, 80, 80, 100, 120, 140]
    folder = tmp_path / "frames"
    folder.mkdir()
    for index, frame in enumerate(flat_frames(levels)):
        write_image(folder / f"{index:04d}.png", frame)
    model = Recorder()
    interpolate_video(folder, tmp_path / "out", Interpolator(model), factor=2, image_fps=Fraction(10),
                      workflow=Workflow(dedup=True))
    times = [(before, after, b_at, a_at) for _, before, after, b_at, a_at in model.seen]
    assert (True, True, -0.5, 1.5) in times  # pair (1, 3): frames 0 and 4 one interval out each
    assert (True, True, -2.0, 2.0) in times  # pair (3, 4): frame 1 is two intervals before frame 3
    assert (False, True, -1.0, 3.0) in times  # pair (0, 1): no frame before; frame 3 two intervals after 1
    # Pair (1, 3) spans two intervals: its quarters are sub-pairs of the bisection, each seeing
    # frames one of its own spans out (frame 0 or 4, or the other half's end).
    assert len(times) == 6 and times.count((True, True, -1.0, 2.0)) == 2


def pan(positions: list[int], width: int = 128, height: int = 96) -> list[np.ndarray]:
    world = landscape(7, height, width + max(positions) + 1)
    return [np.ascontiguousarray(world[:, x : x + width]) for x in positions]


def as_uint8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1)[0].permute(1, 2, 0) * 255).round().byte().numpy()


# A camera speeding up: x = k² at frames k = 0 … 6. The even frames are the video; the real frame 3
# (x = 9) is not halfway between frames 2 and 4 (x = 4 and 16), where steady motion puts it (x = 10).
ACCELERATING = pan([k * k for k in range(7)])


def test_classical_candidate_follows_acceleration_with_neighbours():
    before, frame0, middle, frame1, after = (ACCELERATING[k] for k in (0, 2, 3, 4, 6))
    x0, x1 = to_tensor(frame0, "cpu"), to_tensor(frame1, "cpu")
    half = as_time_tensor(0.5, x0)
    steady = classical(x0, x1, half).frame
    fitted = classical(x0, x1, half, neighbours=Neighbours(to_tensor(before, "cpu"), to_tensor(after, "cpu"))).frame
    crop = (slice(8, -8), slice(24, -24))  # away from the borders, where content enters the view
    assert psnr(as_uint8(fitted)[crop], middle[crop]) > psnr(as_uint8(steady)[crop], middle[crop]) + 6


def test_default_model_uses_neighbours_through_the_engine():
    before, frame0, middle, frame1, after = (ACCELERATING[k] for k in (0, 2, 3, 4, 6))
    interpolator = Interpolator(load_model("fusion", params={"rife": "always"}))
    steady = interpolator(frame0, frame1, [0.5])[0]
    fitted = interpolator(frame0, frame1, [0.5], Neighbours(before, after))[0]
    crop = (slice(8, -8), slice(24, -24))
    assert psnr(fitted[crop], middle[crop]) > psnr(steady[crop], middle[crop]) + 3


@pytest.mark.parametrize("missing", ["before", "after"])
def test_one_neighbour_is_enough(missing: str):
    before, frame0, middle, frame1, after = (ACCELERATING[k] for k in (0, 2, 3, 4, 6))
    around = Neighbours(None if missing == "before" else to_tensor(before, "cpu"),
                        None if missing == "after" else to_tensor(after, "cpu"))
    x0, x1 = to_tensor(frame0, "cpu"), to_tensor(frame1, "cpu")
    half = as_time_tensor(0.5, x0)
    crop = (slice(8, -8), slice(24, -24))
    steady = psnr(as_uint8(classical(x0, x1, half).frame)[crop], middle[crop])
    assert psnr(as_uint8(classical(x0, x1, half, neighbours=around).frame)[crop], middle[crop]) > steady


@pytest.mark.parametrize("factor_times", [[0.5], [0.25, 0.5, 0.75]])
def test_fast_preset_model_uses_neighbours_at_any_time(factor_times: list[float]):
    # vnnflow (the `fast` preset) knows any t: each time gets the fitted path, not just t = 0.5.
    before, frame0, middle, frame1, after = (ACCELERATING[k] for k in (0, 2, 3, 4, 6))
    interpolator = Interpolator(load_model("vnnflow"))
    steady = interpolator(frame0, frame1, factor_times)
    fitted = interpolator(frame0, frame1, factor_times, Neighbours(before, after))
    crop = (slice(8, -8), slice(24, -24))
    middle_index = factor_times.index(0.5)
    assert psnr(fitted[middle_index][crop], middle[crop]) > psnr(steady[middle_index][crop], middle[crop]) + 6


def test_neighbours_cost_no_extra_flows_in_a_video():
    # Ten frames, nine pairs: each pair needs four flows, but two are its previous pair's.
    from vnn_cli.render.stream import stream
    from vnn_cli.core.timing import FactorTiming

    frames = pan([3 * k for k in range(10)])
    model = load_model("vnnflow")
    outputs = list(stream(frames, Interpolator(model), FactorTiming(2)))
    assert len(outputs) >= 2 * len(frames) - 1
    assert model.flows.computed <= 2 * 9 + 2


def test_tiles_get_their_part_of_the_neighbours():
    # Frames run in tiles (as 4K does by default): each tile's neighbours are cropped alike.
    before, frame0, middle, frame1, after = (ACCELERATING[k] for k in (0, 2, 3, 4, 6))
    interpolator = Interpolator(load_model("vnnflow")).configure(tile=64, tile_overlap=16)
    steady = interpolator(frame0, frame1, [0.5])[0]
    fitted = interpolator(frame0, frame1, [0.5], Neighbours(before, after))[0]
    crop = (slice(8, -8), slice(24, -24))
    # Tiles of 64 px see less of the motion than the whole frame: a smaller gain, but a gain.
    assert psnr(fitted[crop], middle[crop]) > psnr(steady[crop], middle[crop]) + 1


def jolted_pan(speed: float = 2.5, jolt: int = 20, width: int = 128, height: int = 96) -> list[np.ndarray]:
    """Frames 0 … 6 of a textured scene panning steadily by `speed` pixels a frame (sub-pixel, so
    nothing is exact), except that frame 6 lies `jolt` pixels further on: a hand-held camera jolted
    between frames 4 and 6. The scene-cut detector lets it through; DIS follows it only in part, and
    consistently both ways where it fails."""
    world = landscape(7, height, width + 8 * int(speed) + jolt)

    def at(x: float) -> np.ndarray:
        shift = np.float32([[1, 0, x], [0, 1, 0]])
        return cv2.warpAffine(world, shift, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)

    return [at(speed * k + (jolt if k == 6 else 0)) for k in range(7)]


@pytest.mark.parametrize("method", ["classical", "fusion"])
def test_neighbour_across_an_unflagged_change_costs_nothing(method: str):
    # Issue 15: the flows from frame 4 to the jolted frame 6 pass the forward-backward gate, and the
    # path fitted through them bent the in-between by pixels (37 dB against 52 without neighbours,
    # before the evidence check). Frame 6 warped to frame 4 along them misses it many times worse than
    # frame 2 does along the pair's own flow: that side keeps steady motion.
    frames = jolted_pan()
    before, frame0, middle, frame1, after = (frames[k] for k in (0, 2, 3, 4, 6))
    assert not is_scene_cut(frame1, after)
    crop = (slice(8, -8), slice(24, -24))
    if method == "classical":
        x0, x1 = to_tensor(frame0, "cpu"), to_tensor(frame1, "cpu")
        half = as_time_tensor(0.5, x0)
        steady = as_uint8(classical(x0, x1, half).frame)
        fitted = as_uint8(classical(x0, x1, half, neighbours=Neighbours(to_tensor(before, "cpu"),
                                                                        to_tensor(after, "cpu"))).frame)
    else:
        interpolator = Interpolator(load_model("fusion", params={"rife": "always"}))
        steady = interpolator(frame0, frame1, [0.5])[0]
        fitted = interpolator(frame0, frame1, [0.5], Neighbours(before, after))[0]
    assert psnr(fitted[crop], middle[crop]) > psnr(steady[crop], middle[crop]) - 0.1


def test_a_model_with_neighbours_is_handed_one_pair_at_a_time(tmp_path: Path):
    # Each pair runs alone anyway (each has its own neighbours): gathering `batch_size` pairs per
    # call would only hold their frames (at 1080p the default's process: 2.4 GiB against 1.9).
    scene = landscape(1, 48, 64)
    clip = write_clip(tmp_path / "pan.mp4", [np.roll(scene, 2 * i, axis=1) for i in range(7)], 25)
    calls: list[int] = []

    class Counting(Interpolator):
        def synthesize(self, jobs):
            calls.append(len(jobs))
            return super().synthesize(jobs)

    interpolator = Counting(Recorder(), batch_size=4)
    assert interpolator.pairs_per_call == 1
    result = interpolate_video(clip, tmp_path / "out.mp4", interpolator, factor=2)
    assert result.cuts == 0 and result.frames_out == 13 and sum(calls) == 6 and max(calls) == 1
    assert Interpolator(load_model("blend"), batch_size=4).pairs_per_call == 4  # no neighbours: batches stay


def test_the_bench_protocol_gives_no_neighbour_across_a_cut():
    # 13 frames, input frames 0, 2, ..., 12, a cut between inputs 6 and 8 (frame 7 starts the
    # second shot): as `vnn interpolate` would, the pairs beside the cut get no neighbour across it.
    from vnn_cli.eval.protocol import drop_frame_neighbours, drop_frame_triplets

    first, second = landscape(1, 48, 64), landscape(2, 48, 64)
    frames = [np.roll(first, 2 * i, axis=1) for i in range(7)] + [np.roll(second, 2 * i, axis=1) for i in range(6)]
    around = drop_frame_neighbours(frames)
    assert len(around) == len(drop_frame_triplets(frames)) == 6
    present = [(n.before is not None, n.after is not None) for n in around]
    # pairs (0,2) (2,4) (4,6) | (6,8) is the cut | (8,10) (10,12)
    assert present == [(False, True), (True, True), (True, False), (True, True), (False, True), (True, False)]
    assert around[1].before is frames[0] and around[1].after is frames[6]
    # Threshold 0 turns cut detection off, as `--scene-threshold 0` does: the old protocol.
    assert [(n.before is not None, n.after is not None) for n in drop_frame_neighbours(frames, 0)] == \
        [(False, True)] + [(True, True)] * 4 + [(True, False)]
