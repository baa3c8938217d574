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


from vnn_cli.core import plugins
from vnn_cli.nn.candidates import classical, learned  # noqa: E402
from vnn_cli.eval.metrics import psnr  # noqa: E402
from vnn_cli.core.model_api import Neighbours, as_time_tensor  # noqa: E402
from vnn_cli.eval.protocol import drop_frame_triplets, load_eval_frames  # noqa: E402
from vnn_cli.nn.weights import load_model  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("clips", nargs="+")
parser.add_argument("--videos", default="/work/shared/data/videos")
parser.add_argument("--no-rife", action="store_true", help="DIS variants only")
args = parser.parse_args()
plugins.load_plugins(entry_points=False)
torch.set_num_threads(2)
rife = None if args.no_rife else load_model("rife")


def to_tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frame.copy()).permute(2, 0, 1)[None].float() / 255


def to_uint8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def variants(before, frame0, frame1, after) -> dict[str, torch.Tensor]:
    half = as_time_tensor(0.5, frame0)
    dis = classical(frame0, frame1, half)
    quad = classical(frame0, frame1, half, neighbours=Neighbours(before, after))
    out = {"dis": dis.frame, "dis_quadratic": quad.frame}
    if rife is not None:
        plain = learned(rife, frame0, frame1).frame
        moved = learned(rife, frame0, frame1, acceleration=quad.acceleration).frame
        out.update(rife=plain, blend=(dis.frame + plain) / 2, blend_quadratic=(quad.frame + plain) / 2,
                   rife_accel=moved, blend_quad_rife_accel=(quad.frame + moved) / 2)
    return out


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
