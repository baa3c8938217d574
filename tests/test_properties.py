"""Properties that hold for any clip length, factor, rate or frame size (hypothesis).

Timing: for N inputs and factor f there are (N-1)*f + 1 outputs; at a target rate the output lasts
as long as the input to within one output frame; output times always strictly increase and every
input frame is kept at its own time. Engine: any frame size, gray/RGB/RGBA and 8/16 bits in, the
same shape and type out.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vnn_cli.core import registry

from vnn_cli.core import plugins
from vnn_cli.render.engine import Interpolator
from vnn_cli.core.timing import FactorTiming, RateTiming, constant_rate_times, output_count

FAST = settings(max_examples=60, deadline=None)

rates = st.sampled_from([Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
                         Fraction(50), Fraction(60000, 1001), Fraction(60), Fraction(12), Fraction(15)])


@st.composite
def variable_times(draw) -> tuple[list[Fraction], Fraction]:
    """Increasing timestamps with uneven gaps (a variable-frame-rate clip), and its end."""
    gaps = draw(st.lists(st.integers(1, 90), min_size=0, max_size=40))
    start = Fraction(draw(st.integers(0, 50)), 1000)
    times = [start]
    for gap in gaps:
        times.append(times[-1] + Fraction(gap, 1000))
    end = times[-1] + Fraction(draw(st.integers(1, 90)), 1000)
    return times, end


def output_times(timing, times: list[Fraction], end: Fraction) -> list[Fraction]:
    """Where every output frame falls on the input's timeline, in seconds."""
    shown = []
    for a, b in zip(times, times[1:]):
        shown += [a + t * (b - a) for t in timing.between(a, b)]
    shown += [times[-1] + Fraction(k, 10**9) for k in range(len(timing.tail(times[-1], end)))]  # repeats of the last
    return shown


@FAST
@given(n=st.integers(1, 400), factor=st.integers(2, 64), fps=rates)
def test_factor_gives_n_minus_1_times_f_plus_1(n, factor, fps):
    timing = FactorTiming(factor)
    times = constant_rate_times(n, fps)
    assert output_count(timing, times, Fraction(n) / fps) == (n - 1) * factor + 1


@FAST
@given(clip=variable_times(), factor=st.integers(2, 16))
def test_factor_times_are_even_steps_and_keep_every_input(clip, factor):
    times, end = clip
    timing = FactorTiming(factor)
    for a, b in zip(times, times[1:]):
        ts = timing.between(a, b)
        assert ts == [Fraction(k, factor) for k in range(factor)]  # t = 0 is the input itself
    assert output_count(timing, times, end) == (len(times) - 1) * factor + 1


@FAST
@given(n=st.integers(2, 300), source=rates, target=rates)
def test_rate_keeps_duration_within_one_output_frame(n, source, target):
    timing = RateTiming(target)
    end = Fraction(n) / source
    count = output_count(timing, constant_rate_times(n, source), end)
    assert count == math.ceil(end * target)
    assert abs(Fraction(count) / target - end) < 1 / target


@FAST
@given(clip=variable_times(), target=rates)
def test_rate_outputs_sit_on_the_target_grid_in_strictly_increasing_order(clip, target):
    times, end = clip
    timing = RateTiming(target)
    shown = output_times(timing, times, end)
    assert all(x < y for x, y in zip(shown, shown[1:])), "output timestamps must strictly increase"
    inner = [s for s in shown if s < times[-1]]
    first = math.ceil(times[0] * target)
    assert inner == [Fraction(first + k) / target for k in range(len(inner))]
    for a, b in zip(times, times[1:]):
        assert all(0 <= t < 1 for t in timing.between(a, b))


@FAST
@given(clip=variable_times(), factor=st.integers(2, 8))
def test_factor_output_timestamps_strictly_increase(clip, factor):
    times, end = clip
    shown = output_times(FactorTiming(factor), times, end)
    assert all(x < y for x, y in zip(shown, shown[1:]))
    assert set(times) <= set(shown)  # every input frame appears at its own time


# --- the engine keeps every frame's size, channels and bit depth -----------------------------------

@pytest.fixture(scope="module")
def engines() -> dict[str, Interpolator]:
    plugins.load_plugins(entry_points=False)
    unet = registry.get_model("unet").factory(widths=[4, 8], convs_per_level=1, bottleneck_convs=1)
    blend = registry.get_model("blend").factory()
    return {"blend": Interpolator(blend, "cpu", batch_size=2), "unet": Interpolator(unet, "cpu", batch_size=2)}


