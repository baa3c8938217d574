"""Train the `fusion` model's small network (`learned: cues|frames`) on the CPU and export it.

DIS and RIFE are frozen, so their candidates are computed once per training triplet on whole
frames (as in use: DIS on a crop fails on large motion) and cached; only the small network then
trains, on random crops of the cached inputs. Validation uses the drop-frame protocol on two clips
that never enter training (megamind, pedestrians), before and after.

    python scripts/train_fusion.py --videos ../shared/data/videos --minutes 20 --out fusion-cues.safetensors
    vnn interpolate clip.mp4 --model fusion --weights fusion-cues.safetensors

Trained this way on the six training clips, both variants scored below the plain blend of the
candidates (the untrained network) on the held-out clips at every validation; the untrained state
competes as step 0, so the export is never worse than the plain blend on them.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vnn_cli.core import registry  # noqa: E402

from vnn_cli.core import plugins
from vnn_cli.core.frames import pad_to_multiple  # noqa: E402
from vnn_cli.eval.metrics import psnr  # noqa: E402
from vnn_cli.eval.protocol import drop_frame_triplets, load_eval_frames  # noqa: E402
from vnn_cli.nn.weights import save_weights  # noqa: E402

TRAIN = ["ball.mp4", "bigbuckbunny.mp4", "bikes.mp4", "carphone.mp4", "coin.mov", "tree.avi"]
VALIDATION = ["megamind.avi", "pedestrians.avi"]


def to_tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frame[:, :, :3])).permute(2, 0, 1)[None].float() / 255


def pad32(x: torch.Tensor) -> torch.Tensor:
    return pad_to_multiple(x, 32)[0]


def cache_features(model, triplets, label: str):
    """Per triplet: the network's inputs (float16) and the real middle frame, cropped back."""
    cached = []
    for i, (a, middle, b) in enumerate(triplets):
        x0, x1 = to_tensor(a), to_tensor(b)
        h, w = x0.shape[-2:]
        p0, p1 = pad32(x0), pad32(x1)
        dis, rife = model.candidates(p0, p1)
        features = model.inputs(p0, p1, dis, rife)[..., :h, :w]
        cached.append((features.half(), to_tensor(middle).half()))
        print(f"\r{label}: {i + 1}/{len(triplets)}", end="", flush=True)
    print()
    return cached


def training_triplets(videos: Path, starts: list[float], frames: int, strides: list[int]):
    triplets = []
    for name in TRAIN:
        for start in starts:
            try:
                clip = load_eval_frames(videos / name, frames=frames, start=start)
            except Exception:  # a start past the end of a short clip
                continue
            for stride in strides:
                for i in range(stride, len(clip) - stride, 2 * stride):
                    triplets.append((clip[i - stride], clip[i], clip[i + stride]))
    return triplets


def swap_time(f: torch.Tensor) -> torch.Tensor:
    """The inputs of the same triplet played backwards (see Fusion.inputs for the layout)."""
    order = [*range(3, 6), *range(0, 3), *range(9, 12), *range(6, 9), *range(15, 18), *range(12, 15), 18, 19, 20, 21, 22]
    f = f[:, order].clone()
    f[:, 18:20] = 1 - f[:, 18:20]  # frame 0's weight becomes frame 1's
    return f


