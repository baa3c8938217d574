"""Where a model's time goes: one forward pass at a given size, split into classical flow (OpenCV
DIS, which runs outside torch) and torch's operators, as the bench measures it (inference mode,
channels_last, the bench's synthetic frames).

    python scripts/profile_model.py vnnflow --size 1280x720
"""
from __future__ import annotations

import argparse
import time

import torch

from vnn_cli.nn import dis_flow
from vnn_cli.core import plugins
from vnn_cli.bench.speed import synthetic_frames
from vnn_cli.core.frames import pad_to_multiple, to_tensor
from vnn_cli.nn.weights import load_model


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", default="vnnflow")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    plugins.load_plugins()
    model = load_model(args.model).to(memory_format=torch.channels_last)
    width, height = (int(n) for n in args.size.split("x"))
    frames = [pad_to_multiple(to_tensor(f, "cpu"), model.pad_multiple)[0].contiguous(memory_format=torch.channels_last)
              for f in synthetic_frames(width, height, 2 * args.runs + 5)]
    # A new pair every run: models remember the flows of frames they have seen (as in a video).
    pairs = iter([(frames[i], frames[i + 2]) for i in range(0, len(frames) - 2, 2)])
    t = torch.tensor([0.5])

    flow_seconds = []
    original = dis_flow.RememberedFlows.__call__

    def timed_flows(*a, **k):  # DIS runs in OpenCV, which torch's profiler cannot see
        start = time.perf_counter()
        out = original(*a, **k)
        flow_seconds.append(time.perf_counter() - start)
        return out

    dis_flow.RememberedFlows.__call__ = timed_flows

    with torch.inference_mode():
        model(*next(pairs), t)  # warm-up
        flow_seconds.clear()
        start = time.perf_counter()
        for _ in range(args.runs):
            model(*next(pairs), t)
        total = (time.perf_counter() - start) / args.runs
        flow = sum(flow_seconds) / args.runs
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
            model(*next(pairs), t)
    print(f"{args.model} at {width}x{height}, {args.threads} threads: {1000 * total:.0f} ms a frame, "
          f"of which DIS flow {1000 * flow:.0f} ms ({100 * flow / total:.0f}%)")
    print(profile.key_averages().table(sort_by="self_cpu_time_total", row_limit=8))


if __name__ == "__main__":
    main()