# Times on a coarse grid: a 0.5-only model bisects down to the finest one, and each level costs.
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(height=st.integers(1, 37), width=st.integers(1, 37), channels=st.sampled_from([None, 3, 4]),
       dtype=st.sampled_from([np.uint8, np.uint16]), model=st.sampled_from(["blend", "unet"]),
       times=st.lists(st.sampled_from([0.25, 1 / 3, 0.5, 0.75]), min_size=1, max_size=3), seed=st.integers(0, 2**16))
def test_any_frame_size_and_format_comes_back_the_same(engines, height, width, channels, dtype, model, times, seed):
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels is None else (height, width, channels)
    top = np.iinfo(dtype).max
    frame0 = rng.integers(0, top, shape, dtype=dtype, endpoint=True)
    frame1 = rng.integers(0, top, shape, dtype=dtype, endpoint=True)
    made = engines[model](frame0, frame1, times)
    assert len(made) == len(times)
    for frame in made:
        assert frame.shape == frame0.shape and frame.dtype == frame0.dtype
    if model == "blend" and channels is not None:
        lower = np.minimum(frame0[..., :3], frame1[..., :3]).astype(np.int64)
        upper = np.maximum(frame0[..., :3], frame1[..., :3]).astype(np.int64)
        colour = made[0][..., :3].astype(np.int64)
        assert ((colour >= lower - 1) & (colour <= upper + 1)).all()  # a blend stays between its inputs


# --- and end to end: the CLI writes exactly that many frames, each the input's size ----------------

@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(2, 9), factor=st.integers(2, 5), width=st.integers(8, 40), height=st.integers(8, 30))
def test_cli_frame_count_and_size_for_any_n_and_factor(vnn, tmp_path_factory, n, factor, width, height):
    from conftest import moving_frames
    from vnn_cli.video.images import read_image, write_image

    work = tmp_path_factory.mktemp("prop")
    frames = moving_frames(n, width=width, height=height, speed=1)
    (work / "in").mkdir()
    for i, frame in enumerate(frames):
        write_image(work / "in" / f"{i:03d}.png", frame)
    result = vnn("interpolate", work / "in", "-m", "blend", "--factor", factor, "-o", work / "out")
    assert result.code == 0, result
    made = sorted((work / "out").iterdir())
    assert len(made) == (n - 1) * factor + 1
    assert all(read_image(path).shape == (height, width, 3) for path in made[:: max(1, len(made) // 4)])
    assert (read_image(made[factor]) == frames[1]).all()


def _decoded_timestamps(path) -> list[Fraction]:
    """When each decoded frame of `path` is shown (seconds), read by ffmpeg itself (framecrc)."""
    import subprocess

    from vnn_cli.video.ffmpeg import ffmpeg_exe

    text = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
                           "-vf", "scale=8:8", "-f", "framecrc", "-"], capture_output=True, text=True, check=True).stdout
    base = next(Fraction(line.split(":", 1)[1].strip()) for line in text.splitlines() if line.startswith("#tb 0:"))
    return [int(line.split(",")[2]) * base for line in text.splitlines() if line.startswith("0,")]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(3, 10), source=st.sampled_from([Fraction(24000, 1001), Fraction(25), Fraction(30)]),
       target=st.sampled_from([Fraction(50), Fraction(60000, 1001), Fraction(60)]))
def test_cli_output_timestamps_strictly_increase_at_the_exact_rate(vnn, tmp_path_factory, n, source, target):
    from conftest import moving_frames, write_clip

    work = tmp_path_factory.mktemp("rate")
    clip = write_clip(work / "in.mp4", moving_frames(n), source)
    out = work / "out.mp4"
    result = vnn("interpolate", clip, "-m", "blend", "--fps", f"{target.numerator}/{target.denominator}", "-o", out)
    assert result.code == 0, result
    stamps = _decoded_timestamps(out)
    assert all(a < b for a, b in zip(stamps, stamps[1:]))
    assert len(stamps) == math.ceil(Fraction(n) / source * target)
    steps = {b - a for a, b in zip(stamps, stamps[1:])}
    assert all(abs(step - 1 / target) < Fraction(1, 1000) for step in steps)  # evenly at the target rate
