"""The seed project's lesson, measured: train the `unet` briefly with MSE and with an anti-blur
loss on the same crops, then compare both on held-out clips (PSNR, SSIM, sharpness) and side by side.

    python scripts/seed_demo.py --data /work/shared/data/videos --steps 300

Training is `vnn train` (vnn_cli.train.loop.Trainer) on six clips of --data (ball, bigbuckbunny,
bikes, carphone, coin, tree) at their own size, consecutive-frame triplets, with the same seed for
both losses so that both see the same crops in the same order; evaluation is the drop-frame protocol
(vnn_cli.eval.protocol) on the held-out clips scaled to --max-width. Writes docs/seed_demo.png and
docs/seed_demo.json; each run's checkpoints go to runs/seed_demo/unet_<loss>/ and its weights to
runs/seed_demo/unet_<loss>.safetensors with a model card, so `vnn` commands can load them.
"""
from __future__ import annotations

import argparse
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image, ImageDraw

from vnn_cli.core import plugins
from vnn_cli.core.frames import crop, pad_to_multiple, to_numpy, to_tensor
from vnn_cli.core.settings import TrainSettings
from vnn_cli.eval.metrics import psnr, ssim
from vnn_cli.eval.protocol import drop_frame_triplets, load_eval_frames
from vnn_cli.nn.weights import load_model, read_card
from vnn_cli.train.export import export_best
from vnn_cli.train.loop import Progress, Trainer

# Named, not "every other video in --data": the folder has gained clips since the published run.
TRAINING = ("ball.mp4", "bigbuckbunny.mp4", "bikes.mp4", "carphone.mp4", "coin.mov", "tree.avi")
HELD_OUT = ("megamind.avi", "pedestrians.avi")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/videos"))
    parser.add_argument("--losses", nargs=2, default=["mse", "laplacian+0.1*census"], metavar="SPEC")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--crop", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--max-width", type=int, default=320, help="the held-out clips are scored at this width")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--runs", type=Path, default=Path("runs/seed_demo"))
    parser.add_argument("--reuse", action="store_true", help="score the weights already in --runs instead of training")
    return parser.parse_args()


# ---- training and prediction ---------------------------------------------------------------------


def train(spec: str, weights: Path, args: argparse.Namespace) -> None:
    """`vnn train` with one loss, then its best checkpoint exported to `weights`. Validation runs
    only at the start and the end, so the export is the trained model (unless training made it
    worse than the untrained one, which the held-out scores would show)."""
    settings = TrainSettings(
        model="unet", data=[args.data / name for name in TRAINING], val=[args.data / name for name in HELD_OUT], loss=spec,
        steps=args.steps, batch_size=args.batch_size, crop=args.crop, lr=args.lr, strides=[1], seed=args.seed,
        val_every=args.steps, checkpoint_every=args.steps, val_frames=21, val_max_width=args.max_width,
        run_dir=weights.with_suffix(""))

    def report(progress: Progress) -> None:
        if progress.step and (progress.step % 50 == 0 or progress.step == progress.total):
            print(f"  {spec}: step {progress.step}/{progress.total} loss {progress.loss:.4f}", flush=True)

    Trainer(settings, "cpu", progress=report).run()
    export_best(settings.run_dir, weights, overwrite=True)


@torch.no_grad()
def predict(model: torch.nn.Module, frame0: np.ndarray, frame1: np.ndarray) -> np.ndarray:
    a, b = (to_tensor(f, torch.device("cpu")) for f in (frame0, frame1))
    (a, size), (b, _) = pad_to_multiple(a, model.pad_multiple), pad_to_multiple(b, model.pad_multiple)
    return to_numpy(crop(model(a, b, torch.full((1,), 0.5)), size), np.uint8)[0]


def blend(frame0: np.ndarray, frame1: np.ndarray) -> np.ndarray:
    return ((frame0.astype(np.uint16) + frame1 + 1) // 2).astype(np.uint8)


# ---- scores --------------------------------------------------------------------------------------


def laplacian_variance(frame: np.ndarray) -> float:
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float64)
    return float(cv2.Laplacian(gray, cv2.CV_64F, ksize=3).var())


def contrast(frame: np.ndarray) -> float:
    return float(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float64).std())


def gradient_energy(frame: np.ndarray) -> float:
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float64)
    return float(np.mean(cv2.Sobel(gray, cv2.CV_64F, 1, 0) ** 2 + cv2.Sobel(gray, cv2.CV_64F, 0, 1) ** 2))


