"""Where one 720p pair's time goes in the default model (`fusion`), on real frames: the classical
candidate (DIS), each IFNet block in each direction (the self-grading apart, as the difference
between the default with and without it), the warps and resizes between them, the fusion
arithmetic, the convolutions' achieved FLOP/s; then decode and encode of 40 frames through vnn's
own reader and writer. Backs the numbers in docs/speed.md.

    python scripts/profile_pair.py [--video /work/shared/data/videos/bigbuckbunny.mp4] [--threads 2]

Timers around each stage and each convolution (a CPU runs them synchronously), not torch.profiler
(whose overhead distorts small operators). The network runs as `fusion` runs it: bf16 autocast where the CPU
computes bf16 natively (the `rife` plugin's `precision: auto`), weights and frames channels_last
(as vnn_cli/render/engine.py runs a model on a CPU).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from fractions import Fraction
from itertools import islice
from pathlib import Path

import torch
from torch import nn

from vnn_cli.core import plugins
from vnn_cli.core.frames import pad_to_multiple, to_numpy, to_tensor
from vnn_cli.core.model_api import Neighbours
from vnn_cli.nn import candidates, ifnet
from vnn_cli.nn.weights import load_model
from vnn_cli.video.reader import VideoReader
from vnn_cli.video.writer import VideoWriter

VIDEO = Path("/work/shared/data/videos/bigbuckbunny.mp4")
SIZE = (1280, 720)


class Timers:
    """Seconds per label, summed over the calls made while `pair` is being counted."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, owner, name: str, label):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            out = original(*args, **kwargs)
            key = label(*args, **kwargs) if callable(label) else label
            self.seconds[key] += time.perf_counter() - start
            return out

        setattr(owner, name, timed)


def conv_work(model: nn.Module, run) -> tuple[int, float]:
    """Multiply-adds of every convolution in one call of `run` (counted from the shapes) and the
    seconds spent in them (timed by hooks around each)."""
    macs, seconds, started = 0, 0.0, [0.0]

    def before(module, inputs):
        started[0] = time.perf_counter()

    def after(module, inputs, output):
        nonlocal macs, seconds
        seconds += time.perf_counter() - started[0]
        k = module.kernel_size[0] * module.kernel_size[1]
        if isinstance(module, nn.ConvTranspose2d):  # each input pixel meets every output channel's kernel
            macs += inputs[0].numel() * module.out_channels * k // module.groups
        else:
            macs += output.numel() * module.in_channels * k // module.groups

    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    handles = [m.register_forward_pre_hook(before) for m in convs] + [m.register_forward_hook(after) for m in convs]
    run()
    for h in handles:
        h.remove()
    return macs, seconds


