"""A resumed training run: it validates the step it stopped in (and not one already validated),
needs only --run-dir, and says where Ctrl-C saved it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from vnn_cli.core.errors import Interrupted
from vnn_cli.core.settings import TrainSettings
from vnn_cli.train.checkpoint import LATEST, load_checkpoint
from vnn_cli.train.loop import Trainer

pytestmark = pytest.mark.usefixtures("builtin_plugins")


TINY = {"widths": [8, 16], "bottleneck_convs": 0}


def train_settings(clips, run_dir: Path, **overrides) -> TrainSettings:
    values = dict(model="unet", model_params=TINY, data=[clips[0]], val=[clips[1]], steps=4, batch_size=2, crop=32,
                  lr=1e-3, warmup_steps=1, strides=[1], min_motion=0.0, val_every=4, checkpoint_every=4, val_frames=5,
                  val_max_width=64, run_dir=run_dir, loss="charbonnier")
    values.update(overrides)
    return TrainSettings(**values)


def validations(run_dir: Path) -> dict[int, float]:
    entries = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    return {e["step"]: e["validation"]["psnr"] for e in entries if "validation" in e}


def test_run_stopped_during_validation_validates_that_step_on_resume(clips, tmp_path):
    torch.set_num_threads(1)
    run_dir = tmp_path / "run"
    first = Trainer(train_settings(clips, run_dir))
    validate = first.validate

    def stopped_at_the_last_step():
        if first.step == 4:
            raise Interrupted("SIGINT")
        return validate()

    first.validate = stopped_at_the_last_step
    with pytest.raises(Interrupted) as stopped:
        first.run()
    assert load_checkpoint(run_dir / LATEST)["step"] == 4 and list(validations(run_dir)) == [0]

    result = Trainer(train_settings(clips, run_dir)).run(resume=True)
    scores = validations(run_dir)
    assert list(scores) == [0, 4], "the resumed run never validated the step it stopped in"
    best_step = max(scores, key=scores.get)
    assert result.best["step"] == best_step and result.best["psnr"] == scores[best_step]
    assert str(run_dir / LATEST) in str(stopped.value)  # the interruption says where the checkpoint went


def test_resumed_run_that_was_validated_is_not_validated_again(clips, tmp_path):
    run_dir = tmp_path / "run"
    Trainer(train_settings(clips, run_dir, steps=4)).run()
    Trainer(train_settings(clips, run_dir, steps=4)).run(resume=True)
    assert list(validations(run_dir)) == [0, 4]


def train_flags(clips) -> list[str]:
    return ["-m", "unet", "--model-param", f"widths={json.dumps(TINY['widths'])}",
            "--model-param", f"bottleneck_convs={TINY['bottleneck_convs']}", "--data", clips[0].name, "--val", clips[1].name,
            "--batch-size", "2", "--crop", "32", "--lr", "1e-3", "--warmup-steps", "1", "--strides", "1",
            "--min-motion", "0", "--val-every", "2", "--checkpoint-every", "2", "--val-frames", "5",
            "--val-max-width", "64", "--device", "cpu"]


def test_resume_needs_only_the_run_dir_and_ctrl_c_says_where(vnn, clips, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.chdir(clips[0].parent)  # the data named relative to where the run started
    run_dir = tmp_path / "run"
    original = Trainer._train_step

    def ctrl_c_at_step_three(self):
        if self.step == 3:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(Trainer, "_train_step", ctrl_c_at_step_three)
    stopped = vnn("train", *train_flags(clips), "--steps", "6", "--run-dir", run_dir)
    assert stopped.code == 130, stopped
    message = [line for line in stopped.err.splitlines() if line.startswith("vnn:")]
    assert message == [f"vnn: error: interrupted by SIGINT; step 3 saved to {run_dir / LATEST}; "
                       f"--run-dir {run_dir} --resume continues"]
    monkeypatch.setattr(Trainer, "_train_step", original)

    monkeypatch.chdir(tmp_path)  # elsewhere: the run folder knows its data
    refused = vnn("train", "--run-dir", run_dir, "--resume", "--lr", "0.5")
    assert refused.code == 2 and "--lr: the run in" in refused.err and "1e-3" not in refused.err, refused
    resumed = vnn("train", "--run-dir", run_dir, "--resume", "--device", "cpu")
    assert resumed.code == 0, resumed
    assert f"resumed from step 3 of 6 in {run_dir}" in " ".join(resumed.err.split())
    assert f"{run_dir}: 6 steps" in " ".join(resumed.out.split())
    assert load_checkpoint(run_dir / LATEST)["step"] == 6
    longer = vnn("train", "--run-dir", run_dir, "--resume", "--steps", "8", "--device", "cpu")  # may run longer
    assert longer.code == 0 and load_checkpoint(run_dir / LATEST)["step"] == 8, longer


def test_resume_without_a_checkpoint_says_so(vnn, tmp_path):
    result = vnn("train", "--run-dir", tmp_path / "empty", "--resume")
    assert result.code == 1 and "nothing to resume" in result.err and len(result.err.strip().splitlines()) == 1, result


