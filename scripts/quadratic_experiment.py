"""Quadratic motion from the frames around the pair, scored on the drop-frame protocol (21 frames).

Each predicted frame has its two input frames (the even frames 2k and 2k+2) and, in a video, the
input frames before and after them (2k-2 and 2k+4). Linear motion (the `dis` candidate) assumes each
pixel moves half of its 0→1 flow by t = 0.5; quadratic motion (Xu et al., "Quadratic Video
Interpolation", 2019) fits each pixel's path through three frames: from frame 0,
F_0→t = (F_0→1 + F_0→-1)/2 · t² + (F_0→1 − F_0→-1)/2 · t, and likewise from frame 1.

    python scripts/quadratic_experiment.py megamind.avi pedestrians.avi --videos ../shared/data/videos
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vnn_cli import registry  # noqa: E402
from vnn_cli.candidates import classical, learned, path, quadratic  # noqa: E402
from vnn_cli.dis_flow import dis_flows  # noqa: E402
from vnn_cli.warp import backward_warp  # noqa: E402
from vnn_cli.metrics import psnr  # noqa: E402
from vnn_cli.model_api import as_time_tensor  # noqa: E402
from vnn_cli.protocol import drop_frame_triplets, load_eval_frames  # noqa: E402
from vnn_cli.weights import load_model  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("clips", nargs="+")
parser.add_argument("--videos", default="/work/shared/data/videos")
parser.add_argument("--no-rife", action="store_true", help="DIS variants only")
args = parser.parse_args()
registry.load_plugins(entry_points=False)
torch.set_num_threads(2)
rife = None if args.no_rife else load_model("rife")


def to_tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frame.copy()).permute(2, 0, 1)[None].float() / 255


def to_uint8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def variants(before, frame0, frame1, after) -> dict[str, torch.Tensor]:
    half = as_time_tensor(0.5, frame0)
    dis = classical(frame0, frame1, half).frame
    out = {"dis": dis}
    quad = quadratic(before, frame0, frame1, after).frame
    out["dis_quadratic"] = quad
    out["dis_quadratic_splat"] = quadratic(before, frame0, frame1, after, reverse="splat").frame
    if rife is not None:
        r = learned(rife, frame0, frame1).frame
        out["rife"] = r
        out["blend"] = (dis + r) / 2
        out["blend_quadratic"] = (quad + r) / 2
        corrected = rife_with_acceleration(before, frame0, frame1, after)
        out["rife_accel"] = corrected
        out["blend_quad_rife_accel"] = (quad + corrected) / 2
    return out


def rife_with_acceleration(before, frame0, frame1, after):
    """RIFE's flows from t plus the change that DIS's quadratic fit makes to DIS's own linear ones."""
    flow, mask, warped0, warped1 = rife.estimate(frame0, frame1)
    if before is None and after is None:
        return torch.lerp(warped1, warped0, torch.sigmoid(mask))
    f01, f10 = dis_flows(frame0, frame1)
    f0b = dis_flows(frame0, before)[0] if before is not None else None
    f1a = dis_flows(frame1, after)[0] if after is not None else None
    lin0, lin1 = path(f01, None, 0.5), path(f10, None, 0.5)
    q0, q1 = path(f01, f0b, 0.5), path(f10, f1a, 0.5)
    # Super SloMo's approximation at t = 0.5: both flows from t move by minus the mean change
    # of the two frames' paths to t.
    d_t0 = d_t1 = -((q0 - lin0) + (q1 - lin1)) / 2
    w0 = backward_warp(frame0, flow[:, 0:2] + d_t0)
    w1 = backward_warp(frame1, flow[:, 2:4] + d_t1)
    return torch.lerp(w1, w0, torch.sigmoid(mask))


all_scores: dict[str, list[float]] = {}
for name in args.clips:
    frames = load_eval_frames(Path(args.videos) / name, 21)
    evens = frames[0::2]
    scores: dict[str, list[float]] = {}
    for index, (a, middle, b) in enumerate(drop_frame_triplets(frames)):
        before = evens[index - 1] if index > 0 else None
        after = evens[index + 2] if index + 2 < len(evens) else None
        tensors = [None if f is None else to_tensor(f) for f in (before, a, b, after)]
        with torch.no_grad():
            for key, frame in variants(*tensors).items():
                scores.setdefault(key, []).append(psnr(to_uint8(frame), middle))
    means = {key: round(float(np.mean(values)), 3) for key, values in scores.items()}
    for key, value in means.items():
        all_scores.setdefault(key, []).append(value)
    print(name, means, flush=True)
print("mean", {key: round(float(np.mean(v)), 3) for key, v in all_scores.items()})