def validate(model, cached_by_clip) -> dict:
    model.eval()
    scores = {}
    with torch.no_grad():
        for name, cached in cached_by_clip.items():
            values = {"fusion": [], "dis": [], "rife": [], "mean": []}
            for features, target in cached:
                f = features.float()
                target_u8 = (target.float()[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
                as_u8 = lambda x: (x.clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)  # noqa: E731
                dis = torch.lerp(f[:, 9:12], f[:, 6:9], f[:, 18:19])
                rife = torch.lerp(f[:, 15:18], f[:, 12:15], f[:, 19:20])
                h, w = f.shape[-2:]
                fused = model.fuse(pad32(f))[..., :h, :w]
                for key, x in (("fusion", fused), ("dis", dis), ("rife", rife), ("mean", (dis + rife) / 2)):
                    values[key].append(psnr(as_u8(x), target_u8))
            scores[name] = {k: round(float(np.mean(v)), 3) for k, v in values.items()}
    model.train()
    return scores


def mean_over(scores: dict, key: str) -> float:
    return round(float(np.mean([s[key] for s in scores.values()])), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "data" / "videos")
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=12)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learned", choices=["cues", "frames"], default="cues")
    parser.add_argument("--val-every", type=int, default=250)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=None, help="a .pt file to keep the computed candidates in")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    plugins.load_plugins(entry_points=False)
    model = registry.get_model("fusion").factory(rife="always", learned=args.learned)
    started = time.time()

    if args.cache and args.cache.exists():
        data = torch.load(args.cache, weights_only=True)
        train, val = data["train"], data["val"]
    else:
        train = cache_features(model, training_triplets(args.videos, [0.0, 4.0], 13, [1, 2]), "train")
        val = {name: cache_features(model, drop_frame_triplets(load_eval_frames(args.videos / name, 21)), name)
               for name in VALIDATION}
        if args.cache:
            torch.save({"train": train, "val": val}, args.cache)
    print(f"candidates cached in {time.time() - started:.0f} s: {len(train)} training triplets")

    before = validate(model, val)
    print("before:", json.dumps(before))
    # The untrained network (the plain mean of the candidates) competes too: training must beat it.
    optimizer = torch.optim.AdamW(model.net.parameters(), lr=args.lr, weight_decay=1e-4)
    best, best_state, history = mean_over(before, "fusion"), {k: v.clone() for k, v in model.net.state_dict().items()}, []
    best_step = 0
    deadline = time.time() + args.minutes * 60
    model.train()
    step = 0
    for step in range(1, args.steps + 1):
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = [], []
        for _ in range(args.batch_size):
            features, target = random.choice(train)
            h, w = features.shape[-2:]
            c = min(args.crop, h // 32 * 32, w // 32 * 32)
            y, x = random.randrange(0, h - c + 1), random.randrange(0, w - c + 1)
            f, g = features[..., y:y + c, x:x + c].float(), target[..., y:y + c, x:x + c].float()
            if random.random() < 0.5:
                f, g = f.flip(-1), g.flip(-1)
            if random.random() < 0.5:  # time reversed: the frames, the candidates' warps and masks swap
                f = swap_time(f)
            if c == args.crop:
                inputs.append(f)
                targets.append(g)
        if not inputs:
            continue
        prediction = model.fuse(torch.cat(inputs))
        loss = torch.sqrt((prediction - torch.cat(targets)) ** 2 + 1e-6).mean()  # Charbonnier
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % args.val_every == 0 or step == args.steps or time.time() > deadline:
            scores = validate(model, val)
            mean = mean_over(scores, "fusion")
            history.append({"step": step, "loss": round(loss.item(), 5), "psnr": mean})
            print(f"step {step} loss {loss.item():.4f} validation {mean} {json.dumps(scores)}", flush=True)
            if mean > best:
                best, best_step = mean, step
                best_state = {k: v.clone() for k, v in model.net.state_dict().items()}
        if time.time() > deadline:
            break

    model.net.load_state_dict(best_state)
    after = validate(model, val)
    model.params = type(model.params)(**{**model.params.model_dump(), "rife": "when_needed"})
    metrics = {
        "protocol": "drop-frame: 21 distinct frames, even frames in, odd frames predicted, PSNR on RGB (rife: always)",
        "validation": {"psnr": mean_over(after, "fusion"), "clips": after},
        "baselines": {k: mean_over(after, k) for k in ("dis", "rife", "mean")},
        "untrained": mean_over(before, "fusion"),
    }
    save_weights(model, "fusion", args.out, metrics=metrics, training={
        "data": TRAIN, "validation": VALIDATION, "frozen": ["DIS (OpenCV, medium)", "rife-hdv3"],
        "steps": step, "best_step": best_step, "learned": args.learned, "wall_time_s": round(time.time() - started), "device": "cpu (2 threads)",
        "loss": "charbonnier", "crop": args.crop, "batch_size": args.batch_size, "lr": args.lr,
        "seed": args.seed, "examples": len(train), "history": history,
    })
    print("after:", json.dumps(after))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
