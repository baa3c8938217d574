"""The one device selector: auto picks CUDA, then MPS, then the CPU; an unavailable device is an error."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vnn_cli.core import huge_pages
from vnn_cli.core.device import auto_device, half_dtype, select_device
from vnn_cli.core.errors import DeviceError
from vnn_cli.video.images import read_image, write_image

HAS_CUDA = torch.cuda.is_available()
HAS_MPS = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


@pytest.fixture
def keep_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(0)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    write_image(a, rng.integers(0, 256, (20, 28, 3), dtype=np.uint8))
    write_image(b, rng.integers(0, 256, (20, 28, 3), dtype=np.uint8))
    return a, b


def test_cpu():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device(" CPU ") == torch.device("cpu")


def test_auto_prefers_cuda_then_mps_then_cpu():
    expected = "cuda" if HAS_CUDA else "mps" if HAS_MPS else "cpu"
    assert select_device("auto").type == expected
    assert auto_device().type == expected


@pytest.mark.skipif(HAS_CUDA, reason="CUDA is available here")
def test_cuda_without_cuda_is_an_error_not_a_fallback():
    for spec in ("cuda", "cuda:0", "cuda:1"):
        with pytest.raises(DeviceError, match="CUDA is not available"):
            select_device(spec)


@pytest.mark.skipif(HAS_MPS, reason="MPS is available here")
def test_mps_without_mps_is_an_error():
    with pytest.raises(DeviceError, match="MPS is not available"):
        select_device("mps")


@pytest.mark.parametrize("spec", ["gpu", "cuda:", "cuda:x", "cpu0", ""])
def test_bad_spec(spec):
    with pytest.raises(DeviceError, match="unknown device"):
        select_device(spec)


def test_threads(keep_threads):
    select_device("cpu", threads=1)
    assert torch.get_num_threads() == 1


def test_half_dtype_on_cpu_is_an_error():
    with pytest.raises(DeviceError, match="--half needs a CUDA or MPS device"):
        half_dtype(torch.device("cpu"))


def test_threads_flag_sets_torch_threads(vnn, pair, tmp_path, keep_threads):
    torch.set_num_threads(2)
    result = vnn("interpolate", *pair, "-o", tmp_path / "mid.png", "-m", "blend", "--device", "cpu", "--threads", "1")
    assert result.code == 0, result
    assert torch.get_num_threads() == 1


def test_threads_from_environment(vnn, pair, tmp_path, keep_threads, monkeypatch):
    torch.set_num_threads(2)
    monkeypatch.setenv("VNN_THREADS", "1")
    result = vnn("interpolate", *pair, "-o", tmp_path / "mid.png", "-m", "blend")
    assert result.code == 0, result
    assert torch.get_num_threads() == 1


@pytest.mark.skipif(HAS_CUDA or HAS_MPS, reason="--half is allowed here")
def test_half_flag_on_cpu_is_a_clear_error(vnn, pair, tmp_path):
    result = vnn("interpolate", *pair, "-o", tmp_path / "mid.png", "-m", "blend", "--half")
    assert result.code == 1
    assert result.err.strip() == "vnn: error: --half needs a CUDA or MPS device; the CPU runs in float32"
    assert not (tmp_path / "mid.png").exists()


@pytest.mark.skipif(HAS_CUDA, reason="CUDA is available here")
def test_device_flag_cuda_without_cuda(vnn, pair, tmp_path):
    result = vnn("interpolate", *pair, "-o", tmp_path / "mid.png", "-m", "blend", "--device", "cuda")
    assert result.code == 1
    assert "CUDA is not available" in result.err and "vnn devices" in result.err
    assert not (tmp_path / "mid.png").exists()


def test_device_flag_unknown(vnn, pair, tmp_path):
    result = vnn("interpolate", *pair, "-o", tmp_path / "mid.png", "-m", "blend", "--device", "gpu")
    assert result.code == 2
    assert "device = 'gpu'" in result.err


def test_devices_command(vnn):
    result = vnn("devices")
    assert result.code == 0, result
    assert "cpu" in result.out
    assert f"auto picks: {auto_device()}" in result.out
    assert f"memory: {huge_pages.describe()}" in result.out


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
def test_interpolation_on_cuda(vnn, pair, tmp_path):
    from test_pair import tiny_unet_weights

    weights = tiny_unet_weights(tmp_path)
    cpu_out, gpu_out, half_out = tmp_path / "cpu.png", tmp_path / "gpu.png", tmp_path / "half.png"
    common = [*pair, "-m", "unet", "--weights", weights]
    assert vnn("interpolate", *common, "-o", cpu_out, "--device", "cpu").code == 0
    assert vnn("interpolate", *common, "-o", gpu_out, "--device", "cuda").code == 0
    result = vnn("interpolate", *common, "-o", half_out, "--device", "cuda:0", "--half")
    assert result.code == 0, result
    cpu, gpu, half = (read_image(p).astype(int) for p in (cpu_out, gpu_out, half_out))
    assert np.abs(cpu - gpu).max() <= 2
    assert np.abs(cpu - half).mean() < 3
