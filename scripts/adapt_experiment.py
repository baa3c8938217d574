"""Does test-time adaptation help? Fine-tune a copy of RIFE on a video's own frames before
interpolating it, and score it on the drop-frame protocol of the held-out clips.

A video holds triplets at twice the spacing of the frames it will be asked to make: from the input
frames e0, e1, e2 ... (the even frames of the protocol) the triplet (e0, e1, e2) asks for e1 from
e0 and e2. N steps on random crops of those, then the real test: the dropped odd frames, scored
for `rife` alone (and, with --fusion, the `best` preset with the adapted RIFE inside).

    python scripts/adapt_experiment.py --videos ../shared/data/videos --steps 0 30 100
"""
from __future__ import annotations

import argparse
import copy
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from vnn_cli.core import plugins
from vnn_cli.render.engine import Interpolator  # noqa: E402
from vnn_cli.eval.metrics import psnr  # noqa: E402
from vnn_cli.eval.protocol import drop_frame_triplets, load_eval_frames  # noqa: E402
from vnn_cli.nn.weights import load_model  # noqa: E402

VALIDATION = ["megamind.avi", "pedestrians.avi"]


def to_tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frame[:, :, :3])).permute(2, 0, 1)[None].float() / 255


def score(model, triplets) -> float:
    interpolator = Interpolator(model, "cpu")
    return float(np.mean([psnr(interpolator(a, b, [0.5])[0], middle) for a, middle, b in triplets]))


def adapt(rife, triplets, steps: int, lr: float, crop: int = 128, batch: int = 4):
    rife = copy.deepcopy(rife).train()
    optimizer = torch.optim.AdamW(rife.parameters(), lr=lr, weight_decay=0)
    for _ in range(steps):
        inputs0, inputs1, targets = [], [], []
        for _ in range(batch):
            a, middle, b = random.choice(triplets)
            h, w = a.shape[:2]
            y, x = random.randrange(0, h - crop + 1), random.randrange(0, w - crop + 1)
            window = (slice(y, y + crop), slice(x, x + crop))
            inputs0.append(to_tensor(a[window]))
            inputs1.append(to_tensor(b[window]))
            targets.append(to_tensor(middle[window]))
        prediction = rife(torch.cat(inputs0), torch.cat(inputs1), 0.5)
        loss = torch.sqrt((prediction - torch.cat(targets)) ** 2 + 1e-6).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return rife.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "data" / "videos")
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 30, 100])
    parser.add_argument("--lr", type=float, default=1e-5)
    parser.add_argument("--fusion", action="store_true", help="also score the best preset with the adapted RIFE")
    args = parser.parse_args()
    torch.set_num_threads(2)
    plugins.load_plugins(entry_points=False)
    rife = load_model("rife")
    for name in VALIDATION:
        frames = load_eval_frames(args.videos / name, 21)
        test = drop_frame_triplets(frames)
        own = drop_frame_triplets(frames[0::2])  # what the video gives: its triplets are twice as far apart
        for steps in args.steps:
            random.seed(0)
            torch.manual_seed(0)
            started = time.time()
            adapted = adapt(rife, own, steps, args.lr) if steps else rife
            seconds = time.time() - started
            line = f"{name}: {steps:4d} steps ({seconds:5.1f} s): rife {score(adapted, test):.3f} dB"
            if args.fusion:
                fusion = load_model("fusion", params={"rife": "always"})
                fusion.rife = adapted
                line += f", best (fusion) {score(fusion, test):.3f} dB"
            print(line, flush=True)


if __name__ == "__main__":
    main()
