"""The fusion grades its own options (the blend, DIS, RIFE) on the frames around each pair
(vnn_cli/nn/grading.py): it must pick the candidate that works where the other fails wholesale,
keep the blend where the evidence is not decisive, and say so when a shot is too short to grade."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import landscape
from vnn_cli import Neighbours
from vnn_cli.core.frames import to_tensor
from vnn_cli.eval.metrics import psnr
from vnn_cli.nn.candidates import rife_candidate
from vnn_cli.nn.weights import load_model
from vnn_cli.render.engine import Interpolator
from vnn_cli.render.job import interpolate_video
from vnn_cli.video.images import write_image

pytestmark = pytest.mark.usefixtures("builtin_plugins")

HEIGHT, WIDTH, SPEED = 192, 256, 6


def panning(isoluminant: bool, count: int = 7) -> list[np.ndarray]:
    """A picture panning SPEED px a frame. `isoluminant`: its detail only in colour, at one
    luma (BT.601, 128 after rounding): DIS, which sees luma, finds no motion; RIFE, which sees
    colour, follows it."""
    picture = landscape(3, HEIGHT, WIDTH + SPEED * count)
    if isoluminant:
        red = picture[..., 0].astype(np.float32)
        blue = np.full_like(red, 128)
        green = np.round((128 - 0.299 * red - 0.114 * blue) / 0.587)
        picture = np.clip(np.stack([red, green, blue], axis=2), 0, 255).astype(np.uint8)
    return [picture[:, SPEED * i:SPEED * i + WIDTH].copy() for i in range(count)]


def made(frames: list[np.ndarray], model) -> dict[str, float]:
    """The pair (frames 2, 4) with neighbours 0 and 6 made each way and by the model itself,
    scored (PSNR) against the real frame 3; and what the grader chose."""
    f0, f1, before, after = (to_tensor(frames[i], "cpu") for i in (2, 4, 0, 6))
    around = Neighbours(before, after)
    with torch.no_grad():
        dis = model.classical(f0, f1, around)
        rife = rife_candidate(model.rife, f0, f1, None, False, dis.acceleration)
        ways = {"dis": dis.frame, "rife": rife.frame, "blend": model.fuse(dis, rife), "model": model(f0, f1, 0.5, neighbours=around)}
    as_image = lambda x: np.round(x[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255).astype(np.uint8)
    return {name: psnr(as_image(x), frames[3]) for name, x in ways.items()}


def test_grading_sends_to_rife_what_dis_cannot_see():
    model = load_model("fusion")
    scores = made(panning(isoluminant=True), model)
    assert scores["rife"] > scores["dis"] + 10  # the case: DIS fails wholesale
    assert model.grader.counts["rife"] == 1
    assert scores["model"] == pytest.approx(scores["rife"], abs=0.01)
    assert scores["model"] > scores["blend"] + 10


def test_grading_keeps_the_blend_where_no_candidate_is_decisively_better():
    model = load_model("fusion")
    scores = made(panning(isoluminant=False), model)
    assert model.grader.counts["blend"] == 1
    assert scores["model"] == pytest.approx(scores["blend"], abs=0.01)


def test_grading_off_gives_the_blend():
    model = load_model("fusion", params={"grade": False})
    scores = made(panning(isoluminant=True), model)
    assert sum(model.grader.counts.values()) == 0
    assert scores["model"] == pytest.approx(scores["blend"], abs=0.01)


def _sequence(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir()
    for index, frame in enumerate(frames):
        write_image(folder / f"{index:04d}.png", frame)
    return folder


def test_a_video_says_how_its_pairs_were_made(tmp_path: Path):
    folder = _sequence(tmp_path / "frames", panning(isoluminant=True, count=5))
    result = interpolate_video(folder, tmp_path / "out", Interpolator(load_model("fusion")), factor=2,
                               image_fps=Fraction(10))
    assert any(note.startswith("self-grading: rife 4") for note in result.notes), result.notes


def test_a_shot_too_short_to_grade_keeps_the_blend_with_a_note(tmp_path: Path):
    folder = _sequence(tmp_path / "frames", panning(isoluminant=True, count=2))
    model = load_model("fusion")
    result = interpolate_video(folder, tmp_path / "out", Interpolator(model), factor=2, image_fps=Fraction(10))
    assert any("1 pair(s) with no frame around them to grade by kept the blend" in note for note in result.notes), result.notes


def test_rife_when_needed_does_not_grade():
    # Grading runs RIFE on every check; `rife=when_needed` exists to run it only on doubted tiles.
    model = load_model("fusion", params={"rife": "when_needed"})
    calls = []
    estimate = model.rife.estimate
    model.rife.estimate = lambda *args, **kwargs: calls.append(1) or estimate(*args, **kwargs)
    frames = panning(isoluminant=False)
    f0, f1, before, after = (to_tensor(frames[i], "cpu") for i in (2, 4, 0, 6))
    with torch.no_grad():
        model(f0, f1, 0.5, neighbours=Neighbours(before, after))
    assert sum(model.grader.counts.values()) == 0
    assert model.doubted_region(model.classical(f0, f1, Neighbours(before, after))) is None
    assert calls == []  # a plain pan: DIS doubted nowhere, so RIFE never ran
