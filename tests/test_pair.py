"""`vnn interpolate a.png b.png -o mid.png`: any size, several times, and the image's format kept."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vnn_cli.video.images import read_image, write_image


def tiny_unet_weights(folder: Path) -> Path:
    """Random weights for a small `unet` (widths 8-16-32), saved with its model card."""
    from vnn_cli.core.plugins import load_plugins
    from vnn_cli.core.registry import get_model
    from vnn_cli.nn.weights import save_weights

    load_plugins()
    torch.manual_seed(0)
    model = get_model("unet").factory(widths=(8, 16, 32), bottleneck_convs=1, residual=True)
    path = Path(folder) / "tiny_unet.safetensors"
    save_weights(model, "unet", path)
    return path


@pytest.fixture
def unet_weights(tmp_path) -> Path:
    return tiny_unet_weights(tmp_path)


def model_args(model: str, weights: Path) -> list:
    return ["-m", model] + (["--weights", weights] if model == "unet" else [])


def one_scene(rng: np.random.Generator, shape: tuple, dtype=np.uint8) -> tuple[np.ndarray, np.ndarray]:
    """A random picture and the same picture with a tenth of its range of noise added: two frames of
    one scene, so no cut check or judge stands in for the model (unrelated images: see the end)."""
    top = np.iinfo(dtype).max
    a = rng.integers(0, top, shape, dtype=dtype, endpoint=True)
    noise = rng.integers(-(top // 10), top // 10, shape, endpoint=True)
    return a, np.clip(a.astype(np.int64) + noise, 0, top).astype(dtype)


def random_pair(folder: Path, shape: tuple, dtype=np.uint8, seed: int = 0) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    a, b = one_scene(np.random.default_rng(seed), shape, dtype)
    pa, pb = folder / "a.png", folder / "b.png"
    write_image(pa, a)
    write_image(pb, b)
    return pa, pb, a, b


@pytest.mark.parametrize("model", ["blend", "unet"])
@pytest.mark.parametrize("size", [(23, 37), (200, 300), (1, 1), (5, 64)])
def test_any_size(vnn, tmp_path, unet_weights, model, size):
    pa, pb, a, b = random_pair(tmp_path, (*size, 3))
    out = tmp_path / "mid.png"
    result = vnn("interpolate", pa, pb, "-o", out, *model_args(model, unet_weights))
    assert result.code == 0, result
    mid = read_image(out)
    assert mid.shape == (*size, 3) and mid.dtype == np.uint8
    if model == "blend":
        expected = (a.astype(float) + b) / 2
        assert np.abs(mid - expected).max() <= 1


def test_unet_bisects_to_other_times(vnn, tmp_path, unet_weights):
    pa, pb, *_ = random_pair(tmp_path, (23, 37, 3))
    result = vnn("interpolate", pa, pb, "-o", tmp_path / "mid.png", "--times", "0.25,0.5,0.75", "-m", "unet",
                 "--weights", unet_weights)
    assert result.code == 0, result
    quarter, half, three = (read_image(tmp_path / f"mid_{i}.png") for i in (1, 2, 3))
    # t=0.25 is the model applied to (a, model(a, b)): not the same frame as t=0.5.
    assert not np.array_equal(quarter, half) and not np.array_equal(three, half)


@pytest.mark.parametrize("flag", [["--times", "0.25,0.5,0.75"], ["--count", "3"]])
def test_several_times(vnn, tmp_path, flag):
    pa, pb, a, b = random_pair(tmp_path, (12, 16, 3))
    result = vnn("interpolate", pa, pb, "-o", tmp_path / "mid.png", "-m", "blend", *flag)
    assert result.code == 0, result
    assert not (tmp_path / "mid.png").exists()
    for i, t in enumerate((0.25, 0.5, 0.75), 1):
        made = read_image(tmp_path / f"mid_{i}.png")
        assert np.abs(made - ((1 - t) * a + t * b)).max() <= 1, t


def test_count_into_a_folder_gives_the_whole_sequence(vnn, tmp_path):
    pa, pb, a, b = random_pair(tmp_path, (12, 16, 3))
    out = tmp_path / "seq"
    result = vnn("interpolate", pa, pb, "-o", f"{out}/", "-m", "blend", "--count", "3")
    assert result.code == 0, result
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"{i:06d}.png" for i in range(5)]
    assert np.array_equal(read_image(files[0]), a) and np.array_equal(read_image(files[4]), b)


@pytest.mark.parametrize("model", ["blend", "unet"])
def test_16_bit_stays_16_bit(vnn, tmp_path, unet_weights, model):
    a = np.zeros((10, 14, 3), np.uint16)
    b = np.full((10, 14, 3), 60000, np.uint16)
    pa, pb = tmp_path / "a.png", tmp_path / "b.png"
    write_image(pa, a)
    write_image(pb, b)
    out = tmp_path / "mid.png"
    result = vnn("interpolate", pa, pb, "-o", out, *model_args(model, unet_weights))
    assert result.code == 0, result
    mid = read_image(out)
    assert mid.dtype == np.uint16 and mid.shape == a.shape
    if model == "blend":
        assert np.abs(mid.astype(int) - 30000).max() <= 1  # a value no 8-bit image can hold


@pytest.mark.parametrize("model", ["blend", "unet"])
def test_rgba_keeps_alpha(vnn, tmp_path, unet_weights, model):
    a, b = one_scene(np.random.default_rng(1), (9, 13, 4))
    a[:, :, 3], b[:, :, 3] = 255, 40
    pa, pb = tmp_path / "a.png", tmp_path / "b.png"
    write_image(pa, a)
    write_image(pb, b)
    result = vnn("interpolate", pa, pb, "-o", tmp_path / "mid.png", "--times", "0.25,0.75",
                 *model_args(model, unet_weights))
    assert result.code == 0, result
    early, late = read_image(tmp_path / "mid_1.png"), read_image(tmp_path / "mid_2.png")
    assert early.shape == (9, 13, 4) and late.shape == (9, 13, 4)
    # Alpha is carried from the nearer frame, never blended.
    assert (early[:, :, 3] == 255).all() and (late[:, :, 3] == 40).all()
    if model == "blend":
        expected = 0.75 * a[:, :, :3] + 0.25 * b[:, :, :3]
        assert np.abs(early[:, :, :3] - expected).max() <= 1


@pytest.mark.parametrize("model", ["blend", "unet"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_grayscale_stays_grayscale(vnn, tmp_path, unet_weights, model, dtype):
    pa, pb, a, b = random_pair(tmp_path, (11, 17), dtype)
    out = tmp_path / "mid.png"
    result = vnn("interpolate", pa, pb, "-o", out, *model_args(model, unet_weights))
    assert result.code == 0, result
    mid = read_image(out)
    assert mid.ndim == 2 and mid.shape == (11, 17) and mid.dtype == dtype
    if model == "blend":
        scale = np.iinfo(dtype).max / 255
        assert np.abs(mid - (a.astype(float) + b) / 2).max() <= scale


def test_other_output_formats(vnn, tmp_path):
    pa, pb, a, b = random_pair(tmp_path, (12, 16, 3))
    for suffix in (".tif", ".jpg", ".bmp"):
        out = tmp_path / f"mid{suffix}"
        result = vnn("interpolate", pa, pb, "-o", out, "-m", "blend")
        assert result.code == 0, result
        assert read_image(out).shape == (12, 16, 3)


# ---- two unrelated images: the same safeguards as a video ------------------------------------------

def unrelated_pair(folder: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """Two pictures of different content (a scene cut in a video): blending them makes a ghost."""
    from conftest import landscape

    a, b = landscape(4, 144, 256), landscape(5, 144, 256)
    pa, pb = folder / "a.png", folder / "b.png"
    write_image(pa, a)
    write_image(pb, b)
    return pa, pb, a, b


def test_unrelated_images_repeat_the_nearer_one_not_a_ghost(vnn, tmp_path):
    pa, pb, a, b = unrelated_pair(tmp_path)
    result = vnn("interpolate", pa, pb, "-o", tmp_path / "mid.png", "-m", "blend", "--times", "0.25,0.5,0.75")
    assert result.code == 0, result
    early, half, late = (read_image(tmp_path / f"mid_{i}.png") for i in (1, 2, 3))
    # As across a cut in a video: the nearer image (t = 0.5: the later one), never a double exposure.
    assert np.array_equal(early, a) and np.array_equal(half, b) and np.array_equal(late, b)
    # One warning that names the pair and the cut, and how to blend them anyway.
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vnn: warning: a.png and b.png"), result
    assert "(a scene cut)" in lines[0] and "--scene-threshold 0 blends them" in lines[0], result


def test_scene_threshold_zero_blends_unrelated_images(vnn, tmp_path):
    pa, pb, a, b = unrelated_pair(tmp_path)
    result = vnn("interpolate", pa, pb, "-o", tmp_path / "mid.png", "-m", "blend", "--scene-threshold", "0")
    assert result.code == 0, result
    assert np.abs(read_image(tmp_path / "mid.png") - (a.astype(float) + b) / 2).max() <= 1
    assert "scene cut" not in result.err


def test_the_judge_and_fallback_never_apply_to_two_images(vnn, tmp_path):
    """A model that draws black and says it cannot be trusted: the blend stands in, as in a video,
    unless --fallback never."""
    plugin = tmp_path / "garbage.py"
    plugin.write_text(
        "import torch\n"
        "from vnn_cli import register_model\n"
        "from vnn_cli.core.model_api import FrameInterpolator\n\n"
        "@register_model('garbage')\n"
        "class Garbage(FrameInterpolator):\n"
        "    def forward(self, frame0, frame1, t):\n"
        "        return torch.zeros_like(frame0)\n\n"
        "    def confidence(self, frame0, frame1):\n"
        "        return torch.zeros(frame0.shape[0])\n")
    pa, pb, a, _ = unrelated_pair(tmp_path)
    b = np.roll(a, 3, axis=1)  # one scene, a little motion: no cut
    write_image(pb, b)
    common = ["-m", "garbage", "--plugins", plugin]
    result = vnn("interpolate", pa, pb, "-o", tmp_path / "mid.png", *common)
    assert result.code == 0, result
    assert np.abs(read_image(tmp_path / "mid.png") - (a.astype(float) + b) / 2).max() <= 1
    assert "low model confidence" in result.err
    never = vnn("interpolate", pa, pb, "-o", tmp_path / "raw.png", "--fallback", "never", *common)
    assert never.code == 0, never
    assert (read_image(tmp_path / "raw.png") == 0).all()
