"""Does test-time adaptation help? Fine-tune a copy of the fusion network on a video's own frames
before interpolating it, and score it on the drop-frame protocol of the held-out clips.

A video holds triplets at twice the spacing of the frames it will be asked to make: from the input
frames e0, e1, e2 ... (the even frames of the protocol) the triplet (e0, e1, e2) asks for e1 from
e0 and e2. N steps on random crops of those, then the real test: the dropped odd frames.

    python scripts/adapt_experiment.py --videos ../shared/data/videos --steps 0 50 150
"""
from __future__ import annotations

import argparse
import copy
import random
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_fusion import VALIDATION, cache_features, pad32  # noqa: E402
from vnn_cli import registry  # noqa: E402
from vnn_cli.metrics import psnr  # noqa: E402
from vnn_cli.protocol import drop_frame_triplets, load_eval_frames  # noqa: E402
from vnn_cli.weights import load_model  # noqa: E402


def score(model, cached) -> float:
    values = []
    with torch.no_grad():
        for features, target in cached:
            f = features.float()
            h, w = f.shape[-2:]
            out = model.fuse(pad32(f))[..., :h, :w].clamp(0, 1)
            as_u8 = lambda x: (x[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)  # noqa: E731
            values.append(psnr(as_u8(out), as_u8(target.float())))
    return float(np.mean(values))


def adapt(model, cached, steps: int, lr: float, crop: int = 128, batch: int = 8):
    model = copy.deepcopy(model)
    optimizer = torch.optim.AdamW(model.net.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        inputs, targets = [], []
        for _ in range(batch):
            features, target = random.choice(cached)
            h, w = features.shape[-2:]
            y, x = random.randrange(0, h - crop + 1), random.randrange(0, w - crop + 1)
            inputs.append(features[..., y:y + crop, x:x + crop].float())
            targets.append(target[..., y:y + crop, x:x + crop].float())
        loss = torch.sqrt((model.fuse(torch.cat(inputs)) - torch.cat(targets)) ** 2 + 1e-6).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "data" / "videos")
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 50, 150])
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--cache", type=Path, help="the training script's cache (its validation candidates)")
    args = parser.parse_args()
    random.seed(0)
    torch.manual_seed(0)
    registry.load_plugins(entry_points=False)
    model = load_model("fusion", params={"rife": "always"})
    cached_val = torch.load(args.cache, weights_only=True)["val"] if args.cache else None
    for name in VALIDATION:
        frames = load_eval_frames(args.videos / name, 21)
        test = cached_val[name] if cached_val else cache_features(model, drop_frame_triplets(frames), f"{name} test")
        inputs = frames[0::2]  # what the video gives: the even frames; its triplets are twice as far apart
        own = cache_features(model, drop_frame_triplets(inputs), f"{name} own triplets")
        results = []
        for steps in args.steps:
            adapted = adapt(model, own, steps, args.lr) if steps else model
            results.append(f"{steps} steps: {score(adapted, test):.3f} dB")
        print(f"{name}: " + ", ".join(results), flush=True)


if __name__ == "__main__":
    main()
