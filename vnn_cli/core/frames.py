"""Frames as the pipeline carries them (H×W×C numpy arrays, uint8 or uint16, RGB or RGBA or gray)
and as models see them (float tensors N×3×H×W in [0, 1])."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def max_value(dtype: np.dtype) -> float:
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0


def to_8bit(frame: np.ndarray) -> np.ndarray:
    """The same image at 8 bits per channel (rounded); 8-bit frames pass through untouched."""
    if frame.dtype == np.uint8:
        return frame
    return np.rint(frame.astype(np.float32) * (255.0 / max_value(frame.dtype))).astype(np.uint8)


def to_16bit(frame: np.ndarray) -> np.ndarray:
    """The same image at 16 bits per channel (rounded); 16-bit frames pass through untouched."""
    if frame.dtype == np.uint16:
        return frame
    return np.rint(frame.astype(np.float32) * (65535.0 / max_value(frame.dtype))).astype(np.uint16)


def split_alpha(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The colour part as H×W×3 (gray repeated) and the alpha plane, if any."""
    if frame.ndim == 2:
        frame = frame[:, :, None]
    channels = frame.shape[2]
    alpha = frame[:, :, 3] if channels == 4 else (frame[:, :, 1] if channels == 2 else None)
    colour = frame[:, :, :3] if channels >= 3 else np.repeat(frame[:, :, :1], 3, axis=2)
    return colour, alpha


def join_alpha(colour: np.ndarray, alpha: np.ndarray | None, like: np.ndarray) -> np.ndarray:
    """Back to the layout of `like` (gray stays gray, RGBA stays RGBA)."""
    if like.ndim == 2 or like.shape[2] in (1, 2):
        gray = np.round(colour.astype(np.float32).mean(axis=2)).astype(like.dtype)
        out = gray if like.ndim == 2 else gray[:, :, None]
        if alpha is not None:
            out = np.dstack([gray, alpha])
        return out
    return np.dstack([colour, alpha]) if alpha is not None else colour


def to_tensor(frames: list[np.ndarray] | np.ndarray, device: torch.device | str, dtype: torch.dtype = torch.float32,
              *, pin: bool = False) -> torch.Tensor:
    """H×W×3 integer frames (one, a list, or an N×H×W×3 array) -> N×3×H×W floats in [0, 1] on
    `device`, in one pass: the integers travel (a quarter of the bytes of floats) and channels_last
    is the numpy layout, so nothing is transposed. `pin` pins the host copy for a CUDA copy."""
    batch = np.stack(frames) if isinstance(frames, list) else frames
    host = torch.from_numpy(np.ascontiguousarray(batch))
    if host.dim() == 3:
        host = host[None]
    if pin:
        host = host.pin_memory()
    return host.to(device, non_blocking=True).permute(0, 3, 1, 2).to(dtype).div_(max_value(batch.dtype))


def to_numpy(tensor: torch.Tensor, dtype: np.dtype) -> np.ndarray:
    """N×3×H×W floats in [0, 1] -> N×H×W×3 integers of `dtype` (rounded, clipped)."""
    scale = max_value(np.dtype(dtype))
    out = tensor.float().clamp(0, 1).mul_(scale).round_().permute(0, 2, 3, 1)  # a copy: the caller keeps its tensor
    return out.to("cpu").numpy().astype(dtype)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Replicate-pad H and W up to a multiple; returns the original (H, W) for `crop`."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, (h, w)


def crop(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return x[..., : size[0], : size[1]]
