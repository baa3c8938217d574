"""Variants of the candidates, scored on the drop-frame protocol (21 frames) of the clips named:
DIS (border-aware, as the fusion computes it), RIFE, RIFE started from DIS's flows to t, the plain
blend of DIS and RIFE (the shipped fusion), the blend with RIFE from DIS flow, and the blend with
RIFE also run on the mirrored frames (flip test-time augmentation). Frames are zero-padded to a
multiple of 32 for all of them, which costs DIS a little near the borders.

    python scripts/candidate_experiments.py megamind.avi pedestrians.avi --videos ../shared/data/videos
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from vnn_cli.core import plugins
from vnn_cli.nn.candidates import classical  # noqa: E402
from vnn_cli.nn.dis_flow import dis_flows  # noqa: E402
from vnn_cli.eval.metrics import psnr  # noqa: E402
from vnn_cli.core.model_api import as_time_tensor  # noqa: E402
from vnn_cli.eval.protocol import drop_frame_triplets, load_eval_frames  # noqa: E402
from vnn_cli.nn.warp import flows_to_time  # noqa: E402
from vnn_cli.nn.weights import load_model  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("clips", nargs="+")
parser.add_argument("--videos", default="/work/shared/data/videos")
args = parser.parse_args()
plugins.load_plugins(entry_points=False)
torch.set_num_threads(2)
rife = load_model("rife")


def to_tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frame.copy()).permute(2, 0, 1)[None].float() / 255


def to_uint8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def pad32(x: torch.Tensor) -> torch.Tensor:
    height, width = x.shape[-2:]
    return F.pad(x, (0, (-width) % 32, 0, (-height) % 32))


def variants(frame0: torch.Tensor, frame1: torch.Tensor) -> dict[str, torch.Tensor]:
    half = as_time_tensor(0.5, frame0)
    flow01, flow10 = dis_flows(frame0, frame1)
    dis_to_t = torch.cat(flows_to_time(flow01, flow10, half), dim=1)
    dis = classical(frame0, frame1, half).frame
    _, mask, warped0, warped1 = rife.net.estimate(frame0, frame1)
    plain = torch.lerp(warped1, warped0, torch.sigmoid(mask))
    _, mask, warped0, warped1 = rife.net.estimate(frame0, frame1, flow=dis_to_t)
    from_dis = torch.lerp(warped1, warped0, torch.sigmoid(mask))
    mirrored = rife.net(frame0.flip(-1), frame1.flip(-1)).flip(-1)
    return {"dis": dis, "rife": plain, "rife_from_dis": from_dis, "mean": (dis + plain) / 2,
            "mean_from_dis": (dis + from_dis) / 2, "flip_tta": (dis + (plain + mirrored) / 2) / 2}


for name in args.clips:
    scores: dict[str, list[float]] = {}
    for a, middle, b in drop_frame_triplets(load_eval_frames(Path(args.videos) / name, 21)):
        height, width = a.shape[:2]
        with torch.no_grad():
            for key, frame in variants(pad32(to_tensor(a)), pad32(to_tensor(b))).items():
                scores.setdefault(key, []).append(psnr(to_uint8(frame[..., :height, :width]), middle))
    print(name, {key: round(float(np.mean(values)), 3) for key, values in scores.items()}, flush=True)
