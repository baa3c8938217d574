"""When was each dropped frame really taken? A check on the drop-frame protocol's clips.

The protocol predicts frame 2k+1 at t = 0.5 between frames 2k and 2k+2. That is only right if the
three frames were captured at even intervals. For each predicted frame this script renders the
classical `dis` interpolation at every t of a grid, and reports the t that matches the real frame
best and how many dB that t gains over 0.5. On a clip with even capture times the best t is 0.5
(or a neighbour); a clip with dropped or irregular captures shows best times near 1/3 and 2/3,
and that part of every two-frame method's error no model can remove: from two frames, nothing
says when the middle one was taken.

    python scripts/frame_timing.py /work/shared/data/videos/*.mp4 ... [--json timing.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
from pathlib import Path

import numpy as np
import torch

from vnn_cli.core import plugins
from vnn_cli.core.frames import to_numpy, to_tensor
from vnn_cli.eval.metrics import psnr
from vnn_cli.eval.protocol import drop_frame_triplets, load_eval_frames
from vnn_cli.nn.weights import load_model


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("videos", type=Path, nargs="+")
    parser.add_argument("--frames", type=int, default=21, help="distinct frames per clip, as in `vnn bench`")
    parser.add_argument("--max-width", type=int, default=1280)
    parser.add_argument("--step", type=float, default=0.05, help="spacing of the grid of times tried")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    return parser.parse_args()


def best_times(model, frames: list[np.ndarray], grid: np.ndarray) -> list[dict]:
    """For each predicted frame: PSNR at t = 0.5, the best t of `grid`, and the PSNR there."""
    rows = []
    half = int(np.argmin(np.abs(grid - 0.5)))
    for before, actual, after in drop_frame_triplets(frames):
        frame0, frame1 = to_tensor(before, "cpu"), to_tensor(after, "cpu")
        with torch.no_grad():
            scores = [psnr(to_numpy(model(frame0, frame1, torch.tensor([float(t)])), actual.dtype)[0], actual)
                      for t in grid]
        best = int(np.argmax(scores))
        rows.append({"best_t": round(float(grid[best]), 3), "psnr_half": round(scores[half], 2),
                     "psnr_best": round(scores[best], 2)})
    return rows


def main() -> None:
    args = parse_args()
    plugins.load_plugins()
    model = load_model("dis").eval()
    grid = np.round(np.arange(0.2, 0.8 + 1e-9, args.step), 3)
    report = {"grid": grid.tolist(), "machine": platform.processor() or platform.machine(),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
              "clips": {}}
    print(f"{'clip':18s} {'dis at 0.5':>10s} {'at best t':>10s} {'gain':>6s}  best t per predicted frame")
    for video in args.videos:
        rows = best_times(model, load_eval_frames(video, args.frames, max_width=args.max_width), grid)
        half = float(np.mean([r["psnr_half"] for r in rows]))
        best = float(np.mean([r["psnr_best"] for r in rows]))
        report["clips"][video.name] = {"psnr_half": round(half, 2), "psnr_best": round(best, 2), "frames": rows}
        times = " ".join(f"{r['best_t']:.2f}" for r in rows)
        print(f"{video.name:18s} {half:10.2f} {best:10.2f} {best - half:6.2f}  {times}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
