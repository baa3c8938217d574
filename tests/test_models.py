"""Every registered model, one parametrized test each (timm style): output size, the times it
claims, determinism; flow models return a frame unchanged when both inputs are that frame."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from vnn_cli.core import registry

from vnn_cli.core.frames import to_tensor
from vnn_cli.render.engine import Interpolator
from vnn_cli.nn.weights import default_weights_path, load_model

from conftest import moving_frames, registered_models

MODELS = sorted(registered_models())
FLOW_MODELS = ["dis", "vnnflow"]


def build(name: str):
    """The shipped weights when present, else random initialisation."""
    cls = registry.get_model(name).factory
    path = default_weights_path(cls)
    if path is None or path.exists():
        return load_model(name)
    torch.manual_seed(0)
    return cls().eval()


def times_for(model) -> list[float]:
    return [0.1, 0.5, 0.9] if model.any_time else [0.5]


@pytest.fixture(scope="module")
def frames():
    first, _, second = moving_frames(3, width=70, height=50, speed=3)  # sizes that need padding
    return first, second


@pytest.mark.parametrize("name", MODELS)
def test_model_keeps_size_accepts_its_times_and_is_deterministic(name, frames):
    torch.set_num_threads(1)
    model = build(name)
    interpolator = Interpolator(model, "cpu", batch_size=4)
    times = times_for(model)
    first = interpolator(frames[0], frames[1], times)
    again = interpolator(frames[0], frames[1], times)
    assert len(first) == len(times)
    for out, repeat in zip(first, again):
        assert out.shape == frames[0].shape and out.dtype == np.uint8
        np.testing.assert_array_equal(out, repeat)


@pytest.mark.parametrize("name", [m for m in FLOW_MODELS if m in MODELS])
def test_flow_model_given_one_frame_twice_returns_it(name, frames):
    model = build(name)
    frame = frames[0]
    for out in Interpolator(model, "cpu")(frame, frame, times_for(model)):
        assert np.abs(out.astype(int) - frame.astype(int)).mean() < 0.5
        assert np.abs(out.astype(int) - frame.astype(int)).max() <= 4


@pytest.mark.parametrize("name", [m for m in FLOW_MODELS if m in MODELS])
def test_flow_model_handles_batches_like_single_pairs(name, frames):
    """N > 1 in one call gives what N separate calls give (DIS runs per pair through numpy)."""
    model = build(name)
    x0, x1 = to_tensor([frames[0], frames[1]], "cpu"), to_tensor([frames[1], frames[0]], "cpu")
    x0, x1 = (torch.nn.functional.pad(x, (0, 96 - 70, 0, 64 - 50), mode="replicate") for x in (x0, x1))
    t = torch.tensor([0.3, 0.6])
    with torch.no_grad():
        batched = model(x0, x1, t)
        single = torch.cat([model(x0[i : i + 1], x1[i : i + 1], t[i : i + 1]) for i in range(2)])
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=0)


def panning_frames(n: int, width: int = 96, height: int = 64, speed: int = 3) -> list[np.ndarray]:
    """A smooth random texture panning right by `speed` pixels a frame (a camera pan)."""
    rng = np.random.default_rng(1)
    texture = cv2.GaussianBlur(rng.random((height, width + n * speed, 3)).astype(np.float32), (0, 0), 2.0)
    texture = (texture - texture.min()) / (texture.max() - texture.min()) * 200 + 25
    return [texture[:, (n - i) * speed : (n - i) * speed + width].astype(np.uint8) for i in range(n)]


def test_dis_midpoint_beats_blend_on_a_pan():
    frames = panning_frames(3)
    dis = Interpolator(load_model("dis"), "cpu")(frames[0], frames[2], [0.5])[0]
    blend = Interpolator(load_model("blend"), "cpu")(frames[0], frames[2], [0.5])[0]
    inner = (slice(8, -8), slice(8, -8))  # borders see content that entered the view
    error = lambda x: np.abs(x[inner].astype(int) - frames[1][inner].astype(int)).mean()  # noqa: E731
    assert error(dis) < 0.5 * error(blend)


def test_backward_warp_samples_at_pixel_plus_flow_and_knows_the_frame_edge():
    from vnn_cli.nn.warp import backward_warp, flows_to_time, inside_frame, resize_flow

    image = torch.arange(5 * 7, dtype=torch.float32).reshape(1, 1, 5, 7)
    flow = torch.zeros(1, 2, 5, 7)
    flow[:, 0] = 2.0  # every pixel takes its value from two pixels to the right
    warped = backward_warp(image, flow)
    torch.testing.assert_close(warped[..., :5], image[..., 2:])
    assert inside_frame(flow)[0, 0, :, :5].all() and not inside_frame(flow)[0, 0, :, 5:].any()
    torch.testing.assert_close(backward_warp(image, flow / 2, flow_scale=(2.0, 2.0)), warped)
    big = resize_flow(flow, (10, 14))
    assert big.shape == (1, 2, 10, 14) and torch.allclose(big[:, 0], torch.full((1, 10, 14), 4.0))
    t = torch.full((1, 1, 1, 1), 0.5)
    flow_t0, flow_t1 = flows_to_time(flow, -flow, t)  # steady motion: half way back, half way on
    torch.testing.assert_close(flow_t0, -flow / 2)
    torch.testing.assert_close(flow_t1, flow / 2)


def test_vnnflow_prefers_the_frame_that_still_shows_a_border_during_a_pan():
    frames = panning_frames(3, width=128, height=64, speed=4)
    vnnflow = Interpolator(build("vnnflow"), "cpu")(frames[0], frames[2], [0.5])[0]
    dis = Interpolator(load_model("dis"), "cpu")(frames[0], frames[2], [0.5])[0]
    entering = (slice(8, -8), slice(0, 8))  # the strip that came into view from the left
    error = lambda x: np.abs(x[entering].astype(int) - frames[1][entering].astype(int)).mean()  # noqa: E731
    assert error(vnnflow) < error(dis)