def score(methods: dict, clips: dict[str, list[np.ndarray]]) -> dict[str, dict[str, float]]:
    """Per method: mean PSNR, SSIM, and sharpness relative to the real middle frames (1 = as sharp)."""
    rows = {}
    for name, method in methods.items():
        values: dict[str, list[float]] = {"psnr": [], "ssim": [], "laplacian_variance_ratio": [], "gradient_energy_ratio": [],
                                          "contrast_ratio": []}
        for frames in clips.values():
            for frame0, real, frame1 in drop_frame_triplets(frames):
                guess = method(frame0, frame1)
                values["psnr"].append(psnr(guess, real))
                values["ssim"].append(ssim(guess, real))
                values["laplacian_variance_ratio"].append(laplacian_variance(guess) / laplacian_variance(real))
                values["gradient_energy_ratio"].append(gradient_energy(guess) / gradient_energy(real))
                values["contrast_ratio"].append(contrast(guess) / contrast(real))
        rows[name] = {k: round(float(np.mean(v)), 4) for k, v in values.items()}
    return rows


# ---- the picture ---------------------------------------------------------------------------------


def busiest_crop(frames: list[np.ndarray], size: int) -> tuple[int, int, int]:
    """(triplet index, y, x) of the size×size window with the most motion between the inputs."""
    best = (-1.0, 0, 0, 0)
    for index, (frame0, _, frame1) in enumerate(drop_frame_triplets(frames)):
        motion = np.abs(frame0.astype(np.float32) - frame1).mean(axis=2)
        window = cv2.boxFilter(motion, -1, (size, size), normalize=True, borderType=cv2.BORDER_CONSTANT)
        h, w = motion.shape
        half = size // 2
        inner = window[half : h - size + half + 1, half : w - size + half + 1]
        y, x = np.unravel_index(np.argmax(inner), inner.shape)
        if inner[y, x] > best[0]:
            best = (float(inner[y, x]), index, int(y), int(x))
    return best[1:]


def side_by_side(panels: list[tuple[str, np.ndarray]], path: Path, zoom: int = 2) -> None:
    label_height, gap = 22, 4
    h, w = panels[0][1].shape[:2]
    canvas = Image.new("RGB", (len(panels) * (w * zoom + gap) - gap, h * zoom + label_height), "white")
    draw = ImageDraw.Draw(canvas)
    for k, (label, image) in enumerate(panels):
        x = k * (w * zoom + gap)
        canvas.paste(Image.fromarray(image).resize((w * zoom, h * zoom), Image.NEAREST), (x, label_height))
        draw.text((x + 4, 5), label, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    plugins.load_plugins()
    mse_spec, sharp_spec = args.losses

    held_out = {name: load_eval_frames(args.data / name, 21, max_width=args.max_width) for name in HELD_OUT}

    models, runs = {}, {}
    for spec in (mse_spec, sharp_spec):
        weights = args.runs / f"unet_{spec.replace('*', 'x').replace('+', '_')}.safetensors"
        if not args.reuse:
            print(f"training unet with loss {spec} on {', '.join(TRAINING)}", flush=True)
            train(spec, weights, args)
        models[spec], runs[spec] = load_model("unet", weights), read_card(weights).training

    methods = {"blend (input average)": blend}
    methods.update({f"unet, {spec}": (lambda a, b, m=models[spec]: predict(m, a, b)) for spec in (mse_spec, sharp_spec)})
    table = score(methods, held_out)

    frames = held_out["megamind.avi"]
    index, y, x = busiest_crop(frames, 112)
    frame0, real, frame1 = drop_frame_triplets(frames)[index]
    window = (slice(y, y + 112), slice(x, x + 112))
    panels = [("real middle frame", real[window])]
    panels += [(f"unet, {spec}", predict(models[spec], frame0, frame1)[window]) for spec in (mse_spec, sharp_spec)]
    panels += [("blend of the inputs", blend(frame0, frame1)[window])]
    side_by_side(panels, args.out / "seed_demo.png")

    report = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} CPU, {args.threads} thread(s), torch {torch.__version__}",
        "settings": {k: str(v) for k, v in vars(args).items()},
        "training": runs,
        "held_out": {name: len(drop_frame_triplets(f)) for name, f in held_out.items()},
        "picture": {"clip": "megamind.avi", "triplet": index, "y": y, "x": x, "size": 112},
        "scores": table,
    }
    (args.out / "seed_demo.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\n| method | PSNR (dB) | SSIM | Laplacian variance / real | gradient energy / real | contrast / real |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, row in table.items():
        print(f"| {name} | {row['psnr']:.2f} | {row['ssim']:.4f} | {row['laplacian_variance_ratio']:.2f} | "
              f"{row['gradient_energy_ratio']:.2f} | {row['contrast_ratio']:.2f} |")


if __name__ == "__main__":
    main()
