"""The one device selector every command goes through."""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import DeviceError
from .settings import DEVICE_SPEC


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def auto_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def select_device(spec: str = "auto", threads: int | None = None) -> torch.device:
    """`auto` picks CUDA, then MPS, then the CPU. An unavailable device is an error, never a fallback."""
    spec = spec.strip().lower()
    if not DEVICE_SPEC.fullmatch(spec):
        raise DeviceError(f"unknown device '{spec}': use auto, cpu, cuda, cuda:N or mps")
    if threads is not None:
        torch.set_num_threads(threads)
    if spec == "auto":
        return auto_device()
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device '{spec}' asked for, but CUDA is not available here (see `vnn devices`)")
        index = int(spec.split(":")[1]) if ":" in spec else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(f"device '{spec}' asked for, but only {torch.cuda.device_count()} CUDA device(s) exist")
        return torch.device("cuda", index)
    if spec == "mps" and not _mps_available():
        raise DeviceError("device 'mps' asked for, but MPS is not available here (see `vnn devices`)")
    return torch.device(spec)


def half_dtype(device: torch.device) -> torch.dtype:
    """The reduced precision `--half` means on this device."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    raise DeviceError("--half needs a CUDA or MPS device; the CPU runs in float32")


def cpu_bf16_is_native() -> bool:
    """Whether this CPU computes bfloat16 itself (AMX or AVX512-BF16). There, bf16 convolutions run
    about twice as fast as float32 (RIFE: 2.0-2.4× on a 2-core Xeon); elsewhere oneDNN emulates
    them, up to ten times slower (a 2-core EPYC). `VNN_CPU_BF16=0|1` overrides the check (read on
    every call, so a test or a caller may set it at any time)."""
    forced = os.environ.get("VNN_CPU_BF16")
    if forced in ("0", "1"):
        return forced == "1"
    return _cpu_flags_have_bf16()


@functools.cache
def _cpu_flags_have_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: assume not (the float32 path is never slow)
        return False
    return re.search(r"\b(amx_bf16|avx512_bf16)\b", flags) is not None


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    description: str
    memory_gib: float | None


def available_devices() -> list[DeviceInfo]:
    bf16 = (", native bf16 (AMX/AVX512-BF16): networks in bf16" if cpu_bf16_is_native()
            else ", no native bf16: networks in float32, about half as fast")
    found = [DeviceInfo("cpu", f"{torch.get_num_threads()} threads{bf16}", None)]
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        found.append(DeviceInfo(f"cuda:{i}", props.name, props.total_memory / 2**30))
    if _mps_available():
        found.append(DeviceInfo("mps", "Apple Metal", None))
    return found
