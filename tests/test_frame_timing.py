"""scripts/frame_timing.py finds when a dropped frame was really taken: a clip whose middle capture
comes early reports that time, an even one reports 0.5."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import write_clip

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "frame_timing.py"


def patch_at(x: float, background: np.ndarray, patch: np.ndarray) -> np.ndarray:
    frame = background.copy()
    left = int(round(x))
    frame[36:68, left:left + 32] = patch
    return frame


@pytest.mark.slow  # a real subprocess
def test_reports_the_real_capture_time(tmp_path):
    rng = np.random.default_rng(0)
    # Smooth textures (blurred noise) that flow can follow, a bright one moving over a dark one.
    background = cv2.GaussianBlur((rng.random((96, 192, 3)) * 120 + 40).astype(np.uint8), (0, 0), 1.5)
    patch = cv2.GaussianBlur((rng.random((32, 32, 3)) * 100 + 150).astype(np.uint8), (0, 0), 1.5)
    # Triplet 1: the middle capture at 30% of the way; triplet 2: exactly half way.
    positions = [20, 20 + 0.3 * 24, 44, 44 + 0.5 * 24, 68]
    clip = write_clip(tmp_path / "uneven.mp4", [patch_at(x, background, patch) for x in positions], crf=0)
    report = tmp_path / "timing.json"
    done = subprocess.run([sys.executable, str(SCRIPT), str(clip), "--json", str(report)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    frames = json.loads(report.read_text())["clips"]["uneven.mp4"]["frames"]
    assert abs(frames[0]["best_t"] - 0.3) <= 0.05
    assert frames[0]["psnr_best"] > frames[0]["psnr_half"] + 3
    assert abs(frames[1]["best_t"] - 0.5) <= 0.05
    assert "uneven.mp4" in done.stdout
