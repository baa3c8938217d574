"""Micro-benchmarks (pytest-benchmark) of the hot paths: the default model's forward pass at
1280x720, backward warping at 1280x720, the safeguards' verdict on a 1280x720 pair, the check of
a model's output, and decode -> encode of a generated clip.

They are skipped in the normal test run (pyproject's addopts disable benchmarks); run them with

    python -m pytest tests/bench --benchmark-enable

and compare runs with `--benchmark-autosave` then `--benchmark-compare`.
"""
import numpy as np
import pytest
import torch

from conftest import moving_frames, write_clip
from vnn_cli.core import registry
from vnn_cli.core import plugins
from vnn_cli.core.frames import pad_to_multiple
from vnn_cli.core.settings import DEFAULT_MODEL
from vnn_cli.video.reader import VideoReader
from vnn_cli.video.writer import VideoWriter
from vnn_cli.nn.weights import default_weights_path, load_model

WIDTH, HEIGHT = 1280, 720


@pytest.fixture(autouse=True)
def _only_when_benchmarking(request):
    config = request.config
    if config.getoption("benchmark_disable") and not config.getoption("benchmark_enable"):
        pytest.skip("micro-benchmark: run with `python -m pytest tests/bench --benchmark-enable`")


def _frames(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two 720p frames with the same smooth content shifted by a few pixels."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, HEIGHT // 16, WIDTH // 16 + 1, generator=generator)
    wide = torch.nn.functional.interpolate(coarse, size=(HEIGHT, WIDTH + 16), mode="bicubic", align_corners=False)
    wide = wide.clamp(0, 1)
    return wide[..., :WIDTH].contiguous(), wide[..., 6 : WIDTH + 6].contiguous()


def test_default_model_forward_720p(benchmark):
    plugins.load_plugins(strict=False)
    cls = registry.get_model(DEFAULT_MODEL).factory
    weights = default_weights_path(cls)
    trained = weights is None or weights.exists()
    model = load_model(DEFAULT_MODEL) if trained else cls().eval()  # speed does not depend on the values
    frame0, frame1 = _frames()
    frame0, _ = pad_to_multiple(frame0, model.pad_multiple)
    frame1, _ = pad_to_multiple(frame1, model.pad_multiple)
    t = torch.full((1,), 0.5)
    benchmark.extra_info.update(model=DEFAULT_MODEL, weights="shipped" if trained else "random", threads=torch.get_num_threads())

    @torch.inference_mode()
    def forward():
        return model(frame0, frame1, t)

    out = benchmark.pedantic(forward, rounds=3, iterations=1, warmup_rounds=1)
    assert out.shape == frame0.shape


def test_backward_warp_720p(benchmark):
    warp = pytest.importorskip("vnn_cli.nn.warp")
    frame0, _ = _frames()
    flow = torch.randn(1, 2, HEIGHT // 8, WIDTH // 8, generator=torch.Generator().manual_seed(1)) * 4
    flow = torch.nn.functional.interpolate(flow, size=(HEIGHT, WIDTH), mode="bilinear", align_corners=False)

    @torch.inference_mode()
    def run():
        return warp.backward_warp(frame0, flow)

    out = benchmark.pedantic(run, rounds=10, iterations=1, warmup_rounds=1)
    assert out.shape == frame0.shape


def test_safeguards_720p(benchmark):
    """What the pipeline decides before any model runs, once a pair: scene cut, then the judge."""
    from vnn_cli.safeguards.fallback import Judge, decide
    from vnn_cli.safeguards.scenes import DEFAULT_THRESHOLD
    frame0, frame1 = (np.ascontiguousarray((f[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy())
                      for f in _frames())
    judge = Judge()

    def run():
        return decide(frame0, frame1, DEFAULT_THRESHOLD, judge, lambda: None)

    assert benchmark.pedantic(run, rounds=10, iterations=1, warmup_rounds=1) == ("model", None)


def test_output_check_720p(benchmark):
    """The pipeline's check of every model output (shape, floats, all finite), on four 720p frames
    laid out as the models return them (channels_last)."""
    from vnn_cli.core.model_guard import check_frames
    plugins.load_plugins(strict=False)
    model = load_model("blend")
    frames = torch.rand(4, 3, HEIGHT, WIDTH).contiguous(memory_format=torch.channels_last)
    out = benchmark.pedantic(lambda: check_frames(model, frames, frames), rounds=10, iterations=1, warmup_rounds=1)
    assert out is frames


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames = moving_frames(48, width=640, height=360, speed=4)
    return write_clip(tmp_path_factory.mktemp("bench") / "clip.mp4", frames, 25, crf=18)


def test_decode_encode(benchmark, clip, tmp_path):
    """The pipeline without a model: decode through the ffmpeg pipe, encode as `vnn interpolate` does."""
    reader = VideoReader(clip)
    output = tmp_path / "out.mp4"

    def run() -> int:
        writer = VideoWriter(output, reader.width, reader.height, reader.fps)  # libx264, crf 18, medium
        count = 0
        for frame in reader:
            writer.write(frame)
            count += 1
        writer.close()
        return count

    frames = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(frames=frames, size=f"{reader.width}x{reader.height}")
    assert frames == 48
