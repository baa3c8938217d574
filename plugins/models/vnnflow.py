"""`vnnflow`: classical DIS flow with a border-aware fusion mask, the `fast` preset; optionally
refined by small coarse-to-fine networks (`scales`), for experiments.

As shipped (`scales: []`) it has no learned layers: trained refinement stages scored the same as
untrained ones on all eight clips (within 0.01 dB) at a third of its time, so they were dropped.
The stages stay available (`--model-param scales=[8,4]`) for training on more data.

1. A starting motion estimate: OpenCV's DIS flow in both directions (at full resolution up to
   1024 pixels wide, at half resolution above, for speed), turned into flows from time t with
   Super SloMo's approximation. `dis_preset: none` starts from zero motion. Where the video gives
   the frames before and after the pair, each pixel's path is fitted through them (quadratic
   motion, `vnn_cli.nn.candidates.acceleration_fields`).
2. Cues the network need not learn to compute: forward-backward inconsistency of the two flows
   (occlusions) and where the motion points out of the picture (camera pans), which also sets the
   starting fusion mask.
3. Coarse to fine (1/8, then 1/4 of the frame by default): a small U-Net (`vnn_cli.nn.unet.UNet`)
   sees both frames, both frames warped to t, the flows, the mask, t and the cues, and corrects
   the flows and the mask. The last stage also writes a colour residual.
4. At full resolution only cheap work remains: upsample flows, mask and residual, backward-warp
   both frames, blend them with the mask and add the residual.

Every head starts at zero, so an untrained network is the DIS interpolation with the border-aware
mask: training starts from there. Any t in (0, 1).
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from vnn_cli import FrameInterpolator, UNet, register_model
from vnn_cli.nn.candidates import acceleration_fields, mismatch, shift_along
from vnn_cli.nn.dis_flow import RememberedFlows
from vnn_cli.core.errors import SettingsError
from vnn_cli.core.model_api import ModelParams, Neighbours, as_time_tensor
from vnn_cli.nn.warp import backward_warp, flows_to_time, inside_frame, resize_flow

_STAGE_INPUTS = 3 + 3 + 3 + 3 + 4 + 1 + 1 + 2 + 1  # frames, warps, flows, mask logit, t, occlusion cues, warp disagreement
_STAGE_OUTPUTS = 4 + 1 + 3  # flow corrections, mask correction, residual
_GATE = 0.02  # a colour difference (0-1 units) at which half of a correction passes
_FLOW_INPUT_SCALE = 0.1  # flows of tens of pixels, scaled near the unit range of the other inputs


def _pyramid(frame0: torch.Tensor, frame1: torch.Tensor, deepest: int) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    """Both frames at 1, 1/2, 1/4 ... 1/deepest, each level pooled from the one above, so the
    full-resolution frames are read once."""
    levels = {1: (frame0, frame1)}
    factor = 1
    while factor < deepest:
        a, b = levels[factor]
        factor *= 2
        levels[factor] = (F.avg_pool2d(a, 2), F.avg_pool2d(b, 2))
    return levels


def _is_power_of_two(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


@register_model("vnnflow")
class VnnFlow(FrameInterpolator):
    any_time = True
    uses_neighbours = True
    pad_multiple = 32
    default_weights = None  # no learned layers as shipped

    class Params(ModelParams):
        dis_preset: Literal["none", "ultrafast", "fast", "medium"] = "medium"
        dis_scale: int = 2  # DIS runs at most this much below full resolution (a power of two) ...
        dis_max_width: int = 1024  # ... and only as far down as brings the width to this (0: always dis_scale)
        scales: tuple[int, ...] = ()  # refinement stages, coarse to fine (powers of two); none as shipped
        widths: tuple[int, ...] = (24, 48, 96)
        convs_per_level: int = 2
        act: Literal["relu", "leaky_relu", "prelu", "gelu", "silu"] = "leaky_relu"
        border_aware: bool = True  # start the mask away from frames whose motion leaves the picture
        neighbours: bool = True  # quadratic motion through the frames around the pair, where given

    def __init__(self, **params):
        super().__init__(**params)
        p = self.params
        self.flows = RememberedFlows()  # a video's consecutive pairs share flows (see `neighbours`)
        if not all(_is_power_of_two(s) for s in (p.dis_scale, *p.scales)):
            raise SettingsError(f"vnnflow: dis_scale and scales must be powers of two, not {p.dis_scale} and {p.scales}")
        self.stages = torch.nn.ModuleList(
            UNet(_STAGE_INPUTS, _STAGE_OUTPUTS, p.widths, p.convs_per_level, 0, p.act) for _ in p.scales
        )
        for stage in self.stages:  # start as the plain DIS interpolation
            torch.nn.init.zeros_(stage.head.weight)
            torch.nn.init.zeros_(stage.head.bias)
        coarsest = max(p.scales) if p.scales else 1
        self.pad_multiple = max(coarsest * self.stages[0].downsampling if p.scales else 1, p.dis_scale)

    def flow_scale(self, width: int) -> int:
        """How far below full resolution DIS runs for frames this wide: small frames keep all their
        pixels (DIS fails on tiny images), large ones are reduced for speed."""
        p = self.params
        scale = 1
        while scale < p.dis_scale and p.dis_max_width and width / scale > p.dis_max_width:
            scale *= 2
        return p.dis_scale if not p.dis_max_width else scale

    def initial_flows(self, small0: torch.Tensor, small1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flows 0→1 and 1→0 between two (reduced) frames, at their size (zero without DIS)."""
        if self.params.dis_preset == "none":
            zero = small0.new_zeros(small0.shape[0], 2, *small0.shape[-2:])
            return zero, zero
        return self.flows(small0, small1, self.params.dis_preset), self.flows(small1, small0, self.params.dis_preset)

    def initial_mask(self, flow_t0: torch.Tensor, flow_t1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Logit of frame 0's weight: by distance in time (1-t against t) and, with `border_aware`,
        away from a frame where the motion points out of the picture (camera pans)."""
        if not self.params.border_aware:
            return torch.log((1 - t).clamp_min(1e-4) / t.clamp_min(1e-4)).expand(-1, 1, *flow_t0.shape[-2:])
        return torch.log(((1 - t) * inside_frame(flow_t0) + 1e-3) / (t * inside_frame(flow_t1) + 1e-3))

    @property
    def whole_frame_scale(self) -> int:
        return self.params.dis_scale

    def whole_frame_inputs(self, frame0: torch.Tensor, frame1: torch.Tensor) -> dict[str, torch.Tensor]:
        """For training on crops: DIS on whole frames, as in use (on a small crop it fails on
        large motion, and the network would learn to repair failures it never meets)."""
        scale = self.flow_scale(frame0.shape[-1])
        flows = torch.cat(self.initial_flows(*_pyramid(frame0, frame1, scale)[scale]), dim=1)
        size = (frame0.shape[-2] // self.params.dis_scale, frame0.shape[-1] // self.params.dis_scale)
        return {"flows": resize_flow(flows, size)}  # one scale for cropping, whatever DIS ran at

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, t: torch.Tensor,
                flows: torch.Tensor | None = None, neighbours: Neighbours | None = None) -> torch.Tensor:
        """`flows`: the starting flows 0→1 and 1→0 (N×4, any size) if already computed."""
        t = as_time_tensor(t, frame0)
        height, width = frame0.shape[-2:]
        pyramid = _pyramid(frame0, frame1, max((self.params.dis_scale, *self.params.scales)))
        fit = flows is None and neighbours and self.params.neighbours and self.params.dis_preset != "none"
        with torch.no_grad():
            if flows is None:
                scale = self.flow_scale(width)
                flow01, flow10 = self.initial_flows(*pyramid[scale])
            else:
                flow01, flow10 = flows[:, 0:2], flows[:, 2:4]
            # Forward-backward inconsistency marks pixels that the other frame does not show
            # (occlusions): a cue for the fusion mask that the net need not learn to compute,
            # and where quadratic motion is not fitted.
            doubts = mismatch(flow01, flow10), mismatch(flow10, flow01)
            occluded0, occluded1 = torch.log1p(doubts[0]), torch.log1p(doubts[1])
        flow_t0, flow_t1 = flows_to_time(flow01, flow10, t)
        if fit:
            with torch.no_grad():
                if frame0.shape[0] > 1:  # a batch of times of one pair: one shift per time
                    neighbours = neighbours.map(lambda x: x.expand(frame0.shape[0], -1, -1, -1))
                acceleration = acceleration_fields(*pyramid[scale], flow01, flow10, t, neighbours, scale,
                                                   self.params.dis_preset, self.flows, doubts)
                shift = shift_along(acceleration, flow_t0, flow_t1)
            flow_t0, flow_t1 = flow_t0 + shift, flow_t1 + shift
        mask = self.initial_mask(flow_t0, flow_t1, t)
        residual = None
        for scale, stage in zip(self.params.scales, self.stages):
            size = (height // scale, width // scale)
            flow_t0, flow_t1 = resize_flow(flow_t0, size), resize_flow(flow_t1, size)
            mask = F.interpolate(mask, size=size, mode="bilinear", align_corners=False)
            small0, small1 = pyramid[scale]
            warped0, warped1 = backward_warp(small0, flow_t0), backward_warp(small1, flow_t1)
            occluded = torch.cat([
                backward_warp(F.interpolate(occluded0, size=size, mode="bilinear", align_corners=False), flow_t0),
                backward_warp(F.interpolate(occluded1, size=size, mode="bilinear", align_corners=False), flow_t1)], dim=1)
            disagreement = (warped0 - warped1).abs().mean(dim=1, keepdim=True)
            inputs = torch.cat([small0, small1, warped0, warped1, flow_t0 * _FLOW_INPUT_SCALE,
                                flow_t1 * _FLOW_INPUT_SCALE, mask, t.expand(-1, 1, *size), occluded, disagreement], dim=1)
            out = stage(inputs)
            # Flow corrections only where the frames differ: where nothing changed, nothing moved
            # (and two identical frames come back unchanged).
            changed = (small0 - small1).abs().mean(dim=1, keepdim=True)
            changed = changed / (changed + _GATE)
            flow_t0 = flow_t0 + out[:, 0:2] * changed
            flow_t1 = flow_t1 + out[:, 2:4] * changed
            mask = mask + out[:, 4:5]
            # The residual only where the warped frames disagree: static areas keep their detail.
            residual = out[:, 5:8] * (disagreement / (disagreement + _GATE))
        return self.compose(frame0, frame1, flow_t0, flow_t1, mask, residual)

    def compose(self, frame0: torch.Tensor, frame1: torch.Tensor, flow_t0: torch.Tensor, flow_t1: torch.Tensor,
                mask: torch.Tensor, residual: torch.Tensor | None) -> torch.Tensor:
        """The full-resolution work, kept to one upsampling, two warps and one blend."""
        n, _, height, width = frame0.shape
        small_height, small_width = flow_t0.shape[-2:]
        if residual is None:
            residual = flow_t0.new_zeros(n, 3, small_height, small_width)
        fields = F.interpolate(torch.cat([flow_t0, flow_t1, mask, residual], dim=1), size=(height, width),
                               mode="bilinear", align_corners=False)
        to_full = (width / small_width, height / small_height)
        warped0 = backward_warp(frame0, fields[:, 0:2], to_full)
        warped1 = backward_warp(frame1, fields[:, 2:4], to_full)
        out = torch.lerp(warped1, warped0, torch.sigmoid(fields[:, 4:5])).add_(fields[:, 5:8])
        return out if self.training else out.clamp_(0, 1)
