"""IFNet, the flow estimator of RIFE (Huang et al., "Real-Time Intermediate Flow Estimation for
Video Frame Interpolation", ECCV 2022), in the layout of its "HDv3" release, written for vnn.

Three blocks refine the flows from time 0.5 to both frames (4 channels: F_t→0, F_t→1) and a fusion
mask, coarse to fine: the first works at 1/4 of the frame, the next at 1/2, the last at full size
(each times `1 / scale`). A block sees both frames warped by the current flows and the current
mask, downsamples by 4 with two stride-2 convolutions, runs four residual pairs of 3×3
convolutions, and upsamples a flow and mask correction with transposed convolutions.

Every block runs twice, on the frames in order and swapped (flows swapped, mask negated), and the
two answers are averaged: the estimate is symmetric in time by construction. `swap` can skip the
swapped pass (`SWAP_SETTINGS`): on the full-size block only (`coarse`: 0.75-0.8x the time of a
720p pair) or on every block (`none`: 0.55x); each block then adds its in-order answer alone, at a
cost (-0.49 and -1.48 dB on the tuning clips: docs/experiments/rife_swapped_pass.md). The result is the two warped frames blended by the sigmoid of the mask.

Only t = 0.5: other times come from recursive bisection in the pipeline.

Also what every IFNet plugin does around its network (HDv3 here, the Practical-RIFE 4.x networks
in `ifnet_v4`): the motion scale for a frame size, the zero padding the blocks need, bf16 on a CPU
that computes it natively, and the final warps moved by quadratic motion.
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import ContextManager

import torch
import torch.nn.functional as F
from torch import nn

from ..core.device import cpu_bf16_is_native
from .quadratic import shift_along
from .warp import backward_warp

BLOCK_SCALES = (4, 2, 1)  # each block's working scale, coarse to fine, before `scale`
WIDTH = 90
PAD_MULTIPLE = 32  # the coarsest block works at 1/4 and downsamples 4 more: 1/16, with margin
AUTO_HALF_SCALE_ABOVE = 1920 * 1088  # pixels: `scale: auto` estimates motion at 1/2 above this
SWAP_SETTINGS = ("all", "coarse", "none")  # which blocks also run on the swapped frames
COMPUTE_MULTIPLE = 32  # channel counts bf16 runs fastest at on AMX (its tiles hold 32 bf16 a row)


def conv_prelu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.PReLU(cout))


def _upsampler(width: int, cout: int) -> nn.Sequential:
    """×4 in two transposed convolutions, the first followed by PReLU."""
    return nn.Sequential(nn.ConvTranspose2d(width, width // 2, 4, 2, 1), nn.PReLU(width // 2),
                         nn.ConvTranspose2d(width // 2, cout, 4, 2, 1))


def resize_by(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Bilinear resize by `factor` (sizes that the blocks' padding keeps whole)."""
    if factor == 1:
        return x
    return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False, recompute_scale_factor=False)


