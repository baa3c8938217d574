"""One scene-cut rule for interpolate and extract, on generated shots: hard cuts found, a fast pan not
called a cut, the threshold's one default in help and config."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conftest import landscape, write_clip
from vnn_cli.safeguards.fallback import Judge, decide
from vnn_cli.safeguards.scenes import DEFAULT_THRESHOLD, is_scene_cut
from vnn_cli.video.images import read_image
from vnn_cli.video.reader import VideoReader

pytestmark = pytest.mark.usefixtures("builtin_plugins")


def shot(seed: int, n: int, speed: int, width: int = 256, height: int = 144) -> list[np.ndarray]:
    """A camera panning right over its own landscape by `speed` pixels a frame."""
    world = landscape(seed, height, width + speed * n + 1)
    return [np.ascontiguousarray(world[:, i * speed : i * speed + width]) for i in range(n)]


# Five shots of six frames. The middle one pans 32 pixels a frame (an eighth of the width): it
# changes the picture as much as a cut (score 0.44-0.53 as the frames are), but a flow explains it.
# The cuts after frames 5 and 23 are 11-12 dB apart yet have 76-79% of their pixels matched by
# the flow, below the old motion check's 85%: the old interpolate blended across them.
SHOTS = [(15, 2), (115, 3), (3, 32), (16, 2), (116, 3)]
CUTS = [5, 11, 17, 23]  # a cut between frame k and k+1
PAN = range(12, 17)


@pytest.fixture(scope="module")
def cut_clip(tmp_path_factory) -> Path:
    frames = [frame for seed, speed in SHOTS for frame in shot(seed, 6, speed)]
    return write_clip(tmp_path_factory.mktemp("cuts") / "shots.mp4", frames, 25)


def test_the_rule_finds_the_cuts_and_not_the_pan(cut_clip):
    frames = list(VideoReader(cut_clip))
    found = [k for k in range(len(frames) - 1) if is_scene_cut(frames[k], frames[k + 1])]
    assert found == CUTS


def test_the_pipeline_decides_with_one_thumbnail_flow_as_each_rule_does_alone(cut_clip):
    """`decide` measures the cut rule and the judge on one shared `ThumbnailFlow` of the pair (its
    thumbnails were 2/3 of the safeguards' time at 720p); every verdict is the one each rule gives
    on its own frames. A judge tightened to reject the pan shows the judge really ran after the
    shared cut check."""
    frames = list(VideoReader(cut_clip))
    judge = Judge(max_motion=20.0)  # pixels: the 32-pixel pan is beyond it, the slow shots within
    for k in range(len(frames) - 1):
        a, b = frames[k], frames[k + 1]
        alone = ("cut", None) if is_scene_cut(a, b) else (
            ("model", None) if (verdict := Judge(max_motion=20.0).judge(a, b)).trusted else ("fallback", verdict.reason))
        assert decide(a, b, DEFAULT_THRESHOLD, judge, lambda: None) == alone, k
    assert judge.reasons == Counter({"motion beyond the model's range": len(PAN)})


def test_interpolate_repeats_the_nearer_frame_at_every_cut(vnn, cut_clip, tmp_path):
    result = vnn("interpolate", cut_clip, "-m", "blend", "--factor", "2", "-o", tmp_path / "out")
    assert result.code == 0, result
    assert "scene cuts: 4" in result.out
    inputs = list(VideoReader(cut_clip))
    made = [read_image(p) for p in sorted((tmp_path / "out").glob("*.png"))]
    assert len(made) == 2 * len(inputs) - 1
    for k in CUTS:  # t = 0.5 across a cut: the later input, never a double exposure
        assert np.array_equal(made[2 * k + 1], inputs[k + 1]), f"frame between {k} and {k + 1} is not the nearer input"
    for k in PAN:  # the fast pan is interpolated, not taken for a cut
        assert not np.array_equal(made[2 * k + 1], inputs[k + 1]) and not np.array_equal(made[2 * k + 1], inputs[k])


def test_the_job_counts_the_frames_the_model_made(cut_clip, tmp_path):
    """`JobResult.synthesized`, what `vnn bench`'s pipeline share divides by: at ×3 each of the four
    cuts repeats a frame twice, which the old count (new frames less one a cut) took for the model's."""
    from vnn_cli.nn.weights import load_model
    from vnn_cli.render.engine import Interpolator
    from vnn_cli.render.job import interpolate_video
    result = interpolate_video(cut_clip, tmp_path / "out.mp4", Interpolator(load_model("blend")), factor=3)
    new = result.frames_out - result.frames_in
    assert result.cuts == len(CUTS) and not result.fallbacks
    assert result.synthesized == new - 2 * len(CUTS) == 2 * (result.frames_in - 1 - len(CUTS))


def test_extract_skips_the_windows_across_the_same_cuts(vnn, cut_clip, tmp_path):
    out = tmp_path / "train"
    result = vnn("extract", cut_clip, "--triplets", "--crop", "64", "--stride", "1", "--min-motion", "0", "-o", out)
    assert result.code == 0, result
    summary = json.loads((out / "triplets.json").read_text())
    # Stride 1: the windows starting at k-1 and k span the cut after frame k; none spans the pan.
    assert summary["skipped_cuts"] == 2 * len(CUTS)


def test_a_lower_threshold_finds_a_cut_a_higher_one_misses(vnn, tmp_path):
    # Two shots whose large shapes happen to line up: 13.5 dB apart, yet a flow matches 32% of the
    # picture and the compensated score is only 0.29. The old motion check (85% unmatched) vetoed it
    # whatever the threshold; now the threshold alone decides.
    clip = write_clip(tmp_path / "soft.mp4", shot(13, 6, 2) + shot(113, 6, 3), 25)
    high = vnn("interpolate", clip, "-m", "blend", "--scene-threshold", "0.6", "-o", tmp_path / "high.mp4")
    assert high.code == 0 and "scene cuts" not in high.out, high
    default = vnn("interpolate", clip, "-m", "blend", "-o", tmp_path / "default.mp4")
    assert default.code == 0 and "scene cuts: 1" in default.out, default


def test_scene_threshold_help_and_config_show_the_one_default(vnn):
    for command in ("interpolate", "slowmo", "extract"):
        text = " ".join(vnn(command, "--help").out.split())
        assert f"default {DEFAULT_THRESHOLD};" in text, command
        assert "0.45" not in text
    merged = json.loads(vnn("config").out)
    assert {merged[s]["scene_threshold"] for s in ("interpolate", "slowmo", "extract", "train")} == {DEFAULT_THRESHOLD}


