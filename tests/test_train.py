"""`vnn train` and the training library on tiny generated clips: every trainable model and several
loss specs train, a resumed run continues the uninterrupted loss curve, and exported weights load
back into a model that gives identical outputs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vnn_cli.core import registry

from vnn_cli.core.errors import Interrupted
from vnn_cli.core.settings import TrainSettings
from vnn_cli.train.checkpoint import BEST, LATEST, load_checkpoint
from vnn_cli.train.export import export_best
from vnn_cli.train.loop import Trainer, learning_rate
from vnn_cli.nn.weights import load_model, read_card

from conftest import moving_frames, registered_models


TINY_PARAMS = {  # small enough for a few steps in well under a second each
    "unet": {"widths": [8, 16], "bottleneck_convs": 0},
}


def trainable() -> list[str]:
    names = []
    for name, entry in registered_models().items():
        try:
            model = entry.factory(**TINY_PARAMS.get(name, {}))
        except Exception:  # a plugin that cannot be built without arguments is not tested here
            continue
        if any(p.requires_grad for p in model.parameters()):
            names.append(name)
    return names


def settings(clips, tmp_path: Path, **overrides) -> TrainSettings:
    values = dict(model="unet", model_params=TINY_PARAMS["unet"], data=[clips[0]], val=[clips[1]], steps=4,
                  batch_size=2, crop=32, lr=1e-3, warmup_steps=1, strides=[1], min_motion=0.0, val_every=2,
                  checkpoint_every=2, val_frames=5, val_max_width=64, run_dir=tmp_path / "run", loss="charbonnier")
    values.update(overrides)
    return TrainSettings(**values)


@pytest.mark.parametrize("model", trainable())
def test_every_trainable_model_trains(model, clips, tmp_path):
    torch.set_num_threads(1)
    trainer = Trainer(settings(clips, tmp_path, model=model, model_params=TINY_PARAMS.get(model, {})))
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    result = trainer.run()
    assert result.steps == 4 and all(np.isfinite(loss) for _, loss in result.losses)
    assert any(not torch.equal(before[k], v) for k, v in trainer.model.state_dict().items())
    assert (tmp_path / "run" / LATEST).is_file() and (tmp_path / "run" / BEST).is_file()
    assert set(result.baselines) == {"blend", "dis"}


@pytest.mark.parametrize("loss", ["l1", "charbonnier+0.1*census", "laplacian", "0.5*mse+ssim"])
def test_loss_specs_train(loss, clips, tmp_path):
    needed = {name for _, name in __import__("vnn_cli.train.losses", fromlist=["parse_spec"]).parse_spec(loss)}
    if not needed <= set(registry.list_losses()):
        pytest.skip(f"loss plugins {needed - set(registry.list_losses())} not available")
    result = Trainer(settings(clips, tmp_path, loss=loss, steps=2)).run()
    assert len(result.losses) == 2 and all(np.isfinite(v) for _, v in result.losses)


def test_resume_continues_the_same_loss_curve(clips, tmp_path):
    torch.set_num_threads(1)
    whole = Trainer(settings(clips, tmp_path / "whole", steps=6)).run()

    def stop_at_three(progress):
        if progress.step == 3:
            raise Interrupted("test")

    with pytest.raises(Interrupted):
        Trainer(settings(clips, tmp_path / "parts", steps=6), progress=stop_at_three).run()
    assert load_checkpoint(tmp_path / "parts" / "run" / LATEST)["step"] == 3
    rest = Trainer(settings(clips, tmp_path / "parts", steps=6)).run(resume=True)
    assert [s for s, _ in rest.losses] == [4, 5, 6]
    np.testing.assert_allclose([v for _, v in rest.losses], [v for _, v in whole.losses[3:]], rtol=1e-5)


def test_export_then_load_gives_identical_outputs(clips, tmp_path):
    trainer = Trainer(settings(clips, tmp_path))
    trainer.run()
    out = tmp_path / "weights" / "unet.safetensors"
    card = export_best(tmp_path / "run", out)
    assert card.training["data"] == ["train.mp4"] and card.training["validation"] == ["val.mp4"]
    assert {"validation", "baselines"} <= set(card.metrics) and "dis" in card.metrics["baselines"]
    best = load_checkpoint(tmp_path / "run" / BEST)
    trainer.model.load_state_dict(best["model"])
    loaded = load_model("unet", out)
    x0, x1 = torch.rand(1, 3, 32, 48), torch.rand(1, 3, 32, 48)
    t = torch.tensor([0.3])
    with torch.no_grad():
        torch.testing.assert_close(loaded(x0, x1, t), trainer.model.eval()(x0, x1, t), atol=0, rtol=0)
    assert read_card(out).sha256 == card.sha256


def test_learning_rate_warms_up_then_decays():
    rates = [learning_rate(step, 1.0, 10, 100) for step in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(rates[9:], rates[10:])) and rates[-1] < 0.05


def test_train_command_trains_and_exports(vnn, clips, tmp_path):
    out = tmp_path / "w" / "unet.safetensors"
    result = vnn("train", "--model", "unet", "--model-param", "widths=[8,16]", "--model-param", "bottleneck_convs=0",
                 "--data", clips[0], "--val", clips[1], "--steps", "2", "--batch-size", "2", "--crop", "32",
                 "--strides", "1", "--min-motion", "0", "--val-every", "2", "--val-frames", "5", "--val-max-width", "64",
                 "--run-dir", tmp_path / "run", "--export", out, "--device", "cpu", "--threads", "1")
    assert result.code == 0, result
    assert "best: step" in result.out and out.is_file()
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["model"] == "unet" and card["params"]["widths"] == [8, 16]
    again = vnn("train", "--run-dir", tmp_path / "run", "--export", tmp_path / "again.safetensors", "--export-only")
    assert again.code == 0, again


def test_training_data_overlapping_validation_is_refused(vnn, clips, tmp_path):
    result = vnn("train", "--data", clips[0], "--val", clips[0], "--run-dir", tmp_path / "run", "--steps", "1")
    assert result.code != 0 and "both training and validation" in result.err


def test_motion_crops_find_the_small_moving_thing():
    """A 20-pixel square moving over a 256×192 still background: crops centred on change show it
    almost always, uniform crops seldom."""
    from vnn_cli.train.data import Clip, TrainingSet

    frames = moving_frames(12, width=256, height=192, speed=3)
    clip = Clip("square", frames)

    def share_showing_motion(motion_crops: float) -> float:
        data = TrainingSet([clip], crop=48, strides=[1], min_motion=0.0, motion_crops=motion_crops)
        rng = np.random.default_rng(0)
        shown = 0
        for _ in range(60):
            frame0, frame1, middle, _ = data.example(rng)
            shown += bool(np.any(frame0 != middle) or np.any(frame1 != middle))
        return shown / 60

    assert share_showing_motion(1.0) > 0.9
    assert share_showing_motion(0.0) < 0.5