def profile_pair(frames: list[torch.Tensor], runs: int) -> None:
    plugins.load_plugins()
    # The default's work on a pair, both candidates on the whole frame, channels_last as the render
    # engine runs it; the self-grading is timed apart below (its checks call the same candidates).
    model = load_model("fusion", params={"grade": False}).to(memory_format=torch.channels_last)
    rife = model.rife
    network = rife.network(frames[0])  # the IFNet the bf16 path runs (`bf16_form`), or `net`
    timers = Timers()
    def block_label(block, inputs, scale, swapped=False):
        i = network.blocks.index(block)
        return f"IFNet block{i} (1/{scale:g}) {'swapped' if swapped else 'forward'}"

    original_block = ifnet.IFBlock.__call__
    ifnet.IFBlock.__call__ = lambda self, *a, **k: _timed_block(self, a, k)

    def _timed_block(block, args, kwargs):
        start = time.perf_counter()
        out = original_block(block, *args, **kwargs)
        timers.seconds[block_label(block, *args, **kwargs)] += time.perf_counter() - start
        return out

    timers.wrap(ifnet, "resize_by", "  of which resizes in blocks")
    timers.wrap(ifnet, "backward_warp", "RIFE warps")  # the final warps moved by quadratic motion too
    timers.wrap(candidates, "classical", "classical candidate (DIS + warps)")
    timers.wrap(model.flows.__class__, "__call__", "  of which DIS flow (OpenCV, all calls)")
    timers.wrap(candidates, "acceleration_fields", "  of which quadratic motion (neighbours)")
    timers.wrap(candidates, "rife_candidate", "RIFE candidate (all)")
    timers.wrap(type(model), "fuse", "fusion arithmetic")
    fusion_module = sys.modules[type(model).__module__]  # the names fusion.py calls
    fusion_module.classical, fusion_module.rife_candidate = candidates.classical, candidates.rife_candidate

    triplets = [(frames[i], frames[i + 1], frames[i + 2], frames[i + 3]) for i in range(len(frames) - 3)]
    totals = []
    with torch.inference_mode():
        before, a, b, after = triplets[0]
        model(a, b, 0.5, neighbours=Neighbours(before, after))  # warm-up
        timers.seconds.clear()
        for before, a, b, after in triplets[1:runs + 1]:
            start = time.perf_counter()
            model(a, b, 0.5, neighbours=Neighbours(before, after))
            totals.append(time.perf_counter() - start)
        n = len(totals)
        total = sum(totals) / n
        # The convolutions: one more pair, with a timer around each and its work counted from shapes.
        seconds = dict(timers.seconds)
        macs, conv_seconds = conv_work(network, lambda: model(a, b, 0.5, neighbours=Neighbours(before, after)))
    ifnet.IFBlock.__call__ = original_block
    others = {}
    for label, name in (("the default with its self-grading", "fusion"), ("`fast` (vnnflow)", "vnnflow")):
        other = load_model(name).to(memory_format=torch.channels_last)
        with torch.inference_mode():
            other(*triplets[0][1:3], 0.5, neighbours=Neighbours(triplets[0][0], triplets[0][3]))
            start = time.perf_counter()
            for before, a, b, after in triplets[1:runs + 1]:
                other(a, b, 0.5, neighbours=Neighbours(before, after))
            others[label] = (time.perf_counter() - start) / n

    print(f"fusion without self-grading, {n} pairs of {SIZE[0]}x{SIZE[1]}: {1000 * total:.0f} ms a pair "
          f"(median {1000 * statistics.median(totals):.0f}); "
          + "; ".join(f"{label} {1000 * seconds_a_pair:.0f} ms" for label, seconds_a_pair in others.items()))
    order = ["classical candidate (DIS + warps)", "  of which DIS flow (OpenCV, all calls)",
             "  of which quadratic motion (neighbours)", "RIFE candidate (all)"]
    order += sorted(k for k in seconds if k.startswith("IFNet block"))
    order += ["  of which resizes in blocks", "RIFE warps", "fusion arithmetic"]
    for key in order:
        ms = 1000 * seconds.get(key, 0.0) / n
        print(f"  {key:<40} {ms:7.0f} ms {100 * ms / 1000 / total:5.1f}%")
    accounted = sum(seconds[k] for k in ("classical candidate (DIS + warps)", "RIFE candidate (all)", "fusion arithmetic")) / n
    print(f"  {'rest (padding, clamp, copies)':<40} {1000 * (total - accounted):7.0f} ms")
    print(f"  convolutions: {macs / 1e9:.0f} G multiply-adds a pair in {1000 * conv_seconds:.0f} ms "
          f"= {2 * macs / conv_seconds / 1e12:.2f} TFLOP/s ({torch.get_num_threads()} threads); "
          f"the whole network: {2 * macs / (seconds['RIFE candidate (all)'] / n) / 1e12:.2f} TFLOP/s")


def profile_video(video: Path, count: int) -> None:
    """Decode `count` frames (scaled to 720p where the source is not) and encode them, as vnn does."""
    reader = VideoReader(video, size=SIZE)
    start = time.perf_counter()
    frames = list(islice(iter(reader), count))
    decode = time.perf_counter() - start
    tensors = [to_tensor(f, "cpu") for f in frames]
    start = time.perf_counter()
    arrays = [to_numpy(t, reader.dtype)[0] for t in tensors]
    convert = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        writer = VideoWriter(Path(folder) / "out.mp4", SIZE[0], SIZE[1], Fraction(reader.fps), colour=reader.colour)
        start = time.perf_counter()
        for frame in arrays:
            writer.write(frame)
        writer.close()
        encode = time.perf_counter() - start
    print(f"{count} frames of {SIZE[0]}x{SIZE[1]} ({video.name}): decode {1000 * decode / count:.1f} ms a frame, "
          f"tensor->uint8 {1000 * convert / count:.1f} ms, encode (libx264 crf 18 medium, to the end) "
          f"{1000 * encode / count:.1f} ms a frame")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=VIDEO)
    parser.add_argument("--start", type=float, default=2.0, help="seconds into the video")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    reader = VideoReader(args.video, size=SIZE, start=args.start)
    frames = [pad_to_multiple(to_tensor(f, "cpu"), 32)[0].contiguous(memory_format=torch.channels_last)
              for f in islice(iter(reader), args.runs + 4)]
    profile_pair(frames, args.runs)
    profile_video(args.video, 40)


if __name__ == "__main__":
    main()