class IFBlock(nn.Module):
    """One refinement step: (frames, mask, flows) at full size -> flow and mask corrections."""

    def __init__(self, in_channels: int, width: int = WIDTH, residual_pairs: int = 4):
        super().__init__()
        self.conv0 = nn.Sequential(conv_prelu(in_channels, width // 2, 2), conv_prelu(width // 2, width, 2))
        # Named convblock0..3 (not a ModuleList) so the state dict reads like the published layout.
        for i in range(residual_pairs):
            self.add_module(f"convblock{i}", nn.Sequential(conv_prelu(width, width), conv_prelu(width, width)))
        self.residual_pairs = residual_pairs
        self.conv1 = _upsampler(width, 4)  # flow correction
        self.conv2 = _upsampler(width, 1)  # mask correction

    def forward(self, images: torch.Tensor, flow: torch.Tensor, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        images = resize_by(images, 1.0 / scale)
        flow = resize_by(flow, 1.0 / scale) * (1.0 / scale)  # flows in the working scale's pixels
        features = self.conv0(torch.cat([images, flow], dim=1))
        for i in range(self.residual_pairs):
            features = getattr(self, f"convblock{i}")(features) + features
        # Corrections leave in float32 whatever the convolutions ran in (bf16 under autocast):
        # flows are pixel positions, which bf16's 8-bit mantissa cannot hold across a frame.
        flow_delta = resize_by(self.conv1(features).float(), scale) * scale
        mask_delta = resize_by(self.conv2(features).float(), scale)
        return flow_delta, mask_delta


def _swap_flows(flow: torch.Tensor) -> torch.Tensor:
    return torch.cat([flow[:, 2:4], flow[:, 0:2]], dim=1)


class IFNet(nn.Module):
    """frames (N×3×H×W each, H and W multiples of `PAD_MULTIPLE / scale`) -> flows, mask logit."""

    def __init__(self, width: int = WIDTH):
        super().__init__()
        self.width = width
        # Input per block: both (warped) frames, the mask, and the 4-channel flow.
        self.block0 = IFBlock(3 + 3 + 1 + 4, width)
        self.block1 = IFBlock(3 + 3 + 1 + 4, width)
        self.block2 = IFBlock(3 + 3 + 1 + 4, width)

    @property
    def blocks(self) -> tuple[IFBlock, IFBlock, IFBlock]:
        return self.block0, self.block1, self.block2

    def estimate(self, frame0: torch.Tensor, frame1: torch.Tensor, scale: float = 1.0,
                 flow: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                 warp_last: bool = True, swap: str = "all",
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Flows from t=0.5 to both frames (N×4: F_t→0 then F_t→1), the mask logit (frame 0's
        weight before the sigmoid) and both warped frames (None with `warp_last` off, for a
        caller that warps with flows of its own making). `flow`/`mask` start the refinement from
        another estimate (zero by default). `swap`: which blocks also run on the swapped frames,
        `all` (the published network), `coarse` (all but the full-size block) or `none`."""
        if swap not in SWAP_SETTINGS:
            raise ValueError(f"swap must be one of {SWAP_SETTINGS}, not {swap!r}")
        n, _, height, width = frame0.shape
        if flow is None:
            flow = frame0.new_zeros(n, 4, height, width)
        if mask is None:
            mask = frame0.new_zeros(n, 1, height, width)
        warped0, warped1 = frame0, frame1
        if flow.abs().amax() > 0:
            warped0, warped1 = backward_warp(frame0, flow[:, 0:2]), backward_warp(frame1, flow[:, 2:4])
        for block, block_scale in zip(self.blocks, BLOCK_SCALES):
            s = block_scale / scale
            flow_a, mask_a = block(torch.cat([warped0, warped1, mask], dim=1), flow, s)
            if swap == "all" or (swap == "coarse" and block is not self.block2):
                flow_b, mask_b = block(torch.cat([warped1, warped0, -mask], dim=1), _swap_flows(flow), s)
                flow_a, mask_a = (flow_a + _swap_flows(flow_b)) / 2, (mask_a - mask_b) / 2
            flow, mask = flow + flow_a, mask + mask_a
            if block is self.block2 and not warp_last:
                return flow, mask, None, None
            warped0, warped1 = backward_warp(frame0, flow[:, 0:2]), backward_warp(frame1, flow[:, 2:4])
        return flow, mask, warped0, warped1

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, scale: float = 1.0, swap: str = "all") -> torch.Tensor:
        _, mask, warped0, warped1 = self.estimate(frame0, frame1, scale, swap=swap)
        return torch.lerp(warped1, warped0, torch.sigmoid(mask))


def published_key(key: str) -> str | None:
    """Our state-dict key for a key of the published RIFE HDv3 `flownet.pkl` (None: not ours, i.e.
    the training-only teacher block). The published keys carry a `module.` prefix (DataParallel)."""
    key = key.removeprefix("module.")
    if key.startswith("block_tea."):
        return None
    return key


def motion_scale(setting: str | float, height: int, width: int) -> float:
    """The scale motion is estimated at: the `scale` setting, where `auto` is 0.5 above
    `AUTO_HALF_SCALE_ABOVE` pixels and 1.0 below."""
    if setting == "auto":
        return 0.5 if height * width > AUTO_HALF_SCALE_ABOVE else 1.0
    return float(setting)


def pad_for_scale(x: torch.Tensor, scale: float, multiple: int = PAD_MULTIPLE) -> torch.Tensor:
    """Zero-pad right and bottom to a multiple of `multiple / scale`, what the blocks need at this
    scale (each network's published padding: it keeps the border's motion estimates as the
    published code gives them)."""
    step = int(multiple / scale)
    height, width = x.shape[-2:]
    return F.pad(x, (0, (-width) % step, 0, (-height) % step))


def _cpu_inference(frames: torch.Tensor, training: bool) -> bool:
    """Float32 frames on a CPU, not training: where `precision` chooses anything."""
    return not training and frames.device.type == "cpu" and frames.dtype == torch.float32


def cpu_bf16(setting: str, frames: torch.Tensor, training: bool = False) -> bool:
    """Whether an IFNet's convolutions run in bf16 on a CPU: for `bfloat16`, and for `auto` where the
    CPU computes bf16 natively (AMX or AVX512-BF16); float32 elsewhere, in training, and on other
    devices (`--half` is theirs)."""
    if not _cpu_inference(frames, training):
        return False
    return setting == "bfloat16" or (setting == "auto" and cpu_bf16_is_native())


def cpu_precision(setting: str, frames: torch.Tensor, training: bool = False) -> ContextManager:
    """The context an IFNet runs in: bf16 autocast of the convolutions where `cpu_bf16` says so."""
    return torch.autocast("cpu", dtype=torch.bfloat16) if cpu_bf16(setting, frames, training) else nullcontext()


def widened(net: IFNet, multiple: int = COMPUTE_MULTIPLE) -> IFNet:
    """The same network with its channel counts rounded up to `multiple` (90 -> 96, 45 -> 48), the
    added channels' weights and biases zero: they carry zeros through, so it computes the same
    function (to float rounding) as `net`. oneDNN's bf16 kernels on AMX run it 1.22-1.27× faster
    at 720p (docs/speed.md), though it does more multiply-adds. Not for training: the zero
    weights would learn."""
    width = -(-net.width // multiple) * multiple
    if width == net.width:
        return net
    reference = net.block0.conv0[0][0].weight
    wide = IFNet(width).to(device=reference.device, dtype=reference.dtype).eval()
    source = net.state_dict()
    with torch.no_grad():
        for key, target in wide.state_dict().items():
            target.zero_()
            target[tuple(slice(0, n) for n in source[key].shape)] = source[key]
    if reference.is_contiguous(memory_format=torch.channels_last) and not reference.is_contiguous():
        wide = wide.to(memory_format=torch.channels_last)
    return wide


FLOAT32_NOTE = ("{name} ran in float32: this CPU computes no bf16 itself (AMX or AVX512-BF16), so the network "
                "runs at about half the speed it has on one that does")


class CpuPrecision:
    """What every IFNet plugin does about precision on a CPU (mixed in before `FrameInterpolator`;
    it reads the plugin's `params.precision`): `precision` is the context the network runs in, and
    `work_notes` says once a job when `auto` fell back to float32 for want of native bf16."""

    network_name = "RIFE"  # as the note names it
    fell_back_to_float32 = False

    def precision(self, frames: torch.Tensor) -> ContextManager:
        """bf16 autocast where it pays (`cpu_bf16`), else float32."""
        setting = self.params.precision
        if setting == "auto" and _cpu_inference(frames, self.training) and not cpu_bf16_is_native():
            self.fell_back_to_float32 = True
        return cpu_precision(setting, frames, self.training)

    def work_notes(self) -> list[str]:
        notes = [FLOAT32_NOTE.format(name=self.network_name)] if self.fell_back_to_float32 else []
        self.fell_back_to_float32 = False
        return notes


def accelerated_warps(frame0: torch.Tensor, frame1: torch.Tensor, flow: torch.Tensor,
                      acceleration: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both frames warped by a network's flows from t (N×4) moved by quadratic motion
    (`acceleration`, N×4, `vnn_cli.nn.quadratic.acceleration_fields`), read along those flows. The
    moved flows may point past the frame's edge: the frames themselves are warped (their border
    repeated), not the zero-padded ones the network saw."""
    moved = flow + shift_along(acceleration, flow[:, 0:2], flow[:, 2:4]).repeat(1, 2, 1, 1)
    return backward_warp(frame0, moved[:, 0:2]), backward_warp(frame1, moved[:, 2:4])
